// Schema migrations of the PostgreSQL backend, each test on a database of its own. Skipped
// without OPEN_NOTEBOOK_TEST_POSTGRES_URL.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <thread>

#include "core/settings.h"
#include "storage/migrations.h"
#include "storage/postgres/dump.h"
#include "storage/postgres/postgres_storage.h"
#include "support/postgres_database.h"
#include "support/temp_dir.h"

namespace on::storage::postgres {
namespace {

class PostgresMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::PostgresServerUrl()) GTEST_SKIP() << test::kPostgresSkipMessage;
    database_ = std::make_unique<test::PostgresDatabase>();
    ASSERT_EQ(database_->error(), "");
    storage_ = Open();
    ASSERT_NE(storage_, nullptr);
  }

  std::unique_ptr<PostgresStorage> Open() {
    PoolOptions options;
    options.connection.url = database_->url();
    options.size = 2;
    auto storage = PostgresStorage::Open(options);
    EXPECT_TRUE(storage.ok()) << storage.status().ToString();
    return storage.ok() ? std::move(storage).value() : nullptr;
  }

  // The rows of a one-column query, as text.
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> values;
    auto db = storage_->pool().Acquire();
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (!db.ok()) return values;
    auto rows = (*db)->Query(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    if (!rows.ok()) return values;
    for (int row = 0; row < rows->size(); ++row) values.push_back(rows->Text(row, 0));
    return values;
  }

  Status Execute(const std::string& sql) {
    auto db = storage_->pool().Acquire();
    if (!db.ok()) return db.status();
    return (*db)->Execute(sql);
  }

  int Latest() {
    auto migrations = LoadMigrations("postgres");
    EXPECT_TRUE(migrations.ok()) << migrations.status().ToString();
    return migrations.ok() ? static_cast<int>(migrations->size()) : -1;
  }

  std::unique_ptr<test::PostgresDatabase> database_;
  std::unique_ptr<PostgresStorage> storage_;
};

TEST(PostgresMigrationFiles, SameVersionsAndNamesAsSqlite) {
  auto sqlite = LoadMigrations("sqlite");
  auto postgres = LoadMigrations("postgres");
  ASSERT_TRUE(sqlite.ok()) << sqlite.status().ToString();
  ASSERT_TRUE(postgres.ok()) << postgres.status().ToString();
  ASSERT_EQ(postgres->size(), sqlite->size());
  for (size_t i = 0; i < sqlite->size(); ++i) {
    EXPECT_EQ((*postgres)[i].version, (*sqlite)[i].version);
    EXPECT_EQ((*postgres)[i].name, (*sqlite)[i].name);
  }
}

TEST_F(PostgresMigrationTest, MigratesUpDownAndUpAgain) {
  const int latest = Latest();
  EXPECT_EQ(storage_->GetSchemaStatus()->current_version, 0);
  EXPECT_EQ(storage_->CheckSchema().code(), ErrorCode::kMigration);

  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  auto status = storage_->GetSchemaStatus();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->current_version, latest);
  EXPECT_EQ(status->latest_version, latest);
  for (const auto& migration : status->migrations) {
    EXPECT_TRUE(migration.applied_at.has_value()) << migration.name;
    EXPECT_EQ(migration.applied_checksum, migration.checksum) << migration.name;
  }
  EXPECT_TRUE(storage_->CheckSchema().ok());

  Status down = storage_->MigrateDown(0);
  ASSERT_TRUE(down.ok()) << down.ToString();
  EXPECT_EQ(storage_->GetSchemaStatus()->current_version, 0);
  EXPECT_EQ(storage_->CheckSchema().code(), ErrorCode::kMigration);
  // Every table of the migrations is gone; only schema_migrations remains.
  EXPECT_EQ(Column("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"),
            (std::vector<std::string>{"schema_migrations"}));

  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  EXPECT_EQ(storage_->GetSchemaStatus()->current_version, latest);
  EXPECT_TRUE(storage_->CheckSchema().ok());
}

TEST_F(PostgresMigrationTest, EachStepDownAndUpAgain) {
  const int latest = Latest();
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  for (int version = latest - 1; version >= 0; --version) {
    Status down = storage_->MigrateDown(version);
    ASSERT_TRUE(down.ok()) << "down to " << version << ": " << down.ToString();
    Status up = storage_->MigrateUp(version + 1);
    ASSERT_TRUE(up.ok()) << "up to " << version + 1 << ": " << up.ToString();
    ASSERT_TRUE(storage_->MigrateDown(version).ok());
  }
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  EXPECT_TRUE(storage_->CheckSchema().ok());
}

