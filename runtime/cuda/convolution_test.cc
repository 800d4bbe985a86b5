//===- convolution_test.cc - The "convolution" library routine's contract -===//
//
// parseConvolution takes the calls the contract allows and refuses the
// rest (a bundle is untrusted input); referenceConvolution, what the
// emulation runs for cuDNN, computes the contract: a forward worked by
// hand, and the two gradients as the adjoints of the forward.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda/convolution.h"

#include "runtime/cuda/library_call_test_util.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <vector>

namespace dlc::rt::cuda {
namespace {

using testing::LibraryCallSpec;
using testing::missing;

/// A 1x5x5x2 input, a 3x3x2x4 filter, stride 2, one row and column of
/// padding on each side, a bias and a relu: a 1x3x3x4 output. Buffers x, w,
/// bias, y, scratch.
LibraryCallSpec call() {
  return {fb::Library::cudnn,
          "convolution",
          {{"n", 1},
           {"h", 5},
           {"w", 5},
           {"c", 2},
           {"k", 4},
           {"r", 3},
           {"s", 3},
           {"p", 3},
           {"q", 3},
           {"stride_h", 2},
           {"stride_w", 2},
           {"pad_h", 1},
           {"pad_w", 1},
           {"dilation_h", 1},
           {"dilation_w", 1},
           {"bias", 1},
           {"deterministic", 0},
           {"tf32", 0}},
          {{"direction", "forward"}, {"epilogue", "relu"}},
          {{1, 5, 5, 2}, {3, 3, 2, 4}, {4}, {1, 3, 3, 4}, {72}},
          std::vector<fb::DType>(5, fb::DType::F32),
          {0, 1, 2, 3, 4}};
}

std::string refusal(const std::function<void(LibraryCallSpec &)> &edit) {
  LibraryCallSpec c = call();
  edit(c);
  return testing::verdict<ConvolutionCall>(c, parseConvolution);
}

TEST(ConvolutionContract, ParsesACall) {
  ConvolutionCall c;
  ASSERT_TRUE(testing::parseSpec<ConvolutionCall>(call(), parseConvolution, &c).ok());
  EXPECT_EQ(c.direction, ConvolutionDirection::kForward);
  EXPECT_EQ(c.p, 3);
  EXPECT_EQ(c.padH, 1);
  EXPECT_TRUE(c.bias);
  EXPECT_EQ(c.epilogue, ConvolutionEpilogue::kRelu);
  EXPECT_EQ(c.output, 3u);
  EXPECT_EQ(c.scratch, 4u);
  // The gradients name their buffers in their own order.
  LibraryCallSpec g = call();
  g.setText("direction", "grad_kernel");
  g.setText("epilogue", "none");
  g.set("bias", 0);
  g.shapes = {{1, 5, 5, 2}, {1, 3, 3, 4}, {3, 3, 2, 4}, {72}};
  g.types.pop_back();
  g.args = {0, 1, 2, 3};
  ASSERT_TRUE(testing::parseSpec<ConvolutionCall>(g, parseConvolution, &c).ok());
  EXPECT_EQ(c.input, 0u);
  EXPECT_EQ(c.output, 1u);
  EXPECT_EQ(c.filter, 2u);
}

TEST(ConvolutionContract, RefusesWhatTheContractDoesNotAllow) {
  using Call = LibraryCallSpec;
  auto has = missing;
  EXPECT_EQ(has(refusal([](Call &c) { c.library = fb::Library::cublas; }), "is not one this runtime runs"), "");
  EXPECT_EQ(has(refusal([](Call &c) { c.drop("deterministic"); }), "no integer 'deterministic'"), "");
  EXPECT_EQ(has(refusal([](Call &c) { c.drop("tf32"); }), "no integer 'tf32'"), "");
  EXPECT_EQ(has(refusal([](Call &c) { c.set("stride_h", 0); }), "'stride_h' is 0, outside"), "");
  // Padding beyond the dilated window: cuDNN's output would differ.
  EXPECT_EQ(has(refusal([](Call &c) { c.set("pad_w", 3); }), "'pad_w' is 3, outside [0, 2]"), "");
  EXPECT_EQ(has(refusal([](Call &c) { c.setText("direction", "backward"); }), "direction 'backward'"), "");
  EXPECT_EQ(has(refusal([](Call &c) { c.setText("epilogue", "gelu"); }), "epilogue 'gelu'"), "");
  EXPECT_EQ(has(refusal([](Call &c) { c.setText("direction", "grad_input"); }), "only the forward direction takes a bias"),
            "");
  EXPECT_EQ(has(refusal([](Call &c) { c.set("p", 2); }), "an output of 2x3 does not follow"), "");
  EXPECT_EQ(has(refusal([](Call &c) {
              c.set("n", 1 << 20);
              c.set("c", 1 << 12);
            }),
                "2^31 elements or more"),
            "");
  EXPECT_EQ(has(refusal([](Call &c) { c.args = {0, 1, 3, 4}; }), "takes 5 buffers, the call names 4"), "");
  EXPECT_EQ(has(refusal([](Call &c) { c.args = {0, 1, 2, 3, 7}; }), "buffer 7 is not one of the program's"), "");
  EXPECT_EQ(has(refusal([](Call &c) { c.types[2] = fb::DType::BF16; }), "one type of f32, f16 or bf16"), "");
  EXPECT_EQ(has(refusal([](Call &c) { c.types = std::vector<fb::DType>(5, fb::DType::F64); }),
                "one type of f32, f16 or bf16"),
            "");
  EXPECT_EQ(has(refusal([](Call &c) { c.shapes[1] = {3, 3, 2, 3}; }), "the filter holds 216 bytes, not the 288"), "");
  EXPECT_EQ(has(refusal([](Call &c) { c.shapes[4] = {71}; }), "the scratch holds 284 bytes, fewer than the 288"),
            "");
  EXPECT_EQ(refusal([](Call &) {}), "accepted");
}

TEST(ConvolutionContract, TheReferenceComputesAForwardByHand) {
  // x = 1..9 as a 1x3x3x1 image, w = [[1, 0], [0, -1]], one column of
  // padding each side, stride 1: y[i][j] = x[i][j-1] - x[i+1][j].
  ConvolutionCall c;
  c.n = 1, c.h = 3, c.w = 3, c.c = 1, c.k = 1, c.r = 2, c.s = 2, c.p = 2, c.q = 4, c.padW = 1;
  c.bias = true, c.epilogue = ConvolutionEpilogue::kRelu;
  float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 0, 0, -1}, bias[1] = {3.5f}, y[8], scratch[4];
  referenceConvolution(c, {x, w, y, bias, scratch});
  // Before the bias: [-4, -4, -4, 3; -7, -4, -4, 6]; +3.5 then relu.
  EXPECT_EQ(std::vector<float>(y, y + 8), (std::vector<float>{0, 0, 0, 6.5f, 0, 0, 0, 9.5f}));
}

TEST(ConvolutionContract, Tf32RoundsTheTwoOperandsEachDirectionReads) {
  // 1x1 everything: each direction is one product of its two operands. 1 +
  // 2^-11 ties up to 1 + 2^-10 in TF32 (away from zero); 1 + 2^-12 rounds
  // down to 1.
  ConvolutionCall c;
  c.n = c.h = c.w = c.c = c.k = c.r = c.s = c.p = c.q = 1;
  c.tf32 = true;
  const float tie = 1 + 0x1p-11f, low = 1 + 0x1p-12f, up = 1 + 0x1p-10f;
  float x = tie, w = low, y = 0, scratch = 0;
  referenceConvolution(c, {&x, &w, &y, nullptr, &scratch});
  EXPECT_EQ(y, up);
  c.direction = ConvolutionDirection::kGradInput;
  y = low, w = tie;
  referenceConvolution(c, {&x, &w, &y, nullptr, &scratch});
  EXPECT_EQ(x, up);
  c.direction = ConvolutionDirection::kGradKernel;
  x = tie, y = tie;
  referenceConvolution(c, {&x, &w, &y, nullptr, &scratch});
  EXPECT_EQ(w, up * up);
  c.tf32 = false;
  referenceConvolution(c, {&x, &w, &y, nullptr, &scratch});
  EXPECT_EQ(w, tie * tie);
}

/// The sum of a[i] b[i], in f64.
double dot(const std::vector<float> &a, const std::vector<float> &b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i)
    sum += double(a[i]) * b[i];
  return sum;
}

