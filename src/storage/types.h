// Records that cross the storage interface. Plain values: no database types appear here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace on::storage {

struct Notebook {
  std::string id;
  std::string name;
  std::string description;
  bool archived = false;
  std::string created;
  std::string updated;
  std::optional<std::string> last_viewed_at;
  int64_t source_count = 0;
  int64_t note_count = 0;
};

// Fields a PUT may change; an empty optional leaves the field as it is.
struct NotebookPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<bool> archived;
};

enum class NotebookSortField { kName, kCreated, kUpdated };

struct NotebookQuery {
  std::optional<bool> archived;  // nullopt lists both
  NotebookSortField sort = NotebookSortField::kUpdated;
  bool descending = true;
};

struct NotebookDeletePreview {
  std::string notebook_id;
  std::string notebook_name;
  int64_t note_count = 0;
  int64_t exclusive_source_count = 0;  // sources linked to this notebook only
  int64_t shared_source_count = 0;     // sources also linked to another notebook
};

struct NotebookDeleteResult {
  int64_t deleted_notes = 0;
  int64_t deleted_sources = 0;
  int64_t unlinked_sources = 0;
  int64_t deleted_chat_sessions = 0;
  // Files of deleted sources, relative to the uploads folder, for the caller to remove after commit.
  std::vector<std::string> deleted_source_files;
};

struct Note {
  std::string id;
  std::optional<std::string> title;
  std::string content;
  std::string note_type;  // "human" or "ai"
  std::optional<std::string> notebook_id;
  std::optional<std::string> command_id;
  std::string created;
  std::string updated;
};

// A page of a notebook's notes (or of all notes when notebook_id is nullopt), most recently updated
// first. Without `limit` the page runs from `offset` to the last note.
struct NoteQuery {
  std::optional<std::string> notebook_id;
  std::optional<int> limit;
  int offset = 0;
};

struct NotePatch {
  std::optional<std::optional<std::string>> title;  // set to nullopt-inside to clear
  std::optional<std::string> content;
  std::optional<std::string> note_type;
};

struct RecentItem {
  std::string type;  // "notebook" or "source"
  std::string id;
  std::string title;
  std::string last_viewed_at;
};

// One migration known to the binary, and whether and when the database applied it.
struct MigrationState {
  int version = 0;
  std::string name;
  std::string checksum;  // sha256 of the up script, hex
  std::optional<std::string> applied_at;
  std::optional<std::string> applied_checksum;
};

struct SchemaStatus {
  int current_version = 0;  // highest version recorded in the database
  int latest_version = 0;   // highest version this binary contains
  std::vector<MigrationState> migrations;
};

}  // namespace on::storage

namespace on::storage {

// A source as stored, with its processing state taken from its latest job.
struct Source {
  std::string id;
  std::optional<std::string> title;
  std::vector<std::string> topics;
  std::optional<std::string> asset_url;
  std::optional<std::string> asset_file_path;  // relative to <data_dir>/uploads
  std::optional<std::string> original_filename;
  std::optional<std::string> full_text;  // left empty by list queries
  std::optional<std::string> content_kind;
  bool embed = false;
  std::string transformations_json = "[]";
  std::optional<std::string> command_id;
  std::string created;
  std::string updated;
  std::optional<std::string> last_viewed_at;
  // From the job row of command_id; empty when the source has no job.
  std::optional<std::string> job_status;
  std::optional<std::string> job_error;
  std::optional<std::string> job_started;
  std::optional<std::string> job_completed;
  std::optional<std::string> job_error_code;
  std::optional<std::string> job_stage;
  std::optional<int> job_percent;
  int64_t chunk_count = 0;
  int64_t insight_count = 0;
  std::vector<std::string> notebooks;  // filled by GetSource only
};

struct SourceCreate {
  std::optional<std::string> title;
  std::optional<std::string> url;
  std::optional<std::string> file_path;  // relative to <data_dir>/uploads
  std::optional<std::string> original_filename;
  std::optional<std::string> text;       // pasted text, stored as full_text before processing
  std::vector<std::string> notebooks;
  std::string transformations_json = "[]";
  bool embed = false;
  // The processing job, inserted in the same transaction. Input JSON gets the source id.
  std::string job_app;
  std::string job_command;
  int job_max_attempts = 1;
};

enum class SourceSortField { kCreated, kUpdated, kTitle, kType, kInsights, kEmbedded };

struct SourceQuery {
  std::optional<std::string> notebook_id;
  int limit = 50;
  int offset = 0;
  SourceSortField sort = SourceSortField::kUpdated;
  bool descending = true;
};

struct SourcePatch {
  std::optional<std::string> title;
  std::optional<std::vector<std::string>> topics;
};

// A chunk of a source's text, with byte offsets into full_text for citations.
struct ChunkRecord {
  int index = 0;
  std::string content;
  int64_t begin = 0;
  int64_t end = 0;
  std::optional<int> page;
  int token_count = 0;
};

// The result of extracting and chunking a source, saved in one transaction.
struct SourceExtraction {
  std::optional<std::string> title;  // replaces the title only when the current one is empty
  std::string full_text;
  std::string content_kind;
  std::vector<ChunkRecord> chunks;
};

struct SourceDeleteResult {
  std::optional<std::string> file_path;  // relative to uploads, for the caller to remove
  std::optional<std::string> command_id;
};

// Keyword search.
// One word of a search query: `term` as the search tokenizer indexes it, `surface` as the user
// typed it (the form an FTS5 expression quotes, so the index tokenizes it the same way again).
struct SearchTerm {
  std::string term;
  std::string surface;
};

struct TextSearchQuery {
  std::vector<SearchTerm> terms;  // distinct, from search::ExtractQueryTerms
  int limit = 100;
  bool search_sources = true;
  bool search_notes = true;
  std::optional<std::string> notebook_id;
};

struct TextSearchHit {
  std::string type;       // "source" or "note"
  std::string id;         // the source or note id
  std::string parent_id;  // the source id for source hits, the notebook id (or "") for notes
  std::string title;
  double score = 0;            // -bm25, larger is better
  std::string snippet;         // titles only: the title with matched words between \x01 and \x02
  int64_t row = 0;             // the chunk's or note's row, for LoadSearchTexts
  std::optional<int64_t> chunk_index;
  std::optional<int> page;
  std::string match_field;     // "title", "content" or "chunk"
};

}  // namespace on::storage

