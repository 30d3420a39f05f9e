#include "support/test_backend.h"

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

#include "support/postgres_database.h"

namespace on::test {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<PostgresDatabase>> databases;  // by canonical data directory
};

// Destroyed at exit, after every test's ServerProcess, so each database is dropped once no
// server uses it any more.
Registry& Databases() {
  static Registry registry;
  return registry;
}

// Without the test server, a PostgreSQL run cannot start any server: every test is skipped once,
// here, instead of failing on its first request.
class RequireServer : public ::testing::Environment {
 public:
  void SetUp() override {
    if (TestBackendIsPostgres() && !PostgresServerUrl()) GTEST_SKIP() << kPostgresSkipMessage;
  }
};

const auto* const kRequireServer = ::testing::AddGlobalTestEnvironment(new RequireServer);

}  // namespace

bool TestBackendIsPostgres() {
  const char* backend = std::getenv("OPEN_NOTEBOOK_TEST_BACKEND");
  return backend != nullptr && std::string_view(backend) == "postgres";
}

std::string PostgresUrlForDataDir(const std::filesystem::path& data_dir, std::string* error) {
  std::error_code ignored;
  const std::string key = std::filesystem::weakly_canonical(data_dir, ignored).string();
  Registry& registry = Databases();
  std::lock_guard lock(registry.mutex);
  auto& database = registry.databases[key];
  if (!database) database = std::make_unique<PostgresDatabase>();
  if (!database->error().empty()) {
    *error = database->error();
    registry.databases.erase(key);
    return "";
  }
  return database->url();
}

}  // namespace on::test
