#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "extract_test_util.h"
#include "ingest/extractor.h"
#include "support/temp_dir.h"

namespace on::ingest {
namespace {

using test::DocxEntries;
using test::EpubChapter;
using test::EpubEntries;
using test::WriteZip;
using test::ZipEntry;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const char kReportBody[] = R"(
<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Quarterly Report</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Revenue </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>grew</w:t></w:r><w:r><w:tab/><w:t>by 12%</w:t><w:br/><w:t>in the north</w:t></w:r></w:p>
<w:p><w:del w:id="1" w:author="x"><w:r><w:delText>deleted words</w:delText></w:r></w:del><w:ins w:id="2" w:author="x"><w:r><w:t>Inserted words</w:t></w:r></w:ins></w:p>
<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> HYPERLINK "x" </w:instrText></w:r><w:hyperlink><w:r><w:t>Link text</w:t></w:r></w:hyperlink></w:p>
<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/></w:numPr></w:pPr><w:r><w:t>First item</w:t></w:r></w:p>
<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/></w:numPr></w:pPr><w:r><w:t>Second item</w:t></w:r></w:p>
<w:tbl>
<w:tr><w:tc><w:p><w:r><w:t>Region</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Sales</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p><w:r><w:t>North</w:t></w:r></w:p><w:p><w:r><w:t>coast</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>10</w:t></w:r></w:p></w:tc></w:tr>
</w:tbl>
<w:p><w:r><w:t>東京の売上は増えた。</w:t></w:r></w:p>
<w:p/>
)";

Result<ExtractedDocument> ExtractDocxEntries(const std::vector<ZipEntry>& entries,
                                             ExtractOptions options = {}) {
  on::test::TempDir dir;
  return ExtractBuffer(WriteZip(dir.path() / "test.docx", entries), DocumentKind::kDocx, options);
}

TEST(ExtractDocx, ParagraphsRunsAndTables) {
  auto document = ExtractDocxEntries(DocxEntries(kReportBody, "Q3 Report"));
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->kind, DocumentKind::kDocx);
  EXPECT_EQ(document->title, "Q3 Report");
  EXPECT_EQ(document->text,
            "Quarterly Report\n\n"
            "Revenue grew\tby 12%\nin the north\n\n"
            "Inserted words\n\n"
            "Link text\n\n"
            "First item\nSecond item\n\n"
            "Region | Sales\nNorth coast | 10\n\n"
            "東京の売上は増えた。\n");
}

TEST(ExtractDocx, TitleFallsBackToHeading) {
  auto document = ExtractDocxEntries(DocxEntries(kReportBody, ""));
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->title, "Quarterly Report");
}

TEST(ExtractDocx, AnyNamespacePrefix) {
  std::vector<ZipEntry> entries = DocxEntries("", "");
  entries[2].content = R"(<?xml version="1.0"?>
<doc:document xmlns:doc="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<doc:body><doc:p><doc:r><doc:t>Prefixed text</doc:t></doc:r></doc:p></doc:body></doc:document>)";
  auto document = ExtractDocxEntries(entries);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "Prefixed text\n");
}

TEST(ExtractDocx, MainPartFromRelationships) {
  std::vector<ZipEntry> entries = DocxEntries("<w:p><w:r><w:t>Moved</w:t></w:r></w:p>", "");
  entries[1].content = R"(<?xml version="1.0"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/word/main.xml"/>
</Relationships>)";
  entries[2].name = "word/main.xml";
  auto document = ExtractDocxEntries(entries);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "Moved\n");
}

TEST(ExtractDocx, DtdEntitiesNotExpanded) {
  // A "billion laughs" document: expanding &e9; would produce 10^9 copies of "laugh" (5 GB).
  std::vector<ZipEntry> entries = DocxEntries("", "");
  std::string dtd = "<!DOCTYPE w:document [<!ENTITY e0 \"laugh\">";
  for (int i = 1; i <= 9; ++i) {
    dtd += "<!ENTITY e" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) dtd += "&e" + std::to_string(i - 1) + ";";
    dtd += "\">";
  }
  entries[2].content = dtd + R"(]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>before &e9; after &amp; done</w:t></w:r></w:p></w:body></w:document>)";
  auto document = ExtractDocxEntries(entries);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "before &e9; after & done\n");
}

TEST(ExtractDocx, EmptyDocumentFails) {
  auto document = ExtractDocxEntries(DocxEntries("<w:p/><w:p><w:r><w:t> </w:t></w:r></w:p>", ""));
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Contains(document.status().message(), "DOCX")) << document.status().message();
}

TEST(ExtractDocx, MissingMainPartFails) {
  auto document = ExtractDocxEntries({{"[Content_Types].xml", "<Types/>"}, {"other.xml", "<a/>"}});
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Contains(document.status().message(), "word/document.xml"))
      << document.status().message();
}

TEST(ExtractDocx, MalformedXmlFails) {
  std::vector<ZipEntry> entries = DocxEntries("", "");
  entries[2].content = "<w:document><w:body><w:p>";
  auto document = ExtractDocxEntries(entries);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Contains(document.status().message(), "not well-formed"))
      << document.status().message();
}

TEST(ExtractDocx, NotZipFails) {
  auto document = ExtractBuffer("PK\x03\x04 not really a zip", DocumentKind::kDocx, {});
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput);
}

// Two MiB of paragraphs that deflate to a few KiB.
std::string LargeBody() {
  std::string body;
  for (int i = 0; i < 20000; ++i) body += "<w:p><w:r><w:t>aaaaaaaaaaaaaaaaaaaaaa</w:t></w:r></w:p>";
  return body;
}

