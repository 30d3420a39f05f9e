#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "extract_test_util.h"
#include "ingest/child_process.h"
#include "ingest/extractor.h"
#include "support/temp_dir.h"

namespace on::ingest {
namespace {

using std::chrono::steady_clock;
using test::ExtractDataPath;
using test::WriteScript;

const std::filesystem::path kRIntro = "/usr/share/R/doc/manual/R-intro.pdf";
const std::filesystem::path kClassGuide = "/usr/share/doc/texlive-doc/latex/base/clsguide.pdf";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void ExpectContiguousPages(const ExtractedDocument& document) {
  ASSERT_FALSE(document.pages.empty());
  size_t expected_begin = 0;
  for (size_t i = 0; i < document.pages.size(); ++i) {
    EXPECT_EQ(document.pages[i].page, static_cast<int>(i + 1));
    EXPECT_EQ(document.pages[i].begin, expected_begin) << "page " << i + 1;
    EXPECT_LE(document.pages[i].begin, document.pages[i].end) << "page " << i + 1;
    expected_begin = document.pages[i].end;
  }
  EXPECT_EQ(document.pages.back().end, document.text.size());
}

std::string PageText(const ExtractedDocument& document, size_t index) {
  const PageSpan& span = document.pages.at(index);
  return document.text.substr(span.begin, span.end - span.begin);
}

TEST(ExtractPdf, RIntroduction) {
  if (!std::filesystem::exists(kRIntro)) GTEST_SKIP() << "Debian package r-doc-pdf is not installed";
  auto document = ExtractFile(kRIntro, DocumentKind::kPdf, {});
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->kind, DocumentKind::kPdf);
  EXPECT_EQ(document->text.rfind("An Introduction to R\n", 0), 0u) << document->text.substr(0, 200);
  EXPECT_GT(document->pages.size(), 100u);
  ExpectContiguousPages(*document);
  EXPECT_FALSE(Contains(document->text, "\f"));
  EXPECT_TRUE(Contains(PageText(*document, 0), "Notes on R: A Programming Environment"));
  EXPECT_FALSE(Contains(PageText(*document, 0), "Introduction and preliminaries\n1.1"));
  // The R manual has no Title in its Info dictionary.
  EXPECT_EQ(document->title, "");
}

TEST(ExtractPdf, TitleFromInfo) {
  if (!std::filesystem::exists(kClassGuide)) {
    GTEST_SKIP() << "Debian package texlive-latex-base-doc is not installed";
  }
  auto document = ExtractFile(kClassGuide, DocumentKind::kPdf, {});
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->title, "LaTeX2ε for class and package writers");
  ExpectContiguousPages(*document);
}

TEST(ExtractPdf, ImageOnlyFails) {
  auto document = ExtractFile(ExtractDataPath("image_only.pdf"), DocumentKind::kPdf, {});
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(document.status().message(),
            "the PDF has 1 page but no extractable text (scanned or image-only pages); OCR is not "
            "available in this build");
}

TEST(ExtractPdf, BufferRemovesTemporaryFile) {
  on::test::TempDir dir;
  const char* previous = std::getenv("TMPDIR");
  const std::string saved = previous != nullptr ? previous : "";
  ::setenv("TMPDIR", dir.path().c_str(), 1);
  auto document = ExtractBuffer(test::ReadBytes(ExtractDataPath("image_only.pdf")),
                                DocumentKind::kPdf, {});
  if (previous != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }

  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(ExtractPdf, BrokenFileFails) {
  auto document = ExtractBuffer("%PDF-1.4\nthis is not a PDF body\n", DocumentKind::kPdf, {});
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Contains(document.status().message(), "pdftotext could not read the PDF"))
      << document.status().message();
  EXPECT_TRUE(Contains(document.status().message(), "Error")) << document.status().message();
}

TEST(ExtractPdf, Timeout) {
  on::test::TempDir dir;
  ExtractOptions options;
  options.pdftotext_path = WriteScript(dir.path() / "pdftotext", "sleep 30").string();
  options.pdf_timeout = std::chrono::seconds(1);

  const auto start = steady_clock::now();
  auto document = ExtractFile(ExtractDataPath("image_only.pdf"), DocumentKind::kPdf, options);
  const auto elapsed = steady_clock::now() - start;

  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kTimeout);
  EXPECT_TRUE(Contains(document.status().message(), "within 1 s")) << document.status().message();
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

