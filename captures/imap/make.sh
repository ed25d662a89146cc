#!/usr/bin/env bash
# How captures/imap was made, and how to make it again: Dovecot under each policy of
# suites/imap-dovecot/servers/dovecot.sh (today, transition, strict) on a free loopback port;
# each real IMAP client below then logs in as harness/harness and opens INBOX while tcpdump
# records loopback. Each (client, policy) gets its own CLIENT.POLICY.pcap, holding only that
# client's connection(s) (and CLIENT.POLICY.keys, its TLS keys, when the client writes
# SSLKEYLOGFILE: Python, curl, node, openssl s_client). README.md gets the ground truth: the
# command, its exit status, what the client said and what Dovecot logged about the session.
# Run as root (Dovecot needs it) from anywhere: bash captures/imap/make.sh; about two minutes.
# Needs what ci/install.sh installs: dovecot-imapd, socat, tcpdump, curl, openssl, fetchmail,
# s-nail, mutt, aioimaplib (pip),
# libmail-imapclient-perl, node with imapflow in /usr/local/lib/harness-mail-node (or
# $HARNESS_MAIL_NODE).
set -euo pipefail
export LC_ALL=C
out=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$out/../.." && pwd)
work=$(mktemp -d)
protocol=imap
trap 'kill -TERM -- "-$server_pid" 2> /dev/null || true; kill $(jobs -p) 2> /dev/null || true; wait 2> /dev/null || true; rm -rf "$work"' EXIT
source "$repo/captures/mail-common.sh"
export NODE_PATH=${HARNESS_MAIL_NODE:-/usr/local/lib/harness-mail-node}/node_modules

# fetchmail's run control file for the port of the moment, then fetchmail itself (-c: only check
# for mail; exit 1 is "no mail", after logging in), its state in $work.
fetchmail_run() {
  printf '%s\n' "set no syslog" "poll 127.0.0.1 service $PORT protocol imap user harness password harness no sslcertck" > fetchmailrc
  chmod 600 fetchmailrc
  FETCHMAILHOME=$PWD fetchmail -f fetchmailrc -c --nosslcertck "$@"
}
export -f fetchmail_run

# name, then the command (run by bash in $work, with $PORT and $clients set)
imap_clients=(
  python-imaplib 'python3 "$clients/imap_client.py" 127.0.0.1 $PORT'
  python-imaplib-cram-md5 'python3 "$clients/imap_client.py" --auth CRAM-MD5 127.0.0.1 $PORT'
  python-imaplib-starttls 'python3 "$clients/imap_client.py" --starttls 127.0.0.1 $PORT'
  python-imaplib-starttls-plain 'python3 "$clients/imap_client.py" --starttls --auth PLAIN 127.0.0.1 $PORT'
  python-imaplib-starttls-cram-md5 'python3 "$clients/imap_client.py" --starttls --auth CRAM-MD5 127.0.0.1 $PORT'
  python-imaplib-tls1.1 'python3 "$clients/imap_client.py" --starttls --tls-max TLSv1_1 127.0.0.1 $PORT'
  curl 'curl -sS imap://127.0.0.1:$PORT/INBOX -u harness:harness -X "EXAMINE INBOX" && echo "examined INBOX"'
  curl-ssl-reqd 'curl -sS --ssl-reqd -k imap://127.0.0.1:$PORT/INBOX -u harness:harness -X "EXAMINE INBOX" && echo "examined INBOX"'
  openssl-s_client 'bash "$clients/openssl-session.sh" imap 127.0.0.1 $PORT'
  openssl-s_client-tls1.1 'bash "$clients/openssl-session.sh" imap 127.0.0.1 $PORT -tls1_1 -cipher DEFAULT:@SECLEVEL=0'
  fetchmail 'fetchmail_run'
  fetchmail-no-tls 'fetchmail_run --sslproto ""'
  fetchmail-cram-md5-no-tls 'fetchmail_run --sslproto "" --auth cram-md5'
  perl-mail-imapclient 'perl "$clients/mail-imapclient.pl" 127.0.0.1 $PORT'
  perl-mail-imapclient-starttls 'perl "$clients/mail-imapclient.pl" --starttls 127.0.0.1 $PORT'
  imapflow 'node "$clients/imapflow.js" 127.0.0.1 $PORT'
  mutt 'bash "$clients/mutt.sh" open 127.0.0.1 $PORT "$(server_certificate)"'
  mutt-no-tls 'bash "$clients/mutt.sh" open 127.0.0.1 $PORT "$(server_certificate)" "set ssl_starttls=no" "set ssl_force_tls=no"'
  aioimaplib 'python3 "$clients/aioimaplib_client.py" 127.0.0.1 $PORT'
  s-nail 'echo "echo opened INBOX" | HOME=$PWD s-nail -n -# -Sv15-compat -Snosave -f "imap://harness:harness@127.0.0.1:$PORT/INBOX"'
  s-nail-starttls 'echo "echo opened INBOX" | HOME=$PWD s-nail -n -# -Sv15-compat -Snosave -Simap-use-starttls -Stls-verify=ignore -f "imap://harness:harness@127.0.0.1:$PORT/INBOX"'
)