namespace on::storage {

// An API key sealed by ai::CredentialCipher: base64 ciphertext and nonce, and the version (a
// fingerprint) of the key that sealed it. The plaintext never crosses the storage interface.
struct SealedApiKey {
  std::string ciphertext;
  std::string nonce;
  std::string key_version;
};

// A provider credential as stored.
struct Credential {
  std::string id;
  std::string name;
  std::string provider;
  std::vector<std::string> modalities;
  std::optional<SealedApiKey> api_key;
  std::optional<std::string> base_url;
  std::optional<std::string> endpoint;
  std::optional<std::string> api_version;
  std::optional<std::string> endpoint_llm;
  std::optional<std::string> endpoint_embedding;
  std::optional<std::string> endpoint_stt;
  std::optional<std::string> endpoint_tts;
  std::optional<std::string> project;
  std::optional<std::string> location;
  std::optional<std::string> credentials_path;
  std::optional<int64_t> num_ctx;
  std::string created;
  std::string updated;
  int64_t model_count = 0;  // models linked to this credential; filled by reads
};

struct CredentialDeleteResult {
  int64_t deleted_models = 0;
  int64_t migrated_models = 0;
};

inline constexpr std::string_view kModelTypes[] = {"language", "embedding", "text_to_speech", "speech_to_text"};

struct Model {
  std::string id;
  std::string name;
  std::string provider;
  std::string type;  // one of kModelTypes
  std::optional<std::string> credential_id;
  std::string created;
  std::string updated;
};

struct ModelQuery {
  std::optional<std::string> type;
  std::optional<std::string> provider;  // matched case-insensitively
};

// Outcome of registering a batch of models: how many were new and how many already existed.
struct ModelRegistration {
  int64_t created = 0;
  int64_t existing = 0;
};

// The default-model slots in the order the API returns them. Chat and embedding are required
// once set (they cannot be cleared); the others are optional.
inline constexpr std::string_view kDefaultModelSlots[] = {
    "default_chat_model",           "default_transformation_model", "large_context_model",
    "default_text_to_speech_model", "default_speech_to_text_model", "default_embedding_model",
    "default_tools_model"};

// The model type a slot accepts: "language" for chat, transformation, large context and tools.
std::string_view DefaultSlotModelType(std::string_view slot);

struct DefaultModelSlot {
  std::string slot;
  std::optional<std::string> model_id;
  std::string updated;  // time model_id last changed
};

// Settings changed through PUT /api/settings, by member name, with the configuration version
// that the last change produced. Version 0 means nothing was ever changed.
struct StoredSettings {
  int64_t version = 0;
  std::map<std::string, std::string> values;
};

// All seven slots, in kDefaultModelSlots order.
struct DefaultModels {
  std::vector<DefaultModelSlot> slots;

