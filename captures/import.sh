#!/usr/bin/env bash
# Turns each FOLDER/CLIENT.pcap into the capture cases a suite replays: CLIENT.captured.toml
# (CLIENT.conn1.captured.toml, CLIENT.conn2.captured.toml, ... when the client made several
# connections that carried data).
# The server port is the one the pcap's first connection attempt went to (tcpdump reads it).
# Where FOLDER/CLIENT.keys (the client's SSLKEYLOGFILE) exists, the session inside TLS is
# decrypted with it (--keylog), so a STARTTLS client is replayed past its upgrade.
# A session that cannot be replayed is left out, named on stderr: one whose client sent nothing,
# or whose client went on over TLS that no key log opens (its TLS bytes are no line to send):
# a client that writes no SSLKEYLOGFILE, or a TLS handshake the server refused.
# The dialect is a built-in name or a dialect file (suites/smtp-submission/dialects/smtp.toml).
#   bash captures/import.sh DIALECT FOLDER      e.g. bash captures/import.sh ssh captures/ssh
set -euo pipefail
export LC_ALL=C
dialect=${1:?usage: import.sh DIALECT FOLDER} out=${2:?usage: import.sh DIALECT FOLDER}
out=$(cd "$out" && pwd)
[[ $dialect == */* && -f $dialect ]] && dialect=$(cd "$(dirname "$dialect")" && pwd)/$(basename "$dialect")
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
  keylog=()
  [[ -f $out/$client.keys ]] && keylog=(--keylog "$out/$client.keys")
  "$harness" import "$pcap" --dialect "$dialect" --port "$port" "${keylog[@]}" --out "$work/$client" > /dev/null
  for case in "$work/$client"/*.toml; do
    # A client message in hex (encrypted, or not text) or no client message: not replayable.
    if ! awk '/^from = "client"/ { client = 1; next_is_client = 1; next }
              next_is_client && /^hex = / { bad = 1 }
              { next_is_client = next_is_client && !/^(text|hex) = / }
              END { exit !(client && !bad) }' "$case"; then
      echo "import.sh: $client: $(basename "$case") left out: nothing to replay in the clear" >&2
      rm "$case"
    fi
  done
  cases=("$work/$client"/*.toml)
  [[ -e ${cases[0]} ]] || continue
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
