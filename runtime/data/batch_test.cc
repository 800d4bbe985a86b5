//===- batch_test.cc - Sources, splits, epoch orders and batches ----------===//
#include "runtime/data/batch.h"
#include "runtime/data/source.h"
#include "runtime/data/idx.h"
#include "runtime/data/text.h"
#include "runtime/safetensors.h"

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
  std::vector<ArrayDataset::Input> targets;
  targets.push_back({"", HostArray::owning(DType::kU8, labelDims, std::move(labels))});
  Status s = ArrayDataset::create(name, std::move(inputs), std::move(targets), classes, &ds);
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
  Status s = loader.batch(index, {TensorView{b.inputs.data(), DType::kF32, in}}, {labels}, &b.count);
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
  BatchLoader loader = makeLoader(ds, {3, 5, true, true, {LabelFormat::kSparse}});
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
  BatchLoader loader = makeLoader(tinyImages(10), {4, 5, false, true, {LabelFormat::kOneHot}});
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

  BatchLoader a = makeLoader(ds, {4, 9, true, true, {LabelFormat::kSparse}}, steps);
  BatchLoader b = makeLoader(ds, {4, 9, true, true, {LabelFormat::kSparse}}, steps);
  BatchLoader c = makeLoader(ds, {2, 9, true, true, {LabelFormat::kSparse}}, steps);
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
                           {TensorView{&label, DType::kI32, {1}}})
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

std::string tempDir() {
  std::string pattern = (fs::temp_directory_path() / "dlc_src_XXXXXX").string();
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

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
  const std::string pattern = tempDir();
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
  EXPECT_EQ(s.train->numClasses(0), 5); // 1 + the largest label of the split
  EXPECT_EQ(s.test->numClasses(0), 7);
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
      ++h[size_t(static_cast<const ArrayDataset &>(d).targetAt(0, i))];
    return h;
  };
  EXPECT_EQ(histogram(*s.train), std::vector<int>(10, 6000));
  EXPECT_EQ(histogram(*s.test), std::vector<int>(10, 1000));

  BatchLoader loader = makeLoader(s.train, {128, 1, true, true, {LabelFormat::kOneHot}},
                                  {{"rescale", {{"scale", 1.0 / 255}}}});
  EXPECT_EQ(loader.numBatches(), 468); // 60000 / 128, the last 96 dropped
  Batch b = fetch(loader, 0);
  auto [lo, hi] = std::minmax_element(b.inputs.begin(), b.inputs.end());
  EXPECT_EQ(*lo, 0.0f);
  EXPECT_EQ(*hi, 1.0f);
  EXPECT_EQ(std::accumulate(b.onehot.begin(), b.onehot.end(), 0.0f), 128.0f);
}

// A model of two outputs, as Keras' y={"price": ..., "dept": ...}: a
// regression value and a class id per example.
ModelSignature priceAndDept() {
  ModelSignature model;
  model.inputs = {{"x", DType::kF32, {2}}};
  model.outputs = {"price", "dept"};
  return model;
}

template <typename T>
TensorToWrite tensor(const std::string &name, DType dtype, std::vector<int64_t> shape,
                     const std::vector<T> &values) {
  return {name, dtype, std::move(shape), values.data(), values.size() * sizeof(T)};
}

const std::vector<float> kX = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
const std::vector<float> kPrice = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f};
const std::vector<int64_t> kDept = {0, 2, 1, 3, 2, 0};

/// Six examples: x, price [N, 1] and dept [N] (class ids 0-3), and any
/// |extra| arrays, as the safetensors file |path|.
void writePriceAndDept(const std::string &path, std::vector<TensorToWrite> extra = {}) {
  extra.push_back(tensor("x", DType::kF32, {6, 2}, kX));
  extra.push_back(tensor("price", DType::kF32, {6, 1}, kPrice));
  extra.push_back(tensor("dept", DType::kI64, {6}, kDept));
  Status s = writeSafetensors(path, extra);
  ASSERT_TRUE(s.ok()) << s.toString();
}

