// Vector index: exact scan for small sets, hnswlib HNSW graph above the threshold, and the file
// format that stores either.
//
// hnswlib 0.6.2 (Debian bookworm) defines non-inline functions in hnswlib.h, so it may be
// included by only one translation unit: this one. Everything that touches the graph lives here.
//
// This hnswlib version has neither search filters nor replacement of deleted elements, so both
// are built here on its public members. Filtered search widens the candidate list. A new label
// takes over a deleted slot through updatePoint, as hnswlib 0.7 does with allow_replace_deleted.
#include "search/vector_index.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

// NOTE: hnswlib 0.6.2's SSE code prefetches the neighbour after the last one of an upper-level
// link list, reading up to 3 bytes past the list it allocated (inside the same malloc chunk).
// AddressSanitizer reports that read, so sanitizer builds use hnswlib's scalar code instead.
#if defined(__SANITIZE_ADDRESS__) && !defined(NO_MANUAL_VECTORIZATION)
#define NO_MANUAL_VECTORIZATION
#endif
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace on::search {
namespace {

using Graph = hnswlib::HierarchicalNSW<float>;
using hnswlib::tableint;
static_assert(sizeof(hnswlib::labeltype) == sizeof(uint64_t), "labels are 64-bit");
static_assert(std::endian::native == std::endian::little, "the index file format is little-endian");

// File layout (little-endian):
//   header: magic[8], format version u32, dimension u32, model length u32, model bytes,
//           generation u64, layout u8, live count u64, BLAKE2b-128 of the header fields
//   exact layout: count u64, count labels u64, count * dimension floats
//   graph layout: slots u64, M u64, ef_construction u64, bytes per slot u64, max level i32,
//           entry point u32, hnswlib level-0 memory (slots * bytes per slot), then per slot its
//           upper-level link bytes u32 followed by those bytes
//   trailer: BLAKE2b-256 of every byte before it
constexpr std::array<char, 8> kMagic = {'O', 'N', 'V', 'E', 'C', 'I', 'D', 'X'};
constexpr uint32_t kFormatVersion = 1;
constexpr uint8_t kLayoutExact = 0;
constexpr uint8_t kLayoutGraph = 1;
constexpr size_t kHeaderChecksumBytes = 16;
constexpr size_t kFileChecksumBytes = 32;
constexpr int kMaxGraphLevel = 255;
constexpr size_t kMinGraphCapacity = 1024;
// A graph search with candidate list ef computes very roughly ef * 2M distances (an estimate, not
// measured). So once ef passes 1/64 of the live set, an exact scan costs about the same or less.
constexpr size_t kExactScanFraction = 64;

// hnswlib's InnerProductSpace constructor assigns process-wide function pointers, so concurrent
// constructions are serialised.
std::mutex space_construction_mutex;

std::unique_ptr<hnswlib::InnerProductSpace> NewSpace(uint32_t dimension) {
  std::lock_guard lock(space_construction_mutex);
  return std::make_unique<hnswlib::InnerProductSpace>(dimension);
}

// Orders matches best first: higher score, then lower label, so equal scores sort the same way
// in every run and in both search paths.
bool Better(const VectorMatch& a, const VectorMatch& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.label < b.label;
}

// The best k matches offered so far.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(std::min<size_t>(k, 4096)); }

  // True when a match with this score could still enter the result.
  bool Admits(float score) const {
    return k_ > 0 && (heap_.size() < k_ || score >= heap_.front().score);
  }

  void Offer(const VectorMatch& match) {
    if (k_ == 0) return;
    if (heap_.size() < k_) {
      heap_.push_back(match);
      std::push_heap(heap_.begin(), heap_.end(), Better);
      return;
    }
    if (!Better(match, heap_.front())) return;
    std::pop_heap(heap_.begin(), heap_.end(), Better);
    heap_.back() = match;
    std::push_heap(heap_.begin(), heap_.end(), Better);
  }

  size_t size() const { return heap_.size(); }

  std::vector<VectorMatch> TakeSorted() {
    std::sort(heap_.begin(), heap_.end(), Better);
    return std::move(heap_);
  }

 private:
  size_t k_;
  std::vector<VectorMatch> heap_;  // a heap whose front is the worst kept match
};

// Checks `input` and writes it scaled to unit length into `output`.
Status NormaliseInto(std::span<const float> input, const VectorIndexOptions& options,
                     std::string_view what, float* output) {
  if (input.size() != options.dimension) {
    return InvalidInput(fmt::format(
        "{} has {} dimensions but the vector index for embedding model '{}' has {}; embed it "
        "with that model, or rebuild the index after changing the model",
        what, input.size(), options.model, options.dimension));
  }
  double sum_of_squares = 0;
  for (size_t i = 0; i < input.size(); ++i) {
    if (!std::isfinite(input[i])) {
      return InvalidInput(fmt::format("{} has a non-finite value ({}) at position {}", what,
                                      input[i], i));
    }
    sum_of_squares += static_cast<double>(input[i]) * input[i];
  }
  if (sum_of_squares == 0) {
    return InvalidInput(fmt::format(
        "{} has length zero, so it has no direction to compare; check the embedding provider's "
        "output", what));
  }
  const double scale = 1.0 / std::sqrt(sum_of_squares);
  for (size_t i = 0; i < input.size(); ++i) {
    output[i] = static_cast<float>(input[i] * scale);
  }
  return Status::Ok();
}

// Runs body(i) for i in [0, count) on up to `threads` threads. hnswlib reports allocation
// failures and corrupt links by throwing, so exceptions become a Status here.
template <typename Body>
Status ParallelFor(size_t count, size_t threads, const Body& body) {
  threads = std::clamp<size_t>(threads, 1, std::max<size_t>(count, 1));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string error;

  auto run = [&] {
    while (!failed.load(std::memory_order_relaxed)) {
      const size_t i = next.fetch_add(1);
      if (i >= count) return;
      try {
        body(i);
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mutex);
        if (error.empty()) error = e.what();
        failed = true;
      }
    }
  };

  if (threads == 1) {
    run();
  } else {
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (size_t t = 0; t < threads; ++t) workers.emplace_back(run);
    for (auto& worker : workers) worker.join();
  }
  if (failed) return InternalError("inserting into the vector graph failed: " + error);
  return Status::Ok();
}

