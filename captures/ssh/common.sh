# Shared by captures/ssh/make.sh and captures/ssh/live.sh, so both start the servers the same way
# and run the same client commands. Sourced after setting
#   ssh_dir   this folder (absolute)
#   work      a scratch folder, removed by the caller (logs)
#
#   ssh_clients                  the clients, in the order they run
#   free_port                    an unused loopback TCP port
#   start_server SERVER POLICY PORT
#                                suites/ssh-hardening/servers/SERVER.sh POLICY PORT in the
#                                background, its output in $work/server.log; sets $server_pid;
#                                returns once it listens
#   stop_server                  stops it (by its pid) and waits for it
#   build_clients                builds or installs what a client needs beyond the Debian and
#                                PyPI packages (the Go and russh clients, the npm ssh2 package) into
#                                $clients_dir and /tmp/russh-target; a client that cannot be
#                                built, or is named in $HARNESS_SSH_SKIP (space-separated, e.g.
#                                "russh" to spare its first 4-minute build), is left out of
#                                ssh_clients, with a message saying why
#   run_client NAME PORT         runs client NAME once against 127.0.0.1:PORT, at most
#                                $client_timeout seconds, user "test" with a wrong password and
#                                any host key accepted; output on stdout/stderr, its exit status
#   client_outcome NAME LOG      from a client's output: "yes" if its key exchange completed
#                                (the server's key-exchange reply reached it and it went on),
#                                else "no" and a tab and the error it printed (port numbers
#                                replaced by PORT)
#   client_version NAME          the program and its version, as the program reports it

ssh_clients=(
  openssh openssh-legacy openssh-group1 openssh-gex
  paramiko asyncssh libssh2 libssh
  dbclient plink jsch node-ssh2 go-x-crypto-ssh russh
)

client_timeout=30
repo_dir=$(cd "$ssh_dir/../.." && pwd)
servers_dir=$repo_dir/suites/ssh-hardening/servers
clients_dir=${HARNESS_SSH_CLIENTS:-${TMPDIR:-/tmp}/harness-ssh-clients}
russh_target=${RUSSH_TARGET_DIR:-/tmp/russh-target}
node_ssh2_version=1.17.0

# every ssh client run: no configuration file, no host key prompt or record, no password prompt
openssh_base=(ssh -F /dev/null -v -o BatchMode=yes -o StrictHostKeyChecking=no
  -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=20)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_server() {
  local server=$1 policy=$2 port=$3 i
  bash "$servers_dir/$server.sh" "$policy" "$port" > "$work/server.log" 2>&1 &
  server_pid=$!
  for i in $(seq 200); do
    # ss tells without connecting, so the server logs no stray connection
    if command -v ss > /dev/null; then
      [[ -n $(ss -Hltn "sport = :$port") ]] && return 0
    elif (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      return 0
    fi
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.05
  done
  echo "$server $policy did not start on 127.0.0.1:$port; its output:" >&2
  cat "$work/server.log" >&2
  return 1
}

stop_server() {
  if [[ -n ${server_pid:-} ]]; then
    kill "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
    server_pid=
  fi
}

build_clients() {
  mkdir -p "$clients_dir"
  local available=() name
  for name in "${ssh_clients[@]}"; do
    if [[ " ${HARNESS_SSH_SKIP:-} " == *" $name "* ]]; then
      echo "leaving out $name: named in HARNESS_SSH_SKIP" >&2
      continue
    fi
    if build_client "$name" > "$work/build-$name.log" 2>&1; then
      available+=("$name")
    else
      echo "leaving out $name: $(tail -n 3 "$work/build-$name.log" | tr '\n' ' ')" >&2
    fi
  done
  ssh_clients=("${available[@]}")
}

build_client() {
  case $1 in
    openssh*) command -v ssh ;;
    paramiko | asyncssh | libssh2 | libssh) python3 "$ssh_dir/clients.py" version "$1" ;;
    dbclient) command -v dbclient ;;
    plink) command -v plink ;;
    jsch) [[ -f /usr/share/java/jsch.jar ]] && command -v java ;;
    node-ssh2)
      command -v node
      if [[ ! -f $clients_dir/node/node_modules/ssh2/package.json ]]; then
        npm install --no-audit --no-fund --prefix "$clients_dir/node" "ssh2@$node_ssh2_version"
      fi ;;
    go-x-crypto-ssh)
      [[ -d /usr/share/gocode/src/golang.org/x/crypto/ssh ]] || { echo "no golang-golang-x-crypto-dev"; return 1; }
      (cd "$ssh_dir/go-client" && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= \
        GOCACHE="$clients_dir/gocache" go build -o "$clients_dir/go-client" main.go) ;;
    russh)
      # its own package, built outside the workspace, on one core (about 4 minutes the first time)
      CARGO_TARGET_DIR=$russh_target cargo build --release --locked -j1 \
        --manifest-path "$ssh_dir/russh-client/Cargo.toml" ;;
    *) echo "unknown client $1"; return 2 ;;
  esac
}

run_client() {
  ssh_dir=$ssh_dir clients_dir=$clients_dir russh_target=$russh_target timeout "$client_timeout" \
    bash -c "$(declare -p openssh_base); $(declare -f client_command); client_command \"\$@\"" client "$1" "$2"
}

