# One connection by Perl DBI; prints `ok` or `error CODE MESSAGE`.
# usage: perl perl_client.pl MariaDB|mysql HOST PORT USER PASSWORD DATABASE on|off
# MariaDB is DBD::MariaDB, mysql DBD::mysql (Debian's, both on libmariadb). TLS `on` is
# DRIVER_ssl=1 with DRIVER_ssl_optional=1: both drivers refuse DRIVER_ssl=1 alone on libmariadb
# ("Enforcing SSL encryption is not supported", DBD::MariaDB unless it may check the certificate
# too), so TLS is asked for, used when the server offers it (the suite's servers always do), and
# the certificate not checked; `off` never asks. Then `SELECT 1`.
use strict;
use warnings;
use DBI;
my ($driver, $host, $port, $user, $password, $database, $tls) = @ARGV;
die "usage: perl perl_client.pl MariaDB|mysql HOST PORT USER PASSWORD DATABASE on|off\n"
  unless defined $tls && $tls =~ /^(on|off)$/ && $driver =~ /^(MariaDB|mysql)$/;
my $prefix = lc $driver;
my $ssl = $tls eq 'on' ? "${prefix}_ssl=1;${prefix}_ssl_optional=1" : "${prefix}_ssl=0";
my $dbh = DBI->connect("DBI:$driver:database=$database;host=$host;port=$port;${prefix}_connect_timeout=10;$ssl",
  $user, $password, { RaiseError => 0, PrintError => 0 });
if (!$dbh) {
  (my $message = $DBI::errstr // '') =~ s/\s+/ /g;
  print "error ", ($DBI::err // '-'), " $message\n";
  exit 0;
}
$dbh->selectrow_array('SELECT 1') or do { print "error ", $dbh->err, " ", $dbh->errstr, "\n"; exit 0 };
$dbh->disconnect;
print "ok\n";
