#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "extract_test_util.h"
#include "ingest/extractor.h"

namespace on::ingest {
namespace {

Result<ExtractedDocument> ExtractHtmlString(const std::string& html, ExtractOptions options = {}) {
  return ExtractBuffer(html, DocumentKind::kHtml, options);
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const char kNewsPage[] = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Tides explained | Coast Weekly</title>
<style>body { color: red } .x:before { content: "STYLE_TEXT" }</style>
<script>var tracking = "SCRIPT_TEXT";</script></head>
<body>
<div id="cookie-banner">We use cookies. Accept cookies</div>
<header class="site-header"><a href="/">Coast Weekly home</a>
  <nav><ul><li><a href="/news">News menu</a></li><li><a href="/sport">Sport menu</a></li></ul></nav>
</header>
<div class="breadcrumbs"><a href="/">Home crumb</a> &gt; <a href="/science">Science crumb</a></div>
<div class="layout has-sidebar">
  <article>
    <header><h1>Why the tide turns</h1><p class="byline">By A. Writer</p></header>
    <p>The tide rises and falls twice a day because the Moon pulls on the oceans.</p>
    <p>Spring tides   happen when the Sun and   Moon <em>line up</em>.</p>
    <div class="share-buttons">Share on social</div>
    <footer>Article tags footer</footer>
  </article>
  <aside class="sidebar"><h2>Related links</h2><ul><li>Other story</li></ul></aside>
</div>
<div style="display: none">Hidden promo</div>
<p hidden>Hidden paragraph</p>
<noscript>Enable JavaScript notice</noscript>
<form><label>Search site</label><input name="q"></form>
<footer class="site-footer">Copyright 2024 Coast Weekly</footer>
</body></html>)";

TEST(ExtractHtml, RemovesBoilerplate) {
  auto document = ExtractHtmlString(kNewsPage);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  const std::string& text = document->text;
  EXPECT_EQ(document->title, "Tides explained | Coast Weekly");
  EXPECT_EQ(document->kind, DocumentKind::kHtml);
  EXPECT_TRUE(Contains(text, "Why the tide turns\n\nBy A. Writer\n\nThe tide rises")) << text;
  EXPECT_TRUE(Contains(text, "Spring tides happen when the Sun and Moon line up.")) << text;
  for (const char* boilerplate :
       {"STYLE_TEXT", "SCRIPT_TEXT", "cookies", "Coast Weekly home", "News menu", "Home crumb",
        "Share on social", "Article tags", "Related links", "Other story", "Hidden promo",
        "Hidden paragraph", "Enable JavaScript", "Search site", "Copyright"}) {
    EXPECT_FALSE(Contains(text, boilerplate)) << boilerplate << " in:\n" << text;
  }
}

TEST(ExtractHtml, RemovesBoilerplateWithoutLandmarks) {
  // Without <article> the whole body is rendered, so every rule has to hold on its own.
  std::string page = kNewsPage;
  page.replace(page.find("<article>"), 9, "<section>");
  page.replace(page.find("</article>"), 10, "</section>");
  auto document = ExtractHtmlString(page);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  const std::string& text = document->text;
  EXPECT_EQ(text.rfind("Why the tide turns\n\nBy A. Writer\n\nThe tide rises", 0), 0u) << text;
  for (const char* boilerplate :
       {"STYLE_TEXT", "SCRIPT_TEXT", "cookies", "Coast Weekly home", "News menu", "Home crumb",
        "Share on social", "Article tags", "Related links", "Other story", "Hidden promo",
        "Hidden paragraph", "Enable JavaScript", "Search site", "Copyright"}) {
    EXPECT_FALSE(Contains(text, boilerplate)) << boilerplate << " in:\n" << text;
  }
}

TEST(ExtractHtml, PrefersMainElement) {
  auto document = ExtractHtmlString(
      "<html><body><div class='intro'>Welcome banner text</div>"
      "<div role='main'><h1>Guide</h1><p>Main content paragraph.</p></div>"
      "<div class='links'>Unrelated links</div></body></html>");
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "Guide\n\nMain content paragraph.\n");
  EXPECT_EQ(document->title, "Guide");
}

TEST(ExtractHtml, IgnoresEmptyMain) {
  auto document = ExtractHtmlString(
      "<html><body><main><span>Loading</span></main>"
      "<div><p>The article text that a script forgot to move into main, long enough to be "
      "the bulk of this page's text by a wide margin.</p></div></body></html>");
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_TRUE(Contains(document->text, "The article text that a script forgot")) << document->text;
}

TEST(ExtractHtml, ListsTablesAndBreaks) {
  auto document = ExtractHtmlString(
      "<body><h2>Shopping</h2><ul><li>Milk</li><li>Bread<ul><li>Rye</li></ul></li></ul>"
      "<ol start='3'><li>Third</li><li>Fourth</li></ol>"
      "<table><tr><th>Name</th><th>Age</th></tr><tr><td>Ann <p>Lee</p></td><td>31</td></tr>"
      "</table><p>line one<br>line two</p><pre>\n  keep   this\n    indented</pre></body>");
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text,
            "Shopping\n\n- Milk\n- Bread\n  - Rye\n\n3. Third\n4. Fourth\n\n"
            "Name | Age\nAnn Lee | 31\n\nline one\nline two\n\n  keep   this\n    indented\n");
}

