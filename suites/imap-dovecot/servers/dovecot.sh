#!/usr/bin/env bash
# Debian's Dovecot as an IMAP server on 127.0.0.1:PORT under a named policy:
#   bash servers/dovecot.sh POLICY PORT [PROTOCOL]     POLICY = today | transition | strict
#   (PROTOCOL: imap, the default, or pop3 for Dovecot's POP3 server under the same policies)
#
#   today       STARTTLS offered, not required (ssl = yes); LOGIN and AUTHENTICATE accepted in
#               the clear (disable_plaintext_auth = no); mechanisms PLAIN, LOGIN and CRAM-MD5;
#               TLS 1.0 and later (ssl_min_protocol = TLSv1, and OpenSSL's security level 0,
#               as TLS 1.0 and 1.1 need; the others keep Debian's 2)
#   transition  STARTTLS offered; cleartext passwords only after STARTTLS
#               (disable_plaintext_auth = yes: the greeting and CAPABILITY say LOGINDISABLED, and
#               LOGIN gets "NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure
#               (SSL/TLS) connections."), but CRAM-MD5, which sends no password, still allowed
#               in the clear; PLAIN, LOGIN and CRAM-MD5; TLS 1.2 and later
#   strict      ssl = required: no authentication at all before STARTTLS, not even CRAM-MD5;
#               only PLAIN (LOGIN and CRAM-MD5 retired: "NO [ALERT] Unsupported authentication
#               mechanism."); TLS 1.2 and later (ssl_min_protocol = TLSv1.2)
#
# The account: harness / harness (a passwd-file in the temporary folder), its mail a Maildir
# there, owned by nobody (the user its imap processes run as); the login processes run as
# dovenull and auth as dovecot (Debian's package makes both users).
#
# Dovecot takes a connection whose two ends have the same address for "secured" (as if over TLS),
# so it would let a client on 127.0.0.1 log in with a password in the clear whatever the policy.
# So Dovecot listens on 127.0.0.2:PORT, and socat, started once Dovecot listens, forwards
# 127.0.0.1:PORT to it (byte for byte: STARTTLS goes through); Dovecot then sees
# 127.0.0.1 -> 127.0.0.2, not secured. A capture of the client's side filters out 127.0.0.2.
#
# Runs Dovecot's master in the foreground (`dovecot -F -c FILE`), logging to stderr
# (auth_verbose: each "imap-login: Login: user=<harness>, method=..." or "Disconnected (auth
# failed, ...)" / "(no auth attempts ...)" line); readiness line, once the forwarder listens too:
# "dovecot.sh: ready on 127.0.0.1:PORT (POLICY, PROTOCOL; certificate FILE)", FILE the server's
# certificate for a client that wants to trust it (127.0.0.1:PORT accepts only once Dovecot is
# ready).
# Its configuration, runtime sockets, state, mail and a self-signed certificate for localhost
# (made at start) are in a mktemp folder, removed by a watcher once the master has gone; nothing under /etc/dovecot is read. SIGTERM to the master (or its process group) stops
# it and every process it started. Needs root (Dovecot switches users).
set -euo pipefail
export LC_ALL=C
usage='usage: dovecot.sh today|transition|strict PORT [imap|pop3]'
policy=${1:?$usage} port=${2:?$usage} protocol=${3:-imap}
[[ $port =~ ^[0-9]+$ ]] || { echo "$usage" >&2; exit 2; }
dovecot=$(command -v dovecot || echo /usr/sbin/dovecot)
[[ -x $dovecot ]] || { echo "dovecot.sh: no Dovecot (apt-get install dovecot-imapd)" >&2; exit 2; }
case $protocol in
  imap) [[ -x /usr/lib/dovecot/imap ]] || { echo "dovecot.sh: no Dovecot IMAP server (apt-get install dovecot-imapd)" >&2; exit 2; } ;;
  pop3) [[ -x /usr/lib/dovecot/pop3 ]] || { echo "dovecot.sh: no Dovecot POP3 server (apt-get install dovecot-pop3d)" >&2; exit 2; } ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
command -v socat > /dev/null || { echo "dovecot.sh: no socat (apt-get install socat)" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "dovecot.sh: Dovecot's master must run as root (it switches users)" >&2; exit 2; }
for user in dovecot dovenull nobody; do
  getent passwd "$user" > /dev/null || { echo "dovecot.sh: no user $user (made by Debian's dovecot-core package)" >&2; exit 2; }
