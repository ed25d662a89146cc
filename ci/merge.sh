#!/usr/bin/env bash
# Joins a suite's shards into one report: bash ci/merge.sh [REPORTS=reports]
# Writes REPORTS/junit.xml, REPORTS/html/index.html and REPORTS/summary.md, appends the summary
# to $GITHUB_STEP_SUMMARY when set, and exits as `harness run` would have for the whole suite;
# a missing, repeated or foreign shard is exit 2. Uses $HARNESS_BIN when set, else builds it.
set -euo pipefail
cd "$(dirname "$0")/.."
reports=${1:-reports}
harness=${HARNESS_BIN:-}
if [ -z "$harness" ]; then
  cargo build --release --locked --quiet
  harness=target/release/harness
fi
status=0
"$harness" merge "$reports"/shard-*/results.jsonl \
  --report-junit "$reports/junit.xml" --report-html "$reports/html" \
  --report-markdown "$reports/summary.md" || status=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$reports/summary.md" ]; then
  cat "$reports/summary.md" >> "$GITHUB_STEP_SUMMARY"
fi
exit $status
