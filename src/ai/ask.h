// Ask: a question answered in several steps over the user's documents.
//
//   1. The strategy model plans up to five searches: {"reasoning", "searches": [{"term", "instructions"}]}.
//   2. Each search finds passages; the answer model answers from them, citing their ids.
//   3. The final model writes one answer from the search answers and all passages shown.
//
// Every answer's citations are checked against the passages its model was shown (CheckCitations),
// and reasoning blocks are removed from every model output.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ai/citations.h"
#include "ai/models.h"
#include "core/error.h"

namespace on::ai {

inline constexpr size_t kMaxAskSearches = 5;

struct AskSearch {
  std::string term;
  std::string instructions;
};

struct AskStrategy {
  std::string reasoning;
  std::vector<AskSearch> searches;  // 1 to kMaxAskSearches entries
};

// Parses the strategy model's output: a JSON object, possibly inside a Markdown code fence or
// after reasoning text. Searches beyond kMaxAskSearches are dropped, and so are searches with an
// empty term. kInvalidInput with the reason when no usable strategy is left.
Result<AskStrategy> ParseAskStrategy(std::string_view model_output);

struct AskModels {
  ChatModel* strategy = nullptr;
  ChatModel* answer = nullptr;
  ChatModel* final_answer = nullptr;
};

// Returns the passages found for one search, best first, as evidence items with citation ids.
using PassageFinder = std::function<Result<std::vector<EvidenceItem>>(const AskSearch& search, const CancelToken& cancel)>;

struct AskSubAnswer {
  AskSearch search;
  std::string content;  // checked: ids not among this search's passages are removed
  std::vector<Citation> citations;
  size_t passage_count = 0;
};

struct AskResult {
  AskStrategy strategy;
  std::vector<AskSubAnswer> answers;  // searches that found passages, in the order of the strategy
  std::string final_answer;           // checked against every passage shown
  std::vector<Citation> citations;
  std::vector<std::string> rejected_citations;  // ids the final model cited that were not shown
  Evidence evidence;  // every passage shown to a model, in strategy order
  bool found_nothing = false;  // no search found a passage, so no answer model was called
};

// Hooks for streaming the steps as they finish. on_answer may run on any of the search threads,
// one call at a time.
struct AskCallbacks {
  std::function<void(const AskStrategy&)> on_strategy;
  std::function<void(const AskSubAnswer&)> on_answer;
  std::function<void(const std::string&)> on_final_answer;
};

struct AskOptions {
  size_t max_parallel_searches = 3;  // searches (and their answer calls) running at once
};

// The answer when no search found anything; no model is asked to answer from empty context.
inline constexpr std::string_view kNothingFoundAnswer =
    "I found nothing in your sources or notes about this question, so I cannot answer it from them. "
    "Try other words, add sources that cover it, or check that the right notebook is selected.";

// Runs the three steps. A strategy output that does not parse is asked for once more; a second
// failure returns kUpstream naming the problem. Provider errors are returned as the client
// reported them (with the provider's reason), and kCancelled once `cancel` fires.
Result<AskResult> RunAsk(std::string_view question, const AskModels& models, const PassageFinder& find_passages,
                         const AskCallbacks& callbacks, const CancelToken& cancel, const AskOptions& options = {});

}  // namespace on::ai
