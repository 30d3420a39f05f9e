// `open-notebook db copy`: a SQLite database with every kind of record is copied to PostgreSQL and
// back to a new SQLite file, and the storage interface must read the same records from all three.
// Skipped without OPEN_NOTEBOOK_TEST_POSTGRES_URL.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "search/tokenizer.h"
#include "storage/copy.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/postgres_storage.h"
#include "storage/sqlite/sqlite_storage.h"
#include "support/cli_command.h"
#include "support/postgres_database.h"
#include "support/temp_dir.h"

namespace nlohmann {
template <typename T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& out, const std::optional<T>& value) {
    if (value) {
      out = *value;
    } else {
      out = nullptr;
    }
  }
  static void from_json(const json& in, std::optional<T>& value) {
    if (in.is_null()) {
      value.reset();
    } else {
      value = in.get<T>();
    }
  }
};
}  // namespace nlohmann

namespace on::storage {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Notebook, id, name, description, archived, created, updated, last_viewed_at,
                                   source_count, note_count)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Note, id, title, content, note_type, notebook_id, command_id, created, updated)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Source, id, title, topics, asset_url, asset_file_path, original_filename,
                                   full_text, content_kind, embed, transformations_json, command_id, created, updated,
                                   last_viewed_at, job_status, job_error, job_started, job_completed, job_error_code,
                                   job_stage, job_percent, chunk_count, insight_count, notebooks)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ChunkRecord, index, content, begin, end, page, token_count)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SealedApiKey, ciphertext, nonce, key_version)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Credential, id, name, provider, modalities, api_key, base_url, endpoint,
                                   api_version, endpoint_llm, endpoint_embedding, endpoint_stt, endpoint_tts, project,
                                   location, credentials_path, num_ctx, created, updated, model_count)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Model, id, name, provider, type, credential_id, created, updated)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DefaultModelSlot, slot, model_id, updated)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Transformation, id, name, title, description, prompt, apply_default, model_id,
                                   created, updated)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Insight, id, source_id, insight_type, content, transformation_id, model_id,
                                   command_id, created, updated)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SpeakerProfile, id, name, description, voice_model, speakers_json, created, updated)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EpisodeProfile, id, name, description, speaker_config, outline_llm,
                                   transcript_llm, language, default_briefing, num_segments, max_tokens, created,
                                   updated)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Episode, id, name, briefing, episode_profile_json, speaker_profile_json,
                                   notebook_id, content, command_id, outline_json, transcript_json, audio_file,
                                   duration_ms, created, updated)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ChatSession, id, title, auto_title, notebook_id, source_id, model_override,
                                   created, updated, message_count)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ChatMessage, id, session_id, type, content, citations_json, context_json, model_id,
                                   created)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RecentItem, type, id, title, last_viewed_at)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EmbeddingModelState, max_id, count, deletions)

void to_json(nlohmann::json& out, const Job& job) {
  out = {{"id", job.id},
         {"app", job.app},
         {"command", job.command},
         {"input", job.input_json},
         {"status", std::string(JobStatusName(job.status))},
         {"attempts", job.attempts},
         {"max_attempts", job.max_attempts},
         {"run_after", job.run_after},
         {"lease_owner", job.lease_owner},
         {"lease_expires", job.lease_expires},
         {"heartbeat_at", job.heartbeat_at},
         {"cancel_requested", job.cancel_requested},
         {"progress_stage", job.progress_stage},
         {"progress_percent", job.progress_percent},
         {"result", job.result_json},
         {"error_message", job.error_message},
         {"error_code", job.error_code},
         {"dedupe_key", job.dedupe_key},
         {"created", job.created},
         {"updated", job.updated},
         {"started", job.started},
         {"completed", job.completed}};
}

void to_json(nlohmann::json& out, const WorkerInfo& worker) {
  out = {{"id", worker.id},          {"host", worker.host},       {"pid", worker.pid},
         {"commands", worker.commands}, {"max_tasks", worker.max_tasks}, {"running", worker.running},
         {"lease_ms", worker.lease.count()}, {"started", worker.started}, {"heartbeat_at", worker.heartbeat_at}};
}

}  // namespace on::storage

