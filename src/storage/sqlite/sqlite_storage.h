// Storage on one SQLite file in WAL mode: a pool of reader connections and one group-committing
// writer (storage/sqlite/writer.h).
#pragma once

#include <memory>

#include "storage/sqlite/database.h"
#include "storage/sqlite/sqlite_jobs.h"
#include "storage/storage.h"

namespace on::storage::sqlite {

struct TermFrequencyCache;
std::shared_ptr<TermFrequencyCache> NewTermFrequencyCache();

// Raises the configuration version stored in app_setting by one; runs inside the caller's write
// transaction (see Storage::GetConfigVersion).
Status BumpConfigVersion(Connection& db, const std::string& now);

class SqliteStorage final : public Storage {
 public:
  // Opens (creating when missing) the database at options.path. Does not migrate.
  static Result<std::unique_ptr<SqliteStorage>> Open(const ConnectionOptions& options);

  Status Ping() override;
  uint64_t DataVersion() override { return database_->DataVersion(); }
  Result<SchemaStatus> GetSchemaStatus() override;
  Status MigrateUp(std::optional<int> target) override;
  Status MigrateDown(int target) override;
  Status CheckSchema() override;
  Status CheckIntegrity() override;
  Status BackupTo(const std::string& path) override;

  Result<Notebook> CreateNotebook(const std::string& name, const std::string& description) override;
  Result<std::vector<Notebook>> ListNotebooks(const NotebookQuery& query) override;
  Result<Notebook> GetNotebook(const std::string& id) override;
  Result<Notebook> UpdateNotebook(const std::string& id, const NotebookPatch& patch) override;
  Result<NotebookDeletePreview> PreviewNotebookDelete(const std::string& id) override;
  Result<NotebookDeleteResult> DeleteNotebook(const std::string& id, bool delete_exclusive_sources) override;
  void TouchViewed(const std::string& id) override;
  Result<std::vector<RecentItem>> ListRecentlyViewed(int limit) override;

  Result<Note> CreateNote(const Note& note) override;
  Result<std::vector<Note>> ListNotes(const NoteQuery& query) override;
  Result<Note> GetNote(const std::string& id) override;
  Result<Note> UpdateNote(const std::string& id, const NotePatch& patch) override;
  Status DeleteNote(const std::string& id) override;
  Status SetNoteCommand(const std::string& id, const std::string& command_id) override;

  Result<Source> CreateSource(const SourceCreate& source) override;
  Result<Source> GetSource(const std::string& id, bool with_text) override;
  Result<std::vector<Source>> ListSources(const SourceQuery& query) override;
  Result<Source> UpdateSource(const std::string& id, const SourcePatch& patch) override;
  Result<SourceDeleteResult> DeleteSource(const std::string& id) override;
  Result<Source> RequeueSource(const std::string& id, const std::string& job_app, const std::string& job_command,
                               int max_attempts) override;
  Status SaveExtraction(const std::string& source_id, const SourceExtraction& extraction) override;
  Status LinkSource(const std::string& notebook_id, const std::string& source_id) override;
  Status UnlinkSource(const std::string& notebook_id, const std::string& source_id) override;
  Result<std::vector<TextSearchHit>> SearchText(const TextSearchQuery& query) override;
  Result<std::vector<std::string>> LoadSearchTexts(const std::vector<const TextSearchHit*>& hits) override;

  Result<Credential> CreateCredential(const Credential& credential) override;
  Result<Credential> GetCredential(const std::string& id) override;
  Result<std::vector<Credential>> ListCredentials(const std::optional<std::string>& provider) override;
  Result<Credential> UpdateCredential(const std::string& id, const std::function<Status(Credential&)>& change) override;
  Result<CredentialDeleteResult> DeleteCredential(const std::string& id,
                                                  const std::optional<std::string>& migrate_to) override;
  Result<int64_t> ResealApiKeys(
      const std::function<Result<std::optional<SealedApiKey>>(const Credential&)>& reseal) override;
  Result<Model> CreateModel(const Model& model) override;
  Result<Model> GetModel(const std::string& id) override;
  Result<std::vector<Model>> ListModels(const ModelQuery& query) override;
  Status DeleteModel(const std::string& id) override;
  Result<ModelRegistration> RegisterModels(const std::string& credential_id, const std::vector<Model>& models) override;
  Result<int64_t> LinkUnassignedModels(const std::string& provider, const std::string& credential_id) override;
  Result<DefaultModels> GetDefaultModels() override;
  Result<DefaultModels> SetDefaultModels(
      const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) override;

  Result<int64_t> GetConfigVersion() override;
  Result<StoredSettings> GetStoredSettings() override;
  Result<StoredSettings> SaveSettings(
      const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) override;

