//===- batch_test.cc - Sources, splits, epoch orders and batches ----------===//
#include "runtime/data/batch.h"
#include "runtime/data/source.h"
#include "runtime/data/idx.h"
#include "runtime/data/text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <numeric>
#include <set>

#include <unistd.h>

using namespace dlc::rt;
using namespace dlc::rt::data;
namespace fs = std::filesystem;

namespace {

/// A dataset of one u8 input |dims| (whose element i is |pixel(i)|) and u8
/// targets |labels|.
std::shared_ptr<ArrayDataset> u8Dataset(const std::string &name, std::vector<int64_t> dims,
                                        const std::function<uint8_t(int64_t)> &pixel,
                                        std::vector<uint8_t> labels, int64_t classes) {
  std::vector<uint8_t> bytes(size_t(numElements(dims)));
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = pixel(int64_t(i));
  std::vector<int64_t> labelDims = {int64_t(labels.size())};
  std::vector<ArrayDataset::Input> inputs;
  inputs.push_back({"", HostArray::owning(DType::kU8, std::move(dims), std::move(bytes))});
  std::shared_ptr<ArrayDataset> ds;
  Status s = ArrayDataset::create(name, std::move(inputs),
                                  HostArray::owning(DType::kU8, labelDims, std::move(labels)),
                                  classes, &ds);
  EXPECT_TRUE(s.ok()) << s.toString();
  return ds;
}

/// n grey 2x2x1 images whose pixels all equal the example index; label i % 3.
std::shared_ptr<const Dataset> tinyImages(int64_t n) {
  std::vector<uint8_t> labels;
  for (int64_t i = 0; i < n; ++i)
    labels.push_back(uint8_t(i % 3));
  return u8Dataset("tiny", {n, 2, 2, 1}, [](int64_t i) { return uint8_t(i / 4); }, labels, 3);
}

struct Batch {
  std::vector<float> inputs;
  std::vector<int32_t> ids;
  std::vector<float> onehot;
  int64_t count = 0;
};

Batch fetch(BatchLoader &loader, int64_t index) {
  Batch b;
  std::vector<int64_t> in = loader.inputShape(), lab = loader.labelShape();
  b.inputs.assign(size_t(numElements(in)), -1.0f);
  TensorView labels;
  if (loader.labelDType() == DType::kI32) {
    b.ids.assign(size_t(numElements(lab)), -1);
    labels = {b.ids.data(), DType::kI32, lab};
  } else {
    b.onehot.assign(size_t(numElements(lab)), -1.0f);
    labels = {b.onehot.data(), DType::kF32, lab};
  }
  Status s = loader.batch(index, {TensorView{b.inputs.data(), DType::kF32, in}}, labels, &b.count);
  EXPECT_TRUE(s.ok()) << s.toString();
  return b;
}

BatchLoader makeLoader(std::shared_ptr<const Dataset> ds, LoaderConfig config,
                       const std::vector<TransformSpec> &steps = {}) {
  Pipeline p;
  EXPECT_TRUE(Pipeline::create(steps, ds->inputs()[0].shape, DType::kF32, &p).ok());
  BatchLoader loader;
  Status s = BatchLoader::create(ds, p, config, &loader);
  EXPECT_TRUE(s.ok()) << s.toString();
  return loader;
}

TEST(DataEpochOrder, IsAReproduciblePermutation) {
  for (int64_t n : {0, 1, 2, 7, 1000}) {
    std::vector<int64_t> order = epochOrder(n, 42, 3);
    std::vector<int64_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> expected(static_cast<size_t>(n));
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(sorted, expected) << n;
    EXPECT_EQ(order, epochOrder(n, 42, 3)) << n;
  }
  std::vector<int64_t> a = epochOrder(1000, 42, 3);
  EXPECT_NE(a, epochOrder(1000, 42, 4));
  EXPECT_NE(a, epochOrder(1000, 43, 3));
  // Fisher-Yates with a good generator: element 0 lands anywhere.
  std::set<int64_t> firsts;
  for (uint64_t e = 0; e < 50; ++e)
    firsts.insert(epochOrder(5, 1, e)[0]);
  EXPECT_EQ(firsts.size(), 5u);
}

TEST(DataBatchLoader, TrainingDropsThePartialBatch) {
  auto ds = tinyImages(10);
  BatchLoader loader = makeLoader(ds, {3, 5, true, true, LabelFormat::kSparse});
  ASSERT_EQ(loader.numBatches(), 3);
  EXPECT_EQ(loader.inputShape(), (std::vector<int64_t>{3, 2, 2, 1}));
  loader.startEpoch(1);
  std::set<int> seen;
  for (int64_t b = 0; b < 3; ++b) {
    Batch batch = fetch(loader, b);
    EXPECT_EQ(batch.count, 3);
    for (int r = 0; r < 3; ++r) {
      int example = int(batch.inputs[size_t(r * 4)]);
      EXPECT_TRUE(seen.insert(example).second);
      EXPECT_EQ(batch.ids[size_t(r)], example % 3);
    }
  }
  EXPECT_EQ(seen.size(), 9u);
  std::vector<int64_t> order = epochOrder(10, 5, 1);
  EXPECT_EQ(seen.count(int(order[9])), 0u); // the dropped remainder
}

TEST(DataBatchLoader, EvaluationKeepsOrderAndReportsThePartialBatch) {
  BatchLoader loader = makeLoader(tinyImages(10), {4, 5, false, true, LabelFormat::kOneHot});
  ASSERT_EQ(loader.numBatches(), 3);
  EXPECT_EQ(loader.labelShape(), (std::vector<int64_t>{4, 3}));
  Batch last = fetch(loader, 2);
  EXPECT_EQ(last.count, 2);
  EXPECT_EQ(std::vector<float>(last.inputs.begin(), last.inputs.begin() + 8),
            (std::vector<float>{8, 8, 8, 8, 9, 9, 9, 9}));
  EXPECT_EQ(std::vector<float>(last.inputs.begin() + 8, last.inputs.end()),
            std::vector<float>(8, 0.0f)); // unused rows zeroed
  // One-hot rows: 8 % 3 = 2, 9 % 3 = 0, then zero rows.
  EXPECT_EQ(last.onehot, (std::vector<float>{0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}));
  BatchLoader bad;
  Pipeline p;
  ASSERT_TRUE(Pipeline::create({}, {2, 2, 1}, DType::kF32, &p).ok());
  EXPECT_FALSE(BatchLoader::create(tinyImages(10), p, {11, 0, true, true, {}}, &bad).ok());
  EXPECT_TRUE(BatchLoader::create(tinyImages(10), p, {11, 0, false, true, {}}, &bad).ok());
}

TEST(DataBatchLoader, ResumeAndBatchSizeDoNotChangeAugmentation) {
  std::vector<TransformSpec> steps = {{"random_crop", {{"height", 1.0}, {"width", 1.0}}},
                                 {"rescale", {{"scale", 0.5}}}};
  // Pixels differ per position so the crop window is visible.
  auto ds = u8Dataset("grid", {12, 3, 3, 1}, [](int64_t i) { return uint8_t(i); },
                      std::vector<uint8_t>(12, 0), 1);

  BatchLoader a = makeLoader(ds, {4, 9, true, true, LabelFormat::kSparse}, steps);
  BatchLoader b = makeLoader(ds, {4, 9, true, true, LabelFormat::kSparse}, steps);
  BatchLoader c = makeLoader(ds, {2, 9, true, true, LabelFormat::kSparse}, steps);
  a.startEpoch(0);
  fetch(a, 0);
  a.startEpoch(2);
  Batch a1 = fetch(a, 0), a2 = fetch(a, 1);
  b.startEpoch(2); // a resumed run jumps straight to epoch 2, batch 1
  EXPECT_EQ(fetch(b, 1).inputs, a2.inputs);
  // Batch size 2 visits the same order: its batches 0 and 1 are a's batch 0.
  c.startEpoch(2);
  Batch c0 = fetch(c, 0), c1 = fetch(c, 1);
  c0.inputs.insert(c0.inputs.end(), c1.inputs.begin(), c1.inputs.end());
  EXPECT_EQ(c0.inputs, a1.inputs);
  // Crops really vary: over the epochs some example yields different pixels.
  std::set<float> values;
  for (uint64_t e = 0; e < 8; ++e) {
    a.startEpoch(e);
    for (float v : fetch(a, 0).inputs)
      values.insert(v);
  }
  EXPECT_GT(values.size(), 12u);
}

TEST(DataSource, FractionSplitIsDeterministicAndHonoursTheGap) {
  Source source;
  source.train = tinyImages(10);
  Splits splits;
  ASSERT_TRUE(splitSource(source, {Validation::Kind::kFraction, 0.2}, &splits).ok());
  EXPECT_EQ(splits.train->size(), 8);
  EXPECT_EQ(splits.validation->size(), 2);
  std::vector<float> in(4);
  int32_t label = -1;
  int64_t first = 0;
  ASSERT_TRUE(splits.validation
                  ->gather(&first, 1, {TensorView{in.data(), DType::kF32, {1, 2, 2, 1}}},
                           TensorView{&label, DType::kI32, {1}})
                  .ok());
  EXPECT_EQ(in[0], 8.0f);
  EXPECT_EQ(label, 2);
  Status s = splitSource(source, {Validation::Kind::kTest, 0}, &splits);
  EXPECT_NE(s.message().find("has no test split"), std::string::npos) << s.toString();
  Validation v;
  EXPECT_TRUE(parseValidation(std::string("test"), &v).ok());
  EXPECT_TRUE(parseValidation(0.1, &v).ok() && v.kind == Validation::Kind::kFraction);
  EXPECT_FALSE(parseValidation(1.5, &v).ok());

  // Text windows overlap: the sequence_length windows before the seam go.
  std::shared_ptr<TextDataset> text;
  ASSERT_TRUE(TextDataset::fromTexts({"a b c d e f g h i j k l m n o p q r s t u v"}, 50, 2,
                                     "letters", &text)
                  .ok());
  source.train = text; // 22 words -> 20 windows
  ASSERT_TRUE(splitSource(source, {Validation::Kind::kFraction, 0.25}, &splits).ok());
  EXPECT_EQ(splits.validation->size(), 5); // windows 15..19
  EXPECT_EQ(splits.train->size(), 13);     // windows 0..12; 13 and 14 share tokens
}

const ModelSignature kNoModel;

TEST(DataSource, ParsesKindsAndOptions) {
  Source s;
  Status st = openSource("image_folder", {{"path", std::string("/nonexistent/flowers")}}, kNoModel, &s);
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.toString();
  st = openSource("parquet", {}, kNoModel, &s);
  EXPECT_NE(st.message().find("unknown data source 'parquet'"), std::string::npos);
  st = openSource("fashion_mnist", {{"path", std::string("/nonexistent")}}, kNoModel, &s);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("/nonexistent/train-images-idx3-ubyte.gz: not found (install "
                              "Debian's dataset-fashion-mnist package"),
            std::string::npos)
      << st.toString();
  st = openSource("fashion_mnist", {{"pth", std::string("/x")}}, kNoModel, &s);
  EXPECT_NE(st.message().find("'fashion_mnist' has no option 'pth'"), std::string::npos);
  st = openSource("text", {{"path", std::string("/x")}, {"vocab_size", 1.5}}, kNoModel, &s);
  EXPECT_NE(st.message().find("must be an integer"), std::string::npos) << st.toString();
}

