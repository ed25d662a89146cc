#!/usr/bin/env bash
# Mutt, as its user would run it, with its defaults but for the account: STARTTLS when the
# server offers it (ssl_starttls=yes), the authenticators the server offers, and the server's
# certificate trusted (certificate_file, as if the user had accepted it once; with it unknown,
# Mutt asks, which in batch mode fails).
#   bash mutt.sh send HOST PORT CERTIFICATE [MUTT_OPTION...]   one message through smtp_url
#                                                               (batch mode: -s, body on stdin)
#   bash mutt.sh open HOST PORT CERTIFICATE [MUTT_OPTION...]   opens imap://HOST:PORT/INBOX and
#                                                               quits (in a pseudo-terminal, by
#                                                               script(1): Mutt's index needs one)
# MUTT_OPTION: a further -e command, e.g. "set ssl_starttls=no". As harness/harness. Prints
# "sent" / "opened INBOX (N messages)" and exits 0, or what Mutt said last and exits 1.
set -uo pipefail
mode=$1 host=$2 port=$3 certificate=$4
shift 4
extra=()
for command in "$@"; do extra+=(-e "$command"); done
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cat > "$home/muttrc" <<RC
set certificate_file="$certificate"
set folder="imap://$host:$port/"
set spoolfile="+INBOX"
set ssl_verify_host=no
set record=""
set hostname=client.harness.test
set from=harness@harness.test
set imap_user=harness
set imap_pass=harness
set smtp_url="smtp://harness@$host:$port/"
set smtp_pass=harness
set header_cache=""
set message_cachedir=""
RC
case $mode in
  send)
    if echo hello | HOME=$home timeout 30 mutt -n -F "$home/muttrc" "${extra[@]}" -s harness someone@example.test > "$home/out" 2>&1; then
      echo sent
      exit 0
    fi
    tr -d '\r' < "$home/out" | grep -v '^\s*$' | tail -2
    exit 1 ;;
  open)
    quoted=$(printf '%q ' mutt -n -F "$home/muttrc" "${extra[@]}" -f "imap://$host:$port/INBOX" -e 'push <quit>')
    # (at most 30 s: a question Mutt asks would wait for an answer for ever)
    HOME=$home TERM=xterm timeout 30 script -qec "$quoted" /dev/null > "$home/screen" 2>&1 < /dev/null
    # What Mutt wrote on its screen, its escape sequences taken out.
    sed -E 's/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\x1b\][^\x07]*\x07//g' "$home/screen" | tr -d '\r\000-\011\013-\037' > "$home/text"
    if count=$(grep -oE '\[Msgs:[0-9]+' "$home/text" | head -1); then
      echo "opened INBOX (${count#\[Msgs:} messages)"
      exit 0
    fi
    grep -oE '(Login failed|Authentication failed|[A-Za-z /]*(error|failed|unavailable|denied|not allowed)[^.]*)' "$home/text" | tail -1 || tail -c 200 "$home/text"
    exit 1 ;;
  *) echo "usage: mutt.sh send|open HOST PORT CERTIFICATE [MUTT_OPTION...]" >&2; exit 2 ;;
esac