Status FileError(const std::filesystem::path& path, std::string_view action) {
  return Status(ErrorCode::kIo, fmt::format("cannot {} vector index file {}: {}", action,
                                            path.string(), std::strerror(errno)));
}

Status Damaged(const std::filesystem::path& path, std::string_view detail) {
  return Status(ErrorCode::kIo,
                fmt::format("vector index file {} is damaged or unsupported ({}); delete it and "
                            "rebuild the index from the database",
                            path.string(), detail));
}

// Closes a file descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Buffered writer that hashes everything it writes.
class HashingWriter {
 public:
  HashingWriter(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {
    crypto_generichash_init(&hash_, nullptr, 0, kFileChecksumBytes);
    buffer_.reserve(kBufferBytes);
  }

  Status Write(const void* data, size_t size) {
    crypto_generichash_update(&hash_, static_cast<const unsigned char*>(data), size);
    return WriteUnhashed(data, size);
  }

  template <typename T>
  Status WriteValue(const T& value) {
    return Write(&value, sizeof(value));
  }

  // Appends the checksum of everything written so far and flushes.
  Status Finish() {
    std::array<unsigned char, kFileChecksumBytes> digest{};
    crypto_generichash_final(&hash_, digest.data(), digest.size());
    ON_RETURN_IF_ERROR(WriteUnhashed(digest.data(), digest.size()));
    return Flush();
  }

 private:
  static constexpr size_t kBufferBytes = 1 << 20;

  Status WriteUnhashed(const void* data, size_t size) {
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
      const size_t take = std::min(size, kBufferBytes - buffer_.size());
      buffer_.insert(buffer_.end(), bytes, bytes + take);
      bytes += take;
      size -= take;
      if (buffer_.size() == kBufferBytes) ON_RETURN_IF_ERROR(Flush());
    }
    return Status::Ok();
  }

  Status Flush() {
    size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t written = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (written < 0) {
        if (errno == EINTR) continue;
        return FileError(path_, "write");
      }
      done += static_cast<size_t>(written);
    }
    buffer_.clear();
    return Status::Ok();
  }

  int fd_;
  std::filesystem::path path_;
  crypto_generichash_state hash_{};
  std::vector<char> buffer_;
};

// Reader over [0, end) of a file that hashes everything it reads and reports reads past `end`
// as truncation instead of failing later.
class HashingReader {
 public:
  HashingReader(int fd, std::filesystem::path path, uint64_t end)
      : fd_(fd), path_(std::move(path)), end_(end) {
    crypto_generichash_init(&hash_, nullptr, 0, kFileChecksumBytes);
  }

  uint64_t remaining() const { return end_ - position_; }
  uint64_t position() const { return position_; }

  Status Read(void* data, size_t size) {
    if (size > remaining()) {
      return Damaged(path_, fmt::format("truncated: {} more bytes expected at offset {}, {} left",
                                        size, position_, remaining()));
    }
    char* bytes = static_cast<char*>(data);
    size_t done = 0;
    while (done < size) {
      const ssize_t got = ::read(fd_, bytes + done, size - done);
      if (got < 0) {
        if (errno == EINTR) continue;
        return FileError(path_, "read");
      }
      if (got == 0) return Damaged(path_, "the file shrank while it was read");
      done += static_cast<size_t>(got);
    }
    crypto_generichash_update(&hash_, reinterpret_cast<unsigned char*>(data), size);
    position_ += size;
    return Status::Ok();
  }

  template <typename T>
  Status ReadValue(T& value) {
    return Read(&value, sizeof(value));
  }

  // Compares the trailing checksum with the hash of everything read; REQUIRES the whole payload
  // was read.
  Status VerifyChecksum() {
    if (position_ != end_) {
      return Damaged(path_, fmt::format("{} unexpected bytes before the checksum", remaining()));
    }
    std::array<unsigned char, kFileChecksumBytes> expected{};
    std::array<unsigned char, kFileChecksumBytes> stored{};
    crypto_generichash_final(&hash_, expected.data(), expected.size());
    size_t done = 0;
    while (done < stored.size()) {
      const ssize_t got = ::read(fd_, stored.data() + done, stored.size() - done);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return Damaged(path_, "the checksum is missing");
      done += static_cast<size_t>(got);
    }
    if (expected != stored) return Damaged(path_, "checksum mismatch");
    return Status::Ok();
  }

 private:
  int fd_;
  std::filesystem::path path_;
  uint64_t end_;
  uint64_t position_ = 0;
  crypto_generichash_state hash_{};
};

// The header fields, without the magic and version that precede them.
struct FileHeader {
  uint32_t dimension = 0;
  std::string model;
  uint64_t generation = 0;
  uint8_t layout = kLayoutExact;
  uint64_t live = 0;
};

