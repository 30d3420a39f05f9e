#include "ai/citations.h"

#include <array>
#include <unordered_set>
#include <utility>

namespace on::ai {
namespace {

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Maximum key length worth reading: a record key (64) plus "_" and a chunk index.
constexpr size_t kMaxCitedKeyLength = 96;

struct CitedSpan {
  size_t begin = 0;
  size_t end = 0;
  std::string id;  // normalised
};

std::vector<CitedSpan> FindSpans(std::string_view text) {
  // Longer prefixes first: "source_insight:" must win over "source".
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kPrefixes = {{
      {"source_insight:", "source_insight:"},
      {"insight:", "source_insight:"},
      {"source:", "source:"},
      {"chunk:", "chunk:"},
      {"note:", "note:"},
  }};
  std::vector<CitedSpan> spans;
  size_t i = 0;
  while (i < text.size()) {
    // An id starts at a word boundary, so "xsource:a" and "a:note:b" are not ids.
    bool boundary = i == 0 || (!IsKeyChar(text[i - 1]) && text[i - 1] != ':');
    bool matched = false;
    if (boundary) {
      for (const auto& [prefix, normalised] : kPrefixes) {
        if (text.substr(i, prefix.size()) != prefix) continue;
        size_t key_begin = i + prefix.size();
        size_t key_end = key_begin;
        while (key_end < text.size() && IsKeyChar(text[key_end])) ++key_end;
        if (key_end == key_begin || key_end - key_begin > kMaxCitedKeyLength) break;
        std::string id(normalised);
        id.append(text.substr(key_begin, key_end - key_begin));
        spans.push_back({i, key_end, std::move(id)});
        i = key_end;
        matched = true;
        break;
      }
    }
    if (!matched) ++i;
  }
  return spans;
}

// Removes brackets that hold nothing but spaces and commas, with one space before them.
std::string DropEmptyBrackets(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '[') {
      size_t j = i + 1;
      while (j < text.size() && (text[j] == ' ' || text[j] == ',')) ++j;
      if (j < text.size() && text[j] == ']') {
        if (!out.empty() && out.back() == ' ') out.pop_back();
        i = j + 1;
        continue;
      }
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

}  // namespace

std::string_view EvidenceKindName(EvidenceKind kind) {
  switch (kind) {
    case EvidenceKind::kSource: return "source";
    case EvidenceKind::kChunk: return "chunk";
    case EvidenceKind::kNote: return "note";
    case EvidenceKind::kInsight: return "insight";
  }
  return "source";
}

std::string ChunkCitationId(std::string_view source_id, int64_t chunk_index) {
  std::string_view key = source_id;
  if (size_t colon = key.find(':'); colon != std::string_view::npos) key.remove_prefix(colon + 1);
  std::string id = "chunk:";
  id.append(key);
  id += '_';
  id += std::to_string(chunk_index);
  return id;
}

bool Evidence::Add(EvidenceItem item) {
  if (Find(item.id) != nullptr) return false;
  items_.push_back(std::move(item));
  return true;
}

const EvidenceItem* Evidence::Find(std::string_view id) const {
  for (const EvidenceItem& item : items_) {
    if (item.id == id) return &item;
  }
  return nullptr;
}

std::string Evidence::Render() const {
  std::string out;
  for (const EvidenceItem& item : items_) {
    if (!out.empty()) out += "\n\n";
    out += '[';
    out += item.id;
    out += ']';
    if (!item.title.empty()) {
      out += ' ';
      out += item.title;
    }
    out += '\n';
    out += item.text;
  }
  return out;
}

std::vector<std::string> FindCitedIds(std::string_view answer) {
  std::vector<std::string> ids;
  for (CitedSpan& span : FindSpans(answer)) ids.push_back(std::move(span.id));
  return ids;
}

CitationCheck CheckCitations(std::string_view answer, const Evidence& evidence) {
  CitationCheck check;
  std::unordered_set<std::string> cited;
  std::unordered_set<std::string> rejected;
  std::string text;
  text.reserve(answer.size());
  size_t copied = 0;
  for (const CitedSpan& span : FindSpans(answer)) {
    const EvidenceItem* item = evidence.Find(span.id);
    if (item == nullptr && span.id.starts_with("source:")) {
      for (const EvidenceItem& candidate : evidence.items()) {
        if (candidate.source_id == span.id) {
          item = &candidate;
          break;
        }
      }
    }
    if (item != nullptr) {
      if (cited.insert(item->id).second) {
        check.citations.push_back({item->id, item->kind, item->source_id, item->chunk_index, item->title});
      }
      continue;
    }
    if (rejected.insert(span.id).second) check.rejected.push_back(span.id);
    // Cut the id together with one list separator next to it: "[a, bad]" becomes "[a]".
    text.append(answer.substr(copied, span.begin - copied));
    size_t end = span.end;
    size_t after = end;
    while (after < answer.size() && answer[after] == ' ') ++after;
    if (after < answer.size() && answer[after] == ',') {
      end = after + 1;
      while (end < answer.size() && answer[end] == ' ') ++end;
    } else {
      size_t keep = text.size();
      while (keep > 0 && text[keep - 1] == ' ') --keep;
      if (keep > 0 && text[keep - 1] == ',') text.resize(keep - 1);
    }
    copied = end;
  }
  text.append(answer.substr(copied));
  check.answer = check.rejected.empty() ? std::string(answer) : DropEmptyBrackets(text);
  return check;
}

}  // namespace on::ai
