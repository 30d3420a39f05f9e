#include "fake_provider/text_model.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

namespace on::fake {
namespace {

const std::set<std::string, std::less<>>& StopWords() {
  static const std::set<std::string, std::less<>> words = {
      "a",     "an",    "and",   "are",  "as",    "at",    "be",    "by",    "can",   "do",    "does",
      "for",   "from",  "how",   "i",    "if",    "in",    "is",    "it",    "its",   "me",    "my",
      "no",    "not",   "of",    "on",   "or",    "so",    "than",  "that",  "the",   "their", "them",
      "then",  "there", "these", "they", "this",  "to",    "was",   "we",    "were",  "what",  "when",
      "where", "which", "who",   "why",  "will",  "with",  "would", "you",   "your",  "should", "could",
      "about", "into",  "has",   "have", "had",   "been",  "being", "any",   "all",   "some",  "our"};
  return words;
}

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// Lower-cased words of `text`, stop words removed when asked, no stemming.
std::vector<std::string> RawWords(std::string_view text, bool drop_stop_words) {
  std::vector<std::string> words;
  std::string current;
  auto flush = [&] {
    if (!current.empty() && !(drop_stop_words && StopWords().contains(current))) words.push_back(current);
    current.clear();
  };
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (IsWordByte(byte)) {
      current.push_back(byte < 0x80 ? static_cast<char>(std::tolower(byte)) : c);
    } else {
      flush();
    }
  }
  flush();
  return words;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Strips one common English suffix when at least three characters remain.
std::string Stem(std::string word) {
  for (const std::string_view suffix : {"ing", "ies", "es", "ed", "ly", "s"}) {
    if (EndsWith(word, suffix) && word.size() >= suffix.size() + 3) {
      word.resize(word.size() - suffix.size());
      if (suffix == "ies") word += "y";
      break;
    }
  }
  return word;
}

uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 1469598103934665603ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

// An id such as "source:abc" found in a message, with the text that follows it.
struct IdMention {
  std::string id;
  std::string passage;
  std::size_t order = 0;
};

const std::regex& IdPattern() {
  static const std::regex pattern(
      R"(\b(source_insight|source_chunk|source_embedding|source|note|insight|chunk):[A-Za-z0-9_\-]+)");
  return pattern;
}

// The question inside the last user message, and where it starts in that message.
struct Question {
  std::string text;
  std::size_t message_index = 0;
  std::size_t offset = 0;
};

std::optional<Question> FindQuestion(const std::vector<Message>& messages) {
  for (std::size_t i = messages.size(); i-- > 0;) {
    if (messages[i].role != "user") continue;
    const std::string& text = messages[i].text;
    if (!std::regex_search(text, IdPattern())) return Question{text, i, text.size()};

    // The message carries context as well: the question is the last "Question:" line, or else
    // the last paragraph without an id.
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    const std::size_t marker = lower.rfind("question:");
    if (marker != std::string::npos) {
      const std::size_t start = marker + 9;
      const std::size_t end = text.find('\n', start);
      return Question{text.substr(start, end == std::string::npos ? std::string::npos : end - start), i, marker};
    }
    std::size_t end = text.size();
    while (end > 0) {
      const std::size_t gap = text.rfind("\n\n", end - 1);
      const std::size_t start = gap == std::string::npos ? 0 : gap + 2;
      const std::string paragraph = text.substr(start, end - start);
      if (!RawWords(paragraph, true).empty() && !std::regex_search(paragraph, IdPattern())) {
        return Question{paragraph, i, start};
      }
      if (gap == std::string::npos) break;
      end = gap;
    }
    return Question{text, i, text.size()};
  }
  return std::nullopt;
}

std::vector<IdMention> FindMentions(const std::vector<Message>& messages, const Question& question) {
  constexpr std::size_t kMaxPassageBytes = 1500;
  std::vector<IdMention> mentions;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].role == "assistant") continue;  // earlier answers cite ids, they are not evidence
    const std::string& text = messages[i].text;
    std::vector<std::pair<std::size_t, std::size_t>> spans;  // id start, id end
    for (auto it = std::sregex_iterator(text.begin(), text.end(), IdPattern()); it != std::sregex_iterator(); ++it) {
      spans.emplace_back(static_cast<std::size_t>(it->position()), static_cast<std::size_t>(it->position() + it->length()));
    }
    for (std::size_t k = 0; k < spans.size(); ++k) {
      std::size_t end = k + 1 < spans.size() ? spans[k + 1].first : text.size();
      if (i == question.message_index && question.offset >= spans[k].second) end = std::min(end, question.offset);
      end = std::min(end, spans[k].second + kMaxPassageBytes);
      const std::size_t start = spans[k].second;
      mentions.push_back({text.substr(spans[k].first, spans[k].second - spans[k].first),
                          start < end ? text.substr(start, end - start) : std::string(), mentions.size()});
    }
  }
  return mentions;
}