std::string EncodeHeader(const FileHeader& header) {
  std::string out(kMagic.begin(), kMagic.end());
  auto append = [&out](const auto& value) {
    out.append(reinterpret_cast<const char*>(&value), sizeof(value));
  };
  append(kFormatVersion);
  append(header.dimension);
  append(static_cast<uint32_t>(header.model.size()));
  out += header.model;
  append(header.generation);
  append(header.layout);
  append(header.live);
  std::array<unsigned char, kHeaderChecksumBytes> digest{};
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(out.data()),
                     out.size(), nullptr, 0);
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return out;
}

// Reads and checks the header, hashing it into `reader` as part of the whole file.
Result<FileHeader> ReadHeader(HashingReader& reader, const std::filesystem::path& path) {
  std::array<char, kMagic.size()> magic{};
  ON_RETURN_IF_ERROR(reader.Read(magic.data(), magic.size()));
  if (magic != kMagic) return Damaged(path, "not a vector index file: wrong magic bytes");
  uint32_t version = 0;
  ON_RETURN_IF_ERROR(reader.ReadValue(version));
  if (version != kFormatVersion) {
    return Damaged(path, fmt::format("format version {}, this build reads version {}", version,
                                     kFormatVersion));
  }
  FileHeader header;
  uint32_t model_bytes = 0;
  ON_RETURN_IF_ERROR(reader.ReadValue(header.dimension));
  ON_RETURN_IF_ERROR(reader.ReadValue(model_bytes));
  if (model_bytes == 0 || model_bytes > VectorIndex::kMaxModelNameBytes) {
    return Damaged(path, fmt::format("model name length {}", model_bytes));
  }
  header.model.resize(model_bytes);
  ON_RETURN_IF_ERROR(reader.Read(header.model.data(), model_bytes));
  ON_RETURN_IF_ERROR(reader.ReadValue(header.generation));
  ON_RETURN_IF_ERROR(reader.ReadValue(header.layout));
  ON_RETURN_IF_ERROR(reader.ReadValue(header.live));

  std::array<unsigned char, kHeaderChecksumBytes> stored{};
  ON_RETURN_IF_ERROR(reader.Read(stored.data(), stored.size()));
  const std::string encoded = EncodeHeader(header);
  if (std::memcmp(encoded.data() + encoded.size() - kHeaderChecksumBytes, stored.data(),
                  stored.size()) != 0) {
    return Damaged(path, "header checksum mismatch");
  }
  if (header.dimension == 0 || header.dimension > VectorIndex::kMaxDimension) {
    return Damaged(path, fmt::format("dimension {}", header.dimension));
  }
  if (header.layout != kLayoutExact && header.layout != kLayoutGraph) {
    return Damaged(path, fmt::format("unknown layout {}", header.layout));
  }
  return header;
}

struct OpenedFile {
  std::unique_ptr<FileDescriptor> fd;
  uint64_t size = 0;
};

Result<OpenedFile> OpenForReading(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return NotFound(fmt::format("vector index file {} does not exist", path.string()));
    }
    return FileError(path, "open");
  }
  OpenedFile opened{std::make_unique<FileDescriptor>(fd), 0};
  struct stat info {};
  if (::fstat(fd, &info) != 0) return FileError(path, "inspect");
  opened.size = static_cast<uint64_t>(info.st_size);
  if (opened.size < kFileChecksumBytes) return Damaged(path, "shorter than a checksum");
  return opened;
}

// A shared mutex that lets a waiting writer in. glibc's std::shared_mutex (a pthread rwlock that
// prefers readers) starves a writer while searches keep overlapping, so readers here first pass
// through `turnstile_`, which a waiting writer holds.
class WriterPreferringMutex {
 public:
  void lock() {
    std::lock_guard turnstile(turnstile_);
    shared_.lock();
  }
  void unlock() { shared_.unlock(); }
  void lock_shared() {
    std::lock_guard turnstile(turnstile_);
    shared_.lock_shared();
  }
  void unlock_shared() { shared_.unlock_shared(); }

 private:
  std::mutex turnstile_;
  std::shared_mutex shared_;
};

}  // namespace

struct VectorIndex::State {
  mutable WriterPreferringMutex mutex;
  uint64_t generation = 0;
  std::unique_ptr<hnswlib::InnerProductSpace> space;

  // Exact layout: one row of `dimension` floats per label, removals move the last row into the gap.
  std::vector<uint64_t> labels;
  std::vector<float> vectors;
  std::unordered_map<uint64_t, size_t> rows;

  // Graph layout.
  std::unique_ptr<Graph> graph;
  std::vector<tableint> free_slots;  // deleted slots to reuse; an entry may be stale (re-added)
  size_t graph_live = 0;

  float Score(const float* a, const float* b) const {
    return 1.0F - space->get_dist_func()(a, b, space->get_dist_func_param());
  }
};

VectorIndex::VectorIndex(VectorIndexOptions options)
    : options_(std::move(options)), state_(std::make_unique<State>()) {
  state_->space = NewSpace(options_.dimension);
}

VectorIndex::~VectorIndex() = default;

namespace {

Status CheckOptions(const VectorIndexOptions& options) {
  if (options.model.empty() || options.model.size() > VectorIndex::kMaxModelNameBytes) {
    return InvalidInput(fmt::format("the vector index needs an embedding model name of 1 to {} bytes",
                                    VectorIndex::kMaxModelNameBytes));
  }
  if (options.dimension == 0 || options.dimension > VectorIndex::kMaxDimension) {
    return InvalidInput(fmt::format("vector dimension {} is out of range; use 1 to {}",
                                    options.dimension, VectorIndex::kMaxDimension));
  }
  if (options.hnsw_m < 2 || options.hnsw_m > 1000) {
    return InvalidInput(fmt::format("HNSW M {} is out of range; use 2 to 1000", options.hnsw_m));
  }
  if (options.ef_construction == 0) return InvalidInput("HNSW ef_construction must be at least 1");
  return Status::Ok();
}

// Helpers that run with the index locked exclusively. They live outside the class so the public
// header needs no hnswlib types.
class Writer {
 public:
  Writer(const VectorIndexOptions& options, VectorIndex::State& state)
      : options_(options), state_(state) {}

