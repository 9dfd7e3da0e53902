// Learning-rate schedules: warmup, each decay shape, and their end points.
#include "hcx/train/schedule.h"

#include <gtest/gtest.h>

namespace hcx::train {
namespace {

config::TrainConfig make(const char* schedule) {
  config::TrainConfig c;
  c.schedule = schedule;
  c.lr = 1.0;
  c.min_lr_ratio = 0.1;
  c.steps = 101;
  c.warmup_steps = 10;
  c.decay_fraction = 0.2;
  return c;
}

TEST(Schedule, WarmupIsLinearFromZero) {
  for (const char* s : {"cosine", "linear", "constant", "wsd"}) {
    const auto c = make(s);
    EXPECT_DOUBLE_EQ(learning_rate(c, 0), 0.1) << s;
    EXPECT_DOUBLE_EQ(learning_rate(c, 4), 0.5) << s;
    EXPECT_DOUBLE_EQ(learning_rate(c, 9), 1.0) << s;
  }
}

TEST(Schedule, DecaysEndAtTheFloorOnTheLastStep) {
  const struct {
    const char* schedule;
    int64_t step;
    double lr;
  } cases[] = {
      {"cosine", 10, 1.0},  {"cosine", 55, 0.55}, {"cosine", 100, 0.1},
      {"linear", 10, 1.0},  {"linear", 55, 0.55}, {"linear", 100, 0.1},
      {"constant", 100, 1.0},
      {"wsd", 80, 1.0},     {"wsd", 79, 1.0},     {"wsd", 90, 0.55},  {"wsd", 100, 0.1},
  };
  for (const auto& c : cases) EXPECT_NEAR(learning_rate(make(c.schedule), c.step), c.lr, 1e-12) << c.schedule << " " << c.step;
}

TEST(Schedule, NoWarmupStartsAtThePeak) {
  auto c = make("cosine");
  c.warmup_steps = 0;
  EXPECT_DOUBLE_EQ(learning_rate(c, 0), 1.0);
}

}  // namespace
}  // namespace hcx::train
