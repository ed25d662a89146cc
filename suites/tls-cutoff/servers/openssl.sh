#!/usr/bin/env bash
# openssl s_server on 127.0.0.1:PORT under a named policy: bash servers/openssl.sh POLICY PORT
#   legacy  TLS 1.0 and up, every cipher suite (SECLEVEL 0), as servers were before the cut
#   modern  TLS 1.2 and up, OpenSSL's default cipher suites
#   tls13   TLS 1.3 only
#   dh1024  TLS 1.0 to 1.2 with DHE suites only, on a 1024-bit DH group (dh1024.pem, made for
#           these tests with `openssl dhparam -out dh1024.pem 1024`), SECLEVEL 0: the server
#           old Java and hardened clients disagree about
# test-cert.pem / test-key.pem: a self-signed certificate for localhost, made for these tests
# only (`openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj /CN=localhost`).
set -euo pipefail
cd "$(dirname "$0")"
policy=$1 port=$2
case $policy in
  legacy) args=(-min_protocol TLSv1 -cipher 'ALL:@SECLEVEL=0') ;;
  modern) args=(-min_protocol TLSv1.2) ;;
  tls13) args=(-min_protocol TLSv1.3) ;;
  dh1024) args=(-min_protocol TLSv1 -max_protocol TLSv1.2 -cipher 'kEDH:@SECLEVEL=0' -dhparam dh1024.pem) ;;
  *) echo "unknown policy $policy" >&2; exit 2 ;;
esac
exec openssl s_server -accept "127.0.0.1:$port" -cert test-cert.pem -key test-key.pem -www "${args[@]}" < /dev/null > /dev/null
