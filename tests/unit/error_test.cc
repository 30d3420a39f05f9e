#include "core/error.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace on {
namespace {

TEST(ErrorCode, NumbersAreUnique) {
  std::set<int> numbers;
#define ON_COLLECT(name, number, description) EXPECT_TRUE(numbers.insert(number).second) << #name;
  ON_ERROR_CODES(ON_COLLECT)
#undef ON_COLLECT
}

TEST(Status, ToStringNamesCode) {
  EXPECT_EQ(NotFound("notebook:x was not found").ToString(), "NotFound: notebook:x was not found");
  EXPECT_EQ(Status::Ok().ToString(), "OK");
}

Result<int> Half(int value) {
  if (value % 2 != 0) return InvalidInput("value " + std::to_string(value) + " is odd");
  return value / 2;
}

Result<int> Quarter(int value) {
  ON_ASSIGN_OR_RETURN(int half, Half(value));
  return Half(half);
}

TEST(Result, PropagatesErrors) {
  auto ok = Quarter(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);

  auto failed = Quarter(6);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(failed.status().message(), "value 3 is odd");
}

}  // namespace
}  // namespace on
