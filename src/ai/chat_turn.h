// One question and answer of a chat session, for notebook chat and source chat.
//
//   ON_ASSIGN_OR_RETURN(auto turn, ai::PrepareNotebookTurn(deps, session, question, override, selection));
//   ON_ASSIGN_OR_RETURN(auto asked, ai::StoreQuestion(deps.storage, *turn));
//   ON_ASSIGN_OR_RETURN(auto answer, ai::AnswerTurn(deps.storage, *turn, on_delta, cancel));
//
// Preparing chooses the model, builds the context and the prompt, and rejects a prompt that
// does not fit the model's context window, all before anything is stored or sent. Answering
// calls the provider, strips reasoning blocks, keeps only citations of passages that were in the
// prompt and stores the answer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ai/chat_context.h"
#include "ai/citations.h"
#include "ai/credential_cipher.h"
#include "ai/models.h"
#include "core/error.h"
#include "core/runtime_config.h"
#include "core/settings.h"
#include "storage/storage.h"

namespace on::ai {

struct ChatDependencies {
  storage::Storage& storage;
  const CredentialCipher* cipher;  // null without an encryption key
  EnvLookup env;
  // The settings of this request: OPEN_NOTEBOOK_CONTEXT_WINDOW_TOKENS for models whose credential
  // sets no num_ctx, OPEN_NOTEBOOK_SOURCE_CHAT_CONTEXT_TOKENS for source chat.
  SettingsSnapshot settings;
};

// The model a turn uses and how much of its window the prompt may fill.
struct ChosenChatModel {
  std::string model_id;
  std::string model_name;
  ProviderConfig config;
  int64_t context_window = 0;
  int64_t answer_reserve = 0;  // tokens kept free for the answer

  int64_t allowed_prompt_tokens() const { return context_window - answer_reserve; }
};

// Picks the model: `request_override`, else `session_override`, else the default chat model.
// Resolved as ResolveLanguageModel does (ai/transformation.h): kConfiguration when none is set,
// kInvalidInput for a model that is not a language model, kNotFound for an unknown model id. The
// window is the credential's num_ctx when set, else OPEN_NOTEBOOK_CONTEXT_WINDOW_TOKENS; the
// answer reserve is the output limit ResolveLanguageModel sets.
Result<ChosenChatModel> ChooseChatModel(const ChatDependencies& deps, const std::optional<std::string>& request_override,
                                        const std::optional<std::string>& session_override);

struct PreparedTurn {
  storage::ChatSession session;
  std::string question;
  ChosenChatModel model;
  std::shared_ptr<ChatModel> client;
  ChatRequest request;   // system prompt, history that fits, question
  Evidence evidence;     // what the prompt shows, for the citation check
  nlohmann::json context_ids;  // ContextIds(evidence)
  int64_t prompt_tokens = 0;
  int64_t history_messages = 0;  // earlier messages that fit in the prompt
};

// Prepares a turn of notebook chat over the notebook's context chosen by `selection`. Returns
// kContextLengthExceeded, naming the tokens used and allowed, when the system prompt, the context
// and the question do not fit the model's window. Earlier messages that do not fit are left out of
// the prompt, oldest first.
Result<std::unique_ptr<PreparedTurn>> PrepareNotebookTurn(const ChatDependencies& deps,
                                                          const storage::ChatSession& session, std::string question,
                                                          const std::optional<std::string>& model_override,
                                                          const ContextSelection& selection);

// Prepares a turn of source chat: the source's insights and the chunks that match the question
// best, within the smaller of the source chat budget and what the window leaves.
Result<std::unique_ptr<PreparedTurn>> PrepareSourceTurn(const ChatDependencies& deps,
                                                        const storage::ChatSession& session, std::string question,
                                                        const std::optional<std::string>& model_override);

// Stores the question as a human message; the first question of a session with a generated
// title becomes its title.
Result<storage::ChatMessage> StoreQuestion(storage::Storage& storage, const PreparedTurn& turn);

struct TurnAnswer {
  storage::ChatMessage message;  // the stored AI message
  CitationCheck check;
};

// Sends the prompt, streamed when `on_delta` is set (it receives the answer text as it arrives,
// without a leading reasoning block), and stores the cleaned and checked answer. Errors of the
// provider are returned with its reason; kCancelled when `cancel` fired. Nothing is stored then.
Result<TurnAnswer> AnswerTurn(storage::Storage& storage, const PreparedTurn& turn, const TextDeltaCallback& on_delta,
                              const CancelToken& cancel);

// Passes streamed answer text on to `sink`, holding back a leading reasoning block
// ("<think>...</think>", tags in any case) that StripReasoning removes from the stored answer.
class StreamReasoningFilter {
 public:
  explicit StreamReasoningFilter(const TextDeltaCallback& sink) : sink_(sink) {}
  void Add(std::string_view delta);
  // Passes on text still held when the stream ends undecided: an answer shorter than "<think>"
  // that looked like its beginning. An unclosed reasoning block stays dropped.
  void Finish();

 private:
  enum class State { kUndecided, kReasoning, kPassing };
  void Release(std::string text);

  const TextDeltaCallback& sink_;
  State state_ = State::kUndecided;
  std::string held_;
};

// {"id", "kind", "source_id", "chunk_index", "title"}.
nlohmann::json CitationJson(const Citation& citation);
// {"id", "type", "content", "timestamp", "citations"}; citations only on AI messages.
nlohmann::json ChatMessageJson(const storage::ChatMessage& message);

// A session title from the first question: its first line, at most 60 characters, cut at a word.
std::string TitleFromQuestion(std::string_view question);

}  // namespace on::ai
