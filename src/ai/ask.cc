#include "ai/ask.h"

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "ai/prompts.h"
#include "ai/reasoning.h"

namespace on::ai {
namespace {

constexpr size_t kMaxTermLength = 500;
constexpr size_t kMaxInstructionsLength = 2000;

std::string Trimmed(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  const size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

// The text of a JSON member that should be a string. Numbers and other scalars are printed.
std::string MemberText(const nlohmann::json& object, const char* name) {
  auto found = object.find(name);
  if (found == object.end() || found->is_null()) return "";
  if (found->is_string()) return Trimmed(found->get<std::string>());
  if (found->is_primitive()) return found->dump();
  return "";
}

// Calls `model` and returns its reply without reasoning blocks. A reply that was only reasoning
// is kUpstream, because there is nothing to show.
Result<std::string> Answer(ChatModel& model, std::vector<ChatMessage> messages, const CancelToken& cancel,
                           bool json_object = false) {
  ChatRequest request;
  request.messages = std::move(messages);
  request.json_object = json_object;
  ON_ASSIGN_OR_RETURN(ChatResult result, model.Complete(request, cancel));
  std::string text = StripReasoning(result.text);
  if (text.empty()) {
    return Status(ErrorCode::kUpstream, "the model " + model.config().model + " returned only reasoning and no answer");
  }
  return text;
}

Result<AskStrategy> PlanSearches(std::string_view question, ChatModel& model, const CancelToken& cancel) {
  ON_ASSIGN_OR_RETURN(std::string system, RenderPrompt("ask/strategy", {}));
  std::vector<ChatMessage> messages = {{"system", system}, {"user", "Question: " + std::string(question)}};
  ON_ASSIGN_OR_RETURN(std::string first, Answer(model, messages, cancel, true));
  Result<AskStrategy> strategy = ParseAskStrategy(first);
  if (strategy.ok()) return strategy;

  spdlog::warn("ask: the strategy model {} returned a malformed plan ({}); asking once more", model.config().model,
               strategy.status().message());
  // The note goes into the system message so that the user message stays the bare question.
  messages.front().content += "\n\nYour previous reply was not usable: " + strategy.status().message() +
                              ". Reply with only the JSON object described above.";
  ON_ASSIGN_OR_RETURN(std::string second, Answer(model, messages, cancel, true));
  strategy = ParseAskStrategy(second);
  if (strategy.ok()) return strategy;
  return Status(ErrorCode::kUpstream, "the strategy model " + model.config().model +
                                          " returned a malformed search plan twice (" + strategy.status().message() +
                                          "); try again or choose another strategy model");
}

struct SearchOutcome {
  std::optional<AskSubAnswer> answer;  // unset when the search found nothing
  Evidence evidence;
};

Result<SearchOutcome> RunSearch(std::string_view question, const AskSearch& search, ChatModel& model,
                                const PassageFinder& find_passages, const CancelToken& cancel) {
  SearchOutcome outcome;
  ON_ASSIGN_OR_RETURN(auto items, find_passages(search, cancel));
  for (auto& item : items) outcome.evidence.Add(std::move(item));
  if (outcome.evidence.empty()) return outcome;
  if (cancel.cancelled()) return Status(ErrorCode::kCancelled, "ask was cancelled");

  ON_ASSIGN_OR_RETURN(std::string system,
                      RenderPrompt("ask/answer", {{"term", search.term},
                                                  {"instructions", search.instructions.empty() ? "none" : search.instructions},
                                                  {"passages", outcome.evidence.Render()}}));
  ON_ASSIGN_OR_RETURN(std::string text, Answer(model, {{"system", system}, {"user", "Question: " + std::string(question)}}, cancel));
  CitationCheck check = CheckCitations(text, outcome.evidence);
  if (!check.rejected.empty()) {
    spdlog::info("ask: removed {} citations of passages that were not in the answer prompt", check.rejected.size());
  }
  outcome.answer = AskSubAnswer{search, std::move(check.answer), std::move(check.citations), outcome.evidence.items().size()};
  return outcome;
}

// Runs every search with at most `parallel` at once. Returns the outcomes in strategy order, or
// the first error. After an error or a cancellation no further search starts.
Result<std::vector<SearchOutcome>> RunSearches(std::string_view question, const AskStrategy& strategy, ChatModel& model,
                                               const PassageFinder& find_passages, const AskCallbacks& callbacks,
                                               const CancelToken& cancel, size_t parallel) {
  const size_t count = strategy.searches.size();
  std::vector<std::optional<SearchOutcome>> outcomes(count);
  std::optional<Status> failure;
  std::mutex mutex;  // guards failure and serialises on_answer
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (;;) {
      const size_t index = next.fetch_add(1);
      if (index >= count || cancel.cancelled()) return;
      {
        std::lock_guard lock(mutex);
        if (failure) return;
      }
      Result<SearchOutcome> outcome = RunSearch(question, strategy.searches[index], model, find_passages, cancel);
      std::lock_guard lock(mutex);
      if (!outcome.ok()) {
        if (!failure) failure = outcome.status();
        return;
      }
      if (outcome->answer && callbacks.on_answer) callbacks.on_answer(*outcome->answer);
      outcomes[index] = std::move(*outcome);
    }
  };
  std::vector<std::thread> threads;
  const size_t thread_count = std::min(std::max<size_t>(parallel, 1), count);
  for (size_t i = 1; i < thread_count; ++i) threads.emplace_back(work);
  work();
  for (auto& thread : threads) thread.join();

  if (cancel.cancelled()) return Status(ErrorCode::kCancelled, "ask was cancelled");
  if (failure) return *failure;
  std::vector<SearchOutcome> result;
  for (auto& outcome : outcomes) result.push_back(std::move(*outcome));
  return result;
}

}  // namespace

Result<AskStrategy> ParseAskStrategy(std::string_view model_output) {
  std::string text = StripReasoning(model_output);
  // Models wrap JSON in a code fence or put a sentence around it; the object is what counts.
  const size_t open = text.find('{');
  const size_t close = text.rfind('}');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return InvalidInput("the reply contains no JSON object");
  }
  nlohmann::json plan = nlohmann::json::parse(text.substr(open, close - open + 1), nullptr, false);
  if (plan.is_discarded() || !plan.is_object()) return InvalidInput("the reply is not valid JSON");
  auto searches = plan.find("searches");
  if (searches == plan.end() || !searches->is_array()) return InvalidInput("the reply has no \"searches\" list");

