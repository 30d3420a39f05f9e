#include "ingest/uploads.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <sodium.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

namespace on::ingest {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxNameBytes = 180;

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Removes C0 controls, DEL and C1 controls (U+0080..U+009F, encoded as C2 80..C2 9F) from
// valid UTF-8 text.
std::string RemoveControlCharacters(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size(); ++i) {
    const auto byte = static_cast<unsigned char>(utf8[i]);
    if (byte < 0x20 || byte == 0x7f) continue;
    if (byte == 0xC2 && i + 1 < utf8.size() && static_cast<unsigned char>(utf8[i + 1]) <= 0x9F) {
      ++i;
      continue;
    }
    out += utf8[i];
  }
  return out;
}

std::string RandomKey() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string key;
  for (int i = 0; i < 16; ++i) key += kAlphabet[randombytes_uniform(sizeof(kAlphabet) - 1)];
  return key;
}

bool IsInside(const fs::path& root, const fs::path& path) {
  auto [root_end, unused] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  (void)unused;
  return root_end == root.end();
}

Status WriteAll(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      return Status(ErrorCode::kIo, "cannot write upload " + path.string() + ": " + std::strerror(error) +
                                        (error == ENOSPC ? " (the data directory's disk is full)" : ""));
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
  if (::fsync(fd) != 0) return Status(ErrorCode::kIo, "cannot flush upload " + path.string() + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

std::string NormalizeNfc(std::string_view text) {
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(error);
  if (U_FAILURE(error)) return std::string(text);
  const icu::UnicodeString input = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  icu::UnicodeString output = nfc->normalize(input, error);
  if (U_FAILURE(error)) return std::string(text);
  std::string result;
  output.toUTF8String(result);
  return result;
}

std::string SafeFileName(std::string_view original) {
  const size_t slash = original.find_last_of("/\\");
  if (slash != std::string_view::npos) original = original.substr(slash + 1);

  // A control character is a starter that blocks composition. Removing one can bring a base
  // letter and a combining mark together ("e", U+0085, U+0301), so the text is normalised again.
  std::string name = NormalizeNfc(RemoveControlCharacters(NormalizeNfc(original)));
  while (!name.empty() && (name.front() == '.' || name.front() == ' ')) name.erase(name.begin());
  if (name.size() > kMaxNameBytes) {
    size_t cut = kMaxNameBytes;
    while (cut > 0 && IsContinuationByte(name[cut])) --cut;
    name.resize(cut);
  }
  return name.empty() ? "upload" : name;
}

Result<std::string> StoreUpload(const fs::path& uploads_dir, std::string_view original_name, std::string_view data) {
  std::error_code error;
  fs::create_directories(uploads_dir, error);
  if (error) return Status(ErrorCode::kIo, "cannot create " + uploads_dir.string() + ": " + error.message());

  const std::string name = SafeFileName(original_name);
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::string key = RandomKey();
    const fs::path directory = uploads_dir / key;
    if (!fs::create_directory(directory, error)) {
      if (error) return Status(ErrorCode::kIo, "cannot create " + directory.string() + ": " + error.message());
      continue;  // taken by a concurrent upload; draw another key
    }
    const fs::path path = directory / name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) return Status(ErrorCode::kIo, "cannot create " + path.string() + ": " + std::strerror(errno));
    Status written = WriteAll(fd, data, path);
    ::close(fd);
    if (!written.ok()) {
      fs::remove_all(directory, error);
      return written;
    }
    return key + "/" + name;
  }
  return Status(ErrorCode::kIo, "cannot find a free upload directory under " + uploads_dir.string());
}

Result<fs::path> ResolveUpload(const fs::path& uploads_dir, std::string_view relative) {
  std::error_code error;
  const fs::path root = fs::weakly_canonical(uploads_dir, error);
  if (error) return Status(ErrorCode::kIo, "cannot resolve " + uploads_dir.string() + ": " + error.message());
  const fs::path candidate = fs::path(relative);
  if (candidate.is_absolute()) return Status(ErrorCode::kForbidden, "file path is outside the uploads folder");
  const fs::path resolved = fs::weakly_canonical(root / candidate, error);
  if (error || !IsInside(root, resolved) || resolved == root) {
    return Status(ErrorCode::kForbidden, "file path is outside the uploads folder");
  }
  if (!fs::is_regular_file(resolved, error)) return NotFound("the uploaded file is no longer on disk");
  return resolved;
}

void RemoveUpload(const fs::path& uploads_dir, std::string_view relative) {
  auto resolved = ResolveUpload(uploads_dir, relative);
  if (!resolved.ok()) return;
  std::error_code error;
  const fs::path directory = resolved->parent_path();
  fs::remove(*resolved, error);
  if (directory != fs::weakly_canonical(uploads_dir, error)) fs::remove(directory, error);  // only when empty
}

std::string AttachmentDisposition(std::string_view file_name) {
  std::string ascii;
  std::string encoded;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : file_name) {
    const auto byte = static_cast<unsigned char>(c);
    const bool plain = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9') ||
                       byte == '.' || byte == '-' || byte == '_';
    ascii += (byte >= 0x20 && byte < 0x7f && byte != '"' && byte != '\\') ? c : '_';
    if (plain) {
      encoded += c;
    } else {
      encoded += '%';
      encoded += kHex[byte >> 4];
      encoded += kHex[byte & 0xf];
    }
  }
  if (ascii.empty()) ascii = "download";
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace on::ingest