  Status UpsertOne(uint64_t label, const float* unit) {
    if (state_.graph == nullptr) {
      auto row = state_.rows.find(label);
      if (row != state_.rows.end()) {
        std::copy_n(unit, options_.dimension, RowData(row->second));
        return Status::Ok();
      }
      if (state_.labels.size() + 1 <= options_.exact_threshold) {
        AppendRow(label, unit);
        return Status::Ok();
      }
      ON_RETURN_IF_ERROR(SwitchToGraph(1));
    }
    if (ReplaceInGraph(label, unit)) return Status::Ok();
    return AppendToGraph(
        1, [label](size_t) { return label; }, [unit](size_t) { return unit; });
  }

  Status UpsertMany(std::span<const uint64_t> labels, std::span<const float> units) {
    const size_t dimension = options_.dimension;
    if (state_.graph == nullptr) {
      size_t new_labels = 0;
      for (uint64_t label : labels) new_labels += state_.rows.contains(label) ? 0 : 1;
      if (state_.labels.size() + new_labels <= options_.exact_threshold) {
        for (size_t i = 0; i < labels.size(); ++i) {
          ON_RETURN_IF_ERROR(UpsertOne(labels[i], &units[i * dimension]));
        }
        return Status::Ok();
      }
      ON_RETURN_IF_ERROR(SwitchToGraph(new_labels));
    }

    // Labels already in the graph, and labels that can take a deleted slot, are updated one at a
    // time. The rest need new slots, which hnswlib inserts safely from several threads.
    std::vector<size_t> fresh;
    for (size_t i = 0; i < labels.size(); ++i) {
      if (!ReplaceInGraph(labels[i], &units[i * dimension])) fresh.push_back(i);
    }
    return AppendToGraph(
        fresh.size(), [&](size_t j) { return labels[fresh[j]]; },
        [&](size_t j) { return &units[fresh[j] * dimension]; });
  }

  bool Remove(uint64_t label) {
    if (state_.graph == nullptr) {
      auto row = state_.rows.find(label);
      if (row == state_.rows.end()) return false;
      const size_t index = row->second;
      const size_t last = state_.labels.size() - 1;
      if (index != last) {
        std::copy_n(RowData(last), options_.dimension, RowData(index));
        state_.labels[index] = state_.labels[last];
        state_.rows[state_.labels[index]] = index;
      }
      state_.labels.pop_back();
      state_.vectors.resize(state_.labels.size() * options_.dimension);
      state_.rows.erase(row);
      return true;
    }

    Graph& graph = *state_.graph;
    auto found = graph.label_lookup_.find(label);
    if (found == graph.label_lookup_.end() || graph.isMarkedDeleted(found->second)) return false;
    graph.markDeletedInternal(found->second);
    state_.free_slots.push_back(found->second);
    --state_.graph_live;
    if (state_.graph_live < options_.exact_threshold / 2) SwitchToExact();
    return true;
  }

 private:
  float* RowData(size_t row) { return state_.vectors.data() + row * options_.dimension; }

  void AppendRow(uint64_t label, const float* unit) {
    state_.rows.emplace(label, state_.labels.size());
    state_.labels.push_back(label);
    state_.vectors.insert(state_.vectors.end(), unit, unit + options_.dimension);
  }

  // Updates `label` in place when it has a slot (live or deleted), or moves it into a deleted
  // slot. Returns false when the label needs a new slot.
  bool ReplaceInGraph(uint64_t label, const float* unit) {
    Graph& graph = *state_.graph;
    auto found = graph.label_lookup_.find(label);
    if (found != graph.label_lookup_.end()) {
      const tableint slot = found->second;
      if (graph.isMarkedDeleted(slot)) {
        graph.unmarkDeletedInternal(slot);
        ++state_.graph_live;
      }
      graph.updatePoint(unit, slot, 1.0F);
      return true;
    }
    while (!state_.free_slots.empty()) {
      const tableint slot = state_.free_slots.back();
      state_.free_slots.pop_back();
      if (!graph.isMarkedDeleted(slot)) continue;  // its label was added again since
      auto previous = graph.label_lookup_.find(graph.getExternalLabel(slot));
      if (previous != graph.label_lookup_.end() && previous->second == slot) {
        graph.label_lookup_.erase(previous);
      }
      graph.label_lookup_[label] = slot;
      graph.setExternalLabel(slot, label);
      graph.unmarkDeletedInternal(slot);
      graph.updatePoint(unit, slot, 1.0F);
      ++state_.graph_live;
      return true;
    }
    return false;
  }

  // Inserts `count` new labels: label_at(j) with the unit vector at vector_at(j).
  template <typename LabelAt, typename VectorAt>
  Status AppendToGraph(size_t count, const LabelAt& label_at, const VectorAt& vector_at) {
    if (count == 0) return Status::Ok();
    Graph& graph = *state_.graph;
    const size_t needed = graph.cur_element_count + count;
    if (needed > graph.max_elements_) {
      try {
        graph.resizeIndex(std::max(needed, graph.max_elements_ * 2));
      } catch (const std::exception& e) {
        return InternalError(fmt::format("growing the vector graph to {} slots failed: {}",
                                         needed, e.what()));
      }
    }
    Status status = ParallelFor(count, options_.build_threads, [&](size_t j) {
      graph.addPoint(vector_at(j), label_at(j));
    });
    // Count what was inserted even after a failure, so Size stays true.
    state_.graph_live = graph.cur_element_count - graph.num_deleted_;
    return status;
  }

