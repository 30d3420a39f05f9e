// Which URL paths map to files of the web UI, and which upstream and public API addresses parse.
#include <gtest/gtest.h>

#include "http/frontend_server.h"
#include "http/static_files.h"

namespace on::http {
namespace {

TEST(StaticRelativePath, MapsPlainPathsBelowTheRoot) {
  EXPECT_EQ(StaticRelativePath("/"), std::filesystem::path("index.html"));
  EXPECT_EQ(StaticRelativePath(""), std::filesystem::path("index.html"));
  EXPECT_EQ(StaticRelativePath("/assets/index-3f9a.js"), std::filesystem::path("assets/index-3f9a.js"));
  EXPECT_EQ(StaticRelativePath("//assets///a.css"), std::filesystem::path("assets/a.css"));
  EXPECT_EQ(StaticRelativePath("/notebooks/notebook:abc"), std::filesystem::path("notebooks/notebook:abc"));
}

TEST(StaticRelativePath, RefusesEscapesAndControlCharacters) {
  for (const std::string& path : std::vector<std::string>{"/..", "/../etc/passwd", "/assets/../../x", "/./index.html",
                                                         "/a\\..\\b", std::string("/a\0b", 4), "/a\x7f", "/a\nb"}) {
    EXPECT_FALSE(StaticRelativePath(path).has_value()) << path;
  }
  // Dots inside a name are ordinary characters.
  EXPECT_TRUE(StaticRelativePath("/..hidden").has_value());
  EXPECT_TRUE(StaticRelativePath("/a..b.js").has_value());
}

TEST(ContentTypeFor, KnowsTheBuildOutputTypes) {
  EXPECT_EQ(ContentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("assets/a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("a.woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeFor("a.unknown"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("noextension"), "application/octet-stream");
}

TEST(ParseUpstreamUrl, AcceptsHostAndPort) {
  auto plain = ParseUpstreamUrl("http://127.0.0.1:5055", "INTERNAL_API_URL");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 5055);
  auto named = ParseUpstreamUrl("http://api/", "INTERNAL_API_URL");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->host, "api");
  EXPECT_EQ(named->port, 80);
  auto v6 = ParseUpstreamUrl("http://[::1]:6000", "INTERNAL_API_URL");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->ToString(), "http://[::1]:6000");
}

TEST(ParseUpstreamUrl, NamesTheSettingAndTheFix) {
  for (const std::string url : {"https://api:5055", "api:5055", "http://api:5055/api", "http://:5055", "http://api:0",
                                "http://api:70000", "http://api:x", "http://user@api:5055", "http://[::1"}) {
    auto parsed = ParseUpstreamUrl(url, "INTERNAL_API_URL");
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidInput);
    EXPECT_NE(parsed.status().message().find("INTERNAL_API_URL '" + url + "'"), std::string::npos)
        << parsed.status().message();
  }
}

TEST(NormalizePublicApiUrl, AcceptsEmptyAndOrigins) {
  EXPECT_EQ(NormalizePublicApiUrl("").value(), "");
  EXPECT_EQ(NormalizePublicApiUrl("https://notes.example.com/").value(), "https://notes.example.com");
  EXPECT_EQ(NormalizePublicApiUrl("http://10.0.0.5:5055").value(), "http://10.0.0.5:5055");
  for (const std::string url : {"notes.example.com", "https://notes.example.com/api", "ftp://x", "https://",
                                "https://x:99999"}) {
    auto parsed = NormalizePublicApiUrl(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_NE(parsed.status().message().find("API_URL '" + url + "'"), std::string::npos) << parsed.status().message();
  }
}

}  // namespace
}  // namespace on::http
