#!/usr/bin/env bash
# The release binary, built once; the shards and the report job run it (CI hands it on as an
# artifact). By hand: bash ci/build.sh, then HARNESS_BIN=target/release/harness bash ci/shard.sh ...
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
echo "target/release/harness"
