// The fake provider's deterministic "models": word-hashing embeddings, a citing chat answer and a
// search-strategy JSON answer. README.md in this directory describes the exact behaviour.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace on::fake {

// Lower-cased word tokens of `text` with simple suffix stripping ("searches" -> "search").
// Bytes >= 0x80 count as word characters, so UTF-8 words stay whole. Stop words are dropped when
// `drop_stop_words` is set.
std::vector<std::string> WordTokens(std::string_view text, bool drop_stop_words);

// Feature-hashed bag of words in `dimensions` dimensions, L2-normalised. A text without content
// words hashes its whole lower-cased text instead, so every text gets a unit vector.
std::vector<float> EmbedText(std::string_view text, std::size_t dimensions);

// Dimensions encoded in an embedding model name: the trailing number of "fake-embed-768", or 384.
std::size_t DimensionsForModel(std::string_view model);

// One chat message as the fake reads it, whatever the provider's wire format.
struct Message {
  std::string role;  // "system", "user" or "assistant"
  std::string text;
};

// True when the request wants the search-strategy JSON object (see README.md).
bool WantsStrategyJson(const std::vector<Message>& messages, bool json_response_format);

// The search-strategy JSON object for the last user question, serialised.
std::string StrategyAnswer(const std::vector<Message>& messages);

// The citing answer for the last user question (see README.md).
std::string CitingAnswer(const std::vector<Message>& messages);

// Splits an answer into the pieces a stream sends: words with their following space.
std::vector<std::string> StreamPieces(std::string_view answer);

// Rough token count (words) used for usage numbers and context-length limits.
std::size_t CountWords(std::string_view text);

}  // namespace on::fake
