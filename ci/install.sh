#!/usr/bin/env bash
# System packages the tests and benchmarks use: tshark reads the pcapng files `harness record`
# writes (and is the import benchmark's baseline); tcpdump makes real loopback captures;
# chromium renders the HTML report in a test; nginx and openssl are the TLS servers the
# tls-cutoff suite starts, and openssl and curl the real clients checked against them; nginx
# and Apache httpd are the web servers the http-sunset suite starts; OpenSSH's sshd and dropbear
# the SSH servers ssh-hardening starts (and ssh, dbclient real clients); PostgreSQL the database
# servers postgres-upgrade starts (and psql a real driver); /usr/bin/time measures judge's peak
# memory in a test; testssl.sh brings the client simulation file (/etc/testssl/
# client-simulation.txt) that a test imports and compares with testssl.sh's own verdicts; gcc
# builds the LD_PRELOAD shim that logs psql's TLS keys for the --keylog tests (libpq has no
# SSLKEYLOGFILE), and pg8000 (from PyPI) is a Python PostgreSQL driver whose TLS keys Python's
# ssl module logs through SSLKEYLOGFILE.
set -euo pipefail
missing=()
command -v tshark > /dev/null || missing+=(tshark)
command -v tcpdump > /dev/null || missing+=(tcpdump)
command -v chromium > /dev/null || missing+=(chromium)
{ command -v nginx || [ -x /usr/sbin/nginx ]; } > /dev/null || missing+=(nginx-light)
command -v openssl > /dev/null || missing+=(openssl)
command -v curl > /dev/null || missing+=(curl)
{ command -v apache2 || [ -x /usr/sbin/apache2 ]; } > /dev/null || missing+=(apache2)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh > /dev/null || missing+=(openssh-client)
{ command -v dropbear || [ -x /usr/sbin/dropbear ]; } > /dev/null || missing+=(dropbear-bin)
compgen -G '/usr/lib/postgresql/*/bin/postgres' > /dev/null || missing+=(postgresql)
command -v psql > /dev/null || missing+=(postgresql-client)
[ -x /usr/bin/time ] || missing+=(time)
[ -f /etc/testssl/client-simulation.txt ] || missing+=(testssl.sh)
command -v gcc > /dev/null || missing+=(gcc libc6-dev)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
if ! python3 -c 'import pg8000.native' 2> /dev/null; then
  # Optional: the test checks psql alone (and says so) where pip cannot install it.
  python3 -m pip install -q pg8000 > /dev/null 2>&1 || echo "install.sh: pg8000 could not be installed; the keylog test checks psql only" >&2
fi