  Result<std::vector<EmbeddingItem>> ListUnembedded(const std::string& model, const EmbeddingOwner& owner,
                                                    int limit) override;
  Result<int64_t> SaveEmbeddings(const std::string& model, const std::vector<EmbeddingItem>& items,
                                 const std::vector<std::vector<float>>& vectors) override;
  Result<std::vector<StoredEmbedding>> ListEmbeddings(const std::string& model, int64_t after_id, int limit) override;
  Result<EmbeddingModelState> GetEmbeddingState(const std::string& model) override;
  Result<EmbeddingVersion> GetEmbeddingVersion(const std::string& model) override;
  Result<std::vector<EmbeddingTarget>> ResolveEmbeddings(const std::vector<int64_t>& ids,
                                                         const std::optional<std::string>& notebook_id) override;
  Result<std::vector<int64_t>> ListNotebookEmbeddingIds(const std::string& model, const std::string& notebook_id) override;
  Result<int64_t> CountEmbeddableItems() override;
  Result<int64_t> CountSourceEmbeddings(const std::string& model, const std::string& source_id) override;
  Result<std::vector<std::string>> ListEmbeddableSources(bool only_embedded) override;
  Result<std::vector<std::string>> ListEmbeddableNotes(bool only_embedded) override;
  Result<std::vector<std::string>> ListEmbeddableInsights(bool only_embedded) override;

  Result<Transformation> CreateTransformation(const Transformation& transformation) override;
  Result<std::vector<Transformation>> ListTransformations() override;
  Result<Transformation> GetTransformation(const std::string& id) override;
  Result<Transformation> UpdateTransformation(const std::string& id, const TransformationPatch& patch) override;
  Status DeleteTransformation(const std::string& id) override;
  Result<std::string> GetTransformationInstructions() override;
  Status SetTransformationInstructions(const std::string& instructions) override;
  Result<Insight> SaveInsight(const Insight& insight) override;
  Result<std::vector<Insight>> ListInsights(const std::string& source_id) override;
  Result<Insight> GetInsight(const std::string& id) override;
  Status DeleteInsight(const std::string& id) override;

  Result<SpeakerProfile> CreateSpeakerProfile(const SpeakerProfile& profile) override;
  Result<std::vector<SpeakerProfile>> ListSpeakerProfiles() override;
  Result<SpeakerProfile> GetSpeakerProfile(const std::string& id_or_name) override;
  Result<SpeakerProfile> UpdateSpeakerProfile(const SpeakerProfile& profile) override;
  Status DeleteSpeakerProfile(const std::string& id) override;
  Result<EpisodeProfile> CreateEpisodeProfile(const EpisodeProfile& profile) override;
  Result<std::vector<EpisodeProfile>> ListEpisodeProfiles() override;
  Result<EpisodeProfile> GetEpisodeProfile(const std::string& id_or_name) override;
  Result<EpisodeProfile> UpdateEpisodeProfile(const EpisodeProfile& profile) override;
  Status DeleteEpisodeProfile(const std::string& id) override;
  Result<Episode> CreateEpisode(const Episode& episode, const JobSpec& job) override;
  Result<Episode> GetEpisode(const std::string& id) override;
  Result<std::vector<Episode>> ListEpisodes() override;
  Status SaveEpisodeOutput(const std::string& id, const EpisodeOutput& output) override;
  Result<Episode> RequeueEpisode(const std::string& id, const JobSpec& job) override;
  Status DeleteEpisode(const std::string& id) override;
  Result<std::vector<ChunkRecord>> ListSourceChunks(const std::string& source_id) override;
  Result<ChatSession> CreateChatSession(const ChatSession& session) override;
  Result<std::vector<ChatSession>> ListChatSessions(const std::optional<std::string>& notebook_id,
                                                    const std::optional<std::string>& source_id) override;
  Result<ChatSession> GetChatSession(const std::string& id) override;
  Result<ChatSession> UpdateChatSession(const std::string& id, const ChatSessionPatch& patch) override;
  Status DeleteChatSession(const std::string& id) override;
  Result<std::vector<ChatMessage>> ListChatMessages(const std::string& session_id) override;
  Result<ChatMessage> GetChatMessage(const std::string& id) override;
  Result<ChatMessage> AddChatMessage(const ChatMessage& message, const std::optional<std::string>& title) override;

  JobStore& jobs() override { return *jobs_; }

 private:
  explicit SqliteStorage(std::unique_ptr<Database> database)
      : database_(std::move(database)), jobs_(std::make_unique<SqliteJobStore>(*database_)) {}

  Result<Database::ReaderLease> Reader() { return database_->Reader(); }

  std::unique_ptr<Database> database_;
  std::unique_ptr<SqliteJobStore> jobs_;  // declared after database_, which it uses
  Writer* writer_ = &database_->writer();
  // Document frequencies of common words of the chunk index; defined in sqlite_search.cc.
  std::shared_ptr<TermFrequencyCache> term_frequencies_ = NewTermFrequencyCache();
};

}  // namespace on::storage::sqlite
