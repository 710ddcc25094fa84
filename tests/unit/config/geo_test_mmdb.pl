#!/usr/bin/perl
# geo_test_mmdb.pl OUT.mmdb: writes the small MaxMind database the geolocation tests read
# (tests/unit/config/test_geo.c, tests/unit/server/test_edge_lookups.c), in the GeoIP2 City
# layout with ASN and connection-type fields merged in. Needs libmaxmind-db-writer-perl.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my %types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
    city                           => 'map',
    connection_type                => 'utf8_string',
    continent                      => 'map',
    country                        => 'map',
    geoname_id                     => 'uint32',
    is_anonymous_proxy             => 'boolean',
    iso_code                       => 'utf8_string',
    latitude                       => 'double',
    location                       => 'map',
    longitude                      => 'double',
    metro_code                     => 'uint16',
    names                          => 'map',
    postal                         => 'map',
    subdivisions                   => [ 'array', 'map' ],
    time_zone                      => 'utf8_string',
    traits                         => 'map',
);

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version            => 6,
    record_size           => 28,
    database_type         => 'Fastlike-Test-City',
    languages             => ['en'],
    description           => { en => 'Fastlike geolocation test data' },
    map_key_type_callback => sub { $types{ $_[0] } // 'utf8_string' },
);

$tree->insert_network(
    '81.2.69.0/24',
    {
        city      => { geoname_id => 2643743, names => { en => 'London' } },
        continent => { code       => 'EU', names => { en => 'Europe' } },
        country   => { iso_code   => 'GB', names => { en => 'United Kingdom' } },
        location  => { latitude   => 51.5142, longitude => -0.0931 },
        postal    => { code       => 'EC2V' },
        subdivisions => [ { iso_code => 'ENG', names => { en => 'England' } } ],
        autonomous_system_number       => 20712,
        autonomous_system_organization => 'Andrews & Arnold Ltd',
        connection_type                => 'Cable/DSL',
    }
);
$tree->insert_network(
    '216.160.83.56/29',
    {
        city      => { names    => { en => 'Milton' } },
        continent => { code     => 'NA' },
        country   => { iso_code => 'US', names => { en => 'United States' } },
        location  => {
            latitude   => 47.2513,
            longitude  => -122.3149,
            metro_code => 819,
            time_zone  => 'America/Phoenix'
        },
        postal    => { code     => '98354' },
        subdivisions => [ { iso_code => 'WA' } ],
        traits       => { is_anonymous_proxy => 1 },
    }
);
$tree->insert_network(
    '2a02:ff40::/32',
    {
        city      => { names    => { en => 'Mumbai' } },
        continent => { code     => 'AS' },
        country   => { iso_code => 'IN', names => { en => 'India' } },
        location  => { latitude => 19.076, longitude => 72.8777, time_zone => 'Asia/Kolkata' },
        subdivisions => [ { iso_code => 'MH' } ],
    }
);

open my $fh, '>:raw', $ARGV[0] or die "$ARGV[0]: $!\n";
$tree->write_tree($fh);
close $fh or die "$ARGV[0]: $!\n";