TEST(ExtractDocx, ZipBombDeclaredSize) {
  ExtractOptions options;
  options.max_archive_entry_bytes = 1 << 20;
  auto document = ExtractDocxEntries(DocxEntries(LargeBody(), ""), options);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Contains(document.status().message(), "zip bomb")) << document.status().message();
  EXPECT_TRUE(Contains(document.status().message(), "word/document.xml"))
      << document.status().message();
}

void PatchLittleEndian32(std::string& bytes, size_t offset, uint32_t value) {
  for (size_t i = 0; i < 4; ++i) bytes[offset + i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

TEST(ExtractDocx, ZipBombUnderstatedSize) {
  // The archive claims 1,000 uncompressed bytes for word/document.xml in both its local header
  // and its central directory, but the entry inflates to two MiB.
  on::test::TempDir dir;
  std::string zip = WriteZip(dir.path() / "bomb.docx", DocxEntries(LargeBody(), ""));
  const std::string name = "word/document.xml";
  const size_t local_name = zip.find(name);
  const size_t central_name = zip.find(name, local_name + 1);
  ASSERT_NE(central_name, std::string::npos);
  PatchLittleEndian32(zip, local_name - 30 + 22, 1000);
  PatchLittleEndian32(zip, central_name - 46 + 24, 1000);

  ExtractOptions options;
  options.max_archive_entry_bytes = 1 << 20;
  auto document = ExtractBuffer(zip, DocumentKind::kDocx, options);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput) << document.status().ToString();
  // The bytes actually inflated are counted, whatever the headers declare.
  EXPECT_TRUE(Contains(document.status().message(), "zip bomb")) << document.status().message();
}

Result<ExtractedDocument> ExtractEpubEntries(const std::vector<ZipEntry>& entries,
                                             ExtractOptions options = {}) {
  on::test::TempDir dir;
  return ExtractBuffer(WriteZip(dir.path() / "test.epub", entries), DocumentKind::kEpub, options);
}

TEST(ExtractEpub, SpineOrder) {
  auto document = ExtractEpubEntries(EpubEntries(
      "A Small Book",
      {{"text/ch1.xhtml",
        EpubChapter("<nav epub:type='landmarks'><a href='#'>Skip</a></nav>"
                    "<h1>Chapter One</h1><p>It was a bright cold day in April.</p>")},
       {"text/../text/chapter%20two.xhtml",
        EpubChapter("<h1>Chapter Two</h1><p>Outside, even through the shut window-pane, "
                    "the world looked cold.</p><aside epub:type='footnote'>A footnote.</aside>")},
       {"ch3.xhtml", EpubChapter("<h1>第三章</h1><p>春はあけぼの。</p>")}}));
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->kind, DocumentKind::kEpub);
  EXPECT_EQ(document->title, "A Small Book");
  EXPECT_EQ(document->text,
            "Chapter One\n\nIt was a bright cold day in April.\n\n"
            "Chapter Two\n\nOutside, even through the shut window-pane, the world looked cold.\n\n"
            "A footnote.\n\n"
            "第三章\n\n春はあけぼの。\n");
}

TEST(ExtractEpub, TitleFallsBackToChapter) {
  std::vector<ZipEntry> entries =
      EpubEntries("", {{"c.xhtml", EpubChapter("<h1>Only chapter</h1><p>Text.</p>")}});
  auto document = ExtractEpubEntries(entries);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->title, "chapter");  // the chapter's <title>
}

TEST(ExtractEpub, HrefOutsideArchiveIgnored) {
  std::vector<ZipEntry> entries = EpubEntries(
      "Book", {{"../../etc/passwd", EpubChapter("<p>x</p>")}, {"ok.xhtml", EpubChapter("<p>Kept.</p>")}});
  auto document = ExtractEpubEntries(entries);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "Kept.\n");
}

TEST(ExtractEpub, DrmProtectedFails) {
  std::vector<ZipEntry> entries = EpubEntries("Book", {{"c.xhtml", "\x01\x02 encrypted bytes"}});
  entries.push_back({"META-INF/encryption.xml", R"(<?xml version="1.0"?>
<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
<enc:EncryptedData><enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
<enc:CipherData><enc:CipherReference URI="OEBPS/c.xhtml"/></enc:CipherData></enc:EncryptedData>
</encryption>)"});
  auto document = ExtractEpubEntries(entries);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Contains(document.status().message(), "DRM")) << document.status().message();
}

TEST(ExtractEpub, MissingContainerFails) {
  auto document = ExtractEpubEntries({{"mimetype", "application/epub+zip", true}});
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Contains(document.status().message(), "META-INF/container.xml"))
      << document.status().message();
}

TEST(ExtractEpub, ImagesOnlyFails) {
  auto document = ExtractEpubEntries(
      EpubEntries("Pictures", {{"p.xhtml", EpubChapter("<img src='cover.png' alt=''/>")}}));
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Contains(document.status().message(), "EPUB")) << document.status().message();
}

TEST(ExtractEpub, TextLimit) {
  std::string long_chapter;
  for (int i = 0; i < 100; ++i) long_chapter += "<p>twenty bytes each</p>";
  ExtractOptions options;
  options.max_text_bytes = 1500;
  auto document = ExtractEpubEntries(
      EpubEntries("Book", {{"a.xhtml", EpubChapter(long_chapter)},
                           {"b.xhtml", EpubChapter(long_chapter)}}),
      options);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kPayloadTooLarge);
}

}  // namespace
}  // namespace on::ingest