TEST_F(PostgresMigrationTest, MigrateUpIsIdempotent) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  EXPECT_EQ(Column("SELECT count(*) FROM schema_migrations"), (std::vector<std::string>{std::to_string(Latest())}));
}

TEST_F(PostgresMigrationTest, TargetOutOfRangeIsInvalid) {
  EXPECT_EQ(storage_->MigrateUp(Latest() + 1).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(storage_->MigrateUp(-1).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(storage_->MigrateDown(-1).code(), ErrorCode::kInvalidInput);
}

TEST_F(PostgresMigrationTest, ConcurrentMigrationsApplyEachOnce) {
  // Sessions of their own, as separate API processes starting at the same time would have.
  constexpr int kProcesses = 6;
  std::vector<std::unique_ptr<PostgresStorage>> storages;
  for (int i = 0; i < kProcesses; ++i) {
    storages.push_back(Open());
    ASSERT_NE(storages.back(), nullptr);
  }
  std::vector<Status> results(kProcesses);
  std::vector<std::thread> threads;
  for (int i = 0; i < kProcesses; ++i) {
    threads.emplace_back([&, i] { results[i] = storages[i]->MigrateUp(std::nullopt); });
  }
  for (auto& thread : threads) thread.join();

  for (int i = 0; i < kProcesses; ++i) EXPECT_TRUE(results[i].ok()) << i << ": " << results[i].ToString();
  EXPECT_EQ(Column("SELECT count(*) FROM schema_migrations"), (std::vector<std::string>{std::to_string(Latest())}));
  // Seed rows are inserted by the migrations themselves, so a second run would duplicate them.
  EXPECT_EQ(Column("SELECT count(*) FROM transformation"), (std::vector<std::string>{"6"}));
  EXPECT_TRUE(storage_->CheckSchema().ok());
}

TEST_F(PostgresMigrationTest, ChangedMigrationIsRejected) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  ASSERT_TRUE(Execute("UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 2").ok());

  Status check = storage_->CheckSchema();
  EXPECT_EQ(check.code(), ErrorCode::kMigration);
  EXPECT_NE(check.message().find("was changed after it was applied"), std::string::npos) << check.message();
  EXPECT_EQ(storage_->MigrateUp(std::nullopt).code(), ErrorCode::kMigration);
  EXPECT_EQ(storage_->MigrateDown(0).code(), ErrorCode::kMigration);
}

TEST_F(PostgresMigrationTest, NewerSchemaIsRejected) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  ASSERT_TRUE(Execute("INSERT INTO schema_migrations VALUES (99, 'future', 'abc', '2030-01-01T00:00:00.000000+00:00')").ok());

  Status check = storage_->CheckSchema();
  EXPECT_EQ(check.code(), ErrorCode::kMigration);
  EXPECT_NE(check.message().find("version 99"), std::string::npos) << check.message();
  EXPECT_EQ(storage_->MigrateUp(std::nullopt).code(), ErrorCode::kMigration);
}

TEST_F(PostgresMigrationTest, SeedRowsMatchSqlite) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  EXPECT_EQ(Column("SELECT id FROM transformation WHERE apply_default ORDER BY id"),
            (std::vector<std::string>{"transformation:dense_summary"}));
  EXPECT_EQ(Column("SELECT count(*) FROM default_model WHERE model_id IS NULL"), (std::vector<std::string>{"7"}));
  EXPECT_EQ(Column("SELECT id FROM speaker_profile ORDER BY id"),
            (std::vector<std::string>{"speaker_profile:business_panel", "speaker_profile:solo_expert",
                                      "speaker_profile:tech_experts"}));
  EXPECT_EQ(Column("SELECT count(*) FROM episode_profile"), (std::vector<std::string>{"3"}));
  EXPECT_EQ(Column("SELECT count(*) FROM app_setting WHERE key = 'transformation_instructions'"),
            (std::vector<std::string>{"1"}));

  // Timestamps written by SQL have the form of NowTimestamp(), so text order stays time order.
  const std::regex timestamp(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00)");
  for (const std::string& created : Column("SELECT created FROM transformation UNION ALL SELECT updated FROM default_model")) {
    EXPECT_TRUE(std::regex_match(created, timestamp)) << created;
  }
}

