#!/usr/bin/env bash
# How captures/ssh was made, and how to make it again: OpenSSH's sshd under the legacy policy of
# suites/ssh-hardening (servers/sshd.sh legacy: every algorithm Debian 12's OpenSSH 9.2 has,
# old and new, so every client completes key exchange) listens on a free loopback port; each
# real SSH client (the list is in common.sh) then connects once with its default algorithm
# settings (the openssh-* variants with the -o settings their names say), as user "test" with a
# wrong password, while tcpdump records loopback. Authentication fails; what matters is the
# clear-text start: identification strings, both KEXINITs, the client's key-exchange init and
# the server's reply. Each client gets its own CLIENT.pcap, holding only its own connection(s);
# pcap-ssh.py checks each and clients.tsv lists, for each, the program and version, the
# identification string it sent (and any lines it sent before it), the first 3 kex algorithms
# it offered, the hassh of its KEXINIT, and its TCP connections (all, and those that reached
# the server's key-exchange reply).
# Run from anywhere, as root (tcpdump): bash captures/ssh/make.sh [--install|--install-only];
# about a minute (plus about 4 minutes the first time, to build the russh client).
#
# Needs (install_clients below installs them, given --install):
#   apt: openssh-server openssh-client dropbear-bin putty-tools tcpdump python3 python3-pip
#        openjdk-17-jdk-headless libjsch-java golang-go golang-golang-x-crypto-dev nodejs iproute2
#        (and npm, where nodejs does not bring it)
#   pip (into the python3 on PATH): paramiko asyncssh ssh2-python ssh-python
#   npm: ssh2@1.17.0, into $HARNESS_SSH_CLIENTS (default /tmp/harness-ssh-clients), not the repository
#   cargo: russh-client/ (russh 0.65), built on its own with CARGO_TARGET_DIR=/tmp/russh-target
set -euo pipefail
export LC_ALL=C

install_clients() {
  apt-get update
  apt-get install -y openssh-server openssh-client dropbear-bin putty-tools tcpdump python3 \
    python3-pip openjdk-17-jdk-headless libjsch-java golang-go golang-golang-x-crypto-dev nodejs \
    iproute2
  # npm comes with NodeSource's nodejs; Debian's own nodejs needs its npm package beside it
  command -v npm > /dev/null || apt-get install -y npm
  python3 -m pip install paramiko asyncssh ssh2-python ssh-python
}

case ${1:-} in
  --install) install_clients ;;
  --install-only) install_clients; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--install|--install-only]" >&2; exit 2 ;;
esac

ssh_dir=$(cd "$(dirname "$0")" && pwd)
out=$ssh_dir
work=$(mktemp -d)
server_pid=
trap 'stop_server; kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
source "$ssh_dir/common.sh"

start=$SECONDS
build_clients
port=$(free_port)
start_server sshd legacy "$port"

rm -f "$out"/*.pcap
printf 'client\tprogram\tidentification\tbefore_identification\tfirst_kex\thassh\tconnections\tkex_replies\n' > "$work/clients.tsv"
failed=()
for client in "${ssh_clients[@]}"; do
  pcap=$out/$client.pcap
  tcpdump -i lo -U --immediate-mode -B 16384 -w "$pcap" "tcp port $port" 2> "$work/$client.tcpdump" &
  tcpdump_pid=$!
  for _ in $(seq 100); do grep -qs 'listening on' "$work/$client.tcpdump" && break; sleep 0.1; done
  run_client "$client" "$port" < /dev/null > "$work/$client.log" 2>&1 \
    || echo "$client exited $? (as expected when authentication fails)" >&2
  sleep 0.5 # let the last segments (the close) reach the capture
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  if [[ -s $pcap ]] && python3 "$ssh_dir/pcap-ssh.py" --check "$pcap"; then
    printf '%s\t%s\t%s\n' "$client" "$(client_version "$client")" \
      "$(python3 "$ssh_dir/pcap-ssh.py" --tsv "$pcap")" >> "$work/clients.tsv"
  else
    echo "$client's output: $(tail -c 400 "$work/$client.log")" >&2
    failed+=("$client")
  fi
done
stop_server
mv "$work/clients.tsv" "$out/clients.tsv"

python3 "$ssh_dir/pcap-ssh.py" "$out"/*.pcap
if ((${#failed[@]})); then
  echo "no whole key exchange captured for: ${failed[*]}" >&2
  exit 1
fi
echo "${#ssh_clients[@]} captures in $out, listed in $out/clients.tsv ($((SECONDS - start)) s)"
bash "$(dirname "$0")/../import.sh" ssh "$(dirname "$0")"
