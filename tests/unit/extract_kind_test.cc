#include <gtest/gtest.h>

#include <string>

#include "extract_test_util.h"
#include "ingest/extractor.h"
#include "support/temp_dir.h"

namespace on::ingest {
namespace {

using test::DocxEntries;
using test::EpubChapter;
using test::EpubEntries;
using test::WriteZip;

// A PNG signature and IHDR chunk (1x1 pixel); libmagic needs no more to name it.
const std::string kPngHead("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89",
                           33);

void ExpectUnsupported(const Result<DocumentKind>& kind, const std::string& detected) {
  ASSERT_FALSE(kind.ok());
  EXPECT_EQ(kind.status().code(), ErrorCode::kUnsupportedType);
  EXPECT_NE(kind.status().message().find(detected), std::string::npos) << kind.status().message();
  EXPECT_NE(kind.status().message().find("PDF, DOCX, EPUB, HTML, Markdown and plain text"),
            std::string::npos)
      << kind.status().message();
}

TEST(DocumentKindName, RoundTrips) {
  for (DocumentKind kind : {DocumentKind::kPlainText, DocumentKind::kMarkdown, DocumentKind::kHtml,
                            DocumentKind::kPdf, DocumentKind::kDocx, DocumentKind::kEpub}) {
    EXPECT_EQ(DocumentKindFromName(DocumentKindName(kind)), kind);
  }
  EXPECT_EQ(DocumentKindName(DocumentKind::kPlainText), "text");
  EXPECT_EQ(DocumentKindName(DocumentKind::kEpub), "epub");
  EXPECT_FALSE(DocumentKindFromName("doc").has_value());
}

TEST(DetectKind, Pdf) {
  auto kind = DetectKind("scan.bin", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n");
  ASSERT_TRUE(kind.ok()) << kind.status().ToString();
  EXPECT_EQ(*kind, DocumentKind::kPdf);
}

TEST(DetectKind, HtmlByContent) {
  auto kind = DetectKind("download", "<!DOCTYPE html>\n<html><head><title>T</title></head>"
                                     "<body><p>Hello</p></body></html>\n");
  ASSERT_TRUE(kind.ok()) << kind.status().ToString();
  EXPECT_EQ(*kind, DocumentKind::kHtml);
}

TEST(DetectKind, TextExtensionWins) {
  const std::string html = "<!DOCTYPE html>\n<html><body><p>Hello</p></body></html>\n";
  EXPECT_EQ(DetectKind("notes.txt", html).value(), DocumentKind::kPlainText);
  EXPECT_EQ(DetectKind("README.md", "# Title\n\nSome *text*.\n").value(), DocumentKind::kMarkdown);
  EXPECT_EQ(DetectKind("page.HTM", "plain words\n").value(), DocumentKind::kHtml);
  EXPECT_EQ(DetectKind("data.csv", "a,b\n1,2\n").value(), DocumentKind::kPlainText);
}

TEST(DetectKind, ShiftJisNamedAsText) {
  // libmagic takes these bytes for a DOS .COM program.
  const std::string bytes = test::ReadBytes(test::ExtractDataPath("shift_jis.txt"));
  auto kind = DetectKind("neko.txt", bytes);
  ASSERT_TRUE(kind.ok()) << kind.status().ToString();
  EXPECT_EQ(*kind, DocumentKind::kPlainText);
}

TEST(DetectKind, DocxAndEpub) {
  on::test::TempDir dir;
  const std::string docx =
      WriteZip(dir.path() / "a.docx", DocxEntries("<w:p><w:r><w:t>Hi</w:t></w:r></w:p>", "T"));
  const std::string epub = WriteZip(
      dir.path() / "b.epub", EpubEntries("Book", {{"ch1.xhtml", EpubChapter("<p>Hi</p>")}}));

  EXPECT_EQ(DetectKind("report.docx", docx).value(), DocumentKind::kDocx);
  EXPECT_EQ(DetectKind("upload.bin", docx).value(), DocumentKind::kDocx);
  EXPECT_EQ(DetectKind("book.epub", epub).value(), DocumentKind::kEpub);
  EXPECT_EQ(DetectKind("upload.bin", epub).value(), DocumentKind::kEpub);
}

TEST(DetectKind, PlainZipUnsupported) {
  on::test::TempDir dir;
  const std::string zip = WriteZip(dir.path() / "a.zip", {{"notes.txt", "hello"}});
  ExpectUnsupported(DetectKind("archive.zip", zip), "ZIP archive");
}

TEST(DetectKind, TruncatedZipHeader) {
  // A local header for "mimetype" whose extra field claims more bytes than the head has.
  std::string head("PK\x03\x04", 4);
  head += std::string(22, '\0');
  head += std::string("\x08\x00\xFF\x3F", 4);  // name length 8, extra length 16383
  head += "mimetypeapplication/epub+zip";
  ExpectUnsupported(DetectKind("upload.bin", head), "ZIP archive");
}

TEST(DetectKind, ImageUnsupported) {
  ExpectUnsupported(DetectKind("photo.png", kPngHead), "image/png");
}

TEST(DetectKind, ExecutableUnsupported) {
  const std::string head = test::ReadBytes("/proc/self/exe").substr(0, kDetectionHeadBytes);
  // libmagic names a truncated ELF file application/x-sharedlib, a whole one x-pie-executable.
  ExpectUnsupported(DetectKind("tool", head), "application/x-");
}

TEST(DetectKind, BinaryNamedAsTextUnsupported) {
  ExpectUnsupported(DetectKind("photo.txt", kPngHead), "image/png");
}

TEST(DetectKind, EmptyIsInvalid) {
  auto kind = DetectKind("empty.txt", "");
  ASSERT_FALSE(kind.ok());
  EXPECT_EQ(kind.status().code(), ErrorCode::kInvalidInput);
}

TEST(DetectKindFromContentType, HeaderDecides) {
  EXPECT_EQ(DetectKindFromContentType("text/html; charset=UTF-8", "/a/b", "plain").value(),
            DocumentKind::kHtml);
  EXPECT_EQ(DetectKindFromContentType("application/xhtml+xml", "/", "").value(),
            DocumentKind::kHtml);
  EXPECT_EQ(DetectKindFromContentType("Application/PDF", "/x", "%PDF-1.4\n").value(),
            DocumentKind::kPdf);
  EXPECT_EQ(DetectKindFromContentType("text/markdown", "/x", "# T").value(),
            DocumentKind::kMarkdown);
  EXPECT_EQ(DetectKindFromContentType("text/plain", "/docs/README.md?raw=1", "# T").value(),
            DocumentKind::kMarkdown);
  EXPECT_EQ(DetectKindFromContentType("text/plain", "/robots.txt", "x").value(),
            DocumentKind::kPlainText);
  EXPECT_EQ(DetectKindFromContentType("text/csv", "/data", "a,b").value(),
            DocumentKind::kPlainText);
}

TEST(DetectKindFromContentType, PdfBodyWins) {
  EXPECT_EQ(DetectKindFromContentType("text/html", "/paper", "%PDF-1.5\n").value(),
            DocumentKind::kPdf);
}

TEST(DetectKindFromContentType, MislabelledPdfSniffed) {
  // Some servers return an HTML error page for a PDF link and still label it application/pdf.
  auto kind = DetectKindFromContentType("application/pdf", "/paper.pdf",
                                        "<!DOCTYPE html><html><body>Not found</body></html>");
  ASSERT_TRUE(kind.ok()) << kind.status().ToString();
  EXPECT_EQ(*kind, DocumentKind::kHtml);
}

TEST(DetectKindFromContentType, GenericTypeSniffed) {
  on::test::TempDir dir;
  const std::string docx =
      WriteZip(dir.path() / "a.docx", DocxEntries("<w:p><w:r><w:t>Hi</w:t></w:r></w:p>", ""));
  EXPECT_EQ(DetectKindFromContentType("application/octet-stream", "/files/q3.docx", docx).value(),
            DocumentKind::kDocx);
  EXPECT_EQ(DetectKindFromContentType("", "/paper", "%PDF-1.4\n").value(), DocumentKind::kPdf);
}

TEST(DetectKindFromContentType, ImageUnsupported) {
  ExpectUnsupported(DetectKindFromContentType("image/png", "/logo.png", kPngHead), "image/png");
}

}  // namespace
}  // namespace on::ingest
