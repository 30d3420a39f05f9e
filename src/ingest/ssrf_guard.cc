#include "ingest/ssrf_guard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <unicode/uidna.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <optional>
#include <utility>

namespace on::ingest {
namespace {

std::string_view Trim(std::string_view text) {
  const auto is_blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

std::optional<IpAddress> ParseIpAddressOrNull(std::string_view literal) {
  // inet_pton needs a NUL-terminated string and accepts neither brackets nor zones.
  if (literal.size() >= 2 && literal.front() == '[' && literal.back() == ']') {
    literal = literal.substr(1, literal.size() - 2);
  }
  if (literal.empty() || literal.size() > 64) return std::nullopt;

  IpAddress address;
  const std::string text(literal);
  if (text.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, text.c_str(), address.bytes.data()) != 1) return std::nullopt;
    address.is_v4 = true;
    return address;
  }

  const std::string without_zone = text.substr(0, text.find('%'));
  if (inet_pton(AF_INET6, without_zone.c_str(), address.bytes.data()) != 1) return std::nullopt;
  return address;
}

// A network in CIDR notation. The host bits of `network` are zero.
struct Cidr {
  IpAddress network;
  int prefix_length = 0;
};

bool PrefixMatches(const IpAddress& address, const Cidr& cidr) {
  if (address.is_v4 != cidr.network.is_v4) return false;
  const int full_bytes = cidr.prefix_length / 8;
  const int remaining_bits = cidr.prefix_length % 8;
  if (!std::equal(address.bytes.begin(), address.bytes.begin() + full_bytes, cidr.network.bytes.begin())) {
    return false;
  }
  if (remaining_bits == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - remaining_bits));
  return (address.bytes[full_bytes] & mask) == (cidr.network.bytes[full_bytes] & mask);
}

bool HasHostBits(const Cidr& cidr) {
  const int total_bits = cidr.network.is_v4 ? 32 : 128;
  for (int bit = cidr.prefix_length; bit < total_bits; ++bit) {
    if ((cidr.network.bytes[bit / 8] >> (7 - bit % 8)) & 1) return true;
  }
  return false;
}

Result<Cidr> ParseCidr(std::string_view text) {
  const std::string_view entry = Trim(text);
  const std::size_t slash = entry.find('/');
  const auto invalid = [&](std::string_view why) {
    return Status(ErrorCode::kConfiguration,
                  "invalid entry '" + std::string(entry) + "' in " + std::string(kUrlAllowlistSetting) + ": " +
                      std::string(why) + ". Use CIDRs such as 10.0.0.0/8 or fd00::/8, separated by commas.");
  };

  const std::optional<IpAddress> network = ParseIpAddressOrNull(entry.substr(0, slash));
  if (!network) return invalid("not an IPv4 or IPv6 address");

  Cidr cidr{*network, network->is_v4 ? 32 : 128};
  if (slash != std::string_view::npos) {
    const std::string_view digits = entry.substr(slash + 1);
    int prefix_length = -1;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix_length);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || prefix_length < 0 ||
        prefix_length > cidr.prefix_length) {
      return invalid(network->is_v4 ? "the prefix length must be 0 to 32" : "the prefix length must be 0 to 128");
    }
    cidr.prefix_length = prefix_length;
  }
  if (HasHostBits(cidr)) return invalid("the address has bits set beyond the prefix length");
  return cidr;
}

Cidr CidrOrDie(std::string_view text) {
  // Only called on the constant tables below, which are known to parse.
  Result<Cidr> cidr = ParseCidr(text);
  assert(cidr.ok());
  return std::move(cidr).value();
}

struct SpecialRange {
  Cidr cidr;
  AddressCategory category;
};

