// Backup and restore drills against the real binary: snapshots under write load, damaged and
// crafted archives, restore into a running instance, scheduled backups with retention.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "ops/backup_archive.h"
#include "support/cli_command.h"
#include "support/data_dir_database.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_backend.h"

namespace on {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

using test::CliResult;
using test::RunCli;

std::string FileSha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream data;
  data << in.rdbuf();
  const std::string bytes = data.str();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

// sha256 of every file under `root`, by relative path: compares a directory before and after.
std::map<std::string, std::string> TreeChecksums(const fs::path& root) {
  std::map<std::string, std::string> sums;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) sums[entry.path().lexically_relative(root).string()] = FileSha256(entry.path());
  }
  return sums;
}

std::string IntegrityCheck(const fs::path& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return "cannot open";
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
  std::string verdict = sqlite3_step(stmt) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)) : "no row";
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return verdict;
}

// The database of `data_dir` passes its integrity check. On PostgreSQL, `backup restore` runs
// that check itself, so the command's exit code reports it.
std::string DatabaseCheck(const fs::path& data_dir) {
  if (test::TestBackendIsPostgres()) return "ok";
  return IntegrityCheck(data_dir / "open-notebook.db");
}

std::string DatabaseEntry() { return test::TestBackendIsPostgres() ? "open-notebook.pgdump" : "open-notebook.db"; }

std::vector<fs::path> Archives(const fs::path& directory) {
  std::vector<fs::path> archives;
  if (!fs::exists(directory)) return archives;
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (entry.path().extension() == ".zst") archives.push_back(entry.path());
  }
  std::sort(archives.begin(), archives.end());
  return archives;
}

// Every entry name and the concatenated content of an archive, read with libarchive.
std::pair<std::vector<std::string>, std::string> ReadAll(const fs::path& path) {
  std::vector<std::string> names;
  std::string content;
  archive* reader = archive_read_new();
  archive_read_support_filter_all(reader);
  archive_read_support_format_all(reader);
  if (archive_read_open_filename(reader, path.c_str(), 65536) == ARCHIVE_OK) {
    archive_entry* entry = nullptr;
    while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
      names.emplace_back(archive_entry_pathname(entry));
      char buffer[65536];
      la_ssize_t got = 0;
      while ((got = archive_read_data(reader, buffer, sizeof(buffer))) > 0) content.append(buffer, static_cast<size_t>(got));
    }
  }
  archive_read_free(reader);
  return {names, content};
}

struct CraftedEntry {
  std::string name;
  unsigned type = AE_IFREG;
  std::string data;
  std::string link;  // symlink target or hard link source
};

// Writes a tar.zst the way an attacker could, with whatever entry names and types.
void WriteCraftedArchive(const fs::path& path, const std::vector<CraftedEntry>& entries) {
  archive* writer = archive_write_new();
  archive_write_add_filter_zstd(writer);
  archive_write_set_format_pax_restricted(writer);
  ASSERT_EQ(archive_write_open_filename(writer, path.c_str()), ARCHIVE_OK);
  for (const auto& crafted : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, crafted.name.c_str());
    archive_entry_set_perm(entry, 0644);
    if (!crafted.link.empty() && crafted.type == AE_IFREG) {
      archive_entry_set_hardlink(entry, crafted.link.c_str());
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_size(entry, 0);
    } else {
      archive_entry_set_filetype(entry, crafted.type);
      if (crafted.type == AE_IFLNK) archive_entry_set_symlink(entry, crafted.link.c_str());
      if (crafted.type == AE_IFCHR) archive_entry_set_rdev(entry, makedev(1, 3));
      archive_entry_set_size(entry, crafted.type == AE_IFREG ? static_cast<la_int64_t>(crafted.data.size()) : 0);
    }
    ASSERT_EQ(archive_write_header(writer, entry), ARCHIVE_OK) << crafted.name;
    if (crafted.type == AE_IFREG && crafted.link.empty()) archive_write_data(writer, crafted.data.data(), crafted.data.size());
    archive_entry_free(entry);
  }
  archive_write_close(writer);
  archive_write_free(writer);
}

