#!/usr/bin/env bash
# How captures/msnp-record was made, and how to make it again: three scripted clients of
# suites/msn-2003 talk, one at a time, through `harness record` to `harness serve` (2003-08-01
# policy); each session is written as a capture case and a pcapng, named after its twin.
source "$(dirname "$0")/../lib.sh"
out=captures/msnp-record
scripted_msn_suite

twins=(windows-messenger-4.7.3001 messenger-for-mac-3.0 msn-messenger-7.5)
"$harness" serve --dialect msnp --policy suites/msn-2003/policy.toml --as-of 2003-08-01 --listen 127.0.0.1:0 > "$work/serve.log" &
sleep 0.5
server=$(head -1 "$work/serve.log" | awk '{print $3}')
"$harness" record --dialect msnp --listen 127.0.0.1:0 --upstream "$server" --out "$work/recorded" --sessions ${#twins[@]} > "$work/record.log" &
recorder=$!
sleep 0.5
proxy=$(head -1 "$work/record.log" | awk '{print $3}')
for twin in "${twins[@]}"; do
  "$harness" run "$work" --case "$twin" --target "$proxy" > /dev/null
  sleep 0.2 # one session at a time, so sessions are numbered in this order
done
wait $recorder

keep_recorded "$out" .recorded "${twins[@]}"
