// Keyword-index text for PostgreSQL: the project's tokenizer output written as a tsvector.
//
// The server never tokenizes: open-notebook runs search::Tokenizer and sends the result in
// tsvector input syntax, so PostgreSQL indexes exactly the terms that SQLite's on_icu FTS5
// tokenizer indexes for the same text, and a query's terms (search::ExtractQueryTerms) match them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "search/tokenizer.h"

namespace on::storage::postgres {

// A text's terms as a tsvector literal, and how many tokens the text has.
struct IndexedText {
  // "'term':1,4 'other':2 …", for a $n::tsvector parameter; each lexeme appears once.
  std::string tsvector;
  // Number of tokens, repeats included: the document length for BM25.
  int64_t tokens = 0;
};

// PostgreSQL's limits on tsvector positions (documented for tsvector in PostgreSQL 15): a
// position above 16383 is stored as 16383, and a lexeme keeps at most 256 positions.
inline constexpr int kMaxTsvectorPosition = 16383;
inline constexpr int kMaxTsvectorPositionsPerLexeme = 256;

// Tokenizes `text` and writes the tsvector. Positions count tokens from 1. NOTE: beyond the
// limits above a term's frequency is capped at 256, so BM25 scores of very long texts differ
// from SQLite's.
IndexedText BuildTsvector(std::string_view text, const search::Tokenizer& tokenizer);

}  // namespace on::storage::postgres