  Result<std::unique_ptr<Graph>> NewGraph(size_t capacity) const {
    try {
      auto graph = std::make_unique<Graph>(state_.space.get(), capacity, options_.hnsw_m,
                                           options_.ef_construction);
      // searchKnn searches with max(ef_, k); keeping ef_ at 1 lets each query choose its own
      // candidate list size through k without writing shared state.
      graph->setEf(1);
      return graph;
    } catch (const std::exception& e) {
      return InternalError(fmt::format("allocating a vector graph of {} slots failed: {}",
                                       capacity, e.what()));
    }
  }

  Status SwitchToGraph(size_t extra) {
    const size_t count = state_.labels.size();
    const size_t capacity = std::max(kMinGraphCapacity, (count + extra) * 5 / 4);
    ON_ASSIGN_OR_RETURN(std::unique_ptr<Graph> graph, NewGraph(capacity));
    Graph& target = *graph;
    ON_RETURN_IF_ERROR(ParallelFor(count, options_.build_threads, [&](size_t i) {
      target.addPoint(&state_.vectors[i * options_.dimension], state_.labels[i]);
    }));
    state_.graph = std::move(graph);
    state_.graph_live = count;
    state_.free_slots.clear();
    std::vector<uint64_t>().swap(state_.labels);
    std::vector<float>().swap(state_.vectors);
    std::unordered_map<uint64_t, size_t>().swap(state_.rows);
    spdlog::info("vector index for model '{}' switched from exact scan to an HNSW graph at {} vectors",
                 options_.model, count);
    return Status::Ok();
  }

  void SwitchToExact() {
    const Graph& graph = *state_.graph;
    state_.labels.reserve(state_.graph_live);
    state_.vectors.reserve(state_.graph_live * options_.dimension);
    for (tableint slot = 0; slot < graph.cur_element_count; ++slot) {
      if (graph.isMarkedDeleted(slot)) continue;
      AppendRow(graph.getExternalLabel(slot),
                reinterpret_cast<const float*>(graph.getDataByInternalId(slot)));
    }
    spdlog::info("vector index for model '{}' switched from an HNSW graph to exact scan at {} vectors",
                 options_.model, state_.labels.size());
    state_.graph.reset();
    state_.free_slots.clear();
    state_.graph_live = 0;
  }

  const VectorIndexOptions& options_;
  VectorIndex::State& state_;
};

}  // namespace

Result<std::unique_ptr<VectorIndex>> VectorIndex::Create(VectorIndexOptions options) {
  ON_RETURN_IF_ERROR(CheckOptions(options));
  return std::unique_ptr<VectorIndex>(new VectorIndex(std::move(options)));
}

Status VectorIndex::Upsert(uint64_t label, std::span<const float> vector) {
  std::vector<float> unit(options_.dimension);
  ON_RETURN_IF_ERROR(NormaliseInto(vector, options_, fmt::format("the vector for label {}", label),
                                   unit.data()));
  std::unique_lock lock(state_->mutex);
  try {
    return Writer(options_, *state_).UpsertOne(label, unit.data());
  } catch (const std::exception& e) {
    return InternalError(fmt::format("storing the vector for label {} failed: {}", label, e.what()));
  }
}

Status VectorIndex::UpsertBatch(std::span<const uint64_t> labels, std::span<const float> vectors) {
  const size_t dimension = options_.dimension;
  if (vectors.size() != labels.size() * dimension) {
    return InvalidInput(fmt::format(
        "a batch of {} labels needs {} floats ({} per vector for model '{}'), but {} were given",
        labels.size(), labels.size() * dimension, dimension, options_.model, vectors.size()));
  }

  // A label repeated in the batch keeps its last vector, at the position of its last occurrence.
  std::unordered_map<uint64_t, size_t> last_index;
  for (size_t i = 0; i < labels.size(); ++i) last_index[labels[i]] = i;
  std::vector<uint64_t> unique_labels;
  std::vector<float> units;
  unique_labels.reserve(last_index.size());
  units.resize(last_index.size() * dimension);
  for (size_t i = 0; i < labels.size(); ++i) {
    if (last_index[labels[i]] != i) continue;
    ON_RETURN_IF_ERROR(NormaliseInto(vectors.subspan(i * dimension, dimension), options_,
                                     fmt::format("vector {} of the batch (label {})", i, labels[i]),
                                     &units[unique_labels.size() * dimension]));
    unique_labels.push_back(labels[i]);
  }

  std::unique_lock lock(state_->mutex);
  try {
    return Writer(options_, *state_).UpsertMany(unique_labels, units);
  } catch (const std::exception& e) {
    return InternalError(fmt::format("storing a batch of {} vectors failed: {}", labels.size(),
                                     e.what()));
  }
}

bool VectorIndex::Remove(uint64_t label) {
  std::unique_lock lock(state_->mutex);
  return Writer(options_, *state_).Remove(label);
}

size_t VectorIndex::Size() const {
  std::shared_lock lock(state_->mutex);
  return state_->graph != nullptr ? state_->graph_live : state_->labels.size();
}

bool VectorIndex::Contains(uint64_t label) const {
  std::shared_lock lock(state_->mutex);
  if (state_->graph == nullptr) return state_->rows.contains(label);
  auto found = state_->graph->label_lookup_.find(label);
  return found != state_->graph->label_lookup_.end() &&
         !state_->graph->isMarkedDeleted(found->second);
}

