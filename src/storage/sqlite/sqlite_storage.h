// Storage on one SQLite file in WAL mode: a pool of reader connections and one group-committing
// writer (storage/sqlite/writer.h).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "storage/sqlite/connection.h"
#include "storage/sqlite/writer.h"
#include "storage/storage.h"

namespace on::storage::sqlite {

class SqliteStorage final : public Storage {
 public:
  // Opens (creating when missing) the database at options.path. Does not migrate.
  static Result<std::unique_ptr<SqliteStorage>> Open(const ConnectionOptions& options);

  Status Ping() override;
  Result<SchemaStatus> GetSchemaStatus() override;
  Status MigrateUp(std::optional<int> target) override;
  Status MigrateDown(int target) override;
  Status CheckSchema() override;
  Status CheckIntegrity() override;

  Result<Notebook> CreateNotebook(const std::string& name, const std::string& description) override;
  Result<std::vector<Notebook>> ListNotebooks(const NotebookQuery& query) override;
  Result<Notebook> GetNotebook(const std::string& id) override;
  Result<Notebook> UpdateNotebook(const std::string& id, const NotebookPatch& patch) override;
  Result<NotebookDeletePreview> PreviewNotebookDelete(const std::string& id) override;
  Result<NotebookDeleteResult> DeleteNotebook(const std::string& id, bool delete_exclusive_sources) override;
  void TouchViewed(const std::string& id) override;
  Result<std::vector<RecentItem>> ListRecentlyViewed(int limit) override;

  Result<Note> CreateNote(const Note& note) override;
  Result<std::vector<Note>> ListNotes(const std::optional<std::string>& notebook_id) override;
  Result<Note> GetNote(const std::string& id) override;
  Result<Note> UpdateNote(const std::string& id, const NotePatch& patch) override;
  Status DeleteNote(const std::string& id) override;

 private:
  // A reader connection leased from the pool; returned on destruction.
  class ReaderLease {
   public:
    ReaderLease(SqliteStorage* owner, std::unique_ptr<Connection> connection)
        : owner_(owner), connection_(std::move(connection)) {}
    ~ReaderLease();
    ReaderLease(ReaderLease&&) = default;
    Connection& operator*() { return *connection_; }
    Connection* operator->() { return connection_.get(); }

   private:
    SqliteStorage* owner_;
    std::unique_ptr<Connection> connection_;
  };

  SqliteStorage(ConnectionOptions options, std::unique_ptr<Writer> writer)
      : options_(std::move(options)), writer_(std::move(writer)) {}

  Result<ReaderLease> Reader();

  ConnectionOptions options_;
  std::unique_ptr<Writer> writer_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mutex_
};

}  // namespace on::storage::sqlite