TEST(DataSource, NamedArraysGiveATargetPerOutput) {
  const std::string dir = tempDir(), path = dir + "/train.safetensors";
  writePriceAndDept(path);
  Source s;
  Status st = openSource("safetensors", {{"train", path}}, priceAndDept(), &s);
  ASSERT_TRUE(st.ok()) << st.toString();
  const std::vector<Field> &targets = s.train->targets();
  ASSERT_EQ(targets.size(), 2u); // in the outputs' order, not the file's
  EXPECT_EQ(targets[0].name, "price");
  EXPECT_EQ(targets[0].shape, (std::vector<int64_t>{1}));
  EXPECT_EQ(targets[1].name, "dept");
  EXPECT_EQ(targets[1].dtype, DType::kI64);
  EXPECT_EQ(s.train->numClasses(0), 0); // floats: a regression target
  EXPECT_EQ(s.train->numClasses(1), 4);
  EXPECT_EQ(s.summary, "safetensors: 6 train examples of x f32 [2]; targets price f32 [1], dept 4 classes");

  // Evaluation keeps the order: batch 1 is examples 4 and 5, then padding.
  LoaderConfig config{4, 0, false, true, {LabelFormat::kOneHot, LabelFormat::kSparse}, {}, {{1}, {}}, {0, 4}};
  BatchLoader loader = makeLoader(s.train, config);
  ASSERT_EQ(loader.numTargets(), 2u);
  EXPECT_EQ(loader.labelShape(0), (std::vector<int64_t>{4, 1}));
  EXPECT_EQ(loader.labelDType(0), DType::kF32);
  EXPECT_EQ(loader.labelShape(1), (std::vector<int64_t>{4}));
  EXPECT_EQ(loader.labelDType(1), DType::kI32);
  std::vector<float> x(8, -1), price(4, -1);
  std::vector<int32_t> dept(4, -1);
  const TensorView xView{x.data(), DType::kF32, {4, 2}}, priceView{price.data(), DType::kF32, {4, 1}};
  int64_t count = 0;
  st = loader.batch(1, {xView}, {priceView, TensorView{dept.data(), DType::kI32, {4}}}, &count);
  ASSERT_TRUE(st.ok()) << st.toString();
  EXPECT_EQ(count, 2);
  EXPECT_EQ(x, (std::vector<float>{8, 9, 10, 11, 0, 0, 0, 0}));
  EXPECT_EQ(price, (std::vector<float>{4.5f, 5.5f, 0, 0}));
  EXPECT_EQ(dept, (std::vector<int32_t>{2, 0, 0, 0}));
  st = loader.batch(1, {xView}, {priceView}, &count);
  EXPECT_NE(st.message().find("1 label buffers for 2 targets"), std::string::npos) << st.toString();

  // One-hot rows over the model's 5 classes (more than the data's 4).
  config.labels = {LabelFormat::kOneHot, LabelFormat::kOneHot};
  config.modelLabelShapes = {{1}, {5}};
  loader = makeLoader(s.train, config);
  std::vector<float> rows(4 * 5, -1);
  st = loader.batch(0, {xView}, {priceView, TensorView{rows.data(), DType::kF32, {4, 5}}}, &count);
  ASSERT_TRUE(st.ok()) << st.toString();
  EXPECT_EQ(price, (std::vector<float>{0.5f, 1.5f, 2.5f, 3.5f}));
  EXPECT_EQ(rows, (std::vector<float>{1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0}));

  // Each target is checked against its own output, and named.
  auto error = [&](const LoaderConfig &c) {
    Pipeline p;
    EXPECT_TRUE(Pipeline::create({}, {2}, DType::kF32, &p).ok());
    BatchLoader l;
    Status status = BatchLoader::create(s.train, p, c, &l);
    EXPECT_FALSE(status.ok());
    return status.message();
  };
  config.modelLabelShapes = {{1}, {3}};
  EXPECT_NE(error(config).find("the targets of 'dept' hold class ids up to 3 but the model's output has 3 "
                               "classes"),
            std::string::npos)
      << error(config);
  config.labels = {LabelFormat::kSparse, LabelFormat::kSparse};
  config.modelLabelShapes = {};
  EXPECT_NE(error(config).find("the loss takes class ids but the targets of 'price' are f32 values"),
            std::string::npos)
      << error(config);
  config.labels = {LabelFormat::kOneHot, LabelFormat::kSparse};
  config.classes = {0, 3}; // sparse ids are bounded by the model's class count
  EXPECT_NE(error(config).find("the targets of 'dept' hold class ids up to 3 but the model's output has 3"),
            std::string::npos)
      << error(config);
  config.classes = {};
  config.modelLabelShapes = {{2}, {}};
  EXPECT_NE(error(config).find("the targets of 'price' are f32 [1] per example but the loss takes [2]"),
            std::string::npos)
      << error(config);
  config.labels = {LabelFormat::kOneHot};
  config.modelLabelShapes = {};
  EXPECT_NE(error(config).find("examples have 2 targets but the model has 1 outputs"), std::string::npos)
      << error(config);
  fs::remove_all(dir);
}

