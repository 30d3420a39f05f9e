#include "ingest/chunker.h"

#include <gtest/gtest.h>
#include <unicode/utf8.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "search/tokenizer.h"

namespace on::ingest {
namespace {

using search::EstimateTokens;

std::string ReadTestData(const std::string& name) {
  std::ifstream file(std::string(ON_SOURCE_DIR) + "/tests/data/search/" + name, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::vector<std::string> ReadLines(const std::string& name) {
  std::vector<std::string> lines;
  std::istringstream stream(ReadTestData(name));
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Returns, for each byte offset of `text` and its end, whether a UTF-8 decoder starting at
// offset 0 begins a character (or an invalid byte) there: the only places a chunk may be cut.
std::vector<bool> CharacterStarts(std::string_view text) {
  std::vector<bool> starts(text.size() + 1, false);
  const int32_t length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    starts[static_cast<size_t>(i)] = true;
    UChar32 c;
    U8_NEXT(text.data(), i, length, c);
  }
  starts[text.size()] = true;
  return starts;
}

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f'; }

std::vector<Chunk> ChunkOrFail(std::string_view text, const ChunkOptions& options = {},
                               std::span<const PageSpan> pages = {}) {
  Result<std::vector<Chunk>> chunks = ChunkText(text, options, pages);
  EXPECT_TRUE(chunks.ok()) << chunks.status().ToString();
  return chunks.ok() ? std::move(chunks).value() : std::vector<Chunk>();
}

// Checks the contract every chunk list meets: exact offsets and content, estimates within
// `max_tokens`, cuts between UTF-8 sequences, text order, no surrounding whitespace, and every
// non-whitespace byte of `text` in some chunk.
void ExpectValidChunks(std::string_view text, const std::vector<Chunk>& chunks,
                       size_t max_tokens) {
  std::vector<bool> covered(text.size(), false);
  const std::vector<bool> character_starts = CharacterStarts(text);
  for (size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& chunk = chunks[i];
    SCOPED_TRACE("chunk " + std::to_string(i));
    EXPECT_EQ(chunk.index, i);
    ASSERT_LT(chunk.begin, chunk.end);
    ASSERT_LE(chunk.end, text.size());
    EXPECT_EQ(chunk.content, text.substr(chunk.begin, chunk.end - chunk.begin));
    EXPECT_EQ(chunk.token_estimate, EstimateTokens(chunk.content));
    EXPECT_LE(chunk.token_estimate, max_tokens);
    EXPECT_TRUE(character_starts[chunk.begin]);
    EXPECT_TRUE(character_starts[chunk.end]);
    EXPECT_FALSE(IsSpace(chunk.content.front()));
    EXPECT_FALSE(IsSpace(chunk.content.back()));
    if (i > 0) {
      EXPECT_GT(chunk.begin, chunks[i - 1].begin);
      EXPECT_GT(chunk.end, chunks[i - 1].end);
    }
    for (size_t b = chunk.begin; b < chunk.end; ++b) covered[b] = true;
  }
  for (size_t b = 0; b < text.size(); ++b) {
    if (!IsSpace(text[b])) {
      ASSERT_TRUE(covered[b]) << "byte " << b << " is in no chunk";
    }
  }
}

// Joins sentences into paragraphs of at least `min_chars` characters each (3 bytes per Han
// character), separated by blank lines.
std::string ChineseParagraphs(size_t paragraph_count, size_t min_chars) {
  const std::vector<std::string> sentences = ReadLines("chinese_sentences.txt");
  std::string text;
  size_t next = 0;
  for (size_t p = 0; p < paragraph_count; ++p) {
    std::string paragraph;
    while (paragraph.size() < min_chars * 3) paragraph += sentences[next++ % sentences.size()];
    text += paragraph + "\n\n";
  }
  return text;
}

TEST(ChunkText, EmptyTextHasNoChunks) {
  EXPECT_TRUE(ChunkOrFail("").empty());
  EXPECT_TRUE(ChunkOrFail(" \n\n\t  \n").empty());
}

TEST(ChunkText, TinyTextIsOneChunk) {
  const std::vector<Chunk> chunks = ChunkOrFail("  Hi.\n");
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].content, "Hi.");
  EXPECT_EQ(chunks[0].begin, 2u);
  EXPECT_EQ(chunks[0].page, 0);
}

TEST(ChunkText, EnglishProse) {
  const std::string text = ReadTestData("english_prose.md");
  ChunkOptions options;
  options.chunk_size_tokens = 200;
  const std::vector<Chunk> chunks = ChunkOrFail(text, options);
  ExpectValidChunks(text, chunks, 200);
  EXPECT_GE(chunks.size(), 6u);
  for (const Chunk& chunk : chunks) {
    // Prose is cut at paragraph, sentence or heading boundaries, never inside a word.
    EXPECT_TRUE(chunk.begin == 0 || IsSpace(text[chunk.begin - 1])) << chunk.content;
    EXPECT_GE(chunk.token_estimate, 40u) << chunk.content;
  }
}

TEST(ChunkText, OverlapRepeatsPreviousEnd) {
  const std::string text = ReadTestData("english_prose.md");
  ChunkOptions options;
  options.chunk_size_tokens = 200;
  options.overlap_tokens = 30;
  const std::vector<Chunk> chunks = ChunkOrFail(text, options);
  ASSERT_GE(chunks.size(), 3u);
  size_t overlapping = 0;
  for (size_t i = 1; i < chunks.size(); ++i) {
    if (chunks[i].begin >= chunks[i - 1].end) continue;
    ++overlapping;
    const std::string_view shared =
        std::string_view(text).substr(chunks[i].begin, chunks[i - 1].end - chunks[i].begin);
    EXPECT_LE(EstimateTokens(shared), 30u) << shared;
    EXPECT_GE(EstimateTokens(shared), 10u) << shared;
  }
  // Only chunks that start at a heading lack an overlap.
  EXPECT_GE(overlapping, chunks.size() / 2);
}

TEST(ChunkText, ZeroOverlap) {
  const std::string text = ReadTestData("english_prose.md");
  ChunkOptions options;
  options.chunk_size_tokens = 100;
  options.overlap_tokens = 0;
  const std::vector<Chunk> chunks = ChunkOrFail(text, options);
  ExpectValidChunks(text, chunks, 100);
  for (size_t i = 1; i < chunks.size(); ++i) {
    EXPECT_GE(chunks[i].begin, chunks[i - 1].end);
  }
}

TEST(ChunkText, HeadingsStartChunks) {
  const std::string text = ReadTestData("english_prose.md");
  ChunkOptions options;
  options.chunk_size_tokens = 200;
  const std::vector<Chunk> chunks = ChunkOrFail(text, options);
  for (std::string_view heading : {"## What to Write Down", "## Searching Old Notes",
                                   "## Languages Other Than English", "## A Closing Thought"}) {
    const size_t position = text.find(heading);
    ASSERT_NE(position, std::string::npos);
    bool starts_chunk = false;
    for (const Chunk& chunk : chunks) starts_chunk = starts_chunk || chunk.begin == position;
    EXPECT_TRUE(starts_chunk) << heading;
  }
}

TEST(ChunkText, HtmlHeadingsStartChunks) {
  std::string text;
  for (int section = 0; section < 3; ++section) {
    text += "<h2>Section " + std::to_string(section) + "</h2>\n";
    for (int sentence = 0; sentence < 12; ++sentence) {
      text += "This sentence belongs to section " + std::to_string(section) + ". ";
    }
    text += "\n";
  }
  ChunkOptions options;
  options.chunk_size_tokens = 200;
  const std::vector<Chunk> chunks = ChunkOrFail(text, options);
  ExpectValidChunks(text, chunks, 200);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[1].content.rfind("<h2>Section 1</h2>", 0), 0u);
  EXPECT_EQ(chunks[2].content.rfind("<h2>Section 2</h2>", 0), 0u);
}

TEST(ChunkText, ChineseParagraphsRespectCap) {
  const std::string text = ChineseParagraphs(4, 1000);
  ChunkOptions options;
  options.chunk_size_tokens = 150;
  options.max_tokens = 150;
  const std::vector<Chunk> chunks = ChunkOrFail(text, options);
  ExpectValidChunks(text, chunks, 150);
  // 4,000 characters cost at least 4,000 tokens, so at least 27 chunks of 150.
  EXPECT_GE(chunks.size(), 27u);
  // Paragraphs have sentence ends every ~35 characters, so chunks end at one.
  size_t at_sentence_end = 0;
  for (const Chunk& chunk : chunks) {
    if (chunk.content.ends_with("。")) ++at_sentence_end;
  }
  EXPECT_GE(at_sentence_end, chunks.size() - 1);
}

TEST(ChunkText, UnbrokenHanTextRespectsCap) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "感冒病毒";
  for (size_t max_tokens : {512u, 64u, 16u}) {
    ChunkOptions options;
    options.max_tokens = max_tokens;
    options.overlap_tokens = 0;
    const std::vector<Chunk> chunks = ChunkOrFail(text, options);
    SCOPED_TRACE("max_tokens " + std::to_string(max_tokens));
    ExpectValidChunks(text, chunks, max_tokens);
    EXPECT_GE(chunks.size(), 4000u / max_tokens);
  }
}

