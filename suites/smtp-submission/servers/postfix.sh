#!/usr/bin/env bash
# Debian's Postfix as a mail submission server on 127.0.0.1:PORT under a named policy:
#   bash servers/postfix.sh POLICY PORT        POLICY = today | transition | strict
#
#   today       STARTTLS offered, not required (smtpd_tls_security_level = may); AUTH offered
#               before TLS too, with PLAIN, LOGIN and CRAM-MD5; TLS 1.0 and later (OpenSSL's
#               security level 0 for it, as TLS 1.0 and 1.1 need; the others keep Debian's 2)
#   transition  STARTTLS offered, not required; AUTH only after STARTTLS
#               (smtpd_tls_auth_only = yes), still with PLAIN, LOGIN and CRAM-MD5; TLS 1.2 and
#               later
#   strict      STARTTLS required before anything but EHLO, NOOP, RSET and QUIT
#               (smtpd_tls_security_level = encrypt: "530 5.7.0 Must issue a STARTTLS command
#               first"); AUTH only after STARTTLS and only PLAIN (LOGIN and CRAM-MD5 retired:
#               "535 5.7.8 Error: authentication failed: ..." for a client that tries them);
#               TLS 1.2 and later (smtpd_tls_protocols and smtpd_tls_mandatory_protocols)
#
# The account: harness / harness (SASL realm harness.test, so harness@harness.test works too),
# from a Cyrus SASL sasldb made here (auxprop: the secret is stored, as CRAM-MD5 needs). An
# authenticated client may send to any address; every message is discarded (the discard
# transport), so nothing leaves the machine. Without AUTH, MAIL is answered but RCPT gets
# "554 5.7.1 ... Relay access denied".
#
# Runs the Postfix master in the foreground: `master -d -s` (-d: no setsid, so it stays in the
# process group it was started in, where the harness stops it; plain `master` starts a session
# of its own, and as a group leader fails to; -s: it logs, through postlogd, to stdout, which
# this script points at stderr). Its main.cf, master.cf, queue, data folder, SASL database and
# a self-signed certificate for localhost (made at start) are in a mktemp folder; the line
# "postfix.sh: POLICY on 127.0.0.1:PORT; certificate FILE" names the certificate, for a client
# that wants to trust it. The readiness line is master's "daemon started". Nothing under
# /etc/postfix or /var/spool/postfix is read or written (every path is given: `master -c DIR`,
# MAIL_CONFIG). No chroot. Needs root (Postfix's daemons switch to the user postfix); the
# folder is removed by a watcher once master has gone. SIGTERM to master (or its process
# group) ends it and every daemon it started (master passes it on).
set -euo pipefail
export LC_ALL=C
usage='usage: postfix.sh today|transition|strict PORT'
policy=${1:?$usage} port=${2:?$usage}
[[ $port =~ ^[0-9]+$ ]] || { echo "$usage" >&2; exit 2; }
daemons=/usr/lib/postfix/sbin
[[ -x $daemons/master ]] || { echo "postfix.sh: no Postfix (apt-get install postfix)" >&2; exit 2; }
command -v saslpasswd2 > /dev/null || { echo "postfix.sh: no saslpasswd2 (apt-get install sasl2-bin libsasl2-modules)" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "postfix.sh: Postfix's master must run as root (its daemons run as postfix)" >&2; exit 2; }
getent passwd postfix > /dev/null || { echo "postfix.sh: no user postfix (made by Debian's postfix package)" >&2; exit 2; }

case $policy in
  today) level=may auth_only=no mechs='PLAIN LOGIN CRAM-MD5' protocols='>=TLSv1' seclevel=0 ;;
  transition) level=may auth_only=yes mechs='PLAIN LOGIN CRAM-MD5' protocols='>=TLSv1.2' seclevel=2 ;;
  strict) level=encrypt auth_only=yes mechs=PLAIN protocols='>=TLSv1.2' seclevel=2 ;;
  *) echo "postfix.sh: unknown policy $policy" >&2; echo "$usage" >&2; exit 2 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/harness-postfix.XXXXXX")
chmod 755 "$work" # the daemons, as postfix, reach the queue and the SASL database through it
pid=$$
( (
  trap - EXIT
  trap '' TERM INT HUP # the SIGTERM that stops the server's process group is not for the watcher
  while kill -0 "$pid" 2> /dev/null; do sleep 0.5; done
  rm -rf "$work"
) < /dev/null > /dev/null 2>&1 & )
conf=$work/conf
mkdir -p "$conf/sasl" "$work/queue" "$work/data"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$conf/key.pem" -out "$conf/cert.pem" 2> "$work/openssl.log" || { cat "$work/openssl.log" >&2; exit 1; }

# Cyrus SASL reads $config_directory/sasl/smtpd.conf (Debian's build looks there, and ignores
# cyrus_sasl_config_path); its database is made with saslpasswd2.
cat > "$conf/sasl/smtpd.conf" <<CONF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $conf/sasl/sasldb2
mech_list: $mechs
CONF
echo harness | saslpasswd2 -p -c -f "$conf/sasl/sasldb2" -u harness.test harness
chown -R postfix: "$conf/sasl"
chmod 600 "$conf/sasl/sasldb2"

cat > "$conf/main.cf" <<CONF
# written by postfix.sh $policy $port
compatibility_level = 3.6
config_directory = $conf
queue_directory = $work/queue
data_directory = $work/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.harness.test
mydomain = harness.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP harness test server
maillog_file = /dev/stdout
default_transport = discard:harness test server
local_transport = discard:harness test server
relay_transport = discard:harness test server
alias_maps =
alias_database =
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
biff = no

smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = harness.test
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_tls_auth_only = $auth_only
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions =

smtpd_tls_security_level = $level
smtpd_tls_cert_file = $conf/cert.pem
smtpd_tls_key_file = $conf/key.pem
smtpd_tls_protocols = $protocols
smtpd_tls_mandatory_protocols = $protocols
smtpd_tls_loglevel = 1
tls_medium_cipherlist = aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:@SECLEVEL=$seclevel
smtpd_tls_received_header = no
CONF

# Only the services a submission server that discards its mail needs; nothing chrooted.
cat > "$conf/master.cf" <<CONF
# written by postfix.sh $policy $port
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CONF

# The queue's folders, owned as Postfix's own postfix-files wants them.
for dir in active bounce corrupt defer deferred flush hold incoming private saved trace; do
  install -d -o postfix -g root -m 700 "$work/queue/$dir"
done
install -d -o postfix -g postdrop -m 730 "$work/queue/maildrop"
install -d -o postfix -g postdrop -m 710 "$work/queue/public"
install -d -o root -g root -m 755 "$work/queue/pid"
chown postfix: "$work/data"
chmod 700 "$work/data"

# Postfix waits (in steps of 300 ms) until its configuration files are older than the current
# second, lest it read one being written: dated a minute back, they start it at once.
touch -d "@$(($(date +%s) - 60))" "$conf/main.cf" "$conf/master.cf"

echo "postfix.sh: $policy on 127.0.0.1:$port; certificate $conf/cert.pem" >&2
export MAIL_CONFIG=$conf
exec "$daemons/master" -d -s -c "$conf" 1>&2
