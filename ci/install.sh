#!/usr/bin/env bash
# System packages the tests and benchmarks use: tshark reads the pcapng files `harness record`
# writes (and is the import benchmark's baseline); tcpdump makes real loopback captures;
# chromium renders the HTML report in a test; nginx and openssl are the TLS servers the
# tls-cutoff suite starts, and openssl and curl the real clients checked against them;
# /usr/bin/time measures judge's peak memory in a test.
set -euo pipefail
missing=()
command -v tshark > /dev/null || missing+=(tshark)
command -v tcpdump > /dev/null || missing+=(tcpdump)
command -v chromium > /dev/null || missing+=(chromium)
{ command -v nginx || [ -x /usr/sbin/nginx ]; } > /dev/null || missing+=(nginx-light)
command -v openssl > /dev/null || missing+=(openssl)
command -v curl > /dev/null || missing+=(curl)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
# cargo-insta: the README's snapshot review (`cargo insta review|accept`), and a test checks
# that it finds the suites' snapshots.
if ! cargo insta --version 2> /dev/null | grep -q "1.49"; then
  cargo install cargo-insta --locked --version 1.49.0
fi
