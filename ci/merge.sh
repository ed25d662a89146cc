#!/usr/bin/env bash
# Joins the shards' results into one report: bash ci/merge.sh [REPORTS=reports]
# Writes REPORTS/junit.xml, REPORTS/html/index.html and REPORTS/summary.md; exits as
# `harness run` would have for the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
reports=${1:-reports}
cargo build --release --locked --quiet
./target/release/harness merge "$reports"/shard-*/results.jsonl \
  --report-junit "$reports/junit.xml" --report-html "$reports/html" --report-markdown "$reports/summary.md"