TEST(DataSource, IdxFilesOfAnyPair) {
  std::string pattern = (fs::temp_directory_path() / "dlc_src_XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  auto write = [&](const std::string &name, IdxType type, std::vector<int64_t> dims,
                   std::vector<uint8_t> data) {
    IdxArray a{type, std::move(dims), std::move(data)};
    EXPECT_TRUE(writeIdx(pattern + "/" + name, a, name.size() > 3).ok());
    return pattern + "/" + name;
  };
  Options o = {
      {"train_images", write("ti.gz", IdxType::kU8, {3, 1, 2, 2}, std::vector<uint8_t>(12, 7))},
      {"train_labels", write("tl", IdxType::kU8, {3}, {0, 4, 1})},
      {"test_images", write("vi.gz", IdxType::kU8, {1, 1, 2, 2}, std::vector<uint8_t>(4, 1))},
      {"test_labels", write("vl", IdxType::kU8, {1}, {6})}};
  Source s;
  Status st = openSource("idx", o, kNoModel, &s);
  ASSERT_TRUE(st.ok()) << st.toString();
  EXPECT_EQ(s.train->numClasses(), 5); // 1 + the largest label of the split
  EXPECT_EQ(s.test->numClasses(), 7);
  EXPECT_EQ(s.train->inputs()[0].shape, (std::vector<int64_t>{1, 2, 2}));
  EXPECT_EQ(s.test->size(), 1);
  o["test_labels"] = write("v2", IdxType::kU8, {2}, {1, 2}); // 1 image, 2 labels
  st = openSource("idx", o, kNoModel, &s);
  EXPECT_NE(st.message().find("the targets holds 2 examples but the inputs 1"), std::string::npos)
      << st.toString();
  fs::remove_all(pattern);
}

