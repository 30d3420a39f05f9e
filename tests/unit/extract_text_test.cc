#include <gtest/gtest.h>

#include <string>

#include "extract_test_util.h"
#include "ingest/extractor.h"
#include "ingest/format_extractors.h"
#include "ingest/text_decoding.h"
#include "support/temp_dir.h"

namespace on::ingest {
namespace {

using test::ExtractDataPath;

Result<ExtractedDocument> ExtractText(const std::string& bytes, ExtractOptions options = {}) {
  return ExtractBuffer(bytes, DocumentKind::kPlainText, options);
}

TEST(ExtractText, Utf8BomAndCrlf) {
  auto document = ExtractText("\xEF\xBB\xBFline one\r\nline two\rline three\r\n");
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "line one\nline two\nline three\n");
  EXPECT_EQ(document->kind, DocumentKind::kPlainText);
  EXPECT_TRUE(document->title.empty());
  EXPECT_TRUE(document->pages.empty());
}

TEST(ExtractText, Utf16LittleEndianBom) {
  const std::string bytes("\xFF\xFEh\0i\0 \0\x2C\x67\n\0", 12);  // "hi 本\n"
  auto document = ExtractText(bytes);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "hi \xE6\x9C\xAC\n");
}

TEST(ExtractText, Latin1File) {
  auto document = ExtractFile(ExtractDataPath("latin1.txt"), DocumentKind::kPlainText, {});
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_NE(document->text.find("Le café de la gare était fermé"), std::string::npos)
      << document->text;
  EXPECT_NE(document->text.find("« Où êtes-vous allés hier soir ? »"), std::string::npos);
  EXPECT_NE(document->text.find("l'église Saint-Étienne."), std::string::npos);
}

TEST(ExtractText, Gb18030File) {
  auto document = ExtractFile(ExtractDataPath("gb18030.txt"), DocumentKind::kPlainText, {});
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text.rfind("北京是中华人民共和国的首都，也是全国的政治中心和文化中心。", 0),
            0u)
      << document->text;
  EXPECT_NE(document->text.find("例如故宫、天坛和颐和园。"), std::string::npos);
}

TEST(ExtractText, ShiftJisFile) {
  auto document = ExtractFile(ExtractDataPath("shift_jis.txt"), DocumentKind::kPlainText, {});
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text.rfind("吾輩は猫である。名前はまだ無い。", 0), 0u) << document->text;
  EXPECT_NE(document->text.find("一番獰悪な種族であった"), std::string::npos);
}

TEST(ExtractText, DeclaredCharsetUsed) {
  ExtractOptions options;
  options.declared_charset = "windows-1251";
  auto document = ExtractText("\xCF\xF0\xE8\xE2\xE5\xF2", options);  // "Привет"
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "Привет");
}

TEST(ExtractText, ValidUtf8BeatsLatin1Label) {
  ExtractOptions options;
  options.declared_charset = "ISO-8859-1";
  auto document = ExtractText("naïve café", options);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "naïve café");
}

TEST(ExtractText, InvalidUtf8Replaced) {
  ExtractOptions options;
  options.declared_charset = "UTF-8";
  auto document = ExtractText("ab\xFF" "cd", options);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "ab\xEF\xBF\xBD" "cd");
}

TEST(ExtractText, ControlCharactersRemoved) {
  auto document = ExtractText(std::string("a\0b\x01" "c\td\fe\x7F", 10));
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "abc\td\ne");
}

TEST(ExtractText, BlankIsInvalid) {
  auto document = ExtractText(" \n\t\r\n\xC2\xA0\xE3\x80\x80");
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(document.status().message().find("plain-text"), std::string::npos);
}

TEST(ExtractText, TextLimit) {
  ExtractOptions options;
  options.max_text_bytes = 100;
  auto document = ExtractText(std::string(101, 'a'), options);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kPayloadTooLarge);

  auto converted = ExtractText(std::string(200, '\xE9'), options);  // Latin-1 "é" x 200
  ASSERT_FALSE(converted.ok());
  EXPECT_EQ(converted.status().code(), ErrorCode::kPayloadTooLarge);
}

TEST(ExtractFile, InputLimit) {
  on::test::TempDir dir;
  test::WriteBytes(dir.path() / "big.txt", std::string(2000, 'x'));
  ExtractOptions options;
  options.max_input_bytes = 1000;
  auto document = ExtractFile(dir.path() / "big.txt", DocumentKind::kPlainText, options);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kPayloadTooLarge);
  EXPECT_NE(document.status().message().find("max_input_bytes"), std::string::npos);
}

TEST(ExtractFile, MissingFile) {
  on::test::TempDir dir;
  auto document = ExtractFile(dir.path() / "absent.md", DocumentKind::kMarkdown, {});
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kIo);
  EXPECT_NE(document.status().message().find("absent.md"), std::string::npos);
}

TEST(ExtractMarkdown, TitleFromHeading) {
  auto document = ExtractBuffer("Intro line\n\n# Project *Notes* #\n\nBody.\n# Second\n",
                                DocumentKind::kMarkdown, {});
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->title, "Project *Notes*");
  EXPECT_EQ(document->kind, DocumentKind::kMarkdown);
  EXPECT_EQ(document->text, "Intro line\n\n# Project *Notes* #\n\nBody.\n# Second\n");
}

TEST(MarkdownTitle, Variants) {
  EXPECT_EQ(FindMarkdownTitle("---\ntitle: \"Field Notes\"\ntags: [a]\n---\n# Other\n"),
            "Field Notes");
  EXPECT_EQ(FindMarkdownTitle("```bash\n# not a title\n```\n# Real title\n"), "Real title");
  EXPECT_EQ(FindMarkdownTitle("~~~~\n# inside\n~~~\n# still inside\n~~~~\n# After\n"), "After");
  EXPECT_EQ(FindMarkdownTitle("    # indented code\nSetext Title\n=====\n"), "Setext Title");
  EXPECT_EQ(FindMarkdownTitle("## Level two\n#hashtag\n"), "");
  EXPECT_EQ(FindMarkdownTitle("#\n# \xE6\x97\xA5\xE6\x9C\xAC\n"), "日本");
}

TEST(NormalizeText, LineEndsAndControls) {
  EXPECT_EQ(NormalizeText("a\r\nb\rc\n"), "a\nb\nc\n");
  EXPECT_EQ(NormalizeText("x\xC2\x85y\xEF\xBB\xBFz"), "xyz");  // U+0085, a C1 control, and U+FEFF
  EXPECT_EQ(NormalizeText("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(IsValidUtf8, RejectsOverlongAndSurrogates) {
  EXPECT_TRUE(IsValidUtf8("plain ASCII and \xE2\x82\xAC and \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));      // truncated
}

}  // namespace
}  // namespace on::ingest
