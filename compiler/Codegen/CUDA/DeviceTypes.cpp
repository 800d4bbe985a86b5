//===- DeviceTypes.cpp - Element types as data for the CUDA emitters ------===//
//
// What the emitters need to know of an element type, in one table: the C
// type a buffer stores, the type arithmetic on it uses, and the device
// functions converting between the two (tinygrad's renderer keeps dtypes as
// data the same way). The 16-bit floats are stored as their bit patterns
// and converted by integer code, which NVRTC and the CUDA emulation compile
// alike without CUDA's fp16 headers.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/EmitterSupport.h"

#include <cstdio>

using namespace mlir;

namespace dlc::cuda {
namespace {

constexpr DeviceType kF32Type{"float", "float", "", "", "f", "f", "float4", 4, "-__int_as_float(0x7f800000)", 9, 4};
constexpr DeviceType kF64Type{"double", "double", "", "", "", "", "double2", 2,
                          "-__longlong_as_double(0x7ff0000000000000ll)", 17, 8};
// 16-bit floats compute in f32 (kF32Type's math, vectors and literals);
// buffers hold them as structs of their bits, so that dlc_load and
// dlc_store pick the conversion by overloading.
constexpr DeviceType kF16Type{"dlc_f16", "float", "dlc_load", "dlc_store", "f", "f", "", 0, "", 9, 4};
constexpr DeviceType kBF16Type{"dlc_bf16", "float", "dlc_load", "dlc_store", "f", "f", "", 0, "", 9, 4};
constexpr DeviceType kI32Type{"int", "int", "", "", "", "", "int4", 4, "", 0, 4};
constexpr DeviceType kI64Type{"long long", "long long", "", "", "ll", "", "longlong2", 2, "", 0, 8};

// Rounds to nearest, ties to even, from a double (so that f32 and f64
// sources round once); overflow gives infinity, NaN stays a quiet NaN.
// From a float, integer arithmetic does the same (runtime/float16.h's
// floatToBF16Bits and floatToF16Bits, re-stated). Then the buffer types:
// dlc_load reads any float element as the compute type, dlc_store writes
// one, dlc_round<R> rounds a value to f16 (R = 1) or bf16 (R = 2) in
// registers; dlc_in and dlc_out are the views through which a kernel reads
// and writes 16-bit buffers (and buffers whose boundary cast it does) as if
// they held floats (bufferViews()).
constexpr const char *kSixteenBit = R"(struct dlc_f16 { unsigned short bits; };
struct dlc_bf16 { unsigned short bits; };
__device__ __forceinline__ unsigned short dlc_narrow16(double x, int fractionBits, int exponentBits) {
  const unsigned long long b = (unsigned long long)__double_as_longlong(x);
  const unsigned sign = (unsigned)(b >> 63) << 15;
  const long long field = (long long)((b >> 52) & 0x7ffull);
  const unsigned long long fraction = b & ((1ull << 52) - 1);
  const unsigned maxField = (1u << exponentBits) - 1;
  const long long bias = (1ll << (exponentBits - 1)) - 1;
  if (field == 0x7ff)
    return (unsigned short)(sign | (maxField << fractionBits) | (fraction ? 1u << (fractionBits - 1) : 0u));
  if (field == 0)
    return (unsigned short)sign;
  long long exponent = field - 1023 + bias;
  const unsigned long long significand = fraction | (1ull << 52);
  long long shift = 52 - fractionBits;
  if (exponent <= 0) {
    shift += 1 - exponent;
    exponent = 0;
  }
  if (shift > 53)
    return (unsigned short)sign;
  unsigned long long kept = significand >> shift;
  const unsigned long long rest = significand & ((1ull << shift) - 1), half = 1ull << (shift - 1);
  if (rest > half || (rest == half && (kept & 1ull)))
    ++kept;
  unsigned long long bits = exponent == 0 ? kept
      : ((unsigned long long)exponent << fractionBits) + kept - (1ull << fractionBits);
  if (bits >= ((unsigned long long)maxField << fractionBits))
    bits = (unsigned long long)maxField << fractionBits;
  return (unsigned short)(sign | bits);
}
__device__ __forceinline__ unsigned short dlc_float_to_bf16(float x) {
  unsigned b = __float_as_uint(x);
  if ((b & 0x7fffffffu) > 0x7f800000u)
    return (unsigned short)(((b >> 16) & 0x8000u) | 0x7fc0u);
  b += 0x7fffu + ((b >> 16) & 1u);
  return (unsigned short)(b >> 16);
}
__device__ __forceinline__ unsigned short dlc_float_to_f16(float x) {
  const unsigned b = __float_as_uint(x);
  const unsigned short sign = (unsigned short)((b >> 16) & 0x8000u);
  const unsigned magnitude = b & 0x7fffffffu;
  if (magnitude > 0x7f800000u)
    return (unsigned short)(sign | 0x7e00u);
  if (magnitude >= 0x477ff000u)
    return (unsigned short)(sign | 0x7c00u);
  if (magnitude >= 0x38800000u) {
    unsigned m = magnitude - 0x38000000u;
    m += 0xfffu + ((m >> 13) & 1u);
    return (unsigned short)(sign | (m >> 13));
  }
  const float scaled = __uint_as_float(magnitude) * 16777216.0f;
  unsigned units = (unsigned)scaled;
  const float rest = scaled - (float)units;
  if (rest > 0.5f || (rest == 0.5f && (units & 1u)))
    ++units;
  return (unsigned short)(sign | units);
}
__device__ __forceinline__ float dlc_f16_bits_to_float(unsigned short h) {
  const unsigned sign = (unsigned)(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1fu, fraction = h & 0x3ffu;
  if (exponent == 0x1f)
    return __uint_as_float(sign | 0x7f800000u | (fraction << 13));
  if (exponent != 0)
    return __uint_as_float(sign | ((exponent + 112) << 23) | (fraction << 13));
  const float magnitude = (float)fraction * 5.9604644775390625e-08f;
  return sign ? -magnitude : magnitude;
}
__device__ __forceinline__ float dlc_load(float x) { return x; }
__device__ __forceinline__ double dlc_load(double x) { return x; }
__device__ __forceinline__ float dlc_load(dlc_f16 x) { return dlc_f16_bits_to_float(x.bits); }
__device__ __forceinline__ float dlc_load(dlc_bf16 x) { return __uint_as_float((unsigned)x.bits << 16); }
__device__ __forceinline__ void dlc_store(float *p, float x) { *p = x; }
__device__ __forceinline__ void dlc_store(double *p, double x) { *p = x; }
__device__ __forceinline__ void dlc_store(dlc_f16 *p, float x) { p->bits = dlc_float_to_f16(x); }
__device__ __forceinline__ void dlc_store(dlc_bf16 *p, float x) { p->bits = dlc_float_to_bf16(x); }
__device__ __forceinline__ void dlc_store(dlc_f16 *p, double x) { p->bits = dlc_narrow16(x, 10, 5); }
__device__ __forceinline__ void dlc_store(dlc_bf16 *p, double x) { p->bits = dlc_narrow16(x, 7, 8); }
template <int R> __device__ __forceinline__ float dlc_round(float x) {
  return R == 1 ? dlc_f16_bits_to_float(dlc_float_to_f16(x))
       : R == 2 ? __uint_as_float((unsigned)dlc_float_to_bf16(x) << 16) : x;
}
template <typename S, int R> struct dlc_in {
  const S *p;
  __device__ __forceinline__ float operator[](long long i) const { return dlc_round<R>(dlc_load(p[i])); }
  __device__ __forceinline__ dlc_in operator+(long long d) const { return dlc_in{p + d}; }
};
template <typename S, int R> struct dlc_ref {
  S *p;
  __device__ __forceinline__ void operator=(float v) const { dlc_store(p, dlc_round<R>(v)); }
  __device__ __forceinline__ operator float() const { return dlc_load(*p); }
};
template <typename S, int R> struct dlc_out {
  S *p;
  __device__ __forceinline__ dlc_ref<S, R> operator[](long long i) const { return dlc_ref<S, R>{p + i}; }
};
)";

} // namespace

const DeviceType *deviceType(Type t) {
  Type element = isa<ShapedType>(t) ? cast<ShapedType>(t).getElementType() : t;
  if (element.isF32())
    return &kF32Type;
  if (element.isF64())
    return &kF64Type;
  if (element.isF16())
    return &kF16Type;
  if (element.isBF16())
    return &kBF16Type;
  if (element.isInteger(32))
    return &kI32Type;
  if (element.isInteger(64))
    return &kI64Type;
  return nullptr;
}

std::string ComputeType::rounded(double v) const {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits(), v);
  std::string s = buffer;
  if (s.find_first_of(".en") == std::string::npos)
    s += ".0";
  return lit(s);
}

