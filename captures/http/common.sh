# Shared by captures/http/make.sh and captures/http/independent/live.sh, so both start nginx the
# same way and run the same client commands. Sourced after setting
#   http_dir   this folder (absolute)
#   work       a scratch folder, removed by the caller (nginx's files, the Go client, logs)
#
#   free_port                    an unused loopback TCP port
#   start_nginx PORT SERVER_CONF nginx in the background on 127.0.0.1:PORT, with SERVER_CONF
#                                (a file for nginx's http { } context) and its access log in
#                                $work/access.log (format below); sets $nginx_pid
#   build_clients                compiles what must be compiled (the Go client)
#   run_client NAME URL          runs client NAME once with its default settings, at most
#                                $client_timeout seconds; output on stdout/stderr, its own exit status
#   client_version NAME          the program and its version, as the program reports it

http_clients=(
  curl curl-http1.0 curl-http2 wget
  python-urllib python-requests python-httpx python-aiohttp
  node-http node-fetch go-net-http java-httpclient java-urlconnection
  chromium perl-lwp httpie lynx w3m elinks
)

client_timeout=60

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The access log has one tab-separated line per request: the connection's serial number, the
# request line, status, User-Agent and the Sunset, Deprecation and Warning headers sent.
start_nginx() {
  local port=$1 server_conf=$2
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log stderr crit;
events { worker_connections 512; }
http {
    log_format fields escape=none '\$connection\t\$request\t\$status\t\$http_user_agent\t\$sent_http_sunset\t\$sent_http_deprecation\t\$sent_http_warning';
    access_log $work/access.log fields;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    include $server_conf;
}
CONF
  "$(command -v nginx || echo /usr/sbin/nginx)" -e stderr -c "$work/nginx/nginx.conf" -p "$work/nginx" &
  nginx_pid=$!
  local i
  for i in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nginx did not start on 127.0.0.1:$port" >&2
  return 1
}

build_clients() {
  (cd "$http_dir" && go build -o "$work/go-net-http" go-net-http.go)
}

run_client() {
  http_dir=$http_dir work=$work timeout "$client_timeout" \
    bash -c "$(declare -f client_command); client_command \"\$@\"" client "$1" "$2"
}

client_command() {
  local name=$1 url=$2
  case $name in
    curl) curl -sS -o /dev/null -w '%{http_code}\n' "$url" ;;
    curl-http1.0) curl -sS -o /dev/null -w '%{http_code}\n' --http1.0 "$url" ;;
    curl-http2) curl -sS -o /dev/null -w '%{http_code}\n' --http2 "$url" ;;  # asks for an h2c upgrade
    wget) wget -O /dev/null "$url" ;;
    python-urllib) python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).status)' "$url" ;;
    python-requests) python3 -c 'import sys, requests; print(requests.get(sys.argv[1]).status_code)' "$url" ;;
    python-httpx) python3 -c 'import sys, httpx; print(httpx.get(sys.argv[1]).status_code)' "$url" ;;
    python-aiohttp) python3 -c '
import asyncio, sys, aiohttp
async def main():
    async with aiohttp.ClientSession() as session:
        async with session.get(sys.argv[1]) as response:
            await response.read()
            print(response.status)
asyncio.run(main())' "$url" ;;
    node-http) node -e '
require("http").get(process.argv[1], (res) => { res.resume(); res.on("end", () => console.log(res.statusCode)); })' "$url" ;;
    node-fetch) node -e 'fetch(process.argv[1]).then(async (r) => { await r.text(); console.log(r.status); })' "$url" ;;
    go-net-http) "$work/go-net-http" "$url" ;;
    java-httpclient) java "$http_dir/HttpGet.java" httpclient "$url" ;;
    java-urlconnection) java "$http_dir/HttpGet.java" urlconnection "$url" ;;
    chromium)
      local profile
      profile=$(mktemp -d)
      chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --dump-dom "$url"
      local status=$?
      rm -rf "$profile"
      return $status ;;
    perl-lwp) perl -MLWP::UserAgent -e 'print LWP::UserAgent->new->get($ARGV[0])->status_line, "\n"' "$url" ;;
    httpie) http --ignore-stdin GET "$url" ;;  # httpie would otherwise send its stdin as the body
    lynx) lynx -dump "$url" ;;
    w3m) w3m -dump "$url" ;;
    elinks) elinks -dump "$url" ;;
    *) echo "unknown client $name" >&2; return 2 ;;
  esac
}

client_version() {
  case $1 in
    curl*) curl --version | head -1 | cut -d' ' -f1,2 ;;
    wget) wget --version | head -1 | cut -d' ' -f1-3 ;;
    python-urllib) python3 -c 'import sys; print("Python", sys.version.split()[0], "urllib.request")' ;;
    python-requests) python3 -c 'import requests, urllib3; print("requests", requests.__version__, "(urllib3", urllib3.__version__ + ")")' ;;
    python-httpx) python3 -c 'import httpx; print("httpx", httpx.__version__)' ;;
    python-aiohttp) python3 -c 'import aiohttp; print("aiohttp", aiohttp.__version__)' ;;
    node-http) echo "Node.js $(node --version) http" ;;
    node-fetch) node -e 'console.log(`Node.js ${process.version} fetch (undici ${process.versions.undici})`)' ;;
    go-net-http) echo "$(go version | cut -d' ' -f3) net/http" ;;
    java-*) java -version 2>&1 | head -1 | sed -E 's/^(\S+) version "([^"]+)".*/\1 \2/' ;;
    chromium) chromium --version 2>/dev/null | cut -d' ' -f1,2 ;;
    perl-lwp) perl -MLWP -e 'print "libwww-perl $LWP::VERSION (perl ", substr($^V, 1), ")\n"' ;;
    httpie) echo "HTTPie $(http --version)" ;;
    lynx) lynx -version | head -1 | cut -d' ' -f1,3 ;;
    w3m) w3m -version | head -1 | sed -E 's/^w3m version w3m\/([^,]+),.*/w3m \1/' ;;
    elinks) elinks --version | head -1 ;;
  esac
}
