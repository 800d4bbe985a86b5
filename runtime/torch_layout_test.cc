//===- torch_layout_test.cc - PyTorch state_dict tensors as dlc parameters ===//
#include "runtime/torch_layout.h"

#include "runtime/tensor.h"

#include <gtest/gtest.h>

#include <map>

using namespace dlc::rt;

namespace {

/// A state_dict of tensors whose values are their flat indices (plus |base|).
struct StateDict {
  std::map<std::string, std::vector<int64_t>> shapes;
  float base = 0;
  TensorLookup lookup() const {
    return [this](const std::string &name, std::vector<int64_t> *shape, std::vector<float> *values) {
      auto it = shapes.find(name);
      if (it == shapes.end())
        return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "no tensor '" + name + "'");
      *shape = it->second;
      values->resize(size_t(numElements(*shape)));
      for (size_t i = 0; i < values->size(); ++i)
        (*values)[i] = base + float(i);
      return okStatus();
    };
  }
};

TEST(TorchLayout, ConvKernelIsOihwToHwio) {
  StateDict sd{{{"c.weight", {4, 3, 2, 5}}}};
  std::vector<float> kernel;
  ASSERT_TRUE(readTorchParameter(sd.lookup(), "c/kernel", "conv2d", {2, 5, 3, 4}, {}, &kernel).ok());
  // kernel[y][x][i][o] = weight[o][i][y][x]
  for (int o = 0; o < 4; ++o)
    for (int i = 0; i < 3; ++i)
      for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 5; ++x)
          EXPECT_EQ(kernel[size_t(((y * 5 + x) * 3 + i) * 4 + o)], float(((o * 3 + i) * 2 + y) * 5 + x));
}

TEST(TorchLayout, DenseKernelTransposesAndReordersAFlattenedImage) {
  StateDict sd{{{"d.weight", {2, 12}}}};
  std::vector<float> kernel;
  ASSERT_TRUE(readTorchParameter(sd.lookup(), "d/kernel", "dense", {12, 2}, {}, &kernel).ok());
  for (int o = 0; o < 2; ++o)
    for (int i = 0; i < 12; ++i)
      EXPECT_EQ(kernel[size_t(i * 2 + o)], float(o * 12 + i));
  // Rows of an [H=2, W=3, C=2] image: dlc's row (y, x, c) is PyTorch's
  // column (c, y, x).
  ASSERT_TRUE(readTorchParameter(sd.lookup(), "d/kernel", "dense", {12, 2}, {2, 3, 2}, &kernel).ok());
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 2; ++c)
        for (int o = 0; o < 2; ++o)
          EXPECT_EQ(kernel[size_t(((y * 3 + x) * 2 + c) * 2 + o)], float(o * 12 + (c * 2 + y) * 3 + x));
  // Rows that do not make the kernel's inputs (a hostile bundle) are refused.
  for (std::vector<int64_t> rows : {std::vector<int64_t>{2, 3}, {2, 3, 3}, {-2, -3, 2},
                                    {int64_t(1) << 40, int64_t(1) << 40, 12}})
    EXPECT_FALSE(readTorchParameter(sd.lookup(), "d/kernel", "dense", {12, 2}, rows, &kernel).ok());
}

TEST(TorchLayout, LstmAndBatchNormAndEmbedding) {
  StateDict sd{{{"l.weight_ih_l0", {8, 3}}, {"l.weight_hh_l0", {8, 2}}, {"l.bias_ih_l0", {8}},
                {"l.bias_hh_l0", {8}}, {"b.running_var", {4}}, {"e.weight", {5, 3}}}};
  std::vector<float> v;
  ASSERT_TRUE(readTorchParameter(sd.lookup(), "l/kernel", "lstm", {3, 8}, {}, &v).ok());
  EXPECT_EQ(v[size_t(1 * 8 + 5)], float(5 * 3 + 1)); // kernel[i][g] = weight_ih[g][i]
  ASSERT_TRUE(readTorchParameter(sd.lookup(), "l/recurrent_kernel", "lstm", {2, 8}, {}, &v).ok());
  EXPECT_EQ(v[size_t(1 * 8 + 7)], float(7 * 2 + 1));
  ASSERT_TRUE(readTorchParameter(sd.lookup(), "l/bias", "lstm", {8}, {}, &v).ok());
  EXPECT_EQ(v[3], 6.0f); // bias_ih + bias_hh
  ASSERT_TRUE(readTorchParameter(sd.lookup(), "b/moving_variance", "batch_normalization", {4}, {}, &v).ok());
  EXPECT_EQ(v[3], 3.0f);
  ASSERT_TRUE(readTorchParameter(sd.lookup(), "e/embeddings", "embedding", {5, 3}, {}, &v).ok());
  // A wrong shape names the tensor and both shapes; an unknown class says
  // which layouts exist.
  Status s = readTorchParameter(sd.lookup(), "e/embeddings", "embedding", {5, 4}, {}, &v);
  EXPECT_NE(s.message().find("'e.weight' is [5, 3] but 'e/embeddings' needs [5, 4]"), std::string::npos)
      << s.toString();
  s = readTorchParameter(sd.lookup(), "g/kernel", "gru", {3, 9}, {}, &v);
  EXPECT_NE(s.message().find("no PyTorch layout is known for 'g/kernel'"), std::string::npos) << s.toString();
}

} // namespace
