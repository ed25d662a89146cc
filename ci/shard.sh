#!/usr/bin/env bash
# One CI machine's share of a suite: bash ci/shard.sh SUITE K N [OUT]
# Runs partition K of N and writes OUT/results.jsonl and OUT/junit.xml; ci/merge.sh joins them.
# Uses $HARNESS_BIN when set (the binary CI built once), else builds it.
set -euo pipefail
cd "$(dirname "$0")/.."
suite=$1 k=$2 n=$3 out=${4:-reports/shard-$2}
harness=${HARNESS_BIN:-}
if [ -z "$harness" ]; then
  cargo build --release --locked --quiet
  harness=target/release/harness
fi
mkdir -p "$out"
# The shard's verdicts decide the report job's exit; its files are written either way.
"$harness" run "$suite" --partition "$k/$n" \
  --report-json "$out/results.jsonl" --report-junit "$out/junit.xml"
