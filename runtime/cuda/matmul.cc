//===- matmul.cc - The library routine "matmul": its contract -------------===//
#include "runtime/cuda/matmul.h"

#include "runtime/cuda/library_call.h"

#include "runtime/float16.h"
#include "runtime/tf32.h"

#include <cmath>
#include <vector>

namespace dlc::rt::cuda {
namespace {

float gelu(float x) {
  // GELU's tanh form, as cuBLASLt's epilogue computes it.
  const float c = 0.7978845608028654f; // sqrt(2 / pi)
  return 0.5f * x * (1.0f + std::tanh(c * (x + 0.044715f * x * x * x)));
}

} // namespace

const char *matmulEpilogueName(MatmulEpilogue e) {
  switch (e) {
  case MatmulEpilogue::kNone: return "none";
  case MatmulEpilogue::kRelu: return "relu";
  case MatmulEpilogue::kGeluTanh: return "gelu_tanh";
  }
  return "?";
}

Status parseMatmul(const fb::LibraryCall &call, const fb::Program &program, MatmulCall *out) {
  LibraryCallReader r(call, program, kMatmulRoutine);
  MatmulCall c;
  if (call.library() != fb::Library::cublas || call.routine()->str() != kMatmulRoutine)
    return r.invalid("routine '" + call.routine()->str() + "' is not one this runtime runs");
  // Each side below 2^31: cuBLASLt's sizes and leading dimensions.
  constexpr int64_t kSide = (int64_t(1) << 31) - 1;
  int64_t transA = 0, transB = 0, bias = 0, tf32 = 0;
  DLC_RETURN_IF_ERROR(r.integer("m", 1, kSide, &c.m), "");
  DLC_RETURN_IF_ERROR(r.integer("n", 1, kSide, &c.n), "");
  DLC_RETURN_IF_ERROR(r.integer("k", 1, kSide, &c.k), "");
  DLC_RETURN_IF_ERROR(r.integer("trans_a", 0, 1, &transA), "");
  DLC_RETURN_IF_ERROR(r.integer("trans_b", 0, 1, &transB), "");
  DLC_RETURN_IF_ERROR(r.integer("bias", 0, 1, &bias), "");
  DLC_RETURN_IF_ERROR(r.integer("tf32", 0, 1, &tf32), "");
  c.transA = transA, c.transB = transB, c.bias = bias, c.tf32 = tf32;
  const std::string text = r.text("epilogue");
  bool known = false;
  for (MatmulEpilogue e : {MatmulEpilogue::kNone, MatmulEpilogue::kRelu, MatmulEpilogue::kGeluTanh})
    if (text == matmulEpilogueName(e))
      c.epilogue = e, known = true;
  if (!known)
    return r.invalid("epilogue '" + text + "' is not none, relu or gelu_tanh");
  const size_t args = 3 + (c.bias ? 1 : 0);
  DLC_RETURN_IF_ERROR(r.checkArgCount(args), "");
  c.a = r.arg(0), c.b = r.arg(1);
  if (c.bias)
    c.biasBuffer = r.arg(2);
  c.out = r.arg(args - 1);
  c.ab = r.type(c.a);
  c.d = r.type(c.out);
  if (!isLibraryFloat(c.ab) || r.type(c.b) != c.ab)
    return r.invalid("A and B must hold one type of f32, f16 or bf16");
  if (c.d != c.ab && c.d != DType::kF32)
    return r.invalid("D must hold A's type or f32");
  if (c.tf32 && c.ab != DType::kF32)
    return r.invalid("tf32 rounds f32 operands: A and B must hold f32");
  if (c.bias) {
    c.biasType = r.type(c.biasBuffer);
    if (c.biasType != c.d && c.biasType != DType::kF32)
      return r.invalid("the bias must hold D's type or f32");
  }
  // The sides are below 2^31: their products fit.
  DLC_RETURN_IF_ERROR(r.checkElements(c.a, uint64_t(c.m) * uint64_t(c.k), "A"), "");
  DLC_RETURN_IF_ERROR(r.checkElements(c.b, uint64_t(c.k) * uint64_t(c.n), "B"), "");
  DLC_RETURN_IF_ERROR(r.checkElements(c.out, uint64_t(c.m) * uint64_t(c.n), "D"), "");
  if (c.bias)
    DLC_RETURN_IF_ERROR(r.checkElements(c.biasBuffer, uint64_t(c.n), "the bias"), "");
  *out = c;
  return okStatus();
}

void referenceMatmul(const MatmulCall &c, const void *a, const void *b, const void *bias, void *d) {
  std::vector<float> row(size_t(c.k));
  auto operand = [&](const void *data, int64_t i) {
    const float v = float(loadElement(c.ab, data, i));
    return c.tf32 ? roundToTf32(v) : v;
  };
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t p = 0; p < c.k; ++p)
      row[size_t(p)] = operand(a, c.transA ? p * c.m + i : i * c.k + p);
    for (int64_t j = 0; j < c.n; ++j) {
      float sum = 0.0f;
      for (int64_t p = 0; p < c.k; ++p)
        sum += row[size_t(p)] * operand(b, c.transB ? j * c.k + p : p * c.n + j);
      if (c.bias)
        sum += float(loadElement(c.biasType, bias, j));
      if (c.epilogue == MatmulEpilogue::kRelu)
        sum = sum > 0.0f ? sum : 0.0f;
      else if (c.epilogue == MatmulEpilogue::kGeluTanh)
        sum = gelu(sum);
      storeElement(c.d, d, i * c.n + j, sum);
    }
  }
}

} // namespace dlc::rt::cuda
