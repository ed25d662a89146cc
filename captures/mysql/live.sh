#!/usr/bin/env bash
# The real drivers of captures/mysql/common.sh, run LIVE against a MySQL/MariaDB server that is
# already running, each once per account worth trying under POLICY and with TLS off and on; the
# ground truth for a live test of the harness's verdicts. Prints a TSV on stdout:
#   driver   policy   user   tls (on|off)   outcome (`ok`, or `error CODE MESSAGE` as the driver
#                                           reported it: CODE `-` where it gave none)
# usage: bash captures/mysql/live.sh HOST:PORT POLICY [DRIVER...]
# POLICY (today, transition or strict: the policy suites/mariadb-auth/servers/mariadb.sh was
# started with) chooses the accounts (today: harness; transition and strict: harness and legacy,
# password harness, database harness); DRIVERs limit the run to those (default: all; --list
# lists them). Needs no root and no tcpdump; about a minute for all drivers under one policy.
set -euo pipefail
export LC_ALL=C
usage='usage: live.sh HOST:PORT today|transition|strict [DRIVER...]   (live.sh --list)'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(cd "$(dirname "$0")" && pwd)/common.sh"
if [[ ${1:-} == --list ]]; then printf '%s\n' "${mysql_drivers[@]}"; exit 0; fi
address=${1:?$usage} policy=${2:?$usage}
shift 2
[[ $address =~ ^([^:]+):([0-9]+)$ ]] || { echo "$usage" >&2; exit 2; }
host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
case $policy in today | transition | strict) ;; *) echo "$usage" >&2; exit 2 ;; esac
drivers=("$@")
((${#drivers[@]})) || drivers=("${mysql_drivers[@]}")
for name in "${drivers[@]}"; do
  driver_command "$name" > /dev/null || exit 2
done

printf 'driver\tpolicy\tuser\ttls\toutcome\n'
for name in "${drivers[@]}"; do
  for user in $(policy_users "$policy"); do
    for tls in off on; do
      printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$policy" "$user" "$tls" "$(run_driver "$name" "$host" "$port" "$user" "$tls" < /dev/null)"
    done
  done
done
