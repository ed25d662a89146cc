# shellcheck shell=bash
# Shared by captures/postgres/make.sh and captures/postgres/live.sh, so both start PostgreSQL the
# same way and run the same driver commands. Sourced after setting
#   pg_dir     this folder (absolute)
#   work       a scratch folder, removed by the caller (builds, logs, the fake Kerberos cache)
#
#   pg_clients                   the drivers, in the order they run
#   free_port                    an unused loopback TCP port
#   start_postgres CONFIG PORT   suites/postgres-upgrade/servers/postgres.sh CONFIG PORT in the
#                                background, its log (log_connections = on) in $work/server.log;
#                                sets $server_pid; returns once it listens
#   stop_postgres                fast shutdown of that server, and waits for it
#   build_clients                compiles what must be compiled: the Go clients (pgx, lib/pq) and
#                                the Rust one (tokio-postgres, in $PG_RUST_TARGET, default
#                                /tmp/pg-rust-target: the first build takes a few minutes)
#   run_client NAME PORT         runs driver NAME once: connect to 127.0.0.1:PORT as harness
#                                (password harness) to database harness, `select 1`, print the
#                                value, disconnect; at most $client_timeout seconds; its own exit status
#   client_version NAME          the driver and its version (and libpq's, for drivers on libpq)
#
# Every driver runs with its default settings except where its name says otherwise.
# pg8000-1-12 is pg8000 1.12.5 (2019), the last release before pg8000 learnt SCRAM (1.13), kept
# apart in $PG_OLD_DRIVERS (default /opt/harness-postgres-drivers; make.sh --install puts it
# there): the one real driver here that a scram-only server locks out. (node-postgres 7, also
# without SCRAM, no longer runs on Node.js 14 and later: its connect() never settles.) The
# environment is made the same for all: no PGSSLMODE, PGGSSENCMODE or other PG* variable but
# PGPASSWORD (for the libpq drivers), and KRB5CCNAME pointing at a missing file, so libpq finds
# no Kerberos credentials and (as on a machine without Kerberos) sends no GSSENCRequest; only
# psql-gssencmode-prefer gets a credential cache (see make_kerberos_cache).

pg_clients=(
  psql-sslmode-disable psql-sslmode-prefer psql-sslmode-require psql-gssencmode-prefer
  psycopg3 psycopg3-protocol-3-2 psycopg3-sslnegotiation-direct psycopg2
  asyncpg pg8000 pg8000-1-12 node-postgres postgres-js jdbc
  go-pgx go-lib-pq perl-dbd-pg ruby-pg tokio-postgres
)

client_timeout=30
pg_servers=$(cd "$pg_dir/../../suites/postgres-upgrade/servers" && pwd)
pg_rust_target=${PG_RUST_TARGET:-/tmp/pg-rust-target}
pg_old_drivers=${PG_OLD_DRIVERS:-/opt/harness-postgres-drivers}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_postgres() {
  local config=$1 port=$2
  bash "$pg_servers/postgres.sh" "$config" "$port" > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 600); do
    # ss does not connect, so the server logs no stray connection
    [[ -n $(ss -Hltn "src 127.0.0.1 and sport = :$port") ]] && return 0
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.05
  done
  echo "postgres.sh $config did not start on 127.0.0.1:$port; its log:" >&2
  cat "$work/server.log" >&2
  return 1
}

stop_postgres() {
  if [[ -n ${server_pid:-} ]]; then
    kill -INT "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
    server_pid=
  fi
}

# A Kerberos credential cache holding a TGT for harness@HARNESS.TEST that is valid for ten hours
# but fake (its key and ticket are zeros), and a krb5.conf whose only KDC is 127.0.0.1:9, where
# nothing listens. libpq (gssencmode=prefer, the default) sees credentials, so it sends
# GSSENCRequest; the server (built with GSSAPI) answers 'G'; libpq then cannot get a service
# ticket, hangs up, and tries again on a new connection without GSSAPI: what a client on a
# Kerberos machine does against a server that has no keytab. Nothing leaves loopback.
make_kerberos_cache() {
  python3 - "$work/krb5cc" << 'PY'
import struct, sys, time
def counted(b): return struct.pack(">I", len(b)) + b
def principal(name_type, realm, parts):
    return struct.pack(">II", name_type, len(parts)) + counted(realm) + b"".join(counted(p) for p in parts)
realm = b"HARNESS.TEST"
client = principal(1, realm, [b"harness"])
now = int(time.time())
credential = (client + principal(2, realm, [b"krbtgt", realm])
              + struct.pack(">H", 18) + counted(bytes(32))                  # aes256 key, zeros
              + struct.pack(">IIII", now, now, now + 36000, 0) + b"\0"     # times, is_skey
              + struct.pack(">III", 0x40e10000, 0, 0)                      # flags, no addresses/authdata
              + counted(b"\x61\x03\x02\x01\x05") + counted(b""))           # ticket, second ticket
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack(">HH", 0x0504, 0) + client + credential)            # ccache v4, no header tags
PY
  cat > "$work/krb5.conf" << 'CONF'
