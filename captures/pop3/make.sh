#!/usr/bin/env bash
# How captures/pop3 was made, and how to make it again: Dovecot under each policy of
# suites/pop3-dovecot/servers/dovecot-pop3.sh (today, transition, strict) on a free loopback port;
# each real POP3 client below then logs in as harness/harness and asks STAT (or LIST) while tcpdump
# records loopback. Each (client, policy) gets its own CLIENT.POLICY.pcap, holding only that
# client's connection(s) (and CLIENT.POLICY.keys, its TLS keys, when the client writes
# SSLKEYLOGFILE: Python, curl, openssl s_client). README.md gets the ground truth: the
# command, its exit status, what the client said and what Dovecot logged about the session.
# Run as root (Dovecot needs it) from anywhere: bash captures/pop3/make.sh; about two minutes.
# Needs what ci/install.sh installs: dovecot-pop3d, socat, tcpdump, curl, openssl, fetchmail,
# s-nail, Perl's Net::POP3 with Authen::SASL and IO::Socket::SSL.
set -euo pipefail
export LC_ALL=C
out=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$out/../.." && pwd)
work=$(mktemp -d)
protocol=pop3
trap 'kill -TERM -- "-$server_pid" 2> /dev/null || true; kill $(jobs -p) 2> /dev/null || true; wait 2> /dev/null || true; rm -rf "$work"' EXIT
source "$repo/captures/mail-common.sh"
export NODE_PATH=${HARNESS_MAIL_NODE:-/usr/local/lib/harness-mail-node}/node_modules

# fetchmail's run control file for the port of the moment, then fetchmail itself (-c: only check
# for mail; exit 1 is "no mail", after logging in), its state in $work.
fetchmail_run() {
  printf '%s\n' "set no syslog" "poll 127.0.0.1 service $PORT protocol pop3 user harness password harness no sslcertck" > fetchmailrc
  chmod 600 fetchmailrc
  FETCHMAILHOME=$PWD fetchmail -f fetchmailrc -c --nosslcertck "$@"
}
export -f fetchmail_run

