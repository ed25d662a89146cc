#!/usr/bin/env bash
# Runs each real SSH client of captures/ssh LIVE against one server of suites/ssh-hardening, to
# give the ground truth a replay is compared with:
#   bash captures/ssh/live.sh SERVER POLICY     e.g. sshd hardened, dropbear legacy
#   bash captures/ssh/live.sh --all             sshd and dropbear, each under legacy, default, hardened
# starts servers/SERVER.sh POLICY on a free loopback port, runs each client once (the same
# commands as make.sh, from common.sh) and writes captures/ssh/live-results-SERVER-POLICY.tsv:
#   client         the client's name (as its CLIENT.pcap)
#   kex_completed  yes if the client's key exchange completed (the server's key-exchange reply
#                  reached it and it went on: a line the client prints, see client_outcome in
#                  common.sh), else no
#   error          what the client printed when not (port numbers replaced by PORT)
#   wire_reply     the same question answered from the wire: yes if tcpdump saw the server send
#                  its key-exchange reply (pcap-ssh.py --live), else no; "-" without tcpdump
#                  (not root, or not installed)
#   kex hostkey cipher mac
#                  negotiated from the two KEXINITs on the wire as RFC 4253 section 7.1 says
#                  ("-" where a class has no match, "<implicit>" for an AEAD cipher's MAC)
#   wire_note      where the connection stopped on the wire, if before the reply
# A client whose own account and the wire disagree is named on stderr (exit 1). Authentication
# always fails (user "test", wrong password): it is not part of the question.
# Needs what make.sh --install installs; about 20 s for one server and policy.
set -euo pipefail
export LC_ALL=C

ssh_dir=$(cd "$(dirname "$0")" && pwd)
if [[ ${1:-} == --all ]]; then
  status=0
  for server in sshd dropbear; do
    for policy in legacy default hardened; do
      bash "$0" "$server" "$policy" || status=1
    done
  done
  exit $status
fi
if [[ $# -ne 2 ]]; then
  echo "usage: $0 SERVER POLICY | --all   (SERVER: sshd or dropbear; POLICY: legacy, default or hardened)" >&2
  exit 2
fi
server=$1 policy=$2
work=$(mktemp -d)
server_pid=
trap 'stop_server; kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
source "$ssh_dir/common.sh"
[[ -f $servers_dir/$server.sh ]] || { echo "no server script $servers_dir/$server.sh" >&2; exit 2; }

start=$SECONDS
build_clients
capture=yes
if [[ $(id -u) != 0 ]] || ! command -v tcpdump > /dev/null; then
  capture=no
  echo "no tcpdump (or not root): the wire columns are left empty" >&2
fi
port=$(free_port)
start_server "$server" "$policy" "$port"

results=$work/results.tsv
printf 'client\tkex_completed\terror\twire_reply\tkex\thostkey\tcipher\tmac\twire_note\n' > "$results"
disagree=()
for client in "${ssh_clients[@]}"; do
  if [[ $capture == yes ]]; then
    tcpdump -i lo -U --immediate-mode -B 16384 -w "$work/$client.pcap" "tcp port $port" 2> "$work/$client.tcpdump" &
    tcpdump_pid=$!
    for _ in $(seq 100); do grep -qs 'listening on' "$work/$client.tcpdump" && break; sleep 0.1; done
  fi
  run_client "$client" "$port" < /dev/null > "$work/$client.log" 2>&1 || true
  outcome=$(client_outcome "$client" "$work/$client.log")
  kex_completed=${outcome%%$'\t'*}
  error=
  [[ $outcome == *$'\t'* ]] && error=${outcome#*$'\t'}
  wire=$'-\t-\t-\t-\t-\t'
  if [[ $capture == yes ]]; then
    sleep 0.3 # let the last segments reach the capture
    kill -INT "$tcpdump_pid"
    wait "$tcpdump_pid" || true
    wire=$(python3 "$ssh_dir/pcap-ssh.py" --live "$work/$client.pcap")
    if [[ ${wire%%$'\t'*} != "$kex_completed" ]]; then
      disagree+=("$client (client says $kex_completed, wire says ${wire%%$'\t'*})")
    fi
  fi
  printf '%s\t%s\t%s\t%s\n' "$client" "$kex_completed" "$error" "$wire" >> "$results"
done
stop_server

out=$ssh_dir/live-results-$server-$policy.tsv
mv "$results" "$out"
echo "$server $policy: $(awk -F'\t' 'NR > 1 && $2 == "yes"' "$out" | wc -l) of ${#ssh_clients[@]} clients completed key exchange; $out ($((SECONDS - start)) s)"
if ((${#disagree[@]})); then
  printf 'the client and the wire disagree: %s\n' "${disagree[@]}" >&2
  exit 1
fi