namespace on::storage {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kEmbeddingModel[] = "fake/embed-8";

// Values that a text round trip of a float could change: negative zero, a subnormal number, the
// largest float and numbers without a short decimal form.
std::vector<float> VectorFor(int seed) {
  return {-0.0f, 1.0e-40f, 3.4028235e38f, 0.1f * static_cast<float>(seed), 1.0f / 3.0f, -2.5e-7f,
          static_cast<float>(seed), 123456.789f};
}

std::string Bytes(const std::vector<float>& vector) {
  return std::string(reinterpret_cast<const char*>(vector.data()), vector.size() * sizeof(float));
}

template <typename T>
T Must(Result<T> result) {
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) throw std::runtime_error(result.status().ToString());
  return std::move(result).value();
}

void MustOk(const Status& status) {
  EXPECT_TRUE(status.ok()) << status.ToString();
  if (!status.ok()) throw std::runtime_error(status.ToString());
}

// Ids the checks of a filled database need.
struct Filled {
  std::string notebook;
  std::string source;
  int64_t highest_embedding_id = 0;  // before the newest vector was deleted
};

// Writes every kind of record through the storage interface.
Filled FillEveryKind(Storage& storage) {
  Filled filled;
  filled.notebook = Must(storage.CreateNotebook("Research", "Viruses and 病毒")).id;
  const std::string archived = Must(storage.CreateNotebook("Old", "")).id;
  NotebookPatch archive;
  archive.archived = true;
  Must(storage.UpdateNotebook(archived, archive));
  storage.TouchViewed(filled.notebook);

  SourceCreate create;
  create.title = "Influenza notes";
  create.url = "https://example.org/flu";
  create.notebooks = {filled.notebook, archived};
  create.embed = true;
  create.transformations_json = R"(["transformation:dense_summary"])";
  create.job_app = "open_notebook";
  create.job_command = "process_source";
  create.job_max_attempts = 3;
  filled.source = Must(storage.CreateSource(create)).id;
  SourceExtraction extraction;
  extraction.full_text = "Influenza viruses spread through droplets. 病毒通过飞沫传播。 Vaccines reduce spreading.";
  extraction.content_kind = "text/html";
  extraction.chunks = {{0, "Influenza viruses spread through droplets.", 0, 42, 1, 7},
                       {1, "病毒通过飞沫传播。", 43, 70, std::nullopt, 5},
                       {2, "Vaccines reduce spreading; it's 'quoted' \\ text.", 71, 120, 2, 9}};
  // More than nine chunks and vectors, so sorting ids as text ("10" before "9") would reorder them.
  for (int i = 3; i < 12; ++i) {
    const int64_t begin = 120 + 40 * i;
    extraction.chunks.push_back({i, "Filler chunk " + std::to_string(i) + " about ventilation.", begin, begin + 35, 3, 6});
  }
  MustOk(storage.SaveExtraction(filled.source, extraction));

  SourceCreate pasted;
  pasted.title = "Pasted";
  pasted.text = "A short pasted text about measles.";
  pasted.job_app = "open_notebook";
  pasted.job_command = "process_source";
  const std::string pasted_id = Must(storage.CreateSource(pasted)).id;
  SourcePatch topics;
  topics.topics = std::vector<std::string>{"measles", "vaccines"};
  Must(storage.UpdateSource(pasted_id, topics));

  Note note;
  note.title = "Droplets";
  note.content = "Droplet transmission dominates indoors.";
  note.note_type = "human";
  note.notebook_id = filled.notebook;
  const std::string note_id = Must(storage.CreateNote(note)).id;
  Note ai_note;
  ai_note.content = "An AI summary without a title.";
  ai_note.note_type = "ai";
  Must(storage.CreateNote(ai_note));

  Credential credential;
  credential.id = "credential:test";
  credential.name = "Local";
  credential.provider = "openai_compatible";
  credential.modalities = {"language", "embedding"};
  credential.api_key = SealedApiKey{"Y2lwaGVydGV4dA==", "bm9uY2U=", "v1"};
  credential.base_url = "http://127.0.0.1:1/v1";
  credential.num_ctx = 8192;
  Must(storage.CreateCredential(credential));
  Model language;
  language.name = "chat-model";
  language.provider = "openai_compatible";
  language.type = "language";
  language.credential_id = credential.id;
  const std::string language_id = Must(storage.CreateModel(language)).id;
  Model embedding;
  embedding.name = "embed-8";
  embedding.provider = "fake";
  embedding.type = "embedding";
  const std::string embedding_id = Must(storage.CreateModel(embedding)).id;
  Must(storage.SetDefaultModels({{"default_chat_model", language_id}, {"default_embedding_model", embedding_id}}));
  Must(storage.SaveSettings({{"chunk_size", "900"}, {"ui_language", "zh-CN"}}));

  Transformation transformation;
  transformation.name = "Questions";
  transformation.title = "Open questions";
  transformation.prompt = "List the open questions.";
  transformation.apply_default = true;
  transformation.model_id = language_id;
  const std::string transformation_id = Must(storage.CreateTransformation(transformation)).id;
  TransformationPatch edit_default;
  edit_default.prompt = "An edited default prompt.";
  Must(storage.UpdateTransformation("transformation:simple_summary", edit_default));
  MustOk(storage.SetTransformationInstructions("Answer in plain English."));

  Insight insight;
  insight.source_id = filled.source;
  insight.insight_type = "Open questions";
  insight.content = "Why do droplets dominate?";
  insight.transformation_id = transformation_id;
  insight.model_id = language_id;
  insight.command_id = "command:insight1";
  const std::string insight_id = Must(storage.SaveInsight(insight)).id;

  // Vectors of the chunks, the insight and the note, the note's last, so deleting the note leaves
  // a gap above the highest remaining id.
  std::vector<EmbeddingItem> items = Must(storage.ListUnembedded(kEmbeddingModel, {filled.source, {}, {}}, 100));
  for (const auto& item : Must(storage.ListUnembedded(kEmbeddingModel, {{}, {}, insight_id}, 10))) items.push_back(item);
  std::vector<std::vector<float>> vectors;
  for (size_t i = 0; i < items.size(); ++i) vectors.push_back(VectorFor(static_cast<int>(i)));
  EXPECT_EQ(Must(storage.SaveEmbeddings(kEmbeddingModel, items, vectors)), static_cast<int64_t>(items.size()));
  const auto note_items = Must(storage.ListUnembedded(kEmbeddingModel, {{}, note_id, {}}, 10));
  EXPECT_EQ(Must(storage.SaveEmbeddings(kEmbeddingModel, note_items, {VectorFor(99)})), 1);
  filled.highest_embedding_id = Must(storage.GetEmbeddingState(kEmbeddingModel)).max_id;
  MustOk(storage.DeleteNote(note_id));
  Note kept = note;
  kept.title = "Kept note";
  Must(storage.CreateNote(kept));

  ChatSession session;
  session.title = "New chat";
  session.auto_title = true;
  session.notebook_id = filled.notebook;
  const std::string session_id = Must(storage.CreateChatSession(session)).id;
  ChatMessage question;
  question.session_id = session_id;
  question.type = "human";
  question.content = "How do viruses spread?";
  Must(storage.AddChatMessage(question, std::string("Virus spread")));
  ChatMessage answer;
  answer.session_id = session_id;
  answer.type = "ai";
  answer.content = "Mostly through droplets [1].";
  answer.citations_json = R"([{"id":"source_chunk:1"}])";
  answer.context_json = R"({"sources":[],"chunks":[1],"insights":[],"notes":[]})";
  answer.model_id = language_id;
  Must(storage.AddChatMessage(answer, std::nullopt));
  ChatSession source_chat;
  source_chat.title = "About the source";
  source_chat.source_id = filled.source;
  source_chat.model_override = "model:gone";
  Must(storage.CreateChatSession(source_chat));

  SpeakerProfile speakers;
  speakers.name = "duo";
  speakers.voice_model = std::nullopt;
  speakers.speakers_json = R"([{"name":"A","voice_id":"x","backstory":"b","personality":"p"}])";
  const std::string speakers_id = Must(storage.CreateSpeakerProfile(speakers)).id;
  EpisodeProfile profile;
  profile.name = "short";
  profile.speaker_config = speakers_id;
  profile.outline_llm = language_id;
  profile.language = "de";
  profile.num_segments = 3;
  profile.max_tokens = 2000;
  Must(storage.CreateEpisodeProfile(profile));
  Episode episode;
  episode.name = "Episode one";
  episode.episode_profile_json = R"({"name":"short"})";
  episode.speaker_profile_json = R"({"name":"duo"})";
  episode.notebook_id = filled.notebook;
  episode.content = "Droplets.";
  JobSpec episode_job;
  episode_job.app = "open_notebook";
  episode_job.command = "generate_podcast";
  const std::string episode_id = Must(storage.CreateEpisode(episode, episode_job)).id;
  EpisodeOutput output;
  output.outline_json = R"({"segments":[]})";
  output.transcript_json = R"([{"speaker":"A","dialogue":"Hi"}])";
  output.audio_file = "episode-one.mp3";
  output.duration_ms = 61000;
  MustOk(storage.SaveEpisodeOutput(episode_id, output));

  // Jobs in every state: the sources' and the episode's jobs are queued; one more runs with a
  // lease and progress, one completed, one failed.
  JobSpec spec;
  spec.app = "open_notebook";
  spec.command = "embed_note";
  spec.input_json = R"({"note":"x"})";
  spec.max_attempts = 4;
  spec.dedupe_key = "embed:x";
  Must(storage.jobs().Submit(spec));
  spec.dedupe_key.reset();
  spec.command = "rebuild";
  Must(storage.jobs().Submit(spec));
  Must(storage.jobs().Submit(spec));
  ClaimRequest claim;
  claim.worker_id = "worker:host-1";
  claim.commands = {"open_notebook.embed_note", "open_notebook.rebuild"};
  const Job running = *Must(storage.jobs().Claim(claim));
  Must(storage.jobs().ReportProgress({running.id, claim.worker_id, running.attempts}, "embedding", 40));
  const Job done = *Must(storage.jobs().Claim(claim));
  Must(storage.jobs().Complete({done.id, claim.worker_id, done.attempts}, R"({"ok":true})"));
  const Job failed = *Must(storage.jobs().Claim(claim));
  Must(storage.jobs().Fail({failed.id, claim.worker_id, failed.attempts}, Status(ErrorCode::kUpstream, "provider down")));
  WorkerInfo worker;
  worker.id = claim.worker_id;
  worker.host = "host-1";
  worker.pid = 4242;
  worker.commands = claim.commands;
  worker.max_tasks = 2;
  worker.running = 1;
  worker.started = "2026-01-01T00:00:00.000000+00:00";
  worker.heartbeat_at = "2026-01-01T00:01:00.000000+00:00";
  MustOk(storage.jobs().SaveWorker(worker));
  return filled;
}

