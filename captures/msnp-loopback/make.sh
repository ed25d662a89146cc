#!/usr/bin/env bash
# How captures/msnp-loopback was made, and how to make it again (needs tcpdump and root):
# tcpdump on loopback while each scripted client of suites/msn-2003, one at a time, talks to
# the reference server under the 2003-08-01 policy (no enforcement, so every client runs its
# whole handshake); then `harness import`, naming each capture after its scripted twin.
source "$(dirname "$0")/../lib.sh"
out=captures/msnp-loopback
scripted_msn_suite

"$harness" serve --dialect msnp --policy suites/msn-2003/policy.toml --as-of 2003-08-01 --listen 127.0.0.1:1863 > "$work/serve.log" &
tcpdump -i lo -U -w "$out/msnp-loopback.pcap" 'tcp port 1863' 2> "$work/tcpdump.log" &
sleep 1
cases=()
for file in suites/msn-2003/cases/*.toml; do
  case=$(basename "$file" .toml)
  cases+=("$case")
  "$harness" run "$work" --case "$case" --target 127.0.0.1:1863 > /dev/null
done
sleep 1
kill -INT %2; wait %2 || true

rm -f "$out"/*.captured.toml
"$harness" import "$out/msnp-loopback.pcap" --dialect msnp --out "$work/imported" | tail -1
i=0
for file in "$work"/imported/*.toml; do
  mv "$file" "$out/${cases[$i]}.captured.toml"
  i=$((i + 1))
done
echo "$i captures in $out"
