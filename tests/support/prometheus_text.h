// A strict reader of the Prometheus text exposition format 0.0.4, for tests of GET /metrics.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace on::test {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromFamily {
  std::string help;
  std::string type;
};

struct PromText {
  std::map<std::string, PromFamily> families;
  std::vector<PromSample> samples;

  // The value of the one sample named `name` whose labels include all of `labels`; nullopt when
  // none matches. Fails the calling test when more than one does.
  std::optional<double> Value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
  // The sum over samples named `name` whose labels include all of `labels` (0 when none).
  double Sum(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
};

// Parses `text`, checking that every line is a HELP, a TYPE or a sample `name{labels} value`,
// that every sample belongs to a family with HELP and TYPE written before it, that label values
// use only the format's escapes, and that each histogram's buckets rise, end with le="+Inf" and
// that bucket equals _count. Returns the problems found in `errors`.
PromText ParsePromText(const std::string& text, std::vector<std::string>* errors);

}  // namespace on::test
