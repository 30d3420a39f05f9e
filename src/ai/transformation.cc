#include "ai/transformation.h"

#include "ai/prompts.h"

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>

#include "ai/embedding_service.h"
#include "ai/model_config.h"
#include "ai/reasoning.h"
#include "core/embedded_assets.h"
#include "ingest/chunker.h"
#include "search/tokenizer.h"

namespace on::ai {
namespace {

constexpr std::string_view kExecutePrompt = "prompts/transformation/execute.md";
constexpr std::string_view kCombinePrompt = "prompts/transformation/combine.md";
constexpr std::string_view kTitlePrompt = "prompts/note/title.md";

// Tokens kept free for the model's output: a quarter of the window, at least 256 and at most 4096.
int64_t OutputReserve(int64_t context_tokens) { return std::clamp<int64_t>(context_tokens / 4, 256, 4096); }

// Tokens a request may use for its messages. EstimateTokens errs on the high side, but a
// provider's tokenizer can still count more, so 5 % of the window (at least 64 tokens) is kept free.
int64_t PromptBudget(int64_t context_tokens) {
  const int64_t margin = std::max<int64_t>(64, context_tokens / 20);
  return context_tokens - OutputReserve(context_tokens) - margin;
}

int64_t Tokens(std::string_view text) { return static_cast<int64_t>(search::EstimateTokens(text)); }

std::string PartNote(size_t index, size_t count) {
  if (count <= 1) return "";
  return "\n# PART\n\nThe document is too long to process at once, so this message contains part " +
         std::to_string(index + 1) + " of " + std::to_string(count) +
         ". Apply the instructions to this part only; a later step merges the results of all parts.\n";
}

class TransformationRun {
 public:
  TransformationRun(ChatModel& model, int64_t context_tokens, const TransformationInput& input,
                    const TransformationHooks& hooks)
      : model_(model), context_tokens_(context_tokens), input_(input), hooks_(hooks) {}

  Result<TransformationOutput> Run() {
    // A part's system prompt is the longest the run sends, so it sizes the parts.
    ON_ASSIGN_OR_RETURN(std::string part_system, ExecuteSystem(0, 2));
    const int64_t room = PromptBudget(context_tokens_) - Tokens(part_system);
    if (room < static_cast<int64_t>(kMinPartTokens)) {
      return Status(ErrorCode::kContextLengthExceeded,
                    "the global instructions and the transformation prompt use about " +
                        std::to_string(Tokens(part_system)) + " tokens and leave no room for the document in the "
                        "model's context window of " + std::to_string(context_tokens_) +
                        " tokens; shorten them, or set num_ctx on the model's credential if the model accepts more");
    }
    size_t part_tokens = static_cast<size_t>(room);
    for (;;) {
      auto output = RunWithParts(part_tokens);
      if (output.ok() || output.status().code() != ErrorCode::kContextLengthExceeded) return output;
      if (part_tokens / 2 < kMinPartTokens) {
        return Status(ErrorCode::kContextLengthExceeded,
                      "the model rejected a part of about " + std::to_string(part_tokens) +
                          " tokens as too long even after splitting the document: " + output.status().message());
      }
      part_tokens /= 2;
      spdlog::info("transformation: the model rejected a request as too long; retrying with parts of {} tokens",
                   part_tokens);
    }
  }

 private:
  Result<std::string> ExecuteSystem(size_t index, size_t count) const {
    const std::string note = PartNote(index, count);
    return RenderPromptFile(kExecutePrompt, {{"global_instructions", input_.global_instructions},
                                             {"transformation_prompt", input_.prompt},
                                             {"part_note", note}});
  }

  Result<TransformationOutput> RunWithParts(size_t part_tokens) {
    std::vector<std::string> parts;
    if (Tokens(input_.text) <= static_cast<int64_t>(part_tokens)) {
      parts.push_back(input_.text);
    } else {
      ingest::ChunkOptions options;
      options.chunk_size_tokens = std::max(part_tokens, ingest::kMinChunkSizeTokens);
      options.max_tokens = options.chunk_size_tokens;
      options.overlap_tokens = 0;
      ON_ASSIGN_OR_RETURN(auto chunks, ingest::ChunkText(input_.text, options));
      for (auto& chunk : chunks) parts.push_back(std::move(chunk.content));
      if (parts.empty()) parts.push_back(input_.text);
    }
    expected_calls_ = calls_ + static_cast<int>(parts.size()) + (parts.size() > 1 ? 1 : 0);

    std::vector<std::string> results;
    for (size_t i = 0; i < parts.size(); ++i) {
      ON_ASSIGN_OR_RETURN(std::string system, ExecuteSystem(i, parts.size()));
      ON_ASSIGN_OR_RETURN(std::string result, Call(system, parts[i]));
      results.push_back(std::move(result));
    }
    ON_ASSIGN_OR_RETURN(std::string merged, Combine(std::move(results)));
    return TransformationOutput{std::move(merged), static_cast<int>(parts.size()), calls_};
  }