[libdefaults]
    default_realm = HARNESS.TEST
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
[realms]
    HARNESS.TEST = {
        kdc = 127.0.0.1:9
    }
CONF
}

build_clients() {
  (cd "$work" && GO111MODULE=off GOPATH=/usr/share/gocode go build -o "$work/pg-go-client" "$pg_dir/pg-go-client.go")
  (cd "$pg_dir/rust-client" && CARGO_TARGET_DIR=$pg_rust_target cargo build -j1 --release --quiet)
  make_kerberos_cache
}

run_client() {
  # only what the drivers need from the caller's environment
  env -i PATH="$PATH" HOME="${HOME:-/root}" LANG=C.UTF-8 TMPDIR="${TMPDIR:-/tmp}" \
    NODE_PATH="$(npm root -g 2> /dev/null)" KRB5CCNAME="FILE:$work/no-krb5cc" \
    pg_dir="$pg_dir" work="$work" pg_rust_target="$pg_rust_target" pg_old_drivers="$pg_old_drivers" \
    timeout "$client_timeout" bash -c "$(declare -f client_command); client_command \"\$@\"" client "$1" "$2"
}

client_command() {
  local name=$1 port=$2
  local conninfo="host=127.0.0.1 port=$port user=harness dbname=harness"
  case $name in
    psql-sslmode-*) PGPASSWORD=harness psql -X -A -t "$conninfo sslmode=${name#psql-sslmode-}" -c 'select 1' ;;
    psql-gssencmode-prefer)
      PGPASSWORD=harness KRB5CCNAME="FILE:$work/krb5cc" KRB5_CONFIG="$work/krb5.conf" \
        psql -X -A -t "$conninfo gssencmode=prefer" -c 'select 1' ;;
    psycopg3 | psycopg3-protocol-3-2 | psycopg3-sslnegotiation-direct)
      local extra=
      [[ $name == psycopg3-protocol-3-2 ]] && extra=" max_protocol_version=3.2"
      [[ $name == psycopg3-sslnegotiation-direct ]] && extra=" sslmode=require sslnegotiation=direct"
      python3 -c '
import sys, psycopg
with psycopg.connect(sys.argv[1]) as conn:
    print(conn.execute("select 1").fetchone()[0])' "$conninfo password=harness$extra" ;;
    psycopg2) python3 -c '
import sys, psycopg2
conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()
cur.execute("select 1")
print(cur.fetchone()[0])
conn.close()' "$conninfo password=harness" ;;
    asyncpg) python3 -c '
import asyncio, sys, asyncpg
async def main():
    conn = await asyncpg.connect(host="127.0.0.1", port=int(sys.argv[1]), user="harness", password="harness", database="harness")
    print(await conn.fetchval("select 1"))
    await conn.close()
asyncio.run(main())' "$port" ;;
    pg8000) python3 -c '
import sys, pg8000.native
conn = pg8000.native.Connection("harness", password="harness", host="127.0.0.1", port=int(sys.argv[1]), database="harness")
print(conn.run("select 1")[0][0])
conn.close()' "$port" ;;
    pg8000-1-12) PYTHONPATH="$pg_old_drivers/pg8000-1.12.5" python3 -c '
import sys, pg8000
conn = pg8000.connect("harness", host="127.0.0.1", port=int(sys.argv[1]), database="harness", password="harness")
cur = conn.cursor()
cur.execute("select 1")
print(cur.fetchone()[0])
conn.close()' "$port" ;;
    node-postgres) node -e '
const { Client } = require("pg");
const client = new Client({ host: "127.0.0.1", port: Number(process.argv[1]), user: "harness", password: "harness", database: "harness" });
(async () => {
  await client.connect();
  const res = await client.query("select 1 as v");
  console.log(res.rows[0].v);
  await client.end();
})().catch((e) => { console.error(e.message); process.exit(1); });' "$port" ;;
    postgres-js) node -e '
