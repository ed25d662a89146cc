#!/usr/bin/env bash
# One CI machine's share of a suite: bash ci/shard.sh SUITE K N [OUT]
# Runs partition K of N and writes OUT/results.jsonl and OUT/junit.xml; ci/merge.sh joins them.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=$1 k=$2 n=$3 out=${4:-reports/shard-$2}
cargo build --release --locked --quiet
mkdir -p "$out"
./target/release/harness run "$suite" --partition "$k/$n" \
  --report-json "$out/results.jsonl" --report-junit "$out/junit.xml"
