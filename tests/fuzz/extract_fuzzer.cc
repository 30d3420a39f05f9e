// libFuzzer target for the in-memory extractors (HTML, DOCX, EPUB, plain text, Markdown) and for
// kind detection. The first input byte picks the format, the rest is the document.
//
// It is not part of the CMake build, which uses the default compiler. To build and run it with
// clang from the repository root:
//
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DON_SANITIZE=ON \
//         -DON_BUILD_TESTS=OFF -DON_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link
//   ninja -C build-fuzz on_lib
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
//       tests/fuzz/extract_fuzzer.cc build-fuzz/libon_lib.a \
//       $(pkg-config --libs libxml-2.0 libzip pugixml uchardet icu-uc icu-i18n) -lmagic \
//       -o build-fuzz/extract_fuzzer
//   mkdir -p build-fuzz/corpus && build-fuzz/extract_fuzzer -max_len=200000 build-fuzz/corpus
//
// -fsanitize=fuzzer-no-link instruments the library for coverage; without it the fuzzer sees only
// this file. Seed the corpus with a first byte (0 HTML, 1 DOCX, 2 EPUB, 3 text, 4 Markdown)
// followed by a real document. PDFs are left out: pdftotext parses them in a child process.
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
