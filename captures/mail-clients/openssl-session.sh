#!/usr/bin/env bash
# One session typed through `openssl s_client -starttls PROTOCOL`, as a person testing a mail
# server by hand does: s_client negotiates STARTTLS itself, then this types the commands, half a
# second apart, and reads the replies.
#   bash openssl-session.sh smtp|imap|pop3 HOST PORT [S_CLIENT_OPTION...]
# smtp: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT; imap: LOGIN, EXAMINE INBOX, LOGOUT; pop3: USER,
# PASS, STAT, QUIT, all as harness/harness. The TLS keys go to $SSLKEYLOGFILE if it is set.
# Prints "sent" / "logged in" and exits 0 if the server took it all, else prints the first
# refusal (or s_client's own error) and exits 1.
set -uo pipefail
protocol=$1 host=$2 port=$3
shift 3
case $protocol in
  smtp) lines=("EHLO client.harness.test" "AUTH PLAIN $(printf '\0harness\0harness' | base64)"
    "MAIL FROM:<harness@harness.test>" "RCPT TO:<someone@example.test>" "DATA"
    "Subject: harness" "" "hello" "." "QUIT")
    ok='^250 2\.0\.0 Ok: queued' refusal='^[45][0-9][0-9][ -]' done=sent ;;
  imap) lines=("a1 LOGIN harness harness" "a2 EXAMINE INBOX" "a3 LOGOUT")
    ok='^a2 OK' refusal='^a[0-9] (NO|BAD)' done='logged in' ;;
  pop3) lines=("USER harness" "PASS harness" "STAT" "QUIT")
    ok='^\+OK [0-9]+ [0-9]+' refusal='^-ERR' done='logged in' ;;
  *) echo "usage: openssl-session.sh smtp|imap|pop3 HOST PORT [OPTION...]" >&2; exit 2 ;;
esac
keylog=()
[[ -n ${SSLKEYLOGFILE:-} ]] && keylog=(-keylogfile "$SSLKEYLOGFILE")
output=$(
  {
    sleep 1
    for line in "${lines[@]}"; do printf '%s\n' "$line"; sleep 0.5; done
    sleep 0.5
  } | openssl s_client -starttls "$protocol" -connect "$host:$port" -crlf -quiet -ign_eof "${keylog[@]}" "$@" 2>&1
)
printf '%s\n' "$output" | tr -d '\r' > "${TMPDIR:-/tmp}/openssl-session.$$"
trap 'rm -f "${TMPDIR:-/tmp}/openssl-session.$$"' EXIT
if grep -qE "$ok" "${TMPDIR:-/tmp}/openssl-session.$$"; then
  echo "$done"
  exit 0
fi
said=$(grep -m1 -E "$refusal" "${TMPDIR:-/tmp}/openssl-session.$$" ||
  grep -m1 -iE 'error|alert|fail|didn|unable' "${TMPDIR:-/tmp}/openssl-session.$$" ||
  tail -1 "${TMPDIR:-/tmp}/openssl-session.$$")
echo "${said:-no reply}"
exit 1
