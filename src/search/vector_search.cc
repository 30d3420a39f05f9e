#include "search/vector_search.h"

#include <unordered_set>

#include <spdlog/spdlog.h>

namespace on::search {
namespace {

// Rows read from the database per query while loading an index.
constexpr int kLoadBatch = 4096;
// The index file is written again once this many vectors were added since the last write. A
// restarted process loads the rows added since then from the database.
constexpr int64_t kSaveEvery = 2000;

// Widening for deleted labels the index still holds: hits are checked against the database.
size_t Overfetch(size_t k) { return k * 2 + 16; }

}  // namespace

VectorSearcher::VectorSearcher(std::filesystem::path directory) : directory_(std::move(directory)) {}

std::filesystem::path VectorSearcher::FileFor(const std::string& model_key, uint32_t dimension) const {
  std::string name;
  for (char c : model_key) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    name.push_back(plain ? c : '_');
  }
  // The file header names the model, so Load rejects a file of another key with the same name.
  return directory_ / (name.substr(0, 200) + "-" + std::to_string(dimension) + ".vectors");
}

Status VectorSearcher::LoadNewRows(storage::Storage& storage, const std::string& model_key, VectorIndex& index) {
  for (;;) {
    const auto after = static_cast<int64_t>(index.generation());
    ON_ASSIGN_OR_RETURN(auto rows, storage.ListEmbeddings(model_key, after, kLoadBatch));
    if (rows.empty()) return Status::Ok();
    std::vector<uint64_t> labels;
    std::vector<float> vectors;
    for (const auto& row : rows) {
      // A provider may change a model's dimension; such rows wait for a rebuild.
      if (row.vector.size() != index.dimension()) continue;
      labels.push_back(static_cast<uint64_t>(row.id));
      vectors.insert(vectors.end(), row.vector.begin(), row.vector.end());
    }
    if (!labels.empty()) ON_RETURN_IF_ERROR(index.UpsertBatch(labels, vectors));
    index.set_generation(static_cast<uint64_t>(rows.back().id));
  }
}

Result<std::shared_ptr<VectorIndex>> VectorSearcher::Rebuild(storage::Storage& storage, const std::string& model_key,
                                                             uint32_t dimension, Entry& entry, int64_t deletions) {
  VectorIndexOptions options;
  options.model = model_key;
  options.dimension = dimension;
  ON_ASSIGN_OR_RETURN(auto created, VectorIndex::Create(options));
  std::shared_ptr<VectorIndex> index(std::move(created));
  ON_RETURN_IF_ERROR(LoadNewRows(storage, model_key, *index));
  entry.index = index;
  entry.deletions = deletions;
  entry.saved_max_id = 0;
  spdlog::info("vector index for {} rebuilt from the database: {} vectors", model_key, index->Size());
  return index;
}

Result<std::shared_ptr<VectorIndex>> VectorSearcher::Current(storage::Storage& storage, const std::string& model_key,
                                                             uint32_t dimension) {
  ON_ASSIGN_OR_RETURN(storage::EmbeddingVersion version, storage.GetEmbeddingVersion(model_key));
  std::lock_guard lock(mutex_);
  Entry& entry = entries_[model_key + "#" + std::to_string(dimension)];
  const std::filesystem::path file = FileFor(model_key, dimension);

  if (!entry.index) {
    VectorIndexOptions expected;
    expected.model = model_key;
    expected.dimension = dimension;
    auto loaded = VectorIndex::Load(file, expected);
    if (loaded.ok() && static_cast<int64_t>((*loaded)->generation()) <= version.max_id) {
      entry.index = std::shared_ptr<VectorIndex>(std::move(*loaded));
      entry.deletions = version.deletions;
      entry.saved_max_id = static_cast<int64_t>(entry.index->generation());
    } else {
      if (!loaded.ok() && loaded.status().code() != ErrorCode::kNotFound) {
        spdlog::warn("vector index file {} cannot be used ({}); rebuilding it", file.string(), loaded.status().message());
      }
      ON_RETURN_IF_ERROR(Rebuild(storage, model_key, dimension, entry, version.deletions).status());
    }
  }

  // A database older than the index (restored from a backup) or one with many vectors deleted
  // since the build: start again. Deleted labels are otherwise only filtered out of results. The
  // index still contains the deleted vectors, so its live vectors are about its size minus those.
  const int64_t deleted_since = version.deletions - entry.deletions;
  const int64_t live = static_cast<int64_t>(entry.index->Size()) - deleted_since;
  if (static_cast<int64_t>(entry.index->generation()) > version.max_id || deleted_since < 0 ||
      deleted_since > std::max<int64_t>(100, live / 5)) {
    ON_RETURN_IF_ERROR(Rebuild(storage, model_key, dimension, entry, version.deletions).status());
  }
  ON_RETURN_IF_ERROR(LoadNewRows(storage, model_key, *entry.index));

  const auto generation = static_cast<int64_t>(entry.index->generation());
  if (generation - entry.saved_max_id >= kSaveEvery || (entry.saved_max_id == 0 && generation > 0)) {
    std::error_code error;
    std::filesystem::create_directories(directory_, error);
    Status saved = entry.index->Save(file);
    if (saved.ok()) {
      entry.saved_max_id = generation;
    } else {
      spdlog::warn("saving the vector index {} failed: {}", file.string(), saved.message());
    }
  }
  return entry.index;
}

