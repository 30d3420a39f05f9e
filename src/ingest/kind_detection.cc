// Document kind detection from content (libmagic and ZIP entry names), file extensions and
// HTTP Content-Type headers.
#include <magic.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/extractor.h"
#include "ingest/text_decoding.h"

namespace on::ingest {
namespace {

constexpr std::string_view kSupportedTypes = "PDF, DOCX, EPUB, HTML, Markdown and plain text";
constexpr std::string_view kDocxMediaType =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
constexpr std::string_view kEpubMediaType = "application/epub+zip";
constexpr std::string_view kZipLocalHeader("PK\x03\x04", 4);
constexpr std::string_view kZipEmptyArchive("PK\x05\x06", 4);

// Some PDFs carry junk bytes before "%PDF-" and readers still open them. The window of 1024 bytes
// is a choice of this code, not a number from the PDF standard.
constexpr size_t kPdfHeaderWindow = 1024;

std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// Returns the lower-case extension of the last path segment, without the dot.
std::string Extension(std::string_view file_name) {
  const size_t slash = file_name.find_last_of("/\\");
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  const size_t dot = file_name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return "";
  return AsciiLower(file_name.substr(dot + 1));
}

std::optional<DocumentKind> KindFromExtension(std::string_view extension) {
  if (extension == "pdf") return DocumentKind::kPdf;
  if (extension == "docx") return DocumentKind::kDocx;
  if (extension == "epub") return DocumentKind::kEpub;
  if (extension == "html" || extension == "htm" || extension == "xhtml" || extension == "xht" ||
      extension == "shtml") {
    return DocumentKind::kHtml;
  }
  if (extension == "md" || extension == "markdown" || extension == "mdown" ||
      extension == "mkd" || extension == "mkdn" || extension == "mdwn") {
    return DocumentKind::kMarkdown;
  }
  if (extension == "txt" || extension == "text") return DocumentKind::kPlainText;
  return std::nullopt;
}

// One libmagic handle per thread: a magic_t must not be shared between threads, and loading the
// database for every call would cost more than the detection itself.
class MagicHandle {
 public:
  MagicHandle() : cookie_(magic_open(MAGIC_MIME_TYPE)) {
    if (cookie_ != nullptr && magic_load(cookie_, nullptr) != 0) {
      magic_close(cookie_);
      cookie_ = nullptr;
    }
  }
  ~MagicHandle() {
    if (cookie_ != nullptr) magic_close(cookie_);
  }
  MagicHandle(const MagicHandle&) = delete;
  MagicHandle& operator=(const MagicHandle&) = delete;

  // Returns the media type of the bytes, or application/octet-stream when libmagic is unusable.
  std::string MediaType(std::string_view bytes) const {
    if (cookie_ == nullptr) return "application/octet-stream";
    const char* type = magic_buffer(cookie_, bytes.data(), bytes.size());
    return type != nullptr ? type : "application/octet-stream";
  }

 private:
  magic_t cookie_;
};

std::string DetectMediaType(std::string_view head) {
  thread_local const MagicHandle magic;
  return magic.MediaType(head);
}

uint32_t ReadLittleEndian(std::string_view bytes, size_t offset, size_t size) {
  uint32_t value = 0;
  for (size_t i = 0; i < size; ++i) {
    value |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  }
  return value;
}

// Walks the ZIP local file headers in `head` and decides DOCX or EPUB from the entry names.
// Entries whose sizes follow the data (flag bit 3) end the walk, since they cannot be skipped.
std::optional<DocumentKind> ZipKindFromEntries(std::string_view head) {
  size_t offset = 0;
  while (offset + 30 <= head.size() && head.substr(offset, 4) == kZipLocalHeader) {
    const uint32_t flags = ReadLittleEndian(head, offset + 6, 2);
    const uint32_t compressed_size = ReadLittleEndian(head, offset + 18, 4);
    const uint32_t name_length = ReadLittleEndian(head, offset + 26, 2);
    const uint32_t extra_length = ReadLittleEndian(head, offset + 28, 2);
    const size_t data = offset + 30 + name_length + extra_length;
    if (data > head.size()) break;

    const std::string_view name = head.substr(offset + 30, name_length);
    if (name == "mimetype" && head.substr(data).starts_with(kEpubMediaType)) {
      return DocumentKind::kEpub;
    }
    if (name.starts_with("word/")) return DocumentKind::kDocx;
    if ((flags & 0x08) != 0) break;
    offset = data + compressed_size;
  }
  return std::nullopt;
}

bool IsTextMediaType(std::string_view type) {
  return type.starts_with("text/") || type == "application/json" || type == "application/xml" ||
         type == "application/javascript" || type == "application/x-ndjson" ||
         type == "application/xhtml+xml";
}

// Decides whether bytes that libmagic did not classify as text are text anyway. Text has a
// byte-order mark, or no NUL bytes and almost no control characters other than white space and
// escape.
bool LooksLikeText(std::string_view head) {
  if (DetectByteOrderMark(head).has_value()) return true;
  size_t controls = 0;
  for (const char c : head) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == 0) return false;
    if (byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r' && byte != '\f' &&
        byte != 0x1B) {
      ++controls;
    }
  }
  return controls * 100 <= head.size();
}

