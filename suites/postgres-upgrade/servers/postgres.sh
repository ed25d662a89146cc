#!/usr/bin/env bash
# A real PostgreSQL server on 127.0.0.1:PORT under a named configuration:
#   bash servers/postgres.sh CONFIG PORT [MAJOR]      (bash servers/postgres.sh --versions)
#
#   permissive        no TLS; pg_hba `host all all 127.0.0.1/32 md5`; the password stored as MD5
#                     (password_encryption = md5), so the server asks for MD5 and every driver
#                     reaches authentication
#   scram-only        no TLS; password_encryption = scram-sha-256 and pg_hba
#                     `host all all 127.0.0.1/32 scram-sha-256`: drivers without SCRAM are locked out
#   hostssl-only      ssl = on (a self-signed certificate for CN=localhost); pg_hba
#                     `hostssl all all 127.0.0.1/32 scram-sha-256` and
#                     `hostnossl all all 127.0.0.1/32 reject`: drivers that do not ask for TLS
#                     are locked out ("no pg_hba.conf entry ... no encryption")
#   tls-optional      permissive with TLS offered: ssl = on, pg_hba `host ... md5`, MD5 password;
#                     sslmode=prefer drivers get 'S' and go on over TLS, others in the clear
#   md5-scram-stored  the state after an upgrade to PostgreSQL 14+ defaults: pg_hba still says md5
#                     but the password is stored as SCRAM, so the server asks for SCRAM anyway
#   password          no TLS; pg_hba `password` (cleartext), password stored as SCRAM
#   trust             no TLS; pg_hba `trust`: AuthenticationOk without a password
#   tls-split         ssl = on; over TLS the user `harness` gets into the database `harness`
#                     without a password (`hostssl harness harness 127.0.0.1/32 trust`) and every
#                     other database is refused (`hostssl all all 127.0.0.1/32 reject`), as is
#                     every connection in the clear: for judging decrypted TLS sessions
#
# The user `harness` with password `harness` owns the database `harness` (the superuser is
# `postgres`, reachable only over the Unix socket in the server's temporary folder). MAJOR picks
# /usr/lib/postgresql/MAJOR/bin (default: the newest installed; --versions lists them).
#
# Runs in the foreground, logging to stderr (log_connections = on, so each connection's
# "connection received", "connection authenticated ... method=" and "connection authorized"
# lines, and any FATAL, are there), from a copy of a cluster `initdb` made once per major
# version and password storage (md5 or scram) and kept in
# ${HARNESS_CACHE_DIR:-${TMPDIR:-/tmp}}/harness-pg-servers.UID (harness sets HARNESS_CACHE_DIR)
# (or $HARNESS_PG_STATE; untrusted if not this user's own or writable by others, and then made
# afresh each time). The first start takes about a second (initdb), later ones about 0.2 s
# (until the server listens, on an idle machine; a busy one may double that).
# The copy lives in a mktemp folder (data directory and Unix socket) in /dev/shm if it has room
# (256 MB free), else in ${TMPDIR:-/tmp} ($HARNESS_PG_RUN to choose), removed once the server has
# stopped. The script ends with `exec`, so its pid is the postmaster's: `kill PID` (SIGTERM,
# smart shutdown: waits for connected sessions to end) or `kill -INT PID` (fast shutdown: ends
# them) stops it, and nothing is left behind.
#
# HARNESS_PG_MAX_CONNECTIONS sets max_connections (default 100), to see a server at its limit
# answer 53300 "sorry, too many clients already".
#
# As root (CI), initdb and postgres run as the user $HARNESS_PG_USER, else `postgres` (made by
# Debian's postgresql package), else `nobody`, through `setpriv` (which execs: the pid stays the
# same); the server's folders are given to that user. As any other user they run as that user.
set -euo pipefail
export LC_ALL=C

