#!/usr/bin/env bash
# Turns each captures/postgres/DRIVER.pcap into the capture cases postgres-upgrade replays
# (DRIVER.captured.toml, DRIVER.connN.captured.toml for a driver that opened several connections),
# then declares what a recording cannot show (see declare below). make.sh runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/../import.sh" postgres "$here"

# declare CASE NAME VALUE: a [variables] entry in a capture case, before its messages.
declare_variable() {
  local case=$here/$1.captured.toml
  awk -v line="$2 = \"$3\"" '
    /^\[\[message\]\]/ && !done { print "[variables]"; print line; print ""; done = 1 }
    { print }' "$case" > "$case.new"
  mv "$case.new" "$case"
}

# pg8000 1.12 knows MD5 and cleartext passwords, not SCRAM ("Authentication method 10 not
# recognized"): its recording, made against an MD5 server, shows only the MD5 exchange.
declare_variable pg8000-1-12 client_methods "md5,password"
