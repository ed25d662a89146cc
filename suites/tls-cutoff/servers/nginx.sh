#!/usr/bin/env bash
# nginx on 127.0.0.1:PORT as a strict TLS server: bash servers/nginx.sh PORT
# TLS 1.2 and 1.3 only, and only forward-secret AEAD suites (ECDHE with AES-GCM or ChaCha20),
# so CBC and RSA key exchange are refused, not merely deprecated. Runs in the foreground with
# its files in a temporary folder; uses the same test certificate as servers/openssl.sh.
set -euo pipefail
cd "$(dirname "$0")"
port=$1
work=$(mktemp -d)
# Removed once the server (this shell, after exec) has stopped, however it stops, when no
# harness gave a private TMPDIR to remove: a watcher holding none of our file descriptors,
# which outlives the SIGTERM its process group gets.
( trap '' TERM INT HUP; while kill -0 $$ 2> /dev/null; do sleep 1; done; rm -rf "$work" ) \
  < /dev/null > /dev/null 2>&1 &
cat > "$work/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx.pid;
error_log stderr crit;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $PWD/test-cert.pem;
        ssl_certificate_key $PWD/test-key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20;
        return 200 "ok\n";
    }
}
CONF
exec "$(command -v nginx || echo /usr/sbin/nginx)" -c "$work/nginx.conf" -p "$work"
