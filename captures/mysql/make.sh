#!/usr/bin/env bash
# How captures/mysql was made, and how to make it again: Debian's MariaDB under each policy of
# suites/mariadb-auth/servers/mariadb.sh (today, transition, strict) on a free loopback port;
# each real driver of common.sh then connects once per account worth trying under the policy
# (today: harness; transition and strict: harness and legacy, both with password harness) to
# database harness, with TLS off and on, runs `SELECT 1` and disconnects, while tcpdump records
# loopback. Each run gets its own DRIVER.POLICY.USER.tls-on|tls-off.pcap holding only its
# connection (and .keys, its TLS keys, where the driver writes them: Python's ssl through
# SSLKEYLOGFILE, node through --tls-keylog). results.tsv is the ground truth: what each driver
# itself got (`ok`, or `error CODE MESSAGE` as the driver reported it) and what the server logged.
# Run as root (tcpdump) from anywhere: bash captures/mysql/make.sh; about five minutes.
# bash captures/mysql/make.sh --readme writes README.md again from results.tsv alone.
# Needs what ci/install.sh installs: mariadb-server, mariadb-client, tcpdump, the Python drivers
# (PyMySQL, PyNaCl, mysql-connector-python, mariadb, aiomysql), node's mysql, mysql2 and mariadb in
# /usr/local/lib/harness-mysql-node, libdbd-mariadb-perl, libdbd-mysql-perl, php-cli, php-mysql,
# libmariadb-java with a JDK (java).
set -euo pipefail
export LC_ALL=C
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'if [[ -n ${server_pid:-} ]]; then stop_server || true; fi; kill $(jobs -p) 2> /dev/null || true; wait 2> /dev/null || true; rm -rf "$work"' EXIT
source "$out/common.sh"

# The server's lines about the last run (Access denied, aborted connections), without the
# timestamp and thread id, ' / '-joined.
server_lines() {
  grep -E '\[(Warning|ERROR)\]' "$1" | grep -v 'max_open_files' |
    sed -E 's/^[0-9-]+ [0-9:]+ [0-9]+ //; s/ to db: .* host: .127\.0\.0\.1. / /' |
    awk 'BEGIN { ORS = "" } { if (NR > 1) print " / "; print }' | tr '\t' ' ' | cut -c1-300 || true
}

# capture_run NAME POLICY USER TLS: one run under tcpdump; appends its row to $work/results.tsv.
# Fails if the pcap holds no connection (tcpdump on a busy machine now and then misses a short one).
capture_run() {
  local name=$1 policy=$2 user=$3 tls=$4 _ seen line tcpdump_pid
  local base=$name.$policy.$user.tls-$tls
  rm -f "$out/$base.pcap" "$out/$base.keys" "$work/keys"
  tcpdump -i lo -U --immediate-mode -B 16384 -w "$out/$base.pcap" "tcp port $PORT" 2> "$work/tcpdump.log" &
  tcpdump_pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$work/tcpdump.log" && break; sleep 0.1; done
  sleep 0.2
  seen=$(wc -c < "$work/server.log")
  line=$(SSLKEYLOGFILE=$work/keys NODE_OPTIONS="--tls-keylog=$work/keys" run_driver "$name" 127.0.0.1 "$PORT" "$user" "$tls" < /dev/null)
  sleep 0.5 # the last segments and the server's log lines, after the driver has gone
  kill -TERM "$tcpdump_pid"
  wait "$tcpdump_pid" 2> /dev/null || true
  [[ -s $work/keys ]] && cp "$work/keys" "$out/$base.keys"
  tail -c +$((seen + 1)) "$work/server.log" > "$work/session.log"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${versions[$name]}" "$policy" "$user" "$tls" "$line" \
    "$(server_lines "$work/session.log")" "$base.pcap" >> "$work/results.tsv"
  printf '%-28s %-10s %-7s %-3s %s\n' "$name" "$policy" "$user" "$tls" "${line:0:100}" >&2
  [[ -n $(tcpdump -r "$out/$base.pcap" 'tcp[tcpflags] & tcp-syn != 0' 2> /dev/null | head -1) ]]
}

