// HTML: parsed with libxml2's error-tolerant HTML parser, then rendered to text from the main
// content element with navigation and boilerplate pruned (see html_boilerplate.cc).
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <climits>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/block_text_writer.h"
#include "ingest/format_extractors.h"
#include "ingest/html_dom.h"
#include "ingest/text_decoding.h"

namespace on::ingest {
namespace {

// libxml2 2.9.14's HTML parser stops nesting at depth 256 (measured). The walk stops a little
// deeper, so that it cannot exhaust the stack whatever the parser does.
constexpr int kMaxTreeDepth = 300;

// The charset prescan reads this much, like browsers do (the HTML standard says 1024 bytes, but
// pages with long inline scripts in <head> put <meta charset> later).
constexpr size_t kCharsetPrescanBytes = 4096;

// A <main> or <article> is preferred over <body> when it contains at least this much text or a
// quarter of the body's text. Smaller ones are usually placeholders that scripts fill.
constexpr size_t kMinMainContentBytes = 2000;

constexpr size_t kMaxTitleBytes = 1000;

struct XmlDocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocFree>;

// Returns the charset named by a <meta charset>, <meta http-equiv content="...charset=..."> or an
// XML declaration near the start of the document; empty when there is none.
std::string PrescanCharset(std::string_view bytes) {
  std::string head(bytes.substr(0, kCharsetPrescanBytes));
  for (char& c : head) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }

  // Returns the value that follows a key at `pos`, past an optional "=" and quote.
  auto value_at = [&head](size_t pos) -> std::string {
    while (pos < head.size() && (head[pos] == ' ' || head[pos] == '=' || head[pos] == '"' ||
                                 head[pos] == '\'')) {
      ++pos;
    }
    const size_t end = head.find_first_of(" \"';>/?\t\n\r", pos);
    return head.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
  };

  std::string charset;
  if (head.rfind("<?xml", 0) == 0) {
    const size_t end = head.find("?>");
    const size_t encoding = head.find("encoding");
    if (encoding < end) charset = value_at(encoding + 8);
  }
  for (size_t pos = head.find("<meta"); charset.empty() && pos != std::string::npos;
       pos = head.find("<meta", pos + 1)) {
    const size_t end = head.find('>', pos);
    const size_t key = head.find("charset", pos);
    if (key < end) charset = value_at(key + 7);
  }

  // A declaration that the prescan could read in ASCII cannot be UTF-16 or UTF-32: browsers take
  // it as UTF-8.
  if (charset.rfind("utf-16", 0) == 0 || charset.rfind("utf-32", 0) == 0) charset = "UTF-8";
  return charset;
}

void EnsureParserInitialised() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

Result<XmlDocPtr> ParseHtml(const std::string& utf8) {
  if (utf8.size() > static_cast<size_t>(INT_MAX)) {
    return InvalidInput("the HTML document is larger than 2 GiB, which the parser cannot handle");
  }
  EnsureParserInitialised();
  // The text is already UTF-8; HTML_PARSE_IGNORE_ENC stops libxml2 from re-decoding it with the
  // charset that a <meta> tag names.
  constexpr int kOptions = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                           HTML_PARSE_NOWARNING | HTML_PARSE_IGNORE_ENC | HTML_PARSE_COMPACT;
  XmlDocPtr doc(htmlReadMemory(utf8.data(), static_cast<int>(utf8.size()), nullptr, "UTF-8",
                               kOptions));
  if (doc == nullptr || xmlDocGetRootElement(doc.get()) == nullptr) {
    return InvalidInput("the HTML document could not be parsed: it has no elements");
  }
  return doc;
}

// Walks an element tree and writes its visible text, skipping boilerplate elements.
class HtmlRenderer {
 public:
  explicit HtmlRenderer(size_t max_bytes) : writer_(max_bytes) {}

  // Returns false when the text exceeded max_bytes.
  bool Render(const xmlNode* root) {
    WalkChildren(root, 0);
    return !writer_.overflowed();
  }
  std::string Finish() { return writer_.Finish(); }