  // The model id in `slot`, or nullopt when the slot is empty or unknown.
  std::optional<std::string> ModelId(std::string_view slot) const;
  // The time `slot` last changed, or "" for an unknown slot.
  std::string Updated(std::string_view slot) const;
};

// Embeddings. A model key names the model that made a vector ("openai_compatible/fake-embed-384").

// A chunk, a note or an insight whose text has no vector of a model yet: exactly one of
// chunk_id, note_id and insight_id is set.
struct EmbeddingItem {
  std::optional<int64_t> chunk_id;
  std::optional<std::string> note_id;
  std::string text;
  std::optional<std::string> insight_id;
};

// The owner of the texts ListUnembedded reads: a source (its chunks), a note or an insight.
// Exactly one is set.
struct EmbeddingOwner {
  std::optional<std::string> source_id;
  std::optional<std::string> note_id;
  std::optional<std::string> insight_id;
};

// A stored vector, for loading a vector index.
struct StoredEmbedding {
  int64_t id = 0;
  std::vector<float> vector;
};

// A vector found by the database's own nearest-neighbour search.
struct EmbeddingMatch {
  int64_t id = 0;        // the embedding row
  float similarity = 0;  // cosine similarity
};

// The state of one model's vectors. A vector index that contains every row up to max_id and was
// built when `deletions` had this value is current.
struct EmbeddingModelState {
  int64_t max_id = 0;
  int64_t count = 0;
  int64_t deletions = 0;
};

// EmbeddingModelState without the count: what an in-process index compares before each search.
struct EmbeddingVersion {
  int64_t max_id = 0;  // 0 when the model has no vectors
  int64_t deletions = 0;
};

// The chunk, note or insight a vector found by search belongs to (live rows only).
struct EmbeddingTarget {
  int64_t id = 0;                // the embedding row (the vector's label)
  std::string type;              // "source", "note" or "insight"
  std::string item_id;           // the source id, the note id or the insight id
  // The source id for chunks and insights, the notebook id (or "") for notes.
  std::string parent_id;
  std::string title;             // for an insight "<insight_type> - <source title>"
  std::optional<int64_t> chunk_index;
  std::optional<int> page;
  std::string content;           // the chunk's, note's or insight's text
};

}  // namespace on::storage

namespace on::storage {

// A prompt that turns a source's text into an insight.
struct Transformation {
  std::string id;
  std::string name;
  std::string title;  // becomes the insight_type of the insights it makes
  std::string description;
  std::string prompt;  // plain text sent to the model, never rendered as a template
  bool apply_default = false;
  std::optional<std::string> model_id;
  std::string created;
  std::string updated;
};

// Fields a PUT may change; an empty optional leaves the field as it is. model_id holding an
// empty inner optional clears the model.
struct TransformationPatch {
  std::optional<std::string> name;
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::string> prompt;
  std::optional<bool> apply_default;
  std::optional<std::optional<std::string>> model_id;
};

// The output of a transformation over one source.
struct Insight {
  std::string id;
  std::string source_id;
  std::string insight_type;
  std::string content;
  std::optional<std::string> transformation_id;
  std::optional<std::string> model_id;
  std::optional<std::string> command_id;  // the job that made it; unique
  std::string created;
  std::string updated;
};

// A cast of 1 to 4 podcast speakers and the text-to-speech model that voices them.
struct SpeakerProfile {
  std::string id;
  std::string name;  // unique, compared case-insensitively
  std::string description;
  std::optional<std::string> voice_model;  // model id; nullopt speaks with espeak-ng
  // JSON array of {name, voice_id, backstory, personality, voice_model?}; validated by the
  // podcast layer before it is stored.
  std::string speakers_json = "[]";
  std::string created;
  std::string updated;
};

// Settings for writing an episode: models, language, number of segments and the standing briefing.
struct EpisodeProfile {
  std::string id;
  std::string name;  // unique, compared case-insensitively
  std::string description;
  std::optional<std::string> speaker_config;  // speaker profile id
  std::optional<std::string> outline_llm;     // model ids; nullopt uses the default chat model
  std::optional<std::string> transcript_llm;
  std::optional<std::string> language;  // BCP 47 tag
  std::string default_briefing;
  int num_segments = 5;  // 3 to 20
  std::optional<int64_t> max_tokens;
  std::string created;
  std::string updated;
};

// One generated (or generating) podcast episode. The profiles are JSON copies taken when the
// episode was submitted.
struct Episode {
  std::string id;
  std::string name;
  std::string briefing;
  std::string episode_profile_json = "{}";
  std::string speaker_profile_json = "{}";
  std::optional<std::string> notebook_id;
  std::string content;  // the text the episode talks about
  std::optional<std::string> command_id;
  std::optional<std::string> outline_json;
  std::optional<std::string> transcript_json;
  std::optional<std::string> audio_file;  // relative to the podcasts directory
  std::optional<int64_t> duration_ms;
  std::string created;
  std::string updated;
};

// The results of a generation run; each set field replaces the stored one.
struct EpisodeOutput {
  std::optional<std::string> outline_json;
  std::optional<std::string> transcript_json;
  std::optional<std::string> audio_file;
  std::optional<int64_t> duration_ms;
};

}  // namespace on::storage

namespace on::storage {

// A chat session of a notebook (notebook_id set) or of one source (source_id set).
struct ChatSession {
  std::string id;
  std::string title;
  bool auto_title = false;  // the title is the generated default; the first message replaces it
  std::optional<std::string> notebook_id;
  std::optional<std::string> source_id;
  std::optional<std::string> model_override;
  std::string created;
  std::string updated;
  int64_t message_count = 0;
};

// Fields an update may change; an empty outer optional leaves the field as it is, an empty inner
// one clears the model override.
struct ChatSessionPatch {
  std::optional<std::string> title;
  std::optional<std::optional<std::string>> model_override;
};

struct ChatMessage {
  std::string id;
  std::string session_id;
  std::string type;            // "human" or "ai"
  std::string content;
  std::string citations_json = "[]";  // AI messages: the checked citations
  std::string context_json = "{}";    // AI messages: the ids that were in the prompt
  std::optional<std::string> model_id;
  std::string created;
};

}  // namespace on::storage