json SortedArray(json array) {
  std::sort(array.begin(), array.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return array;
}

// Everything the storage interface reads back, with lists sorted so that the order of rows that
// tie in a list query does not matter.
json ReadEverything(Storage& storage) {
  json all;
  NotebookQuery notebooks;
  notebooks.sort = NotebookSortField::kCreated;
  all["notebooks"] = SortedArray(Must(storage.ListNotebooks(notebooks)));
  all["recent"] = Must(storage.ListRecentlyViewed(20));

  SourceQuery sources;
  sources.limit = 1000;
  json source_details = json::array();
  for (const Source& listed : Must(storage.ListSources(sources))) {
    json detail;
    detail["source"] = Must(storage.GetSource(listed.id, true));
    detail["chunks"] = Must(storage.ListSourceChunks(listed.id));
    detail["insights"] = Must(storage.ListInsights(listed.id));
    json chats = json::array();
    for (const ChatSession& chat : Must(storage.ListChatSessions(std::nullopt, listed.id))) {
      chats.push_back({{"session", chat}, {"messages", Must(storage.ListChatMessages(chat.id))}});
    }
    detail["chats"] = chats;
    source_details.push_back(detail);
  }
  all["sources"] = SortedArray(source_details);

  json notebook_chats = json::array();
  for (const Notebook& notebook : Must(storage.ListNotebooks(notebooks))) {
    for (const ChatSession& chat : Must(storage.ListChatSessions(notebook.id, std::nullopt))) {
      notebook_chats.push_back({{"session", chat}, {"messages", Must(storage.ListChatMessages(chat.id))}});
    }
  }
  all["notebook_chats"] = SortedArray(notebook_chats);
  all["notes"] = SortedArray(Must(storage.ListNotes({})));

  all["credentials"] = SortedArray(Must(storage.ListCredentials(std::nullopt)));
  all["models"] = SortedArray(Must(storage.ListModels({})));
  all["default_models"] = SortedArray(Must(storage.GetDefaultModels()).slots);
  const StoredSettings settings = Must(storage.GetStoredSettings());
  all["settings"] = {{"version", settings.version}, {"values", settings.values}};
  all["config_version"] = Must(storage.GetConfigVersion());

  all["transformations"] = SortedArray(Must(storage.ListTransformations()));
  all["instructions"] = Must(storage.GetTransformationInstructions());
  all["speaker_profiles"] = SortedArray(Must(storage.ListSpeakerProfiles()));
  all["episode_profiles"] = SortedArray(Must(storage.ListEpisodeProfiles()));
  all["episodes"] = SortedArray(Must(storage.ListEpisodes()));

  JobQuery jobs;
  jobs.limit = 1000;
  all["jobs"] = SortedArray(Must(storage.jobs().List(jobs)));
  all["workers"] = SortedArray(Must(storage.jobs().ListWorkers()));

  all["embedding_state"] = Must(storage.GetEmbeddingState(kEmbeddingModel));
  all["embeddable_items"] = Must(storage.CountEmbeddableItems());
  return all;
}

// Embedding id to the vector's bytes.
std::map<int64_t, std::string> ReadVectors(Storage& storage) {
  std::map<int64_t, std::string> vectors;
  for (const StoredEmbedding& embedding : Must(storage.ListEmbeddings(kEmbeddingModel, 0, 1000))) {
    vectors[embedding.id] = Bytes(embedding.vector);
  }
  return vectors;
}

// The hits of a keyword search as "type id field chunk", sorted.
Result<std::vector<std::string>> SearchHits(Storage& storage, const std::string& query) {
  const search::Tokenizer tokenizer("english");
  TextSearchQuery search;
  for (const auto& term : search::ExtractQueryTerms(query, tokenizer)) search.terms.push_back({term.term, term.surface});
  ON_ASSIGN_OR_RETURN(auto found, storage.SearchText(search));
  std::vector<std::string> hits;
  for (const TextSearchHit& hit : found) {
    hits.push_back(hit.type + " " + hit.id + " " + hit.match_field + " " +
                   (hit.chunk_index ? std::to_string(*hit.chunk_index) : "-"));
  }
  std::sort(hits.begin(), hits.end());
  return hits;
}

const std::vector<std::string> kQueries = {"droplets", "spread", "病毒", "pasted", "kept note", "quoted"};

// Runs `open-notebook args...` with only PATH and HOME in its environment.
test::CliResult RunCli(const std::vector<std::string>& args, const fs::path& log_dir) {
  return test::RunCli(args, {}, log_dir);
}

class DbCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::PostgresServerUrl()) GTEST_SKIP() << test::kPostgresSkipMessage;
    postgres_ = std::make_unique<test::PostgresDatabase>();
    ASSERT_EQ(postgres_->error(), "");
  }

  std::string SqlitePath(const std::string& name) const { return (dir_.path() / name).string(); }

  std::unique_ptr<Storage> OpenSqlite(const std::string& path) {
    sqlite::ConnectionOptions options;
    options.path = path;
    options.synchronous = "normal";
    auto opened = sqlite::SqliteStorage::Open(options);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::unique_ptr<Storage>(std::move(opened).value()) : nullptr;
  }

  std::unique_ptr<Storage> OpenPostgres(const std::string& url) {
    postgres::PoolOptions options;
    options.connection.url = url;
    options.size = 2;
    auto opened = postgres::PostgresStorage::Open(options);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::unique_ptr<Storage>(std::move(opened).value()) : nullptr;
  }

  // A SQLite database at the latest schema with every kind of record.
  Filled MakeFilledSqlite(const std::string& path) {
    auto storage = OpenSqlite(path);
    MustOk(storage->MigrateUp(std::nullopt));
    return FillEveryKind(*storage);
  }

  test::TempDir dir_;
  std::unique_ptr<test::PostgresDatabase> postgres_;
};

