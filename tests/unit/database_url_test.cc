#include "storage/database_url.h"

#include <gtest/gtest.h>

namespace on::storage {
namespace {

TEST(DatabaseUrl, PostgresSchemesSelectPostgres) {
  EXPECT_TRUE(IsPostgresUrl("postgresql://db.example/notebook"));
  EXPECT_TRUE(IsPostgresUrl("postgres://db.example/notebook"));
  EXPECT_FALSE(IsPostgresUrl(""));
  EXPECT_FALSE(IsPostgresUrl("sqlite:///var/lib/open-notebook/open-notebook.db"));
  EXPECT_FALSE(IsPostgresUrl("POSTGRESQL://db.example/notebook")) << "libpq accepts only the lower-case schemes";
}

TEST(DatabaseUrl, RedactHidesEveryPassword) {
  EXPECT_EQ(RedactUrl("postgresql://notebook:s3cret@db.example:5432/notes"),
            "postgresql://notebook:***@db.example:5432/notes");
  EXPECT_EQ(RedactUrl("postgresql://notebook:p@ss@db.example/notes"), "postgresql://notebook:***@db.example/notes");
  EXPECT_EQ(RedactUrl("postgresql://db.example/notes?user=notebook&password=s3cret&sslmode=require"),
            "postgresql://db.example/notes?user=notebook&password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("postgresql://notebook@db.example/notes"), "postgresql://notebook@db.example/notes");
  EXPECT_EQ(RedactUrl("postgresql://[::1]:5432/notes"), "postgresql://[::1]:5432/notes");
  EXPECT_EQ(RedactUrl("sqlite:///data/open-notebook.db"), "sqlite:///data/open-notebook.db");
  EXPECT_EQ(RedactUrl("postgres://u@h/db?sslmode=require&password=secret"),
            "postgres://u@h/db?sslmode=require&password=***");
  EXPECT_EQ(RedactUrl("postgresql://u:p%40ss@h/db?password=x"), "postgresql://u:***@h/db?password=***");
  EXPECT_EQ(RedactUrl("/data/open-notebook.db"), "/data/open-notebook.db");
}

}  // namespace
}  // namespace on::storage
