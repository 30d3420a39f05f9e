// Keyword search on each storage backend: the common-word plan, its fallback, counts that are
// cached while sources come and go, notebook scope, titles and notes. One test loads the Debian
// FAQ into both backends and checks that they return the same hits in the same order with the
// same scores.
#include <archive.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "search/tokenizer.h"
#include "support/postgres_database.h"
#include "support/test_storage.h"

namespace on::storage {
namespace {

// Adds a source whose chunks are `chunks`; returns its id.
std::string AddSource(Storage& storage, const std::string& title, const std::vector<std::string>& chunks,
                      const std::vector<std::string>& notebooks = {}) {
  SourceCreate create;
  create.title = title;
  create.notebooks = notebooks;
  create.job_app = "open_notebook";
  create.job_command = "process_source";
  auto source = storage.CreateSource(create);
  EXPECT_TRUE(source.ok()) << source.status().ToString();
  if (!source.ok()) return "";
  SourceExtraction extraction;
  for (size_t i = 0; i < chunks.size(); ++i) {
    extraction.chunks.push_back(ChunkRecord{static_cast<int>(i), chunks[i], 0, 0, std::nullopt, 10});
    extraction.full_text += chunks[i] + "\n";
  }
  const Status saved = storage.SaveExtraction(source->id, extraction);
  EXPECT_TRUE(saved.ok()) << saved.ToString();
  return source->id;
}

TextSearchQuery MakeQuery(const std::string& text, const search::Tokenizer& tokenizer) {
  TextSearchQuery query;
  for (auto& term : search::ExtractQueryTerms(text, tokenizer)) {
    query.terms.push_back({std::move(term.term), std::move(term.surface)});
  }
  return query;
}

class KeywordSearchTest : public ::testing::TestWithParam<test::StorageBackend> {
 protected:
  void SetUp() override {
    database_ = std::make_unique<test::TestStorage>(GetParam());
    if (database_->skip_reason()) GTEST_SKIP() << *database_->skip_reason();
    ASSERT_EQ(database_->error(), "");
    storage_ = &database_->storage();
    const Status migrated = storage_->MigrateUp(std::nullopt);
    ASSERT_TRUE(migrated.ok()) << migrated.ToString();
  }

  std::string AddSource(const std::string& title, const std::vector<std::string>& chunks,
                        const std::vector<std::string>& notebooks = {}) {
    return storage::AddSource(*storage_, title, chunks, notebooks);
  }

  // The contents of the chunks found for `query`, best first.
  std::vector<std::string> Search(const std::string& query) {
    TextSearchQuery text_query = MakeQuery(query, tokenizer_);
    text_query.limit = 5000;
    text_query.search_notes = false;
    auto hits = storage_->SearchText(text_query);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    if (!hits.ok()) return {};
    std::vector<const TextSearchHit*> chunk_hits;
    for (const auto& hit : *hits) {
      if (hit.match_field == "chunk") chunk_hits.push_back(&hit);
    }
    auto texts = storage_->LoadSearchTexts(chunk_hits);
    EXPECT_TRUE(texts.ok());
    return texts.ok() ? *texts : std::vector<std::string>{};
  }

