#!/usr/bin/env bash
# Checks the server scripts: starts sshd.sh and dropbear.sh under each policy on a free
# loopback port and connects the OpenSSH client to each with its defaults and with a few
# old or narrow algorithm settings, then prints one row per (server, policy, client settings):
# whether key exchange completed (the server's key-exchange reply reached the client), the
# negotiated kex, host key, cipher and MAC (from `ssh -vv`) and, if it did not, the client's
# message. Authentication always fails (user "test", no keys, BatchMode): only key exchange
# matters. Exits 1 if a server did not start, or if some policy of a server gives no row that
# differs from that server's other policies.
#   bash suites/ssh-hardening/servers/check.sh [--tsv FILE]
# Needs openssh-server, openssh-client and dropbear-bin; about 10 s.
set -euo pipefail
export LC_ALL=C
servers_dir=$(cd "$(dirname "$0")" && pwd)
tsv=
if [[ ${1:-} == --tsv ]]; then tsv=${2:?--tsv FILE}; fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_listening PORT PID: until something listens on 127.0.0.1:PORT (without connecting to
# it, so the server logs no stray connection), at most 10 s, or the server PID has died
wait_listening() {
  local port=$1 pid=$2 i
  for i in $(seq 200); do
    if command -v ss > /dev/null; then
      [[ -n $(ss -Hltn "sport = :$port") ]] && return 0
    elif (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      return 0
    fi
    kill -0 "$pid" 2> /dev/null || return 1
    sleep 0.05
  done
  return 1
}

# name|ssh options: the client settings tried against every server
client_settings=(
  "default|"
  "legacy (group1, ssh-rsa, aes128-cbc, hmac-sha1)|-o KexAlgorithms=diffie-hellman-group1-sha1 -o HostKeyAlgorithms=ssh-rsa -o Ciphers=aes128-cbc -o MACs=hmac-sha1"
  "sha1-era (group14-sha1, ssh-rsa, aes128-ctr, hmac-sha1)|-o KexAlgorithms=diffie-hellman-group14-sha1 -o HostKeyAlgorithms=ssh-rsa -o Ciphers=aes128-ctr -o MACs=hmac-sha1"
  "kex diffie-hellman-group1-sha1|-o KexAlgorithms=diffie-hellman-group1-sha1"
  "kex diffie-hellman-group14-sha1|-o KexAlgorithms=diffie-hellman-group14-sha1"
  "kex diffie-hellman-group-exchange-sha1|-o KexAlgorithms=diffie-hellman-group-exchange-sha1"
  "kex diffie-hellman-group-exchange-sha256|-o KexAlgorithms=diffie-hellman-group-exchange-sha256"
  "kex ecdh-sha2-nistp256|-o KexAlgorithms=ecdh-sha2-nistp256"
  "hostkey ssh-rsa|-o HostKeyAlgorithms=ssh-rsa"
  "hostkey ssh-dss|-o HostKeyAlgorithms=ssh-dss"
  "hostkey ecdsa-sha2-nistp256|-o HostKeyAlgorithms=ecdsa-sha2-nistp256"
  "cipher aes128-cbc|-o Ciphers=aes128-cbc"
  "cipher 3des-cbc|-o Ciphers=3des-cbc"
  "aes128-ctr + hmac-sha2-256 (no EtM)|-o Ciphers=aes128-ctr -o MACs=hmac-sha2-256"
  "aes128-ctr + hmac-md5|-o Ciphers=aes128-ctr -o MACs=hmac-md5"
)

# parse_log FILE: completed, kex, hostkey, cipher, mac, error (tab-separated) from ssh -vv
parse_log() {
  awk '
    { sub(/\r$/, "") } # ssh ends its log lines with CR LF
    /kex: algorithm: / { kex = ($0 ~ /\(no match\)/) ? "" : $NF }
    /kex: host key algorithm: / { hostkey = ($0 ~ /\(no match\)/) ? "" : $NF }
    /kex: client->server cipher: / { cipher = $5; mac = $7 }
    /SSH2_MSG_KEX(DH|_ECDH|_DH_GEX)_REPLY received/ { reply = 1 }
    /expecting SSH2_MSG_KEX/ { expecting = 1 }
    /SSH2_MSG_NEWKEYS received/ { if (expecting) reply = 1 }
    /Unable to negotiate|no matching|Connection closed|Connection reset|Connection refused|Bad server host key|kex_exchange_identification|ssh_dispatch_run_fatal|Timeout|timed out/ {
      if (error == "") {
        error = $0; sub(/^debug[0-9]: /, "", error); sub(/ Their offer: .*/, "", error)
        sub(/Unable to negotiate with [^:]*: /, "", error); sub(/ by 127\.0\.0\.1 port [0-9]+/, "", error)
      }
    }
    END {
      printf "%s\t%s\t%s\t%s\t%s\t%s\n", (reply ? "yes" : "no"), (kex ? kex : "-"), (hostkey ? hostkey : "-"),
        (cipher ? cipher : "-"), (mac ? mac : "-"), (reply ? "" : (error ? error : "(no message)"))
    }' "$1"
}

rows=$work/rows.tsv
: > "$rows"
failed=0
start=$(date +%s.%N)
for server in sshd dropbear; do
  for policy in legacy default hardened; do
    port=$(free_port)
    t0=$(date +%s.%N)
    bash "$servers_dir/$server.sh" "$policy" "$port" > "$work/$server-$policy.log" 2>&1 &
    server_pid=$!
    if ! wait_listening "$port" "$server_pid"; then
      echo "$server $policy did not start on 127.0.0.1:$port; its output:" >&2
      cat "$work/$server-$policy.log" >&2
      failed=1
      kill "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true; server_pid=
      continue
    fi
    printf '%s %s listening after %.2f s\n' "$server" "$policy" "$(echo "$(date +%s.%N) - $t0" | bc)" >&2
    for setting in "${client_settings[@]}"; do
      name=${setting%%|*} opts=${setting#*|}
      # shellcheck disable=SC2086 # $opts is a list of options
      timeout 20 ssh -vv -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o ConnectTimeout=10 $opts -p "$port" test@127.0.0.1 true < /dev/null > "$work/client.log" 2>&1 || true
      printf '%s\t%s\t%s\t%s\n' "$server" "$policy" "$name" "$(parse_log "$work/client.log")" >> "$rows"
    done
    kill "$server_pid"
    wait "$server_pid" 2> /dev/null || true
    server_pid=
  done
done

{
  printf 'server\tpolicy\tclient settings\tkex completed\tkex\thost key\tcipher\tmac\tfailure\n'
  cat "$rows"
} > "$work/table.tsv"
[[ -n $tsv ]] && cp "$work/table.tsv" "$tsv"
# a fixed-width table: every column as wide as its widest cell
awk -F'\t' '
  { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > width[i]) width[i] = length($i) } n = NR; if (NF > cols) cols = NF }
  END { for (r = 1; r <= n; r++) { line = ""; for (i = 1; i <= cols; i++) line = line sprintf(i < cols ? "%-" width[i] "s  " : "%s", cell[r, i]); sub(/ +$/, "", line); print line } }
' "$work/table.tsv"

# Each policy of a server must answer some client settings differently from each other policy.
for server in sshd dropbear; do
  for pair in "legacy default" "default hardened" "legacy hardened"; do
    read -r a b <<< "$pair"
    if ! diff -q <(awk -F'\t' -v s="$server" -v p="$a" '$1 == s && $2 == p { print $3, $4 }' "$rows") \
      <(awk -F'\t' -v s="$server" -v p="$b" '$1 == s && $2 == p { print $3, $4 }' "$rows") > /dev/null; then
      :
    else
      echo "$server: policies $a and $b admit the same client settings" >&2
      failed=1
    fi
  done
done
printf 'checked in %.1f s\n' "$(echo "$(date +%s.%N) - $start" | bc)" >&2
exit $failed
