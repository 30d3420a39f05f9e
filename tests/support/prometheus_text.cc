#include "support/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

namespace on::test {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

bool ReadName(const std::string& line, size_t& at, std::string& name) {
  const size_t start = at;
  if (at >= line.size() || !IsNameStart(line[at])) return false;
  while (at < line.size() && IsNameChar(line[at])) ++at;
  name = line.substr(start, at - start);
  return true;
}

std::optional<double> ReadValue(const std::string& text) {
  if (text == "+Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN") return NAN;
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

// The family a sample belongs to: histograms write name_bucket, name_sum and name_count.
std::string FamilyOf(const std::string& sample, const std::map<std::string, PromFamily>& families) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (sample.size() > s.size() && sample.compare(sample.size() - s.size(), s.size(), s) == 0) {
      const std::string base = sample.substr(0, sample.size() - s.size());
      auto found = families.find(base);
      if (found != families.end() && found->second.type == "histogram") return base;
    }
  }
  return sample;
}

bool Includes(const PromSample& sample, const std::string& name, const std::map<std::string, std::string>& labels) {
  if (sample.name != name) return false;
  for (const auto& [key, value] : labels) {
    auto found = sample.labels.find(key);
    if (found == sample.labels.end() || found->second != value) return false;
  }
  return true;
}

}  // namespace

std::optional<double> PromText::Value(const std::string& name, const std::map<std::string, std::string>& labels) const {
  std::optional<double> value;
  for (const auto& sample : samples) {
    if (!Includes(sample, name, labels)) continue;
    EXPECT_FALSE(value.has_value()) << "more than one sample of " << name << " matches";
    value = sample.value;
  }
  return value;
}

double PromText::Sum(const std::string& name, const std::map<std::string, std::string>& labels) const {
  double total = 0;
  for (const auto& sample : samples) {
    if (Includes(sample, name, labels)) total += sample.value;
  }
  return total;
}

PromText ParsePromText(const std::string& text, std::vector<std::string>* errors) {
  PromText result;
  std::istringstream input(text);
  std::string line;
  int number = 0;
  std::set<std::string> identities;
  auto fail = [&](const std::string& why) { errors->push_back("line " + std::to_string(number) + ": " + why + ": " + line); };
  if (!text.empty() && text.back() != '\n') errors->push_back("the text does not end with a line feed");

  while (std::getline(input, line)) {
    ++number;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const bool help = line[2] == 'H';
      size_t at = 7;
      std::string name;
      if (!ReadName(line, at, name) || at >= line.size() || line[at] != ' ') {
        fail("malformed comment");
        continue;
      }
      const std::string rest = line.substr(at + 1);
      PromFamily& family = result.families[name];
      if (help) {
        if (!family.help.empty()) fail("second HELP");
        family.help = rest;
      } else {
        if (!family.type.empty()) fail("second TYPE");
        if (rest != "counter" && rest != "gauge" && rest != "histogram" && rest != "summary" && rest != "untyped") {
          fail("unknown type");
        }
        family.type = rest;
      }
      continue;
    }
    if (line.empty() || line[0] == '#') {
      fail("unexpected line");
      continue;
    }

    PromSample sample;
    size_t at = 0;
    if (!ReadName(line, at, sample.name)) {
      fail("bad metric name");
      continue;
    }
    bool ok = true;
    if (at < line.size() && line[at] == '{') {
      ++at;
      while (ok && at < line.size() && line[at] != '}') {
        std::string label;
        if (!ReadName(line, at, label) || at + 1 >= line.size() || line[at] != '=' || line[at + 1] != '"') {
          ok = false;
          break;
        }
        at += 2;
        std::string value;
        while (at < line.size() && line[at] != '"') {
          if (line[at] == '\\') {
            if (at + 1 >= line.size()) {
              ok = false;
              break;
            }
            const char escaped = line[at + 1];
            if (escaped == '\\') {
              value += '\\';
            } else if (escaped == '"') {
              value += '"';
            } else if (escaped == 'n') {
              value += '\n';
            } else {
              ok = false;
              break;
            }
            at += 2;
          } else {
            value += line[at++];
          }
        }
        if (!ok || at >= line.size()) {
          ok = false;
          break;
        }
        ++at;  // closing quote
        if (!sample.labels.emplace(label, value).second) ok = false;
        if (at < line.size() && line[at] == ',') ++at;
      }
      if (ok && (at >= line.size() || line[at] != '}')) ok = false;
      ++at;
    }
    if (!ok || at >= line.size() || line[at] != ' ') {
      fail("malformed labels");
      continue;
    }
    auto value = ReadValue(line.substr(at + 1));
    if (!value) {
      fail("malformed value");
      continue;
    }
    sample.value = *value;
    std::string identity = sample.name;
    for (const auto& [key, label_value] : sample.labels) identity += "\n" + key + "=" + label_value;
    if (!identities.insert(identity).second) fail("second sample with the same name and labels");
    const std::string family = FamilyOf(sample.name, result.families);
    auto found = result.families.find(family);
    if (found == result.families.end() || found->second.help.empty() || found->second.type.empty()) {
      fail("sample without HELP and TYPE before it");
    }
    result.samples.push_back(std::move(sample));
  }

  // Histograms: per label set (without le), buckets rise, the last is +Inf and equals _count.
  for (const auto& [name, family] : result.families) {
    if (family.type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    for (const auto& sample : result.samples) {
      if (sample.name != name + "_bucket") continue;
      auto labels = sample.labels;
      auto le = labels.find("le");
      if (le == labels.end()) {
        errors->push_back(name + "_bucket without le");
        continue;
      }
      auto bound = ReadValue(le->second);
      if (!bound) errors->push_back(name + "_bucket with le=" + le->second);
      labels.erase(le);
      buckets[labels].emplace_back(bound.value_or(0), sample.value);
    }
    for (const auto& [labels, series] : buckets) {
      std::string where = name;
      for (const auto& [key, value] : labels) where += " " + key + "=" + value;
      for (size_t i = 1; i < series.size(); ++i) {
        if (!(series[i].first > series[i - 1].first)) errors->push_back(where + ": le does not rise");
        if (series[i].second < series[i - 1].second) errors->push_back(where + ": buckets are not cumulative");
      }
      if (series.empty() || !std::isinf(series.back().first)) {
        errors->push_back(where + ": the last bucket is not +Inf");
        continue;
      }
      std::optional<double> count;
      bool has_sum = false;
      for (const auto& sample : result.samples) {
        if (sample.labels != labels) continue;
        if (sample.name == name + "_count") count = sample.value;
        if (sample.name == name + "_sum") has_sum = true;
      }
      if (!count || *count != series.back().second) errors->push_back(where + ": +Inf bucket differs from _count");
      if (!has_sum) errors->push_back(where + ": no _sum");
    }
  }
  for (const auto& [name, family] : result.families) {
    if (family.help.empty()) errors->push_back(name + " has no HELP text");
    if (family.type.empty()) errors->push_back(name + " has no TYPE");
  }
  return result;
}

}  // namespace on::test