TEST(DataSource, SeveralOutputsNeedAnArrayEach) {
  const std::string dir = tempDir(), path = dir + "/train.safetensors";
  writePriceAndDept(path);
  Source s;
  ModelSignature model = priceAndDept();
  model.outputs.push_back("color");
  Status st = openSource("safetensors", {{"train", path}}, model, &s);
  EXPECT_NE(st.message().find(path + ": no array named 'color' for the targets of the model's output "
                                     "'color' (a model with 3 outputs takes one array of targets per "
                                     "output: price, dept, color; the file holds: dept, price, x)"),
            std::string::npos)
      << st.toString();
  // A one-output model takes `labels` or `y`, as ever.
  model.outputs = {"price"};
  st = openSource("safetensors", {{"train", path}}, model, &s);
  EXPECT_NE(st.message().find("no array named 'labels' or 'y' for the targets"), std::string::npos)
      << st.toString();
  // A misspelt array is not ignored.
  const std::vector<float> weights(6, 1.0f);
  writePriceAndDept(path, {tensor("weight", DType::kF32, {6}, weights)});
  st = openSource("safetensors", {{"train", path}}, priceAndDept(), &s);
  EXPECT_NE(st.message().find("the array 'weight' is neither a model input nor a model output's targets "
                              "(price, dept)"),
            std::string::npos)
      << st.toString();

  // To predict, targets are placeholders, one per output.
  model = priceAndDept();
  model.targets = false;
  st = openSource("safetensors", {{"train", path}}, model, &s);
  ASSERT_TRUE(st.ok()) << st.toString();
  ASSERT_EQ(s.train->targets().size(), 2u);
  EXPECT_EQ(s.train->targets()[1].name, "dept");

  // Every other source gives one target.
  IdxArray images{IdxType::kU8, {2, 1, 2}, std::vector<uint8_t>(4, 1)}, labels{IdxType::kU8, {2}, {0, 1}};
  ASSERT_TRUE(writeIdx(dir + "/images", images, false).ok());
  ASSERT_TRUE(writeIdx(dir + "/labels", labels, false).ok());
  const Options idx = {{"train_images", dir + "/images"}, {"train_labels", dir + "/labels"}};
  st = openSource("idx", idx, priceAndDept(), &s);
  EXPECT_NE(st.message().find("'idx' gives one target; a model with 2 outputs (price, dept) trains from "
                              "npz or safetensors, one array per output"),
            std::string::npos)
      << st.toString();
  st = openSource("idx", idx, model, &s); // images only, to predict
  ASSERT_TRUE(st.ok()) << st.toString();
  EXPECT_EQ(s.train->targets().size(), 2u);
  fs::remove_all(dir);
}

TEST(DataArrayDataset, EachTargetHasItsOwnClassCount) {
  std::vector<ArrayDataset::Input> inputs, targets;
  inputs.push_back({"x", HostArray::owning(DType::kU8, {3, 1}, {7, 8, 9})});
  targets.push_back({"a", HostArray::owning(DType::kU8, {3}, {0, 1, 2})});
  targets.push_back({"b", HostArray::owning(DType::kU8, {3}, {6, 0, 1})});
  targets.push_back({"c", HostArray::owning(DType::kI8, {3}, {0, 0xFF, 1})}); // -1: values, not ids
  std::shared_ptr<ArrayDataset> ds;
  Status s = ArrayDataset::create("abc", inputs, targets, 5, &ds);
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(ds->numClasses(0), 5); // at least the count declared
  EXPECT_EQ(ds->numClasses(1), 7);
  EXPECT_EQ(ds->numClasses(2), 0);
  EXPECT_EQ(ds->targetAt(1, 0), 6);

  int64_t index = 2;
  uint8_t x = 0;
  int32_t a = -1, b = -1;
  float c = -1;
  s = ds->gather(&index, 1, {TensorView{&x, DType::kU8, {1, 1}}},
                 {TensorView{&a, DType::kI32, {1}}, TensorView{&b, DType::kI32, {1}},
                  TensorView{&c, DType::kF32, {1}}});
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(std::vector<double>({double(x), double(a), double(b), double(c)}),
            (std::vector<double>{9, 2, 1, 1}));
  s = ds->gather(&index, 1, {TensorView{&x, DType::kU8, {1, 1}}}, {TensorView{&a, DType::kI32, {1}}});
  EXPECT_NE(s.message().find("abc: examples have 3 targets, asked for 1"), std::string::npos) << s.toString();

  targets.push_back({"d", HostArray::owning(DType::kU8, {2}, {0, 1})});
  s = ArrayDataset::create("abc", inputs, targets, 0, &ds);
  EXPECT_NE(s.message().find("abc: target 'd' holds 2 examples but 'x' 3"), std::string::npos) << s.toString();
}

} // namespace
