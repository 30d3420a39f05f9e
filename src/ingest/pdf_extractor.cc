// PDF: poppler's pdftotext runs as a child process. The project is MIT licensed and poppler is
// GPL, so it is run rather than linked; the process boundary also keeps a malicious PDF's memory
// and CPU use away from the server.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "ingest/child_process.h"
#include "ingest/format_extractors.h"
#include "ingest/text_decoding.h"

namespace on::ingest {
namespace {

// pdfinfo reads only the document catalogue and Info dictionary, so it needs much less time than
// pdftotext. A PDF that makes it slow gets no title rather than a long wait.
constexpr std::chrono::seconds kPdfinfoTimeout{10};
constexpr size_t kMaxPdfinfoOutputBytes = 1 << 20;

std::string PluralPages(size_t count) {
  return std::to_string(count) + (count == 1 ? " page" : " pages");
}

// Returns the most useful line of pdftotext's standard error: the first one that reports an
// error, else the first line. Poppler prefixes its messages with "Syntax Error", "I/O Error",
// "Permission Error" and so on, and often starts with warnings such as "May not be a PDF file".
std::string DiagnosticLine(std::string_view stderr_text) {
  std::string_view first;
  while (!stderr_text.empty()) {
    const size_t end = stderr_text.find('\n');
    const std::string_view line = TrimAscii(stderr_text.substr(0, end));
    stderr_text = end == std::string_view::npos ? std::string_view() : stderr_text.substr(end + 1);
    if (line.empty()) continue;
    if (first.empty()) first = line;
    if (line.find("Error") != std::string_view::npos) return NormalizeText(line);
  }
  return NormalizeText(first);
}

Status CheckPdftotextRun(const ChildProcessResult& run, const ExtractOptions& options) {
  const std::string seconds = std::to_string(options.pdf_timeout.count()) + " s";
  if (run.timed_out) {
    return Status(ErrorCode::kTimeout,
                  "pdftotext did not finish within " + seconds +
                      " (pdf_timeout) and was stopped; the PDF is too large or too complex to "
                      "extract within that limit");
  }
  if (run.output_truncated) return TextTooLarge(options.max_text_bytes);
  if (run.term_signal == SIGXCPU || run.term_signal == SIGKILL) {
    return Status(ErrorCode::kTimeout, "pdftotext used more than " + seconds +
                                           " of CPU time and was stopped; the PDF is too complex "
                                           "to extract within pdf_timeout");
  }
  if (run.term_signal != 0) {
    return InvalidInput("pdftotext crashed with signal " + std::to_string(run.term_signal) + " (" +
                        strsignal(run.term_signal) +
                        ") while reading the PDF; the file is malformed or needs more memory "
                        "than pdf_memory_limit_bytes (" +
                        std::to_string(options.pdf_memory_limit_bytes) + " bytes)");
  }
  if (run.exit_code != 0) {
    const std::string diagnostic = DiagnosticLine(run.stderr_data);
    return InvalidInput("pdftotext could not read the PDF (exit code " +
                        std::to_string(run.exit_code) + ")" +
                        (diagnostic.empty() ? "" : ": " + diagnostic));
  }
  return Status::Ok();
}

// pdftotext ends every page with a form feed. Each page becomes one span of the text, ending in
// '\n' unless the page is empty; the form feeds are dropped.
void SplitPages(std::string_view output, ExtractedDocument& document) {
  int page = 0;
  while (!output.empty()) {
    const size_t form_feed = output.find('\f');
    std::string text = NormalizeText(output.substr(0, form_feed));
    output = form_feed == std::string_view::npos ? std::string_view() : output.substr(form_feed + 1);

    if (IsBlank(text)) text.clear();
    if (!text.empty() && text.back() != '\n') text += '\n';
    const size_t begin = document.text.size();
    document.text += text;
    document.pages.push_back(PageSpan{++page, begin, document.text.size()});
  }
}

std::string ReadPdfTitle(const std::string& file, const ExtractOptions& options) {
  ChildProcessLimits limits;
  limits.timeout = std::min<std::chrono::milliseconds>(kPdfinfoTimeout, options.pdf_timeout);
  limits.cpu_time = std::min<std::chrono::seconds>(kPdfinfoTimeout, options.pdf_timeout);
  limits.memory_bytes = options.pdf_memory_limit_bytes;
  limits.max_stdout_bytes = kMaxPdfinfoOutputBytes;

  Result<ChildProcessResult> run =
      RunChildProcess({options.pdfinfo_path, "-enc", "UTF-8", file}, limits);
  if (!run.ok() || run->exit_code != 0 || run->output_truncated) return "";

  std::string_view output = run->stdout_data;
  while (!output.empty()) {
    const size_t end = output.find('\n');
    const std::string_view line = output.substr(0, end);
    output = end == std::string_view::npos ? std::string_view() : output.substr(end + 1);
    if (line.substr(0, 6) == "Title:") return NormalizeText(TrimAscii(line.substr(6)));
  }
  return "";
}

}  // namespace

Result<ExtractedDocument> ExtractPdfFile(const std::filesystem::path& path,
                                         const ExtractOptions& options) {
  std::error_code error;
  // An absolute path never starts with '-', so pdftotext cannot take it for an option.
  const std::string file = std::filesystem::absolute(path, error).string();
  if (error) {
    return Status(ErrorCode::kIo, "the PDF file " + path.string() + " cannot be read: " +
                                      error.message());
  }
  if (::access(file.c_str(), R_OK) != 0) {
    return Status(ErrorCode::kIo, "the PDF file " + path.string() + " cannot be read: " +
                                      std::strerror(errno));
  }

  ChildProcessLimits limits;
  limits.timeout = options.pdf_timeout;
  limits.cpu_time = options.pdf_timeout;
  limits.memory_bytes = options.pdf_memory_limit_bytes;
  limits.max_stdout_bytes = options.max_text_bytes;
  ON_ASSIGN_OR_RETURN(
      ChildProcessResult run,
      RunChildProcess({options.pdftotext_path, "-enc", "UTF-8", file, "-"}, limits));
  ON_RETURN_IF_ERROR(CheckPdftotextRun(run, options));

  ExtractedDocument document;
  document.kind = DocumentKind::kPdf;
  SplitPages(run.stdout_data, document);
  if (IsBlank(document.text)) {
    return InvalidInput("the PDF has " + PluralPages(document.pages.size()) +
                        " but no extractable text (scanned or image-only pages); OCR is not "
                        "available in this build");
  }
  document.title = ReadPdfTitle(file, options);
  return document;
}

}  // namespace on::ingest
