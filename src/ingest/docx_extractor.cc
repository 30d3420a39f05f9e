// DOCX (Office Open XML WordprocessingML). The package relationships name the main document
// part, which is walked paragraph by paragraph. The title comes from the core properties.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/block_text_writer.h"
#include "ingest/format_extractors.h"
#include "ingest/office_xml.h"
#include "ingest/text_decoding.h"
#include "ingest/zip_reader.h"

namespace on::ingest {
namespace {

constexpr std::string_view kFormat = "DOCX";
constexpr const char* kDefaultMainPart = "word/document.xml";
constexpr const char* kCorePropertiesPart = "docProps/core.xml";
constexpr const char* kPackageRelationshipsPart = "_rels/.rels";

// pugixml builds trees of any depth; the walk ignores content nested deeper than this.
constexpr int kMaxXmlDepth = 300;

bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
}

// Returns the main document part named by the package relationships. Word names it
// word/document.xml, but the format lets other producers choose another name.
std::string FindMainPart(ZipReader& zip) {
  if (!zip.Contains(kPackageRelationshipsPart)) return kDefaultMainPart;
  Result<std::string> content = zip.Read(kPackageRelationshipsPart);
  pugi::xml_document relationships;
  if (!content.ok() ||
      !ParseXmlPart(*content, kFormat, kPackageRelationshipsPart, relationships).ok()) {
    return kDefaultMainPart;
  }
  for (const pugi::xml_node& relationship : relationships.document_element().children()) {
    const std::string_view type = LocalAttribute(relationship, "Type");
    if (!type.ends_with("/officeDocument")) continue;
    std::string_view target = LocalAttribute(relationship, "Target");
    while (target.starts_with("/")) target.remove_prefix(1);
    if (!target.empty()) return std::string(target);
  }
  return kDefaultMainPart;
}

std::string ReadCoreTitle(ZipReader& zip) {
  if (!zip.Contains(kCorePropertiesPart)) return "";
  Result<std::string> content = zip.Read(kCorePropertiesPart);
  pugi::xml_document properties;
  if (!content.ok() || !ParseXmlPart(*content, kFormat, kCorePropertiesPart, properties).ok()) {
    return "";
  }
  const pugi::xml_node title = LocalChild(properties.document_element(), "title");
  return NormalizeText(TrimAscii(title.text().get()));
}

// Writes the text of a document body: one paragraph per w:p, tables row by row with cells
// separated by " | ".
class DocxTextBuilder {
 public:
  explicit DocxTextBuilder(size_t max_bytes) : writer_(max_bytes) {}

  void AddBlocks(const pugi::xml_node& container, int depth);

  bool overflowed() const { return writer_.overflowed(); }
  std::string Finish() { return writer_.Finish(); }
  const std::string& first_heading() const { return first_heading_; }

 private:
  void AddParagraph(const pugi::xml_node& paragraph, int depth);
  void AddTable(const pugi::xml_node& table, int depth);
  void CollectRunText(const pugi::xml_node& node, int depth, std::string& out);

  static bool IsHeading(const pugi::xml_node& paragraph);
  static bool IsListItem(const pugi::xml_node& paragraph);

