// Tests of the SSRF guard's decisions. They only parse and classify literals; nothing connects.
#include "ingest/ssrf_guard.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace on::ingest {
namespace {

struct ClassifyCase {
  const char* literal;
  AddressCategory category;
};

AddressCategory Classify(const char* literal) {
  const Result<IpAddress> address = ParseIpAddress(literal);
  EXPECT_TRUE(address.ok()) << literal << ": " << address.status().ToString();
  return address.ok() ? ClassifyAddress(*address) : AddressCategory::kReserved;
}

TEST(SsrfGuard, ClassifiesIpv4) {
  using C = AddressCategory;
  const std::vector<ClassifyCase> cases = {
      {"0.0.0.0", C::kUnspecified},        {"0.1.2.3", C::kUnspecified},
      {"127.0.0.1", C::kLoopback},         {"127.255.255.254", C::kLoopback},
      {"10.0.0.1", C::kPrivate},           {"10.255.255.255", C::kPrivate},
      {"172.16.0.1", C::kPrivate},         {"172.31.255.255", C::kPrivate},
      {"192.168.1.1", C::kPrivate},        {"100.64.0.1", C::kSharedAddress},
      {"100.127.255.255", C::kSharedAddress}, {"169.254.169.254", C::kLinkLocal},
      {"169.254.0.1", C::kLinkLocal},      {"224.0.0.1", C::kMulticast},
      {"239.255.255.250", C::kMulticast},  {"255.255.255.255", C::kBroadcast},
      {"240.0.0.1", C::kReserved},         {"192.0.0.170", C::kReserved},
      {"192.0.2.10", C::kDocumentation},   {"198.51.100.7", C::kDocumentation},
      {"203.0.113.99", C::kDocumentation}, {"198.18.0.1", C::kBenchmarking},
      {"198.19.255.255", C::kBenchmarking}, {"8.8.8.8", C::kPublic},
      {"1.1.1.1", C::kPublic},             {"172.15.255.255", C::kPublic},
      {"172.32.0.0", C::kPublic},          {"100.63.255.255", C::kPublic},
      {"100.128.0.0", C::kPublic},         {"11.0.0.1", C::kPublic},
      {"192.169.0.1", C::kPublic},         {"198.20.0.1", C::kPublic},
      {"223.255.255.255", C::kPublic},
  };
  for (const ClassifyCase& c : cases) {
    EXPECT_EQ(Classify(c.literal), c.category) << c.literal;
  }
}

TEST(SsrfGuard, ClassifiesIpv6) {
  using C = AddressCategory;
  const std::vector<ClassifyCase> cases = {
      {"::", C::kUnspecified},
      {"::1", C::kLoopback},
      {"[::1]", C::kLoopback},
      {"0:0:0:0:0:0:0:1", C::kLoopback},
      {"fe80::1", C::kLinkLocal},
      {"fe80::1%eth0", C::kLinkLocal},
      {"fe80::1%2", C::kLinkLocal},
      {"febf::1", C::kLinkLocal},
      {"fc00::1", C::kUniqueLocal},
      {"fd00:ec2::254", C::kUniqueLocal},
      {"fec0::1", C::kPrivate},
      {"ff02::1", C::kMulticast},
      {"ff05::2", C::kMulticast},
      {"2001:db8::1", C::kDocumentation},
      {"3fff::1", C::kDocumentation},
      {"2001:2::1", C::kBenchmarking},
      {"2001::1", C::kReserved},
      {"2001:1ff::1", C::kReserved},
      {"100::1", C::kReserved},
      {"::127.0.0.1", C::kReserved},
      {"4000::1", C::kReserved},
      {"64:ff9b:1::1", C::kReserved},
      {"2606:4700:4700::1111", C::kPublic},
      {"2001:4860:4860::8888", C::kPublic},
      {"2a00:1450:4001::1", C::kPublic},
  };
  for (const ClassifyCase& c : cases) {
    EXPECT_EQ(Classify(c.literal), c.category) << c.literal;
  }
}

TEST(SsrfGuard, ClassifiesEmbeddedIpv4) {
  using C = AddressCategory;
  const std::vector<ClassifyCase> cases = {
      {"::ffff:127.0.0.1", C::kLoopback},
      {"::ffff:7f00:1", C::kLoopback},
      {"::ffff:10.1.2.3", C::kPrivate},
      {"::ffff:169.254.169.254", C::kLinkLocal},
      {"::ffff:0.0.0.0", C::kUnspecified},
      {"::ffff:8.8.8.8", C::kPublic},
      {"64:ff9b::10.0.0.1", C::kPrivate},
      {"64:ff9b::127.0.0.1", C::kLoopback},
      {"64:ff9b::8.8.8.8", C::kPublic},
      {"2002:a00:1::", C::kPrivate},
      {"2002:7f00:1::1", C::kLoopback},
      {"2002:808:808::1", C::kPublic},
  };
  for (const ClassifyCase& c : cases) {
    EXPECT_EQ(Classify(c.literal), c.category) << c.literal;
  }
}

TEST(SsrfGuard, RejectsNonCanonicalIpv4) {
  for (const char* literal : {"127.1", "0x7f.0.0.1", "2130706433", "010.0.0.1", "1.2.3.4.5", "1.2.3", "256.0.0.1",
                              "", "[]", "example.test", "::g", "1.2.3.4 "}) {
    EXPECT_FALSE(ParseIpAddress(literal).ok()) << "'" << literal << "'";
  }
}

TEST(SsrfGuard, FormatsAddresses) {
  EXPECT_EQ(ParseIpAddress("010.0.0.1").ok(), false);
  EXPECT_EQ(ParseIpAddress("10.0.0.1")->ToString(), "10.0.0.1");
  EXPECT_EQ(ParseIpAddress("0:0:0:0:0:0:0:1")->ToString(), "::1");
  EXPECT_EQ(ParseIpAddress("::FFFF:7f00:1")->ToString(), "::ffff:127.0.0.1");
  EXPECT_EQ(ParseIpAddress("[fe80::1%eth0]")->ToString(), "fe80::1");
}

TEST(SsrfGuard, RejectsNonPublicAddresses) {
  const UrlPolicy no_exceptions;
  for (const char* literal : {"127.0.0.1", "10.1.2.3", "172.16.5.4", "192.168.0.1", "100.64.0.1", "169.254.169.254",
                              "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1%eth0", "fd00:ec2::254",
                              "::ffff:127.0.0.1", "::ffff:169.254.169.254", "ff02::1"}) {
    const Status status = CheckAddress("example.test", literal, no_exceptions);
    EXPECT_EQ(status.code(), ErrorCode::kForbidden) << literal;
  }
}

TEST(SsrfGuard, AllowsPublicAddresses) {
  const UrlPolicy no_exceptions;
  for (const char* literal : {"8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "::ffff:1.1.1.1"}) {
    EXPECT_TRUE(CheckAddress("example.test", literal, no_exceptions).ok()) << literal;
  }
}

TEST(SsrfGuard, MessageNamesHostAddressAndFix) {
  const Status status = CheckAddress("example.test", "10.1.2.3", UrlPolicy{});
  EXPECT_EQ(status.code(), ErrorCode::kForbidden);
  EXPECT_EQ(status.message(),
            "URL host example.test resolves to 10.1.2.3, which is a private address. Add 10.1.2.3/32 to "
            "OPEN_NOTEBOOK_URL_ALLOWLIST to allow it.");
}

TEST(SsrfGuard, MessageForLiteralHost) {
  const Status status = CheckAddress("169.254.169.254", "169.254.169.254", UrlPolicy{});
  EXPECT_NE(status.message().find("URL host 169.254.169.254 is a link-local address"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("169.254.169.254/32"), std::string::npos) << status.message();
}

TEST(SsrfGuard, MessageForMappedAddress) {
  const Status status = CheckAddress("mapped.test", "::ffff:10.0.0.1", UrlPolicy{});
  EXPECT_NE(status.message().find("embedding the IPv4 address 10.0.0.1"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("a private address"), std::string::npos) << status.message();
}

TEST(SsrfGuard, AllowListExemptsAddresses) {
  const Result<UrlPolicy> policy = ParseUrlPolicy("127.0.0.1/32, 10.0.0.0/8,fd00::/8 , ::1");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  for (const char* literal : {"127.0.0.1", "10.0.0.5", "10.255.0.1", "fd00:ec2::254", "::1", "::ffff:10.0.0.7",
                              "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(CheckAddress("internal.test", literal, *policy).ok()) << literal;
  }
  for (const char* literal : {"127.0.0.2", "192.168.1.1", "fc00::1", "169.254.169.254", "::ffff:192.168.1.1"}) {
    EXPECT_EQ(CheckAddress("internal.test", literal, *policy).code(), ErrorCode::kForbidden) << literal;
  }
}

TEST(SsrfGuard, AllowListedScopedAddress) {
  const UrlPolicy policy{{"fe80::/10"}};
  EXPECT_TRUE(CheckAddress("router.test", "fe80::1%eth0", policy).ok());
}

TEST(SsrfGuard, ParsesPolicySetting) {
  const Result<UrlPolicy> policy = ParseUrlPolicy(" 127.0.0.1/32,,10.0.0.5/32 ,");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->allow_cidrs, (std::vector<std::string>{"127.0.0.1/32", "10.0.0.5/32"}));

  const Result<UrlPolicy> empty = ParseUrlPolicy("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->allow_cidrs.empty());
}

TEST(SsrfGuard, RejectsInvalidPolicyEntries) {
  for (const char* setting : {"10.0.0.5/8", "localhost", "10.0.0.0/33", "::1/129", "10.0.0.0/", "10.0.0.0/-1",
                              "10.0.0.0/8x", "127.0.0.1/32,nonsense", "fd00::1/8"}) {
    const Result<UrlPolicy> policy = ParseUrlPolicy(setting);
    ASSERT_FALSE(policy.ok()) << setting;
    EXPECT_EQ(policy.status().code(), ErrorCode::kConfiguration) << setting;
    EXPECT_NE(policy.status().message().find("OPEN_NOTEBOOK_URL_ALLOWLIST"), std::string::npos) << setting;
  }
}

TEST(SsrfGuard, InvalidPolicyFailsClosed) {
  const UrlPolicy policy{{"not-a-cidr"}};
  EXPECT_EQ(CheckAddress("internal.test", "10.0.0.1", policy).code(), ErrorCode::kConfiguration);
}

TEST(SsrfGuard, ParsesHttpUrls) {
  const Result<FetchUrlParts> plain = ParseFetchUrl("http://Example.TEST/path?q=1#frag");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->scheme, "http");
  EXPECT_EQ(plain->host, "example.test");
  EXPECT_EQ(plain->port, 80);
  EXPECT_FALSE(plain->host_is_address);

  const Result<FetchUrlParts> secure = ParseFetchUrl("HTTPS://example.test:8443/");
  ASSERT_TRUE(secure.ok()) << secure.status().ToString();
  EXPECT_EQ(secure->scheme, "https");
  EXPECT_EQ(secure->port, 8443);

  const Result<FetchUrlParts> default_https = ParseFetchUrl("https://example.test/");
  ASSERT_TRUE(default_https.ok());
  EXPECT_EQ(default_https->port, 443);
}

TEST(SsrfGuard, ParsesAddressHosts) {
  const Result<FetchUrlParts> v6 = ParseFetchUrl("http://[::1]:8080/x");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_TRUE(v6->host_is_address);
  EXPECT_EQ(v6->port, 8080);

  const Result<FetchUrlParts> scoped = ParseFetchUrl("http://[fe80::1%25eth0]/");
  ASSERT_TRUE(scoped.ok()) << scoped.status().ToString();
  EXPECT_EQ(scoped->host, "fe80::1");
  EXPECT_TRUE(scoped->host_is_address);

  const Result<FetchUrlParts> mapped = ParseFetchUrl("http://[::ffff:169.254.169.254]/");
  ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
  EXPECT_EQ(mapped->host, "::ffff:169.254.169.254");
}

// libcurl's URL parser turns the numeric IPv4 forms that browsers accept into dotted quads, so
// the guard checks the address that the connection would use.
TEST(SsrfGuard, NormalizesNumericIpv4Hosts) {
  for (const char* url : {"http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://0177.0.0.1/"}) {
    const Result<FetchUrlParts> parts = ParseFetchUrl(url);
    ASSERT_TRUE(parts.ok()) << url << ": " << parts.status().ToString();
    EXPECT_EQ(parts->host, "127.0.0.1") << url;
    EXPECT_TRUE(parts->host_is_address) << url;
  }
}

TEST(SsrfGuard, AcceptsAnyPort) {
  for (const char* url : {"http://example.test:1/", "http://example.test:22/", "https://example.test:65535/"}) {
    EXPECT_TRUE(ParseFetchUrl(url).ok()) << url;
  }
}

TEST(SsrfGuard, RejectsOtherSchemes) {
  for (const char* url : {"ftp://example.test/file", "file:///etc/passwd", "gopher://example.test/", "dict://x.test/",
                          "ldap://example.test/", "javascript:alert(1)", "data:text/html,hi"}) {
    const Result<FetchUrlParts> parts = ParseFetchUrl(url);
    ASSERT_FALSE(parts.ok()) << url;
    EXPECT_EQ(parts.status().code(), ErrorCode::kInvalidInput) << url;
  }
}

TEST(SsrfGuard, RejectsMalformedUrls) {
  for (const char* url : {"", "example.test/page", "http://", "http://exa mple.test/", "http://a/b\nc",
                          "http://example.test:99999/", "http://example.test:0/"}) {
    const Result<FetchUrlParts> parts = ParseFetchUrl(url);
    EXPECT_FALSE(parts.ok()) << url;
  }
  EXPECT_EQ(ParseFetchUrl("http://example.test/" + std::string(kMaxUrlBytes, 'a')).status().code(),
            ErrorCode::kInvalidInput);
}

TEST(SsrfGuard, RejectsCredentials) {
  for (const char* url : {"http://user:secret-password@example.test/", "http://user@example.test/",
                          "https://:secret-password@example.test/"}) {
    const Result<FetchUrlParts> parts = ParseFetchUrl(url);
    ASSERT_FALSE(parts.ok()) << url;
    EXPECT_EQ(parts.status().code(), ErrorCode::kInvalidInput) << url;
    EXPECT_EQ(parts.status().message().find("secret-password"), std::string::npos) << parts.status().message();
  }
}

TEST(SsrfGuard, ConvertsUnicodeHostToPunycode) {
  const Result<FetchUrlParts> parts = ParseFetchUrl("http://b\xC3\xBC" "cher.test/");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(parts->host, "xn--bcher-kva.test");
  EXPECT_EQ(parts->url, "http://xn--bcher-kva.test/");

  EXPECT_EQ(ParseFetchUrl("http://a\xE2\x80\x8D" "b.test/").status().code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace on::ingest
