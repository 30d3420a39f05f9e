#include "ai/chat_turn.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "ai/embedding_service.h"
#include "ai/model_config.h"
#include "ai/prompts.h"
#include "ai/reasoning.h"
#include "ai/transformation.h"
#include "search/tokenizer.h"

namespace on::ai {
namespace {

using nlohmann::json;

// Tokens a chat API adds around each message for role markers and separators (an estimate).
constexpr int64_t kMessageOverheadTokens = 4;
constexpr size_t kMaxTitleCharacters = 60;
constexpr std::string_view kOpenTag = "<think>";
constexpr std::string_view kCloseTag = "</think>";

std::string LowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int64_t MessageTokens(const ChatMessage& message) {
  return static_cast<int64_t>(search::EstimateTokens(message.content)) + kMessageOverheadTokens;
}

// Adds the earlier messages of the session that fit in what `allowed` leaves, newest first, so a
// long conversation keeps its latest turns. Returns how many were added.
Result<int64_t> AddHistory(storage::Storage& storage, const std::string& session_id, int64_t allowed,
                           int64_t& prompt_tokens, std::vector<ChatMessage>& messages) {
  ON_ASSIGN_OR_RETURN(auto stored, storage.ListChatMessages(session_id));
  std::vector<ChatMessage> history;
  for (auto it = stored.rbegin(); it != stored.rend(); ++it) {
    ChatMessage message{it->type == "ai" ? "assistant" : "user", it->content};
    const int64_t cost = MessageTokens(message);
    if (prompt_tokens + cost > allowed) break;
    prompt_tokens += cost;
    history.push_back(std::move(message));
  }
  std::reverse(history.begin(), history.end());
  const auto count = static_cast<int64_t>(history.size());
  // The system message stays first and the question last.
  messages.insert(messages.begin() + 1, history.begin(), history.end());
  return count;
}

Status ContextTooLarge(const ChosenChatModel& model, int64_t used) {
  return Status(ErrorCode::kContextLengthExceeded,
                "The chat prompt needs about " + std::to_string(used) + " tokens but model " + model.model_name + " (" +
                    model.model_id + ") allows " + std::to_string(model.allowed_prompt_tokens()) +
                    ": its context window is " + std::to_string(model.context_window) + " tokens, of which " +
                    std::to_string(model.answer_reserve) +
                    " are kept for the answer. Include fewer sources or notes (insights instead of full content), "
                    "or choose a model with a larger context window (the credential's num_ctx or "
                    "OPEN_NOTEBOOK_CONTEXT_WINDOW_TOKENS).");
}

// Assembles system prompt, history and question, and checks the window.
Result<std::unique_ptr<PreparedTurn>> Assemble(const ChatDependencies& deps, std::unique_ptr<PreparedTurn> turn,
                                               std::string system_prompt) {
  turn->request.messages.push_back({"system", std::move(system_prompt)});
  turn->request.messages.push_back({"user", turn->question});
  turn->prompt_tokens = MessageTokens(turn->request.messages.front()) + MessageTokens(turn->request.messages.back());
  const int64_t allowed = turn->model.allowed_prompt_tokens();
  if (turn->prompt_tokens > allowed) return ContextTooLarge(turn->model, turn->prompt_tokens);
  ON_ASSIGN_OR_RETURN(turn->history_messages, AddHistory(deps.storage, turn->session.id, allowed, turn->prompt_tokens,
                                                         turn->request.messages));
  ON_ASSIGN_OR_RETURN(auto client, MakeChatModel(turn->model.config));
  turn->client = std::move(client);
  turn->context_ids = ContextIds(turn->evidence);
  return turn;
}

std::unique_ptr<PreparedTurn> NewTurn(const storage::ChatSession& session, std::string question,
                                      ChosenChatModel model) {
  auto turn = std::make_unique<PreparedTurn>();
  turn->session = session;
  turn->question = std::move(question);
  turn->model = std::move(model);
  return turn;
}

}  // namespace

void StreamReasoningFilter::Finish() {
  if (state_ == State::kUndecided) Release(held_);
}

void StreamReasoningFilter::Add(std::string_view delta) {
  if (state_ == State::kPassing) {
    sink_(delta);
    return;
  }
  held_.append(delta);
  if (state_ == State::kUndecided) {
    const size_t start = held_.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) return;
    const std::string head = LowerAscii(std::string_view(held_).substr(start, kOpenTag.size()));
    if (head.size() < kOpenTag.size() && kOpenTag.starts_with(head)) return;  // may still become "<think>"
    if (head != kOpenTag) {
      Release(held_);
      return;
    }
    state_ = State::kReasoning;
  }
  const size_t close = LowerAscii(held_).find(kCloseTag);
  if (close == std::string::npos) return;
  const std::string rest = held_.substr(close + kCloseTag.size());
  const size_t start = rest.find_first_not_of(" \t\r\n");
  Release(start == std::string::npos ? std::string() : rest.substr(start));
}