  std::unique_ptr<test::TestStorage> database_;
  Storage* storage_ = nullptr;
  search::Tokenizer tokenizer_;
};

INSTANTIATE_TEST_SUITE_P(Backends, KeywordSearchTest, test::kAllStorageBackends, test::StorageBackendName);

// More chunks than the planner lets words contribute on their own (sqlite_search.cc).
constexpr int kCommonChunks = 2100;

std::vector<std::string> Repeated(const std::string& text, int count) {
  std::vector<std::string> chunks;
  for (int i = 0; i < count; ++i) chunks.push_back(text + " number " + std::to_string(i));
  return chunks;
}

TEST_P(KeywordSearchTest, AllWordsFirstThenRareWords) {
  AddSource("harbors", Repeated("the harbor at dawn", kCommonChunks));
  AddSource("keepers", {"the harbor keeper sleeps", "a keeper of bees"});

  const auto found = Search("harbor keeper");
  ASSERT_GE(found.size(), 2u);
  EXPECT_EQ(found[0], "the harbor keeper sleeps");
  EXPECT_EQ(found[1], "a keeper of bees");
}

TEST_P(KeywordSearchTest, DisjointCommonWordsFallBack) {
  AddSource("harbors", Repeated("the harbor at dawn", kCommonChunks));
  AddSource("lighthouses", Repeated("a lighthouse at night", kCommonChunks));

  const auto found = Search("harbor lighthouse");
  EXPECT_EQ(found.size(), static_cast<size_t>(2 * kCommonChunks));
}

TEST_P(KeywordSearchTest, NewAndDeletedWords) {
  const std::string harbors = AddSource("harbors", Repeated("the harbor at dawn", kCommonChunks));
  EXPECT_TRUE(Search("zeppelin").empty());
  EXPECT_EQ(Search("harbor").size(), static_cast<size_t>(kCommonChunks));  // the count is now cached

  const std::string zeppelins = AddSource("zeppelins", {"a zeppelin over the harbor"});
  EXPECT_EQ(Search("zeppelin"), std::vector<std::string>{"a zeppelin over the harbor"});
  EXPECT_EQ(Search("harbor zeppelin").front(), "a zeppelin over the harbor");

  ASSERT_TRUE(storage_->DeleteSource(zeppelins).ok());
  ASSERT_TRUE(storage_->DeleteSource(harbors).ok());
  EXPECT_TRUE(Search("zeppelin").empty());
  EXPECT_TRUE(Search("harbor").empty());
  EXPECT_TRUE(Search("harbor zeppelin").empty());
}

TEST_P(KeywordSearchTest, NotebookScope) {
  auto first = storage_->CreateNotebook("first", "");
  auto second = storage_->CreateNotebook("second", "");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  const std::string in_first = AddSource("Tides", {"tides rise twice a day"}, {first->id});
  const std::string in_both = AddSource("Moon", {"the moon pulls the tides"}, {first->id, second->id});
  Note note;
  note.title = "Tide tables";
  note.content = "print the tide tables";
  note.note_type = "human";
  note.notebook_id = second->id;
  auto created = storage_->CreateNote(note);
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  TextSearchQuery query = MakeQuery("tides", tokenizer_);
  query.notebook_id = second->id;
  auto hits = storage_->SearchText(query);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  std::vector<std::string> ids;
  for (const auto& hit : *hits) ids.push_back(hit.id);
  EXPECT_EQ(ids, (std::vector<std::string>{created->id, in_both}));

  query.notebook_id = first->id;
  hits = storage_->SearchText(query);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 3u);  // two chunks and the title "Tides"
  for (const auto& hit : *hits) EXPECT_NE(hit.type, "note");

  query.notebook_id = "notebook:missing";
  EXPECT_EQ(storage_->SearchText(query).status().code(), ErrorCode::kNotFound);
  EXPECT_NE(in_first, "");
}

TEST_P(KeywordSearchTest, TitleHitIsHighlighted) {
  AddSource("The harbor keeper's log, harbor edition", {"nothing to see"});
  auto hits = storage_->SearchText(MakeQuery("harbor keepers", tokenizer_));
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 1u);
  const TextSearchHit& hit = hits->front();
  EXPECT_EQ(hit.match_field, "title");
  EXPECT_EQ(hit.title, "The harbor keeper's log, harbor edition");
  EXPECT_EQ(hit.snippet, "The \x01harbor\x02 \x01keeper's\x02 log, \x01harbor\x02 edition");
  EXPECT_GT(hit.score, 0);

  auto texts = storage_->LoadSearchTexts({&hit});
  ASSERT_TRUE(texts.ok());
  EXPECT_EQ(*texts, std::vector<std::string>{hit.title});
}

