//===- matmul_test.cc - The "matmul" library routine's contract -----------===//
//
// parseMatmul takes the calls the contract allows and refuses the rest
// (a bundle is untrusted input); referenceMatmul, what the emulation runs
// for cuBLASLt, computes the contract on small products worked by hand.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda/matmul.h"

#include "runtime/cuda/library_call_test_util.h"

#include "runtime/float16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

namespace dlc::rt::cuda {
namespace {

using testing::LibraryCallSpec;
using testing::missing;

/// A 2x4 by 4x3 product with a bias and a relu: A, B, bias, D.
LibraryCallSpec call() {
  return {fb::Library::cublas,
          "matmul",
          {{"m", 2}, {"n", 3}, {"k", 4}, {"trans_a", 0}, {"trans_b", 0}, {"bias", 1}, {"tf32", 0}},
          {{"epilogue", "relu"}},
          {{2, 4}, {4, 3}, {3}, {2, 3}},
          std::vector<fb::DType>(4, fb::DType::F32),
          {0, 1, 2, 3}};
}

std::string refusal(const std::function<void(LibraryCallSpec &)> &edit) {
  LibraryCallSpec c = call();
  edit(c);
  return testing::verdict<MatmulCall>(c, parseMatmul);
}

TEST(MatmulContract, ParsesACall) {
  MatmulCall m;
  ASSERT_TRUE(testing::parseSpec<MatmulCall>(call(), parseMatmul, &m).ok());
  EXPECT_EQ(m.m, 2);
  EXPECT_EQ(m.n, 3);
  EXPECT_EQ(m.k, 4);
  EXPECT_TRUE(m.bias);
  EXPECT_EQ(m.epilogue, MatmulEpilogue::kRelu);
  EXPECT_EQ(m.out, 3u);
}

TEST(MatmulContract, RefusesWhatTheContractDoesNotAllow) {
  using C = LibraryCallSpec;
  EXPECT_EQ(missing(refusal([](C &c) { c.routine = "gemm"; }), "routine 'gemm' is not one this runtime runs"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.library = fb::Library::cudnn; }), "is not one this runtime runs"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.drop("k"); }), "no integer 'k'"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.set("m", 0); }), "'m' is 0, outside"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.set("trans_a", 2); }), "'trans_a' is 2"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.setText("epilogue", "swish"); }), "epilogue 'swish'"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.args = {0, 1, 3}; }), "takes 4 buffers, the call names 3"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.args = {0, 1, 2, 9}; }), "buffer 9 is not one of the program's"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.types[1] = fb::DType::BF16; }), "A and B must hold one type"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.types[0] = c.types[1] = fb::DType::I32; }), "A and B must hold one type"),
            "");
  EXPECT_EQ(missing(refusal([](C &c) {
                      c.types[0] = c.types[1] = fb::DType::F16;
                      c.types[3] = fb::DType::BF16;
                    }),
                    "D must hold A's type or f32"),
            "");
  EXPECT_EQ(missing(refusal([](C &c) { c.drop("tf32"); }), "no integer 'tf32'"), "");
  EXPECT_EQ(missing(refusal([](C &c) {
                      c.set("tf32", 1);
                      c.types = std::vector<fb::DType>(4, fb::DType::BF16);
                    }),
                    "tf32 rounds f32 operands"),
            "");
  // A product larger than its buffers: the routine would read past them.
  EXPECT_EQ(missing(refusal([](C &c) { c.set("k", 5); }), "A holds 32 bytes, not the 40 of its shape"), "");
  EXPECT_EQ(missing(refusal([](C &c) { c.shapes[2] = {4}; }), "the bias holds 16 bytes"), "");
  EXPECT_EQ(refusal([](C &) {}), "accepted");
}

MatmulCall plain(int64_t m, int64_t n, int64_t k) {
  MatmulCall c;
  c.m = m, c.n = n, c.k = k;
  return c;
}

