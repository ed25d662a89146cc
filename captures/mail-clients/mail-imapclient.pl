#!/usr/bin/perl
# One mailbox check with Perl's Mail::IMAPClient: STARTTLS if asked (certificate not verified:
# the test server's is self-signed), then its default login (the LOGIN command; AUTHENTICATE
# with --auth MECH); selects INBOX and logs out.
#   perl mail-imapclient.pl [--starttls] [--auth MECH] HOST PORT
# Prints "INBOX: N messages" and exits 0, or prints the error and exits 1.
use strict;
use warnings;
use Mail::IMAPClient;
use IO::Socket::SSL qw(SSL_VERIFY_NONE);
my ($starttls, $auth);
while (@ARGV && $ARGV[0] =~ /^--/) {
  my $option = shift @ARGV;
  if ($option eq '--starttls') { $starttls = 1 } elsif ($option eq '--auth') { $auth = shift @ARGV }
}
my ($host, $port) = @ARGV;
my $imap = Mail::IMAPClient->new(
  Server => $host, Port => $port, User => 'harness', Password => 'harness', Timeout => 20,
  ($starttls ? (Starttls => [SSL_verify_mode => SSL_VERIFY_NONE]) : ()),
  ($auth ? (Authmechanism => $auth) : ()),
);
unless ($imap && $imap->IsAuthenticated) {
  my $error = $@ // 'not authenticated';
  $error =~ s/\s+$//;
  $error =~ s/\r?\n/ /g;
  print "login failed: $error\n";
  exit 1;
}
$imap->examine('INBOX') or do { print "EXAMINE failed: ", $imap->LastError, "\n"; exit 1 };
my $count = $imap->message_count('INBOX') // 0;
$imap->logout;
print "INBOX: $count messages\n";
