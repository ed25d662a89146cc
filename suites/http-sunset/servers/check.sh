#!/usr/bin/env bash
# Checks servers/nginx.sh and servers/apache.sh against the sunset policy, by hand, without the
# harness: bash servers/check.sh [SERVER...]   (default: nginx apache)
# Starts each server under each phase on a free loopback port, sends the requests below with
# curl (and two raw HTTP/1.0 requests without a Host header over a socket), and prints one row
# per answer with what the policy expects it to be: ✓ or ✗ and the difference. Exit 1 on any ✗.
set -uo pipefail
cd "$(dirname "$0")"
servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=(nginx apache)
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2> /dev/null; rm -rf "$tmp"' EXIT

sunset='Thu, 01 Jan 2026 00:00:00 GMT'
deprecation='@1767225600'
link='</api/v2/>; rel="successor-version"'
warn_http10='299 - "HTTP/1.0 is deprecated; use HTTP/1.1 before 2026-01-01"'
warn_anon='299 - "requests without a User-Agent will be refused from 2026-01-01"'
modern='ExampleApp/3.2.0'

# name | groups it is in | how it is sent: curl arguments after the URL's path, or raw:REQUEST
requests=(
  "modern|-|/api/v2/status -A $modern"
  "G1 /api/v1/|g1|/api/v1/status -A $modern"
  "G2 HTTP/1.0|g2|/api/v2/status -A $modern --http1.0"
  "G2 raw, no Host|g2|raw:GET /api/v2/status HTTP/1.0\r\nUser-Agent: $modern\r\n\r\n"
  "G3 UA 2.9.1|g3|/api/v2/status -A ExampleApp/2.9.1_(Android_9)"
  "G3 X-App-Version|g3|/api/v2/status -A Partner-Gateway/5.0 -H X-App-Version:_2.4.0"
  "not G3: UA 12.0|-|/api/v2/status -A ExampleApp/12.0"
  "not G3: X-App-Version 12.0|-|/api/v2/status -A $modern -H X-App-Version:_12.0"
  "G3 UA 2 (no minor)|g3|/api/v2/status -A ExampleApp/2"
  "G4 no User-Agent|g4|/api/v2/status -H User-Agent:"
  "G4 empty User-Agent|g4|/api/v2/status -H User-Agent;"
  "plain curl|-|/api/v2/status"
  "G1 path //api//v1/|g1|//api//v1/status -A $modern"
  "G1 path %2F, ..|g1|/api/v2/../v1%2Fstatus -A $modern --path-as-is"
  "not G1: /api/v1 ?/api/v1/|-|/api/v1?next=/api/v1/ -A $modern"
  "G1+G3|g1 g3|/api/v1/status -A ExampleApp/1.0"
  "G2+G4 raw, no Host|g2 g4|raw:GET /api/v2/status HTTP/1.0\r\n\r\n"
  "G1+G2+G3+G4|g1 g2 g3 g4|/api/v1/status -H User-Agent: -H X-App-Version:_0.9 --http1.0"
)

