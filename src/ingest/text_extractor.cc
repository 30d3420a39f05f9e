// Plain text and Markdown: decoded to UTF-8 and kept as they are, apart from line ends and
// control characters.
#include <string>
#include <string_view>
#include <vector>

#include "ingest/format_extractors.h"
#include "ingest/text_decoding.h"

namespace on::ingest {
namespace {

// Markdown allows up to three spaces of indentation before a heading or a fence; four make an
// indented code block.
constexpr size_t kMaxBlockIndent = 3;

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Sets `content` to the line without its indentation; returns false when the line is indented
// as code.
bool StripBlockIndent(std::string_view line, std::string_view& content) {
  size_t indent = 0;
  while (indent < line.size() && line[indent] == ' ') ++indent;
  if (indent > kMaxBlockIndent) return false;
  content = line.substr(indent);
  return true;
}

std::string_view StripQuotes(std::string_view value) {
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    return value.substr(1, value.size() - 2);
  }
  return value;
}

// Reads "title:" from YAML front matter ("---" on the first line up to a line "---" or "...").
std::string FrontMatterTitle(const std::vector<std::string_view>& lines) {
  if (lines.empty() || TrimAscii(lines[0]) != "---") return "";
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = TrimAscii(lines[i]);
    if (line == "---" || line == "...") break;
    if (lines[i].substr(0, 6) == "title:") {
      return std::string(StripQuotes(TrimAscii(lines[i].substr(6))));
    }
  }
  return "";
}

size_t FrontMatterEnd(const std::vector<std::string_view>& lines) {
  if (lines.empty() || TrimAscii(lines[0]) != "---") return 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = TrimAscii(lines[i]);
    if (line == "---" || line == "...") return i + 1;
  }
  return 0;
}

// Sets `title` to the text of an ATX heading of level 1 ("# Title #") and returns whether the
// line is one with non-empty text.
bool AtxLevelOneHeading(std::string_view content, std::string& title) {
  if (content.empty() || content[0] != '#') return false;
  if (content.size() > 1 && content[1] != ' ' && content[1] != '\t') return false;

  std::string_view text = TrimAscii(content.substr(1));
  // An optional closing sequence of '#' counts only after white space.
  const size_t hashes = text.find_last_not_of('#');
  if (hashes == std::string_view::npos) {
    text = {};
  } else if (hashes + 1 < text.size() && (text[hashes] == ' ' || text[hashes] == '\t')) {
    text = TrimAscii(text.substr(0, hashes));
  }
  title = std::string(text);
  return !title.empty();
}

bool IsSetextLevelOneUnderline(std::string_view line) {
  std::string_view content;
  if (!StripBlockIndent(line, content)) return false;
  content = TrimAscii(content);
  return !content.empty() && content.find_first_not_of('=') == std::string_view::npos;
}

// Tracks fenced code blocks (``` or ~~~) so that '#' comments inside them are not headings.
class FenceTracker {
 public:
  // Returns true when the line opens, closes or lies inside a fenced block.
  bool Consume(std::string_view line) {
    std::string_view content;
    const bool is_block = StripBlockIndent(line, content);
    const size_t run = is_block ? FenceRun(content) : 0;
    if (fence_length_ == 0) {
      if (run < 3) return false;
      fence_char_ = content[0];
      fence_length_ = run;
      return true;
    }
    if (run >= fence_length_ && content[0] == fence_char_ &&
        TrimAscii(content.substr(run)).empty()) {
      fence_length_ = 0;
    }
    return true;
  }

 private:
  static size_t FenceRun(std::string_view content) {
    if (content.empty() || (content[0] != '`' && content[0] != '~')) return 0;
    const size_t end = content.find_first_not_of(content[0]);
    return end == std::string_view::npos ? content.size() : end;
  }

  char fence_char_ = 0;
  size_t fence_length_ = 0;
};

}  // namespace

std::string FindMarkdownTitle(std::string_view text) {
  const std::vector<std::string_view> lines = SplitLines(text);
  std::string title = FrontMatterTitle(lines);
  if (!title.empty()) return title;

  FenceTracker fences;
  for (size_t i = FrontMatterEnd(lines); i < lines.size(); ++i) {
    if (fences.Consume(lines[i])) continue;
    std::string_view content;
    if (!StripBlockIndent(lines[i], content)) continue;
    if (AtxLevelOneHeading(content, title)) return title;
    const bool has_underline = i + 1 < lines.size() && IsSetextLevelOneUnderline(lines[i + 1]);
    if (has_underline && !TrimAscii(content).empty()) return std::string(TrimAscii(content));
  }
  return "";
}

Result<ExtractedDocument> ExtractPlainText(std::string_view bytes, const ExtractOptions& options) {
  ON_ASSIGN_OR_RETURN(std::string decoded,
                      DecodeToUtf8(bytes, options.declared_charset, options.max_text_bytes));
  ExtractedDocument document;
  document.kind = DocumentKind::kPlainText;
  document.text = NormalizeText(decoded);
  return document;
}

Result<ExtractedDocument> ExtractMarkdown(std::string_view bytes, const ExtractOptions& options) {
  ON_ASSIGN_OR_RETURN(ExtractedDocument document, ExtractPlainText(bytes, options));
  document.kind = DocumentKind::kMarkdown;
  document.title = FindMarkdownTitle(document.text);
  return document;
}

}  // namespace on::ingest