TEST(ExtractHtml, TitleFallsBackToHeading) {
  auto document = ExtractHtmlString("<body><h1> Field\n notes </h1><p>Text.</p></body>");
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->title, "Field notes");
}

TEST(ExtractHtml, MetaCharsetLatin1) {
  auto document = ExtractHtmlString(
      "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\">"
      "<title>Caf\xE9</title></head><body><p>Cr\xE8me br\xFBl\xE9" "e \x93quoted\x94</p></body></html>");
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->title, "Café");
  // 0x93 and 0x94 are curly quotes in windows-1252, which browsers use for ISO-8859-1 labels.
  EXPECT_EQ(document->text, "Crème brûlée “quoted”\n");
}

TEST(ExtractHtml, DeclaredCharsetBeatsMeta) {
  ExtractOptions options;
  options.declared_charset = "windows-1251";
  auto document = ExtractHtmlString(
      "<meta charset=\"iso-8859-1\"><p>\xCF\xF0\xE8\xE2\xE5\xF2</p>", options);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "Привет\n");
}

TEST(ExtractHtml, CjkPreserved) {
  auto document = ExtractHtmlString(
      "<html><head><meta charset=\"gb18030\"></head><body><p>"
      "\xB1\xB1\xBE\xA9\xCA\xC7\xD6\xD0\xB9\xFA\xB5\xC4\xCA\xD7\xB6\xBC</p></body></html>");
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "北京是中国的首都\n");
}

TEST(ExtractHtml, OnlyBoilerplateIsInvalid) {
  auto document = ExtractHtmlString(
      "<html><body><nav><a href='/'>Home</a></nav><script>x()</script></body></html>");
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Contains(document.status().message(), "HTML")) << document.status().message();
}

TEST(ExtractHtml, TextLimit) {
  ExtractOptions options;
  options.max_text_bytes = 1000;
  std::string html = "<body>";
  for (int i = 0; i < 100; ++i) html += "<p>twenty bytes each</p>";
  auto document = ExtractHtmlString(html + "</body>", options);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.status().code(), ErrorCode::kPayloadTooLarge);
}

TEST(ExtractHtml, DeepNesting) {
  std::string nested = "<body>";
  for (int i = 0; i < 100; ++i) nested += "<div><span>";
  auto document = ExtractHtmlString(nested + "deep text");
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "deep text\n");

  // libxml2 stops nesting at depth 256 and drops what lies deeper; the point is not crashing.
  std::string hostile = "<body><p>shallow text</p>";
  for (int i = 0; i < 100000; ++i) hostile += "<div><span>";
  auto hostile_document = ExtractHtmlString(hostile + "deep text");
  ASSERT_TRUE(hostile_document.ok()) << hostile_document.status().ToString();
  EXPECT_TRUE(Contains(hostile_document->text, "shallow text"));
}

