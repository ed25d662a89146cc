#!/usr/bin/env bash
# The action's merge step (mode: merge), the report job of a sharded run: the shards' artifacts,
# downloaded into $RUNNER_TEMP/harness-shards as the action's download step puts them (one
# folder per artifact, each holding SUITE/results.jsonl), joined per suite in INPUT_SUITES by `harness merge` into
# INPUT_REPORTS/SUITE/ (results.jsonl, junit.xml, html/index.html, summary.md), the Markdown
# matrix appended to $GITHUB_STEP_SUMMARY; exits as the whole run would have. A suite with no
# shard, or a missing or repeated one (harness merge refuses it), is exit 2.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
shards=${RUNNER_TEMP:-/tmp}/harness-shards
output "reports=$reports"
output "artifact=$artifact"
for i in "${!suites[@]}"; do
  out=$reports/${names[i]}
  mkdir -p "$out"
  files=()
  for file in "$shards"/*/"${names[i]}"/results.jsonl; do
    [[ -f $file ]] && files+=("$file")
  done
  if ((${#files[@]} == 0)); then
    echo "harness action: no shard of ${names[i]} in $shards (artifacts named $artifact-*)" >&2
    note_exit 2
    continue
  fi
  status=0
  "$harness" merge "${files[@]}" \
    --report-json "$out/results.jsonl" --report-junit "$out/junit.xml" \
    --report-html "$out/html" --report-markdown "$out/summary.md" || status=$?
  summarize "$out/summary.md" "merged from ${#files[@]} shards"
  note_exit $status
done
output "exit-code=$worst"
exit "$worst"