// IPv4 ranges that are not globally reachable, after the IANA IPv4 Special-Purpose Address
// Registry. The first match wins, so the broadcast address comes before 240.0.0.0/4.
const std::vector<SpecialRange>& SpecialV4Ranges() {
  using C = AddressCategory;
  static const std::vector<SpecialRange> ranges = {
      {CidrOrDie("0.0.0.0/8"), C::kUnspecified},        {CidrOrDie("10.0.0.0/8"), C::kPrivate},
      {CidrOrDie("100.64.0.0/10"), C::kSharedAddress},  {CidrOrDie("127.0.0.0/8"), C::kLoopback},
      {CidrOrDie("169.254.0.0/16"), C::kLinkLocal},     {CidrOrDie("172.16.0.0/12"), C::kPrivate},
      {CidrOrDie("192.0.0.0/24"), C::kReserved},        {CidrOrDie("192.0.2.0/24"), C::kDocumentation},
      {CidrOrDie("192.88.99.0/24"), C::kReserved},      {CidrOrDie("192.168.0.0/16"), C::kPrivate},
      {CidrOrDie("198.18.0.0/15"), C::kBenchmarking},   {CidrOrDie("198.51.100.0/24"), C::kDocumentation},
      {CidrOrDie("203.0.113.0/24"), C::kDocumentation}, {CidrOrDie("224.0.0.0/4"), C::kMulticast},
      {CidrOrDie("255.255.255.255/32"), C::kBroadcast}, {CidrOrDie("240.0.0.0/4"), C::kReserved},
  };
  return ranges;
}

// IPv6 ranges checked after the IPv4-embedding prefixes, after the IANA IPv6 Special-Purpose
// Address Registry. The first match wins, so the small 2001:: ranges come before 2001::/23.
const std::vector<SpecialRange>& SpecialV6Ranges() {
  using C = AddressCategory;
  static const std::vector<SpecialRange> ranges = {
      {CidrOrDie("::/128"), C::kUnspecified},        {CidrOrDie("::1/128"), C::kLoopback},
      {CidrOrDie("64:ff9b:1::/48"), C::kReserved},   {CidrOrDie("100::/64"), C::kReserved},
      {CidrOrDie("2001::/32"), C::kReserved},        {CidrOrDie("2001:2::/48"), C::kBenchmarking},
      {CidrOrDie("2001::/23"), C::kReserved},        {CidrOrDie("2001:db8::/32"), C::kDocumentation},
      {CidrOrDie("3fff::/20"), C::kDocumentation},   {CidrOrDie("fc00::/7"), C::kUniqueLocal},
      {CidrOrDie("fe80::/10"), C::kLinkLocal},       {CidrOrDie("fec0::/10"), C::kPrivate},
      {CidrOrDie("ff00::/8"), C::kMulticast},
  };
  return ranges;
}

IpAddress V4FromBytes(const std::uint8_t* bytes) {
  IpAddress v4;
  v4.is_v4 = true;
  std::copy(bytes, bytes + 4, v4.bytes.begin());
  return v4;
}

// Returns the IPv4 address embedded in an IPv4-mapped, NAT64 well-known-prefix or 6to4 address.
std::optional<IpAddress> EmbeddedV4(const IpAddress& address) {
  if (address.is_v4) return std::nullopt;
  static const Cidr kMapped = CidrOrDie("::ffff:0:0/96");
  static const Cidr kNat64 = CidrOrDie("64:ff9b::/96");
  static const Cidr kSixToFour = CidrOrDie("2002::/16");
  if (PrefixMatches(address, kMapped) || PrefixMatches(address, kNat64)) return V4FromBytes(&address.bytes[12]);
  if (PrefixMatches(address, kSixToFour)) return V4FromBytes(&address.bytes[2]);
  return std::nullopt;
}

// Returns the IPv4 address of an IPv4-mapped address (::ffff:a.b.c.d), which is the same host.
std::optional<IpAddress> MappedV4(const IpAddress& address) {
  static const Cidr kMapped = CidrOrDie("::ffff:0:0/96");
  if (address.is_v4 || !PrefixMatches(address, kMapped)) return std::nullopt;
  return V4FromBytes(&address.bytes[12]);
}

