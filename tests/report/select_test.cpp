// Parameter values compare as numbers when both are numbers; --where parsing.
#include "hcx/report/select.h"

#include <gtest/gtest.h>

#include "hcx/error.h"

namespace hcx::report {
namespace {

TEST(Select, NumbersCompareByValue) {
  EXPECT_TRUE(same_value("0.001", "1e-3"));
  EXPECT_FALSE(same_value("0.001", "0.002"));
  EXPECT_TRUE(value_less("2", "10"));
  EXPECT_TRUE(value_less("10", "abc"));
  EXPECT_EQ(parse_assignment("train.lr=1e-3", "--where"), (Assignment{"train.lr", "1e-3"}));
  EXPECT_THROW(parse_assignment("train.lr", "--where"), Error);
}

TEST(Select, MatchesEveryAssignmentAndNamesUnknownKeys) {
  const std::map<std::string, std::string> params = {{"train.lr", "0.001"}, {"residual.kind", "hc"}};
  EXPECT_TRUE(matches(params, {{"train.lr", "1e-3"}, {"residual.kind", "hc"}}));
  EXPECT_FALSE(matches(params, {{"train.lr", "1e-3"}, {"residual.kind", "pre_norm"}}));
  EXPECT_FALSE(matches(params, {{"seed", "0"}}));
  try {
    check_keys({{"trian.lr", "1"}}, {"train.lr", "seed"}, "--where");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "--where trian.lr: unknown key (did you mean 'train.lr'?)");
  }
}

}  // namespace
}  // namespace hcx::report
