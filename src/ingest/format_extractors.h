// One entry point per document format, called by ExtractFile and ExtractBuffer after they have
// chosen the format. Internal to src/ingest.
//
// Each returns the title and the normalised text (see NormalizeText) and leaves the empty-text
// check and the final size check to the caller.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"
#include "ingest/extractor.h"

namespace on::ingest {

// text_extractor.cc
Result<ExtractedDocument> ExtractPlainText(std::string_view bytes, const ExtractOptions& options);
Result<ExtractedDocument> ExtractMarkdown(std::string_view bytes, const ExtractOptions& options);

// Returns the first Markdown heading of level 1 (from YAML front matter "title:", "# Title" or a
// "Title\n===" underline), skipping fenced code blocks; empty when there is none.
std::string FindMarkdownTitle(std::string_view text);

// html_extractor.cc
struct HtmlContent {
  std::string title;
  std::string text;
};

// Parses an HTML or XHTML document and returns its main content as text, without navigation,
// scripts and other boilerplate. `declared_charset` is used when the bytes have no byte-order mark.
Result<HtmlContent> ExtractHtmlContent(std::string_view bytes, std::string_view declared_charset,
                                       size_t max_text_bytes);
Result<ExtractedDocument> ExtractHtml(std::string_view bytes, const ExtractOptions& options);

// pdf_extractor.cc
Result<ExtractedDocument> ExtractPdfFile(const std::filesystem::path& path,
                                         const ExtractOptions& options);

// docx_extractor.cc and epub_extractor.cc
Result<ExtractedDocument> ExtractDocx(std::string_view bytes, const ExtractOptions& options);
Result<ExtractedDocument> ExtractEpub(std::string_view bytes, const ExtractOptions& options);

}  // namespace on::ingest
