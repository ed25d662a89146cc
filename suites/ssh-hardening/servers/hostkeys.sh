# Sourced by sshd.sh and dropbear.sh.
#
#   state_dir        sets $state: this user's folder for the servers' files, host keys included:
#                    ${HARNESS_CACHE_DIR:-${TMPDIR:-/tmp}}/harness-ssh-servers.UID (or
#                    $HARNESS_SSH_STATE; harness sets HARNESS_CACHE_DIR), made once
#                    and kept, so a server starts in a fraction of a second after the first time
#                    (an RSA 4096 key alone takes a second or more to make). If that folder is
#                    not this user's own, or others may write to it, it is not trusted: $state
#                    is then a fresh mktemp folder, removed once the server (this shell, after
#                    its exec) has stopped, and the keys are made anew each time.
#   host_keys KIND   prints the folder holding KIND's host keys, made on first use. KIND openssh:
#                    ssh-keygen's ed25519, ecdsa (256), rsa (3072, ssh-keygen's default),
#                    rsa4096 and dsa (1024); KIND dropbear: dropbearkey's ed25519, ecdsa (256),
#                    rsa (2048) and dss (1024). Made for these tests only, never read from or
#                    written to /etc. A key set is made in a fresh folder and renamed into place,
#                    so servers starting at once never see half of one.
#
# Each machine (and user) thus has its own host keys: the host key and signature in a server's
# key-exchange reply differ from one machine to the next.

state_dir() {
  state=${HARNESS_SSH_STATE:-${HARNESS_CACHE_DIR:-${TMPDIR:-/tmp}}/harness-ssh-servers.$(id -u)}
  mkdir -p -m 700 "$state" 2> /dev/null || true
  if [[ -d $state && ! -L $state && -O $state ]] && [[ -z $(find "$state" -maxdepth 0 -perm /022) ]]; then
    return 0
  fi
  state=$(mktemp -d)
  local pid=$$
  # a watcher that removes it once the server has stopped; it holds none of the caller's
  # file descriptors, ends by itself, and outlives the SIGTERM its process group gets
  ( trap - EXIT; trap '' TERM INT HUP; while kill -0 "$pid" 2> /dev/null; do sleep 1; done; rm -rf "$state" ) \
    < /dev/null > /dev/null 2>&1 &
}

_make_host_keys() { # KIND DIR
  local kind=$1 dir=$2 type
  case $kind in
    openssh)
      ssh-keygen -q -t ed25519 -N '' -C harness-test -f "$dir/ssh_host_ed25519_key"
      ssh-keygen -q -t ecdsa -b 256 -N '' -C harness-test -f "$dir/ssh_host_ecdsa_key"
      ssh-keygen -q -t rsa -b 3072 -N '' -C harness-test -f "$dir/ssh_host_rsa_key"
      ssh-keygen -q -t rsa -b 4096 -N '' -C harness-test -f "$dir/ssh_host_rsa4096_key"
      ssh-keygen -q -t dsa -N '' -C harness-test -f "$dir/ssh_host_dsa_key" ;;
    dropbear)
      for type in ed25519 ecdsa rsa dss; do
        dropbearkey -t "$type" -f "$dir/dropbear_${type}_host_key" > /dev/null 2>&1
      done ;;
    *) echo "host_keys: unknown kind $kind" >&2; return 2 ;;
  esac
  touch "$dir/complete"
}

host_keys() { # KIND
  local kind=$1 fresh
  [[ -n ${state:-} ]] || state_dir
  if [[ ! -f $state/$kind/complete ]]; then
    fresh=$(mktemp -d "$state/.$kind.XXXXXX")
    _make_host_keys "$kind" "$fresh"
    # a server that started at the same time may have won the race: keep its keys
    mv -T "$fresh" "$state/$kind" 2> /dev/null || rm -rf "$fresh"
  fi
  echo "$state/$kind"
}
