// Running a transformation prompt over a document with a language model, in parts when the
// document does not fit the model's context window, and generating note titles.
//
//   ON_ASSIGN_OR_RETURN(auto setup, ai::ResolveLanguageModel(storage, cipher, env, settings,
//                                                            {request_model, transformation.model_id},
//                                                            "default_transformation_model"));
//   ON_ASSIGN_OR_RETURN(auto chat, ai::MakeChatModel(setup.config));
//   ON_ASSIGN_OR_RETURN(auto output, ai::RunTransformation(*chat, setup.context_tokens, input));
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ai/credential_cipher.h"
#include "ai/models.h"
#include "core/error.h"
#include "core/settings.h"
#include "storage/storage.h"

namespace on::ai {

// Returns the embedded prompt file `path` ("prompts/transformation/execute.md") with each
// "{{name}}" marker replaced by its value. The values are inserted as they are and never scanned
// for markers, so user text cannot act as template source. Unknown markers stay as written.
// kInternal when the file is not embedded.
Result<std::string> RenderPromptFile(std::string_view path,
                                     const std::vector<std::pair<std::string_view, std::string_view>>& values);

// A language model chosen for one task, with the context window it is assumed to have.
struct LanguageModelSetup {
  std::string model_id;
  ProviderConfig config;
  int64_t context_tokens = 0;  // the credential's num_ctx, else settings.context_window_tokens
};

// Resolves the first set entry of `candidates`, or else the default model of `slot` with its
// fallback to the chat model (ai::EffectiveDefaultModel). kNotFound for an unknown model id,
// kInvalidInput for a model that is not a language model, kConfiguration when nothing is set.
Result<LanguageModelSetup> ResolveLanguageModel(storage::Storage& storage, const CredentialCipher* cipher,
                                                const EnvLookup& env, const Settings& settings,
                                                const std::vector<std::optional<std::string>>& candidates,
                                                std::string_view slot);

struct TransformationInput {
  std::string global_instructions;  // put in front of every prompt; may be empty
  std::string prompt;               // the transformation's prompt, plain text
  std::string text;                 // the document
};

struct TransformationOutput {
  std::string text;     // the model's output with reasoning blocks removed
  int parts = 1;        // parts the document was split into for the last, successful pass
  int model_calls = 0;  // requests sent, failed ones included
};

struct TransformationHooks {
  // Checked between model calls; returning true stops the run with kCancelled.
  std::function<bool()> cancelled;
  // Called after each model call with the calls done and the calls expected so far.
  std::function<void(int done, int expected)> progress;
};

// Smallest part, in estimated tokens, a document is split into before a run gives up.
inline constexpr size_t kMinPartTokens = 128;

// Applies `input.prompt` to `input.text`. A document that fits the context window (after the
// system prompt and room for the answer) is sent in one request. A longer one is split at
// paragraph and sentence boundaries into parts that fit; the prompt is applied to each part, and
// the partial results are merged by further requests, in groups that fit, until one result is
// left. When the provider rejects a request as too long (kContextLengthExceeded), the run starts
// again with parts half as large, down to kMinPartTokens. Errors of the provider are returned as
// they are, with its reason; an answer that is empty once reasoning is removed is kUpstream.
Result<TransformationOutput> RunTransformation(ChatModel& model, int64_t context_tokens,
                                               const TransformationInput& input, const TransformationHooks& hooks = {});

// Maximum words of a note title.
inline constexpr size_t kMaxTitleWords = 15;

// Asks `model` for a title of `content` (cut to fit the context window) and returns it cleaned
// by CleanNoteTitle. Errors of the provider are returned; an answer with no title text is kUpstream.
Result<std::string> GenerateNoteTitle(ChatModel& model, int64_t context_tokens, std::string_view content);

// The first line of `raw` with text, without Markdown heading marks, a "Title:" prefix,
// surrounding quotes or a final period, cut to kMaxTitleWords words. Empty when nothing is left.
std::string CleanNoteTitle(std::string_view raw);

// A title taken from the note itself, for when no model is available: its first line with
// text, cleaned like CleanNoteTitle, with "..." when it was cut. "Untitled note" for a note
// with no words.
std::string FallbackNoteTitle(std::string_view content);

}  // namespace on::ai