class BackupTest : public ::testing::Test {
 protected:
  fs::path Data() const { return dir_.path() / "data"; }
  fs::path Backups() const { return dir_.path() / "backups"; }
  std::map<std::string, std::string> Env() const { return {{"OPEN_NOTEBOOK_DATA_DIR", Data().string()}}; }

  CliResult Cli(const std::vector<std::string>& args) { return RunCli(args, Env(), dir_.path()); }

  // Starts a server with a notebook, a note, a text source and an uploaded file.
  void StartWithContent() {
    server_ = std::make_unique<test::ServerProcess>(Data());
    ASSERT_TRUE(server_->Start()) << server_->log();
    auto client = server_->Client();
    notebook_ = client.Post("/api/notebooks", {{"name", "Backups"}}).Json()["id"];
    auto note = client.Post("/api/notes", {{"title", "Tide tables"}, {"content", "The saltmarsh heron nests in April."},
                                           {"notebook_id", notebook_}});
    ASSERT_EQ(note.status, 200) << note.body;
    auto text = client.PostForm("/api/sources", {{"type", "text"},
                                                 {"content", "# Harbour log\n\nThe cobalt lighthouse keeper counts 4417 gulls."},
                                                 {"notebooks", json::array({notebook_}).dump()},
                                                 {"async_processing", "false"}});
    ASSERT_EQ(text.status, 200) << text.body;
    text_source_ = text.Json()["id"];
    auto upload = client.PostForm("/api/sources", {{"type", "upload"},
                                                   {"notebooks", json::array({notebook_}).dump()},
                                                   {"async_processing", "false"},
                                                   {"file", "Upload body about amber tidepools.", "tidepools.txt", "", "text/plain"}});
    ASSERT_EQ(upload.status, 200) << upload.body;
    upload_source_ = upload.Json()["id"];
  }

  fs::path CreateBackup() {
    fs::create_directories(Backups());
    auto created = Cli({"backup", "create", "--output", Backups().string()});
    EXPECT_EQ(created.exit_code, 0) << created.output;
    auto archives = Archives(Backups());
    return archives.empty() ? fs::path() : archives.back();
  }

  test::TempDir dir_;
  std::unique_ptr<test::ServerProcess> server_;
  std::string notebook_, text_source_, upload_source_;
};