  // Merges partial results in groups that fit the window until one is left. When the provider
  // rejects a merge as too long, the round starts again with groups half as large.
  Result<std::string> Combine(std::vector<std::string> results) {
    int64_t limit = PromptBudget(context_tokens_);
    while (results.size() > 1) {
      const std::string count = std::to_string(results.size());
      ON_ASSIGN_OR_RETURN(std::string system, RenderPromptFile(kCombinePrompt, {{"global_instructions", input_.global_instructions},
                                                                                {"transformation_prompt", input_.prompt},
                                                                                {"part_count", count}}));
      const int64_t room = std::min(limit, PromptBudget(context_tokens_) - Tokens(system));
      auto merged = CombineRound(system, count, room, results);
      if (merged.ok()) {
        results = std::move(*merged);
        continue;
      }
      if (merged.status().code() != ErrorCode::kContextLengthExceeded || room / 2 < static_cast<int64_t>(kMinPartTokens)) {
        return merged.status();
      }
      limit = room / 2;
    }
    return std::move(results.front());
  }

  // One round of merging: consecutive results in greedy groups of at most `room` tokens.
  Result<std::vector<std::string>> CombineRound(const std::string& system, const std::string& count, int64_t room,
                                                std::vector<std::string>& results) {
    std::vector<std::string> merged;
    size_t begin = 0;
    while (begin < results.size()) {
      // A group always takes two results when it can, so every round shrinks the list even
      // when single results are large (the provider then reports an overflow).
      size_t end = begin;
      int64_t used = 0;
      std::string message;
      while (end < results.size()) {
        std::string section = "## Part " + std::to_string(end + 1) + " of " + count + "\n\n" + results[end] + "\n\n";
        const int64_t tokens = Tokens(section);
        if (end - begin >= 2 && used + tokens > room) break;
        used += tokens;
        message += section;
        ++end;
      }
      if (end - begin == 1) {
        merged.push_back(results[begin]);
      } else {
        ON_ASSIGN_OR_RETURN(std::string result, Call(system, message));
        merged.push_back(std::move(result));
      }
      begin = end;
    }
    expected_calls_ = std::max(expected_calls_, calls_ + (merged.size() > 1 ? 1 : 0));
    return merged;
  }

  Result<std::string> Call(const std::string& system, const std::string& user) {
    if (hooks_.cancelled && hooks_.cancelled()) {
      return Status(ErrorCode::kCancelled, "the transformation stopped because it was asked to stop");
    }
    ChatRequest request;
    request.messages = {{"system", system}, {"user", user}};
    request.max_output_tokens = static_cast<int>(OutputReserve(context_tokens_));
    ++calls_;
    auto answer = model_.Complete(request);
    if (hooks_.progress) hooks_.progress(calls_, std::max(expected_calls_, calls_));
    if (!answer.ok()) return answer.status();
    std::string text = StripReasoning(answer->text);
    if (text.empty()) {
      return Status(ErrorCode::kUpstream, "model " + model_.config().model +
                                              " returned no answer text (only reasoning or whitespace)");
    }
    return text;
  }

  ChatModel& model_;
  int64_t context_tokens_;
  const TransformationInput& input_;
  const TransformationHooks& hooks_;
  int calls_ = 0;
  int expected_calls_ = 1;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

// Returns the first line with text, without Markdown marks and wrappers. Sets `cut` when words
// were dropped to keep kMaxTitleWords.
std::string CleanLine(std::string_view raw, bool& cut) {
  cut = false;
  std::string_view line;
  std::string_view rest = raw;
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    line = Trim(rest.substr(0, newline));
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    while (!line.empty() && (line.front() == '#' || line.front() == '*' || line.front() == '>' || line.front() == '-')) {
      line.remove_prefix(1);
    }
    line = Trim(line);
    if (!line.empty()) break;
  }
  if (StartsWithNoCase(line, "title:")) line = Trim(line.substr(6));
  auto strip_pair = [&line](char open, char close) {
    if (line.size() >= 2 && line.front() == open && line.back() == close) line = Trim(line.substr(1, line.size() - 2));
  };
  strip_pair('"', '"');
  strip_pair('\'', '\'');
  strip_pair('*', '*');
  strip_pair('`', '`');
  while (!line.empty() && (line.back() == '.' || line.back() == '*')) line.remove_suffix(1);

