#!/usr/bin/env bash
# The fuzz campaign: every property in tests/robustness/ run alone, in a release build, until
# it has passed FUZZ_INPUTS inputs or used FUZZ_SECONDS of CPU, whichever comes first. One line per
# target; a failure prints its shrunk input, saves its seed beside the property, and fails.
# Usage: bash ci/fuzz.sh [SECONDS=600] [INPUTS=10000000] [NAME_FILTER]
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_SECONDS=${1:-600} FUZZ_INPUTS=${2:-10000000}
filter=${3:-}
cargo test --release --quiet --test robustness --no-run
targets=$(cargo test --release --quiet --test robustness -- --list --format terse 2>/dev/null \
  | sed -n 's/: test$//p' | grep -v '^regressions::' | grep -- "$filter")
failed=0
for target in $targets; do
  if output=$(cargo test --release --quiet --test robustness -- --exact "$target" --nocapture \
      --test-threads 1 2>&1); then
    grep '^fuzz ' <<< "$output"
  else
    failed=1
    echo "fuzz $target: FAILED"
    grep -A40 'panicked at' <<< "$output"
  fi
done
exit $failed
