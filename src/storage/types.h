// Records that cross the storage interface. Plain values: no database types appear here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace on::storage {

struct Notebook {
  std::string id;
  std::string name;
  std::string description;
  bool archived = false;
  std::string created;
  std::string updated;
  std::optional<std::string> last_viewed_at;
  int64_t source_count = 0;
  int64_t note_count = 0;
};

// Fields a PUT may change; an empty optional leaves the field as it is.
struct NotebookPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<bool> archived;
};

enum class NotebookSortField { kName, kCreated, kUpdated };

struct NotebookQuery {
  std::optional<bool> archived;  // nullopt lists both
  NotebookSortField sort = NotebookSortField::kUpdated;
  bool descending = true;
};

struct NotebookDeletePreview {
  std::string notebook_id;
  std::string notebook_name;
  int64_t note_count = 0;
  int64_t exclusive_source_count = 0;  // sources linked to this notebook only
  int64_t shared_source_count = 0;     // sources also linked to another notebook
};

struct NotebookDeleteResult {
  int64_t deleted_notes = 0;
  int64_t deleted_sources = 0;
  int64_t unlinked_sources = 0;
  int64_t deleted_chat_sessions = 0;
  // Files of deleted sources, relative to the uploads folder, for the caller to remove after commit.
  std::vector<std::string> deleted_source_files;
};

struct Note {
  std::string id;
  std::optional<std::string> title;
  std::string content;
  std::string note_type;  // "human" or "ai"
  std::optional<std::string> notebook_id;
  std::optional<std::string> command_id;
  std::string created;
  std::string updated;
};

struct NotePatch {
  std::optional<std::optional<std::string>> title;  // set to nullopt-inside to clear
  std::optional<std::string> content;
  std::optional<std::string> note_type;
};

struct RecentItem {
  std::string type;  // "notebook" or "source"
  std::string id;
  std::string title;
  std::string last_viewed_at;
};

// One migration known to the binary, and whether and when the database applied it.
struct MigrationState {
  int version = 0;
  std::string name;
  std::string checksum;  // sha256 of the up script, hex
  std::optional<std::string> applied_at;
  std::optional<std::string> applied_checksum;
};

struct SchemaStatus {
  int current_version = 0;  // highest version recorded in the database
  int latest_version = 0;   // highest version this binary knows
  std::vector<MigrationState> migrations;
};

}  // namespace on::storage