  std::string title;
  size_t words = 0;
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && IsSpace(line[at])) ++at;
    if (at >= line.size()) break;
    size_t end = at;
    while (end < line.size() && !IsSpace(line[end])) ++end;
    if (words == kMaxTitleWords) {
      cut = true;
      break;
    }
    if (!title.empty()) title += ' ';
    title.append(line.substr(at, end - at));
    ++words;
    at = end;
  }
  // A very long "word" (text without spaces) is cut at 200 bytes, on a UTF-8 boundary.
  if (title.size() > 200) {
    size_t end = 200;
    while (end > 0 && (static_cast<unsigned char>(title[end]) & 0xC0) == 0x80) --end;
    title.resize(end);
    cut = true;
  }
  return title;
}

}  // namespace

Result<std::string> RenderPromptFile(std::string_view path,
                                     const std::vector<std::pair<std::string_view, std::string_view>>& values) {
  return FillPromptFile(path, [&values](std::string_view name) -> std::optional<std::string_view> {
    auto value = std::find_if(values.begin(), values.end(), [&](const auto& entry) { return entry.first == name; });
    if (value == values.end()) return std::nullopt;
    return value->second;
  }, false);
}

Result<LanguageModelSetup> ResolveLanguageModel(storage::Storage& storage, const CredentialCipher* cipher,
                                                const EnvLookup& env, const Settings& settings,
                                                const std::vector<std::optional<std::string>>& candidates,
                                                std::string_view slot) {
  std::optional<std::string> model_id;
  for (const auto& candidate : candidates) {
    if (candidate) {
      model_id = candidate;
      break;
    }
  }
  if (!model_id) {
    ON_ASSIGN_OR_RETURN(auto defaults, DefaultModels(storage));
    model_id = EffectiveDefaultModel(defaults, slot);
  }
  if (!model_id) {
    return Status(ErrorCode::kConfiguration,
                  "no language model is configured: set default_chat_model (or " + std::string(slot) +
                      ") with PUT /api/models/defaults, or pass model_id");
  }
  ON_ASSIGN_OR_RETURN(ModelConnection connection, ResolveModelConfig(storage, cipher, env, *model_id));
  if (connection.model_type != "language") {
    return InvalidInput("model " + *model_id + " is a " + connection.model_type +
                        " model; chat, transformations and titles need a language model");
  }
  LanguageModelSetup setup;
  setup.model_id = *model_id;
  setup.context_tokens = connection.num_ctx.value_or(settings.context_window_tokens);
  setup.config = ToProviderConfig(connection);
  setup.config.max_output_tokens = static_cast<int>(OutputReserve(setup.context_tokens));
  return setup;
}

Result<TransformationOutput> RunTransformation(ChatModel& model, int64_t context_tokens,
                                               const TransformationInput& input, const TransformationHooks& hooks) {
  return TransformationRun(model, context_tokens, input, hooks).Run();
}

Result<std::string> GenerateNoteTitle(ChatModel& model, int64_t context_tokens, std::string_view content) {
  ON_ASSIGN_OR_RETURN(std::string system, RenderPromptFile(kTitlePrompt, {}));
  // The start of a long note is enough for a title.
  const int64_t room = std::max<int64_t>(PromptBudget(context_tokens) - Tokens(system), kMinPartTokens);
  std::string text(content);
  if (Tokens(text) > room) {
    ingest::ChunkOptions options;
    options.chunk_size_tokens = static_cast<size_t>(room);
    options.max_tokens = options.chunk_size_tokens;
    options.overlap_tokens = 0;
    ON_ASSIGN_OR_RETURN(auto chunks, ingest::ChunkText(text, options));
    if (!chunks.empty()) text = chunks.front().content;
  }
  ChatRequest request;
  request.messages = {{"system", system}, {"user", text}};
  request.max_output_tokens = 100;
  ON_ASSIGN_OR_RETURN(ChatResult answer, model.Complete(request));
  bool cut = false;
  std::string title = CleanLine(StripReasoning(answer.text), cut);
  if (title.empty()) return Status(ErrorCode::kUpstream, "model " + model.config().model + " returned no title");
  return title;
}

std::string CleanNoteTitle(std::string_view raw) {
  bool cut = false;
  return CleanLine(raw, cut);
}

std::string FallbackNoteTitle(std::string_view content) {
  bool cut = false;
  std::string title = CleanLine(StripReasoning(content), cut);
  if (title.empty()) return "Untitled note";
  if (cut) title += "...";
  return title;
}

}  // namespace on::ai
