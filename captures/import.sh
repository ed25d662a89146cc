#!/usr/bin/env bash
# Turns each FOLDER/CLIENT.pcap into the capture cases a suite replays: CLIENT.captured.toml
# (CLIENT.conn1.captured.toml, CLIENT.conn2.captured.toml, ... when the client made several
# connections that carried data).
# The server port is the one the pcap's first connection attempt went to (tcpdump reads it).
#   bash captures/import.sh DIALECT FOLDER      e.g. bash captures/import.sh ssh captures/ssh
set -euo pipefail
export LC_ALL=C
dialect=${1:?usage: import.sh DIALECT FOLDER} out=${2:?usage: import.sh DIALECT FOLDER}
out=$(cd "$out" && pwd)
cd "$(dirname "$0")/.."
cargo build --release --quiet
harness=$PWD/target/release/harness
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rm -f "$out"/*.captured.toml
for pcap in "$out"/*.pcap; do
  client=$(basename "$pcap" .pcap)
  port=$(tcpdump -nn -r "$pcap" -c 1 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2> /dev/null \
    | sed -E 's/.* > [^ ]*\.([0-9]+): .*/\1/')
  "$harness" import "$pcap" --dialect "$dialect" --port "$port" --out "$work/$client" > /dev/null
  cases=("$work/$client"/*.toml)
  if ((${#cases[@]} == 1)); then
    mv "${cases[0]}" "$out/$client.captured.toml"
  else
    i=1
    for case in "${cases[@]}"; do
      mv "$case" "$out/$client.conn$i.captured.toml"
      i=$((i + 1))
    done
  fi
done
ls "$out"/*.captured.toml | wc -l | xargs echo "capture cases in $out:"