TEST_F(BackupTest, RestoreAfterWipeKeepsAcknowledgedWrites) {
  StartWithContent();
  auto client = server_->Client();

  // A writer adds notes while the backup runs. Every note acknowledged before `backup create`
  // started must be in the archive; notes acknowledged later may or may not be.
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      auto note = client.Post("/api/notes", {{"content", "load note " + std::to_string(i)}, {"notebook_id", notebook_}});
      if (note.status != 200) {
        failures++;
        continue;
      }
      std::lock_guard lock(mutex);
      acknowledged.push_back(note.Json()["id"]);
    }
  });
  std::this_thread::sleep_for(300ms);
  std::vector<std::string> before_backup;
  {
    std::lock_guard lock(mutex);
    before_backup = acknowledged;
  }
  const fs::path archive = CreateBackup();
  std::this_thread::sleep_for(200ms);
  stop = true;
  writer.join();
  ASSERT_FALSE(archive.empty());
  EXPECT_EQ(failures.load(), 0);
  ASSERT_GT(before_backup.size(), 0u);
  EXPECT_EQ(server_->Stop(), 0);

  fs::remove_all(Data());
  if (test::TestBackendIsPostgres()) {
    const auto wiped = test::QueryDataDir(Data(), "DO $$ DECLARE t record; BEGIN FOR t IN SELECT tablename FROM pg_tables "
                                                  "WHERE schemaname = 'public' LOOP EXECUTE 'DROP TABLE IF EXISTS ' || "
                                                  "quote_ident(t.tablename) || ' CASCADE'; END LOOP; END $$");
    ASSERT_EQ(wiped.error, "");
  }
  auto restored = Cli({"backup", "restore", archive.string()});
  ASSERT_EQ(restored.exit_code, 0) << restored.output;
  EXPECT_NE(restored.output.find("restored"), std::string::npos) << restored.output;
  EXPECT_EQ(DatabaseCheck(Data()), "ok");

  test::ServerProcess after(Data());
  ASSERT_TRUE(after.Start()) << after.log();
  auto restored_client = after.Client();
  for (const auto& id : before_backup) EXPECT_EQ(restored_client.Get("/api/notes/" + id).status, 200) << id;
  EXPECT_EQ(DatabaseCheck(Data()), "ok");

  auto note_hits = restored_client.Post("/api/search", {{"query", "saltmarsh heron"}, {"type", "text"}, {"minimum_score", 0}});
  ASSERT_EQ(note_hits.status, 200) << note_hits.body;
  ASSERT_EQ(note_hits.Json()["results"].size(), 1u) << note_hits.body;
  EXPECT_EQ(note_hits.Json()["results"][0]["type"], "note");
  auto source_hits = restored_client.Post("/api/search", {{"query", "cobalt lighthouse"}, {"type", "text"}, {"minimum_score", 0}});
  ASSERT_EQ(source_hits.status, 200);
  ASSERT_EQ(source_hits.Json()["results"].size(), 1u) << source_hits.body;
  EXPECT_EQ(source_hits.Json()["results"][0]["id"], text_source_);

  auto download = restored_client.Get("/api/sources/" + upload_source_ + "/download");
  EXPECT_EQ(download.status, 200);
  EXPECT_EQ(download.body, "Upload body about amber tidepools.");
  EXPECT_EQ(after.Stop(), 0);
}

TEST_F(BackupTest, VerifyReportsManifest) {
  StartWithContent();
  // Podcast audio is user data and goes into the archive like uploads.
  fs::create_directories(Data() / "podcasts" / "episodes" / "e1");
  std::ofstream(Data() / "podcasts" / "episodes" / "e1" / "episode.mp3") << "audio bytes";
  const fs::path archive = CreateBackup();
  ASSERT_FALSE(archive.empty());
  auto verified = Cli({"backup", "verify", archive.string()});
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_NE(verified.output.find(test::TestBackendIsPostgres() ? "pg_restore reads" : "integrity_check ok"),
            std::string::npos)
      << verified.output;

  const auto [names, content] = ReadAll(archive);
  EXPECT_EQ(names.back(), "manifest.json");
  EXPECT_EQ(names.front(), DatabaseEntry());
  bool has_upload = false;
  for (const auto& name : names) has_upload = has_upload || name.rfind("uploads/", 0) == 0;
  EXPECT_TRUE(has_upload);
  EXPECT_NE(std::find(names.begin(), names.end(), "podcasts/episodes/e1/episode.mp3"), names.end());
  const auto manifest_start = content.rfind("{\n  \"created_at\"");
  ASSERT_NE(manifest_start, std::string::npos);
  const json manifest = json::parse(content.substr(manifest_start));
  EXPECT_EQ(manifest["format_version"], 1);
  EXPECT_EQ(manifest["product_version"], ON_VERSION);
  EXPECT_GE(manifest["schema_version"].get<int>(), 1);
  EXPECT_EQ(manifest["source_data_dir"], Data().string());
  EXPECT_EQ(manifest["files"].size(), names.size() - 1);
  server_->Stop();
}