bool VectorIndex::UsesGraph() const {
  std::shared_lock lock(state_->mutex);
  return state_->graph != nullptr;
}

uint64_t VectorIndex::generation() const {
  std::shared_lock lock(state_->mutex);
  return state_->generation;
}

void VectorIndex::set_generation(uint64_t generation) {
  std::unique_lock lock(state_->mutex);
  state_->generation = generation;
}

namespace {

// Exact scan over every live vector, for both layouts.
std::vector<VectorMatch> ScanExact(const VectorIndex::State& state, uint32_t dimension,
                                   const float* query, const VectorSearchOptions& options) {
  TopK top(options.k);
  auto offer = [&](uint64_t label, const float* vector) {
    const float score = state.Score(query, vector);
    // The filter may be a hash lookup, so it runs only for scores that could enter the result.
    if (score < options.min_score || !top.Admits(score)) return;
    if (options.filter && !options.filter(label)) return;
    top.Offer({label, score});
  };
  if (state.graph == nullptr) {
    for (size_t row = 0; row < state.labels.size(); ++row) {
      offer(state.labels[row], state.vectors.data() + row * dimension);
    }
  } else {
    const Graph& graph = *state.graph;
    for (tableint slot = 0; slot < graph.cur_element_count; ++slot) {
      if (graph.isMarkedDeleted(slot)) continue;
      offer(graph.getExternalLabel(slot),
            reinterpret_cast<const float*>(graph.getDataByInternalId(slot)));
    }
  }
  return top.TakeSorted();
}

// Searches the graph. With a filter, the candidate list grows fourfold until k labels pass or the
// graph has no more candidates. Past 1/64 of the live set an exact scan replaces it.
std::vector<VectorMatch> SearchGraph(const VectorIndex::State& state, uint32_t dimension,
                                     const float* query, const VectorSearchOptions& options,
                                     size_t default_ef) {
  const Graph& graph = *state.graph;
  const size_t live = state.graph_live;
  const size_t k = std::min(options.k, live);
  if (k == 0) return {};
  size_t ef = std::max({options.ef_search != 0 ? options.ef_search : default_ef, k, size_t{1}});
  while (true) {
    auto candidates = graph.searchKnn(query, ef);
    const size_t returned = candidates.size();
    bool reached_min_score = false;
    TopK top(k);
    while (!candidates.empty()) {
      const auto [distance, label] = candidates.top();
      candidates.pop();
      const float score = 1.0F - distance;
      if (score < options.min_score) {
        reached_min_score = true;
        continue;
      }
      if (options.filter && !options.filter(label)) continue;
      top.Offer({label, score});
    }
    if (top.size() >= k || returned < ef || reached_min_score || !options.filter) {
      return top.TakeSorted();
    }
    ef *= 4;
    if (ef * kExactScanFraction >= live) return ScanExact(state, dimension, query, options);
  }
}

}  // namespace

Result<std::vector<VectorMatch>> VectorIndex::Search(std::span<const float> query,
                                                     const VectorSearchOptions& options) const {
  std::vector<float> unit(options_.dimension);
  ON_RETURN_IF_ERROR(NormaliseInto(query, options_, "the query vector", unit.data()));
  std::shared_lock lock(state_->mutex);
  if (state_->graph == nullptr || options.exact) {
    return ScanExact(*state_, options_.dimension, unit.data(), options);
  }
  try {
    return SearchGraph(*state_, options_.dimension, unit.data(), options, options_.ef_search);
  } catch (const std::exception& e) {
    return InternalError(fmt::format("vector graph search failed: {}", e.what()));
  }
}

// ---------------------------------------------------------------------------------------------
// Files

