#!/usr/bin/env bash
# Apache httpd on 127.0.0.1:PORT (plain HTTP) under one phase of the API's sunset policy:
#   bash servers/apache.sh PHASE PORT     PHASE = before | warning | cutoff
# The same policy as servers/nginx.sh (which describes it), with SetEnvIf sorting requests into
# groups, mod_rewrite deciding the status and mod_headers adding the warnings:
#   G1 old API     path starting with /api/v1/ (mod_rewrite sees it %-decoded and normalised)
#   G2 HTTP/1.0    SetEnvIf Request_Protocol
#   G3 old app     SetEnvIf User-Agent / X-App-Version, the same regexes as nginx.sh
#   G4 anonymous   SetEnvIf User-Agent ^$ (matches a missing header too)
# One process (-X), so killing this script's pid (exec below) leaves no children. Run as root it
# drops to www-data, as Debian's own set-up does (Apache refuses to serve as root); run as
# anyone else it stays that user. Its files are in a temporary folder; prints nothing on success.
set -euo pipefail
phase=$1 port=$2
work=$(mktemp -d)
# Removed once the server (this shell, after exec) has stopped, however it stops, when no
# harness gave a private TMPDIR to remove: a watcher holding none of our file descriptors,
# which outlives the SIGTERM its process group gets.
( trap '' TERM INT HUP; while kill -0 $$ 2> /dev/null; do sleep 1; done; rm -rf "$work" ) \
  < /dev/null > /dev/null 2>&1 &
modules=/usr/lib/apache2/modules

# The answer to everyone admitted: a static file, sent as application/json (no ETag, no ranges).
printf '%s' '{"status":"ok"}' > "$work/ok.json"
chmod 644 "$work/ok.json"
user=
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$work"
  user="User www-data
Group www-data"
fi

# ErrorLog opens stderr again by name, which fails when it belongs to another user (a root
# shell's file, this run unprivileged); then the log goes to the folder instead.
errorlog=/dev/stderr
{ : >> /proc/self/fd/3; } 3>&2 2> /dev/null || errorlog=$work/error.log

case $phase in
  before) policy= ;;
  warning)
    policy=$(cat <<'APACHE'
Header set Deprecation "@1767225600" env=g1
Header set Sunset "Thu, 01 Jan 2026 00:00:00 GMT" env=sunset
Header set Link "</api/v2/>; rel=\"successor-version\"" env=g1
Header add Warning "299 - \"HTTP/1.0 is deprecated; use HTTP/1.1 before 2026-01-01\"" env=g2
Header add Warning "299 - \"requests without a User-Agent will be refused from 2026-01-01\"" env=g4
APACHE
)
    ;;
  cutoff)
    # Rules run in order and each refusal ends rewriting: G2, then G1, then G3, then G4.
    # An ErrorDocument string is sent as text/html; the refusals are text/plain as in nginx.sh.
    policy=$(cat <<'APACHE'
RewriteCond %{ENV:g2} =1
RewriteRule ^ - [R=505,L]
RewriteRule ^/api/v1/ - [G]
RewriteCond %{ENV:g3} =1
RewriteRule ^ - [R=426,L]
RewriteCond %{ENV:g4} =1
RewriteRule ^ - [F]
ErrorDocument 505 "HTTP/1.0 is no longer supported; use HTTP/1.1"
ErrorDocument 410 "API v1 was retired on 2026-01-01; use /api/v2/"
ErrorDocument 426 "This version of ExampleApp is no longer supported; please upgrade ExampleApp"
ErrorDocument 403 "Requests without a User-Agent are refused"
Header always set Content-Type text/plain "expr=%{REQUEST_STATUS} in {'403', '410', '426', '505'}"
APACHE
)
    ;;
  *) echo "unknown phase $phase (before, warning or cutoff)" >&2; exit 2 ;;
esac

cat > "$work/apache2.conf" <<CONF
ServerRoot $work
DefaultRuntimeDir $work
PidFile $work/apache2.pid
ErrorLog $errorlog
LogLevel crit
ServerName 127.0.0.1
Listen 127.0.0.1:$port
$user
LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule setenvif_module $modules/mod_setenvif.so
LoadModule rewrite_module $modules/mod_rewrite.so
LoadModule headers_module $modules/mod_headers.so

DocumentRoot $work
<Directory />
    Require all denied
    AllowOverride None
</Directory>
<Directory $work>
    Require all granted
</Directory>
FileETag None
MaxRanges none
Header unset Last-Modified
Header unset Accept-Ranges
# %2F in a path is decoded as nginx does, not refused with 404.
AllowEncodedSlashes On

SetEnvIf Request_Protocol "^HTTP/1\.0\$" g2
SetEnvIf User-Agent "ExampleApp/0*[0-2]([^0-9]|\$)" g3 sunset
SetEnvIf X-App-Version "^0*[0-2]([^0-9]|\$)" g3 sunset
SetEnvIf User-Agent "^\$" g4

RewriteEngine On
RewriteRule ^/api/v1/ - [E=g1:1,E=sunset:1]
$policy
RewriteRule ^ $work/ok.json [T=application/json,L]
CONF
exec "$(command -v apache2 || echo /usr/sbin/apache2)" -X -f "$work/apache2.conf"
