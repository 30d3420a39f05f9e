// Nearest-neighbour index over the embeddings of one embedding model, by cosine similarity.
//
// Each index is tagged with the model name and dimension that produced its vectors, and every
// entry point that takes a vector or a file checks them, so vectors of different models are never
// compared. Entries are keyed by a 64-bit label chosen by the caller (for example a chunk, note or
// insight row id); the index never interprets labels.
//
// Small sets (at most `exact_threshold` live vectors) are stored as one contiguous float array and
// searched by exact scan, so their results are exact. Larger sets move to an HNSW graph (hnswlib,
// inner-product space on unit vectors). A set that shrinks below half the threshold returns to
// exact scan.
//
// Thread safety: any number of Search, Size, Contains and Save calls may run at once; Upsert,
// UpsertBatch and Remove take the index exclusively and wait for running searches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"

namespace on::search {

struct VectorIndexOptions {
  std::string model;       // embedding model name; must match when a file is loaded
  uint32_t dimension = 0;  // floats per vector, 1 to kMaxDimension
  // Live vectors up to which search is an exact scan. Above it the index builds an HNSW graph.
  size_t exact_threshold = 2000;
  // HNSW parameters: links per node, candidate list size while building, and the default
  // candidate list size while searching (raised to k, and further for selective filters).
  size_t hnsw_m = 16;
  size_t ef_construction = 200;
  size_t ef_search = 128;
  // Threads used to insert into the graph (UpsertBatch and the switch from exact scan).
  size_t build_threads = 1;
};

// Passes (true) or rejects (false) a label. Called while the index is locked for reading, so it
// must not call back into the same index.
using LabelFilter = std::function<bool(uint64_t label)>;

struct VectorSearchOptions {
  size_t k = 10;
  float min_score = -1.0F;  // cosine similarity in [-1, 1]; results below it are dropped
  LabelFilter filter;       // empty: every label passes
  size_t ef_search = 0;     // 0: the index default
  bool exact = false;       // true: exact scan even when a graph exists
};

struct VectorMatch {
  uint64_t label = 0;
  float score = 0;  // cosine similarity

  bool operator==(const VectorMatch&) const = default;
};

// The header of an index file, readable without loading the vectors.
struct VectorIndexFileInfo {
  std::string model;
  uint32_t dimension = 0;
  uint64_t generation = 0;
  uint64_t size = 0;  // live vectors
};

class VectorIndex {
 public:
  static constexpr uint32_t kMaxDimension = 65536;
  static constexpr size_t kMaxModelNameBytes = 1024;

  // Creates an empty index. Rejects (kInvalidInput) an empty model name, a dimension outside
  // 1..kMaxDimension, hnsw_m outside 2..1000 or a zero ef_construction.
  static Result<std::unique_ptr<VectorIndex>> Create(VectorIndexOptions options);

  // Loads an index saved by Save. `expected` supplies the model, dimension and search settings;
  // a file whose model or dimension differs is rejected with kInvalidInput, so the caller rebuilds
  // instead of comparing vectors of different models. A missing file is kNotFound; a truncated,
  // garbled or unsupported file is kIo. The caller compares generation() with its database to
  // detect a stale index.
  static Result<std::unique_ptr<VectorIndex>> Load(const std::filesystem::path& path,
                                                   VectorIndexOptions expected);

  // Reads only the header of an index file (model, dimension, generation, size). The checksum
  // covers the whole file, so this does not prove the rest is intact: Load does.
  static Result<VectorIndexFileInfo> ReadFileInfo(const std::filesystem::path& path);

  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  // Adds the vector under `label`, or replaces the vector already stored under it. The vector is
  // normalised to unit length. Rejects (kInvalidInput) a wrong dimension, a zero vector or a
  // non-finite value.
  Status Upsert(uint64_t label, std::span<const float> vector);

  // Upserts labels[i] with vectors[i * dimension ...]. Every vector is checked before any is
  // stored, so a rejected batch changes nothing. A label repeated in the batch keeps its last
  // vector. New labels are inserted into the graph on build_threads threads.
  Status UpsertBatch(std::span<const uint64_t> labels, std::span<const float> vectors);

  // Removes the label; returns whether it was present. Graph slots of removed labels are marked
  // deleted and reused by later inserts.
  bool Remove(uint64_t label);

  // Returns up to options.k matches, best first, ties ordered by ascending label. With a filter,
  // the graph search widens its candidate list until k labels pass or the whole set was scanned,
  // so a filtered search returns k results whenever k passing vectors exist.
  // Rejects (kInvalidInput) a query of the wrong dimension, zero length or non-finite values.
  Result<std::vector<VectorMatch>> Search(std::span<const float> query,
                                          const VectorSearchOptions& options) const;

  // Writes the index to `path` atomically: a temporary file in the same directory, fsync, rename,
  // fsync of the directory. The file ends with a BLAKE2b-256 checksum of everything before it.
  Status Save(const std::filesystem::path& path) const;

  size_t Size() const;
  bool Contains(uint64_t label) const;
  bool UsesGraph() const;
  const std::string& model() const { return options_.model; }
  uint32_t dimension() const { return options_.dimension; }

  // A number the caller stores with the index (for example the database's embedding revision)
  // and compares after Load to decide whether the file is stale. Saved in the file header.
  uint64_t generation() const;
  void set_generation(uint64_t generation);

  // Storage and lock, defined in vector_index.cc so this header needs no hnswlib types.
  struct State;

 private:
  explicit VectorIndex(VectorIndexOptions options);

  VectorIndexOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace on::search
