#!/usr/bin/env bash
# The test suite: unit tests, hostile-server catalogue, reference server, the binary end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
