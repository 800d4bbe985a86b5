//===- matmul.h - The library routine "matmul": its contract --------------===//
//
// A LibraryCall (runtime/schemas/bundle.fbs) of library cublas and routine
// "matmul" computes, over row-major buffers as the compiler lays them out,
//
//   D[m, n] = epilogue(op(A) . op(B) + bias)
//
// A is [m, k] ([k, m] with trans_a), B is [k, n] ([n, k] with trans_b), bias
// is [n] (a row added to every row of the product), D is [m, n]. A and B
// hold one type (f32, f16 or bf16); D holds theirs or f32; bias holds D's
// type or f32. Products and sums run in f32 (with tf32, f32 A and B are read
// rounded to TF32 first: runtime/tf32.h), the bias is added and the
// epilogue (none, relu, or GELU in its tanh form) applied in f32, and D is
// rounded once to its type. The descriptor's attributes: ints m, n, k,
// trans_a, trans_b, bias, tf32 (0 or 1); text epilogue. Its args: A, B,
// then bias when it has one, then D.
//
// The GPU runs it with cuBLASLt (cublaslt.h), the emulation with
// referenceMatmul below: the same contract, summed in another order.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/bundle.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <string>

namespace dlc::rt::cuda {

enum class MatmulEpilogue { kNone, kRelu, kGeluTanh };

struct MatmulCall {
  int64_t m = 0, n = 0, k = 0;
  bool transA = false, transB = false;
  bool bias = false;
  bool tf32 = false; // f32 A and B read rounded to TF32 (runtime/tf32.h)
  MatmulEpilogue epilogue = MatmulEpilogue::kNone;
  DType ab = DType::kF32, d = DType::kF32, biasType = DType::kF32;
  /// The program's buffers: A, B, bias (when it has one), D.
  uint32_t a = 0, b = 0, biasBuffer = 0, out = 0;
};

/// The routine names and texts of the contract, stated once.
inline constexpr const char *kMatmulRoutine = "matmul";
const char *matmulEpilogueName(MatmulEpilogue e);

/// |call| (of |program|) as a MatmulCall: kInvalidArgument saying what is
/// wrong when it is not one the contract allows (another routine, a missing
/// or out-of-range attribute, buffers whose types or sizes do not match).
Status parseMatmul(const fb::LibraryCall &call, const fb::Program &program, MatmulCall *out);

/// The contract computed on the host, over host memory (the emulation's
/// device memory): sums in f32 along k in order.
void referenceMatmul(const MatmulCall &call, const void *a, const void *b, const void *bias, void *d);

} // namespace dlc::rt::cuda
