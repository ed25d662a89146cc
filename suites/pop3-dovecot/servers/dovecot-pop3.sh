#!/usr/bin/env bash
# Debian's Dovecot as a POP3 server on 127.0.0.1:PORT under a named policy:
#   bash servers/dovecot-pop3.sh POLICY PORT        POLICY = today | transition | strict
# The policies, account, logging, readiness line and stopping of
# suites/imap-dovecot/servers/dovecot.sh (which this runs, with `exec`, so this pid is Dovecot's),
# for POP3:
#   today       STLS offered; USER/PASS and AUTH PLAIN, LOGIN, CRAM-MD5 in the clear too; TLS 1.0+
#   transition  STLS offered; USER/PASS and AUTH PLAIN/LOGIN refused in the clear ("-ERR [AUTH]
#               Plaintext authentication disallowed on non-secure (SSL/TLS) connections."), AUTH
#               CRAM-MD5 still allowed; TLS 1.2+
#   strict      ssl = required: no authentication before STLS, CRAM-MD5 included; only PLAIN
#               (and USER/PASS) over TLS; TLS 1.2+
set -euo pipefail
usage='usage: dovecot-pop3.sh today|transition|strict PORT'
exec bash "$(cd "$(dirname "$0")" && pwd)/../../imap-dovecot/servers/dovecot.sh" "${1:?$usage}" "${2:?$usage}" pop3