std::set<std::string> StemSet(std::string_view text) {
  const std::vector<std::string> tokens = WordTokens(text, true);
  return {tokens.begin(), tokens.end()};
}

std::size_t Overlap(const std::set<std::string>& left, const std::set<std::string>& right) {
  std::size_t count = 0;
  for (const std::string& word : left) count += right.contains(word) ? 1 : 0;
  return count;
}

// The sentence of `passage` sharing the most words with the question, cleaned of JSON punctuation.
std::string BestSentence(std::string_view passage, const std::set<std::string>& question_words) {
  std::string best;
  std::size_t best_score = 0;
  std::size_t start = 0;
  while (start < passage.size()) {
    std::size_t end = passage.find_first_of(".!?\n", start);
    if (end == std::string_view::npos) end = passage.size();
    std::string sentence(passage.substr(start, end - start));
    const std::size_t score = Overlap(question_words, StemSet(sentence));
    if (score > best_score) {
      best_score = score;
      best = sentence;
    }
    start = end + 1;
  }
  const auto is_junk = [](unsigned char c) { return std::isspace(c) || std::string_view("\"{}[],:#-*|").find(static_cast<char>(c)) != std::string_view::npos; };
  while (!best.empty() && is_junk(static_cast<unsigned char>(best.front()))) best.erase(best.begin());
  while (!best.empty() && is_junk(static_cast<unsigned char>(best.back()))) best.pop_back();
  constexpr std::size_t kMaxSentenceBytes = 240;
  if (best.size() > kMaxSentenceBytes) {
    best.resize(kMaxSentenceBytes);
    while (!best.empty() && (static_cast<unsigned char>(best.back()) & 0xC0) == 0x80) best.pop_back();  // UTF-8 continuation
    if (!best.empty() && static_cast<unsigned char>(best.back()) >= 0xC0) best.pop_back();
  }
  return best;
}

std::string Trim(std::string_view text) {
  std::size_t start = 0;
  std::size_t end = text.size();
  while (start < end && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  while (end > start && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(start, end - start));
}

}  // namespace

std::vector<std::string> WordTokens(std::string_view text, bool drop_stop_words) {
  std::vector<std::string> tokens = RawWords(text, drop_stop_words);
  for (std::string& token : tokens) token = Stem(std::move(token));
  return tokens;
}

std::vector<float> EmbedText(std::string_view text, std::size_t dimensions) {
  std::vector<float> vector(dimensions, 0.0f);
  if (dimensions == 0) return vector;
  std::vector<std::string> tokens = WordTokens(text, true);
  if (tokens.empty()) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    tokens.push_back(lower);
  }
  for (const std::string& token : tokens) {
    const uint64_t hash = Fnv1a(token);
    const float sign = (hash >> 63) != 0 ? -1.0f : 1.0f;
    vector[hash % dimensions] += sign;
  }
  double norm = 0;
  for (const float value : vector) norm += static_cast<double>(value) * value;
  if (norm == 0) {
    // Every token cancelled out; fall back to one fixed dimension so the vector stays a unit vector.
    vector[Fnv1a(text) % dimensions] = 1.0f;
    return vector;
  }
  const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& value : vector) value *= scale;
  return vector;
}

std::size_t DimensionsForModel(std::string_view model) {
  constexpr std::size_t kDefault = 384;
  constexpr std::size_t kMax = 8192;
  std::size_t end = model.size();
  std::size_t start = end;
  while (start > 0 && std::isdigit(static_cast<unsigned char>(model[start - 1]))) --start;
  if (start == end || start == 0 || model[start - 1] != '-') return kDefault;
  const std::size_t value = std::stoul(std::string(model.substr(start, std::min<std::size_t>(end - start, 6))));
  return value == 0 || value > kMax ? kDefault : value;
}