usage='usage: postgres.sh permissive|scram-only|hostssl-only|tls-optional|md5-scram-stored|password|trust|tls-split PORT [MAJOR]'
versions() { # installed major versions, oldest first
  local dir
  for dir in /usr/lib/postgresql/*/bin/postgres; do
    [[ -x $dir ]] && basename "$(dirname "$(dirname "$dir")")"
  done | sort -n
}
if [[ ${1:-} == --versions ]]; then versions; exit 0; fi
config=${1:?$usage} port=${2:?$usage} major=${3:-$(versions | tail -1)}
[[ -n $major ]] || { echo "postgres.sh: no PostgreSQL server (apt-get install postgresql)" >&2; exit 2; }
bin=/usr/lib/postgresql/$major/bin
[[ -x $bin/postgres && -x $bin/initdb ]] || { echo "postgres.sh: no PostgreSQL $major in $bin (installed: $(versions | tr '\n' ' '))" >&2; exit 2; }

ssl=off
case $config in
  permissive) storage=md5 hba='host all all 127.0.0.1/32 md5' ;;
  scram-only) storage=scram-sha-256 hba='host all all 127.0.0.1/32 scram-sha-256' ;;
  hostssl-only)
    storage=scram-sha-256 ssl=on
    hba='hostssl all all 127.0.0.1/32 scram-sha-256
hostnossl all all 127.0.0.1/32 reject' ;;
  tls-optional) storage=md5 ssl=on hba='host all all 127.0.0.1/32 md5' ;;
  md5-scram-stored) storage=scram-sha-256 hba='host all all 127.0.0.1/32 md5' ;;
  password) storage=scram-sha-256 hba='host all all 127.0.0.1/32 password' ;;
  trust) storage=scram-sha-256 hba='host all all 127.0.0.1/32 trust' ;;
  tls-split)
    storage=scram-sha-256 ssl=on
    hba='hostssl harness harness 127.0.0.1/32 trust
hostssl all all 127.0.0.1/32 reject
hostnossl all all 127.0.0.1/32 reject' ;;
  *) echo "postgres.sh: unknown configuration $config" >&2; echo "$usage" >&2; exit 2 ;;
esac
[[ $port =~ ^[0-9]+$ ]] || { echo "$usage" >&2; exit 2; }

# Who runs initdb and postgres (both refuse root).
as_user=()
owner=$(id -un)
if [[ $(id -u) == 0 ]]; then
  owner=${HARNESS_PG_USER:-}
  if [[ -z $owner ]]; then
    if getent passwd postgres > /dev/null; then owner=postgres; else owner=nobody; fi
  fi
  getent passwd "$owner" > /dev/null || { echo "postgres.sh: no user $owner to run postgres as" >&2; exit 2; }
  as_user=(setpriv --reuid="$(id -u "$owner")" --regid="$(id -g "$owner")" --clear-groups --)
fi
give() { # give FILE...: to the user the server runs as
  if ((${#as_user[@]})); then chown -R "$owner:$(id -gn "$owner")" "$@"; fi
}
server_tmp() { # a fresh folder the server's user may use, in a place it can reach
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/harness-pg.XXXXXX")
  give "$dir"
  echo "$dir"
}

# This user's cache folder, trusted only if its own and writable by no one else.
state=${HARNESS_PG_STATE:-${HARNESS_CACHE_DIR:-${TMPDIR:-/tmp}}/harness-pg-servers.$(id -u)}
mkdir -p -m 700 "$state" 2> /dev/null || true
cleanup_state=
if ! [[ -d $state && ! -L $state && -O $state ]] || [[ -n $(find "$state" -maxdepth 0 -perm /022) ]]; then
  state=$(mktemp -d)
  cleanup_state=$state
fi

# The cached cluster: initdb, then the role and database made in single-user mode (no server,
# no port). Made in a fresh folder and renamed into place, so servers starting at once never
# see half of one. "v1" changes whenever what is made here changes.
template=$state/pg$major-$storage-$owner-v2
if [[ ! -f $template/complete ]]; then
  fresh=$(server_tmp)
  "${as_user[@]}" "$bin/initdb" -D "$fresh/data" -U postgres -A trust -E UTF8 --no-locale --no-sync --wal-segsize=1 \
    > "$fresh/initdb.log" 2>&1 || { cat "$fresh/initdb.log" >&2; rm -rf "$fresh"; exit 1; }
  "${as_user[@]}" "$bin/postgres" --single -D "$fresh/data" -F -c password_encryption="$storage" \
    -c log_min_messages=warning postgres > "$fresh/single.log" 2>&1 <<'SQL' || { cat "$fresh/single.log" >&2; rm -rf "$fresh"; exit 1; }
CREATE ROLE harness LOGIN PASSWORD 'harness';
CREATE DATABASE harness OWNER harness;
SQL
  if grep -q 'ERROR' "$fresh/single.log"; then cat "$fresh/single.log" >&2; rm -rf "$fresh"; exit 1; fi
  touch "$fresh/complete"
  mv -T "$fresh" "$template" 2> /dev/null || rm -rf "$fresh" # another start won the race: keep its copy
fi

# The self-signed certificate (for localhost, made for these tests only), once per cache folder.
if [[ $ssl == on && ! -f $state/tls/complete ]]; then
  fresh=$(mktemp -d "$state/.tls.XXXXXX")
  openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$fresh/server.key" -out "$fresh/server.crt" 2> "$fresh/openssl.log" \
    || { cat "$fresh/openssl.log" >&2; exit 1; }
  touch "$fresh/complete"
  mv -T "$fresh" "$state/tls" 2> /dev/null || rm -rf "$fresh"
fi

# This server's own copy, removed once the server (this shell, after its exec) has stopped by a
# watcher outside the server's process tree (a double fork: the postmaster would take an unknown
# child's exit for a crashed backend). In memory (/dev/shm) where there is room: copying the
# cluster there takes a tenth of the time it takes on a busy disk.
run_dir=${HARNESS_PG_RUN:-}
if [[ -z $run_dir ]]; then
  run_dir=${TMPDIR:-/tmp}
  if [[ -d /dev/shm && -w /dev/shm ]] && (($(df -Pk /dev/shm 2> /dev/null | awk 'NR == 2 { print $4 }') > 262144)); then
    run_dir=/dev/shm
  fi
fi
work=$(mktemp -d "$run_dir/harness-pg.XXXXXX")
pid=$$
( (
  trap - EXIT
  trap '' TERM INT HUP # the SIGTERM that stops the server's process group is not for it
  while kill -0 "$pid" 2> /dev/null; do sleep 0.5; done
  rm -rf "$work" ${cleanup_state:+"$cleanup_state"}
) < /dev/null > /dev/null 2>&1 & )
cp -a "$template/data" "$work/data"
if [[ $ssl == on ]]; then
  cp "$state/tls/server.crt" "$state/tls/server.key" "$work/data/"
  chmod 600 "$work/data/server.key"
fi
printf '# written by postgres.sh %s\nlocal all all trust\n%s\n' "$config" "$hba" > "$work/data/pg_hba.conf"
# postgresql.auto.conf is read after postgresql.conf: these settings win.
cat > "$work/data/postgresql.auto.conf" <<CONF
# written by postgres.sh $config $port
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work'
password_encryption = '$storage'
ssl = $ssl
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
log_connections = on
log_destination = 'stderr'
logging_collector = off
log_line_prefix = '%m [%p] '
log_min_messages = warning
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 16MB
max_connections = ${HARNESS_PG_MAX_CONNECTIONS:-100}
superuser_reserved_connections = $(( ${HARNESS_PG_MAX_CONNECTIONS:-100} > 3 ? 3 : 0 ))
max_wal_senders = 0
wal_level = minimal
huge_pages = off
CONF
give "$work"
exec "${as_user[@]}" "$bin/postgres" -D "$work/data"