# s-nail in batch mode reports a POP3 mailbox it could not open ("s-nail: POP3 error: -ERR ...")
# but goes on, and exits 0: its error line is taken for the failure it is.
s_nail_pop3() {
  local said
  said=$(echo "echo opened INBOX" | HOME=$PWD s-nail -n -# -Sv15-compat -Snosave "$@" 2>&1)
  printf '%s\n' "$said"
  ! grep -q '^s-nail: .*error' <<< "$said"
}
export -f s_nail_pop3

# name, then the command (run by bash in $work, with $PORT and $clients set)
pop3_clients=(
  python-poplib 'python3 "$clients/pop3_client.py" 127.0.0.1 $PORT'
  python-poplib-cram-md5 'python3 "$clients/pop3_client.py" --auth CRAM-MD5 127.0.0.1 $PORT'
  python-poplib-stls 'python3 "$clients/pop3_client.py" --stls 127.0.0.1 $PORT'
  curl 'curl -sS pop3://127.0.0.1:$PORT/ -u harness:harness && echo "listed INBOX"'
  curl-ssl-reqd 'curl -sS --ssl-reqd -k pop3://127.0.0.1:$PORT/ -u harness:harness && echo "listed INBOX"'
  openssl-s_client 'bash "$clients/openssl-session.sh" pop3 127.0.0.1 $PORT'
  openssl-s_client-tls1.1 'bash "$clients/openssl-session.sh" pop3 127.0.0.1 $PORT -tls1_1 -cipher DEFAULT:@SECLEVEL=0'
  fetchmail 'fetchmail_run'
  fetchmail-no-tls 'fetchmail_run --sslproto ""'
  perl-net-pop3 'perl "$clients/net-pop3.pl" 127.0.0.1 $PORT'
  perl-net-pop3-sasl 'perl "$clients/net-pop3.pl" --sasl 127.0.0.1 $PORT'
  perl-net-pop3-starttls 'perl "$clients/net-pop3.pl" --starttls 127.0.0.1 $PORT'
  s-nail 's_nail_pop3 -f "pop3://harness:harness@127.0.0.1:$PORT"'
  s-nail-stls 's_nail_pop3 -Spop3-use-starttls -Stls-verify=ignore -f "pop3://harness:harness@127.0.0.1:$PORT"'
)

# Dovecot's lines about one session: logins, refusals and how the session ended, without the
# timestamp, addresses and session ids.
server_summary() {
  grep -E '^[0-9-]+ [0-9:]+ pop3(-login)?[(:]' "$1" |
    sed -E 's/^[0-9-]+ [0-9:]+ //; s/, rip=127\.0\.0\.1, lip=127\.0\.0\.2//; s/, mpid=[0-9]+//; s/, session=<[^>]*>//; s/^pop3\(harness\)<[0-9]+><[^>]*>: /pop3(harness): /' |
    awk 'BEGIN { ORS = "" } { if (NR > 1) print " / "; print }'
}

: > "$work/results.tsv"
failed=0
for policy in today transition strict; do
  PORT=$(free_port)
  start_server "$repo/suites/pop3-dovecot/servers/dovecot-pop3.sh" "$policy" "$PORT"
  for ((i = 0; i < ${#pop3_clients[@]}; i += 2)); do
    capture "${pop3_clients[i]}" "$policy" "${pop3_clients[i + 1]}"
  done
  stop_server || failed=1
done
{
  printf 'client\tpolicy\tcommand\texit\tclient_said\tserver_logged\twire\n'
  cat "$work/results.tsv"
} > "$out/results.tsv"

{
  cat <<'HEAD'
# POP3: real clients against real Dovecot

Made by `bash captures/pop3/make.sh` (as root): Debian's Dovecot POP3 server, started by
`suites/pop3-dovecot/servers/dovecot-pop3.sh POLICY PORT` under each of its policies, and one
login (as harness/harness) by each real client below, which then asks STAT or LIST (the mailbox
is empty) and quits. `CLIENT.POLICY.pcap` is that client's traffic on loopback (its side only:
Dovecot listens on 127.0.0.2 behind a forwarder on 127.0.0.1, see
suites/imap-dovecot/servers/dovecot.sh), `CLIENT.POLICY.keys` its TLS keys where the client
writes SSLKEYLOGFILE.

Policies (see dovecot-pop3.sh):

- **today**: STLS offered, not required; USER/PASS and AUTH PLAIN, LOGIN, CRAM-MD5 in the clear
  too; TLS 1.0+.
- **transition**: STLS offered; passwords in the clear refused (`-ERR [AUTH] Plaintext
  authentication disallowed on non-secure (SSL/TLS) connections.`), AUTH CRAM-MD5 still allowed
  without TLS; TLS 1.2+.
- **strict**: `ssl = required`: no authentication before STLS, CRAM-MD5 included; only PLAIN
  (and USER/PASS) over TLS; TLS 1.2+.

The ground truth for a POP3 suite's verdicts: exit is the client's exit status (0: logged in;
for fetchmail, which only checks for mail, 1 means "no mail", after logging in), "the client
said" its own words (its last line, and the line before if it failed), "the server logged" Dovecot's pop3-login and pop3 lines
about the session.

`fetchmail_run` is make.sh's wrapper: it writes `fetchmailrc` (`poll 127.0.0.1 service $PORT
protocol pop3 user harness password harness no sslcertck`) and runs `fetchmail -f fetchmailrc
-c --nosslcertck` with any further options. `s_nail_pop3` runs `s-nail -n -# -Sv15-compat -Snosave` with the
options given and "echo opened INBOX" on its standard input, and fails if s-nail printed an
error (in batch mode it reports a mailbox it could not open but exits 0).

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
