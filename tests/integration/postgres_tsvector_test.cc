// The project's tokenizer output as PostgreSQL tsvector values: what the server parses from
// BuildTsvector must be exactly the tokenizer's terms and positions. Skipped without
// OPEN_NOTEBOOK_TEST_POSTGRES_URL.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "search/tokenizer.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/postgres_storage.h"
#include "storage/postgres/tsvector.h"
#include "support/postgres_database.h"

namespace on::storage::postgres {
namespace {

using Positions = std::map<std::string, std::vector<int>>;

class PostgresTsvectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::PostgresServerUrl()) GTEST_SKIP() << test::kPostgresSkipMessage;
    database_ = std::make_unique<test::PostgresDatabase>();
    ASSERT_EQ(database_->error(), "");
    ConnectionOptions options;
    options.url = database_->url();
    auto connection = Connection::Open(options);
    ASSERT_TRUE(connection.ok()) << connection.status().ToString();
    db_ = std::move(connection).value();
  }

  // The lexemes and positions the server reads from `literal`.
  Positions Parse(const std::string& literal) {
    Positions parsed;
    auto rows = db_->Query("SELECT lexeme, array_to_string(positions, ',') FROM unnest($1::tsvector)",
                           Params().Add(literal));
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok()) return parsed;
    for (int row = 0; row < rows->size(); ++row) {
      std::vector<int>& list = parsed[rows->Text(row, 0)];
      std::string text = rows->Text(row, 1);
      for (size_t start = 0; start < text.size();) {
        size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        list.push_back(std::stoi(text.substr(start, comma - start)));
        start = comma + 1;
      }
    }
    return parsed;
  }

  // The terms of `text` with their 1-based token positions, straight from the tokenizer.
  Positions Expected(const std::string& text) {
    Positions expected;
    int position = 0;
    for (const auto& token : tokenizer_.Tokenize(text)) expected[token.term].push_back(++position);
    return expected;
  }

  std::unique_ptr<test::PostgresDatabase> database_;
  std::unique_ptr<Connection> db_;
  search::Tokenizer tokenizer_{"english"};
};

TEST_F(PostgresTsvectorTest, ServerReadsTokenizerTerms) {
  const std::vector<std::string> texts = {
      "The cats ran; the cat runs, and CATS are running.",
      "Ελληνικά κείμενα και русский текст",
      "東京タワーに行きました。café naïve ﬁle ＡＢＣ",
      "don't stop: example.com snake_case 3.14 1'000",
      "",
  };
  for (const std::string& text : texts) {
    const IndexedText indexed = BuildTsvector(text, tokenizer_);
    EXPECT_EQ(Parse(indexed.tsvector), Expected(text)) << text << "\n" << indexed.tsvector;
    EXPECT_EQ(indexed.tokens, static_cast<int64_t>(tokenizer_.Tokenize(text).size())) << text;
  }
}

TEST_F(PostgresTsvectorTest, PositionsStopAtServerLimits) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "word ";
  const IndexedText indexed = BuildTsvector(text, tokenizer_);
  EXPECT_EQ(indexed.tokens, 300);
  const Positions parsed = Parse(indexed.tsvector);
  ASSERT_EQ(parsed.count("word"), 1u);
  EXPECT_EQ(parsed.at("word").size(), static_cast<size_t>(kMaxTsvectorPositionsPerLexeme));

  // A term that first appears after the last position the server stores.
  std::string long_text;
  for (int i = 0; i < kMaxTsvectorPosition + 10; ++i) long_text += "filler ";
  long_text += "needle needle";
  const Positions long_parsed = Parse(BuildTsvector(long_text, tokenizer_).tsvector);
  ASSERT_EQ(long_parsed.count("needl"), 1u);
  EXPECT_EQ(long_parsed.at("needl"), (std::vector<int>{kMaxTsvectorPosition}));
}

TEST_F(PostgresTsvectorTest, NotesAreIndexedOnWrite) {
  PoolOptions options;
  options.connection.url = database_->url();
  auto storage = PostgresStorage::Open(options);
  ASSERT_TRUE(storage.ok()) << storage.status().ToString();
  ASSERT_TRUE((*storage)->MigrateUp(std::nullopt).ok());

  Note note;
  note.title = "Gardening";
  note.content = "The roses were flowering early";
  note.note_type = "human";
  auto created = (*storage)->CreateNote(note);
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  // Stemmed query terms match, as they do in the SQLite index.
  auto count = [&](const std::string& column, const std::string& term) -> int64_t {
    auto rows = db_->Query("SELECT count(*) FROM note WHERE " + column + " @@ $1::tsquery", Params().Add(term));
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? rows->Int(0, 0) : -1;
  };
  EXPECT_EQ(count("content_vector", "rose"), 1);
  EXPECT_EQ(count("content_vector", "flower"), 1);
  EXPECT_EQ(count("title_vector", "garden"), 1);
  EXPECT_EQ(count("content_vector", "garden"), 0);

  NotePatch patch;
  patch.content = std::string("Tulips only");
  ASSERT_TRUE((*storage)->UpdateNote(created->id, patch).ok());
  EXPECT_EQ(count("content_vector", "rose"), 0);
  EXPECT_EQ(count("content_vector", "tulip"), 1);

  auto tokens = db_->Query("SELECT title_tokens, content_tokens FROM note");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->Int(0, 0), 1);
  EXPECT_EQ(tokens->Int(0, 1), 2);
}

}  // namespace
}  // namespace on::storage::postgres
