#!/usr/bin/env bash
# nginx on 127.0.0.1:PORT (plain HTTP) under one phase of the API's sunset policy:
#   bash servers/nginx.sh PHASE PORT [tls]      PHASE = before | warning | cutoff | retire
# With `tls`, HTTPS: TLS 1.2+ with the tls-cutoff suite's test certificate (for localhost).
# Old clients, retired on 2026-01-01 (Thu, 01 Jan 2026 00:00:00 GMT = @1767225600):
#   G1 old API     the path starts with /api/v1/ (after nginx's normalisation: %-decoding,
#                  merged slashes, dot segments)
#   G2 HTTP/1.0    the request line says HTTP/1.0
#   G3 old app     User-Agent containing ExampleApp/ with major version 0, 1 or 2
#                  (ExampleApp/2.9.1 yes, ExampleApp/12.0 no), or X-App-Version major 0, 1 or 2
#   G4 anonymous   no User-Agent, or an empty one
# before   200 {"status":"ok"} (application/json) for everyone
# warning  the same 200, and old clients get Deprecation/Sunset/Link (G1), Warning 299 (G2),
#          Sunset (G3), Warning 299 (G4)
# cutoff   G2 505, else G1 410, else G3 426, else G4 403 (short text/plain bodies); others 200
# servers/apache.sh implements the same policy; servers/check.sh checks both.
# retire   (nginx only: the policy of issue 20's acceptance test, production_capture_live.rs)
#          G2 426, else G1 410, else G3 or G4 403 (a User-Agent minimum: ExampleApp 3 or
#          later, and some User-Agent); ExampleApp 3.2 gets the 200 with a Sunset header
# Runs in the foreground with its files in a temporary folder, prints nothing on success.
set -euo pipefail
phase=$1 port=$2 transport=${3:-plain}
work=$(mktemp -d)
# Removed once the server (this shell, after exec) has stopped, however it stops, when no
# harness gave a private TMPDIR to remove: a watcher holding none of our file descriptors,
# which outlives the SIGTERM its process group gets.
( trap '' TERM INT HUP; while kill -0 $$ 2> /dev/null; do sleep 1; done; rm -rf "$work" ) \
  < /dev/null > /dev/null 2>&1 &
listen="127.0.0.1:$port"
if [[ $transport == tls ]]; then
  certs=$(cd "$(dirname "$0")/../../tls-cutoff/servers" && pwd)
  listen="$listen ssl;
        ssl_certificate $certs/test-cert.pem;
        ssl_certificate_key $certs/test-key.pem;
        ssl_protocols TLSv1.2 TLSv1.3"
fi

# Which groups a request is in: "1" or "". The regexes are the same in servers/apache.sh.
groups=$(cat <<'NGINX'
    map $server_protocol $g2 { HTTP/1.0 1; default ""; }
    map $uri $g1 { ~^/api/v1/ 1; default ""; }
    map $http_x_app_version $g3_version { "~^0*[0-2]([^0-9]|$)" 1; default ""; }
    map $http_user_agent $g3 { "~ExampleApp/0*[0-2]([^0-9]|$)" 1; default $g3_version; }
    map $http_user_agent $g4 { "" 1; default ""; }
NGINX
)

ok='default_type application/json; return 200 '\''{"status":"ok"}'\'';'
case $phase in
  before)
    policy="        location / { $ok }" ;;
  warning)
    # An empty value sends no header, so each header goes only to its group; a request in
    # G2 and G4 gets both Warning headers, one in G1 and G3 one Sunset.
    policy=$(cat <<NGINX
        location / {
            add_header Deprecation \$deprecation;
            add_header Sunset \$sunset;
            add_header Link \$successor;
            add_header Warning \$warning_http10;
            add_header Warning \$warning_anonymous;
            $ok
        }
NGINX
)
    groups+=$(cat <<'NGINX'

    map $g1 $deprecation { 1 "@1767225600"; default ""; }
    map $g1$g3 $sunset { "" ""; default "Thu, 01 Jan 2026 00:00:00 GMT"; }
    map $g1 $successor { 1 '</api/v2/>; rel="successor-version"'; default ""; }
    map $g2 $warning_http10 { 1 '299 - "HTTP/1.0 is deprecated; use HTTP/1.1 before 2026-01-01"'; default ""; }
    map $g4 $warning_anonymous { 1 '299 - "requests without a User-Agent will be refused from 2026-01-01"'; default ""; }
NGINX
)
    ;;
  cutoff)
    # Server-level ifs run in order before any location: the first group that matches decides.
    policy=$(cat <<NGINX
        default_type text/plain;
        if (\$g2) { return 505 "HTTP/1.0 is no longer supported; use HTTP/1.1"; }
        if (\$g1) { return 410 "API v1 was retired on 2026-01-01; use /api/v2/"; }
        if (\$g3) { return 426 "This version of ExampleApp is no longer supported; please upgrade ExampleApp"; }
        if (\$g4) { return 403 "Requests without a User-Agent are refused"; }
        location / { $ok }
NGINX
)
    ;;
  retire)
    policy=$(cat <<NGINX
        default_type text/plain;
        if (\$g2) { return 426 "HTTP/1.0 is no longer supported; use HTTP/1.1"; }
        if (\$g1) { return 410 "API v1 was retired on 2026-01-01; use /api/v2/"; }
        if (\$g3) { return 403 "ExampleApp 3.0 or later is required"; }
        if (\$g4) { return 403 "Requests without a User-Agent are refused"; }
        location / {
            add_header Sunset \$sunset_app;
            $ok
        }
NGINX
)
    groups+=$(cat <<'NGINX'

    map $http_user_agent $sunset_app { "~ExampleApp/0*3\.2([^0-9]|$)" "Thu, 01 Jul 2027 00:00:00 GMT"; default ""; }
NGINX
)
    ;;
  *) echo "unknown phase $phase (before, warning, cutoff or retire)" >&2; exit 2 ;;
esac

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
$groups
    server {
        listen $listen;
$policy
    }
}
CONF
exec "$(command -v nginx || echo /usr/sbin/nginx)" -c "$work/nginx.conf" -p "$work"