client_command() {
  local name=$1 port=$2
  case $name in
    openssh) "${openssh_base[@]}" -p "$port" test@127.0.0.1 true ;;
    openssh-legacy)
      "${openssh_base[@]}" -o KexAlgorithms=diffie-hellman-group14-sha1 -o HostKeyAlgorithms=ssh-rsa \
        -o Ciphers=aes128-cbc -o MACs=hmac-sha1 -p "$port" test@127.0.0.1 true ;;
    openssh-group1) "${openssh_base[@]}" -o KexAlgorithms=diffie-hellman-group1-sha1 -p "$port" test@127.0.0.1 true ;;
    openssh-gex) "${openssh_base[@]}" -o KexAlgorithms=diffie-hellman-group-exchange-sha256 -p "$port" test@127.0.0.1 true ;;
    paramiko | asyncssh | libssh2 | libssh) python3 "$ssh_dir/clients.py" "$name" 127.0.0.1 "$port" ;;
    # -y -y: accept any host key without recording it; the password comes from the environment
    dbclient) DROPBEAR_PASSWORD=wrong-password dbclient -y -y -p "$port" test@127.0.0.1 true ;;
    # -batch: no prompts, so it abandons the connection at the unknown host key, after key exchange
    plink) plink -v -batch -ssh -P "$port" -l test -pw wrong-password 127.0.0.1 true ;;
    jsch) java -cp /usr/share/java/jsch.jar "$ssh_dir/JschClient.java" 127.0.0.1 "$port" ;;
    node-ssh2) NODE_PATH=$clients_dir/node/node_modules node "$ssh_dir/node-ssh2.js" 127.0.0.1 "$port" ;;
    go-x-crypto-ssh) "$clients_dir/go-client" 127.0.0.1 "$port" ;;
    russh) "$russh_target/release/russh-client" 127.0.0.1 "$port" ;;
    *) echo "unknown client $name" >&2; return 2 ;;
  esac
}

client_outcome() {
  local name=$1 log=$2 error
  case $name in
    openssh*)
      # OpenSSH logs the reply as SSH2_MSG_KEX_ECDH_REPLY for every non-group-exchange method
      # (message 31 is also DH's KEXDH_REPLY) and SSH2_MSG_KEX_DH_GEX_REPLY for group exchange
      if grep -qE 'SSH2_MSG_KEX(DH|_ECDH|_DH_GEX)_REPLY received' "$log"; then echo yes; return; fi
      error=$(grep -m1 -E 'Unable to negotiate|Connection closed|Connection reset|kex_exchange_identification|ssh_dispatch_run_fatal|Bad server host key|Connection timed out|Connection refused' "$log" |
        sed -E 's/^debug[0-9]: //; s/ Their offer: .*//') ;;
    dbclient)
      # dbclient checks the host key (here: says it skips the check) on receiving the reply
      if grep -q 'skipping hostkey check' "$log"; then echo yes; return; fi
      error=$(grep -m1 -E 'exited:|dbclient:' "$log") ;;
    plink)
      if grep -q 'Host key fingerprint is' "$log"; then echo yes; return; fi
      error=$(grep -m1 -E 'FATAL ERROR|Server unexpectedly closed|Network error|Remote side' "$log") ;;
    *)
      # the wrappers (clients.py, JschClient.java, node-ssh2.js, go-client, russh-client) say so
      if grep -q '^key exchange completed' "$log"; then echo yes; return; fi
      error=$(grep -m1 '^error: ' "$log" | sed 's/^error: //') ;;
  esac
  [[ -n $error ]] || error=$(grep -v '^debug' "$log" | tail -n 1)
  printf 'no\t%s\n' "$(printf '%s' "${error:-(no message)}" | tr '\t\r' '  ' |
    sed -E 's/(port|Port) [0-9]+/\1 PORT/g; s/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g; s/ +$//' | cut -c1-300)"
}

client_version() {
  case $1 in
    openssh*) ssh -V 2>&1 | cut -d, -f1 ;;
    paramiko | asyncssh | libssh2 | libssh) python3 "$ssh_dir/clients.py" version "$1" ;;
    dbclient) dbclient -V 2>&1 | head -1 | sed 's/^Dropbear /Dropbear dbclient /' ;;
    plink) plink -V | head -1 | sed 's/^plink: Release /PuTTY plink /' ;;
    jsch) echo "$(java -cp /usr/share/java/jsch.jar "$ssh_dir/JschClient.java" --version 2>&1) (Debian libjsch-java $(dpkg-query -W -f '${Version}' libjsch-java 2> /dev/null))" ;;
    node-ssh2) NODE_PATH=$clients_dir/node/node_modules node "$ssh_dir/node-ssh2.js" --version ;;
    go-x-crypto-ssh) echo "golang.org/x/crypto/ssh $(dpkg-query -W -f '${Version}' golang-golang-x-crypto-dev 2> /dev/null | sed 's/^1://') (Debian), $(go version | cut -d' ' -f3)" ;;
    russh) echo "russh $(awk '/^name = "russh"$/ { getline; gsub(/"/, "", $3); print $3 }' "$ssh_dir/russh-client/Cargo.lock") (Rust, aws-lc-rs)" ;;
  esac
}
