#include "search/tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace on::search {
namespace {

std::vector<std::string> Terms(const Tokenizer& tokenizer, std::string_view text) {
  std::vector<std::string> terms;
  for (const Token& token : tokenizer.Tokenize(text)) terms.push_back(token.term);
  return terms;
}

bool Contains(const std::vector<std::string>& terms, std::string_view term) {
  return std::find(terms.begin(), terms.end(), term) != terms.end();
}

std::string ReadTestData(const std::string& name) {
  std::ifstream file(std::string(ON_SOURCE_DIR) + "/tests/data/search/" + name, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

TEST(Tokenizer, StemsEnglish) {
  const Tokenizer tokenizer;
  const std::vector<std::string> expected = {"run", "run", "run", "runner"};
  EXPECT_EQ(Terms(tokenizer, "running runs run runners"), expected);
}

TEST(Tokenizer, AsciiWordTermMatchesTokenize) {
  const Tokenizer english;
  const Tokenizer unstemmed("none");
  for (const char* word : {"Running", "packages", "don't", "O'Reilly", "1'000", "abc123", "X11", "2026", "a",
                           "Debian's", "installation", "IPv6"}) {
    for (const Tokenizer* tokenizer : {&english, &unstemmed}) {
      const std::vector<std::string> terms = Terms(*tokenizer, word);
      ASSERT_EQ(terms.size(), 1u) << word;
      EXPECT_EQ(tokenizer->AsciiWordTerm(word), terms[0]) << word << " with " << tokenizer->stem_language();
    }
  }
  const std::string long_word(Tokenizer::kMaxTermBytes + 1, 'a');
  EXPECT_TRUE(Terms(english, long_word).empty());
  EXPECT_EQ(english.AsciiWordTerm(long_word), "");
}

TEST(Tokenizer, SkipsPunctuationAndSpaces) {
  const Tokenizer tokenizer("none");
  const std::vector<std::string> expected = {"hello", "world"};
  EXPECT_EQ(Terms(tokenizer, "  Hello,   world!!! -- ... "), expected);
}

TEST(Tokenizer, OffsetsPointAtSource) {
  const Tokenizer tokenizer;
  const std::string text = "Die Straße, 東京に and don’t ＦＵＬＬ-width.";
  const std::vector<Token> tokens = tokenizer.Tokenize(text);
  const std::vector<std::string> surfaces = {"Die",   "Straße", "東京",     "に",
                                             "and",   "don’t",  "ＦＵＬＬ", "width"};
  ASSERT_EQ(tokens.size(), surfaces.size());
  for (size_t i = 0; i < surfaces.size(); ++i) {
    EXPECT_EQ(text.substr(tokens[i].begin, tokens[i].end - tokens[i].begin), surfaces[i]) << i;
  }
}

TEST(Tokenizer, FoldsCaseAndWidth) {
  const Tokenizer tokenizer("none");
  const std::vector<std::string> expected = {"strasse", "abc", "finance", "1"};
  EXPECT_EQ(Terms(tokenizer, "STRASSE Ａｂｃ ﬁnance ⑴"), expected);
  EXPECT_EQ(Terms(tokenizer, "Straße")[0], "strasse");
}

TEST(Tokenizer, SegmentsChinese) {
  const Tokenizer tokenizer;
  const std::vector<std::string> terms = Terms(tokenizer, "我们研究感冒病毒的传播。");
  EXPECT_TRUE(Contains(terms, "感冒"));
  EXPECT_TRUE(Contains(terms, "病毒"));
  EXPECT_TRUE(Contains(terms, "传播"));
  EXPECT_FALSE(Contains(terms, "。"));
}

TEST(Tokenizer, SegmentsJapanese) {
  const Tokenizer tokenizer;
  const std::vector<std::string> terms =
      Terms(tokenizer, "私は日本語を勉強します。東京に住んでいます。");
  EXPECT_TRUE(Contains(terms, "東京"));
  EXPECT_TRUE(Contains(terms, "勉強"));
  EXPECT_TRUE(Contains(terms, "日本語"));
}

TEST(Tokenizer, SegmentsThai) {
  const Tokenizer tokenizer;
  const std::vector<std::string> terms = Terms(tokenizer, "ภาษาไทยง่ายนิดเดียว");
  EXPECT_GE(terms.size(), 3u);
  EXPECT_TRUE(Contains(terms, "ภาษา"));
}

TEST(Tokenizer, StemsByScript) {
  const Tokenizer tokenizer;
  const std::vector<std::string> russian = Terms(tokenizer, "Москва москвы");
  ASSERT_EQ(russian.size(), 2u);
  EXPECT_EQ(russian[0], russian[1]);
  EXPECT_EQ(russian[0], "москв");
  const std::vector<std::string> greek = Terms(tokenizer, "ΣΟΦΙΑ σοφία");
  ASSERT_EQ(greek.size(), 2u);
  EXPECT_EQ(greek[0], greek[1]);
  const std::vector<std::string> korean = Terms(tokenizer, "텍스트입니다");
  ASSERT_EQ(korean.size(), 1u);
  EXPECT_EQ(korean[0], "텍스트입니다");
}

TEST(Tokenizer, StemLanguageIsConfigurable) {
  EXPECT_EQ(Terms(Tokenizer("none"), "running")[0], "running");
  EXPECT_EQ(Terms(Tokenizer("French"), "continuellement")[0], "continuel");
  EXPECT_EQ(Tokenizer("French").stem_language(), "french");
}

TEST(Tokenizer, UnknownLanguageDisablesStemming) {
  EXPECT_FALSE(Tokenizer::IsSupportedStemLanguage("klingon"));
  EXPECT_TRUE(Tokenizer::IsSupportedStemLanguage("german"));
  EXPECT_TRUE(Tokenizer::IsSupportedStemLanguage("none"));
  const Tokenizer tokenizer("klingon");
  EXPECT_FALSE(tokenizer.stems_latin());
  EXPECT_EQ(Terms(tokenizer, "running")[0], "running");
}

TEST(Tokenizer, SplitsInsideWordSegments) {
  const Tokenizer tokenizer("none");
  const std::vector<std::string> expected = {"example", "com", "snake", "case", "dont", "3", "14"};
  EXPECT_EQ(Terms(tokenizer, "example.com snake_case don't 3.14"), expected);
}

TEST(Tokenizer, DropsOverlongTerms) {
  const Tokenizer tokenizer;
  const std::string blob(Tokenizer::kMaxTermBytes + 1, 'a');
  const std::vector<std::string> expected = {"short"};
  EXPECT_EQ(Terms(tokenizer, blob + " short"), expected);
}

TEST(Tokenizer, AcceptsInvalidUtf8) {
  const Tokenizer tokenizer("none");
  const std::string text = "\xff\xfe abc \xe4\xb8 def \xc0\xaf\x80 ghi\xf4\x90\x80\x80";
  const std::vector<Token> tokens = tokenizer.Tokenize(text);
  const std::vector<std::string> expected = {"abc", "def", "ghi"};
  ASSERT_EQ(Terms(tokenizer, text), expected);
  for (const Token& token : tokens) {
    EXPECT_EQ(text.substr(token.begin, token.end - token.begin), token.term);
  }
}

TEST(Tokenizer, RandomBytesKeepOffsetsValid) {
  const Tokenizer tokenizer;
  std::mt19937 random(4321);
  for (int round = 0; round < 200; ++round) {
    std::string text(random() % 200, '\0');
    for (char& c : text) c = static_cast<char>(random() % 256);
    for (const Token& token : tokenizer.Tokenize(text)) {
      ASSERT_LT(token.begin, token.end);
      ASSERT_LE(token.end, text.size());
      EXPECT_FALSE(token.term.empty());
      EXPECT_LE(token.term.size(), Tokenizer::kMaxTermBytes);
    }
  }
}

TEST(Tokenizer, EmptyTextHasNoTokens) {
  const Tokenizer tokenizer;
  EXPECT_TRUE(tokenizer.Tokenize("").empty());
  EXPECT_TRUE(tokenizer.Tokenize(" \n\t.,;").empty());
}

TEST(Tokenizer, ForEachTokenStopsEarly) {
  const Tokenizer tokenizer;
  int calls = 0;
  tokenizer.ForEachToken("one two three four", [&](const Token&) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);
}

TEST(Tokenizer, NestedCallsOnOneThread) {
  const Tokenizer tokenizer;
  std::vector<std::string> outer;
  std::vector<std::string> inner;
  tokenizer.ForEachToken("alpha beta gamma", [&](const Token& token) {
    outer.push_back(token.term);
    inner = Terms(tokenizer, "東京に住む");
    return true;
  });
  const std::vector<std::string> expected = {"alpha", "beta", "gamma"};
  EXPECT_EQ(outer, expected);
  EXPECT_TRUE(Contains(inner, "東京"));
}

TEST(Tokenizer, ThreadsGetSameResult) {
  const Tokenizer tokenizer;
  const std::string text = ReadTestData("english_prose.md") + ReadTestData("chinese_sentences.txt");
  const std::vector<Token> expected = tokenizer.Tokenize(text);
  ASSERT_GT(expected.size(), 500u);

  constexpr int kThreads = 8;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        const std::vector<Token> tokens = tokenizer.Tokenize(text);
        const bool same = tokens.size() == expected.size() &&
                          std::equal(tokens.begin(), tokens.end(), expected.begin(),
                                     [](const Token& a, const Token& b) {
                                       return a.term == b.term && a.begin == b.begin &&
                                              a.end == b.end;
                                     });
        if (!same) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

TEST(Tokenizer, OneMegabyteIsFast) {
  const Tokenizer tokenizer;
  const std::string prose = ReadTestData("english_prose.md");
  ASSERT_FALSE(prose.empty());
  std::string text;
  while (text.size() < (1u << 20)) text += prose;

  const auto start = std::chrono::steady_clock::now();
  const size_t count = tokenizer.Tokenize(text).size();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(count, 150000u);
  // About 0.1 s in a RelWithDebInfo build; the bound leaves room for sanitizers and a busy
  // machine while still catching quadratic behavior.
  EXPECT_LT(seconds, 5.0);
}

TEST(TermsForIndex, JoinsTermsWithSpaces) {
  const Tokenizer tokenizer;
  EXPECT_EQ(TermsForIndex("The runners' café, in 東京!", tokenizer), "the runner café in 東京");
  EXPECT_EQ(TermsForIndex("", tokenizer), "");
}

TEST(ExtractQueryTerms, DropsStopWords) {
  const Tokenizer tokenizer;
  const std::vector<QueryTerm> terms =
      ExtractQueryTerms("What is the effect of Aspirin on running?", tokenizer);
  ASSERT_EQ(terms.size(), 3u);
  EXPECT_EQ(terms[0].term, "effect");
  EXPECT_EQ(terms[1].surface, "Aspirin");
  EXPECT_EQ(terms[1].term, "aspirin");
  EXPECT_EQ(terms[2].term, "run");
}

TEST(ExtractQueryTerms, KeepsOnlyStopWordQuery) {
  const Tokenizer tokenizer;
  const std::vector<QueryTerm> terms = ExtractQueryTerms("The Who", tokenizer);
  ASSERT_EQ(terms.size(), 2u);
  EXPECT_EQ(terms[0].term, "the");
  EXPECT_EQ(terms[1].term, "who");
}

TEST(ExtractQueryTerms, KeepsStopWordsForOtherLanguages) {
  const Tokenizer tokenizer("french");
  EXPECT_EQ(ExtractQueryTerms("the effect", tokenizer).size(), 2u);
}

TEST(ExtractQueryTerms, RemovesDuplicates) {
  const Tokenizer tokenizer;
  const std::vector<QueryTerm> terms = ExtractQueryTerms("run running RUNS virus", tokenizer);
  ASSERT_EQ(terms.size(), 2u);
  EXPECT_EQ(terms[0].surface, "run");
  EXPECT_EQ(terms[1].term, "virus");
}

TEST(ExtractQueryTerms, LimitsTermCount) {
  const Tokenizer tokenizer;
  std::string query;
  for (int i = 0; i < 500; ++i) query += "word" + std::to_string(i) + " ";
  EXPECT_EQ(ExtractQueryTerms(query, tokenizer).size(), kMaxQueryTerms);
}

TEST(BuildFts5Match, QuotesEachTerm) {
  const Tokenizer tokenizer;
  EXPECT_EQ(BuildFts5Match("virus transmission", tokenizer), "\"virus\" OR \"transmission\"");
  EXPECT_EQ(BuildFts5Match("東京", tokenizer), "\"東京\"");
}

TEST(BuildFts5Match, NeutralizesSyntax) {
  const Tokenizer tokenizer;
  EXPECT_EQ(BuildFts5Match("\"a\" OR b* NEAR(", tokenizer), "\"b\" OR \"NEAR\"");
  EXPECT_EQ(BuildFts5Match("body:virus -cold ^start", tokenizer),
            "\"body\" OR \"virus\" OR \"cold\" OR \"start\"");
}

TEST(BuildFts5Match, EmptyForNoTerms) {
  const Tokenizer tokenizer;
  EXPECT_EQ(BuildFts5Match("", tokenizer), "");
  EXPECT_EQ(BuildFts5Match("  \"\" ()* ... ", tokenizer), "");
  EXPECT_EQ(BuildFts5Match("\xff\xfe", tokenizer), "");
}

TEST(EstimateTokens, EmptyIsZero) { EXPECT_EQ(EstimateTokens(""), 0u); }

TEST(EstimateTokens, CountsEachCjkCharacter) {
  const std::string chinese = "我们研究感冒病毒的传播";
  EXPECT_GE(EstimateTokens(chinese), 11u);
  const std::string japanese = "私は日本語を勉強します";
  EXPECT_GE(EstimateTokens(japanese), 11u);
  const std::string korean = "한국어텍스트";
  EXPECT_GE(EstimateTokens(korean), 6u);
}

TEST(EstimateTokens, EnglishNearOnePointThreePerWord) {
  const std::string prose = ReadTestData("english_prose.md");
  size_t words = 0;
  std::istringstream stream(prose);
  for (std::string word; stream >> word;) ++words;
  ASSERT_GT(words, 700u);
  const double per_word = static_cast<double>(EstimateTokens(prose)) / static_cast<double>(words);
  EXPECT_GT(per_word, 1.15);
  EXPECT_LT(per_word, 1.5);
}

TEST(EstimateTokens, PricesRuns) {
  EXPECT_EQ(EstimateTokens("the"), 1u);
  EXPECT_EQ(EstimateTokens("the cat"), 2u);
  EXPECT_EQ(EstimateTokens("internationalization"), 4u);
  EXPECT_EQ(EstimateTokens("123456"), 2u);
  EXPECT_EQ(EstimateTokens("Hi."), 2u);
  EXPECT_EQ(EstimateTokens("\xff"), 1u);
}

TEST(TokenEstimator, PiecesMatchWhole) {
  const std::string text = ReadTestData("english_prose.md") + ReadTestData("chinese_sentences.txt");
  for (size_t piece_size : {1u, 7u, 64u, 1000u}) {
    TokenEstimator estimator;
    size_t begin = 0;
    while (begin < text.size()) {
      size_t end = std::min(text.size(), begin + piece_size);
      // Pieces start at UTF-8 sequence starts, as the contract requires.
      while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
      estimator.Append(std::string_view(text).substr(begin, end - begin));
      begin = end;
    }
    EXPECT_EQ(estimator.total(), EstimateTokens(text)) << "piece size " << piece_size;
  }
}

}  // namespace
}  // namespace on::search