TEST(MatmulContract, TheReferenceComputesTheContract) {
  // A = [[1, 2], [3, 4]] (2x2), B = [[1, 0, -1], [2, 1, 0]] (2x3).
  const float a[] = {1, 2, 3, 4}, b[] = {1, 0, -1, 2, 1, 0}, bias[] = {0.5f, -10, 0};
  float d[6];
  MatmulCall c = plain(2, 3, 2);
  referenceMatmul(c, a, b, nullptr, d);
  EXPECT_EQ(std::vector<float>(d, d + 6), (std::vector<float>{5, 2, -1, 11, 4, -3}));
  c.bias = true;
  c.epilogue = MatmulEpilogue::kRelu;
  referenceMatmul(c, a, b, bias, d);
  EXPECT_EQ(std::vector<float>(d, d + 6), (std::vector<float>{5.5f, 0, 0, 11.5f, 0, 0}));
  // A stored transposed ([k, m]) and B transposed ([n, k]): the same product.
  const float at[] = {1, 3, 2, 4}, bt[] = {1, 2, 0, 1, -1, 0};
  c = plain(2, 3, 2);
  c.transA = c.transB = true;
  referenceMatmul(c, at, bt, nullptr, d);
  EXPECT_EQ(std::vector<float>(d, d + 6), (std::vector<float>{5, 2, -1, 11, 4, -3}));
  // GELU in tanh form: gelu(1) = 0.841192 (Keras' approximate=True).
  const float one[] = {1}, x1[] = {1};
  c = plain(1, 1, 1);
  c.epilogue = MatmulEpilogue::kGeluTanh;
  referenceMatmul(c, one, x1, nullptr, d);
  EXPECT_NEAR(d[0], 0.841192f, 1e-6f);
}

TEST(MatmulContract, Tf32RoundsBothOperandsToNearestTiesAway) {
  // 1 + 2^-11 is a tie between TF32's 1 and 1 + 2^-10: away from zero. 1 +
  // 2^-12 rounds down to 1. The sum of products stays in f32.
  const float a[] = {1 + 0x1p-11f, 1 + 0x1p-12f}, b[] = {1, 1 + 0x1p-11f};
  MatmulCall c = plain(1, 1, 2);
  float d = 0;
  referenceMatmul(c, a, b, nullptr, &d);
  EXPECT_EQ(d, (1 + 0x1p-11f) + (1 + 0x1p-12f) * (1 + 0x1p-11f));
  c.tf32 = true;
  referenceMatmul(c, a, b, nullptr, &d);
  EXPECT_EQ(d, (1 + 0x1p-10f) + 1 * (1 + 0x1p-10f));
  MatmulCall parsed;
  LibraryCallSpec spec = call();
  spec.set("tf32", 1);
  ASSERT_TRUE(testing::parseSpec<MatmulCall>(spec, parseMatmul, &parsed).ok());
  EXPECT_TRUE(parsed.tf32);
}

TEST(MatmulContract, SixteenBitOperandsSumInF32AndRoundOnce) {
  // 256 + 1 + 1 in bf16 steps would stay 256 (bf16 has 8 bits); in f32 the
  // sum is 258, which rounds to 258 in bf16 (representable).
  const uint16_t a[] = {floatToBF16Bits(256), floatToBF16Bits(1), floatToBF16Bits(1)};
  const uint16_t b[] = {floatToBF16Bits(1), floatToBF16Bits(1), floatToBF16Bits(1)};
  MatmulCall c = plain(1, 1, 3);
  c.ab = c.d = DType::kBF16;
  uint16_t d = 0;
  referenceMatmul(c, a, b, nullptr, &d);
  EXPECT_EQ(fromBF16Bits(d), 258.0f);
  float f = 0;
  c.d = DType::kF32;
  referenceMatmul(c, a, b, nullptr, &f);
  EXPECT_EQ(f, 258.0f);
}

} // namespace
} // namespace dlc::rt::cuda
