#!/usr/bin/env bash
# How captures/smtp was made, and how to make it again: Postfix under each policy of
# suites/smtp-submission/servers/postfix.sh (today, transition, strict) on a free loopback port;
# each real SMTP client below then submits one message (as harness/harness, from
# harness@harness.test to someone@example.test) while tcpdump records loopback. Each
# (client, policy) gets its own CLIENT.POLICY.pcap, holding only that client's connection(s)
# (and CLIENT.POLICY.keys, its TLS keys, when the client writes SSLKEYLOGFILE: Python, curl,
# msmtp, node, openssl s_client). README.md gets the ground truth: the command, its exit status,
# what the client said and what Postfix logged about the session.
# Run as root (Postfix needs it) from anywhere: bash captures/smtp/make.sh; about two minutes.
# Needs what ci/install.sh installs: postfix, sasl2-bin, libsasl2-modules, tcpdump, curl,
# openssl, swaks, msmtp, s-nail, mutt, aiosmtplib (pip), Perl's Net::SMTP with Authen::SASL,
# Digest::HMAC and IO::Socket::SSL,
# node with nodemailer in /usr/local/lib/harness-mail-node (or $HARNESS_MAIL_NODE).
set -euo pipefail
export LC_ALL=C
out=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$out/../.." && pwd)
work=$(mktemp -d)
protocol=smtp
trap 'kill -TERM -- "-$server_pid" 2> /dev/null || true; kill $(jobs -p) 2> /dev/null || true; wait 2> /dev/null || true; rm -rf "$work"' EXIT
source "$repo/captures/mail-common.sh"
export NODE_PATH=${HARNESS_MAIL_NODE:-/usr/local/lib/harness-mail-node}/node_modules

printf 'From: harness@harness.test\r\nTo: someone@example.test\r\nSubject: harness\r\n\r\nhello\r\n' > "$work/message.eml"
: > "$work/msmtprc"
chmod 600 "$work/msmtprc"

# name, then the command (run by bash in $work, with $PORT and $clients set)
smtp_clients=(
  python-smtplib 'python3 "$clients/smtp_client.py" 127.0.0.1 $PORT'
  python-smtplib-plain 'python3 "$clients/smtp_client.py" --mech PLAIN 127.0.0.1 $PORT'
  python-smtplib-starttls 'python3 "$clients/smtp_client.py" --starttls 127.0.0.1 $PORT'
  python-smtplib-starttls-login 'python3 "$clients/smtp_client.py" --starttls --mech LOGIN 127.0.0.1 $PORT'
  python-smtplib-starttls-plain 'python3 "$clients/smtp_client.py" --starttls --mech PLAIN 127.0.0.1 $PORT'
  python-smtplib-tls1.1 'python3 "$clients/smtp_client.py" --starttls --tls-max TLSv1_1 --mech PLAIN 127.0.0.1 $PORT'
  curl 'curl -sS --url smtp://127.0.0.1:$PORT --mail-from harness@harness.test --mail-rcpt someone@example.test -u harness:harness -T message.eml && echo sent'
  curl-ssl-reqd 'curl -sS --ssl-reqd -k --url smtp://127.0.0.1:$PORT --mail-from harness@harness.test --mail-rcpt someone@example.test -u harness:harness -T message.eml && echo sent'
  openssl-s_client 'bash "$clients/openssl-session.sh" smtp 127.0.0.1 $PORT'
  openssl-s_client-tls1.1 'bash "$clients/openssl-session.sh" smtp 127.0.0.1 $PORT -tls1_1 -cipher DEFAULT:@SECLEVEL=0'
  swaks-cram-md5 'swaks --server 127.0.0.1 --port $PORT --helo client.harness.test --from harness@harness.test --to someone@example.test --auth CRAM-MD5 --auth-user harness --auth-password harness > swaks.log 2>&1 && echo sent || { grep -m1 "^\*\*\*" swaks.log; exit 1; }'
  swaks-tls-login 'swaks --server 127.0.0.1 --port $PORT --helo client.harness.test --from harness@harness.test --to someone@example.test --tls --auth LOGIN --auth-user harness --auth-password harness > swaks.log 2>&1 && echo sent || { grep -m1 "^\*\*\*" swaks.log; exit 1; }'
  msmtp 'msmtp --file=msmtprc --host=127.0.0.1 --port=$PORT --domain=client.harness.test --auth=on --user=harness --passwordeval="echo harness" --tls=off --from=harness@harness.test someone@example.test < message.eml && echo sent'
  msmtp-starttls 'msmtp --file=msmtprc --host=127.0.0.1 --port=$PORT --domain=client.harness.test --auth=on --user=harness --passwordeval="echo harness" --tls=on --tls-starttls=on --tls-certcheck=off --from=harness@harness.test someone@example.test < message.eml && echo sent'
  perl-net-smtp 'perl "$clients/net-smtp.pl" 127.0.0.1 $PORT'
  perl-net-smtp-starttls 'perl "$clients/net-smtp.pl" --starttls 127.0.0.1 $PORT'
  nodemailer 'node "$clients/nodemailer.js" 127.0.0.1 $PORT'
  aiosmtplib 'python3 "$clients/aiosmtplib_client.py" 127.0.0.1 $PORT'
  s-nail 'HOME=$PWD s-nail -n -# -Sv15-compat -Snosave -Ssendwait -Smta=smtp://harness:harness@127.0.0.1:$PORT -Shostname=client.harness.test -r harness@harness.test -s harness someone@example.test < message.eml && echo sent'
  s-nail-starttls 'HOME=$PWD s-nail -n -# -Sv15-compat -Snosave -Ssendwait -Smta=smtp://harness:harness@127.0.0.1:$PORT -Ssmtp-use-starttls -Stls-verify=ignore -Shostname=client.harness.test -r harness@harness.test -s harness someone@example.test < message.eml && echo sent'
  mutt 'bash "$clients/mutt.sh" send 127.0.0.1 $PORT "$(server_certificate)"'
  mutt-no-tls 'bash "$clients/mutt.sh" send 127.0.0.1 $PORT "$(server_certificate)" "set ssl_starttls=no" "set ssl_force_tls=no"'
  s-nail-cram-md5 'HOME=$PWD s-nail -n -# -Sv15-compat -Snosave -Ssendwait -Smta=smtp://harness:harness@127.0.0.1:$PORT -Ssmtp-auth=cram-md5 -Shostname=client.harness.test -r harness@harness.test -s harness someone@example.test < message.eml && echo sent'
)