TEST_F(PostgresMigrationTest, TriggersKeepEmbeddingsConsistent) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  ASSERT_TRUE(Execute("INSERT INTO note (id, content, note_type, created, updated) VALUES ('note:a', 'text', 'human', 't', 't');"
                      "INSERT INTO embedding (model, note_id, dimension, vector, created) "
                      "VALUES ('p/m', 'note:a', 3, '[1,0,0]', 't');")
                  .ok());
  // A note's vector goes when its text changes, and the deletion is counted for the model.
  ASSERT_TRUE(Execute("UPDATE note SET content = 'new text' WHERE id = 'note:a'").ok());
  EXPECT_EQ(Column("SELECT count(*) FROM embedding"), (std::vector<std::string>{"0"}));
  EXPECT_EQ(Column("SELECT deletions FROM embedding_model_state WHERE model = 'p/m'"), (std::vector<std::string>{"1"}));

  // A vector whose length differs from its dimension, or with no owner, is rejected.
  EXPECT_EQ(Execute("INSERT INTO embedding (model, note_id, dimension, vector, created) "
                    "VALUES ('p/m', 'note:a', 2, '[1,0,0]', 't')")
                .code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(Execute("INSERT INTO embedding (model, dimension, vector, created) VALUES ('p/m', 3, '[1,0,0]', 't')").code(),
            ErrorCode::kInvalidInput);
}

TEST(PostgresSelection, UrlNamesNoSqliteFile) {
  Settings settings;
  settings.database_url = "postgresql://user:secret@127.0.0.1:5432/notebook";
  auto path = settings.SqlitePath();
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(path.status().message().find("secret"), std::string::npos) << path.status().message();
}

TEST_F(PostgresMigrationTest, OpenStorageSelectsPostgresForItsUrl) {
  Settings settings;
  settings.database_url = database_->url();
  settings.db_pool_size = 2;
  auto selected = OpenStorage(settings);
  ASSERT_TRUE(selected.ok()) << selected.status().ToString();
  ASSERT_TRUE((*selected)->MigrateUp(std::nullopt).ok());
  auto notebook = (*selected)->CreateNotebook("Selected", "");
  ASSERT_TRUE(notebook.ok()) << notebook.status().ToString();
  // The row is in this test's PostgreSQL database, read here through another connection.
  EXPECT_EQ(Column("SELECT name FROM notebook"), (std::vector<std::string>{"Selected"}));
}

TEST_F(PostgresMigrationTest, IntegrityCheckFindsInvalidIndexAndUnvalidatedConstraint) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  EXPECT_TRUE(storage_->CheckIntegrity().ok());

  // What a failed CREATE INDEX CONCURRENTLY leaves behind.
  ASSERT_TRUE(Execute("CREATE INDEX notebook_by_description ON notebook (description)").ok());
  ASSERT_TRUE(Execute("UPDATE pg_index SET indisvalid = false "
                      "WHERE indexrelid = 'notebook_by_description'::regclass").ok());
  Status invalid = storage_->CheckIntegrity();
  ASSERT_FALSE(invalid.ok());
  EXPECT_NE(invalid.message().find("notebook_by_description"), std::string::npos) << invalid.message();
  EXPECT_NE(invalid.message().find("REINDEX"), std::string::npos) << invalid.message();
  ASSERT_TRUE(Execute("DROP INDEX notebook_by_description").ok());

  ASSERT_TRUE(Execute("ALTER TABLE notebook ADD CONSTRAINT named CHECK (name <> '') NOT VALID").ok());
  Status unvalidated = storage_->CheckIntegrity();
  ASSERT_FALSE(unvalidated.ok());
  EXPECT_NE(unvalidated.message().find("VALIDATE CONSTRAINT named"), std::string::npos) << unvalidated.message();
}

