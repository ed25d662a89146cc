#!/usr/bin/env bash
# How captures/msnp-record was made, and how to make it again: three scripted clients of
# suites/msn-2003 talk, one at a time, through `harness record` to `harness serve` (2003-08-01
# policy); each session is written as a capture case and a pcapng, named after its twin.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."
cargo build --release --quiet
harness=$PWD/target/release/harness
out=captures/msnp-record
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cat > "$work/suite.toml" <<SUITE
name = "msn-2003-scripted"
dialect = "msnp"
cases = "$PWD/suites/msn-2003/cases"
[variables]
email = "harness@hotmail.com"
SUITE

twins=(windows-messenger-4.7.3001 messenger-for-mac-3.0 msn-messenger-7.5)
"$harness" serve --policy suites/msn-2003/policy.toml --as-of 2003-08-01 --listen 127.0.0.1:0 > "$work/serve.log" &
sleep 0.5
server=$(head -1 "$work/serve.log" | awk '{print $3}')
"$harness" record --listen 127.0.0.1:0 --upstream "$server" --out "$work/recorded" --sessions ${#twins[@]} > "$work/record.log" &
recorder=$!
sleep 0.5
proxy=$(head -1 "$work/record.log" | awk '{print $3}')
for twin in "${twins[@]}"; do
  "$harness" run "$work" --case "$twin" --target "$proxy" > /dev/null
  sleep 0.2 # one session at a time, so sessions are numbered in this order
done
wait $recorder

rm -f "$out"/*.recorded.toml "$out"/*.recorded.pcapng
i=0
for case in "$work"/recorded/*.toml; do
  mv "$case" "$out/${twins[$i]}.recorded.toml"
  mv "${case%.toml}.pcapng" "$out/${twins[$i]}.recorded.pcapng"
  i=$((i + 1))
done
echo "$i sessions in $out"
