#!/usr/bin/env bash
# The test suite: unit tests, hostile-server catalogue, reference server, the binary end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
# What the tests start or read (nginx, openssl, tshark, tcpdump, chromium) comes first.
bash ci/install.sh
# cargo-insta: the README's snapshot review (`cargo insta review|accept`), and a test checks
# that it finds the suites' snapshots.
if ! cargo insta --version 2> /dev/null | grep -q "1.49"; then
  cargo install cargo-insta --locked --version 1.49.0
fi
cargo test --workspace --locked
