// Real documents from Debian packages, ingested over HTTP as a user would, then searched.
//
// Needs postgresql-doc-15, r-doc-pdf and debian-faq (scripts/install-deps.sh installs them);
// skips with the package name when one is missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "support/data_dir_database.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace on {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kPostgresDocs = "/usr/share/doc/postgresql-doc-15/html";
const fs::path kRManuals = "/usr/share/R/doc/manual";
const fs::path kDebianFaq = "/usr/share/doc/debian/FAQ";

std::string ReadFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The English chapter pages; the package also has unsuffixed copies of them and an index.
bool IsFaqChapter(const fs::path& path) {
  const std::string name = path.filename().string();
  return name.ends_with(".en.html") && name != "index.en.html";
}

// True when `chunk` contains the section of `question`: its heading followed by answer text, not
// just the entry in a table of contents.
bool HoldsSection(const std::string& chunk, const std::string& question) {
  for (size_t at = chunk.find(question); at != std::string::npos; at = chunk.find(question, at + 1)) {
    const size_t after = at + question.size();
    if (chunk.compare(after, 2, "\n\n") != 0) continue;
    if (after + 2 < chunk.size() && !std::isdigit(static_cast<unsigned char>(chunk[after + 2]))) return true;
  }
  return false;
}

struct FaqQuestion {
  std::string file;      // chapter page, e.g. "basic-defs.en.html"
  std::string question;  // "What is Debian GNU/Linux?"
};

// The numbered section titles of the FAQ that are questions, e.g. "1.2. What is Debian GNU/Linux?".
std::vector<FaqQuestion> FaqQuestions() {
  std::vector<FaqQuestion> questions;
  const std::regex heading(R"(<h2 class="title"[^>]*>([\s\S]*?)</h2>)");
  const std::regex tags("<[^>]+>");
  const std::regex number(R"(^\s*[0-9]+\.[0-9]+\.(\xC2\xA0|\s)*)");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kDebianFaq)) {
    if (IsFaqChapter(entry.path())) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    const std::string page = ReadFile(path);
    for (std::sregex_iterator it(page.begin(), page.end(), heading), end; it != end; ++it) {
      std::string text = std::regex_replace((*it)[1].str(), tags, "");
      text = std::regex_replace(text, number, "");
      text = std::regex_replace(text, std::regex(R"(\s+)"), " ");
      if (text.empty() || text.back() != '?') continue;
      questions.push_back({path.filename().string(), text});
    }
  }
  return questions;
}

class RealDocumentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kPostgresDocs)) GTEST_SKIP() << "install postgresql-doc-15";
    if (!fs::exists(kRManuals / "R-intro.pdf")) GTEST_SKIP() << "install r-doc-pdf";
    if (!fs::exists(kDebianFaq)) GTEST_SKIP() << "install debian-faq";
    server_ = std::make_unique<test::ServerProcess>(dir_.path() / "data",
                                                    std::map<std::string, std::string>{{"OPEN_NOTEBOOK_ACCESS_LOG", "false"}});
    const bool started = server_->Start();
    client_ = std::make_unique<test::HttpClient>(server_->Client());  // valid even when the start failed
    ASSERT_TRUE(started) << server_->log();
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::string Upload(const fs::path& path, const std::string& notebook) {
    auto created = client_->PostForm("/api/sources", {{"type", "upload"},
                                                      {"async_processing", "true"},
                                                      {"notebooks", json::array({notebook}).dump()},
                                                      {"file", ReadFile(path), path.filename().string(), "", ""}});
    EXPECT_EQ(created.status, 200) << path << ": " << created.body;
    return created.Json().value("id", "");
  }

  test::TempDir dir_;
  std::unique_ptr<test::ServerProcess> server_;
  std::unique_ptr<test::HttpClient> client_;
};

