#include "ai/chat_context.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "search/tokenizer.h"

namespace on::ai {
namespace {

using nlohmann::json;

// Sources of a notebook are read in pages of this many.
constexpr int kSourcePage = 100;

// Tokens of the "[id] title" line and the blank line around each rendered passage, added to the
// estimate of the passage itself while a budget is filled.
constexpr int64_t kPassageOverheadTokens = 24;

bool Contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string SourceTitle(const storage::Source& source) {
  if (source.title && !source.title->empty()) return *source.title;
  return "Untitled source";
}

void AddInsights(const std::vector<storage::Insight>& insights, const storage::Source& source, Evidence& evidence,
                 json& entry) {
  json list = json::array();
  for (const auto& insight : insights) {
    evidence.Add({insight.id, EvidenceKind::kInsight, source.id, std::nullopt,
                  insight.insight_type + " - " + SourceTitle(source), insight.content});
    list.push_back({{"id", insight.id}, {"insight_type", insight.insight_type}, {"content", insight.content}});
  }
  entry["insights"] = std::move(list);
}

// The source's chunks as evidence. A source without chunks (not processed yet, or its text was
// too short to need any) is shown as a whole from its stored text.
Status AddFullContent(storage::Storage& storage, const storage::Source& source, Evidence& evidence, json& entry) {
  ON_ASSIGN_OR_RETURN(auto chunks, storage.ListSourceChunks(source.id));
  json list = json::array();
  if (chunks.empty()) {
    ON_ASSIGN_OR_RETURN(auto with_text, storage.GetSource(source.id, true));
    const std::string text = with_text.full_text.value_or("");
    evidence.Add({source.id, EvidenceKind::kSource, source.id, std::nullopt, SourceTitle(source), text});
    entry["full_text"] = text;
  }
  for (const auto& chunk : chunks) {
    const std::string id = ChunkCitationId(source.id, chunk.index);
    evidence.Add({id, EvidenceKind::kChunk, source.id, chunk.index, SourceTitle(source), chunk.content});
    list.push_back({{"id", id}, {"index", chunk.index}, {"content", chunk.content}});
  }
  entry["chunks"] = std::move(list);
  return Status::Ok();
}

Result<std::vector<storage::Source>> NotebookSources(storage::Storage& storage, const std::string& notebook_id) {
  std::vector<storage::Source> sources;
  storage::SourceQuery query;
  query.notebook_id = notebook_id;
  query.limit = kSourcePage;
  query.sort = storage::SourceSortField::kCreated;
  query.descending = false;
  for (;;) {
    ON_ASSIGN_OR_RETURN(auto page, storage.ListSources(query));
    const size_t count = page.size();
    for (auto& source : page) sources.push_back(std::move(source));
    if (count < static_cast<size_t>(kSourcePage)) break;
    query.offset += kSourcePage;
  }
  return sources;
}

void Finalize(ChatContext& context) {
  context.rendered = context.evidence.Render();
  context.token_count = static_cast<int64_t>(search::EstimateTokens(context.rendered));
  context.char_count = CountCodePoints(context.rendered);
}

const search::Tokenizer& ChunkTokenizer() {
  static const search::Tokenizer tokenizer;
  return tokenizer;
}

// Scores each chunk by the question's terms it contains, weighted by how rare each term is
// within this source (idf), so a chunk sharing a rare word beats one sharing a common one.
std::vector<double> ScoreChunks(const std::vector<storage::ChunkRecord>& chunks, std::string_view question) {
  std::vector<double> scores(chunks.size(), 0.0);
  const auto query_terms = search::ExtractQueryTerms(question, ChunkTokenizer());
  if (query_terms.empty()) return scores;
  std::unordered_set<std::string> wanted;
  for (const auto& term : query_terms) wanted.insert(term.term);

  std::vector<std::unordered_set<std::string>> found(chunks.size());
  std::unordered_map<std::string, int> document_frequency;
  for (size_t i = 0; i < chunks.size(); ++i) {
    ChunkTokenizer().ForEachToken(chunks[i].content, [&](const search::Token& token) {
      if (wanted.contains(token.term) && found[i].insert(token.term).second) document_frequency[token.term] += 1;
      return true;
    });
  }
  const double total = static_cast<double>(chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    for (const auto& term : found[i]) scores[i] += std::log(1.0 + total / document_frequency[term]);
  }
  return scores;
}

}  // namespace

Result<SourceContextMode> ParseSourceContextMode(std::string_view status, std::string_view field) {
  const std::string lower = Lower(status);
  if (Contains(lower, "not in") || lower == "off") return SourceContextMode::kOff;
  if (Contains(lower, "insights")) return SourceContextMode::kInsights;
  if (Contains(lower, "full content") || lower == "full") return SourceContextMode::kFull;
  return InvalidInput(std::string(field) + " is '" + std::string(status.substr(0, 40)) +
                      "': use \"insights\", \"full content\" or \"not in\"");
}

Result<NoteContextMode> ParseNoteContextMode(std::string_view status, std::string_view field) {
  const std::string lower = Lower(status);
  if (Contains(lower, "not in") || lower == "off") return NoteContextMode::kOff;
  if (Contains(lower, "full content") || lower == "full") return NoteContextMode::kFull;
  return InvalidInput(std::string(field) + " is '" + std::string(status.substr(0, 40)) +
                      "': use \"full content\" or \"not in\"");
}

Result<ChatContext> BuildNotebookContext(storage::Storage& storage, const std::string& notebook_id,
                                         const ContextSelection& selection) {
  ON_RETURN_IF_ERROR(storage.GetNotebook(notebook_id).status());
  ChatContext context;
  json sources = json::array();
  json notes = json::array();

  ON_ASSIGN_OR_RETURN(auto notebook_sources, NotebookSources(storage, notebook_id));
  std::vector<std::pair<const storage::Source*, std::optional<SourceContextMode>>> chosen;
  if (selection.sources) {
    std::unordered_map<std::string, const storage::Source*> by_id;
    for (const auto& source : notebook_sources) by_id[source.id] = &source;
    for (const auto& [id, mode] : *selection.sources) {
      auto found = by_id.find(id);
      if (found == by_id.end() || mode == SourceContextMode::kOff) continue;
      chosen.emplace_back(found->second, mode);
    }
  } else {
    for (const auto& source : notebook_sources) chosen.emplace_back(&source, std::nullopt);
  }

  std::set<std::string> seen;
  for (const auto& [source, requested] : chosen) {
    if (!seen.insert(source->id).second) continue;
    ON_ASSIGN_OR_RETURN(auto insights, storage.ListInsights(source->id));
    const SourceContextMode mode =
        requested.value_or(insights.empty() ? SourceContextMode::kFull : SourceContextMode::kInsights);
    json entry = {{"id", source->id},
                  {"title", SourceTitle(*source)},
                  {"mode", mode == SourceContextMode::kFull ? "full content" : "insights"}};
    AddInsights(insights, *source, context.evidence, entry);
    if (mode == SourceContextMode::kFull) {
      ON_RETURN_IF_ERROR(AddFullContent(storage, *source, context.evidence, entry));
    } else if (insights.empty()) {
      // The title alone tells the model the document exists, and lets it cite the source.
      context.evidence.Add({source->id, EvidenceKind::kSource, source->id, std::nullopt, SourceTitle(*source),
                            "(This source has no insights yet; include its full content to use its text.)"});
    }
    sources.push_back(std::move(entry));
  }

  storage::NoteQuery note_query;
  note_query.notebook_id = notebook_id;
  ON_ASSIGN_OR_RETURN(auto notebook_notes, storage.ListNotes(note_query));
  std::unordered_map<std::string, NoteContextMode> note_modes;
  if (selection.notes) {
    for (const auto& [id, mode] : *selection.notes) note_modes[id] = mode;
  }
  for (const auto& note : notebook_notes) {
    NoteContextMode mode = NoteContextMode::kFull;
    if (selection.notes) {
      auto found = note_modes.find(note.id);
      mode = found == note_modes.end() ? NoteContextMode::kOff : found->second;
    }
    if (mode == NoteContextMode::kOff) continue;
    const std::string title = note.title.value_or("Untitled note");
    context.evidence.Add({note.id, EvidenceKind::kNote, "", std::nullopt, title, note.content});
    notes.push_back({{"id", note.id}, {"title", title}, {"content", note.content}});
  }

  context.context = {{"sources", std::move(sources)}, {"notes", std::move(notes)}};
  Finalize(context);
  return context;
}

Result<SourceChatContext> BuildSourceChatContext(storage::Storage& storage, const storage::Source& source,
                                                 std::string_view question, int64_t token_budget) {
  ON_ASSIGN_OR_RETURN(auto insights, storage.ListInsights(source.id));
  ON_ASSIGN_OR_RETURN(auto chunks, storage.ListSourceChunks(source.id));
  SourceChatContext context;
  context.chunks_total = static_cast<int64_t>(chunks.size());
  const std::string title = SourceTitle(source);

  int64_t used = 0;
  const int64_t insight_budget = chunks.empty() ? token_budget : token_budget / 4;
  std::vector<const storage::Insight*> shown_insights;
  for (const auto& insight : insights) {
    const int64_t cost = static_cast<int64_t>(search::EstimateTokens(insight.content)) + kPassageOverheadTokens;
    if (used + cost > insight_budget) break;
    used += cost;
    shown_insights.push_back(&insight);
  }

  std::vector<int64_t> costs(chunks.size());
  int64_t all_chunks = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    costs[i] = static_cast<int64_t>(search::EstimateTokens(chunks[i].content)) + kPassageOverheadTokens;
    all_chunks += costs[i];
  }
  std::vector<size_t> shown_chunks;
  if (used + all_chunks <= token_budget) {
    for (size_t i = 0; i < chunks.size(); ++i) shown_chunks.push_back(i);
  } else {
    // Best matches first; chunks that match nothing keep document order, so the opening of the
    // document (often its overview) fills what is left.
    const std::vector<double> scores = ScoreChunks(chunks, question);
    std::vector<size_t> order(chunks.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    for (size_t i : order) {
      if (used + costs[i] > token_budget) continue;
      used += costs[i];
      shown_chunks.push_back(i);
    }
    std::sort(shown_chunks.begin(), shown_chunks.end());
  }

  for (const auto* insight : shown_insights) {
    context.evidence.Add({insight->id, EvidenceKind::kInsight, source.id, std::nullopt,
                          insight->insight_type + " - " + title, insight->content});
  }
  for (size_t i : shown_chunks) {
    context.evidence.Add({ChunkCitationId(source.id, chunks[i].index), EvidenceKind::kChunk, source.id,
                          chunks[i].index, title, chunks[i].content});
  }
  if (chunks.empty()) {
    // A source without chunks (still processing, or processed before chunking existed) is shown
    // from its stored text, cut to the budget.
    ON_ASSIGN_OR_RETURN(auto with_text, storage.GetSource(source.id, true));
    std::string text = with_text.full_text.value_or("");
    search::TokenEstimator estimate;
    size_t cut = 0;
    while (cut < text.size()) {
      size_t next = std::min(text.size(), cut + 256);
      while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) ++next;
      search::TokenEstimator trial = estimate;
      trial.Append(std::string_view(text).substr(cut, next - cut));
      if (used + static_cast<int64_t>(trial.total()) > token_budget) break;
      estimate = trial;
      cut = next;
    }
    text.resize(cut);
    context.evidence.Add({source.id, EvidenceKind::kSource, source.id, std::nullopt, title, text});
  }

