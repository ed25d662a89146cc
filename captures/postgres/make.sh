#!/usr/bin/env bash
# How captures/postgres was made, and how to make it again: a real PostgreSQL server
# (suites/postgres-upgrade/servers/postgres.sh permissive: no TLS, pg_hba md5, the password stored
# as MD5) on a free loopback port; each real driver (the list and the commands are in common.sh)
# then connects once as harness/harness to database harness, runs `select 1` and disconnects,
# with its default settings except where its name says otherwise, while tcpdump records
# loopback. Each driver gets its own DRIVER.pcap holding only its own connection(s);
# clients.tsv says, for each, the driver and version and what pg-summary.py reads from the
# capture: connections, what came before the startup message (SSLRequest, GSSENCRequest and the
# server's answer), the protocol version and startup parameters, the authentication requests
# and method, simple or extended query protocol, the outcome and how the connection ended.
# Under permissive the server has no TLS, so sslmode=prefer drivers get 'N' and go on in the
# clear; drivers that require TLS (psql-sslmode-require, go-lib-pq, whose default sslmode is
# require, and psycopg3-sslnegotiation-direct) are captured being turned away.
# Run from anywhere, as root (tcpdump): bash captures/postgres/make.sh [--install|--install-only]
# About 40 s (the first run builds the Rust client: a minute or two more).
#
# Needs (install_clients below installs them, given --install):
#   apt: postgresql postgresql-client tcpdump iproute2 openssl python3 python3-pip nodejs npm
#        openjdk-17-jdk-headless libpostgresql-jdbc-java golang-go golang-github-jackc-pgx-v4-dev
#        golang-github-lib-pq-dev libdbd-pg-perl ruby-pg
#   pip (into the python3 on PATH): psycopg[binary] psycopg2-binary asyncpg pg8000
#        (psycopg3-protocol-3-2 and psycopg3-sslnegotiation-direct need psycopg-binary's libpq
#        to be 18 or later, as psycopg-binary 3.3's is)
#        and, apart (pg8000-1-12: a driver without SCRAM), pip install --target
#        /opt/harness-postgres-drivers/pg8000-1.12.5 pg8000==1.12.5 (or under $PG_OLD_DRIVERS)
#   npm (global): pg postgres
#   cargo: the Rust client's crates (tokio-postgres, tokio) from crates.io, built on first use
set -euo pipefail
export LC_ALL=C

install_clients() {
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql postgresql-client tcpdump iproute2 \
    openssl python3 python3-pip nodejs npm openjdk-17-jdk-headless libpostgresql-jdbc-java golang-go \
    golang-github-jackc-pgx-v4-dev golang-github-lib-pq-dev libdbd-pg-perl ruby-pg
  python3 -m pip install 'psycopg[binary]' psycopg2-binary asyncpg pg8000
  npm install -g pg postgres
  python3 -m pip install --upgrade --target "${PG_OLD_DRIVERS:-/opt/harness-postgres-drivers}/pg8000-1.12.5" 'pg8000==1.12.5'
}

case ${1:-} in
  --install) install_clients ;;
  --install-only) install_clients; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--install|--install-only]" >&2; exit 2 ;;
esac

pg_dir=$(cd "$(dirname "$0")" && pwd)
cd "$pg_dir/../.."
out=captures/postgres
work=$(mktemp -d)
server_pid=
trap 'stop_postgres; kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
source "$pg_dir/common.sh"

# what each capture must show (pg-summary.py --check); the others: complete
declare -A expect=(
  [psql-sslmode-require]=tls-declined
  [go-lib-pq]=tls-declined
  [psycopg3-sslnegotiation-direct]=direct-tls
)

start=$(date +%s.%N)
build_clients
port=$(free_port)
start_postgres permissive "$port"

rm -f "$out"/*.pcap
{
  printf 'client\tdriver\tclient_result'
  python3 -c 'import importlib.util, sys
spec = importlib.util.spec_from_file_location("s", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
print("".join("\t" + f for f in m.TSV_FIELDS))' "$pg_dir/pg-summary.py"
} > "$out/clients.tsv"
failed=()
for client in "${pg_clients[@]}"; do
  pcap=$out/$client.pcap
  : > "$work/$client.tcpdump"
  tcpdump -i lo -U --immediate-mode -B 16384 -w "$pcap" "tcp port $port" 2> "$work/$client.tcpdump" &
  tcpdump_pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$work/$client.tcpdump" && break; sleep 0.1; done
  if run_client "$client" "$port" < /dev/null > "$work/$client.log" 2>&1; then
    result=ok
  else
    result="exit $?: $(grep -v '^\s*$' "$work/$client.log" | tail -1 | cut -c1-200)"
  fi
  sleep 0.5 # let the last segments (the close) reach the capture
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  kind=${expect[$client]:-complete}
  if [[ -s $pcap ]] && python3 "$pg_dir/pg-summary.py" --check "$kind" "$pcap"; then
    printf '%s\t%s\t%s\t%s\n' "$client" "$(client_version "$client")" "$result" \
      "$(python3 "$pg_dir/pg-summary.py" --tsv "$pcap")" >> "$out/clients.tsv"
  else
    echo "$client: the capture does not show $kind (client: $result)" >&2
    failed+=("$client")
  fi
done

python3 "$pg_dir/pg-summary.py" "$out"/*.pcap | grep -v ' ParameterStatus ' > "$work/summary.txt"
cat "$work/summary.txt"
printf 'made in %.0f s\n' "$(echo "$(date +%s.%N) - $start" | bc)"
if ((${#failed[@]})); then
  echo "captures not as expected: ${failed[*]}" >&2
  exit 1
fi
echo "${#pg_clients[@]} captures in $out, listed in $out/clients.tsv"
bash "$(dirname "$0")/import.sh"