bool WantsStrategyJson(const std::vector<Message>& messages, bool json_response_format) {
  if (json_response_format) return true;
  for (const Message& message : messages) {
    if (message.role != "system") continue;
    std::string lower = message.text;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (message.text.find("JSON") != std::string::npos && lower.find("searches") != std::string::npos) return true;
  }
  return false;
}

std::string StrategyAnswer(const std::vector<Message>& messages) {
  const std::optional<Question> question = FindQuestion(messages);
  const std::string question_text = question ? Trim(question->text) : std::string();
  std::vector<std::string> keywords;
  for (std::string& word : RawWords(question_text, true)) {
    if (std::find(keywords.begin(), keywords.end(), word) == keywords.end()) keywords.push_back(std::move(word));
  }

  nlohmann::json searches = nlohmann::json::array();
  std::string all_terms;
  for (std::size_t i = 0; i < keywords.size() && i < 6; ++i) all_terms += (i == 0 ? "" : " ") + keywords[i];
  if (all_terms.empty()) all_terms = question_text.empty() ? "overview" : question_text;
  searches.push_back({{"term", all_terms}, {"instructions", "Find passages that answer: " + question_text}});
  if (keywords.size() >= 4) {
    std::vector<std::string> longest = keywords;
    std::stable_sort(longest.begin(), longest.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    const std::string term = longest[0] + " " + longest[1];
    searches.push_back({{"term", term}, {"instructions", "Find details about " + term + "."}});
  }
  const nlohmann::json answer = {
      {"reasoning", "The question asks about " + all_terms + ", so the searches look for those words."},
      {"searches", searches}};
  return answer.dump();
}

std::string CitingAnswer(const std::vector<Message>& messages) {
  const std::optional<Question> question = FindQuestion(messages);
  if (!question) return "There is no question to answer.";
  const std::set<std::string> question_words = StemSet(question->text);
  const std::vector<IdMention> mentions = FindMentions(messages, *question);
  if (mentions.empty()) return "Fake answer to: " + Trim(question->text);

  // Score each distinct id by the question words found in any of its passages.
  struct Scored {
    std::string id;
    std::set<std::string> words;
    std::string passage;  // the passage with the best overlap
    std::size_t passage_score = 0;
    std::size_t order = 0;
  };
  std::map<std::string, Scored> by_id;
  for (const IdMention& mention : mentions) {
    auto [it, inserted] = by_id.try_emplace(mention.id, Scored{mention.id, {}, {}, 0, mention.order});
    const std::set<std::string> passage_words = StemSet(mention.passage);
    const std::size_t score = Overlap(question_words, passage_words);
    for (const std::string& word : question_words) {
      if (passage_words.contains(word)) it->second.words.insert(word);
    }
    if (score > it->second.passage_score || it->second.passage.empty()) {
      it->second.passage_score = score;
      it->second.passage = mention.passage;
    }
  }
  std::vector<Scored> ranked;
  for (auto& [id, scored] : by_id) ranked.push_back(std::move(scored));
  std::stable_sort(ranked.begin(), ranked.end(), [](const Scored& a, const Scored& b) {
    if (a.words.size() != b.words.size()) return a.words.size() > b.words.size();
    return a.order < b.order;
  });
  const std::size_t best = ranked.front().words.size();
  if (best == 0) return "The provided context does not answer this question.";

  constexpr std::size_t kMaxCitations = 3;
  const std::size_t threshold = (best + 1) / 2;
  std::string citations;
  for (std::size_t i = 0; i < ranked.size() && i < kMaxCitations; ++i) {
    if (ranked[i].words.size() < threshold) break;
    citations += " [" + ranked[i].id + "]";
  }
  std::string sentence = BestSentence(ranked.front().passage, question_words);
  if (sentence.empty()) sentence = "See the cited passages";
  return "From the context: " + sentence + "." + citations;
}

std::vector<std::string> StreamPieces(std::string_view answer) {
  std::vector<std::string> pieces;
  std::size_t start = 0;
  while (start < answer.size()) {
    std::size_t end = answer.find(' ', start);
    end = end == std::string_view::npos ? answer.size() : end + 1;
    pieces.emplace_back(answer.substr(start, end - start));
    start = end;
  }
  return pieces;
}

std::size_t CountWords(std::string_view text) { return RawWords(text, false).size(); }

}  // namespace on::fake