TEST_F(DbCopyTest, RoundTripKeepsEveryRecord) {
  const std::string original = SqlitePath("original.db");
  const std::string back = SqlitePath("back.db");
  const Filled filled = MakeFilledSqlite(original);

  auto to_postgres = CopyDatabase(original, postgres_->url());
  ASSERT_TRUE(to_postgres.ok()) << to_postgres.status().ToString();
  auto to_sqlite = CopyDatabase(postgres_->url(), "sqlite://" + back);
  ASSERT_TRUE(to_sqlite.ok()) << to_sqlite.status().ToString();

  // Both copies report the same rows and checksums for every table.
  ASSERT_EQ(to_postgres->tables.size(), to_sqlite->tables.size());
  for (size_t i = 0; i < to_postgres->tables.size(); ++i) {
    const TableComparison& first = to_postgres->tables[i];
    const TableComparison& second = to_sqlite->tables[i];
    EXPECT_TRUE(first.matches()) << first.table;
    EXPECT_TRUE(second.matches()) << second.table;
    EXPECT_EQ(first.source_checksum, second.target_checksum) << first.table;
    EXPECT_EQ(first.source_rows, second.target_rows) << first.table;
  }
  std::map<std::string, int64_t> rows;
  for (const TableComparison& table : to_postgres->tables) rows[table.table] = table.source_rows;
  EXPECT_EQ(rows["notebook"], 2);
  EXPECT_EQ(rows["source"], 2);
  EXPECT_EQ(rows["source_chunk"], 12);
  EXPECT_EQ(rows["embedding"], 13);
  EXPECT_EQ(rows["embedding_model_state"], 1);
  EXPECT_EQ(rows["chat_message"], 2);
  EXPECT_EQ(rows["transformation"], 7);
  EXPECT_EQ(rows["default_model"], 7);
  EXPECT_EQ(rows["job_worker"], 1);

  auto sqlite_original = OpenSqlite(original);
  auto postgres = OpenPostgres(postgres_->url());
  auto sqlite_back = OpenSqlite(back);
  const json expected = ReadEverything(*sqlite_original);
  EXPECT_EQ(ReadEverything(*postgres), expected);
  EXPECT_EQ(ReadEverything(*sqlite_back), expected);

  const auto vectors = ReadVectors(*sqlite_original);
  ASSERT_EQ(vectors.size(), 13u);
  EXPECT_EQ(vectors.begin()->second, Bytes(VectorFor(0)));
  EXPECT_EQ(ReadVectors(*postgres), vectors);
  EXPECT_EQ(ReadVectors(*sqlite_back), vectors);

  for (const std::string& query : kQueries) {
    const auto hits = Must(SearchHits(*sqlite_original, query));
    EXPECT_FALSE(hits.empty()) << query;
    EXPECT_EQ(Must(SearchHits(*sqlite_back, query)), hits) << query;
    // NOTE: PostgresStorage::SearchText returns "not implemented yet" until the PostgreSQL
    // keyword search exists. Only that error is accepted, and once it exists the copied
    // tsvectors must give the same hits as SQLite.
    auto postgres_hits = SearchHits(*postgres, query);
    if (postgres_hits.ok()) {
      EXPECT_EQ(*postgres_hits, hits) << query;
    } else {
      EXPECT_NE(postgres_hits.status().message().find("SearchText is not implemented yet"), std::string::npos)
          << postgres_hits.status().ToString();
    }
  }

  // New rows get ids above every copied one, including the deleted note's vector.
  for (Storage* copy : {postgres.get(), sqlite_back.get()}) {
    SourceCreate create;
    create.title = "After the copy";
    create.job_app = "open_notebook";
    create.job_command = "process_source";
    const std::string source = Must(copy->CreateSource(create)).id;
    SourceExtraction extraction;
    extraction.full_text = "New text";
    extraction.content_kind = "text/plain";
    extraction.chunks = {{0, "New text", 0, 8, std::nullopt, 2}};
    ASSERT_TRUE(copy->SaveExtraction(source, extraction).ok());
    const auto items = Must(copy->ListUnembedded(kEmbeddingModel, {source, {}, {}}, 10));
    ASSERT_EQ(items.size(), 1u);
    ASSERT_EQ(Must(copy->SaveEmbeddings(kEmbeddingModel, items, {VectorFor(7)})), 1);
    EXPECT_GT(Must(copy->GetEmbeddingState(kEmbeddingModel)).max_id, filled.highest_embedding_id);
    ChatMessage message;
    message.session_id = Must(copy->ListChatSessions(filled.notebook, std::nullopt)).at(0).id;
    message.type = "human";
    message.content = "Another question";
    Must(copy->AddChatMessage(message, std::nullopt));
    const auto messages = Must(copy->ListChatMessages(message.session_id));
    ASSERT_EQ(messages.size(), 3u);
    EXPECT_EQ(messages.back().content, "Another question");
  }
}

