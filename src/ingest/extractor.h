// Text extraction from source documents: files users upload and pages fetched from URLs.
//
// Detection decides the DocumentKind from the content and the name (or the Content-Type header),
// and rejects everything else with ErrorCode::kUnsupportedType. Extraction turns the document into
// UTF-8 text with '\n' line ends, a title when one is declared, and page boundaries for PDFs.
//
// Every input is treated as hostile. Text output is capped (max_text_bytes), and DOCX and EPUB
// archives are read with a budget of uncompressed bytes. PDFs are parsed by `pdftotext` in a
// child process with memory, CPU and wall-clock limits, so a malicious PDF cannot take the server
// down. Nothing is written to disk except the private temporary copy of a PDF given as a buffer.
//
// Thread safety: all functions are safe to call concurrently from several threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "ingest/page_span.h"

namespace on::ingest {

enum class DocumentKind { kPlainText, kMarkdown, kHtml, kPdf, kDocx, kEpub };

// Returns the stable lower-case name: "text", "markdown", "html", "pdf", "docx" or "epub".
std::string_view DocumentKindName(DocumentKind kind);

// Parses a name returned by DocumentKindName; nullopt for any other string.
std::optional<DocumentKind> DocumentKindFromName(std::string_view name);


struct ExtractedDocument {
  // From the document's metadata (HTML <title>, PDF Info, DOCX core properties, EPUB dc:title) or
  // its first heading; empty when neither exists.
  std::string title;
  // Valid UTF-8 with '\n' line ends and no NUL or other C0 control characters except '\t' and
  // '\n'. Not NFC-normalised. Never empty or whitespace-only: that case is an error instead.
  std::string text;
  DocumentKind kind = DocumentKind::kPlainText;
  // One span per page, in order, covering `text` without gaps (an empty page has begin == end).
  // Filled for PDFs only; empty for every other kind.
  std::vector<PageSpan> pages;
};

struct ExtractOptions {
  // Programs from poppler-utils; a name without '/' is looked up in PATH.
  std::string pdftotext_path = "pdftotext";
  std::string pdfinfo_path = "pdfinfo";
  // Wall-clock limit for pdftotext; the child is killed with SIGKILL when it runs longer. The CPU
  // limit (RLIMIT_CPU) is set to the same number of seconds.
  std::chrono::seconds pdf_timeout{120};
  // Address-space limit (RLIMIT_AS) of the pdftotext child.
  size_t pdf_memory_limit_bytes = 1024ull << 20;
  // Extraction fails with kPayloadTooLarge when the text would grow beyond this many bytes.
  size_t max_text_bytes = 64ull << 20;
  // Total uncompressed bytes that may be read from one DOCX or EPUB archive (zip-bomb guard),
  // checked against the declared sizes first and then against the bytes actually inflated.
  size_t max_archive_entry_bytes = 256ull << 20;
  // ExtractFile rejects larger files with kPayloadTooLarge before reading them into memory.
  // PDFs are not read into memory, so the limit does not apply to them.
  size_t max_input_bytes = 256ull << 20;
  // Character set declared by the transport, e.g. the charset parameter of an HTTP Content-Type
  // header. Used for plain text, Markdown and HTML when the bytes have no byte-order mark; an
  // unknown name is ignored. Empty means not declared.
  std::string declared_charset;
};

// Number of leading bytes that DetectKind and DetectKindFromContentType look at; passing more is
// harmless, passing fewer may turn a DOCX or EPUB into "ZIP archive".
inline constexpr size_t kDetectionHeadBytes = 64 * 1024;

// Decides the kind of an uploaded file from its first bytes (libmagic) and the extension of
// `file_name`. Text content is split into HTML, Markdown and plain text by extension first, then
// by content. Returns kUnsupportedType for anything else (images, executables, archives that are
// not DOCX or EPUB, legacy Office files, ...), with a message naming the detected type and the
// supported ones, and kInvalidInput when `head_bytes` is empty.
Result<DocumentKind> DetectKind(std::string_view file_name, std::string_view head_bytes);

// Decides the kind of a fetched URL. A recognised media type in `content_type` decides: text/html,
// application/xhtml+xml, application/pdf, text/markdown, text/plain and other text/*, and the
// DOCX and EPUB types. Two exceptions guard against mislabelled bodies. A body starting with
// "%PDF-" is always a PDF, and a body labelled application/pdf without a PDF header is sniffed.
// Missing, generic (application/octet-stream) and other types fall back to DetectKind on the last
// segment of `url_path`. Errors as DetectKind.
Result<DocumentKind> DetectKindFromContentType(std::string_view content_type,
                                               std::string_view url_path,
                                               std::string_view head_bytes);

// Extracts the text of the file at `path`, which must be of `kind` (usually from DetectKind).
// Errors:
//   kIo               the file cannot be opened or read;
//   kPayloadTooLarge  the file exceeds max_input_bytes or the text exceeds max_text_bytes;
//   kInvalidInput     the document is malformed, encrypted (EPUB DRM), a zip bomb, or has no
//                     text (an image-only PDF: OCR is not available). Permanent: do not retry;
//   kTimeout          pdftotext exceeded pdf_timeout (or its CPU time limit);
//   kConfiguration    pdftotext cannot be started (poppler-utils not installed).
Result<ExtractedDocument> ExtractFile(const std::filesystem::path& path, DocumentKind kind,
                                      const ExtractOptions& options);

// Same as ExtractFile for a document held in memory. A PDF is written to a private temporary file
// for pdftotext and removed afterwards.
Result<ExtractedDocument> ExtractBuffer(std::string_view bytes, DocumentKind kind,
                                        const ExtractOptions& options);

}  // namespace on::ingest
