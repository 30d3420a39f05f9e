#include "http/static_files.h"

#include <unistd.h>

#include <array>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

namespace on::http {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kBuildHint =
    "The web UI is not built: run `make build` (or `npm ci && npm run build` in web/), or set "
    "OPEN_NOTEBOOK_WEB_DIR to the directory that holds index.html.";

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.substr(0, prefix.size()) == prefix;
}

// True when `inner` is `outer` or below it; both must be canonical.
bool IsInside(const fs::path& outer, const fs::path& inner) {
  auto outer_it = outer.begin();
  auto inner_it = inner.begin();
  for (; outer_it != outer.end(); ++outer_it, ++inner_it) {
    if (inner_it == inner.end() || *outer_it != *inner_it) return false;
  }
  return true;
}

Response PlainResponse(int status, std::string_view text) {
  Response response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::string(text);
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

}  // namespace

std::optional<fs::path> StaticRelativePath(std::string_view url_path) {
  fs::path relative;
  size_t start = 0;
  while (start <= url_path.size()) {
    size_t end = url_path.find('/', start);
    if (end == std::string_view::npos) end = url_path.size();
    const std::string_view segment = url_path.substr(start, end - start);
    start = end + 1;
    if (segment.empty()) continue;
    if (segment == "." || segment == "..") return std::nullopt;
    for (const char c : segment) {
      if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
    }
    relative /= std::string(segment);
  }
  if (relative.empty()) relative = "index.html";
  return relative;
}

std::string_view ContentTypeFor(const fs::path& file) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 17> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
  }};
  const std::string extension = file.extension().string();
  for (const auto& [suffix, type] : kTypes) {
    if (extension == suffix) return type;
  }
  return "application/octet-stream";
}

StaticFiles::StaticFiles(fs::path root) : root_(std::move(root)) {}

std::optional<Response> StaticFiles::ReadFile(const fs::path& relative) const {
  std::error_code error;
  const fs::path root = fs::canonical(root_, error);
  if (error) return std::nullopt;
  // canonical() resolves symbolic links, so a link inside the root that points out is caught here.
  const fs::path file = fs::canonical(root / relative, error);
  if (error || !IsInside(root, file) || !fs::is_regular_file(file, error)) return std::nullopt;

  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream content;
  content << in.rdbuf();
  Response response;
  response.content_type = std::string(ContentTypeFor(file));
  response.body = std::move(content).str();
  const bool hashed_asset = StartsWith(relative.generic_string(), "assets/");
  response.SetHeader("Cache-Control", hashed_asset ? "public, max-age=31536000, immutable" : "no-cache");
  return response;
}

Response StaticFiles::Serve(std::string_view url_path) const {
  auto relative = StaticRelativePath(url_path);
  if (!relative) return PlainResponse(404, "Not Found");

  std::error_code error;
  const bool is_directory = fs::is_directory(root_ / *relative, error);
  if (!is_directory) {
    if (auto found = ReadFile(*relative)) return std::move(*found);
  }
  // A missing asset must stay a 404: answering a script request with index.html would surface as
  // a baffling syntax error in the browser instead of a missing file.
  const bool looks_like_file = relative->has_extension() || StartsWith(relative->generic_string(), "assets/");
  if (!is_directory && looks_like_file) return PlainResponse(404, "Not Found");

  if (auto index = ReadFile("index.html")) return std::move(*index);
  return PlainResponse(503, kBuildHint);
}

fs::path ResolveWebDir(const std::string& configured) {
  if (!configured.empty()) return configured;
  std::error_code error;
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    const fs::path installed = executable.parent_path() / "web";
    if (fs::is_regular_file(installed / "index.html", error)) return installed;
  }
  return ON_WEB_DIST_DIR;
}

}  // namespace on::http