TEST_F(DbCopyTest, RejectsTargetWithData) {
  const std::string original = SqlitePath("original.db");
  MakeFilledSqlite(original);
  ASSERT_TRUE(CopyDatabase(original, postgres_->url()).ok());

  auto again = CopyDatabase(original, postgres_->url());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kConflict);
  EXPECT_NE(again.status().message().find("is not empty: table notebook has rows"), std::string::npos)
      << again.status().message();
  EXPECT_NE(again.status().message().find("give --to a new SQLite file or an empty PostgreSQL database"),
            std::string::npos);

  // The refused copy changed nothing.
  auto compared = CompareDatabases(original, postgres_->url());
  ASSERT_TRUE(compared.ok()) << compared.status().ToString();
  for (const TableComparison& table : *compared) EXPECT_TRUE(table.matches()) << table.table;
}

TEST_F(DbCopyTest, RejectsEditedMigrationDefaults) {
  const std::string original = SqlitePath("original.db");
  MakeFilledSqlite(original);
  const std::string target = SqlitePath("target.db");
  {
    auto storage = OpenSqlite(target);
    ASSERT_TRUE(storage->MigrateUp(std::nullopt).ok());
    ASSERT_TRUE(storage->SetTransformationInstructions("Edited on the target").ok());
  }

  auto copied = CopyDatabase(original, target);
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(copied.status().code(), ErrorCode::kConflict);
  EXPECT_NE(copied.status().message().find("table app_setting has rows"), std::string::npos)
      << copied.status().message();
  EXPECT_EQ(Must(OpenSqlite(target)->GetTransformationInstructions()), "Edited on the target");
}

