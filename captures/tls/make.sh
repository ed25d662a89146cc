#!/usr/bin/env bash
# How captures/tls was made, and how to make it again: each real TLS client available on this
# machine connects, one at a time, through `harness record` to openssl s_server under the legacy
# policy (so every client finishes its handshake); each session is written as a capture case
# and a pcapng, named after the client. Needs openssl, curl, python3, gnutls-cli, node, java.
source "$(dirname "$0")/../lib.sh"
out=captures/tls

server_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bash suites/tls-cutoff/servers/openssl.sh legacy "$server_port" &
sleep 1

clients=(openssl-s_client-tls1.0 openssl-s_client-tls1.1 openssl-s_client-tls1.2 openssl-s_client-tls1.3 curl python-ssl gnutls-cli node java)
"$harness" record --dialect tls --listen 127.0.0.1:0 --upstream "127.0.0.1:$server_port" --out "$work/recorded" --sessions ${#clients[@]} > "$work/record.log" &
recorder=$!
sleep 0.5
proxy=$(head -1 "$work/record.log" | awk '{print $3}')
port=${proxy##*:}

run() {
  case $1 in
    openssl-s_client-tls1.0) openssl s_client -connect "$proxy" -servername localhost -tls1 -cipher 'DEFAULT:@SECLEVEL=0' ;;
    openssl-s_client-tls1.1) openssl s_client -connect "$proxy" -servername localhost -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' ;;
    openssl-s_client-tls1.2) openssl s_client -connect "$proxy" -servername localhost -tls1_2 ;;
    openssl-s_client-tls1.3) openssl s_client -connect "$proxy" -servername localhost -tls1_3 ;;
    curl) curl -sk -o /dev/null --connect-to "localhost:$port:127.0.0.1:$port" "https://localhost:$port/" ;;
    python-ssl) python3 -c "
import socket, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
ctx.wrap_socket(socket.create_connection(('127.0.0.1', $port)), server_hostname='localhost').close()" ;;
    gnutls-cli) gnutls-cli --insecure --port "$port" --sni-hostname localhost 127.0.0.1 ;;
    node) node -e "require('tls').connect({host: '127.0.0.1', port: $port, servername: 'localhost', rejectUnauthorized: false}, function () { this.end(); })" ;;
    java) java captures/tls/TlsClient.java 127.0.0.1 "$port" localhost ;;
  esac
}
for client in "${clients[@]}"; do
  run "$client" < /dev/null > "$work/$client.log" 2>&1 || echo "$client exited $? (see its log)" >&2
  sleep 0.3 # one session at a time, so sessions are numbered in this order
done
wait $recorder

keep_recorded "$out" "" "${clients[@]}"
