# shellcheck shell=bash
# Sourced by captures/smtp/make.sh and captures/imap/make.sh (and captures/pop3/make.sh): runs
# real mail clients one at a time against a real server started by a suite's server script,
# capturing each client's connection(s) on loopback and keeping, as ground truth, what the client
# said and what the server logged. Set before sourcing:
#   out        the captures folder (absolute)
#   work       a scratch folder the caller removes
#   protocol   smtp, imap or pop3 (for mail-summary.py)
# Then:
#   start_server SCRIPT POLICY PORT [ARG...]  the script in a process group of its own (as the
#                                   harness starts a command target), until it listens on
#                                   127.0.0.1:PORT; its stderr in $work/server.log
#   stop_server                     SIGTERM to that group; fails if anything in it is left
#   capture NAME POLICY COMMAND     runs COMMAND (bash, with $PORT and $clients set) under
#                                   tcpdump on loopback: $out/NAME.POLICY.pcap (and
#                                   NAME.POLICY.keys, the TLS keys, if the client logged any
#                                   through SSLKEYLOGFILE); appends a row to $work/results.tsv
#                                   (with what the pcap shows in the clear: mail-summary.py);
#                                   NAME.POLICY to capture_missed if no connection was captured
#   results_table                   $work/results.tsv as a Markdown table
#   server_certificate              (in a COMMAND) the running server's certificate file
# Each caller defines server_summary LOGFILE: the server's log lines about one session, one line.
set -euo pipefail
export LC_ALL=C
captures_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
clients=$captures_dir/mail-clients
client_timeout=60
server_pid=
capture_missed=()

# The certificate the running server made for itself, from the line its script logs, for a
# client that must be told to trust it (Mutt): run in $work, where server.log is.
server_certificate() {
  sed -nE 's/.*; certificate ([^ )]+)\)?$/\1/p' server.log | tail -1
}
export -f server_certificate

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_server() {
  local script=$1 policy=$2 port=$3
  shift 3
  : > "$work/server.log"
  set -m # a background job in its own process group, as the harness starts a server script
  bash "$script" "$policy" "$port" "$@" 2> "$work/server.log" > /dev/null < /dev/null &
  server_pid=$!
  set +m
  local _
  for _ in $(seq 300); do
    if [[ -n $(ss -Hltn "src 127.0.0.1 and sport = :$port") ]]; then return 0; fi
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.1
  done
  echo "$script $policy did not start on 127.0.0.1:$port; its log:" >&2
  cat "$work/server.log" >&2
  return 1
}

stop_server() {
  local _
  kill -TERM -- "-$server_pid" 2> /dev/null || true
  wait "$server_pid" 2> /dev/null || true
  for _ in $(seq 100); do
    pgrep -g "$server_pid" > /dev/null || { server_pid=; return 0; }
    sleep 0.1
  done
  echo "left running after SIGTERM: $(pgrep -a -g "$server_pid")" >&2
  return 1
}

# One line of a client's words: its last non-empty line (each client here ends with its result:
# "sent", "INBOX: 0 messages", or the error that stopped it), and the line before too if it
# failed (msmtp, s-nail and fetchmail end on "could not send mail" and the like, with the reason
# just before); tabs and carriage returns made spaces, at most 300 characters.
client_summary() {
  local lines=1
  [[ $2 == 0 ]] || lines=2
  grep -v '^\s*$' "$1" | tail -"$lines" | tr '\t\r' '  ' | awk 'BEGIN { ORS = "" } { if (NR > 1) print " / "; print }' | cut -c1-300 || true
}

capture() {
  local name=$1 policy=$2 command=$3 attempt
  # tcpdump on a busy machine now and then misses a whole short session: then the session is
  # run again, at most twice, so every pcap holds its client's connection.
  for attempt in 1 2 3; do
    if capture_once "$name" "$policy" "$command"; then return 0; fi
    echo "$name $policy: no connection captured (attempt $attempt)" >&2
    if ((attempt < 3)); then sed -i '$ d' "$work/results.tsv"; fi
  done
  capture_missed+=("$name.$policy")
}

capture_once() {
  local name=$1 policy=$2 command=$3
  local pcap=$out/$name.$policy.pcap keys=$out/$name.$policy.keys _
  rm -f "$pcap" "$keys" "$work/keys"
  # Only the client's side: Dovecot's forwarder talks to 127.0.0.2.
  tcpdump -i lo -U --immediate-mode -B 16384 -w "$pcap" "tcp port $PORT and not host 127.0.0.2" 2> "$work/tcpdump.log" &
  local tcpdump_pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$work/tcpdump.log" && break; sleep 0.1; done
  sleep 0.2
  local seen
  seen=$(wc -c < "$work/server.log")
  local status=0
  (cd "$work" && SSLKEYLOGFILE=$work/keys NODE_OPTIONS="--tls-keylog=$work/keys" PORT=$PORT clients=$clients \
    timeout "$client_timeout" bash -c "$command") < /dev/null > "$work/client.log" 2>&1 || status=$?
  sleep 0.7 # the server's last log lines, and the last segments, after the client has gone
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" 2> /dev/null || true
  [[ -s $work/keys ]] && cp "$work/keys" "$keys"
  tail -c +$((seen + 1)) "$work/server.log" > "$work/session.log"
  local wire captured=0
  wire=$(python3 "$captures_dir/mail-summary.py" "$protocol" "$pcap") || captured=1
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$policy" "$command" "$status" \
    "$(client_summary "$work/client.log" "$status")" "$(server_summary "$work/session.log")" "$wire" >> "$work/results.tsv"
  printf '%-34s %-10s exit %-3s %s\n' "$name" "$policy" "$status" "$(client_summary "$work/client.log" "$status" | cut -c1-80)" >&2
  return $captured
}

results_table() {
  echo '| client | policy | command | exit | the client said | the server logged | on the wire, in the clear |'
  echo '| --- | --- | --- | --- | --- | --- | --- |'
  awk -F'\t' '{
    for (i = 1; i <= NF; i++) gsub(/\|/, "\\|", $i)
    printf "| %s | %s | `%s` | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7
  }' "$work/results.tsv"
}