TEST_F(RealDocumentsTest, IngestAndFindFaqAnswers) {
  const std::string manuals = client_->Post("/api/notebooks", {{"name", "Manuals"}}).Json()["id"];
  const std::string faq = client_->Post("/api/notebooks", {{"name", "Debian FAQ"}}).Json()["id"];

  std::vector<fs::path> postgres_pages;
  for (const auto& entry : fs::directory_iterator(kPostgresDocs)) {
    if (entry.path().extension() == ".html") postgres_pages.push_back(entry.path());
  }
  std::sort(postgres_pages.begin(), postgres_pages.end());
  postgres_pages.resize(std::min<size_t>(postgres_pages.size(), 200));
  ASSERT_EQ(postgres_pages.size(), 200u);

  std::vector<std::string> ids;
  for (const auto& page : postgres_pages) ids.push_back(Upload(page, manuals));
  ids.push_back(Upload(kRManuals / "R-intro.pdf", manuals));
  ids.push_back(Upload(kRManuals / "R-data.pdf", manuals));
  std::map<std::string, std::string> faq_source_by_file;
  for (const auto& entry : fs::directory_iterator(kDebianFaq)) {
    if (!IsFaqChapter(entry.path())) continue;
    const std::string id = Upload(entry.path(), faq);
    ids.push_back(id);
    faq_source_by_file[entry.path().filename().string()] = id;
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(15);
  for (const auto& id : ids) {
    json status;
    while (std::chrono::steady_clock::now() < deadline) {
      status = client_->Get("/api/sources/" + id + "/status").Json();
      if (status["status"] == "completed" || status["status"] == "failed") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(status["status"], "completed") << id << " " << status.dump();
  }
  json r_intro = client_->Get("/api/sources/" + ids[200]).Json();
  EXPECT_GT(r_intro["chunk_count"].get<int>(), 50);

  // Recall@5: the chunk holding the question's section (heading and answer) must be among the
  // five best chunks of the search. The question is the query, as a user would type it.

  const auto questions = FaqQuestions();
  ASSERT_GE(questions.size(), 40u);
  int found = 0;
  int questions_searched = 0;
  for (const auto& question : questions) {
    ++questions_searched;
    auto response = client_->Post("/api/search", {{"query", question.question}, {"type", "text"}, {"limit", 20},
                                                  {"minimum_score", 0}, {"search_notes", false}});
    ASSERT_EQ(response.status, 200) << response.body;

    std::vector<std::tuple<double, std::string, int64_t>> chunks;  // score, source, chunk
    const json body = response.Json();
    for (const auto& result : body["results"]) {
      for (const auto& match : result["matches"]) {
        if (match.contains("chunk_index")) chunks.emplace_back(match["score"], result["id"], match["chunk_index"]);
      }
    }
    std::stable_sort(chunks.begin(), chunks.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
    const std::string& expected_source = faq_source_by_file[question.file];
    bool hit = false;
    for (size_t i = 0; i < std::min<size_t>(chunks.size(), 5) && !hit; ++i) {
      if (std::get<1>(chunks[i]) != expected_source) continue;
      const test::SqlResult content =
          test::QueryDataDir(dir_.path() / "data", "SELECT content FROM source_chunk WHERE source_id = $1 AND chunk_index = $2",
                             {expected_source, std::to_string(std::get<2>(chunks[i]))});
      ASSERT_EQ(content.error, "");
      if (!content.rows.empty()) hit = HoldsSection(content.rows[0][0].value_or(""), question.question);
    }
    found += hit ? 1 : 0;
    if (!hit && questions_searched - found <= 3) {
      std::printf("missed: [%s] in %s; best chunks:", question.question.c_str(), question.file.c_str());
      for (size_t i = 0; i < std::min<size_t>(chunks.size(), 5); ++i) {
        std::printf(" %s#%lld", std::get<1>(chunks[i]).c_str(), static_cast<long long>(std::get<2>(chunks[i])));
      }
      std::printf(" (expected %s)\n", expected_source.c_str());
    }
  }

  const double recall = static_cast<double>(found) / questions_searched;
  std::printf("debian-faq keyword recall@5: %d of %d questions (%.3f)\n", found, questions_searched, recall);
  RecordProperty("faq_recall_at_5", std::to_string(recall));
  EXPECT_GE(recall, 0.6);
}

}  // namespace
}  // namespace on