TEST_P(KeywordSearchTest, NotesMatchTitleOrContent) {
  Note titled;
  titled.title = "Lighthouse";
  titled.content = "a tall tower by the sea";
  titled.note_type = "human";
  Note plain;
  plain.content = "the lighthouse keeper writes every lighthouse down";
  plain.note_type = "ai";
  auto first = storage_->CreateNote(titled);
  auto second = storage_->CreateNote(plain);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());

  TextSearchQuery query = MakeQuery("lighthouses", tokenizer_);
  query.search_sources = false;
  auto hits = storage_->SearchText(query);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].id, second->id);  // two occurrences
  EXPECT_EQ((*hits)[1].id, first->id);
  EXPECT_EQ((*hits)[0].match_field, "content");
  EXPECT_EQ((*hits)[0].parent_id, "");
  EXPECT_EQ((*hits)[1].title, "Lighthouse");

  std::vector<const TextSearchHit*> shown = {&(*hits)[0], &(*hits)[1]};
  ASSERT_TRUE(storage_->DeleteNote(first->id).ok());
  auto texts = storage_->LoadSearchTexts(shown);
  ASSERT_TRUE(texts.ok());
  EXPECT_EQ(*texts, (std::vector<std::string>{plain.content, ""}));  // a deleted note gives ""
}

TEST_P(KeywordSearchTest, WordWithNulByteIsInvalid) {
  AddSource("harbors", {"the harbor at dawn"});
  TextSearchQuery query;
  query.terms.push_back({"harbor", std::string("har\0bor", 7)});
  EXPECT_EQ(storage_->SearchText(query).status().code(), ErrorCode::kInvalidInput);

  query.search_sources = false;
  query.search_notes = false;
  auto nothing = storage_->SearchText(query);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->empty());
}

// The chunk plan looks words up by term, titles and notes by surface, as in SQLite.
TEST_P(KeywordSearchTest, EmptyTermFindsNoChunk) {
  AddSource("harbors", {"the harbor at dawn"});
  TextSearchQuery query;
  query.terms.push_back({"", "harbor"});
  auto hits = storage_->SearchText(query);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ(hits->front().match_field, "title");
  EXPECT_EQ(hits->front().snippet, "\x01harbors\x02");
}

// The surface "harbor-keeper" gives two terms, which FTS5 matches as a phrase: next to each other.
TEST_P(KeywordSearchTest, WordOfSeveralTermsIsPhrase) {
  AddSource("phrases", {"the harbor keeper sleeps", "a keeper of the harbor", "harbor keeper and harbor keeper"});
  TextSearchQuery query;
  query.terms.push_back({"harborkeep", "harbor-keeper"});
  query.search_notes = false;
  auto hits = storage_->SearchText(query);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  std::vector<int64_t> chunks;
  for (const auto& hit : *hits) chunks.push_back(hit.chunk_index.value_or(-1));
  // "harborkeep" occurs in no chunk, so the chunk plan leaves the word out, as in SQLite.
  EXPECT_TRUE(chunks.empty());

  query.terms = {{"harbor", "harbor-keeper"}};
  hits = storage_->SearchText(query);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  chunks.clear();
  for (const auto& hit : *hits) chunks.push_back(hit.chunk_index.value_or(-1));
  EXPECT_EQ(chunks, (std::vector<int64_t>{2, 0}));
}

// The Debian FAQ (package debian-faq) is the real text: one source per question, titled with the
// question, with one chunk per line, in two notebooks. Notes come from the project's test prose.
constexpr char kDebianFaq[] = "/usr/share/doc/debian/FAQ/debian-faq.en.txt.gz";

