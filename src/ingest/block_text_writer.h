// Builds plain text from a walk over a document tree: collapses white space the way a browser
// renders it and turns block boundaries into line and paragraph breaks. Internal to src/ingest.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace on::ingest {

class BlockTextWriter {
 public:
  explicit BlockTextWriter(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Appends text whose runs of white space (including U+00A0) collapse to one space.
  void AppendInline(std::string_view utf8);
  // Appends text as it is, line breaks included (<pre>, DOCX runs).
  void AppendPreformatted(std::string_view utf8);

  // Requests a line break (1) or a paragraph break (2) before the next text. Requests merge by
  // taking the larger; breaks at the start of the text are dropped.
  void RequestBreak(int newlines);
  // Adds one line break to those already requested, up to a paragraph break (<br>).
  void AddLineBreak();
  // Requests `separator` (e.g. " | " between table cells) before the next text on the same line;
  // a pending line break wins over it.
  void RequestSeparator(std::string_view separator);
  // Requests `prefix` (e.g. "- " for a list item) at the start of the next text.
  void RequestPrefix(std::string prefix);

  // True once the text went beyond max_bytes; later text is then dropped.
  bool overflowed() const { return overflowed_; }
  size_t size() const { return out_.size(); }

  // Returns the text without trailing white space and ending with '\n' unless it is empty.
  std::string Finish();

 private:
  void FlushPending();
  void Append(std::string_view text);

  size_t max_bytes_;
  std::string out_;
  int pending_newlines_ = 0;
  bool pending_space_ = false;
  std::string pending_separator_;
  std::string pending_prefix_;
  bool overflowed_ = false;
};

}  // namespace on::ingest