done

case $policy in
  today) ssl=yes plaintext=no mechs='plain login cram-md5' min=TLSv1 seclevel=0 ;;
  transition) ssl=yes plaintext=yes mechs='plain login cram-md5' min=TLSv1.2 seclevel=2 ;;
  strict) ssl=required plaintext=yes mechs=plain min=TLSv1.2 seclevel=2 ;;
  *) echo "dovecot.sh: unknown policy $policy" >&2; echo "$usage" >&2; exit 2 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/harness-dovecot.XXXXXX")
chmod 755 "$work" # dovenull, dovecot and nobody reach their own folders through it
pid=$$
( (
  trap - EXIT
  trap '' TERM INT HUP # the SIGTERM that stops the server's process group is not for the watcher
  while kill -0 "$pid" 2> /dev/null; do sleep 0.5; done
  if [[ -f $work/socat.pid ]]; then kill "$(cat "$work/socat.pid")" 2> /dev/null || true; fi
  rm -rf "$work"
) < /dev/null > /dev/null 2>&1 & )
mkdir -p "$work/run" "$work/state" "$work/mail/harness"
chown -R nobody:nogroup "$work/mail"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2> "$work/openssl.log" || { cat "$work/openssl.log" >&2; exit 1; }
chmod 600 "$work/key.pem"

nobody_ids="$(id -u nobody):$(id -g nobody)"
# {PLAIN}: the secret itself is stored, as CRAM-MD5 needs.
echo "harness:{PLAIN}harness:$nobody_ids::$work/mail/harness::" > "$work/passwd"
chown dovecot: "$work/passwd"
chmod 600 "$work/passwd"

cat > "$work/dovecot.conf" <<CONF
# written by dovecot.sh $policy $port $protocol
protocols = $protocol
listen = 127.0.0.2
base_dir = $work/run
state_dir = $work/state
instance_name = harness-dovecot-$port
log_path = /dev/stderr
info_log_path = /dev/stderr
debug_log_path = /dev/stderr
log_timestamp = "%Y-%m-%d %H:%M:%S "
auth_verbose = yes
verbose_ssl = no
login_greeting = Dovecot (harness test server) ready.
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:$work/mail/%u
mail_uid = nobody
mail_gid = nogroup

ssl = $ssl
ssl_cert = <$work/cert.pem
ssl_key = <$work/key.pem
ssl_min_protocol = $min
ssl_cipher_list = ALL:!kRSA:!SRP:!kDHd:!DSS:!aNULL:!eNULL:!EXPORT:!DES:!3DES:!MD5:!PSK:!RC4:!ADH:!LOW@STRENGTH:@SECLEVEL=$seclevel
disable_plaintext_auth = $plaintext
auth_mechanisms = $mechs

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $work/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%n $work/passwd
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.2
    port = $([[ $protocol == imap ]] && echo "$port" || echo 0)
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.2
    port = $([[ $protocol == pop3 ]] && echo "$port" || echo 0)
  }
  inet_listener pop3s {
    port = 0
  }
}
# The harness may hold many sessions of one user from 127.0.0.1 at once (the default is 10, past
# which a login is refused with "Maximum number of connections from user+IP exceeded").
protocol imap {
  mail_max_userip_connections = 200
}
protocol pop3 {
  mail_max_userip_connections = 200
}
service stats {
  inet_listener http {
    port = 0
  }
}
CONF

# The forwarder: once Dovecot listens (at most 30 s), in this process group, so it is stopped
# with it, but not the master's child (a double fork: Dovecot's master would log an unknown
# child's exit); its pid is kept for the watcher, in case only the master is stopped. Once it
# listens too, the readiness line.
( (
  trap - EXIT
  listening() { [[ -n $(ss -Hltn "src $1 and sport = :$port") ]]; }
  for _ in $(seq 300); do listening 127.0.0.2 && break; sleep 0.1; done
  socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.2:$port" &
  echo $! > "$work/socat.pid"
  for _ in $(seq 300); do listening 127.0.0.1 && break; sleep 0.05; done
  echo "dovecot.sh: ready on 127.0.0.1:$port ($policy, $protocol; certificate $work/cert.pem)" >&2
  wait
) < /dev/null & )

exec "$dovecot" -F -c "$work/dovecot.conf"
