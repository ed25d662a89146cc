# shellcheck shell=bash
# Shared by captures/mysql/make.sh and captures/mysql/live.sh, so both run the same drivers the
# same way. Sourced after setting
#   work       a scratch folder, removed by the caller (the server's log)
# Then:
#   mysql_drivers                 the driver configurations, in the order they run
#   policy_users POLICY           the accounts worth trying under POLICY (today: harness only, as
#                                 legacy is the same there; transition and strict: harness legacy)
#   run_driver NAME HOST PORT USER TLS
#                                 one connection by NAME as USER (password harness) to database
#                                 harness, TLS on or off; prints its one line, `ok` or
#                                 `error CODE MESSAGE` (CODE `-` where the driver gave none,
#                                 `timeout` if it had not finished in $driver_timeout seconds)
#   driver_version NAME           the driver and its version
#   start_mariadb POLICY PORT     suites/mariadb-auth/servers/mariadb.sh POLICY PORT in a process
#                                 group of its own (as the harness starts it), until it listens;
#                                 its log in $work/server.log; sets $server_pid
# and, from ../mail-common.sh (its server handling is not mail's own): free_port, stop_server.
#
# Drivers: the mariadb CLI as it is, with --default-auth=client_ed25519, and with
# --default-auth=mysql_native_password and a --plugin-dir where there is no plugin (a client that
# can do only the built-in native password, as an old libmysqlclient); PyMySQL with and without PyNaCl
# (hidden from it: PyMySQL needs it for ed25519); mysql-connector-python with its C extension and
# pure; MariaDB Connector/Python; aiomysql; node's mysql, mysql2 and mariadb (from
# $HARNESS_MYSQL_NODE, default /usr/local/lib/harness-mysql-node); Perl's DBD::MariaDB and
# DBD::mysql; PHP's mysqli and PDO_MySQL (mysqlnd); MariaDB Connector/J (Debian's).
mysql_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mysql_clients=$mysql_dir/clients
mysql_servers=$(cd "$mysql_dir/../../suites/mariadb-auth/servers" && pwd)
mysql_node=${HARNESS_MYSQL_NODE:-/usr/local/lib/harness-mysql-node}
driver_timeout=30
protocol=mysql # mail-common.sh's capture is not used here
source "$mysql_dir/../mail-common.sh"

mysql_drivers=(
  mariadb-cli mariadb-cli-ed25519 mariadb-cli-native-only
  pymysql pymysql-no-nacl mysql-connector-python mysql-connector-python-pure
  mariadb-connector-python aiomysql
  node-mysql node-mysql2 node-mariadb
  perl-dbd-mariadb perl-dbd-mysql php-mysqli php-pdo-mysql mariadb-connector-j
)

policy_users() {
  case $1 in
    today) echo harness ;;
    *) echo harness legacy ;;
  esac
}

# The command line for a driver, before HOST PORT USER PASSWORD DATABASE TLS.
driver_command() {
  local c=$mysql_clients
  case $1 in
    mariadb-cli) echo bash "$c/mariadb-cli.sh" ;;
    mariadb-cli-ed25519) echo bash "$c/mariadb-cli.sh" --default-auth=client_ed25519 ;;
    mariadb-cli-native-only) echo bash "$c/mariadb-cli.sh" --default-auth=mysql_native_password --plugin-dir=/nonexistent ;;
    pymysql) echo python3 "$c/python_client.py" pymysql ;;
    pymysql-no-nacl) echo python3 "$c/python_client.py" pymysql-no-nacl ;;
    mysql-connector-python) echo python3 "$c/python_client.py" mysql-connector ;;
    mysql-connector-python-pure) echo python3 "$c/python_client.py" mysql-connector-pure ;;
    mariadb-connector-python) echo python3 "$c/python_client.py" mariadb ;;
    aiomysql) echo python3 "$c/python_client.py" aiomysql ;;
    node-mysql) echo node "$c/node_client.js" mysql ;;
    node-mysql2) echo node "$c/node_client.js" mysql2 ;;
    node-mariadb) echo node "$c/node_client.js" mariadb ;;
    perl-dbd-mariadb) echo perl "$c/perl_client.pl" MariaDB ;;
    perl-dbd-mysql) echo perl "$c/perl_client.pl" mysql ;;
    php-mysqli) echo php "$c/php_client.php" mysqli ;;
    php-pdo-mysql) echo php "$c/php_client.php" pdo ;;
    mariadb-connector-j) echo java -cp /usr/share/java/mariadb-java-client.jar "$c/MariadbClient.java" ;;
    *) echo "common.sh: unknown driver $1" >&2; return 2 ;;
  esac
}

run_driver() {
  local name=$1 host=$2 port=$3 user=$4 tls=$5 command out status=0
  command=$(driver_command "$name") || return 2
  # shellcheck disable=SC2086 # the command is words without spaces (the paths here have none)
  out=$(NODE_PATH=$mysql_node/node_modules timeout "$driver_timeout" $command "$host" "$port" "$user" harness harness "$tls" 2>&1) || status=$?
  if ((status == 124)); then
    echo "error timeout no answer within $driver_timeout s"
  elif [[ $out =~ (^|$'\n')(ok|error [^$'\n']*)$ ]]; then
    echo "${BASH_REMATCH[2]}" | tr '\t' ' '
  else
    echo "error - $(printf '%s' "$out" | tr '\t\n' '  ' | cut -c1-200) (exit $status)"
  fi
}

driver_version() {
  local py='import importlib.metadata as m, sys; print(m.version(sys.argv[1]))'
  case $1 in
    mariadb-cli*) mariadb --version | sed -E 's/.*Distrib ([^,]+),.*/mariadb \1/' ;;
    pymysql*) echo "PyMySQL $(python3 -c "$py" PyMySQL)$([[ $1 == pymysql ]] && echo " (PyNaCl $(python3 -c "$py" PyNaCl))")" ;;
    mysql-connector-python*) echo "mysql-connector-python $(python3 -c "$py" mysql-connector-python)" ;;
    mariadb-connector-python) echo "mariadb (Connector/Python) $(python3 -c "$py" mariadb)" ;;
    aiomysql) echo "aiomysql $(python3 -c "$py" aiomysql) (PyMySQL $(python3 -c "$py" PyMySQL))" ;;
    node-*) echo "${1#node-} $(node -p 'require(process.argv[1] + "/package.json").version' "$mysql_node/node_modules/${1#node-}") (node $(node --version))" ;;
    perl-dbd-mariadb) echo "DBD::MariaDB $(perl -MDBD::MariaDB -e 'print $DBD::MariaDB::VERSION')" ;;
    perl-dbd-mysql) echo "DBD::mysql $(perl -MDBD::mysql -e 'print $DBD::mysql::VERSION')" ;;
    php-*) echo "PHP $(php -r 'echo PHP_VERSION;') mysqlnd" ;;
    mariadb-connector-j) echo "MariaDB Connector/J $(dpkg-query -W -f '${Version}' libmariadb-java)" ;;
  esac
}

start_mariadb() {
  start_server "$mysql_servers/mariadb.sh" "$1" "$2"
}
