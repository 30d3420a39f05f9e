// Vector search over the stored embeddings of one model. A backend that indexes vectors itself
// (PostgreSQL with pgvector) runs the search in the database. Otherwise an in-memory VectorIndex
// per model follows the database and is saved beside it.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "search/vector_index.h"
#include "storage/storage.h"

namespace on::search {

struct VectorSearchHit {
  storage::EmbeddingTarget target;
  float similarity = 0;  // cosine similarity
};

// Thread-safe. Without a database index, each process keeps its own indexes. Before a search,
// the model's index loads the vectors stored since its last search, by any process. It is rebuilt
// from the database when its file is missing, damaged or stale, or when many of its vectors were
// deleted. Hits are checked against the database, so a deleted chunk or note is never returned.
class VectorSearcher {
 public:
  // `directory` is where the index files go (data/vectors), created when missing.
  explicit VectorSearcher(std::filesystem::path directory);

  // The best `k` live vectors of `model_key` for `query` with similarity at least `min_score`,
  // limited to a notebook when `notebook_id` is set, best first.
  Result<std::vector<VectorSearchHit>> Search(storage::Storage& storage, const std::string& model_key,
                                              std::span<const float> query, size_t k, float min_score,
                                              const std::optional<std::string>& notebook_id);

  // Returns whether the database contains any vector of `model_key`.
  Result<bool> HasVectors(storage::Storage& storage, const std::string& model_key);

  // Returns the number of vectors in the in-process index of `model_key` at `dimension`, with those
  // deleted from the database since its build; nullopt before its first search. For tests.
  std::optional<size_t> IndexedVectors(const std::string& model_key, uint32_t dimension);

 private:
  struct Entry {
    std::shared_ptr<VectorIndex> index;
    int64_t deletions = 0;   // the database's deletion count when the index was last rebuilt
    int64_t saved_max_id = 0;
  };

  Result<std::vector<VectorMatch>> SearchInProcess(storage::Storage& storage, const std::string& model_key,
                                                   std::span<const float> query, size_t k, float min_score,
                                                   const std::optional<std::string>& notebook_id);
  Result<std::shared_ptr<VectorIndex>> Current(storage::Storage& storage, const std::string& model_key, uint32_t dimension);
  Result<std::shared_ptr<VectorIndex>> Rebuild(storage::Storage& storage, const std::string& model_key, uint32_t dimension,
                                               Entry& entry, int64_t deletions);
  Status LoadNewRows(storage::Storage& storage, const std::string& model_key, VectorIndex& index);
  std::filesystem::path FileFor(const std::string& model_key, uint32_t dimension) const;

  std::filesystem::path directory_;
  std::mutex mutex_;  // guards entries_ and serializes index updates
  std::map<std::string, Entry> entries_;
};

}  // namespace on::search