namespace {

Status WriteGraph(HashingWriter& writer, const Graph& graph) {
  const uint64_t slots = graph.cur_element_count;
  ON_RETURN_IF_ERROR(writer.WriteValue(slots));
  ON_RETURN_IF_ERROR(writer.WriteValue(static_cast<uint64_t>(graph.M_)));
  ON_RETURN_IF_ERROR(writer.WriteValue(static_cast<uint64_t>(graph.ef_construction_)));
  ON_RETURN_IF_ERROR(writer.WriteValue(static_cast<uint64_t>(graph.size_data_per_element_)));
  ON_RETURN_IF_ERROR(writer.WriteValue(static_cast<int32_t>(graph.maxlevel_)));
  ON_RETURN_IF_ERROR(writer.WriteValue(static_cast<uint32_t>(graph.enterpoint_node_)));
  ON_RETURN_IF_ERROR(writer.Write(graph.data_level0_memory_, slots * graph.size_data_per_element_));
  for (size_t slot = 0; slot < slots; ++slot) {
    const int level = graph.element_levels_[slot];
    const uint32_t link_bytes = level > 0 ? static_cast<uint32_t>(graph.size_links_per_element_ * level) : 0;
    ON_RETURN_IF_ERROR(writer.WriteValue(link_bytes));
    if (link_bytes > 0) ON_RETURN_IF_ERROR(writer.Write(graph.linkLists_[slot], link_bytes));
  }
  return Status::Ok();
}

// Checks every link of a graph read from a file, so a search never follows an id outside the
// graph or reads a level that a node does not have.
Status ValidateGraph(const Graph& graph, const std::filesystem::path& path) {
  const size_t slots = graph.cur_element_count;
  if (graph.enterpoint_node_ >= slots ||
      graph.element_levels_[graph.enterpoint_node_] != graph.maxlevel_) {
    return Damaged(path, "the graph's entry point is invalid");
  }
  for (tableint slot = 0; slot < slots; ++slot) {
    for (int level = 0; level <= graph.element_levels_[slot]; ++level) {
      const auto* list = graph.get_linklist_at_level(slot, level);
      const size_t count = graph.getListCount(const_cast<hnswlib::linklistsizeint*>(list));
      if (count > (level == 0 ? graph.maxM0_ : graph.maxM_)) {
        return Damaged(path, fmt::format("node {} has {} links at level {}", slot, count, level));
      }
      if (level == 0) {
        const auto* flags = reinterpret_cast<const unsigned char*>(list) + 2;
        if ((flags[0] & ~Graph::DELETE_MARK) != 0 || flags[1] != 0) {
          return Damaged(path, fmt::format("node {} has unknown flags", slot));
        }
      }
      const auto* neighbours = reinterpret_cast<const tableint*>(list + 1);
      for (size_t i = 0; i < count; ++i) {
        if (neighbours[i] >= slots || graph.element_levels_[neighbours[i]] < level) {
          return Damaged(path, fmt::format("node {} links to invalid node {} at level {}", slot,
                                           neighbours[i], level));
        }
      }
    }
  }
  return Status::Ok();
}

Status ReadExactPayload(HashingReader& reader, const std::filesystem::path& path,
                        const FileHeader& header, VectorIndex::State& state) {
  uint64_t count = 0;
  ON_RETURN_IF_ERROR(reader.ReadValue(count));
  const uint64_t row_bytes = sizeof(uint64_t) + uint64_t{header.dimension} * sizeof(float);
  if (count != header.live || count > reader.remaining() / row_bytes) {
    return Damaged(path, fmt::format("{} vectors do not fit in the file", count));
  }
  state.labels.resize(count);
  state.vectors.resize(count * header.dimension);
  ON_RETURN_IF_ERROR(reader.Read(state.labels.data(), count * sizeof(uint64_t)));
  ON_RETURN_IF_ERROR(reader.Read(state.vectors.data(), state.vectors.size() * sizeof(float)));
  ON_RETURN_IF_ERROR(reader.VerifyChecksum());
  state.rows.reserve(count);
  for (size_t row = 0; row < count; ++row) {
    if (!state.rows.emplace(state.labels[row], row).second) {
      return Damaged(path, fmt::format("label {} appears twice", state.labels[row]));
    }
  }
  return Status::Ok();
}

Status ReadGraphPayload(HashingReader& reader, const std::filesystem::path& path,
                        const FileHeader& header, VectorIndex::State& state) {
  uint64_t slots = 0;
  uint64_t m = 0;
  uint64_t ef_construction = 0;
  uint64_t slot_bytes = 0;
  int32_t max_level = 0;
  uint32_t entry_point = 0;
  ON_RETURN_IF_ERROR(reader.ReadValue(slots));
  ON_RETURN_IF_ERROR(reader.ReadValue(m));
  ON_RETURN_IF_ERROR(reader.ReadValue(ef_construction));
  ON_RETURN_IF_ERROR(reader.ReadValue(slot_bytes));
  ON_RETURN_IF_ERROR(reader.ReadValue(max_level));
  ON_RETURN_IF_ERROR(reader.ReadValue(entry_point));
  if (slots == 0 || slots >= std::numeric_limits<tableint>::max() || header.live > slots) {
    return Damaged(path, fmt::format("{} slots for {} vectors", slots, header.live));
  }
  if (m < 2 || m > 1000 || ef_construction == 0 || max_level < 0 || max_level > kMaxGraphLevel) {
    return Damaged(path, fmt::format("graph parameters M={} ef_construction={} max level={}", m,
                                     ef_construction, max_level));
  }
  if (slot_bytes == 0 || slots > reader.remaining() / slot_bytes) {
    return Damaged(path, fmt::format("{} slots of {} bytes do not fit in the file", slots, slot_bytes));
  }

  std::unique_ptr<Graph> graph;
  try {
    graph = std::make_unique<Graph>(state.space.get(), std::max<size_t>(slots, kMinGraphCapacity),
                                    m, ef_construction);
  } catch (const std::exception& e) {
    return InternalError(fmt::format("allocating a vector graph of {} slots failed: {}", slots, e.what()));
  }
  graph->setEf(1);
  if (graph->size_data_per_element_ != slot_bytes) {
    return Damaged(path, fmt::format("{} bytes per slot where this build uses {}; the file was "
                                     "written by a different hnswlib version",
                                     slot_bytes, graph->size_data_per_element_));
  }
  ON_RETURN_IF_ERROR(reader.Read(graph->data_level0_memory_, slots * slot_bytes));

  // cur_element_count grows with each slot read, so the graph's destructor frees exactly the
  // link lists allocated so far if a later read fails.
  for (size_t slot = 0; slot < slots; ++slot) {
    uint32_t link_bytes = 0;
    ON_RETURN_IF_ERROR(reader.ReadValue(link_bytes));
    const size_t level = link_bytes / graph->size_links_per_element_;
    if (link_bytes % graph->size_links_per_element_ != 0 || level > static_cast<size_t>(max_level) ||
        link_bytes > reader.remaining()) {
      return Damaged(path, fmt::format("slot {} has {} bytes of upper-level links", slot, link_bytes));
    }
    graph->linkLists_[slot] = nullptr;
    graph->element_levels_[slot] = static_cast<int>(level);
    graph->cur_element_count = slot + 1;
    if (link_bytes == 0) continue;
    graph->linkLists_[slot] = static_cast<char*>(std::malloc(link_bytes));
    if (graph->linkLists_[slot] == nullptr) {
      graph->element_levels_[slot] = 0;
      return InternalError("allocating vector graph links failed");
    }
    ON_RETURN_IF_ERROR(reader.Read(graph->linkLists_[slot], link_bytes));
  }
  ON_RETURN_IF_ERROR(reader.VerifyChecksum());

  graph->maxlevel_ = max_level;
  graph->enterpoint_node_ = entry_point;
  ON_RETURN_IF_ERROR(ValidateGraph(*graph, path));

  graph->label_lookup_.reserve(slots);
  for (tableint slot = 0; slot < slots; ++slot) {
    if (!graph->label_lookup_.emplace(graph->getExternalLabel(slot), slot).second) {
      return Damaged(path, fmt::format("label {} appears twice", graph->getExternalLabel(slot)));
    }
    if (graph->isMarkedDeleted(slot)) {
      ++graph->num_deleted_;
      state.free_slots.push_back(slot);
    }
  }
  if (slots - graph->num_deleted_ != header.live) {
    return Damaged(path, fmt::format("{} live vectors where the header says {}",
                                     slots - graph->num_deleted_, header.live));
  }
  state.graph_live = header.live;
  state.graph = std::move(graph);
  return Status::Ok();
}

}  // namespace