TEST(ChunkText, CapBelowTargetWins) {
  const std::string text = ReadTestData("english_prose.md");
  ChunkOptions options;
  options.chunk_size_tokens = 400;
  options.max_tokens = 64;
  ExpectValidChunks(text, ChunkOrFail(text, options), 64);
}

TEST(ChunkText, LongWordsAndSymbolsRespectCap) {
  std::string text(5000, 'x');
  text += " ";
  for (int i = 0; i < 500; ++i) text += "🙂";
  text += std::string(300, ' ') + std::string(300, '\n') + std::string(2000, '-');
  ChunkOptions options;
  options.chunk_size_tokens = 32;
  const std::vector<Chunk> chunks = ChunkOrFail(text, options);
  ExpectValidChunks(text, chunks, 32);
}

TEST(ChunkText, AcceptsInvalidUtf8) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "abc \xff\xfe\x80\x80\x80 \xe4\xb8 def\xc0. ";
  ChunkOptions options;
  options.chunk_size_tokens = 50;
  const std::vector<Chunk> chunks = ChunkOrFail(text, options);
  ASSERT_FALSE(chunks.empty());
  for (const Chunk& chunk : chunks) {
    EXPECT_EQ(chunk.content, text.substr(chunk.begin, chunk.end - chunk.begin));
    EXPECT_LE(chunk.token_estimate, 50u);
  }
}