Result<std::vector<VectorMatch>> VectorSearcher::SearchInProcess(storage::Storage& storage, const std::string& model_key,
                                                                  std::span<const float> query, size_t k, float min_score,
                                                                  const std::optional<std::string>& notebook_id) {
  ON_ASSIGN_OR_RETURN(auto index, Current(storage, model_key, static_cast<uint32_t>(query.size())));
  VectorSearchOptions options;
  options.k = Overfetch(k);
  options.min_score = min_score;
  std::unordered_set<uint64_t> in_notebook;
  if (notebook_id) {
    ON_ASSIGN_OR_RETURN(auto ids, storage.ListNotebookEmbeddingIds(model_key, *notebook_id));
    for (int64_t id : ids) in_notebook.insert(static_cast<uint64_t>(id));
    options.filter = [&in_notebook](uint64_t label) { return in_notebook.contains(label); };
  }
  return index->Search(query, options);
}

Result<std::vector<VectorSearchHit>> VectorSearcher::Search(storage::Storage& storage, const std::string& model_key,
                                                            std::span<const float> query, size_t k, float min_score,
                                                            const std::optional<std::string>& notebook_id) {
  if (query.empty()) return InvalidInput("the query vector is empty");
  std::vector<VectorMatch> matches;
  ON_ASSIGN_OR_RETURN(auto in_database, storage.SearchEmbeddings(model_key, query, Overfetch(k), notebook_id));
  if (in_database) {
    for (const auto& match : *in_database) {
      if (match.similarity >= min_score) matches.push_back(VectorMatch{static_cast<uint64_t>(match.id), match.similarity});
    }
  } else {
    ON_ASSIGN_OR_RETURN(matches, SearchInProcess(storage, model_key, query, k, min_score, notebook_id));
  }

  std::vector<int64_t> ids;
  for (const auto& match : matches) ids.push_back(static_cast<int64_t>(match.label));
  ON_ASSIGN_OR_RETURN(auto targets, storage.ResolveEmbeddings(ids, notebook_id));
  std::map<int64_t, storage::EmbeddingTarget*> by_id;
  for (auto& target : targets) by_id[target.id] = &target;

  std::vector<VectorSearchHit> hits;
  for (const auto& match : matches) {
    auto found = by_id.find(static_cast<int64_t>(match.label));
    if (found == by_id.end()) continue;  // deleted since the index loaded it
    hits.push_back(VectorSearchHit{std::move(*found->second), match.score});
    if (hits.size() == k) break;
  }
  return hits;
}

std::optional<size_t> VectorSearcher::IndexedVectors(const std::string& model_key, uint32_t dimension) {
  std::lock_guard lock(mutex_);
  auto found = entries_.find(model_key + "#" + std::to_string(dimension));
  if (found == entries_.end() || !found->second.index) return std::nullopt;
  return found->second.index->Size();
}

Result<bool> VectorSearcher::HasVectors(storage::Storage& storage, const std::string& model_key) {
  ON_ASSIGN_OR_RETURN(auto version, storage.GetEmbeddingVersion(model_key));
  return version.max_id > 0;
}

}  // namespace on::search