Result<bool> IsAllowListed(const IpAddress& address, const UrlPolicy& policy) {
  const std::optional<IpAddress> mapped = MappedV4(address);
  for (const std::string& entry : policy.allow_cidrs) {
    ON_ASSIGN_OR_RETURN(const Cidr cidr, ParseCidr(entry));
    if (PrefixMatches(address, cidr)) return true;
    if (mapped && PrefixMatches(*mapped, cidr)) return true;
  }
  return false;
}

std::string SingleAddressCidr(const IpAddress& address) {
  return address.ToString() + (address.is_v4 ? "/32" : "/128");
}

// Frees strings returned by curl_url_get.
struct CurlFree {
  void operator()(char* text) const { curl_free(text); }
};
using CurlString = std::unique_ptr<char, CurlFree>;

struct CurlUrlFree {
  void operator()(CURLU* handle) const { curl_url_cleanup(handle); }
};

std::optional<std::string> GetUrlPart(CURLU* handle, CURLUPart part, unsigned int flags) {
  char* raw = nullptr;
  if (curl_url_get(handle, part, &raw, flags) != CURLUE_OK || raw == nullptr) return std::nullopt;
  CurlString owned(raw);
  return std::string(owned.get());
}

std::string ToLowerAscii(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

bool IsAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Converts an internationalized host name to its ASCII (punycode) form with UTS #46 processing.
// libcurl 7.88.1 offers CURLU_PUNYCODE, but it converts through the process locale and fails in
// the default "C" locale.
Result<std::string> HostToAscii(const std::string& host) {
  if (IsAscii(host)) return ToLowerAscii(host);

  const auto invalid = [&] {
    return InvalidInput("URL host '" + host + "' is not a valid internationalized domain name");
  };
  UErrorCode status = U_ZERO_ERROR;
  // unicode/uidna.h: "The instance is thread-safe, that is, it can be used concurrently."
  static UIDNA* const idna = uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ, &status);
  if (idna == nullptr) return InternalError("ICU could not open a UTS #46 IDNA converter");

  std::array<char, 256> ascii{};
  UIDNAInfo info = UIDNA_INFO_INITIALIZER;
  status = U_ZERO_ERROR;
  const int32_t length = uidna_nameToASCII_UTF8(idna, host.data(), static_cast<int32_t>(host.size()), ascii.data(),
                                                static_cast<int32_t>(ascii.size()), &info, &status);
  if (U_FAILURE(status) || info.errors != 0 || length <= 0 || length >= static_cast<int32_t>(ascii.size())) {
    return invalid();
  }
  return std::string(ascii.data(), static_cast<std::size_t>(length));
}

}  // namespace

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(is_v4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof(text)) == nullptr) return "?";
  return text;
}

Result<IpAddress> ParseIpAddress(std::string_view literal) {
  std::optional<IpAddress> address = ParseIpAddressOrNull(literal);
  if (!address) {
    return InvalidInput("'" + std::string(literal.substr(0, 80)) +
                        "' is not an IP address; expected a dotted-quad IPv4 or an IPv6 address");
  }
  return *address;
}

Result<UrlPolicy> ParseUrlPolicy(std::string_view allow_list_setting) {
  UrlPolicy policy;
  std::string_view rest = allow_list_setting;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view entry = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (entry.empty()) continue;

    ON_RETURN_IF_ERROR(ParseCidr(entry).status());
    policy.allow_cidrs.emplace_back(entry);
  }
  return policy;
}