TEST(ExtractHtml, HeadingIdsAreNotMarkers) {
  // Section ids are often slugs of their headings, such as Sphinx's or PostgreSQL's.
  auto document = ExtractHtmlString(
      "<body><section id='navigation'><h2>Navigation</h2><p>How ships find their way.</p>"
      "</section><div class='sect1' id='PLPYTHON-SHARING'><h2>Sharing Data</h2><p>Globals.</p>"
      "</div><div id='main-nav'><a href='/'>Site link</a></div></body>");
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  EXPECT_EQ(document->text, "Navigation\n\nHow ships find their way.\n\nSharing Data\n\n"
                            "Globals.\n");
}

const std::filesystem::path kPostgresDocs = "/usr/share/doc/postgresql-doc-15/html";
const std::filesystem::path kPythonDocs = "/usr/share/doc/python3.11/html";

TEST(ExtractHtmlRealPages, PostgresManual) {
  if (!std::filesystem::exists(kPostgresDocs / "ddl-basics.html")) {
    GTEST_SKIP() << "Debian package postgresql-doc-15 is not installed";
  }
  auto document = ExtractFile(kPostgresDocs / "ddl-basics.html", DocumentKind::kHtml, {});
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  const std::string& text = document->text;
  EXPECT_EQ(document->title, "5.1. Table Basics");
  EXPECT_EQ(text.rfind("5.1. Table Basics\n\nA table in a relational database is much like a "
                       "table on paper",
                       0),
            0u)
      << text.substr(0, 300);
  EXPECT_TRUE(Contains(text, "CREATE TABLE my_first_table (\n    first_column text,")) << text;
  EXPECT_TRUE(Contains(text, "and read the rest of this chapter later.\n")) << text;
  // The navigation header and footer are tables of Prev, Up, Home and Next links.
  for (const char* navigation : {"Prev", "Home", "Next", "Chapter 5. Data Definition",
                                 "5.2. Default Values"}) {
    EXPECT_FALSE(Contains(text, navigation)) << navigation;
  }
}

TEST(ExtractHtmlRealPages, PostgresManualSample) {
  if (!std::filesystem::exists(kPostgresDocs)) {
    GTEST_SKIP() << "Debian package postgresql-doc-15 is not installed";
  }
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kPostgresDocs)) {
    if (entry.path().extension() != ".html" || checked >= 60) continue;
    ++checked;
    auto document = ExtractFile(entry.path(), DocumentKind::kHtml, {});
    ASSERT_TRUE(document.ok()) << entry.path() << ": " << document.status().ToString();
    EXPECT_FALSE(Contains(document->text, "Prev | Up")) << entry.path();
    EXPECT_FALSE(Contains(document->text, "| Home |")) << entry.path();
    EXPECT_FALSE(document->title.empty()) << entry.path();
  }
  EXPECT_EQ(checked, 60);
}

TEST(ExtractHtmlRealPages, PythonTutorial) {
  const std::filesystem::path page = kPythonDocs / "tutorial" / "introduction.html";
  if (!std::filesystem::exists(page)) {
    GTEST_SKIP() << "Debian package python3.11-doc is not installed";
  }
  auto document = ExtractFile(page, DocumentKind::kHtml, {});
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  const std::string& text = document->text;
  EXPECT_EQ(document->title.rfind("3. An Informal Introduction to Python", 0), 0u)
      << document->title;
  EXPECT_EQ(text.rfind("3. An Informal Introduction to Python\n\nIn the following examples", 0),
            0u)
      << text.substr(0, 300);
  EXPECT_TRUE(Contains(text, "\n3.1. Using Python as a Calculator\n")) << text;
  EXPECT_TRUE(Contains(text, ">>> 2 + 2\n4\n")) << text;
  EXPECT_TRUE(Contains(text, "Since ** has higher precedence than -")) << text;  // a footnote
  for (const char* navigation : {"Previous topic", "Next topic", "This Page", "Report a Bug",
                                 "Show Source", "Quick search", "Theme", "modules |",
                                 "\xC2\xB6" /* Sphinx permalink sign */, "Copyright"}) {
    EXPECT_FALSE(Contains(text, navigation)) << navigation;
  }
}

}  // namespace
}  // namespace on::ingest