TEST_F(DbCopyTest, AcceptsFreshlyMigratedTarget) {
  const std::string original = SqlitePath("original.db");
  MakeFilledSqlite(original);
  ASSERT_TRUE(OpenPostgres(postgres_->url())->MigrateUp(std::nullopt).ok());

  auto copied = CopyDatabase(original, postgres_->url());
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  // The source's edited default replaces the target's seeded one.
  EXPECT_EQ(Must(OpenPostgres(postgres_->url())->GetTransformation("transformation:simple_summary")).prompt,
            "An edited default prompt.");
}

TEST_F(DbCopyTest, RejectsOutdatedSource) {
  const std::string outdated = SqlitePath("outdated.db");
  ASSERT_TRUE(OpenSqlite(outdated)->MigrateUp(5).ok());

  auto copied = CopyDatabase(outdated, postgres_->url());
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(copied.status().code(), ErrorCode::kMigration);
  EXPECT_NE(copied.status().message().find("is at schema version 5"), std::string::npos) << copied.status().message();
  EXPECT_NE(copied.status().message().find("`open-notebook migrate up`"), std::string::npos);

  auto missing = CopyDatabase(SqlitePath("missing.db"), postgres_->url());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists(SqlitePath("missing.db")));
}

TEST_F(DbCopyTest, VerifyReportsChangedTable) {
  const std::string original = SqlitePath("original.db");
  MakeFilledSqlite(original);
  ASSERT_TRUE(CopyDatabase(original, postgres_->url()).ok());

  postgres::ConnectionOptions options;
  options.url = postgres_->url();
  auto db = postgres::Connection::Open(options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->Execute("UPDATE source_chunk SET content = content || ' ' WHERE chunk_index = 1").ok());

  auto compared = CompareDatabases(original, postgres_->url());
  ASSERT_TRUE(compared.ok()) << compared.status().ToString();
  std::vector<std::string> differing;
  for (const TableComparison& table : *compared) {
    if (!table.matches()) differing.push_back(table.table);
  }
  EXPECT_EQ(differing, std::vector<std::string>{"source_chunk"});
}