  BlockTextWriter writer_;
  std::string first_heading_;
};

void DocxTextBuilder::AddBlocks(const pugi::xml_node& container, int depth) {
  if (depth > kMaxXmlDepth) return;
  for (const pugi::xml_node& child : container.children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = LocalName(child.name());
    if (name == "p") {
      AddParagraph(child, depth + 1);
    } else if (name == "tbl") {
      AddTable(child, depth + 1);
    } else if (name == "sdt" || name == "sdtContent" || name == "customXml" || name == "ins" ||
               name == "moveTo" || name == "smartTag") {
      AddBlocks(child, depth + 1);
    }
  }
}

bool DocxTextBuilder::IsHeading(const pugi::xml_node& paragraph) {
  const pugi::xml_node properties = LocalChild(paragraph, "pPr");
  if (LocalChild(properties, "outlineLvl")) return true;
  const std::string_view style = LocalAttribute(LocalChild(properties, "pStyle"), "val");
  return StartsWithIgnoringCase(style, "heading") || StartsWithIgnoringCase(style, "title") ||
         StartsWithIgnoringCase(style, "subtitle");
}

bool DocxTextBuilder::IsListItem(const pugi::xml_node& paragraph) {
  return static_cast<bool>(LocalChild(LocalChild(paragraph, "pPr"), "numPr"));
}

void DocxTextBuilder::AddParagraph(const pugi::xml_node& paragraph, int depth) {
  std::string text;
  CollectRunText(paragraph, depth, text);
  const bool heading = IsHeading(paragraph);
  // Consecutive list items stay on consecutive lines; other paragraphs get a blank line between.
  const int breaks = IsListItem(paragraph) ? 1 : 2;

  writer_.RequestBreak(breaks);
  writer_.AppendPreformatted(text);
  writer_.RequestBreak(breaks);
  if (heading && first_heading_.empty()) first_heading_ = NormalizeText(TrimAscii(text));
}

void DocxTextBuilder::AddTable(const pugi::xml_node& table, int depth) {
  if (depth > kMaxXmlDepth) return;
  writer_.RequestBreak(2);
  for (const pugi::xml_node& row : table.children()) {
    if (LocalName(row.name()) != "tr") continue;
    std::vector<std::string> cells;
    for (const pugi::xml_node& cell : row.children()) {
      if (LocalName(cell.name()) != "tc") continue;
      std::string text;
      CollectRunText(cell, depth + 2, text);
      std::replace(text.begin(), text.end(), '\n', ' ');
      const std::string_view trimmed = TrimAscii(text);
      if (!trimmed.empty()) cells.emplace_back(trimmed);
    }
    std::string line;
    for (const std::string& cell : cells) line += (line.empty() ? "" : " | ") + cell;
    writer_.RequestBreak(1);
    writer_.AppendPreformatted(line);
  }
  writer_.RequestBreak(2);
}

// Appends the visible text under `node`: w:t text, w:tab as a tab, w:br and w:cr as line breaks.
// Deleted text, field instructions and the fallback copy of alternate content are skipped.
// Paragraphs nested in text boxes or table cells become separate lines.
void DocxTextBuilder::CollectRunText(const pugi::xml_node& node, int depth, std::string& out) {
  if (depth > kMaxXmlDepth) return;
  for (const pugi::xml_node& child : node.children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = LocalName(child.name());
    if (name == "t") {
      out += child.text().get();
    } else if (name == "tab" || name == "ptab") {
      out += '\t';
    } else if (name == "br" || name == "cr") {
      out += '\n';
    } else if (name == "noBreakHyphen") {
      out += '-';
    } else if (name == "p") {
      if (!out.empty() && out.back() != '\n') out += '\n';
      CollectRunText(child, depth + 1, out);
      if (!out.empty() && out.back() != '\n') out += '\n';
    } else if (name == "del" || name == "delText" || name == "instrText" || name == "Fallback" ||
               name == "pPr" || name == "rPr" || name == "sectPr") {
      continue;
    } else {
      CollectRunText(child, depth + 1, out);
    }
  }
}

}  // namespace

// NOTE: only the main document part is read. Footnotes, endnotes, comments, and page headers and
// footers live in other parts and are not extracted.
Result<ExtractedDocument> ExtractDocx(std::string_view bytes, const ExtractOptions& options) {
  ON_ASSIGN_OR_RETURN(ZipReader zip,
                      ZipReader::Open(bytes, std::string(kFormat), options.max_archive_entry_bytes));
  const std::string main_part = FindMainPart(zip);
  if (!zip.Contains(main_part)) {
    return InvalidInput("the DOCX file has no main document part (" + main_part +
                        "); it is damaged or not a Word document");
  }
  ON_ASSIGN_OR_RETURN(std::string content, zip.Read(main_part));

  pugi::xml_document xml;
  ON_RETURN_IF_ERROR(ParseXmlPart(content, kFormat, main_part, xml));
  content.clear();
  content.shrink_to_fit();

  const pugi::xml_node body = LocalChild(xml.document_element(), "body");
  DocxTextBuilder builder(options.max_text_bytes);
  builder.AddBlocks(body, 0);
  if (builder.overflowed()) return TextTooLarge(options.max_text_bytes);

  ExtractedDocument document;
  document.kind = DocumentKind::kDocx;
  document.text = NormalizeText(builder.Finish());
  document.title = ReadCoreTitle(zip);
  if (document.title.empty()) document.title = builder.first_heading();
  return document;
}

}  // namespace on::ingest