# Dovecot's lines about one session: logins, refusals and how the session ended, without the
# timestamp, addresses and session ids.
server_summary() {
  grep -E '^[0-9-]+ [0-9:]+ imap(-login)?[(:]' "$1" |
    sed -E 's/^[0-9-]+ [0-9:]+ //; s/, rip=127\.0\.0\.1, lip=127\.0\.0\.2//; s/, mpid=[0-9]+//; s/, session=<[^>]*>//; s/^imap\(harness\)<[0-9]+><[^>]*>: /imap(harness): /; s/ in=[0-9]+ out=.*//' |
    awk 'BEGIN { ORS = "" } { if (NR > 1) print " / "; print }'
}

: > "$work/results.tsv"
failed=0
for policy in today transition strict; do
  PORT=$(free_port)
  start_server "$repo/suites/imap-dovecot/servers/dovecot.sh" "$policy" "$PORT"
  for ((i = 0; i < ${#imap_clients[@]}; i += 2)); do
    capture "${imap_clients[i]}" "$policy" "${imap_clients[i + 1]}"
  done
  stop_server || failed=1
done
{
  printf 'client\tpolicy\tcommand\texit\tclient_said\tserver_logged\twire\n'
  cat "$work/results.tsv"
} > "$out/results.tsv"

{
  cat <<'HEAD'
# IMAP: real clients against real Dovecot

Made by `bash captures/imap/make.sh` (as root): Debian's Dovecot, started by
`suites/imap-dovecot/servers/dovecot.sh POLICY PORT` under each of its policies, and one login
(as harness/harness) by each real client below, which then opens INBOX (empty) and logs out.
`CLIENT.POLICY.pcap` is that client's traffic on loopback (its side only: Dovecot listens on
127.0.0.2 behind a forwarder on 127.0.0.1, see dovecot.sh), `CLIENT.POLICY.keys` its TLS keys
where the client writes SSLKEYLOGFILE.

Policies (see dovecot.sh):

- **today**: STARTTLS offered, not required; LOGIN and AUTHENTICATE PLAIN, LOGIN, CRAM-MD5 in
  the clear too; TLS 1.0+.
- **transition**: STARTTLS offered; passwords in the clear refused (LOGINDISABLED; `NO
  [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.`),
  CRAM-MD5 still allowed without TLS; TLS 1.2+.
- **strict**: `ssl = required`: no authentication before STARTTLS, CRAM-MD5 included (`NO
  [PRIVACYREQUIRED] Authentication not allowed until SSL/TLS is enabled.`); only PLAIN (LOGIN
  and CRAM-MD5 retired: `NO [ALERT] Unsupported authentication mechanism.`; the LOGIN command
  still works over TLS); TLS 1.2+.

The ground truth for the imap-dovecot suite's verdicts: exit is the client's exit status (0:
logged in and opened INBOX; for fetchmail, which only checks for mail, 1 means "no mail", after
logging in), "the client said" its own words (its last line, and the line before if it
failed), "the server logged" Dovecot's login and imap lines about the session.

`fetchmail_run` is make.sh's wrapper: it writes `fetchmailrc` (`poll 127.0.0.1 service $PORT
protocol imap user harness password harness no sslcertck`) and runs `fetchmail -f fetchmailrc
-c --nosslcertck` with any further options.

"On the wire, in the clear" is what `captures/mail-summary.py` reads in the pcap: the server's
reply codes (S:) and the client's command verbs (C:; never credentials, "..." for an answer to a
SASL challenge), up to `[TLS]` once STARTTLS was agreed, then who closed the connection first.

HEAD
  results_table
} > "$out/README.md"
echo "$(wc -l < "$work/results.tsv") sessions in $out; table in $out/README.md" >&2
if ((${#capture_missed[@]})); then
  echo "no connection captured for: ${capture_missed[*]}" >&2
  failed=1
fi
exit $failed
