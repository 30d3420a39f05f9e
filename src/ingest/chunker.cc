// Recursive chunking: the text is first cut into atoms that each fit a chunk, preferring
// coarse boundaries (paragraphs before lines before sentences...), then consecutive atoms are
// packed into chunks. Token counts come from search::TokenEstimator, whose piecewise sums are
// exact, so a chunk is known to fit before it is emitted.
#include "ingest/chunker.h"

#include <algorithm>
#include <cmath>
#include <unicode/utf8.h>

#include "search/tokenizer.h"

namespace on::ingest {
namespace {

using search::EstimateTokens;
using search::TokenEstimator;

constexpr size_t kNoPosition = static_cast<size_t>(-1);
// The overlap is searched for in at most this many bytes per overlap token before the chunk end.
constexpr size_t kOverlapSearchBytesPerToken = 32;

struct Budget {
  size_t target = 0;      // chunk size the packer aims for
  size_t overlap = 0;     // tokens repeated from the previous chunk
  size_t atom_limit = 0;  // largest atom, so overlap + atom fits the target
  size_t min_chunk = 0;
  size_t max = 0;
};

struct Range {
  size_t begin = 0;
  size_t end = 0;
};

// Boundary kinds from coarsest to finest.
enum class Level { kParagraph, kLine, kSentence, kClause, kWord, kCharacter };

// A piece of text that the packer places whole, unless it splits it to fill a chunk.
struct Atom {
  size_t begin = 0;
  size_t end = 0;
  bool section_start = false;       // the atom begins with a heading line
  Level level = Level::kCharacter;  // coarsest boundary kind the atom may still contain
};

Level Finer(Level level) { return static_cast<Level>(static_cast<int>(level) + 1); }

std::string_view Slice(std::string_view text, size_t begin, size_t end) {
  return text.substr(begin, end - begin);
}

size_t Estimate(std::string_view text, size_t begin, size_t end) {
  return EstimateTokens(Slice(text, begin, end));
}

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

Result<Budget> ResolveBudget(const ChunkOptions& options) {
  if (options.chunk_size_tokens < kMinChunkSizeTokens) {
    return InvalidInput("chunk_size_tokens is " + std::to_string(options.chunk_size_tokens) +
                        "; use at least " + std::to_string(kMinChunkSizeTokens));
  }
  if (options.max_tokens < kMinChunkSizeTokens) {
    return InvalidInput("max_tokens is " + std::to_string(options.max_tokens) +
                        "; use at least " + std::to_string(kMinChunkSizeTokens));
  }
  if (!(options.overlap_ratio >= 0.0 && options.overlap_ratio <= 0.5)) {
    return InvalidInput("overlap_ratio is " + std::to_string(options.overlap_ratio) +
                        "; use a value from 0 to 0.5");
  }
  Budget budget;
  budget.target = std::min(options.chunk_size_tokens, options.max_tokens);
  budget.max = options.max_tokens;
  budget.overlap = options.overlap_tokens.value_or(static_cast<size_t>(
      std::lround(options.overlap_ratio * static_cast<double>(budget.target))));
  if (budget.overlap > budget.target / 2) {
    return InvalidInput("overlap of " + std::to_string(budget.overlap) +
                        " tokens exceeds half of the chunk size " + std::to_string(budget.target) +
                        "; lower overlap_tokens");
  }
  if (options.min_chunk_tokens > budget.target / 2) {
    return InvalidInput("min_chunk_tokens is " + std::to_string(options.min_chunk_tokens) +
                        "; use at most half of the chunk size " + std::to_string(budget.target));
  }
  budget.min_chunk = options.min_chunk_tokens;
  budget.atom_limit = budget.target - budget.overlap;
  return budget;
}

// --- Headings ---------------------------------------------------------------------------------

// True when the line starting at `pos` is a Markdown ATX heading ("## Methods") or starts with
// an HTML heading tag ("<h2>", "<H3 class=...>").
bool IsHeadingLine(std::string_view text, size_t pos) {
  size_t i = pos;
  while (i < text.size() && i - pos < 3 && text[i] == ' ') ++i;  // Markdown allows 3 spaces
  if (i < text.size() && text[i] == '#') {
    const size_t hashes_begin = i;
    while (i < text.size() && text[i] == '#') ++i;
    const bool ends_marker = i == text.size() || IsAsciiSpace(text[i]);
    return i - hashes_begin <= 6 && ends_marker;
  }
  if (i + 2 < text.size() && text[i] == '<' && (text[i + 1] == 'h' || text[i + 1] == 'H') &&
      text[i + 2] >= '1' && text[i + 2] <= '6') {
    const size_t after = i + 3;
    return after == text.size() || text[after] == '>' || text[after] == ' ';
  }
  return false;
}

// Returns the start of every section: 0 and each heading line after the first line.
std::vector<size_t> SectionStarts(std::string_view text) {
  std::vector<size_t> starts = {0};
  for (size_t newline = text.find('\n'); newline != std::string_view::npos;
       newline = text.find('\n', newline + 1)) {
    if (newline + 1 < text.size() && IsHeadingLine(text, newline + 1)) {
      starts.push_back(newline + 1);
    }
  }
  return starts;
}

// --- Boundaries -------------------------------------------------------------------------------

// Returns the position after the UTF-8 unit at `pos`, decoding as search::TokenEstimator does:
// a valid sequence, or one byte of an invalid one.
size_t NextUnit(std::string_view text, size_t pos, size_t end) {
  const int32_t length = static_cast<int32_t>(std::min<size_t>(end - pos, 4));
  int32_t i = 0;
  UChar32 c;
  U8_NEXT(text.data() + pos, i, length, c);
  (void)c;
  return pos + static_cast<size_t>(i);
}

bool MatchesAt(std::string_view text, size_t pos, size_t end, std::string_view pattern) {
  return end - pos >= pattern.size() && text.compare(pos, pattern.size(), pattern) == 0;
}

// Full-width punctuation that ends a sentence or clause without a following space.
constexpr std::string_view kCjkSentenceEnds[] = {"\u3002", "\uFF01", "\uFF1F", "\uFF0E"};
constexpr std::string_view kCjkClauseEnds[] = {"\uFF0C", "\u3001", "\uFF1B", "\uFF1A"};

// Cut points after ASCII punctuation from `marks` that is followed (possibly after closing
// quotes or brackets) by whitespace, and after any of the `cjk_marks`. A cut lands after the
// whitespace, so hard-wrapped text ending a sentence at a line end is cut there too.
void PunctuationCuts(std::string_view text, Range range, std::string_view marks,
                     std::span<const std::string_view> cjk_marks, std::vector<size_t>& cuts) {
  size_t i = range.begin;
  while (i < range.end) {
    if (marks.find(text[i]) != std::string_view::npos) {
      size_t j = i + 1;
      constexpr std::string_view kClosers = "\"')]";
      while (j < range.end && kClosers.find(text[j]) != std::string_view::npos) ++j;
      size_t k = j;
      while (k < range.end && IsAsciiSpace(text[k])) ++k;
      if (k > j && k < range.end) cuts.push_back(k);
      i = std::max(k, i + 1);
      continue;
    }
    bool matched = false;
    for (std::string_view mark : cjk_marks) {
      if (MatchesAt(text, i, range.end, mark)) {
        i += mark.size();
        if (i < range.end) cuts.push_back(i);
        matched = true;
        break;
      }
    }
    if (!matched) ++i;
  }
}

// Returns the cut points of `level` strictly inside `range`, ascending. Every cut point is at
// the start of a UTF-8 unit.
std::vector<size_t> CutPoints(std::string_view text, Range range, Level level) {
  std::vector<size_t> cuts;
  switch (level) {
    case Level::kParagraph:
    case Level::kLine:
      for (size_t i = range.begin; i < range.end; ++i) {
        if (text[i] != '\n') continue;
        // Extend over the whitespace after the newline; a paragraph break has two newlines.
        size_t run_end = i + 1;
        int newlines = 1;
        while (run_end < range.end && IsAsciiSpace(text[run_end])) {
          if (text[run_end] == '\n') ++newlines;
          ++run_end;
        }
        const bool is_cut = level == Level::kLine || newlines >= 2;
        if (is_cut && run_end < range.end) cuts.push_back(run_end);
        i = run_end - 1;
      }
      break;
    case Level::kSentence:
      PunctuationCuts(text, range, ".!?", kCjkSentenceEnds, cuts);
      break;
    case Level::kClause:
      PunctuationCuts(text, range, ",;:", kCjkClauseEnds, cuts);
      break;
    case Level::kWord:
      for (size_t i = range.begin; i < range.end; ++i) {
        if (!IsAsciiSpace(text[i])) continue;
        while (i < range.end && IsAsciiSpace(text[i])) ++i;
        if (i < range.end) cuts.push_back(i);
      }
      break;
    case Level::kCharacter:
      for (size_t i = NextUnit(text, range.begin, range.end); i < range.end;
           i = NextUnit(text, i, range.end)) {
        cuts.push_back(i);
      }
      break;
  }
  return cuts;
}

// --- Atoms ------------------------------------------------------------------------------------

// Appends slices of `range` of at most `limit` tokens, cut between UTF-8 units. A single unit
// costs at most 2 tokens, and limit is at least kMinChunkSizeTokens minus the overlap.
void SplitByCharacters(std::string_view text, Range range, size_t limit, std::vector<Atom>& atoms) {
  TokenEstimator slice_estimate;
  size_t slice_begin = range.begin;
  for (size_t i = range.begin; i < range.end;) {
    const size_t next = NextUnit(text, i, range.end);
    TokenEstimator extended = slice_estimate;
    extended.Append(Slice(text, i, next));
    if (extended.total() > limit && i > slice_begin) {
      atoms.push_back({slice_begin, i, false, Level::kCharacter});
      slice_begin = i;
      extended = TokenEstimator();
      extended.Append(Slice(text, i, next));
    }
    slice_estimate = extended;
    i = next;
  }
  if (slice_begin < range.end) atoms.push_back({slice_begin, range.end, false, Level::kCharacter});
}

// Appends atoms of at most `limit` tokens covering `range`, cutting at `level` boundaries and
// going finer only for pieces that are still too large.
void SplitIntoAtoms(std::string_view text, Range range, Level level, size_t limit,
                    std::vector<Atom>& atoms) {
  if (range.begin >= range.end) return;
  if (Estimate(text, range.begin, range.end) <= limit) {
    atoms.push_back({range.begin, range.end, false, level});
    return;
  }
  if (level == Level::kCharacter) {
    SplitByCharacters(text, range, limit, atoms);
    return;
  }
  size_t piece_begin = range.begin;
  for (size_t cut : CutPoints(text, range, level)) {
    SplitIntoAtoms(text, {piece_begin, cut}, Finer(level), limit, atoms);
    piece_begin = cut;
  }
  SplitIntoAtoms(text, {piece_begin, range.end}, Finer(level), limit, atoms);
}

std::vector<Atom> MakeAtoms(std::string_view text, size_t limit) {
  std::vector<Atom> atoms;
  const std::vector<size_t> starts = SectionStarts(text);
  for (size_t i = 0; i < starts.size(); ++i) {
    const size_t section_end = i + 1 < starts.size() ? starts[i + 1] : text.size();
    const size_t first_atom = atoms.size();
    SplitIntoAtoms(text, {starts[i], section_end}, Level::kParagraph, limit, atoms);
    if (i > 0 && first_atom < atoms.size()) atoms[first_atom].section_start = true;
  }
  return atoms;
}

// Splits `atom` at the coarsest boundary kind it contains. Returns the atom alone when it is a
// single UTF-8 unit.
std::vector<Atom> SplitAtom(std::string_view text, const Atom& atom) {
  for (Level level = atom.level;; level = Finer(level)) {
    const std::vector<size_t> cuts = CutPoints(text, {atom.begin, atom.end}, level);
    if (!cuts.empty()) {
      const Level piece_level = level == Level::kCharacter ? level : Finer(level);
      std::vector<Atom> pieces;
      size_t piece_begin = atom.begin;
      for (size_t cut : cuts) {
        pieces.push_back({piece_begin, cut, false, piece_level});
        piece_begin = cut;
      }
      pieces.push_back({piece_begin, atom.end, false, piece_level});
      pieces.front().section_start = atom.section_start;
      return pieces;
    }
    if (level == Level::kCharacter) return {atom};
  }
}

// --- Packing ----------------------------------------------------------------------------------

// Returns where the overlap copied from the end of `chunk` begins: the earliest paragraph,
// sentence, word or character boundary (in that order of preference) whose tail fits `overlap`
// tokens. A coarser boundary is taken only when its tail has at least a third of the overlap.
// Line breaks are not used because hard-wrapped text breaks lines inside sentences. Returns
// chunk.end when no boundary fits.
size_t OverlapBegin(std::string_view text, Range chunk, size_t overlap) {
  while (chunk.end > chunk.begin && IsAsciiSpace(text[chunk.end - 1])) --chunk.end;
  if (overlap == 0 || chunk.end - chunk.begin < 2) return chunk.end;
  const size_t search_bytes = overlap * kOverlapSearchBytesPerToken;
  Range window{chunk.end - std::min(chunk.end - chunk.begin, search_bytes), chunk.end};
  while (window.begin < window.end && IsContinuationByte(text[window.begin])) ++window.begin;

  size_t best = chunk.end;
  size_t best_tokens = 0;
  for (Level level : {Level::kParagraph, Level::kSentence, Level::kWord, Level::kCharacter}) {
    const std::vector<size_t> cuts = CutPoints(text, window, level);
    // The tail shrinks as the cut moves right, so the first fitting cut gives the longest tail.
    const auto fitting = std::partition_point(cuts.begin(), cuts.end(), [&](size_t cut) {
      return Estimate(text, cut, chunk.end) > overlap;
    });
    if (fitting == cuts.end()) continue;
    const size_t tokens = Estimate(text, *fitting, chunk.end);
    if (tokens * 3 >= overlap) return *fitting;
    if (tokens > best_tokens) {
      best = *fitting;
      best_tokens = tokens;
    }
  }
  return best;
}

// Packs consecutive atoms into chunks of at most budget.target tokens. Chunks after the first
// start with an overlap copied from the previous one, except after a heading break. An atom
// that does not fit into a chunk holding less than a quarter of the target is split to fill it,
// so only chunks before a heading or at the end of the text hold less than that. A higher fill
// threshold would cut more paragraphs and leave short section tails in front of headings.
std::vector<Range> PackAtoms(std::string_view text, const std::vector<Atom>& atoms,
                             const Budget& budget) {
  std::vector<Range> chunks;
  Range chunk{kNoPosition, kNoPosition};
  TokenEstimator chunk_estimate;
  TokenEstimator fresh_estimate;  // the part of the chunk after its overlap

  auto start_chunk = [&](size_t begin, const Atom& atom) {
    chunk = {begin, atom.end};
    chunk_estimate = TokenEstimator();
    chunk_estimate.Append(Slice(text, begin, atom.end));
    fresh_estimate = TokenEstimator();
    fresh_estimate.Append(Slice(text, atom.begin, atom.end));
  };

  // Atoms still to place, the next one last.
  std::vector<Atom> pending(atoms.rbegin(), atoms.rend());
  while (!pending.empty()) {
    const Atom atom = pending.back();
    pending.pop_back();
    const std::string_view atom_text = Slice(text, atom.begin, atom.end);
    if (chunk.begin == kNoPosition) {
      start_chunk(atom.begin, atom);
      continue;
    }
    if (atom.section_start && fresh_estimate.total() >= budget.target / 4) {
      chunks.push_back(chunk);
      start_chunk(atom.begin, atom);
      continue;
    }
    TokenEstimator extended = chunk_estimate;
    extended.Append(atom_text);
    if (extended.total() <= budget.target) {
      chunk_estimate = extended;
      fresh_estimate.Append(atom_text);
      chunk.end = atom.end;
      continue;
    }
    if (fresh_estimate.total() < budget.target / 4) {
      std::vector<Atom> pieces = SplitAtom(text, atom);
      if (pieces.size() > 1) {
        pending.insert(pending.end(), pieces.rbegin(), pieces.rend());
        continue;
      }
    }
    chunks.push_back(chunk);
    const size_t overlap_begin = OverlapBegin(text, chunk, budget.overlap);
    start_chunk(overlap_begin, atom);
    // The estimate of the joined text can exceed the sum of its parts: drop the overlap then.
    if (chunk_estimate.total() > budget.target) start_chunk(atom.begin, atom);
  }
  if (chunk.begin != kNoPosition) chunks.push_back(chunk);
  return chunks;
}

// --- Finishing --------------------------------------------------------------------------------

Range TrimWhitespace(std::string_view text, Range range) {
  while (range.begin < range.end && IsAsciiSpace(text[range.begin])) ++range.begin;
  while (range.end > range.begin && IsAsciiSpace(text[range.end - 1])) --range.end;
  return range;
}

// Trims every chunk and drops empty ones and ones inside the previous chunk (an overlap
// followed only by whitespace).
std::vector<Range> TrimChunks(std::string_view text, const std::vector<Range>& chunks) {
  std::vector<Range> trimmed;
  for (Range chunk : chunks) {
    chunk = TrimWhitespace(text, chunk);
    if (chunk.begin == chunk.end) continue;
    const bool inside_previous = !trimmed.empty() && chunk.begin >= trimmed.back().begin &&
                                 chunk.end <= trimmed.back().end;
    if (inside_previous) continue;
    trimmed.push_back(chunk);
  }
  return trimmed;
}

// Merges chunks below budget.min_chunk into the previous chunk (or, for the first chunk, the
// next one) when the merged chunk stays within budget.max.
std::vector<Range> MergeSmallChunks(std::string_view text, std::vector<Range> chunks,
                                    const Budget& budget) {
  std::vector<Range> merged;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const Range chunk = chunks[i];
    if (chunks.size() > 1 && Estimate(text, chunk.begin, chunk.end) < budget.min_chunk) {
      if (!merged.empty() && Estimate(text, merged.back().begin, chunk.end) <= budget.max) {
        merged.back().end = chunk.end;
        continue;
      }
      if (merged.empty() && i + 1 < chunks.size() &&
          Estimate(text, chunk.begin, chunks[i + 1].end) <= budget.max) {
        chunks[i + 1].begin = chunk.begin;
        continue;
      }
    }
    merged.push_back(chunk);
  }
  return merged;
}

// Returns the page of the span containing `pos`, else of the next span, else of the last one.
int PageAt(const std::vector<PageSpan>& sorted_pages, size_t pos) {
  if (sorted_pages.empty()) return 0;
  const auto after = std::upper_bound(
      sorted_pages.begin(), sorted_pages.end(), pos,
      [](size_t position, const PageSpan& span) { return position < span.begin; });
  if (after == sorted_pages.begin()) return after->page;
  const PageSpan& containing = *(after - 1);
  if (pos < containing.end || after == sorted_pages.end()) return containing.page;
  return after->page;
}

}  // namespace

Result<std::vector<Chunk>> ChunkText(std::string_view text, const ChunkOptions& options,
                                     std::span<const PageSpan> pages) {
  ON_ASSIGN_OR_RETURN(const Budget budget, ResolveBudget(options));

  const std::vector<Atom> atoms = MakeAtoms(text, budget.atom_limit);
  const std::vector<Range> ranges =
      MergeSmallChunks(text, TrimChunks(text, PackAtoms(text, atoms, budget)), budget);

  std::vector<PageSpan> sorted_pages(pages.begin(), pages.end());
  std::sort(sorted_pages.begin(), sorted_pages.end(),
            [](const PageSpan& a, const PageSpan& b) { return a.begin < b.begin; });

  std::vector<Chunk> chunks;
  chunks.reserve(ranges.size());
  for (const Range& range : ranges) {
    Chunk chunk;
    chunk.index = chunks.size();
    chunk.begin = range.begin;
    chunk.end = range.end;
    chunk.page = PageAt(sorted_pages, range.begin);
    chunk.content = std::string(Slice(text, range.begin, range.end));
    chunk.token_estimate = EstimateTokens(chunk.content);
    chunks.push_back(std::move(chunk));
  }
  return chunks;
}

}  // namespace on::ingest
