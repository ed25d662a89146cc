#!/usr/bin/env bash
# nginx on 127.0.0.1:PORT, admitting every request: bash servers/nginx.sh PORT
# (written by `harness new --server nginx`). Put your server's policy in the `server` block
# below; harness starts this script once per run on a free port, in a process group of its
# own, and stops the whole group when the run ends. The contract (README "Server scripts"):
# the server runs in the foreground and is exec'd, logs to stderr, listens on 127.0.0.1:PORT,
# and leaves nothing behind.
set -euo pipefail
port=${1:?usage: nginx.sh PORT}
work=$(mktemp -d)
# Removes the folder once the server (this shell, after exec) has stopped, however it stops:
# a watcher holding none of our file descriptors, which ignores the SIGTERM its group gets.
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
        listen 127.0.0.1:$port;
        default_type application/json;
        location / { return 200 '{"status":"ok"}'; }
    }
}
CONF
exec "$(command -v nginx || echo /usr/sbin/nginx)" -c "$work/nginx.conf" -p "$work"
