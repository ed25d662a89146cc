#!/usr/bin/env bash
# The test suite: unit tests, hostile-server catalogue, reference server, the binary end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
# What the tests start or read (nginx, openssl, tshark, tcpdump, chromium) comes first.
bash ci/install.sh
cargo test --workspace --locked
