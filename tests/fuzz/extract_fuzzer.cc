// libFuzzer target for the in-memory extractors (HTML, DOCX, EPUB, plain text, Markdown) and for
// kind detection. The first input byte picks the format, the rest is the document.
//
// tests/fuzz/CMakeLists.txt builds it with clang when configured with -DON_FUZZ=ON; `make fuzz`
// builds and runs it with the other targets (see tests/fuzz/README.md).
//
// Seed inputs are a first byte (0 HTML, 1 DOCX, 2 EPUB, 3 text, 4 Markdown) followed by a real
// document. PDFs are left out: pdftotext parses them in a child process.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/extractor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using on::ingest::DocumentKind;
  if (size == 0) return 0;

  constexpr DocumentKind kKinds[] = {DocumentKind::kHtml, DocumentKind::kDocx,
                                     DocumentKind::kEpub, DocumentKind::kPlainText,
                                     DocumentKind::kMarkdown};
  const DocumentKind kind = kKinds[data[0] % (sizeof(kKinds) / sizeof(kKinds[0]))];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  // Small limits keep each run fast; the limit checks are part of what is being tested.
  on::ingest::ExtractOptions options;
  options.max_text_bytes = 1 << 20;
  options.max_archive_entry_bytes = 16 << 20;

  (void)on::ingest::ExtractBuffer(bytes, kind, options);
  (void)on::ingest::DetectKind("fuzz-input", bytes);
  return 0;
}
