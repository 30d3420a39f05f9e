#include "search/hybrid.h"

#include <gtest/gtest.h>

#include <cmath>

namespace on::search {
namespace {

std::vector<std::string> Keys(const std::vector<FusedHit>& hits) {
  std::vector<std::string> keys;
  for (const auto& hit : hits) keys.push_back(hit.key);
  return keys;
}

TEST(HybridFusion, ScoresAndSources) {
  const std::vector<RankedHit> keyword = {{"a", 12.5}, {"b", 9.0}, {"c", 3.0}};
  const std::vector<RankedHit> vector = {{"c", 0.91}, {"d", 0.80}, {"a", 0.75}};
  auto fused = FuseReciprocalRank(keyword, vector);
  ASSERT_TRUE(fused.ok());
  ASSERT_EQ(Keys(fused.value()), (std::vector<std::string>{"a", "c", "b", "d"}));

  const FusedHit& a = fused.value()[0];
  EXPECT_DOUBLE_EQ(a.fused_score, 1.0 / 61 + 1.0 / 63);
  EXPECT_EQ(a.keyword_rank, 1u);
  EXPECT_EQ(a.keyword_score, 12.5);
  EXPECT_EQ(a.vector_rank, 3u);
  EXPECT_EQ(a.vector_score, 0.75);

  const FusedHit& b = fused.value()[2];
  EXPECT_TRUE(b.in_keyword());
  EXPECT_FALSE(b.in_vector());
  EXPECT_DOUBLE_EQ(b.fused_score, 1.0 / 62);

  const FusedHit& d = fused.value()[3];
  EXPECT_FALSE(d.in_keyword());
  EXPECT_EQ(d.vector_rank, 2u);
  EXPECT_FALSE(d.keyword_score.has_value());
}

TEST(HybridFusion, TiesBreakDeterministically) {
  // "x" and "y" each appear once at rank 1 with equal scores: the keyword rank decides, then key.
  const std::vector<RankedHit> keyword = {{"y", 1}, {"p", 1}};
  const std::vector<RankedHit> vector = {{"x", 1}, {"q", 1}};
  auto fused = FuseReciprocalRank(keyword, vector);
  ASSERT_TRUE(fused.ok());
  EXPECT_EQ(Keys(fused.value()), (std::vector<std::string>{"y", "x", "p", "q"}));

  // Fusing the same input again gives the same order.
  auto again = FuseReciprocalRank(keyword, vector);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Keys(again.value()), Keys(fused.value()));

  // With k = 0, ranks 2 and 2 in both lists tie with rank 1 in one list (1/2 + 1/2 = 1/1): the
  // hit found by both lists comes first, then the keyword hit.
  const std::vector<RankedHit> left = {{"single", 1}, {"both", 1}};
  const std::vector<RankedHit> right = {{"other", 1}, {"both", 1}};
  auto tied = FuseReciprocalRank(left, right, {.k = 0});
  ASSERT_TRUE(tied.ok());
  EXPECT_EQ(Keys(tied.value()), (std::vector<std::string>{"both", "single", "other"}));
  EXPECT_DOUBLE_EQ(tied.value()[0].fused_score, tied.value()[1].fused_score);
}

TEST(HybridFusion, RepeatedKeyCountsAtBestRank) {
  const std::vector<RankedHit> keyword = {{"a", 5}, {"b", 4}, {"a", 3}};
  auto fused = FuseReciprocalRank(keyword, {});
  ASSERT_TRUE(fused.ok());
  ASSERT_EQ(fused->size(), 2u);
  EXPECT_EQ(fused.value()[0].key, "a");
  EXPECT_EQ(fused.value()[0].keyword_rank, 1u);
  EXPECT_DOUBLE_EQ(fused.value()[0].fused_score, 1.0 / 61);
}

TEST(HybridFusion, WeightsAndLimit) {
  const std::vector<RankedHit> keyword = {{"k1", 1}, {"k2", 1}};
  const std::vector<RankedHit> vector = {{"v1", 1}, {"v2", 1}};
  auto fused = FuseReciprocalRank(keyword, vector, {.k = 60, .keyword_weight = 1, .vector_weight = 2, .limit = 3});
  ASSERT_TRUE(fused.ok());
  EXPECT_EQ(Keys(fused.value()), (std::vector<std::string>{"v1", "v2", "k1"}));
}

TEST(HybridFusion, EmptyInputsAndInvalidParameters) {
  auto empty = FuseReciprocalRank({}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(FuseReciprocalRank({}, {}, {.k = -1}).status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(FuseReciprocalRank({}, {}, {.k = NAN}).status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(FuseReciprocalRank({}, {}, {.keyword_weight = -0.5}).status().code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace on::search