const postgres = require("postgres");
const sql = postgres({ host: "127.0.0.1", port: Number(process.argv[1]), user: "harness", password: "harness", database: "harness", onnotice: () => {} });
(async () => {
  const rows = await sql`select 1 as v`;
  console.log(rows[0].v);
  await sql.end();
})().catch((e) => { console.error(e.message); process.exit(1); });' "$port" ;;
    jdbc) java -cp /usr/share/java/postgresql.jar "$pg_dir/PgSelect.java" "$port" ;;
    go-pgx) "$work/pg-go-client" pgx "$port" ;;
    go-lib-pq) "$work/pg-go-client" lib-pq "$port" ;;
    perl-dbd-pg) perl -MDBI -e '
my $dbh = DBI->connect("dbi:Pg:host=127.0.0.1;port=$ARGV[0];dbname=harness", "harness", "harness", { RaiseError => 1, PrintError => 0 });
print $dbh->selectrow_array("select 1"), "\n";
$dbh->disconnect;' "$port" ;;
    ruby-pg) ruby -rpg -e '
conn = PG.connect(host: "127.0.0.1", port: ARGV[0].to_i, user: "harness", password: "harness", dbname: "harness")
puts conn.exec("select 1").getvalue(0, 0)
conn.close' "$port" ;;
    tokio-postgres) "$pg_rust_target/release/pg-rust-client" "$port" ;;
    *) echo "unknown client $name" >&2; return 2 ;;
  esac
}

client_version() {
  case $1 in
    psql-*) echo "psql $(psql --version | awk '{print $3}') (libpq5 $(dpkg-query -W -f '${Version}' libpq5))" ;;
    psycopg3*) python3 -c 'import psycopg; v = psycopg.pq.version(); print(f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__}, libpq {v // 10000}.{v % 100})")' ;;
    psycopg2) python3 -c 'import psycopg2, psycopg2.extensions as e; v = e.libpq_version(); print(f"psycopg2 {psycopg2.__version__.split()[0]} (libpq {v // 10000}.{v % 100})")' ;;
    asyncpg) python3 -c 'import asyncpg; print("asyncpg", asyncpg.__version__)' ;;
    pg8000) python3 -c 'import pg8000; print("pg8000", pg8000.__version__)' ;;
    pg8000-1-12) PYTHONPATH="$pg_old_drivers/pg8000-1.12.5" python3 -c 'import pg8000; print("pg8000", pg8000.__version__)' ;;
    node-postgres) echo "pg $(node -p 'require(require("path").join(process.argv[1], "pg/package.json")).version' "$(npm root -g)") (Node.js $(node --version))" ;;
    postgres-js) echo "postgres $(node -p 'require(require("path").join(process.argv[1], "postgres/package.json")).version' "$(npm root -g)") (Node.js $(node --version))" ;;
    jdbc) echo "$(java -cp /usr/share/java/postgresql.jar "$pg_dir/PgSelect.java" --version | sed 's/.*(\(.*\))/\1/') (Java $(java -version 2>&1 | head -1 | sed -E 's/.*"([^"]+)".*/\1/'))" ;;
    go-pgx) echo "pgx $(dpkg-query -W -f '${Version}' golang-github-jackc-pgx-v4-dev) ($(go version | cut -d' ' -f3))" ;;
    go-lib-pq) echo "lib/pq $(dpkg-query -W -f '${Version}' golang-github-lib-pq-dev) ($(go version | cut -d' ' -f3))" ;;
    perl-dbd-pg) echo "DBD::Pg $(perl -MDBD::Pg -e 'print $DBD::Pg::VERSION') (libpq5 $(dpkg-query -W -f '${Version}' libpq5), Perl $(perl -e 'print substr($^V, 1)'))" ;;
    ruby-pg) ruby -rpg -e 'v = PG.library_version; puts "pg #{PG::VERSION} (libpq #{v / 10000}.#{v % 100}, Ruby #{RUBY_VERSION})"' ;;
    tokio-postgres) echo "tokio-postgres $(awk '/^name = "tokio-postgres"/ { getline; gsub(/[^0-9.]/, ""); print }' "$pg_dir/rust-client/Cargo.lock")" ;;
  esac
}
