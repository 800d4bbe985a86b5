//===- matmul_test.cc - The "matmul" library routine's contract -----------===//
//
// parseMatmul takes the calls the contract allows and refuses the rest
// (a bundle is untrusted input); referenceMatmul, what the emulation runs
// for cuBLASLt, computes the contract on small products worked by hand.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda/matmul.h"

#include "runtime/float16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

namespace dlc::rt::cuda {
namespace {

struct Call {
  int64_t m = 2, n = 3, k = 4, transA = 0, transB = 0, bias = 1;
  std::string epilogue = "relu", routine = "matmul";
  fb::Library library = fb::Library::cublas;
  // Buffer shapes and types: A, B, bias, D.
  std::vector<std::vector<int64_t>> shapes = {{2, 4}, {4, 3}, {3}, {2, 3}};
  std::vector<fb::DType> types = {fb::DType::F32, fb::DType::F32, fb::DType::F32, fb::DType::F32};
  std::vector<uint32_t> args = {0, 1, 2, 3};
  bool dropAttr = false; // leave "k" out of the descriptor
};

/// Parses |c| as one program's only call.
Status parse(const Call &c, MatmulCall *out) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
  for (size_t i = 0; i < c.shapes.size(); ++i)
    buffers.push_back(fb::CreateBufferDirect(fbb, ("b" + std::to_string(i)).c_str(), c.types[i], &c.shapes[i],
                                             fb::BufferKind::Temp, 0));
  std::vector<flatbuffers::Offset<fb::Attr>> descriptor;
  auto integer = [&](const char *name, int64_t v) {
    std::vector<int64_t> ints = {v};
    descriptor.push_back(fb::CreateAttrDirect(fbb, name, &ints));
  };
  integer("m", c.m);
  integer("n", c.n);
  if (!c.dropAttr)
    integer("k", c.k);
  integer("trans_a", c.transA);
  integer("trans_b", c.transB);
  integer("bias", c.bias);
  descriptor.push_back(fb::CreateAttrDirect(fbb, "epilogue", nullptr, nullptr, c.epilogue.c_str()));
  auto call = fb::CreateLibraryCallDirect(fbb, c.library, c.routine.c_str(), &descriptor, &c.args);
  std::vector<flatbuffers::Offset<fb::Kernel>> kernels = {fb::CreateKernelDirect(
      fbb, "k", nullptr, nullptr, 0, 0, nullptr, fb::CudaExecution::LibraryCall, call.Union())};
  fbb.Finish(fb::CreateProgramDirect(fbb, "p", &buffers, &kernels));
  const fb::Program *program = flatbuffers::GetRoot<fb::Program>(fbb.GetBufferPointer());
  return parseMatmul(*program->kernels()->Get(0)->cuda_as_LibraryCall(), *program, out);
}

std::string refusal(const std::function<void(Call &)> &edit) {
  Call c;
  edit(c);
  MatmulCall m;
  Status s = parse(c, &m);
  return s.ok() ? "accepted" : s.message();
}

TEST(MatmulContract, ParsesACall) {
  MatmulCall m;
  ASSERT_TRUE(parse(Call{}, &m).ok());
  EXPECT_EQ(m.m, 2);
  EXPECT_EQ(m.n, 3);
  EXPECT_EQ(m.k, 4);
  EXPECT_TRUE(m.bias);
  EXPECT_EQ(m.epilogue, MatmulEpilogue::kRelu);
  EXPECT_EQ(m.out, 3u);
}

TEST(MatmulContract, RefusesWhatTheContractDoesNotAllow) {
  EXPECT_NE(refusal([](Call &c) { c.routine = "gemm"; }).find("routine 'gemm' is not one this runtime runs"),
            std::string::npos);
  EXPECT_NE(refusal([](Call &c) { c.library = fb::Library::cudnn; }).find("is not one this runtime runs"),
            std::string::npos);
  EXPECT_NE(refusal([](Call &c) { c.dropAttr = true; }).find("no integer 'k'"), std::string::npos);
  EXPECT_NE(refusal([](Call &c) { c.m = 0; }).find("'m' is 0, outside"), std::string::npos);
  EXPECT_NE(refusal([](Call &c) { c.transA = 2; }).find("'trans_a' is 2"), std::string::npos);
  EXPECT_NE(refusal([](Call &c) { c.epilogue = "swish"; }).find("epilogue 'swish'"), std::string::npos);
  EXPECT_NE(refusal([](Call &c) { c.args = {0, 1, 3}; }).find("takes 4 buffers, the call names 3"),
            std::string::npos);
  EXPECT_NE(refusal([](Call &c) { c.args = {0, 1, 2, 9}; }).find("buffer 9 is not one of the program's"),
            std::string::npos);
  EXPECT_NE(refusal([](Call &c) { c.types[1] = fb::DType::BF16; }).find("A and B must hold one type"),
            std::string::npos);
  EXPECT_NE(refusal([](Call &c) { c.types[0] = c.types[1] = fb::DType::I32; }).find("A and B must hold one type"),
            std::string::npos);
  EXPECT_NE(refusal([](Call &c) {
              c.types[0] = c.types[1] = fb::DType::F16;
              c.types[3] = fb::DType::BF16;
            }).find("D must hold A's type or f32"),
            std::string::npos);
  // A product larger than its buffers: the routine would read past them.
  EXPECT_NE(refusal([](Call &c) { c.k = 5; }).find("A holds 32 bytes, not the 40 of its shape"),
            std::string::npos);
  EXPECT_NE(refusal([](Call &c) { c.shapes[2] = {4}; }).find("the bias holds 16 bytes"), std::string::npos);
  EXPECT_EQ(refusal([](Call &) {}), "accepted");
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
