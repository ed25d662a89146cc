#!/usr/bin/env bash
# One connection by the `mariadb` command-line client; prints `ok` or `error CODE MESSAGE`.
# usage: bash mariadb-cli.sh [OPTION...] HOST PORT USER PASSWORD DATABASE on|off
# OPTIONs go to the client as they are (--default-auth=PLUGIN, --plugin-dir=DIR, ...). TLS `on`
# is --ssl without checking the server's certificate, `off` --skip-ssl. Then `SELECT 1`.
set -euo pipefail
(($# >= 6)) || { echo "usage: mariadb-cli.sh [OPTION...] HOST PORT USER PASSWORD DATABASE on|off" >&2; exit 2; }
args=("$@")
n=${#args[@]}
options=("${args[@]:0:n-6}")
host=${args[n-6]} port=${args[n-5]} user=${args[n-4]} password=${args[n-3]} database=${args[n-2]} tls=${args[n-1]}
case $tls in
  on) options+=(--ssl --skip-ssl-verify-server-cert) ;;
  off) options+=(--skip-ssl) ;;
  *) echo "mariadb-cli.sh: TLS is on or off, not $tls" >&2; exit 2 ;;
esac
if out=$(MYSQL_PWD=$password mariadb --no-defaults "${options[@]}" --connect-timeout=10 -h "$host" -P "$port" \
  -u "$user" -N -B -e 'SELECT 1' "$database" 2>&1); then
  echo ok
else
  # "ERROR 1045 (28000): Access denied ..." or "ERROR 2059 (HY000): Plugin ... could not be loaded ..."
  sed -nE '1{s/^ERROR ([0-9]+) \([0-9A-Z]+\)(: | at line [0-9]+: )?(.*)$/error \1 \3/p;t;s/^/error - /p}' <<< "$out" | tr -s ' \t' ' '
fi