std::string UnsupportedHint(std::string_view type) {
  if (type == "application/msword") return " (a legacy Word .doc file: save it as DOCX)";
  if (type == "text/rtf") return " (Rich Text Format: save it as DOCX)";
  if (type.find("spreadsheet") != std::string_view::npos || type == "application/vnd.ms-excel") {
    return " (a spreadsheet)";
  }
  if (type.find("presentation") != std::string_view::npos ||
      type == "application/vnd.ms-powerpoint") {
    return " (a presentation)";
  }
  if (type.starts_with("image/")) return " (an image; OCR is not available in this build)";
  return "";
}

Status Unsupported(std::string_view file_name, std::string_view type) {
  return Status(ErrorCode::kUnsupportedType,
                "the file \"" + std::string(file_name) + "\" has type " + std::string(type) +
                    UnsupportedHint(type) + ", which is not supported; supported types are " +
                    std::string(kSupportedTypes));
}

Result<DocumentKind> DetectZipKind(std::string_view file_name, std::string_view head,
                                   std::string_view media_type) {
  if (media_type == kDocxMediaType) return DocumentKind::kDocx;
  if (media_type == kEpubMediaType) return DocumentKind::kEpub;
  if (std::optional<DocumentKind> kind = ZipKindFromEntries(head)) return *kind;

  // The head may end before the entries that name the format, so the extension decides then.
  // Extraction checks that the parts it needs are present.
  const std::optional<DocumentKind> by_extension = KindFromExtension(Extension(file_name));
  if (by_extension == DocumentKind::kDocx || by_extension == DocumentKind::kEpub) {
    return *by_extension;
  }
  const bool generic = media_type == "application/zip" || media_type == "application/octet-stream";
  return Unsupported(file_name, generic ? "application/zip (a ZIP archive that is neither DOCX "
                                          "nor EPUB)"
                                        : media_type);
}

DocumentKind DetectTextKind(std::string_view file_name, std::string_view media_type) {
  const std::optional<DocumentKind> by_extension = KindFromExtension(Extension(file_name));
  if (by_extension == DocumentKind::kHtml || by_extension == DocumentKind::kMarkdown ||
      by_extension == DocumentKind::kPlainText) {
    return *by_extension;
  }
  if (media_type == "text/html" || media_type == "application/xhtml+xml") {
    return DocumentKind::kHtml;
  }
  if (media_type == "text/markdown" || media_type == "text/x-markdown") {
    return DocumentKind::kMarkdown;
  }
  return DocumentKind::kPlainText;
}

bool HasPdfHeader(std::string_view head) {
  return head.substr(0, kPdfHeaderWindow).find("%PDF-") != std::string_view::npos;
}

// Returns the last segment of a URL path without query or fragment.
std::string_view UrlFileName(std::string_view url_path) {
  url_path = url_path.substr(0, url_path.find_first_of("?#"));
  const size_t slash = url_path.rfind('/');
  return slash == std::string_view::npos ? url_path : url_path.substr(slash + 1);
}