  context.chunks_shown = static_cast<int64_t>(shown_chunks.size());
  context.rendered = context.evidence.Render();
  context.token_count = static_cast<int64_t>(search::EstimateTokens(context.rendered));
  context.indicators = ContextIds(context.evidence);
  json& shown_sources = context.indicators["sources"];
  if (std::find(shown_sources.begin(), shown_sources.end(), json(source.id)) == shown_sources.end()) {
    shown_sources.push_back(source.id);
  }
  return context;
}

json ContextIds(const Evidence& evidence) {
  json sources = json::array();
  json chunks = json::array();
  json insights = json::array();
  json notes = json::array();
  std::set<std::string> seen_sources;
  for (const auto& item : evidence.items()) {
    switch (item.kind) {
      case EvidenceKind::kChunk: chunks.push_back(item.id); break;
      case EvidenceKind::kInsight: insights.push_back(item.id); break;
      case EvidenceKind::kNote: notes.push_back(item.id); break;
      case EvidenceKind::kSource: break;
    }
    if (!item.source_id.empty() && seen_sources.insert(item.source_id).second) sources.push_back(item.source_id);
  }
  return {{"sources", std::move(sources)}, {"chunks", std::move(chunks)}, {"insights", std::move(insights)},
          {"notes", std::move(notes)}};
}

int64_t CountCodePoints(std::string_view text) {
  int64_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

}  // namespace on::ai
