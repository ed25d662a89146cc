#!/usr/bin/env bash
# Import throughput on a large generated capture of MSNP sessions, beside the read limit
# (`cat FILE > /dev/null`) and tshark's TCP conversation table on the same file.
# Usage: bash ci/bench-import.sh [SIZE_MB=1024] [FILE=/tmp/harness-bench.pcap]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
file=${2:-/tmp/harness-bench.pcap}
bash ci/install.sh
command -v /usr/bin/time > /dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time > /dev/null; }
cargo build --release --quiet --example make_capture
cargo build --release --quiet
[ -f "$file" ] && [ "$(stat -c %s "$file")" -ge $((size << 20)) ] || ./target/release/examples/make_capture "$file" "$size"
bytes=$(stat -c %s "$file")

# Prints "seconds peak_rss_kib" for a command, output discarded.
measure() {
  /usr/bin/time -f '%e %M' -o /tmp/harness-bench.time "$@" > /dev/null 2>&1
  cat /tmp/harness-bench.time
}
cat "$file" > /dev/null # warm the page cache so every reader starts equal
read -r cat_s cat_kb < <(measure cat "$file")
read -r imp_s imp_kb < <(measure ./target/release/harness import "$file")
read -r tsh_s tsh_kb < <(measure tshark -r "$file" -q -z conv,tcp)
./target/release/harness import "$file" | tail -1

awk -v b="$bytes" -v cs="$cat_s" -v ck="$cat_kb" -v is="$imp_s" -v ik="$imp_kb" -v ts="$tsh_s" -v tk="$tsh_kb" 'BEGIN {
  mb = b / 1e6
  printf "\n%-34s %10s %10s %14s\n", "reader (" int(mb) " MB capture)", "seconds", "MB/s", "peak RSS MiB"
  printf "%-34s %10.2f %10.0f %14.1f\n", "cat FILE > /dev/null", cs, mb / (cs > 0 ? cs : 0.01), ck / 1024
  printf "%-34s %10.2f %10.0f %14.1f\n", "harness import FILE", is, mb / (is > 0 ? is : 0.01), ik / 1024
  printf "%-34s %10.2f %10.0f %14.1f\n", "tshark -r FILE -q -z conv,tcp", ts, mb / (ts > 0 ? ts : 0.01), tk / 1024
  printf "\nharness import is %.1fx tshark\n", ts / (is > 0 ? is : 0.01)
}'
