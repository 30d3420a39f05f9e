// Evidence put in a prompt, and the check of the citations in a model's answer against it.
//
// Chat, source chat and ask give the model passages under ids it can cite ("[chunk:k3x9_4]").
// A model may invent an id, copy one from the chat history or cite a deleted record, so only
// citations of passages in the prompt are returned. The ids have the forms the original's
// frontend parses, plus "chunk:" for one chunk of a source:
//   source:<key>           a source as a whole (its title, insights or full text)
//   chunk:<key>_<index>    chunk <index> of source:<key>
//   note:<key>             a note
//   source_insight:<key>   an insight ("insight:<key>" is accepted in answers and normalised)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace on::ai {

enum class EvidenceKind { kSource, kChunk, kNote, kInsight };

// "source", "chunk", "note" or "insight".
std::string_view EvidenceKindName(EvidenceKind kind);

struct EvidenceItem {
  std::string id;         // the citation id, one of the forms above
  EvidenceKind kind = EvidenceKind::kSource;
  std::string source_id;  // the source a chunk or insight belongs to, the source itself, "" for notes
  std::optional<int64_t> chunk_index;
  std::string title;      // shown to the model and to the user
  std::string text;       // the passage itself
};

// "chunk:<key of source_id>_<chunk_index>".
std::string ChunkCitationId(std::string_view source_id, int64_t chunk_index);

// The passages of one prompt, in the order they are shown to the model.
class Evidence {
 public:
  // Adds `item` unless an item with the same id is there already; returns whether it was added.
  bool Add(EvidenceItem item);
  const std::vector<EvidenceItem>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  const EvidenceItem* Find(std::string_view id) const;

  // The passages as prompt text, one block per item:
  //   [chunk:k3x9_4] Title of the source
  //   text of the passage
  // separated by blank lines. The id comes first so the model reads what to cite.
  std::string Render() const;

 private:
  std::vector<EvidenceItem> items_;
};

// A citation that was checked against the evidence.
struct Citation {
  std::string id;  // as in the evidence
  EvidenceKind kind = EvidenceKind::kSource;
  std::string source_id;
  std::optional<int64_t> chunk_index;
  std::string title;
};

struct CitationCheck {
  std::string answer;                  // the answer with rejected ids removed
  std::vector<Citation> citations;     // valid ones, unique, in order of first appearance
  std::vector<std::string> rejected;   // ids cited that were not in the evidence, unique
};

// Ids written in `answer` in any of the forms above, with or without brackets, in order of
// appearance (repeats kept). "insight:" is returned as "source_insight:".
std::vector<std::string> FindCitedIds(std::string_view answer);

// Keeps the citations of `answer` that name an item of `evidence`. "source:<key>" also counts when
// only chunks or insights of that source were shown, because the model cited the document rather
// than the passage. It then resolves to the first such item. Every other id is rejected and
// removed from the answer text, together with brackets the removal leaves empty.
CitationCheck CheckCitations(std::string_view answer, const Evidence& evidence);

}  // namespace on::ai
