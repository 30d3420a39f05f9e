#include "ingest/source_processor.h"

#include <fstream>

#include <spdlog/spdlog.h>

#include "ingest/block_page.h"
#include "ingest/chunker.h"
#include "ingest/extractor.h"
#include "ingest/ssrf_guard.h"
#include "ingest/uploads.h"

namespace on::ingest {
namespace {

void Report(const ProcessorDeps& deps, std::string_view stage, int percent) {
  if (deps.progress) deps.progress(stage, percent);
}

Status CheckCancelled(const ProcessorDeps& deps) {
  if (deps.cancelled && deps.cancelled()) return Status(ErrorCode::kCancelled, "processing was cancelled");
  return Status::Ok();
}

ExtractOptions MakeExtractOptions(const Settings& settings) {
  ExtractOptions options;
  options.pdf_timeout = std::chrono::seconds(settings.pdf_timeout_s);
  return options;
}

std::filesystem::path UploadsDir(const Settings& settings) { return std::filesystem::path(settings.data_dir) / "uploads"; }

Result<ExtractedDocument> ExtractUpload(const ProcessorDeps& deps, const storage::Source& source) {
  ON_ASSIGN_OR_RETURN(auto path, ResolveUpload(UploadsDir(*deps.settings), *source.asset_file_path));

  std::string head(kDetectionHeadBytes, '\0');
  std::ifstream file(path, std::ios::binary);
  file.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(file.gcount()));
  const std::string name = source.original_filename.value_or(path.filename().string());
  ON_ASSIGN_OR_RETURN(DocumentKind kind, DetectKind(name, head));
  return ExtractFile(path, kind, MakeExtractOptions(*deps.settings));
}

// Maps a non-2xx HTTP response to the error that fails (or retries) the source.
Status HttpFailure(const std::string& url, const FetchResponse& response) {
  const std::string message = "fetching " + url + " failed: the server responded with HTTP " + std::to_string(response.http_status);
  if (IsTransientHttpStatus(response.http_status)) {
    return Status(response.http_status == 429 ? ErrorCode::kRateLimited : ErrorCode::kUpstream, message);
  }
  return InvalidInput(message + "; check that the page is public and the address is right");
}

// The path of an http(s) URL without query or fragment: "/docs/a.pdf".
std::string UrlPath(std::string_view url) {
  const size_t scheme = url.find("://");
  const size_t start = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  if (start == std::string_view::npos) return "/";
  const size_t end = url.find_first_of("?#", start);
  return std::string(url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
}

Result<ExtractedDocument> ExtractUrl(const ProcessorDeps& deps, const std::string& url) {
  ON_ASSIGN_OR_RETURN(UrlPolicy policy, ParseUrlPolicy(deps.settings->url_allowlist));
  FetchOptions options;
  options.max_body_bytes = static_cast<size_t>(deps.settings->max_upload_size_mb) << 20;
  options.total_timeout = std::chrono::seconds(deps.settings->fetch_timeout_s);
  SystemHostResolver system_resolver;
  HostResolver& resolver = deps.resolver != nullptr ? *deps.resolver : system_resolver;

  ON_ASSIGN_OR_RETURN(FetchResponse response, FetchUrl(url, options, policy, resolver));
  if (response.http_status < 200 || response.http_status > 299) return HttpFailure(url, response);

  const std::string_view head = std::string_view(response.body).substr(0, kDetectionHeadBytes);
  ON_ASSIGN_OR_RETURN(DocumentKind kind, DetectKindFromContentType(response.content_type,
                                                                   UrlPath(response.final_url.empty() ? url : response.final_url), head));
  ExtractOptions extract_options = MakeExtractOptions(*deps.settings);
  ON_ASSIGN_OR_RETURN(ExtractedDocument document, ExtractBuffer(response.body, kind, extract_options));

  if (LooksLikeBlockPage(document.text, response.http_status)) {
    return InvalidInput("the page at " + url +
                        " looks like a login wall, paywall or bot check rather than the article; save the page and "
                        "upload it as a file instead");
  }
  return document;
}

Result<ExtractedDocument> ExtractText(const ProcessorDeps& deps, const storage::Source& source) {
  const std::string& text = source.full_text.value_or("");
  const std::string_view start = std::string_view(text).substr(0, 512);
  DocumentKind kind = DocumentKind::kPlainText;
  if (start.find("<html") != std::string_view::npos || start.find("<body") != std::string_view::npos ||
      start.find("<!DOCTYPE") != std::string_view::npos || start.find("<!doctype") != std::string_view::npos) {
    kind = DocumentKind::kHtml;  // pasted HTML is reduced to its text
  } else if (text.rfind("# ", 0) == 0 || text.find("\n# ") != std::string::npos || text.find("\n## ") != std::string::npos) {
    kind = DocumentKind::kMarkdown;
  }
  return ExtractBuffer(text, kind, MakeExtractOptions(*deps.settings));
}

std::string FallbackTitle(const std::string& text) {
  std::string_view first_line = std::string_view(text).substr(0, text.find('\n'));
  if (first_line.size() > 80) {
    size_t cut = 80;
    while (cut > 0 && (static_cast<unsigned char>(first_line[cut]) & 0xC0) == 0x80) --cut;
    return std::string(first_line.substr(0, cut)) + "…";
  }
  return std::string(first_line);
}

}  // namespace

Result<nlohmann::json> ProcessSource(const ProcessorDeps& deps, const std::string& source_id) {
  ON_ASSIGN_OR_RETURN(storage::Source source, deps.storage->GetSource(source_id, true));

  Report(deps, "extracting", 10);
  Result<ExtractedDocument> extracted = InvalidInput("source " + source_id + " has no file, URL or text to process");
  if (source.asset_file_path) {
    extracted = ExtractUpload(deps, source);
  } else if (source.asset_url) {
    extracted = ExtractUrl(deps, *source.asset_url);
  } else if (source.full_text && !source.full_text->empty()) {
    extracted = ExtractText(deps, source);
  }
  if (!extracted.ok()) return extracted.status();
  ON_RETURN_IF_ERROR(CheckCancelled(deps));

  Report(deps, "chunking", 60);
  ChunkOptions chunk_options;
  chunk_options.chunk_size_tokens = static_cast<size_t>(deps.settings->chunk_size);
  chunk_options.overlap_tokens = static_cast<size_t>(deps.settings->chunk_overlap);
  chunk_options.max_tokens = std::max<size_t>(chunk_options.chunk_size_tokens + chunk_options.chunk_size_tokens / 4, 512);
  std::vector<PageSpan> pages(extracted->pages.begin(), extracted->pages.end());
  ON_ASSIGN_OR_RETURN(auto chunks, ChunkText(extracted->text, chunk_options, pages));
  ON_RETURN_IF_ERROR(CheckCancelled(deps));

  Report(deps, "saving", 85);
  storage::SourceExtraction extraction;
  extraction.full_text = std::move(extracted->text);
  extraction.content_kind = std::string(DocumentKindName(extracted->kind));
  // SaveExtraction keeps a title the user gave. An empty title is filled with the document's own
  // title, else the uploaded file's name, else the first line of the text.
  if (!extracted->title.empty()) {
    extraction.title = extracted->title;
  } else if (source.original_filename) {
    extraction.title = *source.original_filename;
  } else {
    extraction.title = FallbackTitle(extraction.full_text);
  }
  for (const auto& chunk : chunks) {
    storage::ChunkRecord record;
    record.index = static_cast<int>(chunk.index);
    record.content = chunk.content;
    record.begin = static_cast<int64_t>(chunk.begin);
    record.end = static_cast<int64_t>(chunk.end);
    if (chunk.page > 0) record.page = chunk.page;
    record.token_count = static_cast<int>(chunk.token_estimate);
    extraction.chunks.push_back(std::move(record));
  }
  ON_RETURN_IF_ERROR(deps.storage->SaveExtraction(source_id, extraction));

  Report(deps, "done", 100);
  return nlohmann::json{{"source_id", source_id},
                        {"chunks", extraction.chunks.size()},
                        {"characters", extraction.full_text.size()},
                        {"kind", extraction.content_kind},
                        {"pages", extracted->pages.size()}};
}

}  // namespace on::ingest
