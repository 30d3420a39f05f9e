// Splitting source text into chunks for keyword search and embeddings.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "ingest/page_span.h"

namespace on::ingest {

// Chunk sizes are in tokens as on::search::EstimateTokens counts them.
struct ChunkOptions {
  // Target size of a chunk. Chunks contain whole paragraphs or sentences where they fit, so
  // most come out between half of this and this. Only a chunk in front of a heading or at the
  // end of the text may contain less than a quarter of it.
  size_t chunk_size_tokens = 400;
  // Tokens that a chunk repeats from the end of the previous chunk, so a sentence cut by a
  // chunk boundary is whole in one of them. When unset, overlap_ratio * chunk_size_tokens.
  std::optional<size_t> overlap_tokens;
  double overlap_ratio = 0.15;
  // A chunk smaller than this is merged into a neighbor when the result fits in max_tokens, so
  // a merged chunk can exceed chunk_size_tokens by a few tokens.
  size_t min_chunk_tokens = 5;
  // Hard cap, for example the input limit of the embedding model. No chunk exceeds it, even in
  // text without spaces or punctuation. When it is below chunk_size_tokens, it is the target.
  size_t max_tokens = 512;
};

// Smallest accepted chunk_size_tokens and max_tokens.
inline constexpr size_t kMinChunkSizeTokens = 16;

struct Chunk {
  size_t index = 0;  // 0-based position in the returned list
  size_t begin = 0;  // byte offset into the source text
  size_t end = 0;    // one past the last byte; content == text.substr(begin, end - begin)
  int page = 0;      // 1-based page where the chunk starts; 0 when no page spans were given
  size_t token_estimate = 0;  // EstimateTokens(content), never above max_tokens
  std::string content;
};

// Splits `text` into chunks in text order. Boundaries are chosen, in order of preference, at
// Markdown headings ("# Title") and HTML headings ("<h2>") when the current chunk holds at
// least a quarter of the target, then paragraph breaks, line breaks, sentence ends (". ", "。",
// "？"...), clause breaks (", ", "，", "、"...), spaces and finally between characters, never
// inside a UTF-8 sequence. Consecutive chunks overlap by up to the overlap size, except across a
// heading boundary. Chunks have no leading or trailing whitespace, and whitespace-only text
// gives no chunks; text below min_chunk_tokens gives one chunk.
//
// `pages` may be empty, unsorted or incomplete: a chunk starting between two spans gets the
// page of the next span, and one starting after the last span gets the last page.
//
// Returns kInvalidInput when an option is out of range: chunk_size_tokens or max_tokens below
// kMinChunkSizeTokens, overlap_ratio outside [0, 0.5], or an overlap or min_chunk_tokens above
// half of the target size. Runs in time linear in the text size; any byte sequence is accepted.
// Thread-safe.
Result<std::vector<Chunk>> ChunkText(std::string_view text, const ChunkOptions& options = {},
                                     std::span<const PageSpan> pages = {});

}  // namespace on::ingest
