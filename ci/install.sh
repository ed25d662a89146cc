#!/usr/bin/env bash
# System packages the tests and benchmarks use: tshark reads the pcapng files `harness record`
# writes (and is the import benchmark's baseline); tcpdump makes real loopback captures;
# chromium renders the HTML report in a test; nginx and openssl are the TLS servers the
# tls-cutoff suite starts, and openssl and curl the real clients checked against them; nginx
# and Apache httpd are the web servers the http-sunset suite starts; OpenSSH's sshd and dropbear
# the SSH servers ssh-hardening starts (and ssh, dbclient real clients); PostgreSQL the database
# servers postgres-upgrade starts (and psql a real driver); /usr/bin/time measures judge's peak
# memory in a test; testssl.sh brings the client simulation file (/etc/testssl/
# client-simulation.txt) that a test imports and compares with testssl.sh's own verdicts; gcc
# builds the LD_PRELOAD shim that logs psql's TLS keys for the --keylog tests (libpq has no
# SSLKEYLOGFILE), and pg8000 (from PyPI) is a Python PostgreSQL driver whose TLS keys Python's
# ssl module logs through SSLKEYLOGFILE. production_capture_live.rs runs real clients live
# under tcpdump: wget, lynx, w3m, node (its http and fetch), Perl's LWP (libwww-perl) and
# DBD::Pg (libdbd-pg-perl), dbclient (dropbear-bin), and from PyPI requests, paramiko, asyncssh,
# psycopg2 (psycopg2-binary), psycopg 3 (psycopg[binary]) and asyncpg, with pg8000; ss
# (iproute2) sees a server listen without connecting to it. git makes the fresh repository
# new_suite.rs writes a suite into with `harness new`.
# Mail: Postfix (with Cyrus SASL's saslpasswd2 and mechanisms) is the SMTP submission server
# smtp-submission starts, Dovecot (imapd, pop3d, behind socat) the IMAP and POP3 server
# imap-dovecot starts; swaks, msmtp, s-nail, fetchmail, Perl's Net::SMTP (Authen::SASL,
# IO::Socket::SSL) and Mail::IMAPClient, Mutt, aiosmtplib and aioimaplib (PyPI), nodemailer and
# imapflow (npm, in /usr/local/lib/harness-mail-node) are the real mail clients
# captures/smtp, captures/imap and captures/pop3 run against them.
# MySQL protocol: Debian's MariaDB server is what mariadb-auth starts (its mariadb-install-db
# makes the data directory); the real drivers captures/mysql runs against it are the mariadb
# client, DBD::MariaDB and DBD::mysql (Perl), PHP's mysqli and PDO_MySQL (php-cli, php-mysql),
# MariaDB Connector/J (libmariadb-java, run by the JDK), from PyPI PyMySQL with PyNaCl,
# mysql-connector-python, MariaDB Connector/Python (mariadb: built against libmariadb-dev) and
# aiomysql, from npm mysql, mysql2 and mariadb (in /usr/local/lib/harness-mysql-node).
set -euo pipefail
missing=()
command -v tshark > /dev/null || missing+=(tshark)
command -v tcpdump > /dev/null || missing+=(tcpdump)
command -v chromium > /dev/null || missing+=(chromium)
{ command -v nginx || [ -x /usr/sbin/nginx ]; } > /dev/null || missing+=(nginx-light)
command -v openssl > /dev/null || missing+=(openssl)
command -v curl > /dev/null || missing+=(curl)
{ command -v apache2 || [ -x /usr/sbin/apache2 ]; } > /dev/null || missing+=(apache2)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh > /dev/null || missing+=(openssh-client)
{ command -v dropbear || [ -x /usr/sbin/dropbear ]; } > /dev/null || missing+=(dropbear-bin)
compgen -G '/usr/lib/postgresql/*/bin/postgres' > /dev/null || missing+=(postgresql)
command -v psql > /dev/null || missing+=(postgresql-client)
[ -x /usr/bin/time ] || missing+=(time)
[ -f /etc/testssl/client-simulation.txt ] || missing+=(testssl.sh)
command -v gcc > /dev/null || missing+=(gcc libc6-dev)
command -v wget > /dev/null || missing+=(wget)
command -v lynx > /dev/null || missing+=(lynx)
command -v w3m > /dev/null || missing+=(w3m)
command -v node > /dev/null || missing+=(nodejs)
perl -MLWP::UserAgent -e 1 2> /dev/null || missing+=(libwww-perl)
perl -MDBD::Pg -e 1 2> /dev/null || missing+=(libdbd-pg-perl)
command -v dbclient > /dev/null || missing+=(dropbear-bin)
command -v ss > /dev/null || missing+=(iproute2)
command -v python3 > /dev/null || missing+=(python3 python3-pip)
command -v git > /dev/null || missing+=(git)
[ -x /usr/lib/postfix/sbin/master ] || missing+=(postfix)
command -v saslpasswd2 > /dev/null || missing+=(sasl2-bin)
compgen -G '/usr/lib/*/sasl2/libcrammd5.so' > /dev/null || missing+=(libsasl2-modules)
[ -x /usr/lib/dovecot/imap ] || missing+=(dovecot-core dovecot-imapd)
[ -x /usr/lib/dovecot/pop3 ] || missing+=(dovecot-pop3d)
command -v socat > /dev/null || missing+=(socat)
command -v swaks > /dev/null || missing+=(swaks)
command -v msmtp > /dev/null || missing+=(msmtp)
command -v s-nail > /dev/null || missing+=(s-nail)
command -v mutt > /dev/null || missing+=(mutt)
command -v fetchmail > /dev/null || missing+=(fetchmail)
perl -MAuthen::SASL -e 1 2> /dev/null || missing+=(libauthen-sasl-perl)
perl -MDigest::HMAC_MD5 -e 1 2> /dev/null || missing+=(libdigest-hmac-perl) # Authen::SASL's CRAM-MD5
perl -MIO::Socket::SSL -e 1 2> /dev/null || missing+=(libio-socket-ssl-perl)
perl -MMail::IMAPClient -e 1 2> /dev/null || missing+=(libmail-imapclient-perl)
command -v npm > /dev/null || missing+=(npm)
[ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
command -v mariadb > /dev/null || missing+=(mariadb-client)
[ -f /usr/include/mariadb/mysql.h ] || missing+=(libmariadb-dev)
perl -MDBD::MariaDB -e 1 2> /dev/null || missing+=(libdbd-mariadb-perl)
perl -MDBD::mysql -e 1 2> /dev/null || missing+=(libdbd-mysql-perl)
command -v php > /dev/null || missing+=(php-cli)
php -m 2> /dev/null | grep -q '^pdo_mysql$' || missing+=(php-mysql)
[ -f /usr/share/java/mariadb-java-client.jar ] || missing+=(libmariadb-java)
command -v java > /dev/null || missing+=(openjdk-17-jdk-headless)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # Postfix installed with no system configuration: the suites run their own.
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
if ! python3 -c 'import pg8000.native' 2> /dev/null; then
  # Optional: the test checks psql alone (and says so) where pip cannot install it.
  python3 -m pip install -q pg8000 > /dev/null 2>&1 || echo "install.sh: pg8000 could not be installed; the keylog test checks psql only" >&2
fi
python_clients=()
for module in requests:requests paramiko:paramiko asyncssh:asyncssh psycopg2:psycopg2-binary \
  "psycopg:psycopg[binary]" asyncpg:asyncpg; do
  python3 -c "import ${module%%:*}" 2> /dev/null || python_clients+=("${module#*:}")
done
if [ ${#python_clients[@]} -gt 0 ]; then
  # Without them the live production-capture test fails on CI, naming the missing module.
  python3 -m pip install -q "${python_clients[@]}" > /dev/null 2>&1 || echo "install.sh: could not install ${python_clients[*]}" >&2
fi
for module in aiosmtplib aioimaplib; do
  python3 -c "import $module" 2> /dev/null || python3 -m pip install -q "$module" > /dev/null 2>&1 || echo "install.sh: could not install $module" >&2
done
mail_node=/usr/local/lib/harness-mail-node
if [ ! -d $mail_node/node_modules/nodemailer ] || [ ! -d $mail_node/node_modules/imapflow ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo mkdir -p $mail_node
  $sudo npm install --prefix $mail_node --no-audit --no-fund --silent nodemailer imapflow > /dev/null \
    || echo "install.sh: could not install nodemailer and imapflow (captures/*/make.sh only)" >&2
fi
mysql_python=()
for module in pymysql:PyMySQL==1.1.2 nacl:PyNaCl==1.6.2 mysql.connector:mysql-connector-python==9.5.0 \
  mariadb:mariadb==1.1.14 aiomysql:aiomysql==0.3.2; do
  python3 -c "import ${module%%:*}" 2> /dev/null || mysql_python+=("${module#*:}")
done
if [ ${#mysql_python[@]} -gt 0 ]; then
  python3 -m pip install -q "${mysql_python[@]}" > /dev/null 2>&1 || echo "install.sh: could not install ${mysql_python[*]}" >&2
fi
mysql_node=/usr/local/lib/harness-mysql-node
if [ ! -d $mysql_node/node_modules/mysql ] || [ ! -d $mysql_node/node_modules/mysql2 ] || [ ! -d $mysql_node/node_modules/mariadb ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo mkdir -p $mysql_node
  $sudo npm install --prefix $mysql_node --no-audit --no-fund --silent --save-exact mysql@2.18.1 mysql2@3.15.3 mariadb@3.4.5 > /dev/null \
    || echo "install.sh: could not install node's mysql, mysql2 and mariadb (captures/mysql)" >&2
fi
# The Rust driver (mysql_async) the MySQL live test runs: built once here, on both cores, into
# the target folder captures/mysql/common.sh uses, so the test does not build it on one.
(cd "$(dirname "$0")/../captures/mysql/rust-client" &&
  CARGO_TARGET_DIR=${HARNESS_MYSQL_RUST_TARGET:-/tmp/mysql-rust-target} cargo build --locked --release --quiet) \
  || echo "install.sh: could not build captures/mysql/rust-client (the MySQL live test builds it)" >&2
