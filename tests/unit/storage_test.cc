// The storage interface against each backend: SQLite always, PostgreSQL when
// OPEN_NOTEBOOK_TEST_POSTGRES_URL names a test server.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "storage/migrations.h"
#include "support/test_storage.h"

namespace on::storage {
namespace {

class StorageTest : public ::testing::TestWithParam<test::StorageBackend> {
 protected:
  void SetUp() override {
    database_ = std::make_unique<test::TestStorage>(GetParam());
    if (database_->skip_reason()) GTEST_SKIP() << *database_->skip_reason();
    ASSERT_EQ(database_->error(), "");
    storage_ = &database_->storage();
  }

  // Runs SQL through a separate connection, as another tool would.
  void ExecuteRaw(const std::string& sql) { ASSERT_EQ(database_->ExecuteRaw(sql), "") << sql; }

  std::string BackendName() const { return GetParam() == test::StorageBackend::kSqlite ? "sqlite" : "postgres"; }

  // NOTE: PostgresStorage::CheckIntegrity is not implemented yet, so only SQLite runs the check.
  void ExpectIntegrity() {
    if (GetParam() == test::StorageBackend::kSqlite) {
      EXPECT_TRUE(storage_->CheckIntegrity().ok());
    }
  }

  std::unique_ptr<test::TestStorage> database_;
  Storage* storage_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(Backends, StorageTest, test::kAllStorageBackends, test::StorageBackendName);

TEST_P(StorageTest, MigratesUpDownAndUpAgain) {
  auto migrations = LoadMigrations(BackendName());
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
  ExpectIntegrity();
}

TEST_P(StorageTest, MigrateUpIsIdempotent) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  EXPECT_TRUE(storage_->CheckSchema().ok());
}

TEST_P(StorageTest, TamperedMigrationIsRefused) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  ExecuteRaw("UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1");
  Status schema = storage_->CheckSchema();
  EXPECT_EQ(schema.code(), ErrorCode::kMigration);
  EXPECT_NE(schema.message().find("changed after it was applied"), std::string::npos) << schema.message();
  EXPECT_EQ(storage_->MigrateUp(std::nullopt).code(), ErrorCode::kMigration);
}

TEST_P(StorageTest, NewerDatabaseIsRefused) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  ExecuteRaw("INSERT INTO schema_migrations VALUES (999, 'future', 'x', '2030-01-01')");
  Status schema = storage_->CheckSchema();
  EXPECT_EQ(schema.code(), ErrorCode::kMigration);
  EXPECT_NE(schema.message().find("newer binary"), std::string::npos) << schema.message();
  EXPECT_EQ(storage_->MigrateUp(std::nullopt).code(), ErrorCode::kMigration);
  EXPECT_EQ(storage_->MigrateDown(0).code(), ErrorCode::kMigration);
}

TEST_P(StorageTest, NotebookCountsAndDeletePreview) {
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
  ExpectIntegrity();
}

