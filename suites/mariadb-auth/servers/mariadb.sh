#!/usr/bin/env bash
# Debian's MariaDB server on 127.0.0.1:PORT under a named policy:
#   bash servers/mariadb.sh POLICY PORT        POLICY = today | transition | strict
#
#   today       every account on mysql_native_password; TLS offered, not required (the
#               server's default tls_version: TLSv1.1,TLSv1.2,TLSv1.3, where OpenSSL allows)
#   transition  `harness` moved to ed25519 (the greeting still names mysql_native_password,
#               then an AuthSwitchRequest to client_ed25519), `legacy` still on
#               mysql_native_password; TLS offered, not required; TLS 1.2 and later
#   strict      `harness` on ed25519, `legacy` retired (ACCOUNT LOCK: "4151 Access denied,
#               this account is locked"); require_secure_transport = ON (MariaDB 10.11 refuses a
#               connection in the clear with "1045 Access denied for user ...", after the
#               authentication exchange, not with MySQL's 3159); TLS 1.2 and later
#
# Accounts (both from any host, both with all privileges on the database `harness`):
#   harness / harness   mysql_native_password (today), ed25519 (transition, strict)
#   legacy  / harness   mysql_native_password (today, transition), locked (strict)
# root is reachable only through the Unix socket in the server's temporary folder.
#
# Its data directory (a copy of one made once, see below), Unix socket, pid file and a self-signed
# certificate for localhost (made at start) are in a mktemp folder, removed by a watcher once
# the server has gone; the line "mariadb.sh: POLICY on 127.0.0.1:PORT; certificate FILE" names
# the certificate, for a client that wants to trust it. Nothing under /etc/mysql or
# /var/lib/mysql is read or written (--no-defaults), no system service is started. The script
# ends with `exec mariadbd`, so its pid is the server's; the server logs to stderr (readiness
# line: "mariadbd: ready for connections."); SIGTERM to it (or its process group) shuts it down.
# As root (CI) it runs as root (--user=root); as any other user, as that user.
# HARNESS_MARIADB_MAX_CONNECTIONS sets max_connections (default 100), to see a server at its
# limit answer "1040 Too many connections".
set -euo pipefail
export LC_ALL=C
usage='usage: mariadb.sh today|transition|strict PORT'
policy=${1:?$usage} port=${2:?$usage}
[[ $port =~ ^[0-9]+$ ]] || { echo "$usage" >&2; exit 2; }
mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
[[ -x $mariadbd ]] || { echo "mariadb.sh: no MariaDB server (apt-get install mariadb-server)" >&2; exit 2; }
command -v mariadb-install-db > /dev/null || { echo "mariadb.sh: no mariadb-install-db (apt-get install mariadb-server)" >&2; exit 2; }

# The accounts' SQL per policy, and the server options that differ.
native="IDENTIFIED VIA mysql_native_password USING PASSWORD('harness')"
ed25519="IDENTIFIED VIA ed25519 USING PASSWORD('harness')"
case $policy in
  today) harness=$native legacy=$native lock= options=() ;;
  transition) harness=$ed25519 legacy=$native lock= options=(--tls-version=TLSv1.2,TLSv1.3) ;;
  strict)
    harness=$ed25519 legacy=$native lock='ACCOUNT LOCK'
    options=(--tls-version=TLSv1.2,TLSv1.3 --require-secure-transport=ON) ;;
  *) echo "mariadb.sh: unknown policy $policy" >&2; echo "$usage" >&2; exit 2 ;;
esac
user=()
[[ $(id -u) == 0 ]] && user=(--user=root) # mariadbd refuses to run as root unless told to

work=$(mktemp -d "${TMPDIR:-/tmp}/harness-mariadb.XXXXXX")
pid=$$
( (
  trap - EXIT
  trap '' TERM INT HUP # the SIGTERM that stops the server's process group is not for the watcher
  while kill -0 "$pid" 2> /dev/null; do sleep 0.5; done
  rm -rf "$work"
) < /dev/null > /dev/null 2>&1 & )

# Small InnoDB files: each server gets its own copy of the data directory, thrown away after.
innodb=(--innodb-log-file-size=4M --innodb-buffer-pool-size=16M
  --innodb-data-file-path=ibdata1:4M:autoextend --innodb-flush-log-at-trx-commit=0)

# The data directory mariadb-install-db makes (about 3 s) is made once and kept in
# ${HARNESS_CACHE_DIR:-${TMPDIR:-/tmp}}/harness-mariadb.UID (or $HARNESS_MARIADB_STATE), trusted
# only if this user's own and writable by no one else (else made afresh each time); made in a
# fresh folder and renamed into place, so servers starting at once never see half of one. "v1"
# changes whenever what is made here changes.
state=${HARNESS_MARIADB_STATE:-${HARNESS_CACHE_DIR:-${TMPDIR:-/tmp}}/harness-mariadb.$(id -u)}
mkdir -p -m 700 "$state" 2> /dev/null || true
if ! [[ -d $state && ! -L $state && -O $state ]] || [[ -n $(find "$state" -maxdepth 0 -perm /022) ]]; then
  state=$work/state
  mkdir "$state"
fi
template=$state/$(basename "$mariadbd")-$("$mariadbd" --version | awk '{ print $3 }')-v1
if [[ ! -f $template/complete ]]; then
  fresh=$(mktemp -d "$state/.install.XXXXXX")
  if ! mariadb-install-db --no-defaults "${user[@]}" --datadir="$fresh/data" --skip-test-db \
    --auth-root-authentication-method=socket --skip-name-resolve "${innodb[@]}" > "$work/install.log" 2>&1; then
    rm -rf "$fresh"
    echo "mariadb.sh: mariadb-install-db failed; its log ($work/install.log):" >&2
    cat "$work/install.log" >&2
    exit 1
  fi
  touch "$fresh/complete"
  mv -T "$fresh" "$template" 2> /dev/null || rm -rf "$fresh" # another start won the race: keep its copy
fi
cp -a "$template/data" "$work/data"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2> "$work/openssl.log" || { cat "$work/openssl.log" >&2; exit 1; }

# Run by the server at start, before it takes connections.
cat > "$work/init.sql" <<SQL
CREATE DATABASE IF NOT EXISTS harness;
CREATE USER 'harness'@'%' $harness;
CREATE USER 'legacy'@'%' $legacy $lock;
GRANT ALL ON harness.* TO 'harness'@'%', 'legacy'@'%';
SQL

echo "mariadb.sh: $policy on 127.0.0.1:$port; certificate $work/cert.pem" >&2
exec "$mariadbd" --no-defaults "${user[@]}" --datadir="$work/data" --socket="$work/mariadb.sock" \
  --pid-file="$work/mariadbd.pid" --bind-address=127.0.0.1 --port="$port" --skip-name-resolve \
  --plugin-load-add=auth_ed25519 --init-file="$work/init.sql" \
  --ssl-cert="$work/cert.pem" --ssl-key="$work/key.pem" \
  --max-connections="${HARNESS_MARIADB_MAX_CONNECTIONS:-100}" --log-warnings=2 \
  --skip-log-bin --performance-schema=OFF "${innodb[@]}" "${options[@]}"
