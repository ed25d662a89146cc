#!/usr/bin/env bash
# Dropbear on 127.0.0.1:PORT under a named policy: bash servers/dropbear.sh POLICY PORT
#
# What a policy can change here: Dropbear's server chooses its algorithms at compile time only
# (localoptions.h; its -c/-m options are the client's, dbclient's). Its command line changes
# which host keys it has (-r, repeatable), hence which host key algorithms its KEXINIT offers,
# and authentication (-s no passwords, -g no root passwords, -w no root, -T tries), which
# plays no part before key exchange. So the three policies differ in host key algorithms only.
# Debian 12's build (2022.83-1+deb12u3, as its KEXINIT shows) offers, whatever the options:
#   kex      curve25519-sha256, curve25519-sha256@libssh.org, ecdh-sha2-nistp521/384/256,
#            diffie-hellman-group14-sha256, diffie-hellman-group14-sha1,
#            kexguess2@matt.ucc.asn.au, kex-strict-s-v00@openssh.com
#   ciphers  chacha20-poly1305@openssh.com, aes128-ctr, aes256-ctr   (no CBC, no GCM)
#   MACs     hmac-sha1, hmac-sha2-256                                 (no MD5, no -etm)
#   compression zlib@openssh.com, none
# so no policy has diffie-hellman-group1-sha1, group exchange, CBC or hmac-md5, and none can
# drop diffie-hellman-group14-sha1, ECDH on NIST curves or hmac-sha1.
#   legacy    every host key type the build signs with: ed25519, ecdsa (nistp256), rsa (2048
#             bits; offered as rsa-sha2-256 and ssh-rsa, i.e. SHA-1) and dss (1024 bits, ssh-dss)
#   default   the host keys Debian's dropbear package makes (its postinst: rsa, ecdsa and
#             ed25519, "excluding DSS"): ssh-ed25519, ecdsa-sha2-nistp256, rsa-sha2-256, ssh-rsa
#   hardened  an ed25519 host key only (no SHA-1 ssh-rsa, no NIST-curve ECDSA, as ssh-audit's
#             guides recommend), and -s -g (no password logins), -T 3. Beware: this build
#             still offers rsa-sha2-256 and ssh-rsa without an RSA key (it drops ecdsa and dss
#             when their keys are missing, but not rsa). A client that picks one of them (one
#             that accepts no ed25519 host key, e.g. `ssh -o HostKeyAlgorithms=ssh-rsa`) gets
#             no key-exchange reply: after its key-exchange init the server logs "Failed
#             assertion (rsa.c:164): `key != NULL'" and closes the connection. So an RSA-only
#             client is locked out here, but by a close that negotiation from the two KEXINITs
#             does not explain.
# Runs in the foreground (-F, logging to stderr with -E), so killing this script's pid stops
# it; its pid file (removed when it stops) and host keys in the folder hostkeys.sh says. Works as root or any other user
# (that user's own login only), given a port above 1023. Note the build's connection limits:
# at most 5 unauthenticated connections from one address at once (MAX_UNAUTH_PER_IP), 30 in
# all (MAX_UNAUTH_CLIENTS); more are closed at once.
set -euo pipefail
policy=${1:?usage: dropbear.sh legacy|default|hardened PORT} port=${2:?usage: dropbear.sh POLICY PORT}
servers=$(cd "$(dirname "$0")" && pwd)
dropbear=$(command -v dropbear || echo /usr/sbin/dropbear)
[[ -x $dropbear ]] || { echo "dropbear.sh: no dropbear (apt-get install dropbear-bin)" >&2; exit 2; }

source "$servers/hostkeys.sh"
state_dir
keys=$(host_keys dropbear)

args=()
case $policy in
  legacy) for key in ed25519 ecdsa rsa dss; do args+=(-r "$keys/dropbear_${key}_host_key"); done ;;
  default) for key in ed25519 ecdsa rsa; do args+=(-r "$keys/dropbear_${key}_host_key"); done ;;
  hardened) args=(-r "$keys/dropbear_ed25519_host_key" -s -g -T 3) ;;
  *) echo "dropbear.sh: unknown policy $policy" >&2; exit 2 ;;
esac

# dropbear writes its pid file even in the foreground, and removes it when it stops (not when
# killed with SIGKILL: such leftovers are removed here)
for pidfile in "$state"/dropbear-*.pid; do
  [[ -f $pidfile ]] || continue
  pid=${pidfile##*/dropbear-}
  kill -0 "${pid%.pid}" 2> /dev/null || rm -f "$pidfile"
done
exec "$dropbear" -F -E -p "127.0.0.1:$port" -P "$state/dropbear-$$.pid" "${args[@]}"
