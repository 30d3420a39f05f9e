#include "ingest/block_page.h"

#include <gtest/gtest.h>

#include <string>

namespace on::ingest {
namespace {

// Returns `words` words of ordinary prose.
std::string Prose(int words) {
  std::string text;
  static constexpr const char* kWords[] = {"the", "river", "carried", "fine", "silt", "downstream."};
  for (int i = 0; i < words; ++i) {
    text += kWords[i % 6];
    text += ' ';
  }
  return text;
}

TEST(BlockPage, BlockingStatusesAlwaysBlock) {
  for (long status : {401L, 403L, 407L, 429L, 451L}) {
    EXPECT_TRUE(LooksLikeBlockPage("", status)) << status;
    EXPECT_TRUE(LooksLikeBlockPage(Prose(2000), status)) << status;
  }
}

TEST(BlockPage, DetectsCloudflareChallenge) {
  const std::string text =
      "Just a moment...\n\nChecking if the site connection is secure\n\nexample.test needs to review the "
      "security of your connection before proceeding.\n\nRay ID: 7f1a2b3c4d5e6f70\nPerformance & security by "
      "Cloudflare";
  EXPECT_TRUE(LooksLikeBlockPage(text, 200));
  EXPECT_TRUE(LooksLikeBlockPage(text, 503));
}

TEST(BlockPage, DetectsAkamaiAccessDenied) {
  const std::string text =
      "Access Denied\nYou don\xE2\x80\x99t have permission to access \"http://www.example.test/\" on this "
      "server.\nReference #18.4e2d1402.1700000000.1a2b3c4d";
  EXPECT_TRUE(LooksLikeBlockPage(text, 200));
}

TEST(BlockPage, DetectsCaptchaChallenge) {
  EXPECT_TRUE(LooksLikeBlockPage("Our systems have detected unusual traffic from your computer network. "
                                 "Please complete the CAPTCHA below.",
                                 200));
  EXPECT_TRUE(LooksLikeBlockPage("Please verify you are human by completing the action below. " + Prose(300), 200));
}

TEST(BlockPage, DetectsLoginWall) {
  EXPECT_TRUE(LooksLikeBlockPage("Sign in to continue\nEmail\nPassword\nForgot password?\nLog in", 200));
  EXPECT_TRUE(LooksLikeBlockPage("Please log in to view this page.", 200));
}

TEST(BlockPage, DetectsPaywallInShortPage) {
  const std::string text = "Subscribe to continue reading. Already a subscriber? Sign in. " + Prose(100);
  EXPECT_TRUE(LooksLikeBlockPage(text, 200));
}

TEST(BlockPage, DetectsJavascriptRequired) {
  EXPECT_TRUE(LooksLikeBlockPage("You need to ENABLE   JAVASCRIPT to run this app.", 200));
}

TEST(BlockPage, KeepsOrdinaryShortPage) {
  EXPECT_FALSE(LooksLikeBlockPage("Hello world. This is my small blog about rivers and silt.", 200));
}

TEST(BlockPage, KeepsEmptyText) {
  EXPECT_FALSE(LooksLikeBlockPage("", 200));
  EXPECT_FALSE(LooksLikeBlockPage(" \n\t ", 200));
}

TEST(BlockPage, KeepsLongArticleMentioningWalls) {
  const std::string text = Prose(400) + " Users who sign in see an access denied error when the captcha fails. " +
                           Prose(400);
  EXPECT_FALSE(LooksLikeBlockPage(text, 200));
}

TEST(BlockPage, KeepsVeryLongArticleWithChallengePhrase) {
  const std::string text = Prose(500) + " The page said: verify you are human. " + Prose(500);
  EXPECT_FALSE(LooksLikeBlockPage(text, 200));
}

TEST(BlockPage, OneWallPhraseNeedsVeryShortText) {
  const std::string text = "Log in " + Prose(120);
  EXPECT_FALSE(LooksLikeBlockPage(text, 200));
}

TEST(BlockPage, OtherErrorsUseText) {
  EXPECT_FALSE(LooksLikeBlockPage("Not Found. The page you requested does not exist on this site.", 404));
  EXPECT_TRUE(LooksLikeBlockPage("Too Many Requests. Rate limit exceeded.", 503));
}

}  // namespace
}  // namespace on::ingest
