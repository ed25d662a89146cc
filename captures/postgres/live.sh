#!/usr/bin/env bash
# Ground truth for the PostgreSQL captures: every driver of make.sh (the same commands, from
# common.sh) run LIVE, one at a time, against a real server started by
# suites/postgres-upgrade/servers/postgres.sh CONFIG, and what happened written to
# captures/postgres/live-results-CONFIG.tsv, one line per driver:
#   client        the driver (common.sh's name)
#   connected     yes if the driver authenticated and printed select 1's value (exit 0), else no
#   verdict       admitted if connected, else locked-out (every driver is given the right
#                 password, so failing to connect means the server turned it away, or it turned
#                 itself away: a TLS it requires that the server declined)
#   reached_auth  yes if the server asked the driver to authenticate: the server log says
#                 "connection authenticated" (log_connections = on) or that a password or SASL
#                 exchange failed, or (as root, where tcpdump records the attempt) an
#                 authentication request is on the wire; no otherwise; ? if neither could tell
#                 (the session went over TLS and the log said nothing)
#   tls           yes if the server log's "connection authorized" line says "SSL enabled"; TLS
#                 declined if the driver asked and got 'N' (from the capture); no otherwise
#   auth_method   what the client did, from the capture (md5, SCRAM-SHA-256, password, trust, or
#                 "(none: asked for SASL(SCRAM-SHA-256))" when it could not do what was asked),
#                 else the server log's "method=" (pg_hba's method: md5 even where the password
#                 is stored as SCRAM and the exchange was SCRAM)
#   connections   TCP connections the driver opened (from the capture; ? without one)
#   wire_outcome  how the last connection with a startup message ended on the wire, from the
#                 capture: ReadyForQuery, ErrorResponse SQLSTATE message, closed before a startup
#                 message, TLS (not readable), ...
#   server_log    the server's FATAL and error lines for the driver's connections, ' | '-joined
#   error         the driver's last line of output when it failed
#
# CONFIG is one of postgres.sh's configurations (permissive, scram-only, hostssl-only,
# tls-optional, md5-scram-stored, password, trust); several may be given; default: the first three.
# Needs what make.sh needs (bash captures/postgres/make.sh --install-only, or --install here);
# tcpdump (root) is optional. Run from anywhere: bash captures/postgres/live.sh [--install] [CONFIG...]
# About 25 s a configuration.
set -euo pipefail
export LC_ALL=C