TEST_F(PostgresMigrationTest, BackupToWritesADumpThatRestores) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  ASSERT_TRUE(storage_->CreateNotebook("Before the dump", "kept").ok());
  test::TempDir dir;
  const std::string dump = (dir.path() / "copy.pgdump").string();
  Status dumped = storage_->BackupTo(dump);
  ASSERT_TRUE(dumped.ok()) << dumped.ToString();
  EXPECT_EQ(storage_->BackupTo(dump).code(), ErrorCode::kConflict) << "an existing file is never overwritten";
  EXPECT_TRUE(CheckDumpFile(dump).ok());

  // Into another database, as a restore on a new server would.
  test::PostgresDatabase other;
  ASSERT_EQ(other.error(), "");
  Status restored = RestoreDatabase(other.url(), dump);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  PoolOptions options;
  options.connection.url = other.url();
  options.size = 1;
  auto copy = PostgresStorage::Open(options);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_TRUE((*copy)->CheckSchema().ok());
  EXPECT_TRUE((*copy)->CheckIntegrity().ok());
  auto notebooks = (*copy)->ListNotebooks(NotebookQuery{});
  ASSERT_TRUE(notebooks.ok()) << notebooks.status().ToString();
  ASSERT_EQ(notebooks->size(), 1u);
  EXPECT_EQ((*notebooks)[0].name, "Before the dump");

  // A file that is not a dump is named as such.
  const std::string garbage = (dir.path() / "garbage.pgdump").string();
  std::ofstream(garbage) << "not a dump";
  Status unreadable = CheckDumpFile(garbage);
  EXPECT_EQ(unreadable.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(unreadable.message().find("pg_restore"), std::string::npos) << unreadable.message();
}

TEST_F(PostgresMigrationTest, EmbeddingsGetHnswIndexPerDimension) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  Note input;
  input.content = "text";
  input.note_type = "human";
  auto note = storage_->CreateNote(input);
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  EmbeddingItem item;
  item.note_id = note->id;
  ASSERT_EQ(*storage_->SaveEmbeddings("p/m", {item}, {{1.0f, 0.0f, 0.0f}}), 1);
  ASSERT_EQ(*storage_->SaveEmbeddings("p/other", {item}, {{0.0f, 1.0f, 0.0f, 0.0f}}), 1);
  EXPECT_EQ(Column("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'embedding_hnsw_%' ORDER BY 1"),
            (std::vector<std::string>{"embedding_hnsw_3", "embedding_hnsw_4"}));

  // The planner uses the index for a nearest-neighbour query of that dimension.
  auto db = storage_->pool().Acquire();
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Execute("SET enable_seqscan = off").ok());
  auto plan = (*db)->Query("EXPLAIN SELECT id FROM embedding WHERE dimension = 3 "
                           "ORDER BY vector::vector(3) <=> $1::vector(3) LIMIT 5",
                           Params().Add("[1,0,0]"));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string text;
  for (int row = 0; row < plan->size(); ++row) text += plan->Text(row, 0) + "\n";
  EXPECT_NE(text.find("embedding_hnsw_3"), std::string::npos) << text;
  ASSERT_TRUE((*db)->Execute("RESET enable_seqscan").ok());
}

}  // namespace
}  // namespace on::storage::postgres

namespace on::storage::postgres {
namespace {

// The database owner without superuser rights cannot create pgvector (not a trusted extension):
// the migration that needs it stops with the command that fixes it, and the earlier ones stay.
TEST_F(PostgresMigrationTest, MissingVectorExtensionNamesTheFix) {
  const std::string role = database_->name() + "_owner";
  ASSERT_EQ(test::PostgresDatabase::ExecuteOnServer("CREATE ROLE " + role + " LOGIN"), "");
  ASSERT_EQ(test::PostgresDatabase::ExecuteOnServer("ALTER DATABASE " + database_->name() + " OWNER TO " + role), "");
  std::string url = database_->url();
  const size_t user_end = url.find('@');
  ASSERT_NE(user_end, std::string::npos) << url;
  url = "postgresql://" + role + url.substr(user_end);

  PoolOptions options;
  options.connection.url = url;
  options.size = 1;
  {
    auto owner_storage = PostgresStorage::Open(options);
    ASSERT_TRUE(owner_storage.ok()) << owner_storage.status().ToString();
    const Status migrated = (*owner_storage)->MigrateUp(std::nullopt);
    EXPECT_EQ(migrated.code(), ErrorCode::kMigration);
    EXPECT_NE(migrated.message().find("migration 5 (embeddings)"), std::string::npos) << migrated.message();
    EXPECT_NE(migrated.message().find("CREATE EXTENSION vector"), std::string::npos) << migrated.message();
    auto schema = (*owner_storage)->GetSchemaStatus();
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    EXPECT_EQ(schema->current_version, 4);
  }
  storage_.reset();
  EXPECT_EQ(test::PostgresDatabase::ExecuteOnServer("ALTER DATABASE " + database_->name() + " OWNER TO CURRENT_USER"), "");
  database_.reset();
  EXPECT_EQ(test::PostgresDatabase::ExecuteOnServer("DROP ROLE " + role), "");
}

}  // namespace
}  // namespace on::storage::postgres
