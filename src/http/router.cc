#include "http/router.h"

namespace on::http {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

void Router::Add(std::string method, std::string pattern, Handler handler) {
  CompiledRoute compiled;
  for (std::string_view segment : SplitPath(pattern)) compiled.segments.emplace_back(segment);
  compiled_.push_back(std::move(compiled));
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(handler)});
}

Router::Match Router::Find(Request& request, const Handler** handler, std::string* allowed,
                           std::string_view* pattern_out) const {
  const std::vector<std::string_view> segments = SplitPath(request.path);
  bool path_exists = false;
  allowed->clear();

  for (size_t i = 0; i < routes_.size(); ++i) {
    const auto& pattern = compiled_[i].segments;
    if (pattern.size() != segments.size()) continue;

    std::vector<std::pair<std::string, std::string>> params;
    bool matches = true;
    for (size_t s = 0; s < pattern.size() && matches; ++s) {
      const std::string& expected = pattern[s];
      if (expected.size() > 2 && expected.front() == '{' && expected.back() == '}') {
        params.emplace_back(expected.substr(1, expected.size() - 2), std::string(segments[s]));
      } else {
        matches = expected == segments[s];
      }
    }
    if (!matches) continue;

    if (!path_exists && pattern_out != nullptr) *pattern_out = routes_[i].pattern;
    path_exists = true;
    if (routes_[i].method == request.method || (request.method == "HEAD" && routes_[i].method == "GET")) {
      if (pattern_out != nullptr) *pattern_out = routes_[i].pattern;
      request.path_params = std::move(params);
      *handler = &routes_[i].handler;
      return Match::kFound;
    }
    if (!allowed->empty()) *allowed += ", ";
    *allowed += routes_[i].method;
  }
  return path_exists ? Match::kWrongMethod : Match::kNoPath;
}

}  // namespace on::http
