#include "storage/copy/schema.h"

namespace on::storage::dbcopy {
namespace {

Column Text(std::string name) { return Column{std::move(name), Kind::kText}; }
Column Int(std::string name) { return Column{std::move(name), Kind::kInt}; }
Column Bool(std::string name) { return Column{std::move(name), Kind::kBool}; }
Column Vector(std::string name) { return Column{std::move(name), Kind::kVector}; }

}  // namespace

// The columns of schema version 9 (migration 9 adds only triggers).
const std::vector<Table>& Tables() {
  static const std::vector<Table> tables = {
      {"notebook",
       {Text("id"), Text("name"), Text("description"), Bool("archived"), Text("created"), Text("updated"),
        Text("last_viewed_at")},
       {"id"}},
      {"source",
       {Text("id"), Text("title"), Text("topics"), Text("asset_url"), Text("asset_file_path"), Text("full_text"),
        Text("created"), Text("updated"), Text("last_viewed_at"), Text("original_filename"), Text("content_kind"),
        Bool("embed"), Text("transformations"), Text("command_id")},
       {"id"},
       "",
       false,
       {{"title", "title_vector", "title_tokens"}},
       10},
      {"source_notebook", {Text("source_id"), Text("notebook_id"), Text("created")}, {"source_id", "notebook_id"}},
      {"note",
       {Text("id"), Text("title"), Text("content"), Text("note_type"), Text("notebook_id"), Text("command_id"),
        Text("created"), Text("updated")},
       {"id"},
       "",
       false,
       {{"title", "title_vector", "title_tokens"}, {"content", "content_vector", "content_tokens"}},
       50},
      {"app_setting", {Text("key"), Text("value"), Text("updated")}, {"key"}},
      {"job",
       {Text("id"), Text("app"), Text("command"), Text("input"), Text("status"), Int("attempts"), Int("max_attempts"),
        Text("run_after"), Text("lease_owner"), Text("lease_expires"), Text("heartbeat_at"), Bool("cancel_requested"),
        Text("progress_stage"), Int("progress_percent"), Text("result"), Text("error_message"), Text("error_code"),
        Text("dedupe_key"), Text("created"), Text("updated"), Text("started"), Text("completed")},
       {"id"}},
      {"job_worker",
       {Text("id"), Text("host"), Int("pid"), Text("commands"), Int("max_tasks"), Int("running"), Int("lease_ms"),
        Text("started"), Text("heartbeat_at")},
       {"id"}},
      {"source_chunk",
       {Int("id"), Text("source_id"), Int("chunk_index"), Text("content"), Int("begin_offset"), Int("end_offset"),
        Int("page"), Int("token_count")},
       {"id"},
       "id",
       false,
       {{"content", "search_vector", "search_tokens"}}},
      {"credential",
       {Text("id"), Text("name"), Text("provider"), Text("modalities"), Text("api_key_ciphertext"),
        Text("api_key_nonce"), Text("api_key_version"), Text("base_url"), Text("endpoint"), Text("api_version"),
        Text("endpoint_llm"), Text("endpoint_embedding"), Text("endpoint_stt"), Text("endpoint_tts"), Text("project"),
        Text("location"), Text("credentials_path"), Int("num_ctx"), Text("created"), Text("updated")},
       {"id"}},
      {"model",
       {Text("id"), Text("name"), Text("provider"), Text("type"), Text("credential_id"), Text("created"),
        Text("updated")},
       {"id"}},
      {"default_model", {Text("slot"), Text("model_id"), Text("updated")}, {"slot"}},
      {"transformation",
       {Text("id"), Text("name"), Text("title"), Text("description"), Text("prompt"), Bool("apply_default"),
        Text("model_id"), Text("created"), Text("updated")},
       {"id"}},
      {"source_insight",
       {Text("id"), Text("source_id"), Text("insight_type"), Text("content"), Text("transformation_id"),
        Text("model_id"), Text("command_id"), Text("created"), Text("updated")},
       {"id"}},
      {"embedding",
       {Int("id"), Text("model"), Int("chunk_id"), Text("note_id"), Text("insight_id"), Int("dimension"),
        Vector("vector"), Text("created")},
       {"id"},
       "id",
       true},
      {"embedding_model_state", {Text("model"), Int("deletions")}, {"model"}},
      {"chat_session",
       {Text("id"), Text("title"), Bool("auto_title"), Text("notebook_id"), Text("source_id"), Text("model_override"),
        Text("created"), Text("updated")},
       {"id"}},
      {"chat_message",
       {Int("seq"), Text("id"), Text("session_id"), Text("type"), Text("content"), Text("citations"), Text("context"),
        Text("model_id"), Text("created")},
       {"seq"},
       "seq",
       true},
      {"speaker_profile",
       {Text("id"), Text("name"), Text("description"), Text("voice_model"), Text("speakers"), Text("created"),
        Text("updated")},
       {"id"}},
      {"episode_profile",
       {Text("id"), Text("name"), Text("description"), Text("speaker_config"), Text("outline_llm"),
        Text("transcript_llm"), Text("language"), Text("default_briefing"), Int("num_segments"), Int("max_tokens"),
        Text("created"), Text("updated")},
       {"id"}},
      {"episode",
       {Text("id"), Text("name"), Text("briefing"), Text("episode_profile"), Text("speaker_profile"),
        Text("notebook_id"), Text("content"), Text("command_id"), Text("outline"), Text("transcript"),
        Text("audio_file"), Int("duration_ms"), Text("created"), Text("updated")},
       {"id"},
       "",
       false,
       {},
       20},
  };
  return tables;
}

bool IsOwnBookkeeping(const std::string& table) { return table == "schema_migrations"; }

bool IsTimestamp(const std::string& column) { return column == "created" || column == "updated"; }

void SerializeRow(const Row& row, std::string& out) {
  for (const Value& value : row) {
    if (!value) {
      out += '\0';
      continue;
    }
    out += '\1';
    uint64_t size = value->size();
    for (int i = 0; i < 8; ++i) {
      out += static_cast<char>(size & 0xff);
      size >>= 8;
    }
    out += *value;
  }
}

void TableDigest::Add(const Row& row) {
  buffer_.clear();
  SerializeRow(row, buffer_);
  crypto_hash_sha256_update(&state_, reinterpret_cast<const unsigned char*>(buffer_.data()), buffer_.size());
  ++rows_;
}

std::string TableDigest::Finish() {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state_, digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xf];
  }
  return hex;
}

}  // namespace on::storage::dbcopy