# What the policy says: "STATUS|Sunset|Deprecation|Link|Warning" for PHASE and GROUPS.
expect() {
  local phase=$1 groups=" $2 " status=200 s=- d=- l=- w=()
  has() { [[ $groups == *" $1 "* ]]; }
  case $phase in
    warning)
      if has g1; then d=$deprecation l=$link s=$sunset; fi
      if has g3; then s=$sunset; fi
      if has g2; then w+=("$warn_http10"); fi
      if has g4; then w+=("$warn_anon"); fi ;;
    cutoff)
      if has g2; then status=505; elif has g1; then status=410
      elif has g3; then status=426; elif has g4; then status=403; fi ;;
  esac
  local warning=-
  [ ${#w[@]} -gt 0 ] && warning=$(printf '%s\n' "${w[@]}" | sort | paste -sd '|' | sed 's/|/ + /g')
  echo "$status|$s|$d|$l|$warning"
}

# One header's values from a saved response head, several joined with " + " (sorted), or "-".
header() {
  local v
  v=$(tr -d '\r' < "$1" | sed -n "s/^$2: *//Ip" | sort | paste -sd '|' | sed 's/|/ + /g')
  echo "${v:--}"
}

# Long values shown short in the table (the comparison is on the whole value).
short() {
  local v=$1
  v=${v//"$sunset"/sunset-date}
  v=${v//"$link"/successor}
  v=${v//"$warn_http10"/299-http1.0}
  v=${v//"$warn_anon"/299-no-UA}
  echo "$v"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Sends REQUEST (with \r\n escapes) on a socket; writes the head to $tmp/head, body to $tmp/body.
raw() {
  python3 - "$1" "$2" "$tmp" <<'PY'
import socket, sys
port, request, tmp = int(sys.argv[1]), sys.argv[2].encode().decode("unicode_escape"), sys.argv[3]
with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
    s.sendall(request.encode("latin-1"))
    data = b""
    while chunk := s.recv(65536):
        data += chunk
head, _, body = data.partition(b"\r\n\r\n")
open(f"{tmp}/head", "wb").write(head + b"\r\n")
open(f"{tmp}/body", "wb").write(body)
PY
}

printf '%-7s %-8s %-26s %-6s %-12s %-12s %-10s %-26s %s\n' \
  SERVER PHASE REQUEST STATUS SUNSET DEPRECATION LINK WARNING BODY
failures=0
declare -A startup
for server in "${servers[@]}"; do
  for phase in before warning cutoff; do
    port=$(free_port)
    start=$EPOCHREALTIME
    bash "$server.sh" "$phase" "$port" > "$tmp/out" 2> "$tmp/err" &
    pid=$!
    for _ in $(seq 500); do
      (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.01
    done
    ms=$(( (${EPOCHREALTIME/./} - ${start/./}) / 1000 ))
    startup[$server]+=" $ms"
    if ! kill -0 "$pid" 2> /dev/null; then
      echo "$server $phase: did not start" >&2; cat "$tmp/out" "$tmp/err" >&2; failures=$((failures + 1)); pid=; continue
    fi
    for request in "${requests[@]}"; do
      IFS='|' read -r name groups how <<< "$request"
      rm -f "$tmp/head" "$tmp/body"
      if [[ $how == raw:* ]]; then
        raw "$port" "${how#raw:}"
      else
        read -ra args <<< "$how"
        url=${args[0]} args=("${args[@]:1}")
        args=("${args[@]//_/ }")
        curl -s -D "$tmp/head" -o "$tmp/body" "${args[@]}" "http://127.0.0.1:$port$url"
      fi
      status=$(head -1 "$tmp/head" | awk '{print $2}')
      got="$status|$(header "$tmp/head" Sunset)|$(header "$tmp/head" Deprecation)|$(header "$tmp/head" Link)|$(header "$tmp/head" Warning)"
      want=$(expect "$phase" "$groups")
      # The body: {"status":"ok"} as JSON for a 200, a text/plain refusal otherwise (saying to
      # upgrade ExampleApp for a 426).
      type=$(header "$tmp/head" Content-Type) body=$(cat "$tmp/body")
      case $status in
        200) [[ $type == application/json && $body == '{"status":"ok"}' ]] && shape=json-ok || shape="✗ $type $body" ;;
        426) [[ $type == text/plain* && $body == *"upgrade ExampleApp"* ]] && shape=text-upgrade || shape="✗ $type $body" ;;
        *) [[ $type == text/plain* && -n $body ]] && shape=text || shape="✗ $type $body" ;;
      esac
      IFS='|' read -r st su de li wa <<< "$(short "$got")"
      mark=✓
      if [[ $got != "$want" || $shape == ✗* ]]; then
        want=$(short "$want"); mark="✗ expected ${want//|/ / }"; failures=$((failures + 1))
      fi
      printf '%-7s %-8s %-26s %-6s %-12s %-12s %-10s %-26s %-12s %s\n' \
        "$server" "$phase" "$name" "$st" "$su" "$de" "$li" "$wa" "$shape" "$mark"
    done
    kill "$pid"; wait "$pid" 2> /dev/null; pid=
    if [ -s "$tmp/out" ] || [ -s "$tmp/err" ]; then
      echo "✗ $server $phase printed:" >&2; cat "$tmp/out" "$tmp/err" >&2; failures=$((failures + 1))
    fi
  done
done
for server in "${servers[@]}"; do
  echo "$server: listening after (ms, before/warning/cutoff):${startup[$server]}"
done
echo "sunset-date = $sunset; successor = $link"
echo "299-http1.0 = $warn_http10; 299-no-UA = $warn_anon"
if [ $failures -gt 0 ]; then echo "$failures cells differ from the policy"; exit 1; fi
echo "every answer is what the policy says"
