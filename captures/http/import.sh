#!/usr/bin/env bash
# Turns each captures/http/CLIENT.pcap into capture cases the http-sunset suite replays:
# CLIENT.captured.toml (CLIENT-2.captured.toml, ... when the client made several connections
# that carried requests). The server port is read from the pcap (tcpdump). make.sh runs it after
# capturing; run it alone to re-import without capturing again.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."
cargo build --release --quiet
harness=$PWD/target/release/harness
out=captures/http
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rm -f "$out"/*.captured.toml
for pcap in "$out"/*.pcap; do
  client=$(basename "$pcap" .pcap)
  # The port the first connection attempt went to.
  port=$(tcpdump -nn -r "$pcap" -c 1 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2> /dev/null \
    | sed -E 's/.* > [^ ]*\.([0-9]+): .*/\1/')
  "$harness" import "$pcap" --dialect http --port "$port" --out "$work/$client" > /dev/null
  cases=("$work/$client"/*.toml)
  if ((${#cases[@]} == 1)); then
    mv "${cases[0]}" "$out/$client.captured.toml"
  else
    i=1
    for case in "${cases[@]}"; do
      mv "$case" "$out/$client-$i.captured.toml"
      i=$((i + 1))
    done
  fi
done
ls "$out"/*.captured.toml | wc -l | xargs echo "capture cases in $out:"
