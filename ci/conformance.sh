#!/usr/bin/env bash
# The main job: every suite against its embedded reference-server targets. Exit code as
# `harness run` gives it (0 all as expected, 1 mismatch, 2 usage, 3 harness error).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
for suite in suites/*/; do
  # A folder holding only a dialect file (its suite not written yet) is no suite to run.
  [[ -f "$suite/suite.toml" ]] || continue
  echo "== $suite"
  ./target/release/harness run "$suite"
done