  AskStrategy strategy;
  strategy.reasoning = MemberText(plan, "reasoning");
  for (const auto& entry : *searches) {
    if (strategy.searches.size() == kMaxAskSearches) {
      spdlog::info("ask: the strategy asked for {} searches; only the first {} run", searches->size(), kMaxAskSearches);
      break;
    }
    AskSearch search;
    if (entry.is_string()) {
      search.term = Trimmed(entry.get<std::string>());
    } else if (entry.is_object()) {
      search.term = MemberText(entry, "term");
      search.instructions = MemberText(entry, "instructions");
    }
    if (search.term.empty()) continue;
    if (search.term.size() > kMaxTermLength) search.term.resize(kMaxTermLength);
    if (search.instructions.size() > kMaxInstructionsLength) search.instructions.resize(kMaxInstructionsLength);
    strategy.searches.push_back(std::move(search));
  }
  if (strategy.searches.empty()) return InvalidInput("the reply lists no search with a term");
  return strategy;
}

Result<AskResult> RunAsk(std::string_view question, const AskModels& models, const PassageFinder& find_passages,
                         const AskCallbacks& callbacks, const CancelToken& cancel, const AskOptions& options) {
  AskResult result;
  ON_ASSIGN_OR_RETURN(result.strategy, PlanSearches(question, *models.strategy, cancel));
  if (callbacks.on_strategy) callbacks.on_strategy(result.strategy);

  ON_ASSIGN_OR_RETURN(auto outcomes, RunSearches(question, result.strategy, *models.answer, find_passages, callbacks,
                                                 cancel, options.max_parallel_searches));
  Evidence& evidence = result.evidence;
  std::string answers;
  for (auto& outcome : outcomes) {
    for (const EvidenceItem& item : outcome.evidence.items()) evidence.Add(item);
    if (!outcome.answer) continue;
    if (!answers.empty()) answers += "\n\n";
    answers += "Answer " + std::to_string(result.answers.size() + 1) + ":\n" + outcome.answer->content;
    result.answers.push_back(std::move(*outcome.answer));
  }
  if (evidence.empty()) {
    result.found_nothing = true;
    result.final_answer = std::string(kNothingFoundAnswer);
    if (callbacks.on_final_answer) callbacks.on_final_answer(result.final_answer);
    return result;
  }

  ON_ASSIGN_OR_RETURN(std::string system,
                      RenderPrompt("ask/final_answer", {{"reasoning", result.strategy.reasoning.empty() ? "(none given)" : result.strategy.reasoning},
                                                        {"passages", evidence.Render()},
                                                        {"answers", answers}}));
  ON_ASSIGN_OR_RETURN(std::string text, Answer(*models.final_answer, {{"system", system}, {"user", "Question: " + std::string(question)}}, cancel));
  CitationCheck check = CheckCitations(text, evidence);
  if (!check.rejected.empty()) {
    spdlog::info("ask: removed {} citations of passages the final model was not shown", check.rejected.size());
  }
  result.final_answer = std::move(check.answer);
  result.citations = std::move(check.citations);
  result.rejected_citations = std::move(check.rejected);
  if (callbacks.on_final_answer) callbacks.on_final_answer(result.final_answer);
  return result;
}

}  // namespace on::ai