# Postfix's lines about one session: TLS, AUTH, refusals and the closing tally, without the
# timestamp, host name and queue ids.
server_summary() {
  grep -E 'postfix/smtpd' "$1" |
    grep -vE ': connect from ' |
    sed -E 's/^.* postfix\/smtpd\[[0-9]+\]: //; s/^[0-9A-F]{8,}: //; s/ from unknown\[127\.0\.0\.1\]//; s/unknown\[127\.0\.0\.1\]: //; s/client=unknown\[127\.0\.0\.1\], //; s/ \(256\/256 bits\)//; s/ key-exchange .*//' |
    awk 'BEGIN { ORS = "" } { if (NR > 1) print " / "; print }'
}

: > "$work/results.tsv"
failed=0
for policy in today transition strict; do
  PORT=$(free_port)
  start_server "$repo/suites/smtp-submission/servers/postfix.sh" "$policy" "$PORT"
  for ((i = 0; i < ${#smtp_clients[@]}; i += 2)); do
    capture "${smtp_clients[i]}" "$policy" "${smtp_clients[i + 1]}"
  done
  stop_server || failed=1
done
{
  printf 'client\tpolicy\tcommand\texit\tclient_said\tserver_logged\twire\n'
  cat "$work/results.tsv"
} > "$out/results.tsv"

{
  cat <<'HEAD'
# SMTP submission: real clients against real Postfix

Made by `bash captures/smtp/make.sh` (as root): Debian's Postfix, started by
`suites/smtp-submission/servers/postfix.sh POLICY PORT` under each of its policies, and one
message submitted by each real client below (as harness/harness, from harness@harness.test to
someone@example.test; Postfix discards it). `CLIENT.POLICY.pcap` is that client's traffic on
loopback, `CLIENT.POLICY.keys` its TLS keys where the client writes SSLKEYLOGFILE.

Policies (see postfix.sh):

- **today**: STARTTLS offered, not required; AUTH (PLAIN, LOGIN, CRAM-MD5) before TLS too; TLS 1.0+.
- **transition**: STARTTLS offered, not required; AUTH only after STARTTLS (not advertised
  before it: `503 5.5.1 Error: authentication not enabled`); PLAIN, LOGIN, CRAM-MD5; TLS 1.2+.
- **strict**: STARTTLS required (`530 5.7.0 Must issue a STARTTLS command first`); AUTH only after
  it, PLAIN only (LOGIN and CRAM-MD5 retired: `535 5.7.8 Error: authentication failed: no
  mechanism available`); TLS 1.2+.

The ground truth for the smtp-submission suite's verdicts: exit is the client's exit status
(0: the message was accepted), "the client said" its own words (its last line, and the line
before if it failed), "the server logged" Postfix's smtpd lines about the session.

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
