//===- prefetch_test.cc - Prefetched batches are the loader's batches -----===//
#include "runtime/callbacks.h"
#include "runtime/data/prefetch.h"

#include <cmath>
#include <set>

#include <gtest/gtest.h>

using namespace dlc::rt;
using namespace dlc::rt::data;

namespace {

/// Images whose pixels count up, class ids i % 3 and, with |sizes|, a
/// second target (a regression value i / 4 per example).
std::shared_ptr<ArrayDataset> numbered(int64_t n, bool sizes = false) {
  std::vector<uint8_t> pixels(static_cast<size_t>(n * 4)), labels(static_cast<size_t>(n));
  std::vector<uint8_t> sizeBytes;
  for (int64_t i = 0; i < n * 4; ++i)
    pixels[size_t(i)] = uint8_t(i);
  for (int64_t i = 0; i < n; ++i) {
    labels[size_t(i)] = uint8_t(i % 3);
    const float size = float(i) / 4;
    sizeBytes.insert(sizeBytes.end(), reinterpret_cast<const uint8_t *>(&size),
                     reinterpret_cast<const uint8_t *>(&size) + 4);
  }
  std::vector<ArrayDataset::Input> inputs, targets;
  inputs.push_back({"", HostArray::owning(DType::kU8, {n, 2, 2, 1}, std::move(pixels))});
  targets.push_back({sizes ? "kind" : "", HostArray::owning(DType::kU8, {n}, std::move(labels))});
  if (sizes)
    targets.push_back({"size", HostArray::owning(DType::kF32, {n, 1}, std::move(sizeBytes))});
  std::shared_ptr<ArrayDataset> ds;
  EXPECT_TRUE(ArrayDataset::create("numbered", std::move(inputs), std::move(targets), 3, &ds).ok());
  return ds;
}

/// The targets as the data gives them: class ids sparse, sizes as they are.
BatchLoader loader(bool training, bool sizes = false) {
  std::vector<TransformSpec> steps = {{"random_flip", {{"mode", std::string("horizontal")}}}};
  Pipeline pipeline;
  EXPECT_TRUE(Pipeline::create(steps, {2, 2, 1}, DType::kF32, &pipeline).ok());
  LoaderConfig config;
  config.batchSize = 4;
  config.seed = 11;
  config.training = training;
  BatchLoader out;
  Status s = BatchLoader::create(numbered(18, sizes), pipeline, config, &out);
  EXPECT_TRUE(s.ok()) << s.toString();
  return out;
}

std::vector<float> direct(BatchLoader &l, uint64_t epoch, int64_t index, std::vector<int32_t> *ids,
                          std::vector<int64_t> *examples) {
  l.startEpoch(epoch);
  std::vector<float> in(size_t(numElements(l.inputShape())));
  ids->assign(size_t(numElements(l.labelShape())), -1);
  examples->assign(size_t(l.inputShape()[0]), -1);
  int64_t count = 0;
  EXPECT_TRUE(l.batch(index, {TensorView{in.data(), DType::kF32, l.inputShape()}},
                      {TensorView{ids->data(), DType::kI32, l.labelShape()}}, &count, examples->data())
                  .ok());
  return in;
}

class DataPrefetcher : public ::testing::TestWithParam<int> {};

TEST_P(DataPrefetcher, HandsOverTheLoadersBatchesInAnyOrder) {
  BatchLoader reference = loader(true);
  Prefetcher prefetcher;
  prefetcher.start(loader(true), GetParam());
  // In order across an epoch boundary, then out of order (a resume), then
  // a repeat.
  const std::pair<uint64_t, int64_t> order[] = {{0, 0}, {0, 1}, {0, 2}, {0, 3}, {1, 0}, {1, 1},
                                                {3, 2}, {3, 3}, {0, 0}, {0, 0}};
  for (auto [epoch, index] : order) {
    std::vector<int32_t> expectedIds, ids(4, -7);
    std::vector<int64_t> expectedExamples, examples(4, -7);
    std::vector<float> expected = direct(reference, epoch, index, &expectedIds, &expectedExamples);
    std::vector<float> got(expected.size(), -1);
    int64_t count = 0;
    double waited = -1;
    Status s = prefetcher.batch(epoch, index, {TensorView{got.data(), DType::kF32, {4, 2, 2, 1}}},
                                {TensorView{ids.data(), DType::kI32, {4}}}, &count, &waited, examples.data());
    ASSERT_TRUE(s.ok()) << s.toString();
    EXPECT_EQ(got, expected) << epoch << " " << index;
    EXPECT_EQ(ids, expectedIds);
    // Each example's index in the dataset (what keys its augmentation): the
    // epoch's shuffled order, distinct within the batch.
    EXPECT_EQ(examples, expectedExamples);
    EXPECT_EQ(std::set<int64_t>(examples.begin(), examples.end()).size(), 4u);
    for (int64_t e : examples)
      EXPECT_TRUE(e >= 0 && e < 18) << e;
    EXPECT_EQ(count, 4);
    EXPECT_GE(waited, 0.0);
  }
  // Errors pass through: a batch out of range.
  std::vector<float> got(16);
  std::vector<int32_t> ids(4);
  int64_t count = 0;
  double waited = 0;
  EXPECT_FALSE(prefetcher
                   .batch(0, 9, {TensorView{got.data(), DType::kF32, {4, 2, 2, 1}}},
                          {TensorView{ids.data(), DType::kI32, {4}}}, &count, &waited)
                   .ok());
  // And the queue starts again after one.
  EXPECT_TRUE(prefetcher
                  .batch(1, 2, {TensorView{got.data(), DType::kF32, {4, 2, 2, 1}}},
                         {TensorView{ids.data(), DType::kI32, {4}}}, &count, &waited)
                  .ok());
}

TEST_P(DataPrefetcher, HandsOverALabelBufferPerTarget) {
  BatchLoader reference = loader(true, true);
  ASSERT_EQ(reference.numTargets(), 2u);
  EXPECT_EQ(reference.labelShape(1), (std::vector<int64_t>{4, 1}));
  Prefetcher prefetcher;
  prefetcher.start(loader(true, true), GetParam());
  for (auto [epoch, index] : {std::pair<uint64_t, int64_t>{0, 0}, {0, 3}, {1, 0}, {0, 2}}) {
    std::vector<float> pixels(16), sizes(4, -1), expectedPixels(16), expectedSizes(4, -2);
    std::vector<int32_t> kinds(4, -1), expectedKinds(4, -2);
    int64_t count = 0;
    double waited = 0;
    const TensorView in{pixels.data(), DType::kF32, {4, 2, 2, 1}};
    Status s = prefetcher.batch(epoch, index, {in},
                                {TensorView{kinds.data(), DType::kI32, {4}},
                                 TensorView{sizes.data(), DType::kF32, {4, 1}}},
                                &count, &waited);
    ASSERT_TRUE(s.ok()) << s.toString();
    reference.startEpoch(epoch);
    s = reference.batch(index, {TensorView{expectedPixels.data(), DType::kF32, {4, 2, 2, 1}}},
                        {TensorView{expectedKinds.data(), DType::kI32, {4}},
                         TensorView{expectedSizes.data(), DType::kF32, {4, 1}}},
                        &count);
    ASSERT_TRUE(s.ok()) << s.toString();
    EXPECT_EQ(pixels, expectedPixels);
    EXPECT_EQ(kinds, expectedKinds);
    EXPECT_EQ(sizes, expectedSizes);
    for (int r = 0; r < 4; ++r) // each row's two labels belong to the same example
      EXPECT_EQ(float(kinds[size_t(r)]), std::fmod(sizes[size_t(r)] * 4, 3.0f)) << r;
  }
}

// One batch ahead, the default queue, and a queue longer than an epoch (4
// batches): the same batches.
INSTANTIATE_TEST_SUITE_P(Depths, DataPrefetcher, ::testing::Values(1, Prefetcher::kDefaultDepth, 6));

TEST(Callbacks, MonitorFollowsKerasRules) {
  Monitor lower; // val_loss: lower is better, by more than min_delta
  lower.minDelta = 0.1;
  EXPECT_TRUE(lower.update(1.0, 1));
  EXPECT_FALSE(lower.update(0.95, 2)); // not by more than 0.1
  EXPECT_EQ(lower.wait, 1);
  EXPECT_TRUE(lower.update(0.8, 3));
  EXPECT_EQ(lower.wait, 0);
  EXPECT_EQ(lower.bestEpoch, 3);
  Monitor higher;
  higher.maximize = true;
  EXPECT_TRUE(higher.update(0.5, 1));
  EXPECT_FALSE(higher.update(0.5, 2));
  EXPECT_TRUE(higher.update(0.6, 3));
  EXPECT_TRUE(maximizes("val_accuracy") && maximizes("top_5_accuracy") && !maximizes("val_loss"));

  CallbackSettings settings;
  ASSERT_TRUE(decodeCallbacks(R"({"callbacks": [{"kind": "early_stopping", "options": {"monitor":
      "val_accuracy", "mode": "auto", "patience": 2, "min_delta": 0.0, "restore_best_weights": true,
      "start_from_epoch": 1}}]})",
                              &settings)
                  .ok());
  EXPECT_TRUE(settings.earlyStopping && settings.stopping.maximize && settings.restoreBestWeights);
  EXPECT_EQ(settings.patience, 2);
  settings.stopping.update(0.7, 4);
  CallbackSettings restored = settings;
  restored.stopping = Monitor();
  ASSERT_TRUE(restoreCallbackState(callbackState(settings), &restored).ok());
  EXPECT_EQ(restored.stopping.best, 0.7);
  EXPECT_EQ(restored.stopping.bestEpoch, 4);
  EXPECT_FALSE(restoreCallbackState("{}", &restored).ok());
}

} // namespace
