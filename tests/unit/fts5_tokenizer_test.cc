#include "storage/sqlite/fts5_tokenizer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "search/tokenizer.h"

namespace on::storage::sqlite {
namespace {

constexpr char kEnglish[] = "The runner runs every morning before the lab opens.";
constexpr char kChinese[] = "我们研究感冒病毒的传播。";
constexpr char kJapanese[] = "私は日本語を勉強します。東京に住んでいます。";
constexpr char kOther[] = "Viruses spread faster in crowded trains during winter.";

// An in-memory database with table t(body) using on_icu and four rows, rowids 1 to 4.
class Fts5TokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    const Status status = RegisterFts5Tokenizer(db_);
    ASSERT_TRUE(status.ok()) << status.ToString();
    Exec("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='on_icu')");
    for (const char* body : {kEnglish, kChinese, kJapanese, kOther}) Insert(body);
  }

  void TearDown() override { sqlite3_close(db_); }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  }

  void Insert(const std::string& body) {
    sqlite3_stmt* statement = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, "INSERT INTO t(body) VALUES (?1)", -1, &statement, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(statement, 1, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(statement), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(statement);
  }

  // Runs `sql` with ?1 bound to `match` and returns the first column of each row as text.
  // Sets `rc` to the final sqlite3_step result.
  std::vector<std::string> Query(const std::string& sql, const std::string& match, int& rc) {
    std::vector<std::string> rows;
    sqlite3_stmt* statement = nullptr;
    rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr);
    if (rc != SQLITE_OK) return rows;
    sqlite3_bind_text(statement, 1, match.data(), static_cast<int>(match.size()), SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(statement, 0);
      rows.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
    }
    sqlite3_finalize(statement);
    return rows;
  }

  // Returns the rowids matching the FTS5 expression built from `user_query`, best first.
  std::vector<std::string> Search(const std::string& user_query) {
    const std::string match = search::BuildFts5Match(user_query, tokenizer_);
    if (match.empty()) return {};
    int rc = SQLITE_OK;
    std::vector<std::string> rows =
        Query("SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY rank", match, rc);
    EXPECT_EQ(rc, SQLITE_DONE) << "MATCH " << match << ": " << sqlite3_errmsg(db_);
    return rows;
  }

  std::string Snippet(const std::string& user_query) {
    const std::string match = search::BuildFts5Match(user_query, tokenizer_);
    int rc = SQLITE_OK;
    std::vector<std::string> rows = Query(
        "SELECT snippet(t, 0, '[', ']', '...', 20) FROM t WHERE t MATCH ?1 ORDER BY rank", match,
        rc);
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db_);
    return rows.empty() ? std::string() : rows.front();
  }

  sqlite3* db_ = nullptr;
  search::Tokenizer tokenizer_;
};

using Rows = std::vector<std::string>;

TEST_F(Fts5TokenizerTest, FindsJapaneseWords) {
  EXPECT_EQ(Search("東京"), Rows({"3"}));
  EXPECT_EQ(Search("勉強"), Rows({"3"}));
}

TEST_F(Fts5TokenizerTest, FindsChineseWords) { EXPECT_EQ(Search("感冒"), Rows({"2"})); }

TEST_F(Fts5TokenizerTest, MatchesStems) {
  EXPECT_EQ(Search("running"), Rows({"1"}));
  EXPECT_EQ(Search("virus"), Rows({"4"}));
}

TEST_F(Fts5TokenizerTest, SyntaxQueryDoesNotFail) {
  EXPECT_EQ(Search("\"a\" OR b* NEAR("), Rows());
  EXPECT_EQ(Search("body: ) ( AND NOT \" ^ * -"), Rows());
  EXPECT_EQ(Search("\"morning\" OR"), Rows({"1"}));
}

TEST_F(Fts5TokenizerTest, RanksDocumentsMatchingMoreTerms) {
  Insert("Trains run late in winter.");
  const Rows rows = Search("winter trains viruses");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], "4");
}

TEST_F(Fts5TokenizerTest, SnippetMarksOriginalWords) {
  EXPECT_EQ(Snippet("running"), "The runner [runs] every morning before the lab opens.");
  EXPECT_EQ(Snippet("東京"), "私は日本語を勉強します。[東京]に住んでいます。");
  EXPECT_EQ(Snippet("感冒"), "我们研究[感冒]病毒的传播。");
}

TEST_F(Fts5TokenizerTest, HighlightKeepsFullWidthText) {
  Insert("ＦＵＬＬ width Straße");
  int rc = SQLITE_OK;
  const Rows rows = Query("SELECT highlight(t, 0, '<', '>') FROM t WHERE t MATCH ?1",
                          search::BuildFts5Match("full strasse", tokenizer_), rc);
  EXPECT_EQ(rc, SQLITE_DONE);
  EXPECT_EQ(rows, Rows({"<ＦＵＬＬ> width <Straße>"}));
}

TEST_F(Fts5TokenizerTest, AcceptsLanguageArgument) {
  Exec("CREATE VIRTUAL TABLE f USING fts5(body, tokenize='on_icu french')");
  Exec("CREATE VIRTUAL TABLE n USING fts5(body, tokenize='on_icu none')");
  char* error = nullptr;
  const int rc =
      sqlite3_exec(db_, "CREATE VIRTUAL TABLE k USING fts5(body, tokenize='on_icu klingon')",
                   nullptr, nullptr, &error);
  EXPECT_NE(rc, SQLITE_OK);
  sqlite3_free(error);
}

TEST_F(Fts5TokenizerTest, RegisterTwiceSucceeds) {
  const Status status = RegisterFts5Tokenizer(db_);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Search("感冒"), Rows({"2"}));
}

TEST(RegisterFts5Tokenizer, RejectsNullConnection) {
  EXPECT_EQ(RegisterFts5Tokenizer(nullptr).code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace on::storage::sqlite
