// Batches as tensors: shapes, the one-token shift, determinism across call
// order and seeds, fixed validation batches, and the cost of one batch.
#include "hcx/data/batch.h"

#include <gtest/gtest.h>

#include <chrono>

#include "hcx/data/sampler.h"

namespace hcx::data {
namespace {

Dataset synthetic_data(int64_t seed, int64_t batch_size = 4, int64_t seq_len = 32) {
  config::RunConfig cfg;
  cfg.seed = seed;
  cfg.train.batch_size = batch_size;
  cfg.model.seq_len = seq_len;
  cfg.data.synthetic_tokens = 50000;
  cfg.eval.batches = 3;
  return open_dataset(cfg);
}

TEST(TrainBatch, ShapesDtypeAndShift) {
  const Dataset d = synthetic_data(0);
  const Batch b = train_batch(d, 0);
  EXPECT_EQ(b.x.sizes(), (std::vector<int64_t>{4, 32}));
  EXPECT_EQ(b.y.sizes(), (std::vector<int64_t>{4, 32}));
  EXPECT_EQ(b.x.scalar_type(), at::kLong);
  EXPECT_TRUE(b.x.is_contiguous());
  EXPECT_TRUE(at::equal(b.x.slice(1, 1), b.y.slice(1, 0, 31)));
  // Row 0 is the stream at the sampler's first start.
  const int64_t start = train_window_starts(0, 0, 0, 4, 32, d.train.size())[0];
  for (int64_t t = 0; t < 32; ++t) {
    EXPECT_EQ(b.x[0][t].item<int64_t>(), d.train[start + t]);
    EXPECT_EQ(b.y[0][t].item<int64_t>(), d.train[start + t + 1]);
  }
}

TEST(TrainBatch, DependsOnlyOnSeedStepAndMicro) {
  const Dataset d = synthetic_data(1);
  const Batch first = train_batch(d, 7, 1);
  for (int64_t s = 0; s < 20; ++s) (void)train_batch(d, s, 0);
  EXPECT_TRUE(at::equal(train_batch(d, 7, 1).x, first.x));
  EXPECT_TRUE(at::equal(train_batch(synthetic_data(1), 7, 1).x, first.x));  // a fresh process-like reopen
  EXPECT_FALSE(at::equal(train_batch(d, 7, 0).x, first.x));
  EXPECT_FALSE(at::equal(train_batch(d, 8, 1).x, first.x));
  EXPECT_FALSE(at::equal(train_batch(synthetic_data(2), 7, 1).x, first.x));
}

TEST(ValBatches, FixedAcrossSeedsAndTakenFromTheValidationSplit) {
  const Dataset a = synthetic_data(1), b = synthetic_data(2);
  const auto va = val_batches(a, a.val), vb = val_batches(b, b.val);
  ASSERT_EQ(va.size(), 3u);
  for (size_t i = 0; i < va.size(); ++i) {
    EXPECT_TRUE(at::equal(va[i].x, vb[i].x));
    EXPECT_TRUE(at::equal(va[i].y, vb[i].y));
  }
  EXPECT_EQ(va[0].x[0][0].item<int64_t>(), a.val.tokens[0]);  // the first window starts the split
  EXPECT_FALSE(at::equal(va[0].x, va[1].x));
}

TEST(TrainBatch, AssemblyIsNegligible) {
  const Dataset d = synthetic_data(0, 16, 128);
  const int n = 2000;
  const auto t0 = std::chrono::steady_clock::now();
  int64_t sink = 0;
  for (int i = 0; i < n; ++i) sink += train_batch(d, i).x.size(0);
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
  EXPECT_EQ(sink, 16 * n);
  EXPECT_LT(us, 1000.0);  // a training step of the smallest model takes milliseconds
  std::printf("[ measure  ] train_batch B=16 T=128: %.1f us per batch\n", us);
}

}  // namespace
}  // namespace hcx::data