# README.md: how the captures were made, what they show, and results.tsv as a table.
write_readme() {
  {
    cat << 'HEAD'
# MySQL protocol: real drivers against real MariaDB

Made by `bash captures/mysql/make.sh` (as root, for tcpdump; about five minutes): Debian's MariaDB
10.11, started by `suites/mariadb-auth/servers/mariadb.sh POLICY PORT` under each of its policies,
and one connection (`SELECT 1`, then close) by each real driver below per account worth trying and
with TLS off and on. `DRIVER.POLICY.USER.tls-off|tls-on.pcap` is that connection on loopback,
`.keys` its TLS keys where the driver writes them (Python's ssl through SSLKEYLOGFILE: PyMySQL,
aiomysql, mysql-connector-python pure; node through --tls-keylog). `results.tsv` is the ground
truth: driver, version, policy, user, tls, what the driver itself got (`ok`, or `error CODE
MESSAGE` as it reported it; CODE `-` where it gave none), what the server logged, the pcap.
`live.sh HOST:PORT POLICY [DRIVER...]` runs the same drivers against a running server and prints
the same outcomes as a TSV (driver, policy, user, tls, outcome), for a live test; `common.sh`
holds the driver list and commands, `clients/` one small script per language.

Policies (see mariadb.sh); accounts `harness` and `legacy`, password `harness`, database `harness`:

- **today**: both accounts on mysql_native_password; TLS offered, not required.
- **transition**: `harness` on ed25519, `legacy` still on mysql_native_password; TLS offered, not
  required, 1.2 and later.
- **strict**: `harness` on ed25519, `legacy` locked (ACCOUNT LOCK); require_secure_transport, TLS
  1.2 and later. (today has `legacy` as `harness`, so only `harness` is tried there.)

Drivers: the `mariadb` CLI as it is, with `--default-auth=client_ed25519`, and with
`--default-auth=mysql_native_password --plugin-dir=/nonexistent` (native-only: as a client that
has no ed25519 plugin); PyMySQL with PyNaCl and without (hidden from it); mysql-connector-python
with its C extension and pure; MariaDB Connector/Python; aiomysql; node's mysql, mysql2 and
mariadb; Perl's DBD::MariaDB and DBD::mysql (`_ssl_optional=1` for TLS: on libmariadb both refuse
to enforce it); PHP's mysqli and PDO_MySQL (mysqlnd); MariaDB Connector/J.

What the server does, as the captures show it:

- MariaDB's greeting always names `mysql_native_password`; for an ed25519 account it answers the
  client's HandshakeResponse with an AuthSwitchRequest to `client_ed25519`.
- Drivers without ed25519 get that AuthSwitchRequest and hang up without answering it (a
  lockout the client makes: no ERR on the wire), each reporting it its own way:
  mysql-connector-python **2059** (C extension: plugin cannot be loaded) or **-1** (pure: not
  supported), aiomysql **2059**, PyMySQL without PyNaCl a RuntimeError (no code), mysql2 an error
  without a code, PHP's mysqlnd **2054**.
- node's mysql sends a HandshakeResponse without CLIENT_PLUGIN_AUTH, so the server cannot switch
  it: for an ed25519 account the server itself answers ERR **1251** "Client does not support
  authentication protocol requested by server; consider upgrading MariaDB client".
- The `mariadb` CLI with no plugin to load (native-only) answers the AuthSwitchRequest with an
  empty AuthSwitchResponse, the server answers ERR **1045** Access denied, and the client reports
  1045 with its own message "Plugin client_ed25519 could not be loaded".
- `require_secure_transport` in MariaDB 10.11 does not answer MySQL's 3159: a connection in the
  clear goes through the whole authentication exchange and is refused with ERR **1045** "Access
  denied for user ... (using password: YES)", as a wrong password would be.
- Every `tls-on` run went over TLS (SSLRequest, then a ClientHello) and every one negotiated
  TLS 1.3; no `tls-off` run asked for TLS.
- A locked account is refused with ERR **4151** "Access denied, this account is locked", after
  authentication; in the clear under strict it gets 1045 first.

Outcomes (`ok`, or the error code the driver reported; the message is in results.tsv):

HEAD
    awk -f "$out/results-table.awk" "$out/results.tsv"
  } > "$out/README.md"
}

if [[ ${1:-} == --readme ]]; then write_readme; exit 0; fi

start=$(date +%s)
declare -A versions
for name in "${mysql_drivers[@]}"; do versions[$name]=$(driver_version "$name"); done
rm -f "$out"/*.pcap "$out"/*.keys
: > "$work/results.tsv"
missed=()
for policy in today transition strict; do
  PORT=$(free_port)
  start_mariadb "$policy" "$PORT"
  for name in "${mysql_drivers[@]}"; do
    for user in $(policy_users "$policy"); do
      for tls in off on; do
        for attempt in 1 2 3; do
          capture_run "$name" "$policy" "$user" "$tls" && break
          echo "$name $policy $user $tls: no connection captured (attempt $attempt)" >&2
          if ((attempt < 3)); then sed -i '$ d' "$work/results.tsv"; else missed+=("$name.$policy.$user.tls-$tls"); fi
        done
      done
    done
  done
  stop_server
done
{
  printf 'driver\tversion\tpolicy\tuser\ttls\toutcome\tserver_logged\tpcap\n'
  cat "$work/results.tsv"
} > "$out/results.tsv"
write_readme
echo "$(wc -l < "$work/results.tsv") runs in $((($(date +%s) - start))) s; ground truth in $out/results.tsv" >&2
if ((${#missed[@]})); then
  echo "no connection captured for: ${missed[*]}" >&2
  exit 1
fi
