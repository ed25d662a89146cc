#!/usr/bin/env bash
# Checks postgres.sh: starts it under each configuration on a free loopback port and connects
# psql (libpq) with sslmode disable, prefer and require, as harness/harness to database harness,
# running `select 1`. Prints one row per (configuration, sslmode): whether psql connected and ran
# the query, whether the session was over TLS (psql's \conninfo), the authentication method the
# server log names ("connection authenticated ... method=", log_connections being on: pg_hba's
# method, so md5-scram-stored says md5 although the exchange is SCRAM) and,
# if psql failed, its message. Exits 1 if a server did not start or a row differs from what the
# configuration promises (the expected column).
#   bash suites/postgres-upgrade/servers/check.sh [--tsv FILE] [MAJOR]
# Needs postgresql and postgresql-client (apt); about 5 s (the first run, with initdb, a few more).
set -euo pipefail
export LC_ALL=C
servers_dir=$(cd "$(dirname "$0")" && pwd)
tsv=
if [[ ${1:-} == --tsv ]]; then tsv=${2:?--tsv FILE}; shift 2; fi
major=${1:-}

work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill -INT "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_listening PORT PID: until something listens on 127.0.0.1:PORT (without connecting, so
# the server logs no stray connection), at most 30 s, or the server PID has died
wait_listening() {
  local port=$1 pid=$2
  for _ in $(seq 600); do
    if command -v ss > /dev/null; then
      [[ -n $(ss -Hltn "src 127.0.0.1 and sport = :$port") ]] && return 0
    elif (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      return 0
    fi
    kill -0 "$pid" 2> /dev/null || return 1
    sleep 0.05
  done
  return 1
}

# config: the sslmodes that must connect (the others must not)
declare -A expect=(
  [permissive]="disable prefer"
  [scram-only]="disable prefer"
  [hostssl-only]="prefer require"
  [tls-optional]="disable prefer require"
  [md5-scram-stored]="disable prefer"
  [password]="disable prefer"
  [trust]="disable prefer"
)
configs=(permissive scram-only hostssl-only tls-optional md5-scram-stored password trust)

rows=$work/rows.tsv
: > "$rows"
failed=0
start=$(date +%s.%N)
for config in "${configs[@]}"; do
  port=$(free_port)
  t0=$(date +%s.%N)
  bash "$servers_dir/postgres.sh" "$config" "$port" ${major:+"$major"} > "$work/$config.log" 2>&1 &
  server_pid=$!
  if ! wait_listening "$port" "$server_pid"; then
    echo "postgres.sh $config did not start on 127.0.0.1:$port; its output:" >&2
    cat "$work/$config.log" >&2
    failed=1
    kill -INT "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true; server_pid=
    continue
  fi
  printf '%s listening after %.2f s\n' "$config" "$(echo "$(date +%s.%N) - $t0" | bc)" >&2
  for sslmode in disable prefer require; do
    seen=$(wc -c < "$work/$config.log")
    if PGPASSWORD=harness PGCONNECT_TIMEOUT=10 timeout 20 psql -X \
      "host=127.0.0.1 port=$port user=harness dbname=harness sslmode=$sslmode" \
      -c 'select 1' -c '\conninfo' < /dev/null > "$work/psql.out" 2> "$work/psql.err"; then
      connected=yes error=
    else
      connected=no error=$(grep -v '^$' "$work/psql.err" | sed -E 's/^psql: error: //; s/^connection to server at "127\.0\.0\.1", port [0-9]+ failed: //' | tr '\n\t' '  ' | sed 's/ *$//')
    fi
    if grep -q '^SSL connection' "$work/psql.out"; then tls=yes; else tls=no; fi
    sleep 0.1 # the log line of a failed attempt may come just after psql has gone
    method=$(tail -c +$((seen + 1)) "$work/$config.log" | sed -nE 's/.*connection authenticated: .*method=([^ ]+).*/\1/p; s/.*connection authorized: .*/trust?/p' | head -1)
    [[ $method == 'trust?' ]] && method=trust # trust logs no "connection authenticated" line
    want=no
    [[ " ${expect[$config]} " == *" $sslmode "* ]] && want=yes
    [[ $connected == "$want" ]] || failed=1
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$config" "$sslmode" "$connected" "$want" "$tls" "${method:--}" "$error" >> "$rows"
  done
  kill -INT "$server_pid"
  wait "$server_pid" 2> /dev/null || true
  server_pid=
done

{
  printf 'config\tsslmode\tconnected\texpected\ttls\tmethod (log)\terror\n'
  cat "$rows"
} > "$work/table.tsv"
[[ -n $tsv ]] && cp "$work/table.tsv" "$tsv"
awk -F'\t' '
  { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > width[i]) width[i] = length($i) } n = NR; if (NF > cols) cols = NF }
  END { for (r = 1; r <= n; r++) { line = ""; for (i = 1; i <= cols; i++) line = line sprintf(i < cols ? "%-" width[i] "s  " : "%s", cell[r, i]); sub(/ +$/, "", line); print line } }
' "$work/table.tsv"
printf 'checked in %.1f s\n' "$(echo "$(date +%s.%N) - $start" | bc)" >&2
exit $failed
