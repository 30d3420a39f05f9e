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

}  // namespace on::storage::postgres