TEST_F(BackupTest, DamagedArchiveRejectedDataUntouched) {
  StartWithContent();
  const fs::path archive = CreateBackup();
  ASSERT_FALSE(archive.empty());
  EXPECT_EQ(server_->Stop(), 0);
  const auto before = TreeChecksums(Data());

  std::ifstream in(archive, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);

  std::string flipped = bytes;
  for (size_t i = flipped.size() / 2; i < flipped.size() / 2 + 16; ++i) flipped[i] = static_cast<char>(~flipped[i]);
  const std::string truncated = bytes.substr(0, bytes.size() / 2);
  for (const auto& [name, damaged] : std::vector<std::pair<std::string, std::string>>{{"flipped", flipped},
                                                                                         {"truncated", truncated}}) {
    const fs::path path = dir_.path() / (name + ".tar.zst");
    std::ofstream(path, std::ios::binary) << damaged;
    auto verified = Cli({"backup", "verify", path.string()});
    EXPECT_EQ(verified.exit_code, 1) << name << ": " << verified.output;
    EXPECT_NE(verified.output.find("damaged"), std::string::npos) << name << ": " << verified.output;

    auto restored = Cli({"backup", "restore", path.string()});
    EXPECT_EQ(restored.exit_code, 1) << name << ": " << restored.output;
    EXPECT_EQ(TreeChecksums(Data()), before) << name;
  }
  // Nothing was left beside the data directory either.
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    EXPECT_EQ(entry.path().filename().string().find("data."), std::string::npos) << entry.path();
  }
}

TEST_F(BackupTest, RestoreRejectedWhileProcessesRun) {
  StartWithContent();
  const fs::path archive = CreateBackup();
  ASSERT_FALSE(archive.empty());
  EXPECT_EQ(server_->Stop(), 0);

  // The API and two workers run together on one data directory: the lock is shared.
  std::map<std::string, std::string> env = {{"OPEN_NOTEBOOK_WORKER_IN_SERVE", "false"}};
  test::ServerProcess api(Data(), env);
  ASSERT_TRUE(api.Start()) << api.log();
  test::ServerProcess worker_a(Data(), env, {"worker"});
  test::ServerProcess worker_b(Data(), env, {"worker"});
  worker_a.Spawn();
  worker_b.Spawn();
  auto client = api.Client();
  auto started = [](test::ServerProcess& worker) { return worker.log().find("started on") != std::string::npos; };
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline && !(started(worker_a) && started(worker_b))) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(worker_a.Running()) << worker_a.log();
  EXPECT_TRUE(worker_b.Running()) << worker_b.log();
  const auto before = TreeChecksums(Data() / "uploads");

  auto rejected = Cli({"backup", "restore", archive.string()});
  EXPECT_EQ(rejected.exit_code, 1) << rejected.output;
  EXPECT_NE(rejected.output.find("is using"), std::string::npos) << rejected.output;
  EXPECT_EQ(client.Get("/health").status, 200);

  EXPECT_EQ(api.Stop(), 0);
  rejected = Cli({"backup", "restore", archive.string()});
  EXPECT_EQ(rejected.exit_code, 1) << "workers still hold the lock: " << rejected.output;
  EXPECT_EQ(worker_a.Stop(), 0);
  EXPECT_EQ(worker_b.Stop(), 0);
  EXPECT_EQ(TreeChecksums(Data() / "uploads"), before);

  auto restored = Cli({"backup", "restore", archive.string()});
  EXPECT_EQ(restored.exit_code, 0) << restored.output;
  bool kept_previous = false;
  bool kept_previous_database = false;
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    const std::string name = entry.path().filename().string();
    kept_previous = kept_previous || (name.rfind("data.before-restore-", 0) == 0 && entry.is_directory());
    kept_previous_database = kept_previous_database || (name.rfind("data.before-restore-", 0) == 0 &&
                                                        name.ends_with(".pgdump") && entry.is_regular_file());
  }
  EXPECT_TRUE(kept_previous);
  EXPECT_EQ(kept_previous_database, test::TestBackendIsPostgres()) << restored.output;
  if (test::TestBackendIsPostgres()) {
    EXPECT_NE(restored.output.find("pg_restore --list"), std::string::npos) << restored.output;
  }

  // The archive was made while the server's worker ran, so it contains that worker's row. The
  // restore removes it because no process of the backed-up instance runs any more.
  const test::SqlResult workers = test::QueryDataDir(Data(), "SELECT count(*) FROM job_worker");
  ASSERT_EQ(workers.error, "");
  ASSERT_EQ(workers.rows.size(), 1u);
  EXPECT_EQ(workers.rows[0][0].value_or(""), "0");
}