std::string_view AddressCategoryDescription(AddressCategory category) {
  switch (category) {
    case AddressCategory::kPublic: return "a public address";
    case AddressCategory::kUnspecified: return "an unspecified address";
    case AddressCategory::kLoopback: return "a loopback address";
    case AddressCategory::kPrivate: return "a private address";
    case AddressCategory::kSharedAddress: return "a carrier-grade NAT (shared) address";
    case AddressCategory::kLinkLocal: return "a link-local address (this range includes cloud metadata services)";
    case AddressCategory::kUniqueLocal: return "a unique-local address";
    case AddressCategory::kMulticast: return "a multicast address";
    case AddressCategory::kBroadcast: return "the broadcast address";
    case AddressCategory::kDocumentation: return "a documentation address";
    case AddressCategory::kBenchmarking: return "a benchmarking address";
    case AddressCategory::kReserved: return "a reserved address";
  }
  return "an unknown kind of address";
}

AddressCategory ClassifyAddress(const IpAddress& address) {
  if (std::optional<IpAddress> embedded = EmbeddedV4(address)) return ClassifyAddress(*embedded);

  const auto& ranges = address.is_v4 ? SpecialV4Ranges() : SpecialV6Ranges();
  for (const SpecialRange& range : ranges) {
    if (PrefixMatches(address, range.cidr)) return range.category;
  }

  // IANA allocates global unicast IPv6 only from 2000::/3; everything else is reserved.
  static const Cidr kGlobalUnicast = CidrOrDie("2000::/3");
  if (!address.is_v4 && !PrefixMatches(address, kGlobalUnicast)) return AddressCategory::kReserved;
  return AddressCategory::kPublic;
}

Status CheckAddress(std::string_view host, std::string_view address_literal, const UrlPolicy& policy) {
  ON_ASSIGN_OR_RETURN(const IpAddress address, ParseIpAddress(address_literal));
  const AddressCategory category = ClassifyAddress(address);
  if (category == AddressCategory::kPublic) return Status::Ok();

  ON_ASSIGN_OR_RETURN(const bool allowed, IsAllowListed(address, policy));
  if (allowed) return Status::Ok();

  const std::string address_text = address.ToString();
  std::string message = "URL host " + std::string(host);
  message += (host == address_text || host == address_literal) ? " is " : " resolves to " + address_text + ", which is ";
  if (const std::optional<IpAddress> embedded = EmbeddedV4(address)) {
    message += "an IPv6 address embedding the IPv4 address " + embedded->ToString() + ", ";
  }
  message += std::string(AddressCategoryDescription(category)) + ". Add " + SingleAddressCidr(address) + " to " +
             std::string(kUrlAllowlistSetting) + " to allow it.";
  return Status(ErrorCode::kForbidden, std::move(message));
}

Result<FetchUrlParts> ParseFetchUrl(std::string_view url) {
  if (url.size() > kMaxUrlBytes) {
    return InvalidInput("URL is " + std::to_string(url.size()) + " bytes long; the maximum is " +
                        std::to_string(kMaxUrlBytes) + " bytes");
  }
  const std::unique_ptr<CURLU, CurlUrlFree> handle(curl_url());
  if (!handle) return InternalError("curl_url() failed to allocate a URL handle");

  const std::string text(url);
  const CURLUcode parsed = curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), 0);
  if (parsed != CURLUE_OK) {
    // The URL is not echoed because it may contain a password.
    return InvalidInput(std::string("URL is invalid (") + curl_url_strerror(parsed) +
                        "); use an absolute http:// or https:// URL");
  }

  FetchUrlParts parts;
  parts.scheme = ToLowerAscii(GetUrlPart(handle.get(), CURLUPART_SCHEME, 0).value_or(""));
  if (parts.scheme != "http" && parts.scheme != "https") {
    return InvalidInput("URL scheme '" + parts.scheme + "' is not supported; only http and https URLs can be fetched");
  }
  if (GetUrlPart(handle.get(), CURLUPART_USER, 0) || GetUrlPart(handle.get(), CURLUPART_PASSWORD, 0)) {
    return InvalidInput("URL contains a user name or password before the host; remove the 'user:password@' part");
  }

  const std::optional<std::string> host = GetUrlPart(handle.get(), CURLUPART_HOST, 0);
  if (!host || host->empty()) return InvalidInput("URL has no host name; use an absolute http:// or https:// URL");
  if (const std::optional<IpAddress> literal = ParseIpAddressOrNull(*host)) {
    parts.host_is_address = true;
    parts.host = literal->ToString();
  } else {
    // The URL gets the ASCII host too, so libcurl sends the same name in Host and TLS SNI.
    ON_ASSIGN_OR_RETURN(parts.host, HostToAscii(*host));
    if (curl_url_set(handle.get(), CURLUPART_HOST, parts.host.c_str(), 0) != CURLUE_OK) {
      return InvalidInput("URL host '" + parts.host + "' is not a valid host name");
    }
  }

  const std::optional<std::string> port = GetUrlPart(handle.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  unsigned int port_number = 0;
  if (!port || std::from_chars(port->data(), port->data() + port->size(), port_number).ec != std::errc() ||
      port_number == 0 || port_number > 65535) {
    return InvalidInput("URL port is invalid; use a port from 1 to 65535");
  }
  parts.port = static_cast<std::uint16_t>(port_number);
  parts.url = GetUrlPart(handle.get(), CURLUPART_URL, 0).value_or(text);
  return parts;
}