std::string ComputeType::exact(double v) const {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return cast(buffer);
}

ComputeType computeType(dl::FusedOp group) {
  auto floatType = [](Value v) -> const DeviceType * {
    Type element = cast<ShapedType>(v.getType()).getElementType();
    if (!isa<FloatType>(element))
      return nullptr;
    // 16-bit floats compute in f32.
    return element.isF64() ? &kF64Type : &kF32Type;
  };
  for (Value v : group.getResults())
    if (const DeviceType *type = floatType(v))
      return ComputeType(*type);
  for (Value v : group.getInputs())
    if (const DeviceType *type = floatType(v))
      return ComputeType(*type);
  return ComputeType(kF32Type);
}

unsigned elementTypeBit(Type t) {
  Type element = isa<ShapedType>(t) ? cast<ShapedType>(t).getElementType() : t;
  if (element.isF32())
    return kF32;
  if (element.isF64())
    return kF64;
  if (element.isF16())
    return kF16;
  if (element.isBF16())
    return kBF16;
  if (element.isInteger(32))
    return kI32;
  if (element.isInteger(64))
    return kI64;
  return 0;
}

std::string describeElementTypes(unsigned set) {
  static const std::pair<unsigned, const char *> names[] = {
      {kF16, "f16"}, {kBF16, "bf16"}, {kF32, "f32"}, {kF64, "f64"}, {kI32, "i32"}, {kI64, "i64"}};
  std::vector<const char *> in;
  for (const auto &[bit, name] : names)
    if (set & bit)
      in.push_back(name);
  std::string text;
  for (size_t i = 0; i < in.size(); ++i)
    text += std::string(i == 0 ? "" : i + 1 == in.size() ? " and " : ", ") + in[i];
  return text;
}

