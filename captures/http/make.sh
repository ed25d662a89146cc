#!/usr/bin/env bash
# How captures/http was made, and how to make it again: nginx on a free loopback port answers
# every request with 200 and {"status":"ok"} over plain HTTP; each real HTTP client (the list is
# in common.sh) then GETs http://localhost:PORT/api/v2/status once, with its default settings,
# while tcpdump records loopback. Each client gets its own CLIENT.pcap, holding only its own
# connection(s); clients.tsv lists the program, version, User-Agent, HTTP version and number of
# TCP connections of each (and of connection attempts refused: nginx listens on 127.0.0.1 only,
# so a client that tries ::1 first is refused there and falls back).
# Run from anywhere: bash captures/http/make.sh [--install|--install-only]; about 30 s.
#
# Needs (install_clients below installs them, given --install; run as root):
#   apt: nginx tcpdump curl wget python3 python3-pip nodejs openjdk-17-jdk-headless golang-go
#        chromium libwww-perl httpie lynx w3m elinks
#   pip (into the python3 on PATH): requests httpx aiohttp
#   npm: nothing (node's own http and fetch)
set -euo pipefail
export LC_ALL=C

install_clients() {
  apt-get update
  apt-get install -y nginx tcpdump curl wget python3 python3-pip nodejs openjdk-17-jdk-headless \
    golang-go chromium libwww-perl httpie lynx w3m elinks
  python3 -m pip install requests httpx aiohttp
}

case ${1:-} in
  --install) install_clients ;;
  --install-only) install_clients; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--install|--install-only]" >&2; exit 2 ;;
esac

http_dir=$(cd "$(dirname "$0")" && pwd)
cd "$http_dir/../.."
out=captures/http
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
source "$http_dir/common.sh"

build_clients
port=$(free_port)
cat > "$work/server.conf" <<CONF
server {
    listen 127.0.0.1:$port;
    default_type application/json;
    return 200 '{"status":"ok"}\n';
}
CONF
start_nginx "$port" "$work/server.conf"
url=http://localhost:$port/api/v2/status

rm -f "$out"/*.pcap
printf 'client\tprogram\tuser_agent\thttp_version\tconnections\trefused_attempts\n' > "$out/clients.tsv"
failed=()
for client in "${http_clients[@]}"; do
  pcap=$out/$client.pcap
  tcpdump -i lo -U --immediate-mode -B 16384 -w "$pcap" "tcp port $port" 2> "$work/$client.tcpdump" &
  tcpdump_pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$work/$client.tcpdump" && break; sleep 0.1; done
  run_client "$client" "$url" < /dev/null > "$work/$client.log" 2>&1 \
    || echo "$client exited $? (its output: $(tail -c 300 "$work/$client.log"))" >&2
  sleep 1 # let the last segments (a late close, a favicon request) reach the capture
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  if [[ -s $pcap ]] && python3 "$http_dir/pcap-summary.py" --check /api/v2/status "$pcap"; then
    printf '%s\t%s\t%s\n' "$client" "$(client_version "$client")" \
      "$(python3 "$http_dir/pcap-summary.py" --tsv /api/v2/status "$pcap")" >> "$out/clients.tsv"
  else
    failed+=("$client")
  fi
done

python3 "$http_dir/pcap-summary.py" "$out"/*.pcap
if ((${#failed[@]})); then
  echo "no whole request and 200 response captured for: ${failed[*]}" >&2
  exit 1
fi
echo "${#http_clients[@]} captures in $out, listed in $out/clients.tsv"
bash "$http_dir/import.sh"
