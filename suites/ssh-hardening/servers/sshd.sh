#!/usr/bin/env bash
# OpenSSH's sshd on 127.0.0.1:PORT under a named policy: bash servers/sshd.sh POLICY PORT
#   legacy    as permissive as Debian 12's OpenSSH 9.2 build allows: its defaults plus every
#             algorithm it still has but leaves off: ssh-rsa (SHA-1) and ssh-dss host key
#             signatures (with a DSA host key beside the ed25519, ecdsa and rsa ones),
#             diffie-hellman-group1-sha1, -group14-sha1 and -group-exchange-sha1, the CBC ciphers
#             (aes128/192/256-cbc, 3des-cbc), hmac-sha1-96, hmac-md5 and hmac-md5-96 and their
#             -etm forms. (hmac-sha1 is in the defaults already; no arcfour, blowfish or
#             rijndael-cbc: 9.2 no longer has them.)
#   default   the distribution's defaults: no KexAlgorithms, Ciphers, MACs or HostKeyAlgorithms
#             line at all (Debian's own sshd_config sets none either), and the host keys Debian's
#             package makes (`ssh-keygen -A`: ed25519, ecdsa 256, rsa 3072)
#   hardened  ssh-audit's "Debian 12 (Bookworm) Server" hardening guide
#             (https://www.ssh-audit.com/hardening_guides.html): only ed25519 and a 4096-bit RSA
#             host key, DH group-exchange moduli of at least 3071 bits, and its algorithm lists
#             (without the guide's gss-* names: GSSAPI key exchange is off anyway)
# Runs in the foreground (`sshd -D -e`, logging to stderr; no pid file) with its configuration
# on stdin, so killing this script's pid stops it and leaves nothing behind; host keys (and the
# hardened policy's moduli file) in the folder hostkeys.sh says. Nothing under /etc is read or
# written except /etc/ssh/moduli (read, for the group-exchange groups), and no
# /etc/ssh/sshd_config.d/ is included, so a machine's own settings never change the policy.
# As root it creates sshd's privilege separation folder /run/sshd if missing. It runs as any
# other user too (no PAM; that user's own login only), given a port above 1023.
# Settings besides the policy, the same for all three: UsePAM no, MaxStartups 100 (the
# harness may open many unauthenticated connections at once; the default 10:30:100 drops
# some from the 11th on), LoginGraceTime 30.
set -euo pipefail
policy=${1:?usage: sshd.sh legacy|default|hardened PORT} port=${2:?usage: sshd.sh POLICY PORT}
servers=$(cd "$(dirname "$0")" && pwd)
sshd=$(command -v sshd || true)
[[ $sshd == /* ]] || sshd=/usr/sbin/sshd # sshd re-executes itself: it needs an absolute path
[[ -x $sshd ]] || { echo "sshd.sh: no sshd (apt-get install openssh-server)" >&2; exit 2; }
case $policy in legacy | default | hardened) ;; *) echo "sshd.sh: unknown policy $policy" >&2; exit 2 ;; esac

source "$servers/hostkeys.sh"
state_dir
keys=$(host_keys openssh)

if [[ ! -d /run/sshd ]]; then
  if [[ $(id -u) == 0 ]]; then
    mkdir -p -m 0755 /run/sshd
  else
    echo "sshd.sh: sshd needs its privilege separation folder /run/sshd: create it as root" >&2
    exit 2
  fi
fi

config=$(
  echo "ListenAddress 127.0.0.1:$port"
  echo "PidFile none"
  echo "UsePAM no"
  echo "MaxStartups 100"
  echo "LoginGraceTime 30"
  case $policy in
    legacy)
      for key in ed25519 ecdsa rsa dsa; do echo "HostKey $keys/ssh_host_${key}_key"; done
      cat <<'CONF'
KexAlgorithms +diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1,diffie-hellman-group1-sha1
Ciphers +aes128-cbc,aes192-cbc,aes256-cbc,3des-cbc
MACs +hmac-sha1-96,hmac-md5,hmac-md5-96,hmac-sha1-96-etm@openssh.com,hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com
HostKeyAlgorithms +ssh-rsa,ssh-rsa-cert-v01@openssh.com,ssh-dss,ssh-dss-cert-v01@openssh.com
PubkeyAcceptedAlgorithms +ssh-rsa,ssh-rsa-cert-v01@openssh.com,ssh-dss,ssh-dss-cert-v01@openssh.com
CONF
      ;;
    default)
      for key in ed25519 ecdsa rsa; do echo "HostKey $keys/ssh_host_${key}_key"; done
      ;;
    hardened)
      echo "HostKey $keys/ssh_host_ed25519_key"
      echo "HostKey $keys/ssh_host_rsa4096_key"
      # the guide's `awk '$5 >= 3071' /etc/ssh/moduli`, into a file of our own (made again
      # when /etc/ssh/moduli changes): sshd reads it at each group exchange
      if [[ ! -s $state/moduli-3071 || /etc/ssh/moduli -nt $state/moduli-3071 ]]; then
        awk '$5 >= 3071' /etc/ssh/moduli > "$state/moduli-3071.$$"
        mv -f "$state/moduli-3071.$$" "$state/moduli-3071"
      fi
      echo "ModuliFile $state/moduli-3071"
      cat <<'CONF'
KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha256
Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr
MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com
HostKeyAlgorithms sk-ssh-ed25519-cert-v01@openssh.com,ssh-ed25519-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,ssh-ed25519,rsa-sha2-512,rsa-sha2-256
CASignatureAlgorithms sk-ssh-ed25519@openssh.com,ssh-ed25519,rsa-sha2-512,rsa-sha2-256
HostbasedAcceptedAlgorithms sk-ssh-ed25519-cert-v01@openssh.com,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,ssh-ed25519,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-256
PubkeyAcceptedAlgorithms sk-ssh-ed25519-cert-v01@openssh.com,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,ssh-ed25519,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-256
RequiredRSASize 3072
CONF
      ;;
  esac
)

# sshd reads its configuration once, at start (each connection's re-executed sshd gets it from
# the listener), so it is given on stdin and no file is left behind.
"$sshd" -t -f /dev/stdin <<< "$config" # a bad setting fails here, with sshd's own message
exec "$sshd" -D -e -f /dev/stdin <<< "$config"