// The uncompressed contents of a gzip file, or "" when it cannot be read.
std::string ReadGzip(const std::string& path) {
  std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), archive_read_free);
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_format_raw(reader.get());
  if (archive_read_open_filename(reader.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) return "";
  archive_entry* entry = nullptr;
  if (archive_read_next_header(reader.get(), &entry) != ARCHIVE_OK) return "";
  std::string text;
  char buffer[1 << 16];
  for (la_ssize_t n; (n = archive_read_data(reader.get(), buffer, sizeof(buffer))) > 0;) {
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

struct FaqQuestion {
  std::string title;
  std::vector<std::string> lines;
};

// Questions start at an unindented line "1.2.<no-break space>What is …".
std::vector<FaqQuestion> SplitFaq(const std::string& text) {
  std::vector<FaqQuestion> questions;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    const size_t heading = line.find("\xC2\xA0");
    if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0])) && heading != std::string::npos &&
        heading < 8 && line[heading - 1] == '.' && line.find('.') < heading - 1) {
      questions.push_back({line.substr(heading + 2), {}});
      continue;
    }
    const size_t first = line.find_first_not_of(' ');
    if (questions.empty() || first == std::string::npos) continue;
    questions.back().lines.push_back(line.substr(first));
  }
  return questions;
}

// A hit with the backend's ids replaced by the order in which the test created the records.
struct ComparableHit {
  std::string type;
  int record = -1;
  int parent = -1;
  std::string title;
  std::string snippet;
  int64_t chunk_index = -1;
  std::string match_field;
  double score = 0;
  std::string text;
};

std::ostream& operator<<(std::ostream& out, const ComparableHit& hit) {
  return out << hit.type << " " << hit.record << " in " << hit.parent << " " << hit.match_field << " chunk "
             << hit.chunk_index << " score " << hit.score << " \"" << hit.title << "\"";
}

class LoadedCorpus {
 public:
  explicit LoadedCorpus(test::StorageBackend backend) : database_(backend) {}

  test::TestStorage& database() { return database_; }

  // Loads the questions and notes; returns "" or what failed.
  std::string Load(const std::vector<FaqQuestion>& questions, const std::vector<Note>& notes) {
    Storage& storage = database_.storage();
    if (Status migrated = storage.MigrateUp(std::nullopt); !migrated.ok()) return migrated.ToString();
    for (const char* name : {"odd", "even"}) {
      auto notebook = storage.CreateNotebook(name, "");
      if (!notebook.ok()) return notebook.status().ToString();
      ids_[notebook->id] = static_cast<int>(notebooks_.size());
      notebooks_.push_back(notebook->id);
    }
    for (size_t i = 0; i < questions.size(); ++i) {
      // Every third question is in both notebooks.
      std::vector<std::string> in = {notebooks_[i % 2]};
      if (i % 3 == 0) in.push_back(notebooks_[1 - i % 2]);
      const std::string id = AddSource(storage, questions[i].title, questions[i].lines, in);
      if (id.empty()) return "adding question " + std::to_string(i) + " failed";
      ids_[id] = static_cast<int>(i);
    }
    for (size_t i = 0; i < notes.size(); ++i) {
      Note note = notes[i];
      if (i % 2 == 0) note.notebook_id = notebooks_[0];
      auto created = storage.CreateNote(note);
      if (!created.ok()) return created.status().ToString();
      ids_[created->id] = static_cast<int>(i);
    }
    return "";
  }

  std::vector<ComparableHit> Search(TextSearchQuery query) {
    // The case names the notebook by its index.
    if (query.notebook_id) query.notebook_id = notebooks_[static_cast<size_t>(std::stoi(*query.notebook_id))];
    std::vector<ComparableHit> comparable;
    auto hits = database_.storage().SearchText(query);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    if (!hits.ok()) return comparable;
    std::vector<const TextSearchHit*> pointers;
    for (const auto& hit : *hits) pointers.push_back(&hit);
    auto texts = database_.storage().LoadSearchTexts(pointers);
    EXPECT_TRUE(texts.ok()) << texts.status().ToString();
    for (size_t i = 0; i < hits->size(); ++i) {
      const TextSearchHit& hit = (*hits)[i];
      ComparableHit out;
      out.type = hit.type;
      out.record = Index(hit.id);
      out.parent = hit.parent_id.empty() ? -1 : Index(hit.parent_id);
      out.title = hit.title;
      out.snippet = hit.snippet;
      out.chunk_index = hit.chunk_index.value_or(-1);
      out.match_field = hit.match_field;
      out.score = hit.score;
      if (texts.ok()) out.text = (*texts)[i];
      comparable.push_back(std::move(out));
    }
    return comparable;
  }

