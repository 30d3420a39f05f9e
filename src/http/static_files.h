// Files of the built web UI (web/dist): URL path to file, with containment and SPA fallback.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "http/message.h"

namespace on::http {

// The relative file path a URL path names, or nullopt when it must be refused: a ".." or "."
// segment, a backslash, a NUL byte, or a control character. "/" and "" name "index.html".
std::optional<std::filesystem::path> StaticRelativePath(std::string_view url_path);

// Content-Type for a file name, by extension; application/octet-stream when unknown.
std::string_view ContentTypeFor(const std::filesystem::path& file);

class StaticFiles {
 public:
  // `root` need not exist yet: every request looks again, so `make build` while the server runs
  // takes effect without a restart.
  explicit StaticFiles(std::filesystem::path root);

  // Answers a GET or HEAD for `url_path`:
  //   - an existing regular file inside the root: 200, long-lived caching for assets/ (Vite puts
  //     a content hash in those names) and no-cache for everything else;
  //   - a refused path (see StaticRelativePath) or one that leaves the root through a symbolic
  //     link: 404 (a 400 would tell a prober which rule it hit);
  //   - a directory, or a missing path without an extension outside assets/: index.html, so the
  //     browser's client-side routes (/notebooks/x) load the app; directories are never listed;
  //   - any other missing path: 404;
  //   - no index.html at all: 503 saying how to build the UI.
  Response Serve(std::string_view url_path) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::optional<Response> ReadFile(const std::filesystem::path& relative) const;

  std::filesystem::path root_;
};

// The web UI directory from the settings value `configured`: itself when not empty, else
// <executable dir>/web when it has an index.html, else the source tree's web/dist.
std::filesystem::path ResolveWebDir(const std::string& configured);

}  // namespace on::http