TEST_P(StorageTest, ListSortsAndFilters) {
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

TEST_P(StorageTest, ConcurrentWritersAllCommit) {
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

TEST_P(StorageTest, FailedWriteRollsBackAlone) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  Note orphan;
  orphan.content = "x";
  orphan.note_type = "human";
  orphan.notebook_id = "notebook:missing";
  EXPECT_EQ(storage_->CreateNote(orphan).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(storage_->CreateNotebook("still works", "").ok());
}

TEST_P(StorageTest, NotesPageAndPatch) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  auto notebook = storage_->CreateNotebook("notes", "");
  ASSERT_TRUE(notebook.ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    Note note;
    note.title = "title " + std::to_string(i);
    note.content = "content " + std::to_string(i);
    note.note_type = "human";
    note.notebook_id = notebook->id;
    auto created = storage_->CreateNote(note);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    ids.push_back(created->id);
  }

  NoteQuery page;
  page.notebook_id = notebook->id;
  page.limit = 2;
  page.offset = 1;
  auto listed = storage_->ListNotes(page);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  // Most recently updated first: the second and first notes follow the third.
  EXPECT_EQ((*listed)[0].id, ids[1]);
  EXPECT_EQ((*listed)[1].id, ids[0]);

  NotePatch clear_title;
  clear_title.title = std::optional<std::string>();
  auto patched = storage_->UpdateNote(ids[0], clear_title);
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_FALSE(patched->title.has_value());
  EXPECT_EQ(patched->content, "content 0");
  EXPECT_FALSE(storage_->GetNote(ids[0])->title.has_value());

  EXPECT_TRUE(storage_->SetNoteCommand(ids[1], "command:embed").ok());
  EXPECT_EQ(storage_->GetNote(ids[1])->command_id, "command:embed");
  EXPECT_EQ(storage_->SetNoteCommand("note:missing", "command:x").code(), ErrorCode::kNotFound);

  EXPECT_TRUE(storage_->DeleteNote(ids[2]).ok());
  EXPECT_EQ(storage_->DeleteNote(ids[2]).code(), ErrorCode::kNotFound);
  EXPECT_EQ(storage_->GetNote(ids[2]).status().code(), ErrorCode::kNotFound);

  NoteQuery missing_notebook;
  missing_notebook.notebook_id = "notebook:missing";
  EXPECT_EQ(storage_->ListNotes(missing_notebook).status().code(), ErrorCode::kNotFound);
}

TEST_P(StorageTest, UpdateMissingNotebookIsNotFound) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  NotebookPatch rename;
  rename.name = "renamed";
  EXPECT_EQ(storage_->UpdateNotebook("notebook:missing", rename).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(storage_->DeleteNotebook("notebook:missing", true).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(storage_->PreviewNotebookDelete("notebook:missing").status().code(), ErrorCode::kNotFound);
}

TEST_P(StorageTest, SettingsChangesRaiseVersion) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  EXPECT_EQ(*storage_->GetConfigVersion(), 0);

  auto saved = storage_->SaveSettings({{"log_level", std::string("debug")}, {"fetch_timeout_s", std::string("30")}});
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(saved->version, 1);
  EXPECT_EQ(saved->values.at("log_level"), "debug");
  EXPECT_EQ(saved->values.size(), 2u);

  auto removed = storage_->SaveSettings({{"log_level", std::nullopt}});
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(removed->version, 2);
  EXPECT_EQ(removed->values.count("log_level"), 0u);
  EXPECT_EQ(storage_->GetStoredSettings()->values, removed->values);
  EXPECT_EQ(*storage_->GetConfigVersion(), 2);
}

TEST_P(StorageTest, ConcurrentSettingsSavesEachCount) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!storage_->SaveSettings({{"log_level", std::to_string(t)}}).ok()) failures++;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*storage_->GetConfigVersion(), kThreads * kPerThread);
}