TEST(ChunkText, RandomTextKeepsContract) {
  // Fragments that exercise every boundary kind, invalid UTF-8 and symbols.
  const std::vector<std::string> fragments = {
      "a",   "word ", "longerword", " ",  "\n",  "\n\n", ". ",       "。",     "感",     "病毒",
      "🙂",  "\xff",  "\x80",        "\xe4\xb8", "# ", "<h2>", ", ",     "\t",    "1234", "\r\n"};
  std::mt19937 random(12345);
  for (int round = 0; round < 200; ++round) {
    std::string text;
    while (text.size() < 3000) text += fragments[random() % fragments.size()];
    ChunkOptions options;
    options.chunk_size_tokens = 16 + random() % 64;
    options.max_tokens = options.chunk_size_tokens;
    options.overlap_ratio = 0.2;
    const Result<std::vector<Chunk>> chunks = ChunkText(text, options);
    ASSERT_TRUE(chunks.ok()) << chunks.status().ToString();
    SCOPED_TRACE("round " + std::to_string(round));
    ExpectValidChunks(text, *chunks, options.chunk_size_tokens);
  }
}

TEST(ChunkText, PageNumbersFromSpans) {
  const std::string text = ReadTestData("english_prose.md");
  // Three pages cut at arbitrary byte offsets, with a form feed between pages 2 and 3.
  const size_t first_break = text.size() / 3;
  const size_t second_break = 2 * text.size() / 3;
  const std::vector<PageSpan> pages = {
      {1, 0, first_break}, {2, first_break, second_break}, {3, second_break + 1, text.size()}};
  ChunkOptions options;
  options.chunk_size_tokens = 100;
  const std::vector<Chunk> chunks = ChunkOrFail(text, options, pages);
  ExpectValidChunks(text, chunks, 100);

  bool saw_spanning_chunk = false;
  for (const Chunk& chunk : chunks) {
    int expected = 3;
    if (chunk.begin < second_break + 1) expected = 2;
    if (chunk.begin < first_break) expected = 1;
    EXPECT_EQ(chunk.page, expected) << chunk.begin;
    saw_spanning_chunk =
        saw_spanning_chunk || (chunk.begin < first_break && chunk.end > first_break);
  }
  EXPECT_TRUE(saw_spanning_chunk);
  EXPECT_EQ(chunks.front().page, 1);
  EXPECT_EQ(chunks.back().page, 3);
}