pg_dir=$(cd "$(dirname "$0")" && pwd)
if [[ ${1:-} == --install ]]; then bash "$pg_dir/make.sh" --install-only; shift; fi
configs=("$@")
((${#configs[@]})) || configs=(permissive scram-only hostssl-only)
work=$(mktemp -d)
server_pid=
trap 'stop_postgres; kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
source "$pg_dir/common.sh"

capture=no
if [[ $(id -u) == 0 ]] && command -v tcpdump > /dev/null; then capture=yes; fi
start=$(date +%s.%N)
build_clients
status=0
for config in "${configs[@]}"; do
  t0=$(date +%s.%N)
  port=$(free_port)
  start_postgres "$config" "$port"
  results=$pg_dir/live-results-$config.tsv
  printf 'client\tconnected\tverdict\treached_auth\ttls\tauth_method\tconnections\twire_outcome\tserver_log\terror\n' > "$results"
  for client in "${pg_clients[@]}"; do
    seen=$(wc -c < "$work/server.log")
    pcap=$work/$client.pcap
    if [[ $capture == yes ]]; then
      : > "$work/$client.tcpdump"
      tcpdump -i lo -U --immediate-mode -B 16384 -w "$pcap" "tcp port $port" 2> "$work/$client.tcpdump" &
      tcpdump_pid=$!
      for _ in $(seq 100); do grep -q 'listening on' "$work/$client.tcpdump" && break; sleep 0.1; done
    fi
    if run_client "$client" "$port" < /dev/null > "$work/$client.log" 2>&1 \
      && [[ $(grep -v '^\s*$' "$work/$client.log" | tail -1) == 1 ]]; then
      connected=yes error=
    else
      connected=no error=$(grep -v '^\s*$' "$work/$client.log" | tail -1 | tr '\t' ' ' | cut -c1-300)
    fi
    sleep 0.3 # the server logs a failed attempt as the client goes
    pcap_tsv=
    if [[ $capture == yes ]]; then
      kill -INT "$tcpdump_pid"
      wait "$tcpdump_pid" || true
      pcap_tsv=$(python3 "$pg_dir/pg-summary.py" --tsv "$pcap")
    fi
    tail -c +$((seen + 1)) "$work/server.log" > "$work/$client.server.log"
    CONNECTED=$connected PCAP_TSV=$pcap_tsv python3 - "$work/$client.server.log" "$pg_dir/pg-summary.py" << 'PY' > "$work/row"
import importlib.util, os, re, sys
log = open(sys.argv[1], errors="replace").read().splitlines()
spec = importlib.util.spec_from_file_location("summary", sys.argv[2])
summary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(summary)
pcap = dict(zip(summary.TSV_FIELDS, os.environ["PCAP_TSV"].split("\t"))) if os.environ["PCAP_TSV"] else None
authenticated = [l for l in log if "connection authenticated:" in l]
authorized = [l for l in log if "connection authorized:" in l]
failed_auth = [l for l in log if re.search(r"FATAL:  (password authentication failed|SASL authentication|.*authentication failed)", l)]
problems = [re.sub(r"^\S+ \S+ \S+ \[\d+\] ", "", l) for l in log
            if re.search(r"(FATAL|ERROR|PANIC):", l) or re.search(r"LOG:  (invalid|unsupported|could not|incomplete|SSL|GSSAPI)", l)]
reached = "yes" if authenticated or failed_auth else None
if pcap is not None and reached is None:
    asked = pcap["auth_requests"] not in ("(none)", "")
    if asked:
        reached = "yes"
    elif "->S" not in pcap["negotiation"] and "direct-TLS" not in pcap["negotiation"]:
        reached = "no"  # the whole conversation was readable and held no authentication request
if reached is None:
    reached = "no" if problems and not any("SSL" in p for p in problems) else "?"
if any("SSL enabled" in l for l in authorized):
    tls = "yes"
elif pcap is not None and "->S" in pcap["negotiation"]:
    tls = "yes (not authorized)"
elif pcap is not None and ("SSLRequest->N" in pcap["negotiation"]):
    tls = "declined" if os.environ["CONNECTED"] == "no" and "SSLRequest->N" == pcap["negotiation"].split(" | ")[-1] else "asked, declined, went on in the clear"
elif pcap is not None and "direct-TLS" in pcap["negotiation"]:
    tls = "direct TLS, not understood"
else:
    tls = "no"
method = None
if pcap is not None and pcap["auth_method"] != "(none)":  # "(none: asked for ...)" says what it could not do
    method = pcap["auth_method"]
if method is None:
    found = [m.group(1) for l in authenticated for m in [re.search(r"method=(\S+)", l)] if m]
    method = found[-1] + " (log)" if found else ("trust (log)" if authorized else "-")
connections = pcap["connections"] if pcap is not None else "?"
outcome = pcap["outcome"] if pcap is not None else "?"
print("\t".join([os.environ["CONNECTED"], "admitted" if os.environ["CONNECTED"] == "yes" else "locked-out", reached, tls, method, connections, outcome,
                 " | ".join(problems).replace("\t", " ")[:400]]))
PY
    printf '%s\t%s\t%s\n' "$client" "$(cat "$work/row")" "$error" >> "$results"
  done
  stop_postgres
  printf '%s: %d drivers in %.0f s, results in %s\n' "$config" "${#pg_clients[@]}" \
    "$(echo "$(date +%s.%N) - $t0" | bc)" "$results" >&2
  awk -F'\t' '{ printf "%-31s %-9s %-10s %-12s %-38s %-22s %s\n", $1, $2, $3, $4, $5, $6, ($10 != "" ? $10 : $9) }' "$results" | cut -c1-230
done
printf 'live.sh done in %.0f s\n' "$(echo "$(date +%s.%N) - $start" | bc)" >&2
exit $status
