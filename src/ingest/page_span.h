// Page positions in the text extracted from a document.
#pragma once

#include <cstddef>

namespace on::ingest {

// The bytes text[begin, end) of an extracted document came from page `page` (1-based).
struct PageSpan {
  int page = 0;
  size_t begin = 0;
  size_t end = 0;
};

}  // namespace on::ingest
