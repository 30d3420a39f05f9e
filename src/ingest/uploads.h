// Uploaded files under <data_dir>/uploads.
//
// Each upload gets a directory of its own with a random name, so uploads of the same file name
// (even at the same moment) never overwrite each other, and the stored name keeps the user's
// file name for people browsing the folder. The exact original name is kept in the database.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"

namespace on::ingest {

// A file name safe to create: the last path component of `original`, NFC-normalised, without
// control characters (C0, DEL and C1), without leading dots or spaces, at most 180 bytes (cut on
// a UTF-8 boundary), "upload" when nothing is left. Invalid UTF-8 sequences become U+FFFD.
std::string SafeFileName(std::string_view original);

// Writes `data` to a new file under `uploads_dir` and returns its path relative to it
// ("<random>/<safe name>"). kIo with the reason when the disk is full or not writable.
Result<std::string> StoreUpload(const std::filesystem::path& uploads_dir, std::string_view original_name,
                                std::string_view data);

// Resolves a stored relative path to an absolute one, following symlinks. kForbidden when the
// result is not inside `uploads_dir`; kNotFound when the file does not exist.
Result<std::filesystem::path> ResolveUpload(const std::filesystem::path& uploads_dir, std::string_view relative);

// Removes a stored upload and its directory; ignores files that are already gone. Paths outside
// `uploads_dir` are never touched.
void RemoveUpload(const std::filesystem::path& uploads_dir, std::string_view relative);

// NFC normalisation of UTF-8 text. The result is valid UTF-8: ICU replaces each invalid byte
// sequence with U+FFFD. Only when ICU itself fails is the text returned unchanged.
std::string NormalizeNfc(std::string_view text);

// A Content-Disposition value for downloading `file_name`: an ASCII fallback and the exact
// UTF-8 name as an RFC 5987 filename* parameter.
std::string AttachmentDisposition(std::string_view file_name);

}  // namespace on::ingest