Status VectorIndex::Save(const std::filesystem::path& path) const {
  if (sodium_init() < 0) return InternalError("libsodium failed to initialise");
  std::shared_lock lock(state_->mutex);
  static std::atomic<uint64_t> save_counter{0};
  std::filesystem::path temporary = path;
  temporary += fmt::format(".tmp-{}-{}", ::getpid(), save_counter.fetch_add(1));

  FileDescriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) return FileError(temporary, "create");
  auto write_all = [&]() -> Status {
    HashingWriter writer(fd.get(), temporary);
    FileHeader header;
    header.dimension = options_.dimension;
    header.model = options_.model;
    header.generation = state_->generation;
    header.layout = state_->graph != nullptr ? kLayoutGraph : kLayoutExact;
    header.live = state_->graph != nullptr ? state_->graph_live : state_->labels.size();
    const std::string encoded = EncodeHeader(header);
    ON_RETURN_IF_ERROR(writer.Write(encoded.data(), encoded.size()));
    if (state_->graph != nullptr) {
      ON_RETURN_IF_ERROR(WriteGraph(writer, *state_->graph));
    } else {
      ON_RETURN_IF_ERROR(writer.WriteValue(static_cast<uint64_t>(state_->labels.size())));
      ON_RETURN_IF_ERROR(writer.Write(state_->labels.data(), state_->labels.size() * sizeof(uint64_t)));
      ON_RETURN_IF_ERROR(writer.Write(state_->vectors.data(), state_->vectors.size() * sizeof(float)));
    }
    ON_RETURN_IF_ERROR(writer.Finish());
    if (::fsync(fd.get()) != 0) return FileError(temporary, "flush");
    if (::close(fd.Release()) != 0) return FileError(temporary, "close");
    return Status::Ok();
  };
  Status status = write_all();
  if (status.ok() && std::rename(temporary.c_str(), path.c_str()) != 0) {
    status = FileError(path, "replace");
  }
  if (!status.ok()) {
    ::unlink(temporary.c_str());
    return status;
  }

  // The rename is durable only once the directory entry is flushed.
  const std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";
  FileDescriptor directory_fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory_fd.get() < 0 || ::fsync(directory_fd.get()) != 0) {
    return FileError(directory, "flush the directory of");
  }
  return Status::Ok();
}

Result<VectorIndexFileInfo> VectorIndex::ReadFileInfo(const std::filesystem::path& path) {
  if (sodium_init() < 0) return InternalError("libsodium failed to initialise");
  ON_ASSIGN_OR_RETURN(OpenedFile file, OpenForReading(path));
  HashingReader reader(file.fd->get(), path, file.size - kFileChecksumBytes);
  ON_ASSIGN_OR_RETURN(FileHeader header, ReadHeader(reader, path));
  return VectorIndexFileInfo{header.model, header.dimension, header.generation, header.live};
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::Load(const std::filesystem::path& path,
                                                       VectorIndexOptions expected) {
  if (sodium_init() < 0) return InternalError("libsodium failed to initialise");
  ON_RETURN_IF_ERROR(CheckOptions(expected));
  ON_ASSIGN_OR_RETURN(OpenedFile file, OpenForReading(path));
  HashingReader reader(file.fd->get(), path, file.size - kFileChecksumBytes);
  ON_ASSIGN_OR_RETURN(FileHeader header, ReadHeader(reader, path));
  if (header.model != expected.model || header.dimension != expected.dimension) {
    return InvalidInput(fmt::format(
        "vector index file {} holds {}-dimension vectors of embedding model '{}', but '{}' with {} "
        "dimensions is configured; rebuild the index for the configured model",
        path.string(), header.dimension, header.model, expected.model, expected.dimension));
  }

  auto index = std::unique_ptr<VectorIndex>(new VectorIndex(std::move(expected)));
  State& state = *index->state_;
  state.generation = header.generation;
  if (header.layout == kLayoutExact) {
    ON_RETURN_IF_ERROR(ReadExactPayload(reader, path, header, state));
  } else {
    ON_RETURN_IF_ERROR(ReadGraphPayload(reader, path, header, state));
    // Keep the graph's own parameters, so later inserts match how it was built.
    index->options_.hnsw_m = state.graph->M_;
    index->options_.ef_construction = state.graph->ef_construction_;
  }
  return index;
}

}  // namespace on::search