Result<DocumentKind> DetectKindUnchecked(std::string_view file_name, std::string_view head_bytes) {
  if (head_bytes.empty()) {
    return InvalidInput("the file \"" + std::string(file_name) +
                        "\" is empty; upload a file with content");
  }
  head_bytes = head_bytes.substr(0, kDetectionHeadBytes);
  if (head_bytes.starts_with("%PDF-")) return DocumentKind::kPdf;

  const std::string media_type = DetectMediaType(head_bytes);
  if (media_type == "application/pdf") return DocumentKind::kPdf;
  if (head_bytes.starts_with(kZipLocalHeader) || head_bytes.starts_with(kZipEmptyArchive)) {
    return DetectZipKind(file_name, head_bytes, media_type);
  }
  if (media_type == "text/rtf") return Unsupported(file_name, media_type);
  if (IsTextMediaType(media_type)) return DetectTextKind(file_name, media_type);

  // libmagic's weaker rules misfire on short legacy-encoded text (Shift_JIS text can look like a
  // DOS .COM program), so text-looking bytes named as text are taken as text.
  const std::optional<DocumentKind> by_extension = KindFromExtension(Extension(file_name));
  const bool named_as_text = by_extension == DocumentKind::kPlainText ||
                             by_extension == DocumentKind::kMarkdown ||
                             by_extension == DocumentKind::kHtml;
  const bool unknown_binary = media_type == "application/octet-stream";
  if ((named_as_text || unknown_binary) && !media_type.starts_with("image/") &&
      LooksLikeText(head_bytes)) {
    return DetectTextKind(file_name, media_type);
  }
  return Unsupported(file_name, media_type);
}

Result<DocumentKind> DetectKindFromContentTypeUnchecked(std::string_view content_type,
                                                        std::string_view url_path,
                                                        std::string_view head_bytes) {
  const std::string media_type =
      AsciiLower(TrimAscii(content_type.substr(0, content_type.find(';'))));
  const std::string_view file_name = UrlFileName(url_path);
  if (head_bytes.starts_with("%PDF-")) return DocumentKind::kPdf;

  if (media_type == "text/html" || media_type == "application/xhtml+xml") {
    return DocumentKind::kHtml;
  }
  if ((media_type == "application/pdf" || media_type == "application/x-pdf") &&
      HasPdfHeader(head_bytes)) {
    return DocumentKind::kPdf;
  }
  if (media_type == "text/markdown" || media_type == "text/x-markdown") {
    return DocumentKind::kMarkdown;
  }
  if (media_type == "text/plain") {
    const std::optional<DocumentKind> by_extension = KindFromExtension(Extension(file_name));
    return by_extension == DocumentKind::kMarkdown ? DocumentKind::kMarkdown
                                                   : DocumentKind::kPlainText;
  }
  if (media_type == kDocxMediaType) return DocumentKind::kDocx;
  if (media_type == kEpubMediaType) return DocumentKind::kEpub;
  if (IsTextMediaType(media_type)) return DocumentKind::kPlainText;

  // Missing, generic or other types: the content decides, as for an upload.
  return DetectKindUnchecked(file_name.empty() ? url_path : file_name, head_bytes);
}

// Converts an exception (std::bad_alloc, or a bug such as an out-of-range substr) into an error,
// so that DetectKind and DetectKindFromContentType do not throw.
template <typename Detect>
Result<DocumentKind> CatchExceptions(const Detect& detect) {
  try {
    return detect();
  } catch (const std::exception& error) {
    return InternalError(std::string("document type detection failed: ") + error.what());
  }
}

}  // namespace

Result<DocumentKind> DetectKind(std::string_view file_name, std::string_view head_bytes) {
  return CatchExceptions([&] { return DetectKindUnchecked(file_name, head_bytes); });
}

Result<DocumentKind> DetectKindFromContentType(std::string_view content_type,
                                               std::string_view url_path,
                                               std::string_view head_bytes) {
  return CatchExceptions(
      [&] { return DetectKindFromContentTypeUnchecked(content_type, url_path, head_bytes); });
}

}  // namespace on::ingest
