// Routes requests by method and path pattern to handlers.
//
// Patterns are literal segments and {name} parameters, e.g. "/api/notebooks/{notebook_id}".
// A parameter matches one whole segment (ids such as "notebook:abc" contain no '/').
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "http/message.h"

namespace on::http {

using Handler = std::function<Result<Response>(Request&)>;

struct Route {
  std::string method;
  std::string pattern;
  Handler handler;
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler);

  enum class Match { kFound, kNoPath, kWrongMethod };

  // Finds the handler for the request, filling request.path_params. kWrongMethod means the path
  // exists with other methods, listed in `allowed` (for the 405 Allow header). `pattern`, when
  // given, receives the pattern of the first route whose path matched.
  Match Find(Request& request, const Handler** handler, std::string* allowed,
             std::string_view* pattern = nullptr) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct CompiledRoute {
    std::vector<std::string> segments;  // "{name}" for parameters
  };

  std::vector<Route> routes_;
  std::vector<CompiledRoute> compiled_;
};

// Splits "/a/b/" into {"a", "b"}; empty segments are dropped.
std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace on::http
