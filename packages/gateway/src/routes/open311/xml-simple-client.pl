#!/usr/bin/perl
# An Open311 client built the way FixMyStreet's (perllib/Open311.pm) is: LWP for HTTP, a form for
# POST with jurisdiction_id and api_key in it, the service's extra answers as attribute[code], and
# XML::Simple reading every answer, configured as FixMyStreet configures it (the spec's list
# elements always arrays, grouped; no key attributes; empty elements undef). It speaks only XML.
#
# Usage: xml-simple-client.pl <endpoint> <jurisdiction_id> <api_key> <service_code>
# Prints what it read, as JSON, on stdout.
use strict;
use warnings;
use utf8;
use Encode qw(encode);
use HTTP::Request::Common qw(GET POST);
use JSON::PP;
use LWP::UserAgent;
use URI;
use XML::Simple;

my ($endpoint, $jurisdiction, $api_key, $service_code) = @ARGV;
die "usage: $0 endpoint jurisdiction_id api_key service_code\n" unless $service_code;

my $ua = LWP::UserAgent->new(timeout => 30);
my %lists = (
    services => 'service', attributes => 'attribute', values => 'value', service_requests => 'request',
    errors => 'error', endpoints => 'endpoint', formats => 'format',
);
my $xml = XML::Simple->new(ForceArray => [values %lists], KeyAttr => {}, GroupTags => \%lists, SuppressEmpty => undef);

sub call {
    my ($request) = @_;
    my $response = $ua->request($request);
    my $parsed = eval { $xml->parse_string($response->decoded_content) };
    return {
        status => 0 + $response->code,
        content_type => scalar $response->header('Content-Type'),
        parsed => $parsed,
        parse_error => $@ ? "$@" : undef,
    };
}

sub get {
    my ($path, %params) = @_;
    my $uri = URI->new("$endpoint/$path");
    $uri->query_form(jurisdiction_id => $jurisdiction, %params);
    return call(GET $uri->as_string);
}

sub post {
    my ($path, %params) = @_;
    my %form = (jurisdiction_id => $jurisdiction, api_key => $api_key, %params);
    return call(POST "$endpoint/$path", [map { $_ => encode('UTF-8', $form{$_}) } sort keys %form]);
}

my %report = (
    service_code => $service_code,
    lat => '23.1291',
    long => '113.2644',
    email => 'resident@example.org',
    first_name => 'Mei',
    last_name => 'Chen',
    description => "title: 垃圾桶满了\n\ndetail: Bin overflowing & smelly <again>\n\nSubmitted via an XML client",
    'attribute[asset_id]' => 'BIN-0042',
);

my %read;
$read{discovery} = get('discovery.xml');
$read{services} = get('services.xml');
$read{definition} = get("services/$service_code.xml");
$read{created} = post('requests.xml', %report);
my $id = $read{created}{parsed}{request}[0]{service_request_id};
if (defined $id) {
    $read{one} = get("requests/$id.xml");
    $read{listed} = get('requests.xml', service_request_id => $id);
}
$read{wrong_key} = post('requests.xml', %report, api_key => 'cl_pk_not.a-key');
$read{unknown_request} = get('requests/NOPE-20200101-0001.xml');

print JSON::PP->new->utf8->canonical->encode(\%read);
