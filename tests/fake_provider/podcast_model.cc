#include "fake_provider/podcast_model.h"

#include <algorithm>
#include <sstream>
#include <string_view>

#include <nlohmann/json.hpp>

namespace on::fake {
namespace {

// The rest of the first line of `text` that starts with `label`, trimmed; empty when none does.
std::string LabelledLine(const std::string& text, std::string_view label) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(label, 0) != 0) continue;
    std::string value = line.substr(label.size());
    const size_t begin = value.find_first_not_of(" \t");
    const size_t end = value.find_last_not_of(" \t\r");
    return begin == std::string::npos ? "" : value.substr(begin, end - begin + 1);
  }
  return "";
}

int LeadingNumber(const std::string& text, int fallback) {
  int value = 0;
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])) && digits < 6) {
    value = value * 10 + (text[digits] - '0');
    ++digits;
  }
  return digits == 0 ? fallback : value;
}

// Distinct content words of at least five letters, in order of first appearance.
std::vector<std::string> Topics(const std::string& material) {
  std::vector<std::string> topics;
  for (std::string& word : WordTokens(material, true)) {
    if (word.size() < 5 || std::isdigit(static_cast<unsigned char>(word[0]))) continue;
    if (std::find(topics.begin(), topics.end(), word) == topics.end()) topics.push_back(std::move(word));
  }
  return topics;
}

// Sentences of the material of 6 to 30 words, in order.
std::vector<std::string> Sentences(const std::string& material) {
  std::vector<std::string> sentences;
  std::string current;
  for (char c : material) {
    current += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    if (c == '.' || c == '?' || c == '!') {
      const size_t words = CountWords(current);
      const size_t begin = current.find_first_not_of(' ');
      if (words >= 6 && words <= 30 && begin != std::string::npos && current.find('#') == std::string::npos) {
        sentences.push_back(current.substr(begin));
      }
      current.clear();
    }
  }
  return sentences;
}

std::string SystemText(const std::vector<Message>& messages) {
  std::string text;
  for (const Message& message : messages) {
    if (message.role == "system") text += message.text + "\n";
  }
  return text;
}

std::string LastUserText(const std::vector<Message>& messages) {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->role == "user") return it->text;
  }
  return "";
}

std::string OutlineAnswer(const std::string& system, const std::string& material) {
  const int count = std::clamp(LeadingNumber(LabelledLine(system, "Number of segments:"), 3), 1, 20);
  const std::vector<std::string> topics = Topics(material);
  nlohmann::json segments = nlohmann::json::array();
  for (int i = 0; i < count; ++i) {
    const std::string topic = topics.empty() ? "the material" : topics[static_cast<size_t>(i) % topics.size()];
    segments.push_back({{"name", "Part " + std::to_string(i + 1) + " on " + topic},
                        {"description", "The speakers discuss what the material says about " + topic + "."},
                        {"size", i == 0 || i + 1 == count ? "short" : "medium"}});
  }
  return nlohmann::json{{"segments", segments}}.dump();
}

std::string TranscriptAnswer(const std::string& system, const std::string& material) {
  std::vector<std::string> speakers;
  std::istringstream names(LabelledLine(system, "Speaker names:"));
  std::string name;
  while (std::getline(names, name, '|')) {
    const size_t begin = name.find_first_not_of(' ');
    const size_t end = name.find_last_not_of(' ');
    if (begin != std::string::npos) speakers.push_back(name.substr(begin, end - begin + 1));
  }
  if (speakers.empty()) speakers.push_back("Host");
  const std::string segment = LabelledLine(system, "Segment name:");
  const int number = LeadingNumber(LabelledLine(system, "Segment number:"), 1);
  const std::vector<std::string> sentences = Sentences(material);

  // Two turns per speaker, at least three lines; each quotes a sentence of the material.
  const size_t lines = std::max<size_t>(3, speakers.size() * 2);
  nlohmann::json transcript = nlohmann::json::array();
  for (size_t i = 0; i < lines; ++i) {
    std::string dialogue = i == 0 ? "Now to " + segment + "." : "About " + segment + ":";
    if (!sentences.empty()) {
      dialogue += " " + sentences[(static_cast<size_t>(number - 1) * lines + i) % sentences.size()];
    }
    transcript.push_back({{"speaker", speakers[i % speakers.size()]}, {"dialogue", dialogue}});
  }
  return nlohmann::json{{"transcript", transcript}}.dump();
}

}  // namespace

std::optional<std::string> PodcastAnswer(const std::vector<Message>& messages) {
  const std::string system = SystemText(messages);
  if (system.find("JSON") == std::string::npos) return std::nullopt;
  if (system.find("podcast outline") != std::string::npos) return OutlineAnswer(system, LastUserText(messages));
  if (system.find("podcast transcript") != std::string::npos) return TranscriptAnswer(system, LastUserText(messages));
  return std::nullopt;
}

}  // namespace on::fake