void StreamReasoningFilter::Release(std::string text) {
  state_ = State::kPassing;
  held_.clear();
  if (!text.empty()) sink_(text);
}

Result<ChosenChatModel> ChooseChatModel(const ChatDependencies& deps, const std::optional<std::string>& request_override,
                                        const std::optional<std::string>& session_override) {
  ON_ASSIGN_OR_RETURN(LanguageModelSetup setup,
                      ResolveLanguageModel(deps.storage, deps.cipher, deps.env, *deps.settings,
                                           {request_override, session_override}, "default_chat_model"));
  ChosenChatModel chosen;
  chosen.model_id = setup.model_id;
  chosen.model_name = setup.config.model;
  chosen.context_window = setup.context_tokens;
  chosen.answer_reserve = setup.config.max_output_tokens;
  chosen.config = std::move(setup.config);
  return chosen;
}

Result<std::unique_ptr<PreparedTurn>> PrepareNotebookTurn(const ChatDependencies& deps,
                                                          const storage::ChatSession& session, std::string question,
                                                          const std::optional<std::string>& model_override,
                                                          const ContextSelection& selection) {
  if (!session.notebook_id) return InvalidInput("chat session " + session.id + " belongs to a source, not a notebook");
  ON_ASSIGN_OR_RETURN(auto model, ChooseChatModel(deps, model_override, session.model_override));
  ON_ASSIGN_OR_RETURN(auto notebook, deps.storage.GetNotebook(*session.notebook_id));
  ON_ASSIGN_OR_RETURN(ChatContext context, BuildNotebookContext(deps.storage, notebook.id, selection));

  auto turn = NewTurn(session, std::move(question), std::move(model));
  turn->evidence = std::move(context.evidence);
  const std::string context_text =
      context.rendered.empty() ? "(No source or note of this notebook is included in the chat.)" : context.rendered;
  ON_ASSIGN_OR_RETURN(std::string system_prompt,
                      RenderPrompt("chat/system", {{"notebook_name", notebook.name},
                                                   {"notebook_description", notebook.description},
                                                   {"context", context_text}}));
  return Assemble(deps, std::move(turn), std::move(system_prompt));
}

Result<std::unique_ptr<PreparedTurn>> PrepareSourceTurn(const ChatDependencies& deps,
                                                        const storage::ChatSession& session, std::string question,
                                                        const std::optional<std::string>& model_override) {
  if (!session.source_id) return InvalidInput("chat session " + session.id + " belongs to a notebook, not a source");
  ON_ASSIGN_OR_RETURN(auto model, ChooseChatModel(deps, model_override, session.model_override));
  ON_ASSIGN_OR_RETURN(auto source, deps.storage.GetSource(*session.source_id, false));
  const std::string title = source.title && !source.title->empty() ? *source.title : "Untitled source";

  // The source text gets what the window leaves after the prompt's fixed parts, with room for
  // the latest turns of the conversation (a tenth of the window).
  ON_ASSIGN_OR_RETURN(std::string skeleton,
                      RenderPrompt("source_chat/system", {{"source_title", title}, {"coverage", ""}, {"context", ""}}));
  const int64_t fixed = static_cast<int64_t>(search::EstimateTokens(skeleton) + search::EstimateTokens(question)) +
                        2 * kMessageOverheadTokens;
  const int64_t budget = std::min(deps.settings->source_chat_context_tokens,
                                  model.allowed_prompt_tokens() - fixed - model.context_window / 10);
  if (budget <= 0) return ContextTooLarge(model, fixed + model.context_window / 10);
  ON_ASSIGN_OR_RETURN(SourceChatContext context, BuildSourceChatContext(deps.storage, source, question, budget));

  auto turn = NewTurn(session, std::move(question), std::move(model));
  turn->evidence = std::move(context.evidence);
  const std::string coverage =
      context.chunks_shown == context.chunks_total
          ? "here the whole document"
          : std::to_string(context.chunks_shown) + " of its " + std::to_string(context.chunks_total) + " passages";
  ON_ASSIGN_OR_RETURN(std::string system_prompt,
                      RenderPrompt("source_chat/system",
                                   {{"source_title", title}, {"coverage", coverage}, {"context", context.rendered}}));
  return Assemble(deps, std::move(turn), std::move(system_prompt));
}