 private:
  void Walk(const xmlNode* node, int depth);
  void WalkChildren(const xmlNode* node, int depth);
  void WalkElement(const xmlNode* element, int depth);
  void WalkList(const xmlNode* list, bool ordered, int depth);
  void WalkTableRow(const xmlNode* row, int depth);
  void RequestBreak(int newlines);

  BlockTextWriter writer_;
  int preformatted_depth_ = 0;
  bool at_preformatted_start_ = false;
  int table_cell_depth_ = 0;
  int list_depth_ = 0;
};

void HtmlRenderer::Walk(const xmlNode* node, int depth) {
  if (depth > kMaxTreeDepth || writer_.overflowed()) return;
  if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
    const char* content = reinterpret_cast<const char*>(node->content);
    if (content == nullptr) return;
    if (preformatted_depth_ > 0 && table_cell_depth_ == 0) {
      std::string_view text = content;
      // Browsers drop a line feed that directly follows <pre>, and pages rely on that.
      if (at_preformatted_start_ && text.starts_with('\n')) text.remove_prefix(1);
      at_preformatted_start_ = false;
      writer_.AppendPreformatted(text);
    } else {
      writer_.AppendInline(content);
    }
  } else if (node->type == XML_ELEMENT_NODE) {
    WalkElement(node, depth);
  }
}

void HtmlRenderer::WalkChildren(const xmlNode* node, int depth) {
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    Walk(child, depth + 1);
  }
}

// Inside a table cell a block boundary becomes a space, so that each row stays on one line.
void HtmlRenderer::RequestBreak(int newlines) {
  if (table_cell_depth_ > 0) {
    writer_.AppendInline(" ");
  } else {
    writer_.RequestBreak(newlines);
  }
}

void HtmlRenderer::WalkElement(const xmlNode* element, int depth) {
  if (IsBoilerplateElement(element)) return;
  const std::string_view name = ElementName(element);

  if (name == "br") {
    if (table_cell_depth_ > 0) {
      writer_.AppendInline(" ");
    } else {
      writer_.AddLineBreak();
    }
    return;
  }
  if (name == "ul" || name == "ol" || name == "menu") {
    WalkList(element, name == "ol", depth);
    return;
  }
  if (name == "tr") {
    WalkTableRow(element, depth);
    return;
  }

  const int breaks = BlockBreaks(name);
  const bool preformatted = name == "pre" || name == "textarea" || name == "listing";
  RequestBreak(breaks);
  if (preformatted) {
    ++preformatted_depth_;
    at_preformatted_start_ = true;
  }
  WalkChildren(element, depth);
  if (preformatted) --preformatted_depth_;
  RequestBreak(breaks);
}

void HtmlRenderer::WalkList(const xmlNode* list, bool ordered, int depth) {
  const int breaks = list_depth_ > 0 ? 1 : 2;
  RequestBreak(breaks);
  const std::string indent(2 * static_cast<size_t>(list_depth_), ' ');
  ++list_depth_;

  long number = ordered ? ListStartNumber(list) : 0;
  for (const xmlNode* child = list->children; child != nullptr; child = child->next) {
    const bool is_item = child->type == XML_ELEMENT_NODE && ElementName(child) == "li";
    if (!is_item || IsBoilerplateElement(child) || depth + 1 > kMaxTreeDepth) {
      Walk(child, depth + 1);
      continue;
    }
    RequestBreak(1);
    if (table_cell_depth_ == 0) {
      writer_.RequestPrefix(indent + (ordered ? std::to_string(number++) + ". " : "- "));
    }
    WalkChildren(child, depth + 1);
    RequestBreak(1);
  }

  --list_depth_;
  RequestBreak(breaks);
}

void HtmlRenderer::WalkTableRow(const xmlNode* row, int depth) {
  RequestBreak(1);
  bool first_cell = true;
  for (const xmlNode* child = row->children; child != nullptr; child = child->next) {
    const std::string_view name = ElementName(child);
    const bool is_cell = child->type == XML_ELEMENT_NODE && (name == "td" || name == "th");
    if (!is_cell || IsBoilerplateElement(child) || depth + 1 > kMaxTreeDepth) {
      Walk(child, depth + 1);
      continue;
    }
    if (!first_cell && table_cell_depth_ == 0) writer_.RequestSeparator(" | ");
    first_cell = false;
    ++table_cell_depth_;
    WalkChildren(child, depth + 1);
    --table_cell_depth_;
  }
  RequestBreak(1);
}

