#include "search/snippet.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace on::search {
namespace {

std::vector<std::string> QueryTerms(const Tokenizer& tokenizer, std::string_view query) {
  std::vector<std::string> terms;
  for (const QueryTerm& term : ExtractQueryTerms(query, tokenizer)) terms.push_back(term.term);
  return terms;
}

// The words between the match markers, in order.
std::vector<std::string> Marked(const std::string& snippet) {
  std::vector<std::string> marked;
  size_t begin = 0;
  while ((begin = snippet.find(kMatchBegin, begin)) != std::string::npos) {
    const size_t end = snippet.find(kMatchEnd, begin);
    marked.push_back(snippet.substr(begin + 1, end - begin - 1));
    begin = end;
  }
  return marked;
}

std::string Plain(std::string snippet) {
  std::erase(snippet, kMatchBegin);
  std::erase(snippet, kMatchEnd);
  return snippet;
}

TEST(SnippetBuilder, MarksStemmedMatchesInTheDensestPart) {
  const Tokenizer tokenizer;
  std::string text;
  for (int i = 0; i < 40; ++i) text += "filler words about nothing much. ";
  text += "The virus spreads by transmission between hosts.";
  for (int i = 0; i < 40; ++i) text += " more filler words here.";

  const std::string snippet = SnippetBuilder(QueryTerms(tokenizer, "viruses transmissions"), tokenizer, 12).Build(text);
  EXPECT_EQ(Marked(snippet), (std::vector<std::string>{"virus", "transmission"})) << snippet;
  EXPECT_EQ(snippet.rfind("… ", 0), 0u) << "cut at the start: " << snippet;
  EXPECT_EQ(snippet.substr(snippet.size() - 4), " …") << snippet;
  EXPECT_NE(Plain(snippet).find("The virus spreads by transmission between hosts"), std::string::npos) << snippet;
}

TEST(SnippetBuilder, StartOfTextWithoutMatches) {
  const Tokenizer tokenizer;
  const std::string snippet =
      SnippetBuilder(QueryTerms(tokenizer, "absent"), tokenizer, 4).Build("One two three four five six seven");
  EXPECT_EQ(snippet, "One two three four …");
}

TEST(SnippetBuilder, WholeShortTextWithWhitespaceFolded) {
  const Tokenizer tokenizer;
  EXPECT_EQ(SnippetBuilder(QueryTerms(tokenizer, "packages"), tokenizer).Build("Install\n\n  the   package.\n"),
            "Install the \x01package\x02.");
}

TEST(SnippetBuilder, ChineseAndJapaneseWordsInsideUnspacedText) {
  const Tokenizer tokenizer;
  EXPECT_EQ(Marked(SnippetBuilder(QueryTerms(tokenizer, "北京"), tokenizer).Build("我们明天去北京参观博物馆。")),
            (std::vector<std::string>{"北京"}));
  EXPECT_EQ(Marked(SnippetBuilder(QueryTerms(tokenizer, "東京"), tokenizer).Build("私は東京に住んでいます。")),
            (std::vector<std::string>{"東京"}));
}

TEST(SnippetBuilder, NonAsciiWordsAmongAsciiOnes) {
  const Tokenizer tokenizer;
  const std::string snippet =
      SnippetBuilder(QueryTerms(tokenizer, "CAFÉ zürich don't"), tokenizer).Build("A café in Zürich — don't miss the Café au lait.");
  EXPECT_EQ(Marked(snippet), (std::vector<std::string>{"café", "Zürich", "don't", "Café"})) << snippet;
}

TEST(SnippetBuilder, EmptyTextGivesEmptySnippet) {
  const Tokenizer tokenizer;
  EXPECT_EQ(SnippetBuilder(QueryTerms(tokenizer, "word"), tokenizer).Build(""), "");
  EXPECT_EQ(SnippetBuilder(QueryTerms(tokenizer, "word"), tokenizer).Build(" \n\t "), "");
}

// Every word the tokenizer turns into a query term is marked, and no other word is: the fast
// scan of ASCII text agrees with the index on a page of real documentation.
TEST(SnippetBuilder, MarksWhatTheIndexMatchesOnRealText) {
  const Tokenizer tokenizer;
  std::ifstream file(std::string(ON_SOURCE_DIR) + "/README.md", std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  const std::string text = contents.str();
  ASSERT_GT(text.size(), 2000u);

  const std::vector<std::string> query_terms = QueryTerms(tokenizer, "search tests running sources notebook's");
  const std::string snippet = SnippetBuilder(query_terms, tokenizer, 1'000'000).Build(text);

  std::vector<std::string> expected;
  for (const Token& token : tokenizer.Tokenize(text)) {
    if (std::find(query_terms.begin(), query_terms.end(), token.term) != query_terms.end()) {
      expected.push_back(text.substr(token.begin, token.end - token.begin));
    }
  }
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(Marked(snippet), expected);
}

// Runs that mix ASCII with curly quotes, dashes, pilcrows and arrows are scanned without ICU. The
// words marked are still exactly those the tokenizer turns into query terms.
TEST(SnippetBuilder, PunctuatedRunsMarkWhatTheIndexMatches) {
  const Tokenizer tokenizer;
  const std::string text =
      "A “package”—hold’s ¶ packages→held… «holding» don’t hold’1 hold'1 package’s §3 ©hold –package– ‘held’ "
      "hold•package a\u00a0package packages’ ’hold café—package";
  const std::vector<std::string> query_terms = QueryTerms(tokenizer, "package hold don't");
  const std::string snippet = SnippetBuilder(query_terms, tokenizer, 1'000).Build(text);

  std::vector<std::string> expected;
  for (const Token& token : tokenizer.Tokenize(text)) {
    if (std::find(query_terms.begin(), query_terms.end(), token.term) != query_terms.end()) {
      expected.push_back(text.substr(token.begin, token.end - token.begin));
    }
  }
  ASSERT_GE(expected.size(), 15u);
  EXPECT_EQ(Marked(snippet), expected) << snippet;
  EXPECT_EQ(Plain(snippet), text);
}

// One builder serves a whole result page; the words it remembers change no later snippet.
TEST(SnippetBuilder, ReusedBuilderGivesTheSameSnippets) {
  const Tokenizer tokenizer;
  const std::vector<std::string> texts = {"Holding packages back with apt.", "The package is on hold.",
                                          "Packaging and holding: packages held."};
  SnippetBuilder reused(QueryTerms(tokenizer, "package hold"), tokenizer);
  for (int round = 0; round < 2; ++round) {
    for (const std::string& text : texts) {
      EXPECT_EQ(reused.Build(text), SnippetBuilder(QueryTerms(tokenizer, "package hold"), tokenizer).Build(text));
    }
  }
  EXPECT_EQ(Marked(reused.Build(texts[1])), (std::vector<std::string>{"package", "hold"}));
}

// With every term of a text as the query, the snippet marks every word the tokenizer finds, with
// the same bounds: the scan splits words exactly as the index does.
void ExpectSameWordsAsTheTokenizer(const std::string& text) {
  const Tokenizer tokenizer;
  std::vector<std::string> terms;
  std::vector<std::string> expected;
  for (const Token& token : tokenizer.Tokenize(text)) {
    if (std::find(terms.begin(), terms.end(), token.term) == terms.end()) terms.push_back(token.term);
    expected.push_back(text.substr(token.begin, token.end - token.begin));
  }
  ASSERT_FALSE(expected.empty());
  const std::string snippet = SnippetBuilder(terms, tokenizer, 1'000'000).Build(text);
  const std::vector<std::string> marked = Marked(snippet);
  EXPECT_EQ(marked.size(), expected.size());
  for (size_t i = 0; i < std::min(marked.size(), expected.size()); ++i) {
    ASSERT_EQ(marked[i], expected[i]) << "word " << i << " of " << snippet;
  }
}

TEST(SnippetBuilder, LatinScriptsSplitLikeTheTokenizer) {
  ExpectSameWordsAsTheTokenizer(
      "L'été dernier, aujourd’hui même, l'1 rock'n'roll 3'000 a'1 1'a. "
      "Größere Bücher über Straßen; ẞ und Äpfel—müssen. "
      "¿Dónde está la niña? Él comió ñoquis. "
      "Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy. "
      "Tiếng Việt có dấu: người, được, những. "
      "İstanbul'da ılık şişe; Română: știință, țară. "
      "Cafe\u0301 au lai\u0301t, e\u0301te\u0301 ; co\u00adoperate soft\u00adhyphen. "
      "x\u00a0y ©2024 ×3 4÷2 «guillemets» “quotes” ‘single’ ¶ § → ← – — … "
      "Latin and Кириллица mixed: Müllerстрасse, straße-Straße, l’été’s, ſtraße ǅemal ĳs. "
      "Ends with an apostrophe' and a mark \u0301 alone, café’ and 'quoted'.");
}

TEST(SnippetBuilder, ReadmesSplitLikeTheTokenizer) {
  for (const char* name : {"/README.md", "/README.zh-CN.md"}) {
    std::ifstream file(std::string(ON_SOURCE_DIR) + name, std::ios::binary);
    std::stringstream contents;
    contents << file.rdbuf();
    SCOPED_TRACE(name);
    ExpectSameWordsAsTheTokenizer(contents.str());
  }
}

}  // namespace
}  // namespace on::search
