// The libpq connection and pool of the PostgreSQL backend against the test server: parameters,
// error mapping, the statement time-out, the pool bound and reconnection after the server drops a
// connection. Skipped without OPEN_NOTEBOOK_TEST_POSTGRES_URL.
#include <gtest/gtest.h>

#include <thread>

#include "storage/postgres/connection.h"
#include "storage/postgres/pool.h"
#include "support/postgres_database.h"

namespace on::storage::postgres {
namespace {

class PostgresConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::PostgresServerUrl()) GTEST_SKIP() << test::kPostgresSkipMessage;
    database_ = std::make_unique<test::PostgresDatabase>();
    ASSERT_EQ(database_->error(), "");
    options_.url = database_->url();
  }

  std::unique_ptr<Connection> Connect() {
    auto connection = Connection::Open(options_);
    EXPECT_TRUE(connection.ok()) << connection.status().ToString();
    return connection.ok() ? std::move(connection).value() : nullptr;
  }

  std::unique_ptr<test::PostgresDatabase> database_;
  ConnectionOptions options_;
};

TEST_F(PostgresConnectionTest, ParametersRoundTripAsValues) {
  auto db = Connect();
  ASSERT_NE(db, nullptr);
  // A value that would break string-built SQL arrives unchanged.
  const std::string hostile = "x'); DROP TABLE t; --";
  auto rows = db->Query("SELECT $1::text, $2::bigint, $3::text IS NULL, $4::boolean",
                        Params().Add(hostile).Add(int64_t{-9007199254740993}).AddNull().Add(true));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1);
  EXPECT_EQ(rows->Text(0, 0), hostile);
  EXPECT_EQ(rows->Int(0, 1), -9007199254740993);
  EXPECT_TRUE(rows->Bool(0, 2));
  EXPECT_TRUE(rows->Bool(0, 3));
}

TEST_F(PostgresConnectionTest, PreparedStatementRunsAgain) {
  auto db = Connect();
  ASSERT_NE(db, nullptr);
  for (int value = 0; value < 3; ++value) {
    auto rows = db->Query("SELECT $1::int + 1", Params().Add(value));
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(rows->Int(0, 0), value + 1);
  }
}

TEST_F(PostgresConnectionTest, ErrorsMapToRegistryCodes) {
  auto db = Connect();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Execute("CREATE TABLE parent (id TEXT PRIMARY KEY);"
                          "CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parent (id),"
                          " size INTEGER CHECK (size > 0));"
                          "INSERT INTO parent VALUES ('p1');")
                  .ok());

  Status duplicate = db->Query("INSERT INTO parent VALUES ($1)", Params().Add("p1")).status();
  EXPECT_EQ(duplicate.code(), ErrorCode::kConflict) << duplicate.ToString();
  EXPECT_NE(duplicate.message().find("23505"), std::string::npos) << duplicate.message();
  // The detail that quotes the stored key stays out of the message.
  EXPECT_EQ(duplicate.message().find("(id)=(p1)"), std::string::npos) << duplicate.message();

  Status missing_parent =
      db->Query("INSERT INTO child VALUES ($1, $2, 1)", Params().Add("c1").Add("nobody")).status();
  EXPECT_EQ(missing_parent.code(), ErrorCode::kInvalidInput) << missing_parent.ToString();

  Status check = db->Query("INSERT INTO child VALUES ($1, $2, 0)", Params().Add("c2").Add("p1")).status();
  EXPECT_EQ(check.code(), ErrorCode::kInvalidInput) << check.ToString();

  Status syntax = db->Query("SELEC 1").status();
  EXPECT_EQ(syntax.code(), ErrorCode::kDatabase) << syntax.ToString();
}

TEST_F(PostgresConnectionTest, StatementTimeoutGivesTimeout) {
  options_.statement_timeout_ms = 50;
  auto db = Connect();
  ASSERT_NE(db, nullptr);
  Status slow = db->Query("SELECT pg_sleep(5)").status();
  EXPECT_EQ(slow.code(), ErrorCode::kTimeout) << slow.ToString();
  // The connection stays usable after the server cancelled the statement.
  auto rows = db->Query("SELECT 2");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Int(0, 0), 2);
}

TEST_F(PostgresConnectionTest, TransactionRollsBackOnError) {
  auto db = Connect();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Execute("CREATE TABLE item (id TEXT PRIMARY KEY)").ok());

  Status failed = RunInTransaction(*db, [&]() -> Status {
    ON_RETURN_IF_ERROR(db->Query("INSERT INTO item VALUES ($1)", Params().Add("a")).status());
    return db->Query("INSERT INTO item VALUES ($1)", Params().Add("a")).status();
  });
  EXPECT_EQ(failed.code(), ErrorCode::kConflict);
  EXPECT_TRUE(db->IsIdle());

  // A body that ignores a failed statement must not report success for a rolled-back write.
  Status ignored = RunInTransaction(*db, [&]() -> Status {
    (void)db->Query("INSERT INTO item VALUES ($1)", Params().Add("b")).status();
    (void)db->Query("SELEC 1").status();
    return Status::Ok();
  });
  EXPECT_EQ(ignored.code(), ErrorCode::kDatabase);
  EXPECT_TRUE(db->IsIdle());

  auto count = db->Query("SELECT count(*) FROM item");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->Int(0, 0), 0);
}

