#include "storage/sqlite/sqlite_storage.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <thread>

#include "storage/migrations.h"
#include "storage/sqlite/fts5_tokenizer.h"
#include "support/temp_dir.h"

namespace on::storage {
namespace {

class SqliteStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.path = (dir_.path() / "test.db").string();
    options_.synchronous = "normal";
    auto opened = sqlite::SqliteStorage::Open(options_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    storage_ = std::move(opened).value();
  }

  // Runs SQL on the file through a separate raw connection, as another tool would.
  void ExecuteRaw(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    ASSERT_TRUE(sqlite::RegisterFts5Tokenizer(db).ok()) << "the source triggers write to the keyword index";
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  test::TempDir dir_;
  sqlite::ConnectionOptions options_;
  std::unique_ptr<sqlite::SqliteStorage> storage_;
};

TEST_F(SqliteStorageTest, MigratesUpDownAndUpAgain) {
  auto migrations = LoadMigrations("sqlite");
  ASSERT_TRUE(migrations.ok());
  const int latest = static_cast<int>(migrations->size());

  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  EXPECT_EQ(storage_->GetSchemaStatus()->current_version, latest);
  EXPECT_TRUE(storage_->CheckSchema().ok());

  ASSERT_TRUE(storage_->MigrateDown(0).ok());
  EXPECT_EQ(storage_->GetSchemaStatus()->current_version, 0);
  EXPECT_EQ(storage_->CheckSchema().code(), ErrorCode::kMigration);

  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  EXPECT_EQ(storage_->GetSchemaStatus()->current_version, latest);
  EXPECT_TRUE(storage_->CreateNotebook("after re-migration", "").ok());
  EXPECT_TRUE(storage_->CheckIntegrity().ok());
}

TEST_F(SqliteStorageTest, MigrateUpIsIdempotent) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  EXPECT_TRUE(storage_->CheckSchema().ok());
}

TEST_F(SqliteStorageTest, TamperedMigrationIsRefused) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  ExecuteRaw("UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1");
  Status schema = storage_->CheckSchema();
  EXPECT_EQ(schema.code(), ErrorCode::kMigration);
  EXPECT_NE(schema.message().find("changed after it was applied"), std::string::npos) << schema.message();
  EXPECT_EQ(storage_->MigrateUp(std::nullopt).code(), ErrorCode::kMigration);
}

TEST_F(SqliteStorageTest, NewerDatabaseIsRefused) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  ExecuteRaw("INSERT INTO schema_migrations VALUES (999, 'future', 'x', '2030-01-01')");
  Status schema = storage_->CheckSchema();
  EXPECT_EQ(schema.code(), ErrorCode::kMigration);
  EXPECT_NE(schema.message().find("newer binary"), std::string::npos) << schema.message();
  EXPECT_EQ(storage_->MigrateUp(std::nullopt).code(), ErrorCode::kMigration);
  EXPECT_EQ(storage_->MigrateDown(0).code(), ErrorCode::kMigration);
}

TEST_F(SqliteStorageTest, NotebookCountsAndDeletePreview) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  auto first = storage_->CreateNotebook("First", "");
  auto second = storage_->CreateNotebook("Second", "");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  ExecuteRaw("INSERT INTO source (id, title, created, updated) VALUES ('source:only', 'only', 'x', 'x'), ('source:both', 'both', 'x', 'x');"
             "INSERT INTO source_notebook VALUES ('source:only', '" + first->id + "', 'x'), ('source:both', '" + first->id +
             "', 'x'), ('source:both', '" + second->id + "', 'x');");
  Note note;
  note.content = "hello";
  note.note_type = "human";
  note.notebook_id = first->id;
  ASSERT_TRUE(storage_->CreateNote(note).ok());

  auto fetched = storage_->GetNotebook(first->id);
  EXPECT_EQ(fetched->source_count, 2);
  EXPECT_EQ(fetched->note_count, 1);

  auto preview = storage_->PreviewNotebookDelete(first->id);
  ASSERT_TRUE(preview.ok());
  EXPECT_EQ(preview->exclusive_source_count, 1);
  EXPECT_EQ(preview->shared_source_count, 1);
  EXPECT_EQ(preview->note_count, 1);

  auto deleted = storage_->DeleteNotebook(first->id, true);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->deleted_notes, 1);
  EXPECT_EQ(deleted->deleted_sources, 1);
  EXPECT_EQ(deleted->unlinked_sources, 1);
  EXPECT_EQ(storage_->GetNotebook(first->id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(storage_->GetNotebook(second->id)->source_count, 1);
  EXPECT_TRUE(storage_->ListNotes({})->empty());
  EXPECT_TRUE(storage_->CheckIntegrity().ok());
}

TEST_F(SqliteStorageTest, ListSortsAndFilters) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  ASSERT_TRUE(storage_->CreateNotebook("beta", "").ok());
  auto alpha = storage_->CreateNotebook("Alpha", "");
  ASSERT_TRUE(alpha.ok());
  NotebookPatch archive;
  archive.archived = true;
  ASSERT_TRUE(storage_->UpdateNotebook(alpha->id, archive).ok());

  NotebookQuery by_name;
  by_name.sort = NotebookSortField::kName;
  by_name.descending = false;
  auto all = storage_->ListNotebooks(by_name);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "Alpha");

  NotebookQuery archived_only;
  archived_only.archived = true;
  auto archived = storage_->ListNotebooks(archived_only);
  ASSERT_EQ(archived->size(), 1u);
  EXPECT_TRUE((*archived)[0].archived);
}

TEST_F(SqliteStorageTest, ConcurrentWritersAllCommit) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  auto notebook = storage_->CreateNotebook("busy", "");
  ASSERT_TRUE(notebook.ok());

  constexpr int kThreads = 16;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Note note;
        note.content = "note " + std::to_string(t) + "/" + std::to_string(i);
        note.note_type = "human";
        note.notebook_id = notebook->id;
        if (!storage_->CreateNote(note).ok()) failures++;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(storage_->GetNotebook(notebook->id)->note_count, kThreads * kPerThread);
}

TEST_F(SqliteStorageTest, FailedWriteRollsBackAlone) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  Note orphan;
  orphan.content = "x";
  orphan.note_type = "human";
  orphan.notebook_id = "notebook:missing";
  EXPECT_EQ(storage_->CreateNote(orphan).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(storage_->CreateNotebook("still works", "").ok());
}

}  // namespace
}  // namespace on::storage