Result<storage::ChatMessage> StoreQuestion(storage::Storage& storage, const PreparedTurn& turn) {
  storage::ChatMessage message;
  message.session_id = turn.session.id;
  message.type = "human";
  message.content = turn.question;
  std::optional<std::string> title;
  if (turn.session.auto_title) title = TitleFromQuestion(turn.question);
  return storage.AddChatMessage(message, title);
}

Result<TurnAnswer> AnswerTurn(storage::Storage& storage, const PreparedTurn& turn, const TextDeltaCallback& on_delta,
                              const CancelToken& cancel) {
  Result<ChatResult> result = Status(ErrorCode::kInternal, "no call was made");
  if (on_delta) {
    StreamReasoningFilter filter(on_delta);
    result = turn.client->Stream(turn.request, [&](std::string_view delta) { filter.Add(delta); }, cancel);
    if (result.ok()) filter.Finish();
  } else {
    result = turn.client->Complete(turn.request, cancel);
  }
  if (!result.ok()) {
    if (result.status().code() == ErrorCode::kCancelled) {
      spdlog::info("chat response in session {} cancelled: the client went away", turn.session.id);
    } else {
      spdlog::warn("chat response in session {} failed with model {}: {}", turn.session.id, turn.model.model_id,
                   result.status().ToString());
    }
    return result.status();
  }

  const std::string answer = StripReasoning(result->text);
  if (answer.empty()) {
    return Status(ErrorCode::kUpstream, "model " + turn.model.model_name +
                                            " returned only reasoning and no answer; ask again or choose another model");
  }
  TurnAnswer out;
  out.check = CheckCitations(answer, turn.evidence);
  if (!out.check.rejected.empty()) {
    spdlog::info("chat answer in {} cited {} ids that were not in its prompt; they were removed", turn.session.id,
                 out.check.rejected.size());
  }
  json citations = json::array();
  for (const auto& citation : out.check.citations) citations.push_back(CitationJson(citation));

  storage::ChatMessage message;
  message.session_id = turn.session.id;
  message.type = "ai";
  message.content = out.check.answer;
  message.citations_json = citations.dump();
  message.context_json = turn.context_ids.dump();
  message.model_id = turn.model.model_id;
  ON_ASSIGN_OR_RETURN(out.message, storage.AddChatMessage(message, std::nullopt));
  return out;
}

json CitationJson(const Citation& citation) {
  return {{"id", citation.id},
          {"kind", EvidenceKindName(citation.kind)},
          {"source_id", citation.source_id.empty() ? json(nullptr) : json(citation.source_id)},
          {"chunk_index", citation.chunk_index ? json(*citation.chunk_index) : json(nullptr)},
          {"title", citation.title}};
}

json ChatMessageJson(const storage::ChatMessage& message) {
  json out = {{"id", message.id}, {"type", message.type}, {"content", message.content}, {"timestamp", message.created}};
  if (message.type == "ai") {
    json citations = json::parse(message.citations_json, nullptr, false);
    out["citations"] = citations.is_array() ? citations : json::array();
  }
  return out;
}

std::string TitleFromQuestion(std::string_view question) {
  const size_t start = question.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return "Chat";
  std::string_view line = question.substr(start);
  line = line.substr(0, line.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) line.remove_suffix(1);

  // Cut at a code point boundary after kMaxTitleCharacters characters, then back to a space.
  size_t characters = 0;
  size_t end = 0;
  while (end < line.size()) {
    if ((static_cast<unsigned char>(line[end]) & 0xC0) != 0x80) {
      if (characters == kMaxTitleCharacters) break;
      ++characters;
    }
    ++end;
  }
  if (end == line.size()) return std::string(line);
  const size_t space = line.substr(0, end).rfind(' ');
  if (space != std::string_view::npos && space > end / 2) end = space;
  return std::string(line.substr(0, end)) + "...";
}

}  // namespace on::ai
