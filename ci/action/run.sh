#!/usr/bin/env bash
# The action's run step (mode: run): each suite in INPUT_SUITES run by $HARNESS_BIN, or only
# partition INPUT_PARTITION (K/N) of each, its reports in INPUT_REPORTS/SUITE/ (results.jsonl,
# junit.xml, html/index.html, summary.md) and its Markdown matrix appended to
# $GITHUB_STEP_SUMMARY. Says the folder and the artifact's name (NAME, or NAME-K-of-N for a
# partition, which merge.sh finds) in $GITHUB_OUTPUT, and exits with the run's exit code (the
# worst over the suites).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
partition=${INPUT_PARTITION:-}
note=""
if [[ -n $partition ]]; then
  [[ $partition =~ ^([0-9]+)/([0-9]+)$ ]] || { echo "harness action: partition $partition is not K/N" >&2; exit 2; }
  artifact="$artifact-${BASH_REMATCH[1]}-of-${BASH_REMATCH[2]}"
  note="partition $partition of the suite's cases"
fi
output "reports=$reports"
output "artifact=$artifact"
for i in "${!suites[@]}"; do
  out=$reports/${names[i]}
  mkdir -p "$out"
  status=0
  "$harness" run "${suites[i]}" ${partition:+--partition "$partition"} \
    --report-json "$out/results.jsonl" --report-junit "$out/junit.xml" \
    --report-html "$out/html" --report-markdown "$out/summary.md" || status=$?
  summarize "$out/summary.md" "$note"
  note_exit $status
done
output "exit-code=$worst"
exit "$worst"
