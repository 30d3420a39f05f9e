#include "ingest/block_text_writer.h"

#include <algorithm>
#include <utility>

namespace on::ingest {
namespace {

// Returns the length of the white-space character at `pos`, 0 when there is none. U+00A0 counts,
// because pages use &nbsp; for layout and a search index wants a plain space there.
size_t WhitespaceLength(std::string_view text, size_t pos) {
  const char c = text[pos];
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') return 1;
  if (c == '\xC2' && pos + 1 < text.size() && text[pos + 1] == '\xA0') return 2;
  return 0;
}

}  // namespace

void BlockTextWriter::AppendInline(std::string_view utf8) {
  size_t pos = 0;
  while (pos < utf8.size()) {
    const size_t space = WhitespaceLength(utf8, pos);
    if (space > 0) {
      pending_space_ = true;
      pos += space;
      continue;
    }
    size_t end = pos + 1;
    while (end < utf8.size() && WhitespaceLength(utf8, end) == 0) ++end;
    FlushPending();
    Append(utf8.substr(pos, end - pos));
    pos = end;
  }
}

void BlockTextWriter::AppendPreformatted(std::string_view utf8) {
  if (utf8.empty()) return;
  FlushPending();
  Append(utf8);
}

void BlockTextWriter::RequestBreak(int newlines) {
  pending_newlines_ = std::max(pending_newlines_, std::min(newlines, 2));
}

void BlockTextWriter::AddLineBreak() { pending_newlines_ = std::min(pending_newlines_ + 1, 2); }

void BlockTextWriter::RequestSeparator(std::string_view separator) {
  pending_separator_ = std::string(separator);
}

void BlockTextWriter::RequestPrefix(std::string prefix) { pending_prefix_ = std::move(prefix); }

void BlockTextWriter::FlushPending() {
  if (out_.empty()) {
    // Nothing to separate from yet.
  } else if (pending_newlines_ > 0) {
    while (!out_.empty() && out_.back() == ' ') out_.pop_back();
    int existing = 0;
    for (auto it = out_.rbegin(); it != out_.rend() && *it == '\n' && existing < 2; ++it) {
      ++existing;
    }
    if (!out_.empty()) Append(std::string(std::max(0, pending_newlines_ - existing), '\n'));
  } else if (!pending_separator_.empty()) {
    if (out_.back() != '\n') Append(pending_separator_);
  } else if (pending_space_ && out_.back() != '\n' && out_.back() != ' ') {
    Append(" ");
  }

  if (!pending_prefix_.empty()) Append(pending_prefix_);
  pending_newlines_ = 0;
  pending_space_ = false;
  pending_separator_.clear();
  pending_prefix_.clear();
}

void BlockTextWriter::Append(std::string_view text) {
  if (overflowed_) return;
  if (out_.size() + text.size() > max_bytes_) {
    overflowed_ = true;
    return;
  }
  out_.append(text);
}

std::string BlockTextWriter::Finish() {
  while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\t' || out_.back() == '\n')) {
    out_.pop_back();
  }
  if (!out_.empty()) out_ += '\n';
  return std::move(out_);
}

}  // namespace on::ingest