TEST_P(StorageTest, SourceLifecycle) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  auto first = storage_->CreateNotebook("first", "");
  auto second = storage_->CreateNotebook("second", "");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());

  SourceCreate create;
  create.title = "Processing...";
  create.text = "pasted text";
  create.notebooks = {first->id};
  create.embed = true;
  create.job_app = "open_notebook";
  create.job_command = "process_source";
  create.job_max_attempts = 3;
  auto source = storage_->CreateSource(create);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  ASSERT_TRUE(source->command_id.has_value());
  EXPECT_EQ(source->job_status, "queued");
  EXPECT_EQ(source->full_text, "pasted text");
  EXPECT_TRUE(source->embed);
  EXPECT_EQ(source->notebooks, std::vector<std::string>{first->id});

  // A missing notebook rejects the whole source, job included.
  SourceCreate orphan = create;
  orphan.notebooks = {"notebook:missing"};
  EXPECT_EQ(storage_->CreateSource(orphan).status().code(), ErrorCode::kNotFound);

  // Requeueing while the job is still queued returns that job (its dedupe key).
  auto requeued = storage_->RequeueSource(source->id, "open_notebook", "process_source", 3);
  ASSERT_TRUE(requeued.ok()) << requeued.status().ToString();
  EXPECT_EQ(requeued->command_id, source->command_id);

  SourceExtraction extraction;
  extraction.title = "Extracted title";
  extraction.full_text = "alpha beta\ngamma";
  extraction.content_kind = "text";
  extraction.chunks.push_back(ChunkRecord{0, "alpha beta", 0, 10, std::nullopt, 2});
  extraction.chunks.push_back(ChunkRecord{1, "gamma", 11, 16, 2, 1});
  ASSERT_TRUE(storage_->SaveExtraction(source->id, extraction).ok());
  // Saving again replaces the chunks instead of adding to them.
  ASSERT_TRUE(storage_->SaveExtraction(source->id, extraction).ok());

  auto chunks = storage_->ListSourceChunks(source->id);
  ASSERT_TRUE(chunks.ok()) << chunks.status().ToString();
  ASSERT_EQ(chunks->size(), 2u);
  EXPECT_EQ((*chunks)[1].content, "gamma");
  EXPECT_EQ((*chunks)[1].page, 2);
  EXPECT_FALSE((*chunks)[0].page.has_value());
  EXPECT_EQ(storage_->ListSourceChunks("source:missing").status().code(), ErrorCode::kNotFound);

  auto extracted = storage_->GetSource(source->id, true);
  ASSERT_TRUE(extracted.ok());
  EXPECT_EQ(extracted->title, "Extracted title");
  EXPECT_EQ(extracted->chunk_count, 2);
  EXPECT_EQ(extracted->content_kind, "text");

  // A title the user set is kept by the next extraction.
  SourcePatch patch;
  patch.title = "Chosen title";
  patch.topics = std::vector<std::string>{"one", "two"};
  auto patched = storage_->UpdateSource(source->id, patch);
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ(patched->topics, (std::vector<std::string>{"one", "two"}));
  ASSERT_TRUE(storage_->SaveExtraction(source->id, extraction).ok());
  EXPECT_EQ(storage_->GetSource(source->id, false)->title, "Chosen title");

  ASSERT_TRUE(storage_->LinkSource(second->id, source->id).ok());
  ASSERT_TRUE(storage_->LinkSource(second->id, source->id).ok());
  EXPECT_EQ(storage_->GetSource(source->id, false)->notebooks.size(), 2u);
  EXPECT_EQ(storage_->LinkSource("notebook:missing", source->id).code(), ErrorCode::kNotFound);
  EXPECT_EQ(storage_->LinkSource(second->id, "source:missing").code(), ErrorCode::kNotFound);

  SourceQuery in_second;
  in_second.notebook_id = second->id;
  ASSERT_EQ(storage_->ListSources(in_second)->size(), 1u);
  ASSERT_TRUE(storage_->UnlinkSource(second->id, source->id).ok());
  EXPECT_TRUE(storage_->ListSources(in_second)->empty());

  auto deleted = storage_->DeleteSource(source->id);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->command_id, source->command_id);
  EXPECT_EQ(storage_->GetSource(source->id, false).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(storage_->DeleteSource(source->id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(storage_->GetNotebook(first->id)->source_count, 0);
}

TEST_P(StorageTest, ChatSessionsAndMessages) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  auto notebook = storage_->CreateNotebook("chat", "");
  ASSERT_TRUE(notebook.ok());

  ChatSession both;
  both.title = "both";
  both.notebook_id = notebook->id;
  both.source_id = "source:any";
  EXPECT_EQ(storage_->CreateChatSession(both).status().code(), ErrorCode::kInvalidInput);
  ChatSession missing;
  missing.title = "missing";
  missing.notebook_id = "notebook:missing";
  EXPECT_EQ(storage_->CreateChatSession(missing).status().code(), ErrorCode::kNotFound);

  ChatSession input;
  input.title = "New chat";
  input.auto_title = true;
  input.notebook_id = notebook->id;
  auto session = storage_->CreateChatSession(input);
  ASSERT_TRUE(session.ok()) << session.status().ToString();

  ChatMessage question;
  question.session_id = session->id;
  question.type = "human";
  question.content = "What is in the notebook?";
  auto first = storage_->AddChatMessage(question, std::string("Notebook contents"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // Only the first message replaces the generated title.
  auto second = storage_->AddChatMessage(question, std::string("Another title"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto renamed = storage_->GetChatSession(session->id);
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->title, "Notebook contents");
  EXPECT_FALSE(renamed->auto_title);
  EXPECT_EQ(renamed->message_count, 2);

  auto messages = storage_->ListChatMessages(session->id);
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_EQ((*messages)[0].id, first->id);
  EXPECT_EQ((*messages)[1].id, second->id);
  EXPECT_EQ(storage_->GetChatMessage(first->id)->content, "What is in the notebook?");

  ChatSessionPatch patch;
  patch.model_override = std::optional<std::string>("model:override");
  auto patched = storage_->UpdateChatSession(session->id, patch);
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ(patched->model_override, "model:override");
  EXPECT_EQ(patched->title, "Notebook contents");

  auto sessions = storage_->ListChatSessions(notebook->id, std::nullopt);
  ASSERT_TRUE(sessions.ok());
  EXPECT_EQ(sessions->size(), 1u);

  ASSERT_TRUE(storage_->DeleteChatSession(session->id).ok());
  EXPECT_EQ(storage_->DeleteChatSession(session->id).code(), ErrorCode::kNotFound);
  EXPECT_EQ(storage_->GetChatMessage(first->id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(storage_->AddChatMessage(question, std::nullopt).status().code(), ErrorCode::kNotFound);
}

TEST_P(StorageTest, TransformationsAndInsights) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  auto defaults = storage_->ListTransformations();
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  ASSERT_EQ(defaults->size(), 6u);
  EXPECT_EQ((*defaults)[0].name, "Analyze Paper");
  EXPECT_FALSE(storage_->GetTransformationInstructions()->empty());
  ASSERT_TRUE(storage_->SetTransformationInstructions("Be brief.").ok());
  EXPECT_EQ(*storage_->GetTransformationInstructions(), "Be brief.");

  Transformation input;
  input.name = "aaa first";
  input.title = "First";
  input.prompt = "Summarise.";
  input.model_id = "model:missing";
  EXPECT_EQ(storage_->CreateTransformation(input).status().code(), ErrorCode::kNotFound);
  input.model_id.reset();
  auto created = storage_->CreateTransformation(input);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(storage_->ListTransformations()->front().id, created->id);

  TransformationPatch patch;
  patch.apply_default = true;
  patch.prompt = "Summarise briefly.";
  auto patched = storage_->UpdateTransformation(created->id, patch);
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_TRUE(patched->apply_default);
  EXPECT_EQ(storage_->GetTransformation(created->id)->prompt, "Summarise briefly.");

  SourceCreate source_input;
  source_input.title = "source";
  source_input.job_app = "open_notebook";
  source_input.job_command = "process_source";
  auto source = storage_->CreateSource(source_input);
  ASSERT_TRUE(source.ok()) << source.status().ToString();

  Insight insight;
  insight.source_id = source->id;
  insight.insight_type = "First";
  insight.content = "first version";
  insight.transformation_id = created->id;
  insight.command_id = "command:insight";
  auto saved = storage_->SaveInsight(insight);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  // The same job saving again replaces the insight instead of adding one.
  insight.content = "second version";
  auto replaced = storage_->SaveInsight(insight);
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(replaced->id, saved->id);
  auto insights = storage_->ListInsights(source->id);
  ASSERT_TRUE(insights.ok());
  ASSERT_EQ(insights->size(), 1u);
  EXPECT_EQ((*insights)[0].content, "second version");
  EXPECT_EQ(storage_->GetSource(source->id, false)->insight_count, 1);

  // Deleting the transformation keeps the insight and clears its transformation_id.
  ASSERT_TRUE(storage_->DeleteTransformation(created->id).ok());
  EXPECT_EQ(storage_->DeleteTransformation(created->id).code(), ErrorCode::kNotFound);
  EXPECT_FALSE(storage_->GetInsight(saved->id)->transformation_id.has_value());

  insight.source_id = "source:missing";
  insight.command_id.reset();
  EXPECT_EQ(storage_->SaveInsight(insight).status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(storage_->DeleteInsight(saved->id).ok());
  EXPECT_EQ(storage_->DeleteInsight(saved->id).code(), ErrorCode::kNotFound);
  EXPECT_EQ(storage_->ListInsights("source:missing").status().code(), ErrorCode::kNotFound);
}

TEST_P(StorageTest, CredentialsModelsAndDefaults) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  Credential openai;
  openai.id = "credential:openai";
  openai.name = "OpenAI";
  openai.provider = "openai";
  openai.modalities = {"language", "embedding"};
  openai.api_key = SealedApiKey{"cipher", "nonce", "v1"};
  openai.num_ctx = 8192;
  ASSERT_TRUE(storage_->CreateCredential(openai).ok());
  Credential spare = openai;
  spare.id = "credential:spare";
  spare.api_key.reset();
  ASSERT_TRUE(storage_->CreateCredential(spare).ok());

  auto stored = storage_->GetCredential(openai.id);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_TRUE(stored->api_key.has_value());
  EXPECT_EQ(stored->api_key->key_version, "v1");
  EXPECT_EQ(stored->num_ctx, 8192);
  EXPECT_EQ(stored->modalities, (std::vector<std::string>{"language", "embedding"}));

  Model chat;
  chat.name = "GPT-4o";
  chat.provider = "openai";
  chat.type = "language";
  chat.credential_id = openai.id;
  auto created = storage_->CreateModel(chat);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  Model same_name = chat;
  same_name.name = "gpt-4O";
  EXPECT_EQ(storage_->CreateModel(same_name).status().code(), ErrorCode::kInvalidInput);
  Model wrong_credential = chat;
  wrong_credential.name = "other";
  wrong_credential.credential_id = "credential:missing";
  EXPECT_EQ(storage_->CreateModel(wrong_credential).status().code(), ErrorCode::kNotFound);

  Model embedding;
  embedding.name = "text-embedding-3-small";
  embedding.provider = "openai";
  embedding.type = "embedding";
  auto registration = storage_->RegisterModels(openai.id, {chat, embedding});
  ASSERT_TRUE(registration.ok()) << registration.status().ToString();
  EXPECT_EQ(registration->created, 1);
  EXPECT_EQ(registration->existing, 1);
  EXPECT_EQ(storage_->GetCredential(openai.id)->model_count, 2);

  ModelQuery languages;
  languages.type = "language";
  ASSERT_EQ(storage_->ListModels(languages)->size(), 1u);

  const int64_t version = *storage_->GetConfigVersion();
  auto defaults = storage_->SetDefaultModels({{"default_chat_model", created->id}});
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->ModelId("default_chat_model"), created->id);
  EXPECT_EQ(*storage_->GetConfigVersion(), version + 1);
  // Setting the same model again is no change.
  ASSERT_TRUE(storage_->SetDefaultModels({{"default_chat_model", created->id}}).ok());
  EXPECT_EQ(*storage_->GetConfigVersion(), version + 1);
  EXPECT_EQ(storage_->SetDefaultModels({{"default_embedding_model", created->id}}).status().code(),
            ErrorCode::kInvalidInput);
  EXPECT_EQ(storage_->SetDefaultModels({{"no_such_slot", std::nullopt}}).status().code(), ErrorCode::kInvalidInput);

  auto updated = storage_->UpdateCredential(openai.id, [](Credential& credential) {
    credential.name = "Renamed";
    return Status::Ok();
  });
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(storage_->GetCredential(openai.id)->name, "Renamed");

  auto resealed = storage_->ResealApiKeys([](const Credential& credential) -> Result<std::optional<SealedApiKey>> {
    return std::optional<SealedApiKey>(SealedApiKey{credential.api_key->ciphertext + "2", "nonce2", "v2"});
  });
  ASSERT_TRUE(resealed.ok()) << resealed.status().ToString();
  EXPECT_EQ(*resealed, 1);
  EXPECT_EQ(storage_->GetCredential(openai.id)->api_key->key_version, "v2");

  // Moving the models to the spare credential keeps them and the default slot.
  auto moved = storage_->DeleteCredential(openai.id, spare.id);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->migrated_models, 2);
  EXPECT_EQ(storage_->GetModel(created->id)->credential_id, spare.id);

  // Deleting the spare with its models empties the slot that named one of them.
  auto deleted = storage_->DeleteCredential(spare.id, std::nullopt);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->deleted_models, 2);
  EXPECT_FALSE(storage_->GetDefaultModels()->ModelId("default_chat_model").has_value());
  EXPECT_EQ(storage_->DeleteModel(created->id).code(), ErrorCode::kNotFound);
}

TEST_P(StorageTest, PodcastProfilesAndEpisodes) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  auto speakers = storage_->ListSpeakerProfiles();
  ASSERT_TRUE(speakers.ok()) << speakers.status().ToString();
  EXPECT_EQ(speakers->size(), 3u);
  auto by_name = storage_->GetSpeakerProfile("TECH_EXPERTS");
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_EQ(by_name->id, "speaker_profile:tech_experts");

  SpeakerProfile speaker;
  speaker.name = "Duo";
  speaker.speakers_json = R"([{"name": "A", "voice_id": "nova", "backstory": "b", "personality": "p"}])";
  auto created = storage_->CreateSpeakerProfile(speaker);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  SpeakerProfile taken = speaker;
  taken.name = "duo";
  EXPECT_EQ(storage_->CreateSpeakerProfile(taken).status().code(), ErrorCode::kConflict);
  SpeakerProfile empty_cast = speaker;
  empty_cast.name = "Nobody";
  empty_cast.speakers_json = "[]";
  EXPECT_EQ(storage_->CreateSpeakerProfile(empty_cast).status().code(), ErrorCode::kInvalidInput);
  SpeakerProfile missing_voice = speaker;
  missing_voice.name = "Voiced";
  missing_voice.voice_model = "model:missing";
  EXPECT_EQ(storage_->CreateSpeakerProfile(missing_voice).status().code(), ErrorCode::kNotFound);

  SpeakerProfile renamed = *created;
  renamed.name = "Trio";
  auto updated = storage_->UpdateSpeakerProfile(renamed);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->created, created->created);
  EXPECT_EQ(storage_->GetSpeakerProfile(created->id)->name, "Trio");

  EpisodeProfile profile;
  profile.name = "Short";
  profile.speaker_config = created->id;
  profile.num_segments = 3;
  profile.max_tokens = 2000;
  auto episode_profile = storage_->CreateEpisodeProfile(profile);
  ASSERT_TRUE(episode_profile.ok()) << episode_profile.status().ToString();
  EXPECT_EQ(storage_->GetEpisodeProfile("short")->max_tokens, 2000);
  profile.name = "Too many";
  profile.num_segments = 50;
  EXPECT_EQ(storage_->CreateEpisodeProfile(profile).status().code(), ErrorCode::kInvalidInput);

  Episode input;
  input.name = "First episode";
  input.episode_profile_json = R"({"name": "Short"})";
  input.speaker_profile_json = R"({"name": "Trio"})";
  input.content = "source text";
  JobSpec job;
  job.app = "open_notebook";
  job.command = "generate_podcast";
  auto episode = storage_->CreateEpisode(input, job);
  ASSERT_TRUE(episode.ok()) << episode.status().ToString();
  ASSERT_TRUE(episode->command_id.has_value());
  auto queued = storage_->jobs().Get(*episode->command_id);
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  EXPECT_NE(queued->input_json.find(episode->id), std::string::npos) << queued->input_json;

  EpisodeOutput output;
  output.outline_json = R"({"segments": []})";
  output.duration_ms = 1500;
  ASSERT_TRUE(storage_->SaveEpisodeOutput(episode->id, output).ok());
  EXPECT_EQ(storage_->GetEpisode(episode->id)->duration_ms, 1500);
  output.transcript_json = "not json";
  EXPECT_EQ(storage_->SaveEpisodeOutput(episode->id, output).code(), ErrorCode::kInvalidInput);

  auto requeued = storage_->RequeueEpisode(episode->id, job);
  ASSERT_TRUE(requeued.ok()) << requeued.status().ToString();
  EXPECT_FALSE(requeued->outline_json.has_value());
  EXPECT_NE(requeued->command_id, episode->command_id);
  EXPECT_EQ(storage_->ListEpisodes()->size(), 1u);

  ASSERT_TRUE(storage_->DeleteEpisode(episode->id).ok());
  EXPECT_EQ(storage_->DeleteEpisode(episode->id).code(), ErrorCode::kNotFound);
  // Deleting the speaker profile leaves the episode profile without one.
  ASSERT_TRUE(storage_->DeleteSpeakerProfile(created->id).ok());
  EXPECT_FALSE(storage_->GetEpisodeProfile(episode_profile->id)->speaker_config.has_value());
  ASSERT_TRUE(storage_->DeleteEpisodeProfile(episode_profile->id).ok());
  EXPECT_EQ(storage_->GetEpisodeProfile(episode_profile->id).status().code(), ErrorCode::kNotFound);
}