struct RenderedText {
  std::string text;
  bool overflowed = false;
};

RenderedText RenderText(const xmlNode* root, size_t max_bytes) {
  HtmlRenderer renderer(max_bytes);
  RenderedText rendered;
  rendered.overflowed = !renderer.Render(root);
  rendered.text = NormalizeText(renderer.Finish());
  return rendered;
}

bool IsSubstantial(const std::string& candidate, const std::string& body) {
  if (IsBlank(candidate)) return false;
  return candidate.size() >= kMinMainContentBytes || candidate.size() * 4 >= body.size();
}

struct ContentRoot {
  const xmlNode* element = nullptr;
  std::string text;
};

// Picks the element whose text is the page's content: the first substantial <main> (or
// role="main"), else the only top-level <article> when it is substantial, else <body>.
ContentRoot ChooseContentRoot(const xmlNode* body, RenderedText body_text, size_t max_bytes) {
  for (const xmlNode* main : FindMainElements(body)) {
    RenderedText rendered = RenderText(main, max_bytes);
    if (!rendered.overflowed && IsSubstantial(rendered.text, body_text.text)) {
      return {main, std::move(rendered.text)};
    }
  }
  const std::vector<const xmlNode*> articles = FindTopLevelArticles(body);
  if (articles.size() == 1) {
    RenderedText rendered = RenderText(articles[0], max_bytes);
    if (!rendered.overflowed && IsSubstantial(rendered.text, body_text.text)) {
      return {articles[0], std::move(rendered.text)};
    }
  }
  return {body, std::move(body_text.text)};
}

std::string CollapseWhitespace(std::string_view text) {
  BlockTextWriter writer(kMaxTitleBytes);
  writer.AppendInline(text);
  std::string collapsed = writer.Finish();
  if (!collapsed.empty()) collapsed.pop_back();  // the '\n' that Finish adds
  return NormalizeText(collapsed);
}

std::string FindTitle(const xmlDoc* doc, const xmlNode* content_root) {
  const xmlNode* root = xmlDocGetRootElement(doc);
  if (const xmlNode* title = FindFirstElement(root, "title")) {
    std::string text = CollapseWhitespace(ElementText(title));
    if (!text.empty()) return text;
  }
  if (const xmlNode* heading = FindFirstElement(content_root, "h1")) {
    return CollapseWhitespace(ElementText(heading));
  }
  return "";
}

}  // namespace

Result<HtmlContent> ExtractHtmlContent(std::string_view bytes, std::string_view declared_charset,
                                       size_t max_text_bytes) {
  std::string charset = CanonicalCharset(declared_charset);
  if (charset.empty()) charset = PrescanCharset(bytes);
  // Markup is not text, so max_text_bytes does not apply to the decoded document. The input
  // bounds its size instead, because decoding makes at most three bytes of each input byte.
  ON_ASSIGN_OR_RETURN(std::string utf8,
                      DecodeToUtf8(bytes, charset, std::numeric_limits<size_t>::max()));
  ON_ASSIGN_OR_RETURN(XmlDocPtr doc, ParseHtml(utf8));
  utf8.clear();
  utf8.shrink_to_fit();

  const xmlNode* body = FindBody(doc.get());
  RenderedText body_text = RenderText(body, max_text_bytes);
  if (body_text.overflowed) return TextTooLarge(max_text_bytes);

  ContentRoot root = ChooseContentRoot(body, std::move(body_text), max_text_bytes);
  HtmlContent content;
  content.title = FindTitle(doc.get(), root.element);
  content.text = std::move(root.text);
  return content;
}

Result<ExtractedDocument> ExtractHtml(std::string_view bytes, const ExtractOptions& options) {
  ON_ASSIGN_OR_RETURN(HtmlContent content,
                      ExtractHtmlContent(bytes, options.declared_charset, options.max_text_bytes));
  ExtractedDocument document;
  document.kind = DocumentKind::kHtml;
  document.title = std::move(content.title);
  document.text = std::move(content.text);
  return document;
}

}  // namespace on::ingest
