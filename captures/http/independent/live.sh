#!/usr/bin/env bash
# The independent ground truth for captures/http: nginx with the client-retirement rules of
# nginx-rules.conf (written before the captures were made) on a free loopback port, and every
# client of ../make.sh run LIVE against it, the real program with the same command (common.sh),
# one at a time, GET http://localhost:PORT/api/v2/status. nginx's access log says what each
# request got; live-results.tsv has one line per request the client made (a browser may make
# several: the /api/v2/status one is the one that matters) with
#   client, request line, status, Sunset, Deprecation and Warning headers sent (empty if none),
#   the verdict those give (2xx, 3xx, 101, 401, 407 admitted, and warned if any of those headers
#   was sent, a Warning only with code 299; other 4xx and 505 locked-out; other 5xx error),
#   the User-Agent.
# Needs what ../make.sh needs (`bash captures/http/make.sh --install-only`, or --install here).
# Run from anywhere: bash captures/http/independent/live.sh [--install]
set -euo pipefail
export LC_ALL=C

independent=$(cd "$(dirname "$0")" && pwd)
http_dir=$(dirname "$independent")
case ${1:-} in
  --install) bash "$http_dir/make.sh" --install-only ;;
  "") ;;
  *) echo "usage: $0 [--install]" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
source "$http_dir/common.sh"

build_clients
port=$(free_port)
sed "s/__LISTEN__/127.0.0.1:$port/" "$independent/nginx-rules.conf" > "$work/rules.conf"
start_nginx "$port" "$work/rules.conf"
url=http://localhost:$port/api/v2/status
touch "$work/access.log"

results=$independent/live-results.tsv
printf 'client\trequest\tstatus\tsunset\tdeprecation\twarning\tverdict\tuser_agent\n' > "$results"
missing=()
for client in "${http_clients[@]}"; do
  seen=$(wc -l < "$work/access.log")
  run_client "$client" "$url" < /dev/null > "$work/$client.log" 2>&1 || echo "$client exited $?: $(tail -c 200 "$work/$client.log")" >&2
  sleep 1 # nginx logs a request when its response is sent; let a late one (a favicon) land
  tail -n +$((seen + 1)) "$work/access.log" > "$work/$client.requests"
  if [[ ! -s $work/$client.requests ]]; then
    printf '%s\t(no request reached nginx)\t\t\t\t\t?\t\n' "$client" >> "$results"
    missing+=("$client")
  fi
  awk -F'\t' -v OFS='\t' -v client="$client" '
    function value(v) { return v == "-" ? "" : v }  # nginx may log an absent header as "-"
    {
      status = $3; sunset = value($5); deprecation = value($6); warning = value($7)
      if (status ~ /^(101|2..|3..|401|407)$/)
        verdict = (sunset != "" || deprecation != "" || warning ~ /^299/) ? "warned" : "admitted"
      else if (status ~ /^(4..|505)$/) verdict = "locked-out"
      else if (status ~ /^5..$/) verdict = "error"
      else verdict = "?"
      print client, $2, status, sunset, deprecation, warning, verdict, value($4)
    }' "$work/$client.requests" >> "$results"
done

awk -F'\t' '{ printf "%-20s %-7s %-11s %s\n", $1, $3, $7, $2 }' "$results"
echo "${#http_clients[@]} clients, results in $results"
if ((${#missing[@]})); then
  echo "no request reached nginx from: ${missing[*]} (see the client's output above)" >&2
  exit 1
fi