TEST(ChunkText, UnsortedPagesAndGaps) {
  const std::string text = "Page one text.\n\n\fPage two text.";
  // Spans are unsorted and leave out the separator between the pages.
  const std::vector<PageSpan> pages = {{2, 17, text.size()}, {1, 0, 14}};
  ChunkOptions options;
  options.chunk_size_tokens = 16;
  options.overlap_tokens = 0;
  options.min_chunk_tokens = 0;
  const std::vector<Chunk> chunks = ChunkOrFail(text, options, pages);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].page, 1);

  const std::vector<PageSpan> second_only = {{2, 17, text.size()}};
  const std::vector<Chunk> starting_in_gap = ChunkOrFail(text, options, second_only);
  ASSERT_EQ(starting_in_gap.size(), 1u);
  EXPECT_EQ(starting_in_gap[0].page, 2);
}

TEST(ChunkText, MergesTinyLastChunk) {
  std::string text;
  for (int i = 0; i < 14; ++i) text += "word ";
  text += "\n\nEnd.";
  ChunkOptions options;
  options.chunk_size_tokens = 16;
  options.overlap_tokens = 0;
  const std::vector<Chunk> chunks = ChunkOrFail(text, options);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_TRUE(chunks[0].content.ends_with("End."));

  options.min_chunk_tokens = 0;
  EXPECT_EQ(ChunkOrFail(text, options).size(), 2u);
}

TEST(ChunkText, RejectsInvalidOptions) {
  ChunkOptions small;
  small.chunk_size_tokens = 3;
  EXPECT_EQ(ChunkText("text", small).status().code(), ErrorCode::kInvalidInput);

  ChunkOptions small_cap;
  small_cap.max_tokens = 8;
  EXPECT_EQ(ChunkText("text", small_cap).status().code(), ErrorCode::kInvalidInput);

  ChunkOptions ratio;
  ratio.overlap_ratio = 0.9;
  EXPECT_EQ(ChunkText("text", ratio).status().code(), ErrorCode::kInvalidInput);

  ChunkOptions not_a_number;
  not_a_number.overlap_ratio = std::nan("");
  EXPECT_EQ(ChunkText("text", not_a_number).status().code(), ErrorCode::kInvalidInput);

  ChunkOptions overlap;
  overlap.overlap_tokens = 300;
  EXPECT_EQ(ChunkText("text", overlap).status().code(), ErrorCode::kInvalidInput);

  ChunkOptions min_chunk;
  min_chunk.min_chunk_tokens = 300;
  EXPECT_EQ(ChunkText("text", min_chunk).status().code(), ErrorCode::kInvalidInput);
}

TEST(ChunkText, DefaultsGiveAboutFourHundredTokens) {
  std::string text;
  const std::string prose = ReadTestData("english_prose.md");
  while (text.size() < 200000) text += prose + "\n\n";
  const std::vector<Chunk> chunks = ChunkOrFail(text);
  ExpectValidChunks(text, chunks, 512);
  size_t total = 0;
  for (const Chunk& chunk : chunks) {
    EXPECT_LE(chunk.token_estimate, 400u);
    total += chunk.token_estimate;
  }
  EXPECT_GT(total / chunks.size(), 200u);
}

}  // namespace
}  // namespace on::ingest
