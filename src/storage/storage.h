// The storage interface: every read and write of Open Notebook's records goes through it.
//
// Implementations: storage/sqlite (the embedded default) and storage/postgres, chosen by
// OpenStorage from OPEN_NOTEBOOK_DATABASE_URL. No SQL exists outside storage/.
// All methods are thread-safe. Errors: kNotFound for a missing record, kInvalidInput for a value
// the database rejects (for example a link to a missing notebook), kDatabase for failures of the
// database itself (message safe to log, never shown to API clients verbatim), kMigration when the
// schema does not match the binary.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
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
  // self-contained file: an SQLite database without a write-ahead log beside it, or a pg_dump
  // archive (storage/postgres/dump.h). kConflict when `path` already exists.
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
  // Notes of one notebook (or all notes), most recently updated first; see NoteQuery.
  virtual Result<std::vector<Note>> ListNotes(const NoteQuery& query) = 0;
  virtual Result<Note> GetNote(const std::string& id) = 0;
  virtual Result<Note> UpdateNote(const std::string& id, const NotePatch& patch) = 0;
  virtual Status DeleteNote(const std::string& id) = 0;
  // Records the note's latest embedding job without touching its text (so its vector stays).
  virtual Status SetNoteCommand(const std::string& id, const std::string& command_id) = 0;

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

  // Credentials. The caller seals the API key (ai::CredentialCipher) with the credential id as
  // associated data, so it chooses the id: CreateCredential stores `credential` as given, with
  // created and updated set to now.
  virtual Result<Credential> CreateCredential(const Credential& credential) = 0;
  virtual Result<Credential> GetCredential(const std::string& id) = 0;
  // Credentials of `provider` (all when nullopt), oldest first.
  virtual Result<std::vector<Credential>> ListCredentials(const std::optional<std::string>& provider) = 0;
  // Reads the credential, lets `change` modify it and writes it back, all in one transaction.
  // `change` must not modify id or created; an error from it rolls everything back.
  virtual Result<Credential> UpdateCredential(const std::string& id,
                                              const std::function<Status(Credential&)>& change) = 0;
  // Deletes the credential. Its models are re-pointed to `migrate_to` when given (kNotFound when
  // that credential is missing, kInvalidInput when its provider differs), otherwise deleted
  // together with the default-model slots that named them.
  virtual Result<CredentialDeleteResult> DeleteCredential(const std::string& id,
                                                          const std::optional<std::string>& migrate_to) = 0;
  // Re-seals stored API keys in one transaction: `reseal` gets each credential that has a key and
  // returns the replacement, or nullopt to leave the row unchanged. The first error from
  // `reseal` rolls back every row and is returned. Returns the number of rows changed.
  virtual Result<int64_t> ResealApiKeys(
      const std::function<Result<std::optional<SealedApiKey>>(const Credential&)>& reseal) = 0;

  // Models. CreateModel returns kInvalidInput when a model with the same provider, name and type
  // (compared case-insensitively) exists, kNotFound when credential_id names no credential.
  virtual Result<Model> CreateModel(const Model& model) = 0;
  virtual Result<Model> GetModel(const std::string& id) = 0;
  // Models ordered by provider, type and name (case-insensitive).
  virtual Result<std::vector<Model>> ListModels(const ModelQuery& query) = 0;
  // Deletes the model and empties the default-model slots that named it.
  virtual Status DeleteModel(const std::string& id) = 0;
  // Creates the models that do not exist yet (same duplicate rule as CreateModel), linked to
  // `credential_id`, in one transaction.
  virtual Result<ModelRegistration> RegisterModels(const std::string& credential_id,
                                                   const std::vector<Model>& models) = 0;
  // Links models of `provider` that have no credential to `credential_id`; returns how many.
  virtual Result<int64_t> LinkUnassignedModels(const std::string& provider, const std::string& credential_id) = 0;

  // Default models. SetDefaultModels applies `changes` (slot to model id, nullopt empties the
  // slot) in one transaction and stamps `updated` on each slot whose model changes. kInvalidInput
  // for an unknown slot or a model of the wrong type, kNotFound for a missing model.
  virtual Result<DefaultModels> GetDefaultModels() = 0;
  virtual Result<DefaultModels> SetDefaultModels(
      const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) = 0;

  // Runtime configuration. Every change to it (SaveSettings, and SetDefaultModels when a slot
  // changes) raises the configuration version by one in the same transaction, so a process that
  // polls GetConfigVersion notices every change with one primary-key read.
  virtual Result<int64_t> GetConfigVersion() = 0;
  // Adds a listener that is called soon after any process on the database raises the
  // configuration version. It is also called when such announcements may have been missed (after
  // the backend reconnected). A watcher then reads GetConfigVersion at once instead of at its
  // next poll. It runs on a thread of the storage and must return quickly. The SQLite backend
  // announces nothing and never calls it: watchers find changes by polling. Returns a handle for
  // RemoveConfigListener, which waits for running calls of the listener to return.
  virtual int AddConfigListener(std::function<void()> /*listener*/) { return 0; }
  virtual void RemoveConfigListener(int /*handle*/) {}
  virtual Result<StoredSettings> GetStoredSettings() = 0;
  // Applies `changes` (member name to text; nullopt deletes the stored value) in one transaction
  // and returns the stored settings after it. The caller has validated the values.
  virtual Result<StoredSettings> SaveSettings(
      const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) = 0;

  // Embeddings (types.h). `model` is a model key.
  // Chunks of the source, or the note, or the insight, that have no vector of `model`, at most
  // `limit`, in order.
  virtual Result<std::vector<EmbeddingItem>> ListUnembedded(const std::string& model, const EmbeddingOwner& owner,
                                                            int limit) = 0;
  // Stores vectors[i] for items[i], replacing a vector of the same model. Items whose chunk, note
  // or insight was deleted meanwhile are skipped. Returns how many were stored.
  virtual Result<int64_t> SaveEmbeddings(const std::string& model, const std::vector<EmbeddingItem>& items,
                                         const std::vector<std::vector<float>>& vectors) = 0;
  // Vectors of `model` with ids above `after_id`, in id order, at most `limit`.
  virtual Result<std::vector<StoredEmbedding>> ListEmbeddings(const std::string& model, int64_t after_id,
                                                              int limit) = 0;
  virtual Result<EmbeddingModelState> GetEmbeddingState(const std::string& model) = 0;
  // Returns the state without the count, from two index lookups. Counting reads every index entry
  // of the model, which took most of a search's time at 100,000 vectors (bench/README.md).
  virtual Result<EmbeddingVersion> GetEmbeddingVersion(const std::string& model) = 0;
  // The live rows among `ids`, limited to a notebook's sources (with their insights) and notes
  // when `notebook_id` is set.
  virtual Result<std::vector<EmbeddingTarget>> ResolveEmbeddings(const std::vector<int64_t>& ids,
                                                                 const std::optional<std::string>& notebook_id) = 0;
  // Ids of the vectors of `model` that belong to a notebook's sources, their insights and notes.
  virtual Result<std::vector<int64_t>> ListNotebookEmbeddingIds(const std::string& model, const std::string& notebook_id) = 0;
  // Searches the nearest vectors inside the database, for backends that index vectors themselves
  // (PostgreSQL with pgvector). Returns up to `k` vectors of `model` with the dimension of `query`,
  // most similar first by cosine similarity. With `notebook_id`, only vectors of the notebook's
  // sources, their insights and the notebook's notes. Backends without such an index return
  // nullopt, and the caller searches an in-process index loaded through ListEmbeddings.
  virtual Result<std::optional<std::vector<EmbeddingMatch>>> SearchEmbeddings(
      const std::string& /*model*/, std::span<const float> /*query*/, size_t /*k*/,
      const std::optional<std::string>& /*notebook_id*/) {
    return std::optional<std::vector<EmbeddingMatch>>();
  }
  // The number of chunks, notes with content and insights: what a full rebuild embeds.
  virtual Result<int64_t> CountEmbeddableItems() = 0;
  // The number of chunks of `source_id` that have a vector of `model`.
  virtual Result<int64_t> CountSourceEmbeddings(const std::string& model, const std::string& source_id) = 0;
  // Ids of sources and notes with text, for rebuilding: sources with chunks, notes with content.
  // With `only_embedded`, only those that have a vector of any model.
  virtual Result<std::vector<std::string>> ListEmbeddableSources(bool only_embedded) = 0;
  virtual Result<std::vector<std::string>> ListEmbeddableNotes(bool only_embedded) = 0;
  virtual Result<std::vector<std::string>> ListEmbeddableInsights(bool only_embedded) = 0;

  // Transformations, listed by name (case-insensitive). CreateTransformation and
  // UpdateTransformation return kNotFound when model_id names no model.
  virtual Result<Transformation> CreateTransformation(const Transformation& transformation) = 0;
  virtual Result<std::vector<Transformation>> ListTransformations() = 0;
  virtual Result<Transformation> GetTransformation(const std::string& id) = 0;
  virtual Result<Transformation> UpdateTransformation(const std::string& id, const TransformationPatch& patch) = 0;
  virtual Status DeleteTransformation(const std::string& id) = 0;
  // The global instructions put in front of every transformation prompt.
  virtual Result<std::string> GetTransformationInstructions() = 0;
  virtual Status SetTransformationInstructions(const std::string& instructions) = 0;

  // Insights. SaveInsight inserts `insight` with a new id, or, when an insight with the same
  // command_id exists (a job that ran again), replaces its content and returns it. kNotFound when
  // the source is gone.
  virtual Result<Insight> SaveInsight(const Insight& insight) = 0;
  // Insights of a source, oldest first. kNotFound when the source does not exist.
  virtual Result<std::vector<Insight>> ListInsights(const std::string& source_id) = 0;
  virtual Result<Insight> GetInsight(const std::string& id) = 0;
  virtual Status DeleteInsight(const std::string& id) = 0;

  // Podcast profiles. Names are unique (case-insensitively): kConflict when taken. GetXProfile
  // finds a profile by id or, failing that, by name. kNotFound when a referenced model or speaker
  // profile is missing.
  virtual Result<SpeakerProfile> CreateSpeakerProfile(const SpeakerProfile& profile) = 0;
  virtual Result<std::vector<SpeakerProfile>> ListSpeakerProfiles() = 0;
  virtual Result<SpeakerProfile> GetSpeakerProfile(const std::string& id_or_name) = 0;
  // Replaces every field but id and created.
  virtual Result<SpeakerProfile> UpdateSpeakerProfile(const SpeakerProfile& profile) = 0;
  virtual Status DeleteSpeakerProfile(const std::string& id) = 0;
  virtual Result<EpisodeProfile> CreateEpisodeProfile(const EpisodeProfile& profile) = 0;
  virtual Result<std::vector<EpisodeProfile>> ListEpisodeProfiles() = 0;
  virtual Result<EpisodeProfile> GetEpisodeProfile(const std::string& id_or_name) = 0;
  virtual Result<EpisodeProfile> UpdateEpisodeProfile(const EpisodeProfile& profile) = 0;
  virtual Status DeleteEpisodeProfile(const std::string& id) = 0;

  // Episodes. CreateEpisode inserts the episode and its generation job (`job`, whose input gets
  // "episode_id") in one transaction and returns the episode with command_id set.
  virtual Result<Episode> CreateEpisode(const Episode& episode, const JobSpec& job) = 0;
  virtual Result<Episode> GetEpisode(const std::string& id) = 0;
  // Every episode, newest first.
  virtual Result<std::vector<Episode>> ListEpisodes() = 0;
  virtual Status SaveEpisodeOutput(const std::string& id, const EpisodeOutput& output) = 0;
  // Clears the outputs of the episode and queues `job` for it, in one transaction.
  virtual Result<Episode> RequeueEpisode(const std::string& id, const JobSpec& job) = 0;
  virtual Status DeleteEpisode(const std::string& id) = 0;
  // The chunks of a source in text order. kNotFound when the source does not exist.
  virtual Result<std::vector<ChunkRecord>> ListSourceChunks(const std::string& source_id) = 0;

  // Chat sessions. A session belongs to a notebook or to a source (exactly one of the two ids);
  // CreateChatSession returns kNotFound when that notebook or source does not exist.
  virtual Result<ChatSession> CreateChatSession(const ChatSession& session) = 0;
  // Sessions of a notebook, most recently updated first, or of a source, newest first. kNotFound
  // when the notebook or source does not exist.
  virtual Result<std::vector<ChatSession>> ListChatSessions(const std::optional<std::string>& notebook_id,
                                                            const std::optional<std::string>& source_id) = 0;
  virtual Result<ChatSession> GetChatSession(const std::string& id) = 0;
  // Applies `patch`; setting the title clears auto_title.
  virtual Result<ChatSession> UpdateChatSession(const std::string& id, const ChatSessionPatch& patch) = 0;
  // Deletes the session and its messages.
  virtual Status DeleteChatSession(const std::string& id) = 0;
  // Messages of a session in the order they were added.
  virtual Result<std::vector<ChatMessage>> ListChatMessages(const std::string& session_id) = 0;
  virtual Result<ChatMessage> GetChatMessage(const std::string& id) = 0;
  // Appends `message` to its session with a new id and the current time, stamps the session's
  // `updated`, and, when `title` is given and the session still has its generated title, makes
  // it the session's title. kNotFound when the session is gone.
  virtual Result<ChatMessage> AddChatMessage(const ChatMessage& message, const std::optional<std::string>& title) = 0;

  // The background-job queue on the same database (storage/job_store.h).
  virtual JobStore& jobs() = 0;
};

// Opens the database that `settings` point at (SQLite by default). Does not migrate.
Result<std::unique_ptr<Storage>> OpenStorage(const Settings& settings);

}  // namespace on::storage