TEST_P(StorageTest, EmbeddingsStoreAndResolve) {
  ASSERT_TRUE(storage_->MigrateUp(std::nullopt).ok());
  auto notebook = storage_->CreateNotebook("vectors", "");
  ASSERT_TRUE(notebook.ok());
  SourceCreate create;
  create.title = "Source";
  create.notebooks = {notebook->id};
  create.job_app = "open_notebook";
  create.job_command = "process_source";
  auto source = storage_->CreateSource(create);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  SourceExtraction extraction;
  extraction.full_text = "one two";
  extraction.content_kind = "text";
  extraction.chunks.push_back(ChunkRecord{0, "one", 0, 3, std::nullopt, 1});
  extraction.chunks.push_back(ChunkRecord{1, "two", 4, 7, 5, 1});
  ASSERT_TRUE(storage_->SaveExtraction(source->id, extraction).ok());
  Note note_input;
  note_input.title = "Note";
  note_input.content = "note body";
  note_input.note_type = "human";
  note_input.notebook_id = notebook->id;
  auto note = storage_->CreateNote(note_input);
  ASSERT_TRUE(note.ok());

  const std::string model = "openai/text-embedding-3-small";
  EmbeddingOwner of_source;
  of_source.source_id = source->id;
  auto unembedded = storage_->ListUnembedded(model, of_source, 10);
  ASSERT_TRUE(unembedded.ok()) << unembedded.status().ToString();
  ASSERT_EQ(unembedded->size(), 2u);
  EXPECT_EQ((*unembedded)[1].text, "two");
  EmbeddingOwner of_note;
  of_note.note_id = note->id;
  auto note_items = storage_->ListUnembedded(model, of_note, 10);
  ASSERT_TRUE(note_items.ok());
  ASSERT_EQ(note_items->size(), 1u);
  EXPECT_EQ((*note_items)[0].text, "Note\nnote body");

  std::vector<EmbeddingItem> items = *unembedded;
  items.push_back((*note_items)[0]);
  // Values that need every bit of a float, to show they come back unchanged.
  const std::vector<std::vector<float>> vectors = {
      {0.1f, -2.5f, 3.0e-7f}, {1.0f / 3.0f, 0.0f, 1.0e10f}, {-0.75f, 0.5f, 0.25f}};
  auto stored = storage_->SaveEmbeddings(model, items, vectors);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(*stored, 3);
  EXPECT_TRUE(storage_->ListUnembedded(model, of_source, 10)->empty());
  EXPECT_EQ(*storage_->CountSourceEmbeddings(model, source->id), 2);
  EXPECT_EQ(*storage_->CountEmbeddableItems(), 3);

  auto listed = storage_->ListEmbeddings(model, 0, 10);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 3u);
  for (size_t i = 0; i < listed->size(); ++i) EXPECT_EQ((*listed)[i].vector, vectors[i]) << i;

  // Saving a chunk again replaces its vector and counts one deletion.
  ASSERT_EQ(*storage_->SaveEmbeddings(model, {items[0]}, {{9.0f, 9.0f, 9.0f}}), 1);
  auto state = storage_->GetEmbeddingState(model);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->count, 3);
  EXPECT_EQ(state->deletions, 1);
  EXPECT_EQ(state->max_id, storage_->ListEmbeddings(model, 0, 10)->back().id);
  auto version = storage_->GetEmbeddingVersion(model);
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(version->max_id, state->max_id);
  EXPECT_EQ(version->deletions, 1);
  EXPECT_EQ(storage_->GetEmbeddingVersion("other-model")->max_id, 0) << "a model without vectors";

  auto ids = storage_->ListNotebookEmbeddingIds(model, notebook->id);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->size(), 3u);
  auto targets = storage_->ResolveEmbeddings(*ids, notebook->id);
  ASSERT_TRUE(targets.ok()) << targets.status().ToString();
  ASSERT_EQ(targets->size(), 3u);
  int sources = 0;
  int notes = 0;
  for (const auto& target : *targets) {
    if (target.type == "source") ++sources;
    if (target.type == "note") ++notes;
  }
  EXPECT_EQ(sources, 2);
  EXPECT_EQ(notes, 1);
  EXPECT_TRUE(storage_->ResolveEmbeddings(*ids, std::string("notebook:other"))->empty());

  EXPECT_EQ(*storage_->ListEmbeddableSources(true), std::vector<std::string>{source->id});
  EXPECT_EQ(*storage_->ListEmbeddableNotes(true), std::vector<std::string>{note->id});
  EXPECT_TRUE(storage_->ListEmbeddableInsights(false)->empty());

  // A vector for a chunk that is gone is skipped; an empty vector is rejected.
  ASSERT_TRUE(storage_->DeleteSource(source->id).ok());
  EXPECT_EQ(*storage_->SaveEmbeddings(model, {items[0]}, {{1.0f, 2.0f, 3.0f}}), 0);
  EXPECT_EQ(storage_->SaveEmbeddings(model, {items[2]}, {{}}).status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(storage_->SaveEmbeddings(model, {items[2]}, {}).status().code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace on::storage