TEST(ExtractPdf, OutputLimit) {
  on::test::TempDir dir;
  ExtractOptions options;
  options.pdftotext_path = WriteScript(dir.path() / "pdftotext", "exec yes 'some text'").string();
  options.max_text_bytes = 1 << 20;
  auto document = ExtractFile(ExtractDataPath("image_only.pdf"), DocumentKind::kPdf, options);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kPayloadTooLarge);
}

TEST(ExtractPdf, PagesFromFormFeeds) {
  on::test::TempDir dir;
  ExtractOptions options;
  options.pdftotext_path =
      WriteScript(dir.path() / "pdftotext", "printf 'first page\\r\\n\\f\\f third\\fno newline\\f'")
          .string();
  options.pdfinfo_path = WriteScript(dir.path() / "pdfinfo", "echo 'Title:   Field Notes  '")
                             .string();
  auto document = ExtractFile(ExtractDataPath("image_only.pdf"), DocumentKind::kPdf, options);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "first page\n third\nno newline\n");
  ASSERT_EQ(document->pages.size(), 4u);
  EXPECT_EQ(PageText(*document, 0), "first page\n");
  EXPECT_EQ(PageText(*document, 1), "");
  EXPECT_EQ(PageText(*document, 2), " third\n");
  EXPECT_EQ(PageText(*document, 3), "no newline\n");
  ExpectContiguousPages(*document);
  EXPECT_EQ(document->title, "Field Notes");
}

TEST(ExtractPdf, MissingProgram) {
  ExtractOptions options;
  options.pdftotext_path = "on-test-no-such-pdftotext";
  auto document = ExtractFile(ExtractDataPath("image_only.pdf"), DocumentKind::kPdf, options);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kConfiguration);
  EXPECT_TRUE(Contains(document.status().message(), "on-test-no-such-pdftotext"));
}

TEST(ExtractPdf, MissingFile) {
  on::test::TempDir dir;
  auto document = ExtractFile(dir.path() / "absent.pdf", DocumentKind::kPdf, {});
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kIo);
}

TEST(ChildProcess, SetsLimits) {
  ChildProcessLimits limits;
  limits.memory_bytes = 256ull << 20;
  limits.cpu_time = std::chrono::seconds(7);
  auto run = RunChildProcess({"/bin/sh", "-c", "ulimit -v; ulimit -t"}, limits);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->exit_code, 0);
  EXPECT_EQ(run->stdout_data, "262144\n7\n");  // KiB and seconds
}

TEST(ChildProcess, CollectsOutputAndExitCode) {
  auto run = RunChildProcess({"sh", "-c", "echo out; echo err >&2; exit 3"}, {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->exit_code, 3);
  EXPECT_EQ(run->term_signal, 0);
  EXPECT_EQ(run->stdout_data, "out\n");
  EXPECT_EQ(run->stderr_data, "err\n");
  EXPECT_FALSE(run->timed_out);
}

TEST(ChildProcess, NoInheritedInput) {
  auto run = RunChildProcess({"/bin/sh", "-c", "cat; ls /proc/self/fd"}, {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  // cat reads /dev/null. ls lists 0, 1, 2 and the descriptor of the directory it reads.
  EXPECT_EQ(run->stdout_data, "0\n1\n2\n3\n");
}

TEST(ChildProcess, KillsProcessGroupOnTimeout) {
  on::test::TempDir dir;
  const std::filesystem::path marker = dir.path() / "survived";
  ChildProcessLimits limits;
  limits.timeout = std::chrono::milliseconds(300);
  auto run = RunChildProcess(
      {"/bin/sh", "-c", "(sleep 1; touch '" + marker.string() + "') & sleep 30"}, limits);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_TRUE(run->timed_out);
  EXPECT_EQ(run->term_signal, SIGKILL);
  ::sleep(2);
  EXPECT_FALSE(std::filesystem::exists(marker)) << "a grandchild outlived the timeout";
}

}  // namespace
}  // namespace on::ingest
