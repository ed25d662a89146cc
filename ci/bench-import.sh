#!/usr/bin/env bash
# Import throughput alone: `harness bench --only import` on a large generated capture of MSNP
# sessions, beside the read limit (`cat FILE > /dev/null`) and tshark's TCP conversation table,
# with each one's peak memory (installs tshark and /usr/bin/time when missing).
# Usage: bash ci/bench-import.sh [SIZE_MB=1024] [FILE=/tmp/harness-bench.pcap]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
file=${2:-/tmp/harness-bench.pcap}
bash ci/install.sh
command -v /usr/bin/time > /dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time > /dev/null; }
cargo build --release --quiet
./target/release/harness bench --only import --capture-mb "$size" --capture "$file"
