#!/usr/bin/perl
# One mail submission with Perl's Net::SMTP (libnet): STARTTLS if asked (certificate not
# verified: the test server's is self-signed), then AUTH through Authen::SASL, which picks the
# mechanism from those the server offers.
#   perl net-smtp.pl [--starttls] HOST PORT
# Prints "sent" and exits 0, or prints the error and exits 1.
use strict;
use warnings;
use Net::SMTP;
use Authen::SASL;
my $starttls = @ARGV && $ARGV[0] eq '--starttls' ? shift @ARGV : undef;
my ($host, $port) = @ARGV;
my $smtp = Net::SMTP->new($host, Port => $port, Hello => 'client.harness.test', Timeout => 20)
  or do { print "connect failed: $@\n"; exit 1 };
sub fail { my ($what) = @_; my $message = $smtp->message // ''; $message =~ s/\s+$//; print "$what failed: ", $smtp->code, " $message\n"; exit 1 }
if ($starttls) { $smtp->starttls(SSL_verify_mode => 0) or fail('STARTTLS') }
$smtp->auth(Authen::SASL->new(callback => { user => 'harness', pass => 'harness', authname => 'harness' })) or fail('AUTH');
$smtp->mail('harness@harness.test') or fail('MAIL');
$smtp->to('someone@example.test') or fail('RCPT');
$smtp->data("From: harness\@harness.test\r\nTo: someone\@example.test\r\nSubject: harness\r\n\r\nhello\r\n") or fail('DATA');
$smtp->quit;
print "sent\n";