TEST_F(PostgresConnectionTest, UnreachableServerIsUnavailable) {
  // Port 1 on the loopback address has no listener, so the connection is refused at once.
  ConnectionOptions options;
  options.url = "postgresql://postgres@127.0.0.1:1/none";
  auto connection = Connection::Open(options);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(connection.status().message().find("127.0.0.1"), std::string::npos) << connection.status().message();
}

TEST_F(PostgresConnectionTest, PoolRetriesThenGivesUp) {
  PoolOptions options;
  options.connection.url = "postgresql://postgres@127.0.0.1:1/none";
  options.reconnect_window = std::chrono::milliseconds(300);
  options.reconnect_initial_delay = std::chrono::milliseconds(10);
  auto pool = Pool::Open(options);
  EXPECT_EQ(pool.status().code(), ErrorCode::kUnavailable);
}

TEST_F(PostgresConnectionTest, PoolReusesConnections) {
  PoolOptions options;
  options.connection = options_;
  options.size = 2;
  auto pool = Pool::Open(options);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();

  int first_pid = 0;
  {
    auto lease = (*pool)->Acquire();
    ASSERT_TRUE(lease.ok());
    first_pid = (*lease)->BackendPid();
  }
  auto again = (*pool)->Acquire();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->BackendPid(), first_pid);
}

TEST_F(PostgresConnectionTest, PoolWaitsThenTimesOut) {
  PoolOptions options;
  options.connection = options_;
  options.size = 1;
  options.acquire_timeout = std::chrono::milliseconds(50);
  auto pool = Pool::Open(options);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();

  auto busy_lease = (*pool)->Acquire();
  ASSERT_TRUE(busy_lease.ok());
  auto second = (*pool)->Acquire();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kTimeout);
  EXPECT_NE(second.status().message().find("OPEN_NOTEBOOK_DB_POOL_SIZE"), std::string::npos);
}

TEST_F(PostgresConnectionTest, PoolHandsOverReturnedConnection) {
  PoolOptions options;
  options.connection = options_;
  options.size = 1;
  options.acquire_timeout = std::chrono::milliseconds(0);  // wait without a limit
  auto pool = Pool::Open(options);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();

  auto busy_lease = std::make_unique<Pool::Lease>(std::move((*pool)->Acquire()).value());
  std::thread releaser([&busy_lease] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    busy_lease.reset();
  });
  auto second = (*pool)->Acquire();
  releaser.join();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE((*second)->Query("SELECT 1").ok());
}

TEST_F(PostgresConnectionTest, PoolRollsBackAbandonedTransaction) {
  PoolOptions options;
  options.connection = options_;
  options.size = 1;
  auto pool = Pool::Open(options);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  {
    auto lease = (*pool)->Acquire();
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)->Execute("CREATE TABLE item (id TEXT PRIMARY KEY)").ok());
    ASSERT_TRUE((*lease)->Execute("BEGIN").ok());
    ASSERT_TRUE((*lease)->Query("INSERT INTO item VALUES ($1)", Params().Add("x")).ok());
  }
  auto lease = (*pool)->Acquire();
  ASSERT_TRUE(lease.ok());
  EXPECT_TRUE((*lease)->IsIdle());
  auto count = (*lease)->Query("SELECT count(*) FROM item");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->Int(0, 0), 0);
}

TEST_F(PostgresConnectionTest, PoolReplacesTerminatedConnection) {
  PoolOptions options;
  options.connection = options_;
  options.size = 1;
  auto pool = Pool::Open(options);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();

  int old_pid = 0;
  {
    auto lease = (*pool)->Acquire();
    ASSERT_TRUE(lease.ok());
    old_pid = (*lease)->BackendPid();
  }
  // What a server restart does to an idle connection: the backend ends and the socket closes.
  ASSERT_EQ(test::PostgresDatabase::ExecuteOnServer("SELECT pg_terminate_backend(" + std::to_string(old_pid) + ")"), "");
  // pg_terminate_backend returns before the backend has exited; wait until it is gone.
  for (int attempt = 0; attempt < 200; ++attempt) {
    const std::string alive = test::PostgresDatabase::ExecuteOnServer(
        "DO $$BEGIN IF EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = " + std::to_string(old_pid) +
        ") THEN RAISE EXCEPTION 'alive'; END IF; END$$");
    if (alive.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  auto lease = (*pool)->Acquire();
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_NE((*lease)->BackendPid(), old_pid);
  auto rows = (*lease)->Query("SELECT 3");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Int(0, 0), 3);
}

}  // namespace
}  // namespace on::storage::postgres
