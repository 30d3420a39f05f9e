// SSRF guard: decides whether a URL source may be fetched, before any connection is made.
//
// The guard never resolves or connects. It parses URLs, classifies IP address literals and
// matches them against an allow-list, so callers resolve the host themselves, check every
// resolved address here and then connect only to an address that passed (see url_fetcher.h).
//
// All functions are pure and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace on::ingest {

// Name of the setting that lists the CIDRs exempt from the guard, e.g. "127.0.0.1/32,10.0.0.5/32".
inline constexpr std::string_view kUrlAllowlistSetting = "OPEN_NOTEBOOK_URL_ALLOWLIST";

// Maximum length of a URL accepted for fetching, in bytes.
inline constexpr std::size_t kMaxUrlBytes = 8192;

// Addresses that URL fetching may reach even though the guard rejects their category.
// Each entry is a CIDR ("10.0.0.0/8", "fd00::/8") or a single address ("127.0.0.1", "::1").
struct UrlPolicy {
  std::vector<std::string> allow_cidrs;
};

// Parses a comma-separated allow-list such as "127.0.0.1/32, 10.0.0.5/32" (blanks around entries
// and empty entries are ignored). Returns kConfiguration naming the first invalid entry, including
// a CIDR with host bits set ("10.0.0.5/8"), because that is usually a typo for a wider or narrower
// range than intended.
Result<UrlPolicy> ParseUrlPolicy(std::string_view allow_list_setting);

// An IPv4 or IPv6 address. IPv4 addresses keep their 4 bytes in bytes[0..3].
struct IpAddress {
  bool is_v4 = false;
  std::array<std::uint8_t, 16> bytes{};

  // Canonical text: dotted quad for IPv4, RFC 5952 form for IPv6 ("::ffff:10.0.0.1").
  std::string ToString() const;
};

// Parses an address literal: "10.0.0.1", "::1", "[::1]" and scoped "fe80::1%eth0" (the zone is
// dropped because it does not change the category). Only dotted-quad IPv4 is accepted, so forms
// like "127.1" or "0x7f.0.0.1" are invalid. Returns kInvalidInput on anything else.
Result<IpAddress> ParseIpAddress(std::string_view literal);

// Category of an address, which decides whether URL fetching may reach it. Only kPublic is allowed
// by default.
enum class AddressCategory {
  kPublic,
  kUnspecified,     // 0.0.0.0/8, ::
  kLoopback,        // 127.0.0.0/8, ::1
  kPrivate,         // 10/8, 172.16/12, 192.168/16, deprecated site-local fec0::/10
  kSharedAddress,   // 100.64.0.0/10, carrier-grade NAT
  kLinkLocal,       // 169.254.0.0/16 (cloud metadata 169.254.169.254), fe80::/10
  kUniqueLocal,     // fc00::/7 (AWS metadata fd00:ec2::254)
  kMulticast,       // 224.0.0.0/4, ff00::/8
  kBroadcast,       // 255.255.255.255
  kDocumentation,   // 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20
  kBenchmarking,    // 198.18.0.0/15, 2001:2::/48
  kReserved,        // 192.0.0/24, 192.88.99/24, 240/4, IPv6 outside 2000::/3 and 2001::/23 ...
};

// Returns the category as a noun phrase for messages: "a private address".
std::string_view AddressCategoryDescription(AddressCategory category);

// Classifies an address. IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4
// (2002:aabb:ccdd::) addresses take the category of the IPv4 address they embed, so
// ::ffff:127.0.0.1 is loopback. Teredo (2001::/32) is kReserved because its embedded address is
// obfuscated and routed through a relay.
AddressCategory ClassifyAddress(const IpAddress& address);

// Checks one address that `host` resolved to (or that `host` is, for a literal host). Returns ok
// when the address is public or inside an allow-listed CIDR, otherwise kForbidden with a message
// such as "URL host example.test resolves to 10.1.2.3, which is a private address. Add 10.1.2.3/32
// to OPEN_NOTEBOOK_URL_ALLOWLIST to allow it." An IPv4-mapped address is also allowed when its
// embedded IPv4 address is allow-listed. Returns kInvalidInput when `address_literal` does not
// parse and kConfiguration when the policy contains an invalid CIDR.
Status CheckAddress(std::string_view host, std::string_view address_literal, const UrlPolicy& policy);

// The parts of a URL that the guard and the fetcher need.
struct FetchUrlParts {
  std::string url;     // normalized by libcurl's URL parser
  std::string scheme;  // "http" or "https"
  std::string host;    // lowercase ASCII (punycode) host name, or an address literal without brackets or zone
  std::uint16_t port = 0;  // explicit port or the scheme's default
  bool host_is_address = false;  // true when `host` is an IPv4 or IPv6 literal
};

// Parses `url` with libcurl's URL API and checks what can be checked without DNS: at most
// kMaxUrlBytes, scheme http or https, a non-empty host, no user name or password. Any port is
// accepted. Returns kInvalidInput naming the problem; the message never repeats a password.
Result<FetchUrlParts> ParseFetchUrl(std::string_view url);

// Checks a provider base URL or endpoint stored in a credential (an AI provider's API, often a
// local Ollama or LM Studio), without resolving or connecting. Provider URLs are chosen by the
// operator, so loopback, private and unique-local addresses are allowed, unlike URL sources.
// Rejected with kInvalidInput naming `field`: schemes other than http and https, user names or
// passwords in the URL, and hosts that are or name link-local (cloud metadata), unspecified,
// multicast, broadcast or reserved addresses, including the metadata names
// metadata.google.internal and instance-data. Callers must also check each address the host
// resolves to with CheckProviderAddress before connecting.
Status CheckProviderUrl(std::string_view field, std::string_view url);

// Checks one address that a provider URL host resolved to, by the rules of CheckProviderUrl.
// Returns kForbidden naming the host and the address.
Status CheckProviderAddress(std::string_view host, std::string_view address_literal);

}  // namespace on::ingest