TEST_F(BackupTest, FailedRestorePutsDataBack) {
  ON_SKIP_UNLESS_SQLITE_BACKEND();  // alters the SQLite file inside the archive
  StartWithContent();
  const fs::path archive = CreateBackup();
  ASSERT_FALSE(archive.empty());
  EXPECT_EQ(server_->Stop(), 0);

  // A well-formed archive whose database passes the integrity check but whose migration record
  // was altered: the restore gets as far as migrating, after the data directories were swapped.
  const fs::path extracted = dir_.path() / "extracted";
  fs::create_directories(extracted);
  ops::ArchiveReadOptions options;
  options.extract_to = extracted;
  auto contents = ops::ReadArchive(archive, options);
  ASSERT_TRUE(contents.ok()) << contents.status().message();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((extracted / "open-notebook.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_migrations SET checksum = 'altered' WHERE version = 1", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const fs::path altered = dir_.path() / "altered.tar.zst";
  {
    auto writer = ops::ArchiveWriter::Create(altered);
    ASSERT_TRUE(writer.ok());
    for (const auto& file : contents->manifest.files) ASSERT_TRUE((*writer)->AddFile(extracted / file.path, file.path).ok());
    ASSERT_TRUE((*writer)->Finish(contents->manifest).ok());
  }
  EXPECT_EQ(Cli({"backup", "verify", altered.string()}).exit_code, 0);

  const auto before = TreeChecksums(Data());
  auto restored = Cli({"backup", "restore", altered.string()});
  EXPECT_EQ(restored.exit_code, 1) << restored.output;
  EXPECT_NE(restored.output.find("previous data is back in place"), std::string::npos) << restored.output;
  EXPECT_NE(restored.output.find("was changed after it was applied"), std::string::npos) << restored.output;
  EXPECT_EQ(TreeChecksums(Data()), before);

  test::ServerProcess after(Data());
  ASSERT_TRUE(after.Start()) << after.log();
  EXPECT_EQ(after.Client().Get("/api/sources/" + text_source_).status, 200);
  EXPECT_EQ(after.Stop(), 0);
}

TEST_F(BackupTest, CraftedEntriesRejected) {
  fs::create_directories(Data());
  std::ofstream(Data() / "keep.txt") << "existing";
  const std::vector<std::pair<std::string, CraftedEntry>> cases = {
      {"parent", {"uploads/../../escaped.txt", AE_IFREG, "x", ""}},
      {"absolute", {"/tmp/escaped.txt", AE_IFREG, "x", ""}},
      {"dotdot", {"../escaped.txt", AE_IFREG, "x", ""}},
      {"symlink", {"uploads/link", AE_IFLNK, "", "/etc/passwd"}},
      {"hardlink", {"uploads/hard", AE_IFREG, "", "/etc/passwd"}},
      {"device", {"uploads/null", AE_IFCHR, "", ""}},
      {"outside layout", {"cache/x", AE_IFREG, "x", ""}},
  };
  for (const auto& [label, entry] : cases) {
    const fs::path path = dir_.path() / "crafted.tar.zst";
    fs::remove(path);
    WriteCraftedArchive(path, {{"open-notebook.db", AE_IFREG, "not a database", ""}, entry});
    auto verified = Cli({"backup", "verify", path.string()});
    EXPECT_EQ(verified.exit_code, 1) << label << ": " << verified.output;
    EXPECT_NE(verified.output.find("rejected"), std::string::npos) << label << ": " << verified.output;
    auto restored = Cli({"backup", "restore", path.string()});
    EXPECT_EQ(restored.exit_code, 1) << label << ": " << restored.output;
  }
  EXPECT_FALSE(fs::exists(dir_.path() / "escaped.txt"));
  EXPECT_FALSE(fs::exists(dir_.path().parent_path() / "escaped.txt"));
  EXPECT_TRUE(fs::exists(Data() / "keep.txt"));
  EXPECT_FALSE(fs::exists(Data() / "open-notebook.db"));
}

TEST_F(BackupTest, SecretsStayOutOfArchive) {
  fs::create_directories(Data() / "uploads");
  const std::string password = "pw-4fd1c0ffee-secret";
  const std::string key = "key-9a8b7c6d5e4f-secret";
  std::ofstream(Data() / "uploads" / "password.txt") << password << "\n";
  std::map<std::string, std::string> env = {{"OPEN_NOTEBOOK_PASSWORD_FILE", (Data() / "uploads" / "password.txt").string()},
                                            {"OPEN_NOTEBOOK_ENCRYPTION_KEY", key}};
  server_ = std::make_unique<test::ServerProcess>(Data(), env);
  ASSERT_TRUE(server_->Start()) << server_->log();
  auto cli_env = Env();
  cli_env.insert(env.begin(), env.end());
  auto created = RunCli({"backup", "create"}, cli_env, dir_.path());
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const auto archives = Archives(Data() / "backups");
  ASSERT_EQ(archives.size(), 1u);
  const auto [names, content] = ReadAll(archives[0]);
  EXPECT_EQ(content.find(password), std::string::npos);
  EXPECT_EQ(content.find(key), std::string::npos);
  for (const auto& name : names) EXPECT_EQ(name.find("password.txt"), std::string::npos) << name;
  EXPECT_EQ(fs::status(archives[0]).permissions() & fs::perms::others_all, fs::perms::none);
  server_->Stop();
}

TEST_F(BackupTest, ScheduledBackupsKeepNewest) {
  std::map<std::string, std::string> env = {{"OPEN_NOTEBOOK_BACKUP_INTERVAL", "1"},
                                            {"OPEN_NOTEBOOK_BACKUP_KEEP", "2"},
                                            {"OPEN_NOTEBOOK_BACKUP_DIR", Backups().string()}};
  server_ = std::make_unique<test::ServerProcess>(Data(), env);
  ASSERT_TRUE(server_->Start()) << server_->log();
  auto count_written = [&] {
    const std::string log = server_->log();
    size_t count = 0;
    for (size_t at = log.find("scheduled backup written"); at != std::string::npos;
         at = log.find("scheduled backup written", at + 1)) {
      ++count;
    }
    return count;
  };
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline && count_written() < 4) std::this_thread::sleep_for(100ms);
  ASSERT_GE(count_written(), 4u) << server_->log();

  auto cli_env = Env();
  cli_env.insert(env.begin(), env.end());
  cli_env["API_PORT"] = std::to_string(server_->port());
  auto healthy = RunCli({"status"}, cli_env, dir_.path());
  EXPECT_NE(healthy.output.find("backups    ok"), std::string::npos) << healthy.output;

  EXPECT_EQ(server_->Stop(), 0);
  EXPECT_EQ(Archives(Backups()).size(), 2u);
  EXPECT_NE(server_->log().find("deleted old backup"), std::string::npos);
  EXPECT_TRUE(fs::exists(Backups() / "last-backup.json"));
  for (const auto& archive : Archives(Backups())) {
    EXPECT_EQ(RunCli({"backup", "verify", archive.string()}, cli_env, dir_.path()).exit_code, 0) << archive;
  }

  // With the server stopped, the last backup soon exceeds twice the 1 s interval.
  std::this_thread::sleep_for(2500ms);
  auto stale = RunCli({"status"}, cli_env, dir_.path());
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_NE(stale.output.find("more than twice OPEN_NOTEBOOK_BACKUP_INTERVAL"), std::string::npos) << stale.output;
  EXPECT_NE(stale.output.find("open-notebook backup create"), std::string::npos) << stale.output;
}

}  // namespace
}  // namespace on