TEST(ConvolutionContract, TheGradientsAreTheForwardsAdjoints) {
  // For a linear map y = conv(x, w): <conv(x, w), dy> = <x, grad_input(dy, w)>
  // = <w, grad_kernel(x, dy)>, over padding, strides and dilation at once.
  ConvolutionCall c;
  c.n = 2, c.h = 7, c.w = 6, c.c = 3, c.k = 4, c.r = 3, c.s = 2;
  c.strideH = 2, c.strideW = 1, c.dilationH = 1, c.dilationW = 2, c.padH = 1, c.padW = 1;
  c.p = (c.h + 2 * c.padH - c.dilationH * (c.r - 1) - 1) / c.strideH + 1;
  c.q = (c.w + 2 * c.padW - c.dilationW * (c.s - 1) - 1) / c.strideW + 1;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> draw(-1, 1);
  auto random = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float &e : v)
      e = draw(rng);
    return v;
  };
  std::vector<float> x = random(c.inputElements()), w = random(c.filterElements()), dy = random(c.outputElements());
  std::vector<float> y(dy.size()), dx(x.size()), dw(w.size()), scratch(w.size());
  referenceConvolution(c, {x.data(), w.data(), y.data(), nullptr, scratch.data()});
  c.direction = ConvolutionDirection::kGradInput;
  referenceConvolution(c, {dx.data(), w.data(), dy.data(), nullptr, scratch.data()});
  c.direction = ConvolutionDirection::kGradKernel;
  referenceConvolution(c, {x.data(), dw.data(), dy.data(), nullptr, scratch.data()});
  const double forward = dot(y, dy);
  EXPECT_NE(forward, 0.0);
  EXPECT_NEAR(dot(x, dx), forward, 1e-4 * std::abs(forward));
  EXPECT_NEAR(dot(w, dw), forward, 1e-4 * std::abs(forward));
}

} // namespace
} // namespace dlc::rt::cuda