TEST(DataSource, FashionMnist) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Debian's dataset-fashion-mnist package is not installed";
  Source s;
  Status st = openSource("fashion_mnist", {}, kNoModel, &s);
  ASSERT_TRUE(st.ok()) << st.toString();
  EXPECT_EQ(s.summary,
            "fashion_mnist: 60000 train, 10000 test examples of u8 [28, 28, 1], 10 classes");
  ASSERT_EQ(s.train->size(), 60000);
  ASSERT_EQ(s.test->size(), 10000);
  auto histogram = [](const Dataset &d) {
    std::vector<int> h(10);
    for (int64_t i = 0; i < d.size(); ++i)
      ++h[size_t(static_cast<const ArrayDataset &>(d).targetAt(i))];
    return h;
  };
  EXPECT_EQ(histogram(*s.train), std::vector<int>(10, 6000));
  EXPECT_EQ(histogram(*s.test), std::vector<int>(10, 1000));

  BatchLoader loader = makeLoader(s.train, {128, 1, true, true, LabelFormat::kOneHot},
                                  {{"rescale", {{"scale", 1.0 / 255}}}});
  EXPECT_EQ(loader.numBatches(), 468); // 60000 / 128, the last 96 dropped
  Batch b = fetch(loader, 0);
  auto [lo, hi] = std::minmax_element(b.inputs.begin(), b.inputs.end());
  EXPECT_EQ(*lo, 0.0f);
  EXPECT_EQ(*hi, 1.0f);
  EXPECT_EQ(std::accumulate(b.onehot.begin(), b.onehot.end(), 0.0f), 128.0f);
}

} // namespace
