// Entry points: reads the input, dispatches to the format's extractor and applies the checks
// that every format shares (size limit, empty text, title length).
#include "ingest/extractor.h"

#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <new>
#include <system_error>

#include "ingest/format_extractors.h"
#include "ingest/text_decoding.h"

namespace on::ingest {
namespace {

constexpr size_t kMaxTitleBytes = 500;

struct KindInfo {
  DocumentKind kind;
  std::string_view name;
  // Message of the error for a document of this kind without text.
  std::string_view empty_reason;
};

constexpr std::array<KindInfo, 6> kKinds = {{
    {DocumentKind::kPlainText, "text", "the plain-text file is empty or contains only white space"},
    {DocumentKind::kMarkdown, "markdown",
     "the Markdown file is empty or contains only white space"},
    {DocumentKind::kHtml, "html",
     "the HTML page has no readable text once scripts, navigation and other boilerplate are "
     "removed (it may be built by JavaScript, or be a login or error page)"},
    {DocumentKind::kPdf, "pdf",
     "the PDF has no extractable text (scanned or image-only pages); OCR is not available in "
     "this build"},
    {DocumentKind::kDocx, "docx",
     "the DOCX document contains no text (it may hold only images or embedded objects)"},
    {DocumentKind::kEpub, "epub",
     "the EPUB book has no readable text in its spine documents (it may hold only images)"},
}};

const KindInfo& InfoFor(DocumentKind kind) {
  for (const KindInfo& info : kKinds) {
    if (info.kind == kind) return info;
  }
  return kKinds[0];
}

// Cuts `text` to at most `max_bytes` without splitting a UTF-8 sequence.
void TruncateUtf8(std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
}

Result<std::string> ReadWholeFile(const std::filesystem::path& path, size_t max_bytes) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) {
    return Status(ErrorCode::kIo, "the file " + path.string() + " cannot be read: " +
                                      error.message());
  }
  if (size > max_bytes) {
    return Status(ErrorCode::kPayloadTooLarge,
                  "the file " + path.string() + " has " + std::to_string(size) +
                      " bytes, more than the " + std::to_string(max_bytes) +
                      " bytes allowed (max_input_bytes)");
  }

  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status(ErrorCode::kIo,
                  "the file " + path.string() + " cannot be opened: " + std::strerror(errno));
  }
  // Reads one byte beyond the limit so that a file that grew since file_size is still caught.
  std::string content(static_cast<size_t>(size) + 1, '\0');
  file.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (file.bad()) {
    return Status(ErrorCode::kIo, "the file " + path.string() + " could not be read");
  }
  content.resize(static_cast<size_t>(file.gcount()));
  if (content.size() > max_bytes) {
    return Status(ErrorCode::kPayloadTooLarge, "the file " + path.string() +
                                                   " grew beyond max_input_bytes while it was read");
  }
  return content;
}

// A private temporary file holding a PDF for pdftotext, removed when the object goes away.
class TemporaryPdf {
 public:
  TemporaryPdf() = default;
  TemporaryPdf(const TemporaryPdf&) = delete;
  TemporaryPdf& operator=(const TemporaryPdf&) = delete;
  ~TemporaryPdf() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  Status Write(std::string_view bytes) {
    std::error_code error;
    std::filesystem::path directory = std::filesystem::temp_directory_path(error);
    if (error) directory = "/tmp";
    std::string pattern = (directory / "on-extract-XXXXXX.pdf").string();
    const int fd = ::mkstemps(pattern.data(), 4);
    if (fd < 0) {
      return Status(ErrorCode::kIo, "could not create a temporary file in " + directory.string() +
                                        ": " + std::strerror(errno));
    }
    path_ = pattern;

    size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int saved = errno;
        ::close(fd);
        return Status(ErrorCode::kIo,
                      "could not write the temporary file " + path_ + ": " + std::strerror(saved));
      }
      written += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) {
      return Status(ErrorCode::kIo,
                    "could not write the temporary file " + path_ + ": " + std::strerror(errno));
    }
    return Status::Ok();
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Result<ExtractedDocument> ExtractInMemory(std::string_view bytes, DocumentKind kind,
                                          const ExtractOptions& options) {
  switch (kind) {
    case DocumentKind::kPlainText:
      return ExtractPlainText(bytes, options);
    case DocumentKind::kMarkdown:
      return ExtractMarkdown(bytes, options);
    case DocumentKind::kHtml:
      return ExtractHtml(bytes, options);
    case DocumentKind::kDocx:
      return ExtractDocx(bytes, options);
    case DocumentKind::kEpub:
      return ExtractEpub(bytes, options);
    case DocumentKind::kPdf: {
      TemporaryPdf file;
      ON_RETURN_IF_ERROR(file.Write(bytes));
      return ExtractPdfFile(file.path(), options);
    }
  }
  return InternalError("unknown document kind " + std::to_string(static_cast<int>(kind)));
}

Result<ExtractedDocument> CheckExtracted(Result<ExtractedDocument> result, DocumentKind kind,
                                         const ExtractOptions& options) {
  if (!result.ok()) return result;
  ExtractedDocument& document = result.value();
  if (document.text.size() > options.max_text_bytes) return TextTooLarge(options.max_text_bytes);
  if (IsBlank(document.text)) return InvalidInput(std::string(InfoFor(kind).empty_reason));
  document.kind = kind;
  TruncateUtf8(document.title, kMaxTitleBytes);
  return result;
}

// pugixml and std::string throw std::bad_alloc when a document's structures do not fit in
// memory. Nothing else in extraction is expected to throw.
template <typename Extract>
Result<ExtractedDocument> CatchExceptions(const Extract& extract) {
  try {
    return extract();
  } catch (const std::bad_alloc&) {
    return Status(ErrorCode::kPayloadTooLarge,
                  "the document needs more memory than is available to extract its text");
  } catch (const std::exception& error) {
    return InternalError(std::string("text extraction failed: ") + error.what());
  }
}

}  // namespace

std::string_view DocumentKindName(DocumentKind kind) { return InfoFor(kind).name; }

std::optional<DocumentKind> DocumentKindFromName(std::string_view name) {
  for (const KindInfo& info : kKinds) {
    if (info.name == name) return info.kind;
  }
  return std::nullopt;
}

Result<ExtractedDocument> ExtractFile(const std::filesystem::path& path, DocumentKind kind,
                                      const ExtractOptions& options) {
  return CatchExceptions([&]() -> Result<ExtractedDocument> {
    if (kind == DocumentKind::kPdf) {
      return CheckExtracted(ExtractPdfFile(path, options), kind, options);
    }
    ON_ASSIGN_OR_RETURN(const std::string bytes, ReadWholeFile(path, options.max_input_bytes));
    return CheckExtracted(ExtractInMemory(bytes, kind, options), kind, options);
  });
}

Result<ExtractedDocument> ExtractBuffer(std::string_view bytes, DocumentKind kind,
                                        const ExtractOptions& options) {
  return CatchExceptions([&]() -> Result<ExtractedDocument> {
    return CheckExtracted(ExtractInMemory(bytes, kind, options), kind, options);
  });
}

}  // namespace on::ingest
