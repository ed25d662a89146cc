#!/usr/bin/env bash
# Makes captured/ again from captures/mysql: one capture case per real driver and TLS setting,
# from its login under the `today` policy (every driver got in there), imported with its TLS
# key log where the driver wrote one. What a recording cannot show is declared in each case's
# [variables], from what the same driver got live (captures/mysql/results.tsv):
#   client_plugins  client_ed25519 beside mysql_native_password when the driver logged in to
#                   the transition policy's ed25519 account with the same TLS setting
#   ssl_mode        required for the tls-on login, disabled for the tls-off one
# Run from anywhere after captures/mysql/make.sh: bash suites/mariadb-auth/import.sh
# (HARNESS names the binary; default: harness on the PATH, else the repository's release build).
set -euo pipefail
export LC_ALL=C
suite=$(cd "$(dirname "$0")" && pwd)
captures=$(cd "$suite/../../captures/mysql" && pwd)
harness=${HARNESS:-$(command -v harness || echo "$suite/../../target/release/harness")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$suite/captured"
mkdir -p "$suite/captured"
outcome() { # DRIVER POLICY TLS: what the driver got (ok, or error ...)
  awk -F'\t' -v d="$1" -v p="$2" -v t="$3" '$1 == d && $3 == p && $4 == "harness" && $5 == t { print $6 }' \
    "$captures/results.tsv"
}
for pcap in "$captures"/*.today.harness.tls-*.pcap; do
  base=$(basename "$pcap" .pcap)
  driver=${base%%.today.*}
  tls=${base##*.tls-}
  port=$(tcpdump -nn -r "$pcap" 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2> /dev/null |
    head -1 | sed -E 's/.* > [0-9.]+\.([0-9]+):.*/\1/')
  keys=()
  [[ -f $captures/$base.keys ]] && keys=(--keylog "$captures/$base.keys")
  rm -rf "$work/out"
  "$harness" import --dialect mysql --port "$port" "${keys[@]}" --out "$work/out" "$pcap" > /dev/null
  imported=("$work"/out/*.toml)
  [[ ${#imported[@]} == 1 ]] || { echo "import.sh: $pcap holds ${#imported[@]} sessions, not one" >&2; exit 1; }
  plugins=mysql_native_password
  [[ $(outcome "$driver" transition "$tls") == ok ]] && plugins+=,client_ed25519
  mode=disabled
  [[ $tls == on ]] && mode=required
  case=$suite/captured/$driver.tls-$tls.toml
  sed -E "0,/^\[capture\]$/s//[capture]\nname = \"$driver, TLS $tls\"/" "${imported[0]}" > "$case"
  printf '\n# What the recording cannot show, from what %s got live (captures/mysql/results.tsv).\n[variables]\nclient_plugins = "%s"\nssl_mode = "%s"\n' \
    "$driver" "$plugins" "$mode" >> "$case"
done
echo "import.sh: $(ls "$suite/captured" | wc -l) capture cases in $suite/captured"
