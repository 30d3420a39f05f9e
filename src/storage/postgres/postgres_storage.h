// Storage on PostgreSQL 15 with pgvector, for several API and worker processes on several hosts
// sharing one database. Every statement runs on a connection leased from a Pool. One more
// connection per process, outside the pool, listens for the change notifications of the others
// (notification_listener.h), so a process uses up to OPEN_NOTEBOOK_DB_POOL_SIZE + 1 connections.
// OpenStorage (storage/open_storage.cc) selects it for a postgresql:// OPEN_NOTEBOOK_DATABASE_URL.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "search/tokenizer.h"
#include "storage/postgres/notification_listener.h"
#include "storage/postgres/pool.h"
#include "storage/storage.h"

namespace on::storage::postgres {

class PostgresJobStore;
// Document frequencies and table totals that keyword search keeps between queries.
struct SearchStatistics;
std::shared_ptr<SearchStatistics> NewSearchStatistics();

class PostgresStorage final : public Storage {
 public:
  // Connects to the database of options.connection.url. Does not migrate.
  static Result<std::unique_ptr<PostgresStorage>> Open(const PoolOptions& options);
  ~PostgresStorage() override;

  Status Ping() override;
  // Rises after every commit of this process that changed rows (Pool::writes) and after every
  // change notification from any process. While the listening connection is down notifications
  // are lost, so it changes on every call then: a cache validated with it misses rather than
  // serves stale data. NOTE: a commit of another process reaches this one as a notification
  // shortly after the commit (milliseconds in the tests), and a cache returns the previous data
  // until then.
  uint64_t DataVersion() override;
  Result<SchemaStatus> GetSchemaStatus() override;
  // Each migration runs in its own transaction under a transaction-level advisory lock, so
  // processes that migrate one database at the same time apply every migration once.
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
  int AddConfigListener(std::function<void()> listener) override;
  void RemoveConfigListener(int handle) override;
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
  Result<std::optional<std::vector<EmbeddingMatch>>> SearchEmbeddings(const std::string& model,
                                                                      std::span<const float> query, size_t k,
                                                                      const std::optional<std::string>& notebook_id) override;
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


  JobStore& jobs() override;

  Pool& pool() { return *pool_; }
  // The connection that receives notifications from other processes (notification_listener.h).
  const NotificationListener& listener() const { return *listener_; }

 private:
  explicit PostgresStorage(std::unique_ptr<Pool> pool);

  void OnNotification(const Notification& notification);
  // Treats everything as changed after the listener (re)connected, because notifications sent
  // while it was down are lost.
  void OnListening();
  void CallConfigListeners();

  // Runs `body` in one transaction on a leased connection and returns its value after COMMIT.
  template <typename T>
  Result<T> InTransaction(const std::function<Result<T>(Connection&)>& body) {
    ON_ASSIGN_OR_RETURN(auto db, pool_->Acquire());
    std::optional<T> value;
    ON_RETURN_IF_ERROR(RunInTransaction(*db, [&]() -> Status {
      Result<T> result = body(*db);
      if (!result.ok()) return result.status();
      value = std::move(result).value();
      return Status::Ok();
    }));
    return std::move(*value);
  }

  std::unique_ptr<Pool> pool_;
  std::unique_ptr<PostgresJobStore> jobs_;
  // Data notifications and reconnects of the listener.
  std::atomic<uint64_t> announced_changes_{0};
  // DataVersion calls while the listener was disconnected.
  std::atomic<uint64_t> unobserved_reads_{0};
  std::mutex config_listeners_mutex_;  // held while listeners run, so RemoveConfigListener waits
  std::map<int, std::function<void()>> config_listeners_;  // guarded by config_listeners_mutex_
  int next_config_listener_ = 1;                           // guarded by config_listeners_mutex_
  // Last member, so it stops before the job store and the listeners it calls are destroyed.
  std::unique_ptr<NotificationListener> listener_;
  // The keyword index's tokenizer: English stemming, as the on_icu tables of the SQLite schema.
  search::Tokenizer tokenizer_{"english"};
  std::shared_ptr<SearchStatistics> search_statistics_ = NewSearchStatistics();
};

// Raises the configuration version stored in app_setting by one, inside the caller's
// transaction (see Storage::GetConfigVersion).
Status BumpConfigVersion(Connection& db, const std::string& now);

// Pool options from OPEN_NOTEBOOK_DATABASE_URL, OPEN_NOTEBOOK_DB_POOL_SIZE and
// OPEN_NOTEBOOK_DB_STATEMENT_TIMEOUT_MS. A request waits for a free connection as long as a
// statement may run.
PoolOptions PoolOptionsFromSettings(const Settings& settings);

// Writes `vector` in pgvector's text form "[0.5,1,-2]", each value the shortest text that reads
// back as the same float.
std::string VectorText(const std::vector<float>& vector);
// Parses pgvector's text form.
std::vector<float> ParseVector(const std::string& text);
// Creates the HNSW index for vectors of `dimension` inside the caller's transaction, unless it
// exists or the dimension is above pgvector's limit for HNSW (2000). Call it before the
// transaction writes to the embedding table.
Status EnsureHnswIndex(Connection& db, size_t dimension);

}  // namespace on::storage::postgres
