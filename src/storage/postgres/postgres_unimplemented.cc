// Methods of PostgresStorage that are not implemented yet. Each returns kUnavailable naming
// itself (storage callers report it like any other database error), so a missing method is never
// mistaken for success. Move a method out of this file when its area is implemented.
#include "storage/postgres/postgres_storage.h"

namespace on::storage::postgres {

Result<std::vector<TextSearchHit>> PostgresStorage::SearchText(const TextSearchQuery& /*query*/) {
  return Unimplemented("SearchText");
}
Result<std::vector<std::string>> PostgresStorage::LoadSearchTexts(const std::vector<const TextSearchHit*>& /*hits*/) {
  return Unimplemented("LoadSearchTexts");
}
Result<std::vector<EmbeddingItem>> PostgresStorage::ListUnembedded(const std::string& /*model*/,
                                                                   const EmbeddingOwner& /*owner*/, int /*limit*/) {
  return Unimplemented("ListUnembedded");
}
Result<int64_t> PostgresStorage::SaveEmbeddings(const std::string& /*model*/,
                                                const std::vector<EmbeddingItem>& /*items*/,
                                                const std::vector<std::vector<float>>& /*vectors*/) {
  return Unimplemented("SaveEmbeddings");
}
Result<std::vector<StoredEmbedding>> PostgresStorage::ListEmbeddings(const std::string& /*model*/, int64_t /*after_id*/,
                                                                     int /*limit*/) {
  return Unimplemented("ListEmbeddings");
}
Result<EmbeddingModelState> PostgresStorage::GetEmbeddingState(const std::string& /*model*/) {
  return Unimplemented("GetEmbeddingState");
}
Result<std::vector<EmbeddingTarget>> PostgresStorage::ResolveEmbeddings(
    const std::vector<int64_t>& /*ids*/, const std::optional<std::string>& /*notebook_id*/) {
  return Unimplemented("ResolveEmbeddings");
}
Result<std::vector<int64_t>> PostgresStorage::ListNotebookEmbeddingIds(const std::string& /*model*/,
                                                                       const std::string& /*notebook_id*/) {
  return Unimplemented("ListNotebookEmbeddingIds");
}
Result<int64_t> PostgresStorage::CountEmbeddableItems() { return Unimplemented("CountEmbeddableItems"); }
Result<int64_t> PostgresStorage::CountSourceEmbeddings(const std::string& /*model*/, const std::string& /*source_id*/) {
  return Unimplemented("CountSourceEmbeddings");
}
Result<std::vector<std::string>> PostgresStorage::ListEmbeddableSources(bool /*only_embedded*/) {
  return Unimplemented("ListEmbeddableSources");
}
Result<std::vector<std::string>> PostgresStorage::ListEmbeddableNotes(bool /*only_embedded*/) {
  return Unimplemented("ListEmbeddableNotes");
}
Result<std::vector<std::string>> PostgresStorage::ListEmbeddableInsights(bool /*only_embedded*/) {
  return Unimplemented("ListEmbeddableInsights");
}

}  // namespace on::storage::postgres