 private:
  int Index(const std::string& id) const {
    auto found = ids_.find(id);
    return found == ids_.end() ? -2 : found->second;
  }

  test::TestStorage database_;
  std::vector<std::string> notebooks_;
  std::map<std::string, int> ids_;
};

TEST(KeywordSearchBackends, SameHitsOrderAndScores) {
  if (!test::PostgresServerUrl()) GTEST_SKIP() << test::kPostgresSkipMessage;
  const std::string faq = ReadGzip(kDebianFaq);
  ASSERT_FALSE(faq.empty()) << kDebianFaq << " cannot be read; install the debian-faq package";
  const std::vector<FaqQuestion> questions = SplitFaq(faq);
  ASSERT_GT(questions.size(), 100u);

  std::vector<Note> notes;
  std::ifstream prose(std::string(ON_SOURCE_DIR) + "/tests/data/search/english_prose.md");
  std::string heading;
  for (std::string line; std::getline(prose, line);) {
    if (line.starts_with("#")) {
      heading = line.substr(line.find(' ') + 1);
    } else if (!line.empty()) {
      Note note;
      note.title = heading;
      note.content = line;
      note.note_type = "human";
      notes.push_back(note);
    }
  }
  ASSERT_GT(notes.size(), 10u);

  LoadedCorpus sqlite(test::StorageBackend::kSqlite);
  LoadedCorpus postgres(test::StorageBackend::kPostgres);
  ASSERT_EQ(sqlite.database().error(), "");
  ASSERT_EQ(postgres.database().error(), "");
  ASSERT_EQ(sqlite.Load(questions, notes), "");
  ASSERT_EQ(postgres.Load(questions, notes), "");

  const search::Tokenizer tokenizer;
  struct Case {
    std::string text;
    std::optional<std::string> notebook;  // "0" or "1": the index of the notebook
    bool sources = true;
    bool notes = true;
  };
  const std::vector<Case> cases = {
      {"debian"},
      {"kernel"},
      {"dpkg"},
      {"What is Debian GNU/Linux?"},
      {"How do I install a package with dpkg and apt?"},
      {"Where can I get the Debian installation images?"},
      {"the and to of"},  // stop words only: three rare words, "the" too common to go alone
      {"zeppelinology"},
      {"mirror archive", "0"},
      {"mirror archive", "1"},
      {"notebook research summaries", std::nullopt, false, true},
      {"quotation page numbers"},
      {"Compatibility issues"},
      {"Customizing your system", std::nullopt, true, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text + (c.notebook ? " in notebook " + *c.notebook : std::string()));
    TextSearchQuery query = MakeQuery(c.text, tokenizer);
    query.limit = 400;
    query.notebook_id = c.notebook;
    query.search_sources = c.sources;
    query.search_notes = c.notes;
    const auto expected = sqlite.Search(query);
    const auto actual = postgres.Search(query);
    // Every case but the made-up word finds something, so the comparison below is never empty.
    EXPECT_EQ(expected.empty(), c.text == "zeppelinology");
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      SCOPED_TRACE("hit " + std::to_string(i));
      EXPECT_EQ(actual[i].type, expected[i].type) << actual[i] << " vs " << expected[i];
      EXPECT_EQ(actual[i].record, expected[i].record) << actual[i] << " vs " << expected[i];
      EXPECT_EQ(actual[i].parent, expected[i].parent);
      EXPECT_EQ(actual[i].title, expected[i].title);
      EXPECT_EQ(actual[i].snippet, expected[i].snippet);
      EXPECT_EQ(actual[i].chunk_index, expected[i].chunk_index) << actual[i] << " vs " << expected[i];
      EXPECT_EQ(actual[i].match_field, expected[i].match_field);
      EXPECT_NEAR(actual[i].score, expected[i].score, 1e-9 * std::abs(expected[i].score));
      EXPECT_EQ(actual[i].text, expected[i].text);
    }
  }
}

}  // namespace
}  // namespace on::storage