std::string cType(Type t) {
  const DeviceType *type = deviceType(t);
  return type ? type->storage : "";
}

std::string loadAsCompute(Type t, const std::string &stored) {
  const DeviceType *type = deviceType(t);
  return type && *type->toCompute ? std::string(type->toCompute) + "(" + stored + ")" : stored;
}

std::string storeStatement(Type t, const std::string &element, const std::string &computed) {
  const DeviceType *type = deviceType(t);
  if (type && *type->toStorage) // rounds once, from a double: exact for every source type
    return std::string(type->toStorage) + "(&" + element + ", (double)(" + computed + "));";
  return element + " = (" + std::string(type ? type->storage : "float") + ")(" + computed + ");";
}

bool isSixteenBit(Type t) {
  Type element = isa<ShapedType>(t) ? cast<ShapedType>(t).getElementType() : t;
  return element.isF16() || element.isBF16();
}

std::string roundedTo(Type t, const std::string &computed) {
  Type element = isa<ShapedType>(t) ? cast<ShapedType>(t).getElementType() : t;
  if (element.isF16())
    return "dlc_round<1>(" + computed + ")";
  if (element.isBF16())
    return "dlc_round<2>(" + computed + ")";
  return computed;
}

std::string deviceTypeHelpers(dl::FusedOp group) {
  bool sixteen = false;
  for (auto [i, v] : llvm::enumerate(group.getBody().front().getArguments()))
    sixteen |= isSixteenBit(v.getType()) || isSixteenBit(inputStorage(group, unsigned(i)));
  for (unsigned i = 0; i < group.getNumResults(); ++i)
    sixteen |= isSixteenBit(resultStorage(group, i));
  group.getBody().walk([&](Operation *op) {
    for (Value r : op->getResults())
      sixteen |= isSixteenBit(r.getType());
  });
  // The views are declared there too (an f64 input cast to f32 on load).
  return sixteen || hasBufferViews(group) ? kSixteenBit : "";
}

} // namespace dlc::cuda