namespace {

// Categories a provider URL may not reach: metadata services live in link-local space, and the
// others are never a provider's API.
bool ProviderMayReach(const IpAddress& address) {
  // AWS publishes its IPv6 instance metadata service inside unique-local space.
  static const Cidr kAwsMetadataV6 = CidrOrDie("fd00:ec2::254/128");
  if (!address.is_v4 && PrefixMatches(address, kAwsMetadataV6)) return false;
  switch (ClassifyAddress(address)) {
    case AddressCategory::kPublic:
    case AddressCategory::kLoopback:
    case AddressCategory::kPrivate:
    case AddressCategory::kSharedAddress:
    case AddressCategory::kUniqueLocal:
    case AddressCategory::kDocumentation:
    case AddressCategory::kBenchmarking:
      return true;
    case AddressCategory::kUnspecified:
    case AddressCategory::kLinkLocal:
    case AddressCategory::kMulticast:
    case AddressCategory::kBroadcast:
    case AddressCategory::kReserved:
      return false;
  }
  return false;
}

bool IsMetadataHostName(std::string_view host) {
  static constexpr std::string_view kNames[] = {"metadata.google.internal", "metadata.goog", "metadata",
                                                "instance-data", "instance-data.ec2.internal"};
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  for (std::string_view name : kNames) {
    if (host == name) return true;
  }
  return false;
}

}  // namespace

Status CheckProviderUrl(std::string_view field, std::string_view url) {
  auto parts = ParseFetchUrl(url);
  if (!parts.ok()) return InvalidInput(std::string(field) + ": " + parts.status().message());
  if (IsMetadataHostName(parts->host)) {
    return InvalidInput(std::string(field) + " points at the cloud metadata service " + parts->host +
                        ", which a provider URL may not reach");
  }
  if (parts->host_is_address) {
    ON_ASSIGN_OR_RETURN(const IpAddress address, ParseIpAddress(parts->host));
    if (!ProviderMayReach(address)) {
      return InvalidInput(std::string(field) + " host " + address.ToString() + " is " +
                          std::string(AddressCategoryDescription(ClassifyAddress(address))) +
                          ", which a provider URL may not reach; use the provider's http:// or https:// address");
    }
  }
  return Status::Ok();
}

Status CheckProviderAddress(std::string_view host, std::string_view address_literal) {
  ON_ASSIGN_OR_RETURN(const IpAddress address, ParseIpAddress(address_literal));
  if (ProviderMayReach(address)) return Status::Ok();
  return Status(ErrorCode::kForbidden, "provider host " + std::string(host) + " resolves to " + address.ToString() +
                                           ", which is " +
                                           std::string(AddressCategoryDescription(ClassifyAddress(address))) +
                                           "; a provider URL may not reach it");
}

}  // namespace on::ingest
