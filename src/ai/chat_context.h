// The context chat puts in front of the model: which sources, insights and notes, as evidence
// with citation ids, and how many tokens they take.
//
// Notebook chat. Each source of the notebook is off, "insights" (its insights, or its title when
// it has none) or "full content" (its insights and all its chunks); each note is off or full. A
// long source in full is represented by its chunks, each under its own "chunk:<key>_<index>" id,
// so an answer can cite the passage it used rather than the whole document.
//
// Source chat. One source: its insights, then its chunks within a token budget. When the whole
// text does not fit, the chunks that match the question's words best are chosen and shown in
// document order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ai/citations.h"
#include "core/error.h"
#include "storage/storage.h"

namespace on::ai {

enum class SourceContextMode { kOff, kInsights, kFull };
enum class NoteContextMode { kOff, kFull };

// Reads a context status as the original's frontend sends it, by substring: a text containing
// "not in" (or equal to "off") is off, one containing "insights" is insights, one containing
// "full content" (or equal to "full") is full. kInvalidInput naming `field` and the accepted
// values for anything else.
Result<SourceContextMode> ParseSourceContextMode(std::string_view status, std::string_view field);
// Notes: off as for sources; "full content" or "full" is full.
Result<NoteContextMode> ParseNoteContextMode(std::string_view status, std::string_view field);

// The "context_config" of a request. nullopt lists mean the defaults: every source of the
// notebook with insights when it has any and its full content otherwise, every note in full.
struct ContextSelection {
  std::optional<std::vector<std::pair<std::string, SourceContextMode>>> sources;  // ids "source:..."
  std::optional<std::vector<std::pair<std::string, NoteContextMode>>> notes;      // ids "note:..."
};

struct ChatContext {
  // What /api/chat/context returns: {"sources": [...], "notes": [...]}.
  nlohmann::json context = nlohmann::json::object();
  Evidence evidence;
  std::string rendered;     // evidence.Render(), the text that goes into the prompt
  int64_t token_count = 0;  // search::EstimateTokens(rendered)
  int64_t char_count = 0;   // Unicode code points of rendered
};

// Builds the context of notebook `notebook_id`. Ids in `selection` that are not sources or notes
// of this notebook are skipped, as in the original. kNotFound when the notebook does not exist.
Result<ChatContext> BuildNotebookContext(storage::Storage& storage, const std::string& notebook_id,
                                         const ContextSelection& selection);

struct SourceChatContext {
  Evidence evidence;
  std::string rendered;
  int64_t token_count = 0;
  int64_t chunks_shown = 0;
  int64_t chunks_total = 0;
  // {"sources": [id], "chunks": [...], "insights": [...], "notes": []}: what the prompt held.
  nlohmann::json indicators;
};

// Builds the context of source chat for `question` within `token_budget` tokens. Insights come
// first and take at most a quarter of the budget while the source has chunks. Insights that do
// not fit are dropped from the end.
Result<SourceChatContext> BuildSourceChatContext(storage::Storage& storage, const storage::Source& source,
                                                 std::string_view question, int64_t token_budget);

// The ids that were in a prompt, grouped as the context indicators of the original:
// {"sources": [...], "chunks": [...], "insights": [...], "notes": [...]}. Chunks and insights
// also add their source to "sources".
nlohmann::json ContextIds(const Evidence& evidence);

// Number of Unicode code points of UTF-8 `text` (bytes that do not start a sequence are skipped).
int64_t CountCodePoints(std::string_view text);

}  // namespace on::ai
