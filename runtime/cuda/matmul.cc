//===- matmul.cc - The library routine "matmul": its contract -------------===//
#include "runtime/cuda/matmul.h"

#include "runtime/float16.h"

#include <cmath>
#include <vector>

namespace dlc::rt::cuda {
namespace {

Status invalid(const std::string &message) {
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "library call " + std::string(kMatmulRoutine) +
                                                           ": " + message);
}

const fb::Attr *findAttr(const fb::LibraryCall &call, const char *name) {
  if (call.descriptor())
    for (const fb::Attr *a : *call.descriptor())
      if (a->name()->str() == name)
        return a;
  return nullptr;
}

Status intAttr(const fb::LibraryCall &call, const char *name, int64_t low, int64_t high, int64_t *out) {
  const fb::Attr *a = findAttr(call, name);
  if (!a || !a->ints() || a->ints()->size() != 1)
    return invalid(std::string("its descriptor has no integer '") + name + "'");
  *out = a->ints()->Get(0);
  if (*out < low || *out > high)
    return invalid(std::string("'") + name + "' is " + std::to_string(*out) + ", outside [" +
                   std::to_string(low) + ", " + std::to_string(high) + "]");
  return okStatus();
}

bool isFloat(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }

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
  MatmulCall c;
  if (call.library() != fb::Library::cublas || call.routine()->str() != kMatmulRoutine)
    return invalid("routine '" + call.routine()->str() + "' is not one this runtime runs");
  // Each side below 2^31: cuBLASLt's sizes and leading dimensions.
  constexpr int64_t kSide = (int64_t(1) << 31) - 1;
  int64_t transA = 0, transB = 0, bias = 0;
  DLC_RETURN_IF_ERROR(intAttr(call, "m", 1, kSide, &c.m), "");
  DLC_RETURN_IF_ERROR(intAttr(call, "n", 1, kSide, &c.n), "");
  DLC_RETURN_IF_ERROR(intAttr(call, "k", 1, kSide, &c.k), "");
  DLC_RETURN_IF_ERROR(intAttr(call, "trans_a", 0, 1, &transA), "");
  DLC_RETURN_IF_ERROR(intAttr(call, "trans_b", 0, 1, &transB), "");
  DLC_RETURN_IF_ERROR(intAttr(call, "bias", 0, 1, &bias), "");
  c.transA = transA, c.transB = transB, c.bias = bias;
  const fb::Attr *epilogue = findAttr(call, "epilogue");
  std::string text = epilogue && epilogue->text() ? epilogue->text()->str() : "";
  bool known = false;
  for (MatmulEpilogue e : {MatmulEpilogue::kNone, MatmulEpilogue::kRelu, MatmulEpilogue::kGeluTanh})
    if (text == matmulEpilogueName(e))
      c.epilogue = e, known = true;
  if (!known)
    return invalid("epilogue '" + text + "' is not none, relu or gelu_tanh");
  const auto &buffers = *program.buffers();
  const size_t args = 3 + (c.bias ? 1 : 0);
  if (call.args()->size() != args)
    return invalid("takes " + std::to_string(args) + " buffers, the call names " +
                   std::to_string(call.args()->size()));
  for (uint32_t b : *call.args())
    if (b >= buffers.size())
      return invalid("buffer " + std::to_string(b) + " is not one of the program's");
  c.a = call.args()->Get(0), c.b = call.args()->Get(1);
  if (c.bias)
    c.biasBuffer = call.args()->Get(2);
  c.out = call.args()->Get(uint32_t(args - 1));
  c.ab = fromFbDType(buffers[c.a]->dtype());
  c.d = fromFbDType(buffers[c.out]->dtype());
  if (!isFloat(c.ab) || fromFbDType(buffers[c.b]->dtype()) != c.ab)
    return invalid("A and B must hold one type of f32, f16 or bf16");
  if (c.d != c.ab && c.d != DType::kF32)
    return invalid("D must hold A's type or f32");
  if (c.bias) {
    c.biasType = fromFbDType(buffers[c.biasBuffer]->dtype());
    if (c.biasType != c.d && c.biasType != DType::kF32)
      return invalid("the bias must hold D's type or f32");
  }
  auto sized = [&](uint32_t b, int64_t rows, int64_t columns, const char *what) {
    // The sides are below 2^31: their product fits.
    uint64_t want = uint64_t(rows) * uint64_t(columns) * dtypeSize(fromFbDType(buffers[b]->dtype()));
    if (bufferBytes(*buffers[b]) != want)
      return invalid(std::string(what) + " holds " + std::to_string(bufferBytes(*buffers[b])) +
                     " bytes, not the " + std::to_string(want) + " of its shape");
    return okStatus();
  };
  DLC_RETURN_IF_ERROR(sized(c.a, c.m, c.k, "A"), "");
  DLC_RETURN_IF_ERROR(sized(c.b, c.k, c.n, "B"), "");
  DLC_RETURN_IF_ERROR(sized(c.out, c.m, c.n, "D"), "");
  if (c.bias)
    DLC_RETURN_IF_ERROR(sized(c.biasBuffer, 1, c.n, "the bias"), "");
  *out = c;
  return okStatus();
}

void referenceMatmul(const MatmulCall &c, const void *a, const void *b, const void *bias, void *d) {
  std::vector<float> row(size_t(c.k));
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t p = 0; p < c.k; ++p)
      row[size_t(p)] = float(loadElement(c.ab, a, c.transA ? p * c.m + i : i * c.k + p));
    for (int64_t j = 0; j < c.n; ++j) {
      float sum = 0.0f;
      for (int64_t p = 0; p < c.k; ++p)
        sum += row[size_t(p)] * float(loadElement(c.ab, b, c.transB ? j * c.k + p : p * c.n + j));
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
