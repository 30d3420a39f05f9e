// The storage interface: every read and write of Open Notebook's records goes through it.
//
// Implementations: storage/sqlite (the embedded default). No SQL exists outside storage/.
// All methods are thread-safe. Errors: kNotFound for a missing record, kInvalidInput for a value
// the database rejects (for example a link to a missing notebook), kDatabase for failures of the
// database itself (message safe to log, never shown to API clients verbatim), kMigration when the
// schema does not match the binary.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/settings.h"
#include "storage/job_store.h"
#include "storage/types.h"

namespace on::storage {

class Storage {
 public:
  virtual ~Storage() = default;

  // Checks that the database responds to a trivial query.
  virtual Status Ping() = 0;

  // A number that changes when the stored data may have changed (see sqlite::Database).
  virtual uint64_t DataVersion() = 0;

  // Schema migrations, each in its own transaction under the database's lock.
  virtual Result<SchemaStatus> GetSchemaStatus() = 0;
  // Applies pending migrations up to `target` (latest when nullopt). Refuses (kMigration) when an
  // applied migration's checksum differs from the binary's or the database is newer than the binary.
  virtual Status MigrateUp(std::optional<int> target) = 0;
  // Reverts applied migrations down to `target` (the version that remains).
  virtual Status MigrateDown(int target) = 0;
  // Verifies the schema can be used by this binary: kMigration with the fix when it cannot.
  virtual Status CheckSchema() = 0;
  // Runs the database's own consistency check; ok when it reports no problem.
  virtual Status CheckIntegrity() = 0;
  // Writes a consistent copy of the whole database to the new file `path` while other
  // connections, in this process or others, keep reading and writing. The copy is one
  // self-contained file (no write-ahead log beside it). kConflict when `path` already exists.
  virtual Status BackupTo(const std::string& path) = 0;

  // Notebooks.
  virtual Result<Notebook> CreateNotebook(const std::string& name, const std::string& description) = 0;
  virtual Result<std::vector<Notebook>> ListNotebooks(const NotebookQuery& query) = 0;
  virtual Result<Notebook> GetNotebook(const std::string& id) = 0;
  virtual Result<Notebook> UpdateNotebook(const std::string& id, const NotebookPatch& patch) = 0;
  virtual Result<NotebookDeletePreview> PreviewNotebookDelete(const std::string& id) = 0;
  virtual Result<NotebookDeleteResult> DeleteNotebook(const std::string& id, bool delete_exclusive_sources) = 0;
  // Records that a notebook or source was opened now; best effort, returns without waiting.
  virtual void TouchViewed(const std::string& id) = 0;
  virtual Result<std::vector<RecentItem>> ListRecentlyViewed(int limit) = 0;

  // Notes.
  virtual Result<Note> CreateNote(const Note& note) = 0;
  // Notes of one notebook (or all notes when notebook_id is nullopt), most recently updated first.
  virtual Result<std::vector<Note>> ListNotes(const std::optional<std::string>& notebook_id) = 0;
  virtual Result<Note> GetNote(const std::string& id) = 0;
  virtual Result<Note> UpdateNote(const std::string& id, const NotePatch& patch) = 0;
  virtual Status DeleteNote(const std::string& id) = 0;

  // Sources. CreateSource inserts the source, its notebook links and its processing job in one
  // transaction and returns the source with command_id set. A missing notebook gives kNotFound.
  virtual Result<Source> CreateSource(const SourceCreate& source) = 0;
  virtual Result<Source> GetSource(const std::string& id, bool with_text) = 0;
  virtual Result<std::vector<Source>> ListSources(const SourceQuery& query) = 0;
  virtual Result<Source> UpdateSource(const std::string& id, const SourcePatch& patch) = 0;
  // Deletes the source, its chunks and index entries and its notebook links.
  virtual Result<SourceDeleteResult> DeleteSource(const std::string& id) = 0;
  // Queues processing again (a job with a dedupe key, so concurrent retries queue one job).
  virtual Result<Source> RequeueSource(const std::string& id, const std::string& job_app,
                                       const std::string& job_command, int max_attempts) = 0;
  // Replaces the text and chunks of a source in one transaction.
  virtual Status SaveExtraction(const std::string& source_id, const SourceExtraction& extraction) = 0;
  virtual Status LinkSource(const std::string& notebook_id, const std::string& source_id) = 0;
  virtual Status UnlinkSource(const std::string& notebook_id, const std::string& source_id) = 0;

  // Keyword search over source titles, source chunks and notes, best first. Chunk and note hits
  // carry no snippet: a caller loads the texts of the hits it shows with LoadSearchTexts.
  virtual Result<std::vector<TextSearchHit>> SearchText(const TextSearchQuery& query) = 0;
  // The text each hit was found in, in the order of `hits`: a chunk's content, a note's content, a
  // source's title. A hit whose record was deleted since the search gets "".
  virtual Result<std::vector<std::string>> LoadSearchTexts(const std::vector<const TextSearchHit*>& hits) = 0;

  // The background-job queue on the same database (storage/job_store.h).
  virtual JobStore& jobs() = 0;
};

// Opens the database that `settings` point at (SQLite by default). Does not migrate.
Result<std::unique_ptr<Storage>> OpenStorage(const Settings& settings);

}  // namespace on::storage