TEST_F(DbCopyTest, CommandPrintsSummaryWithoutPassword) {
  const std::string original = SqlitePath("original.db");
  MakeFilledSqlite(original);
  // The test server trusts local connections, so it accepts any password.
  std::string url = postgres_->url();
  url.insert(url.find('@'), ":s3cret-pw");
  ASSERT_NE(url.find("postgres:s3cret-pw@"), std::string::npos) << url;

  const test::CliResult copied = RunCli({"db", "copy", "--from", original, "--to", url}, dir_.path());
  EXPECT_EQ(copied.exit_code, 0) << copied.output;
  EXPECT_EQ(copied.output.find("s3cret-pw"), std::string::npos) << copied.output;
  EXPECT_NE(copied.output.find("postgres:***@"), std::string::npos) << copied.output;
  EXPECT_NE(copied.output.find("\nsource_chunk "), std::string::npos) << copied.output;
  EXPECT_NE(copied.output.find("the row count and checksum of every table match"), std::string::npos)
      << copied.output;
  EXPECT_EQ(copied.output.find("DIFFERS"), std::string::npos) << copied.output;

  const test::CliResult verified = RunCli({"db", "verify", "--from", original, "--to", url}, dir_.path());
  EXPECT_EQ(verified.exit_code, 0) << verified.output;

  const test::CliResult refused = RunCli({"db", "copy", "--from", original, "--to", url}, dir_.path());
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("is not empty: table notebook has rows"), std::string::npos) << refused.output;
  EXPECT_EQ(refused.output.find("s3cret-pw"), std::string::npos) << refused.output;

  const test::CliResult unreachable =
      RunCli({"db", "copy", "--from", original, "--to", "postgresql://user:s3cret-pw@127.0.0.1:1/none"}, dir_.path());
  EXPECT_EQ(unreachable.exit_code, 1) << unreachable.output;
  EXPECT_EQ(unreachable.output.find("s3cret-pw"), std::string::npos) << unreachable.output;
}


}  // namespace
}  // namespace on::storage
