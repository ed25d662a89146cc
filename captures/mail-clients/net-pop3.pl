#!/usr/bin/perl
# One mailbox check with Perl's Net::POP3 (libnet): STLS if asked (certificate not verified: the
# test server's is self-signed), then its login: USER and PASS, or with --sasl AUTH through
# Authen::SASL (which picks the mechanism from those the server's CAPA lists).
#   perl net-pop3.pl [--starttls] [--sasl] HOST PORT
# Prints "INBOX: N messages" and exits 0, or prints the error and exits 1.
use strict;
use warnings;
use Net::POP3;
use Authen::SASL;
my ($starttls, $sasl);
while (@ARGV && $ARGV[0] =~ /^--/) {
  my $option = shift @ARGV;
  if ($option eq '--starttls') { $starttls = 1 } elsif ($option eq '--sasl') { $sasl = 1 }
}
my ($host, $port) = @ARGV;
my $pop = Net::POP3->new($host, Port => $port, Timeout => 20) or do { print "connect failed: $@\n"; exit 1 };
sub fail { my ($what) = @_; my $message = $pop->message // ''; $message =~ s/\s+$//; print "$what failed: $message\n"; exit 1 }
if ($starttls) { $pop->starttls(SSL_verify_mode => 0) or fail('STLS') }
my $count;
if ($sasl) {
  $pop->auth(Authen::SASL->new(callback => { user => 'harness', pass => 'harness', authname => 'harness' })) or fail('AUTH');
  ($count) = $pop->popstat;
} else {
  $count = $pop->login('harness', 'harness');
  defined $count or fail('login');
}
$pop->quit;
print "INBOX: ", ($count // 0) + 0, " messages\n";
