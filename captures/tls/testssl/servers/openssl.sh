#!/usr/bin/env bash
# openssl s_server on 127.0.0.1:PORT under a named policy: bash servers/openssl.sh POLICY PORT
# Runs in the foreground (exec), so killing this script's pid stops the server.
# Written for OpenSSL 3.0 (Debian 12). Policies:
#   modern    TLS 1.2 and 1.3; TLS 1.2 suites ECDHE + AEAD only (AES-GCM, ChaCha20-Poly1305);
#             groups X25519:P-256:X448:P-521:P-384 (no FFDHE in TLS 1.3); RSA 2048 certificate
#   tls13     TLS 1.3 only, OpenSSL's default TLS 1.3 suites and groups; RSA 2048 certificate
#   legacy    TLS 1.0 to 1.3, every cipher suite this OpenSSL has (ALL, SECLEVEL 0; note the
#             Debian build has no RC4, DES, 3DES or export suites, and no SSLv3);
#             DHE with the 2048-bit group in dh2048.pem; RSA 2048 certificate
#   dh1024    TLS 1.0 to 1.2, DHE-RSA suites only (no ECDHE, no RSA key exchange, no anonymous),
#             the 1024-bit group in dh1024.pem, SECLEVEL 0; RSA 2048 certificate
#   dh2048    as dh1024 with the 2048-bit group in dh2048.pem
#   ecdsa     TLS 1.2 and 1.3, ECDSA P-256 certificate only (so only ECDHE-ECDSA suites in
#             TLS 1.2), OpenSSL's default suites and groups
#   p384      TLS 1.2 and 1.3, TLS 1.2 suites ECDHE only, the only group is secp384r1 (P-384),
#             also for TLS 1.3 (clients whose key_share lacks P-384 get a HelloRetryRequest);
#             RSA 2048 certificate
#   rsa1024   TLS 1.0 to 1.3, every cipher suite (ALL, SECLEVEL 0), RSA 1024-bit certificate;
#             DHE with dh2048.pem (so that only the certificate differs from legacy)
#   sha1cert  TLS 1.2 and 1.3, OpenSSL's default suites at SECLEVEL 0, RSA 2048 certificate
#             signed with sha1WithRSAEncryption by a test CA (sent after it, so the chain is
#             leaf and CA: a client checks the leaf's signature, never a self-signed one's);
#             DHE with dh2048.pem
# Material (test-only keys, made once for these tests with OpenSSL 3.0):
#   ../../../../suites/tls-cutoff/servers/test-cert.pem, test-key.pem: RSA 2048, sha256WithRSAEncryption, CN=localhost
#   dh1024.pem:  openssl dhparam -out dh1024.pem 1024
#   dh2048.pem:  openssl dhparam -out dh2048.pem 2048
#   ecdsa-cert.pem, ecdsa-key.pem:
#     openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 \
#       -subj /CN=localhost -keyout ecdsa-key.pem -out ecdsa-cert.pem
#   rsa1024-cert.pem, rsa1024-key.pem:
#     openssl req -x509 -newkey rsa:1024 -nodes -days 36500 -subj /CN=localhost \
#       -keyout rsa1024-key.pem -out rsa1024-cert.pem
#   sha1-ca-cert.pem, sha1-ca-key.pem: the test CA (sha256WithRSAEncryption)
#     openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj "/CN=harness test CA" \
#       -keyout sha1-ca-key.pem -out sha1-ca-cert.pem
#   sha1-cert.pem, signed by it with SHA-1 (the key is tls-cutoff's test-key.pem):
#     openssl req -new -key ../../../../suites/tls-cutoff/servers/test-key.pem -subj /CN=localhost -out leaf.csr
#     openssl x509 -req -in leaf.csr -CA sha1-ca-cert.pem -CAkey sha1-ca-key.pem -sha1 \
#       -days 36500 -out sha1-cert.pem
set -euo pipefail
cd "$(dirname "$0")"
policy=${1:?usage: openssl.sh POLICY PORT} port=${2:?usage: openssl.sh POLICY PORT}
rsa=(-cert ../../../../suites/tls-cutoff/servers/test-cert.pem -key ../../../../suites/tls-cutoff/servers/test-key.pem)
case $policy in
  modern) args=("${rsa[@]}" -min_protocol TLSv1.2 -cipher 'ECDHE+AESGCM:ECDHE+CHACHA20'
                -groups X25519:P-256:X448:P-521:P-384) ;;
  tls13) args=("${rsa[@]}" -min_protocol TLSv1.3) ;;
  legacy) args=("${rsa[@]}" -min_protocol TLSv1 -cipher 'ALL:@SECLEVEL=0' -dhparam dh2048.pem) ;;
  dh1024) args=("${rsa[@]}" -min_protocol TLSv1 -max_protocol TLSv1.2
                -cipher 'kDHE+aRSA:@SECLEVEL=0' -dhparam dh1024.pem) ;;
  dh2048) args=("${rsa[@]}" -min_protocol TLSv1 -max_protocol TLSv1.2
                -cipher 'kDHE+aRSA:@SECLEVEL=0' -dhparam dh2048.pem) ;;
  ecdsa) args=(-cert ecdsa-cert.pem -key ecdsa-key.pem -min_protocol TLSv1.2) ;;
  p384) args=("${rsa[@]}" -min_protocol TLSv1.2 -cipher 'ECDHE:!aNULL' -groups P-384) ;;
  rsa1024) args=(-cert rsa1024-cert.pem -key rsa1024-key.pem -min_protocol TLSv1
                 -cipher 'ALL:@SECLEVEL=0' -dhparam dh2048.pem) ;;
  sha1cert) args=(-cert sha1-cert.pem -key ../../../../suites/tls-cutoff/servers/test-key.pem -cert_chain sha1-ca-cert.pem -min_protocol TLSv1.2
                  -cipher 'DEFAULT:@SECLEVEL=0' -dhparam dh2048.pem) ;;
  *) echo "unknown policy $policy" >&2; exit 2 ;;
esac
exec openssl s_server -accept "127.0.0.1:$port" -www "${args[@]}" < /dev/null > /dev/null
