#!/usr/bin/env bash
# compare-testssl.sh: ground truth from testssl.sh's client simulation, for comparing with
# harness's TLS client verdicts.
#
# For each policy of captures/tls/testssl/servers/openssl.sh (openssl s_server on 127.0.0.1) it
# starts the server on a free port, waits until the port accepts, runs testssl's client
# simulation of ALL 162 clients of /etc/testssl/client-simulation.txt against it, stops the
# server, and writes testssl-results.tsv next to this script (tab separated, one header line,
# rows sorted by policy then client, LC_ALL=C order). Columns:
#   client        the client's `short` name (testssl's JSON/CSV id is clientsimulation-<short>)
#   policy        the server policy
#   connects      yes / no (testssl printed a protocol + cipher / "No connection")
#   version       SSLv3, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3 (testssl prints TLSv1.0; renamed to
#                 the OpenSSL/IANA spelling TLSv1); empty when no
#   cipher        IANA name (testssl --mapping iana), empty when no
#   dh_bits       size of the finite-field DH group (TLS 1.2 DHE ServerKeyExchange, or an
#                 ffdhe key share in TLS 1.3), the value testssl compares with minDhBits and
#                 maxDhBits; empty when the key exchange was ECDHE or RSA, or when no
#   key_exchange  (extra column) testssl's own words for the key exchange, e.g.
#                 "253 bit ECDH (X25519)", "256 bit ECDH (P-256)", "1024 bit DH", "No FS";
#                 empty when no
# testssl's JSON/CSV findings hold only "PROTO CIPHER" or "No connection", so dh_bits and
# key_exchange come from its plain-text output (one line per client, in file order).
#
# testssl: Debian package testssl.sh 3.0.8+dfsg-1 (/usr/bin/testssl, "testssl 3.0.8"), with
# OpenSSL 3.0.19 (Debian 12). The command line, per policy (PORT chosen free at run time):
#   ALL_CLIENTS=true testssl --quiet --color 0 --warnings off --nodns none \
#     --openssl /usr/bin/openssl --mapping iana --client-simulation \
#     --csvfile DIR/POLICY.csv 127.0.0.1:PORT > DIR/POLICY.txt
# ALL_CLIENTS=true (environment only; there is no flag) makes testssl simulate every client,
# not only the ones with current+=(true). The target is the IP 127.0.0.1, so testssl sets
# SNI="" and strips the server_name extension from every recorded ClientHello (a host name
# would instead be written into it). --nodns none skips the rDNS lookup of 127.0.0.1 (it
# cannot be combined with --ip one, which is moot for an IP target anyway). The server's -www
# answers testssl's HTTP probe, so the service is "HTTP" and every client's service field
# (HTTP..., ANY) matches.
#
# Run: bash captures/tls/testssl/compare-testssl.sh [POLICY...]   (default: all policies; the
# rows of policies not named are kept)
# Needs testssl, openssl, bash; makes only loopback connections.
# Last run (2 cores, 2026-11-27): 13 min 1 s in all (user 3m37s, sys 2m24s); testssl time
# per policy and clients connecting / not (of 162):
#   dh1024 81 s 111/51   dh2048 100 s 109/53   ecdsa 84 s 120/42   legacy 104 s 159/3
#   modern 88 s 108/54   p384 88 s 120/42      rsa1024 84 s 159/3  sha1cert 71 s 120/42
#   tls13 72 s 30/132
# A run prints the same report on stderr at its end.
set -euo pipefail
LC_ALL=C; export LC_ALL
here=$(cd "$(dirname "$0")" && pwd)
server="$here/servers/openssl.sh"
out="$here/testssl-results.tsv"
clients=/etc/testssl/client-simulation.txt
policies=("$@")
[[ ${#policies[@]} -gt 0 ]] || policies=(dh1024 dh2048 ecdsa legacy modern p384 rsa1024 sha1cert tls13)

tmp=$(mktemp -d /tmp/compare-testssl.XXXXXX)
spid=""
cleanup() {
  if [[ -n $spid ]] && kill -0 "$spid" 2>/dev/null; then kill "$spid"; wait "$spid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The clients, in file order: short names and display names (the text output is keyed by name).
# shellcheck disable=SC1090
mapfile -t shorts < <(SNI=""; . "$clients"; printf '%s\n' "${short[@]}")
# shellcheck disable=SC1090
mapfile -t names < <(SNI=""; . "$clients"; printf '%s\n' "${names[@]}")
[[ ${#shorts[@]} -eq ${#names[@]} ]] || { echo "client file: ${#shorts[@]} short names, ${#names[@]} names" >&2; exit 1; }

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

rows="$tmp/rows.tsv"
: > "$rows"
report=""
for policy in "${policies[@]}"; do
  port=$(free_port)
  bash "$server" "$policy" "$port" 2> "$tmp/$policy.server.log" &
  spid=$!
  up=false
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=true; break; fi
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  $up || { echo "server for $policy did not start:" >&2; cat "$tmp/$policy.server.log" >&2; exit 1; }

  start=$SECONDS
  ALL_CLIENTS=true timeout 1800 testssl --quiet --color 0 --warnings off --nodns none \
    --openssl /usr/bin/openssl --mapping iana --client-simulation \
    --csvfile "$tmp/$policy.csv" "127.0.0.1:$port" > "$tmp/$policy.txt" 2> "$tmp/$policy.err" || {
      echo "testssl failed for $policy (rc $?):" >&2; tail "$tmp/$policy.err" "$tmp/$policy.txt" >&2; exit 1; }
  took=$((SECONDS - start))
  kill -0 "$spid" 2>/dev/null || { echo "server for $policy died during the run" >&2; exit 1; }
  kill "$spid"; wait "$spid" 2>/dev/null || true; spid=""

  # findings: short -> "PROTO CIPHER" or "No connection"
  declare -A finding=()
  while IFS=$'\t' read -r id f; do finding[$id]=$f; done < <(
    awk -F'","' '$1 ~ /^"clientsimulation-/ { id=$1; sub(/^"clientsimulation-/, "", id); print id "\t" $5 }' "$tmp/$policy.csv")
  yes=0 no=0
  for i in "${!shorts[@]}"; do
    s=${shorts[i]} name=${names[i]}
    f=${finding[$s]-}
    [[ -n $f ]] || { echo "$policy: no finding for $s" >&2; exit 1; }
    prefix=" $(printf -- '%-29s' "$name")"
    line=$(grep -F -m1 -- "$prefix" "$tmp/$policy.txt" || true)
    [[ -n $line ]] || { echo "$policy: no text line for $name" >&2; exit 1; }
    rest=${line:${#prefix}}
    if [[ $f == "No connection" ]]; then
      [[ $rest == "No connection"* ]] || { echo "$policy/$s: CSV says no, text says '$rest'" >&2; exit 1; }
      printf '%s\t%s\tno\t\t\t\t\n' "$s" "$policy" >> "$rows"; no=$((no + 1))
      continue
    fi
    read -r ver cipher _ <<< "$f"
    [[ $ver == TLSv1.0 ]] && ver=TLSv1
    kx=${rest#*, }
    kx=$(sed -e 's/  */ /g' -e 's/ *$//' <<< "$kx")
    [[ $rest == *"$cipher, "* ]] || { echo "$policy/$s: CSV '$f' vs text '$rest'" >&2; exit 1; }
    dh=""
    [[ $kx =~ ^([0-9]+)\ bit\ DH ]] && dh=${BASH_REMATCH[1]}
    printf '%s\t%s\tyes\t%s\t%s\t%s\t%s\n' "$s" "$policy" "$ver" "$cipher" "$dh" "$kx" >> "$rows"; yes=$((yes + 1))
  done
  unset finding
  report+=$(printf '%-9s %4ss  connects %3d  no connection %3d' "$policy" "$took" "$yes" "$no")$'\n'
  echo "$policy done in ${took}s: $yes connect, $no do not" >&2
done

# Policies not run this time keep their rows.
if [[ -f $out ]]; then
  tail -n +2 "$out" | awk -F'\t' -v run=" ${policies[*]} " 'index(run, " " $2 " ") == 0' >> "$rows"
fi
{ printf 'client\tpolicy\tconnects\tversion\tcipher\tdh_bits\tkey_exchange\n'; sort -t $'\t' -k2,2 -k1,1 "$rows"; } > "$out.new"
mv -f "$out.new" "$out"
printf '%s' "$report" >&2
echo "wrote $out ($(($(wc -l < "$out") - 1)) rows)" >&2
