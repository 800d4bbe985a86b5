//===- lstm.h - The library routine "lstm": its contract ------------------===//
//
// A LibraryCall (runtime/schemas/bundle.fbs) of library cudnn and routine
// "lstm" computes dl.lstm or dl.lstm_grad over buffers as the compiler lays
// them out, in one type (f32, f16 or bf16): the input x [n, t, f], the
// kernel [f, 4u], the recurrent kernel [u, 4u], the bias [4u] (when bias is
// 1), gates in Keras' order [i | f | c | o] with sigmoid and tanh, the
// state starting at zero:
//
//   z = x_t kernel + h recurrent + bias
//   c = sigmoid(z_f) c + sigmoid(z_i) tanh(z_c),  h = sigmoid(z_o) tanh(c)
//
//   direction forward: y = every h [n, t, u] (sequences 1) or the last [n, u]
//     args x, kernel, recurrent, [bias], y
//   direction grad: backpropagation through time, given dy (y's shape)
//     args x, kernel, recurrent, [bias], dy, [dx], dkernel, drecurrent, [dbias]
//
// (dx only when dx is 1: the input of a first layer needs none; dbias only
// with a bias.)
// Products and sums run in f32, each result rounded once to the
// type. The descriptor's ints: n, t, f, u, bias, sequences, dx (grad),
// deterministic; text: direction.
//
// The GPU runs it with cuDNN's RNN (cudnn.h), the emulation with
// referenceLstm below: the same contract, summed in another order.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/bundle.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstdint>

namespace dlc::rt::cuda {

struct LstmCall {
  bool grad = false;
  int64_t n = 0, t = 0, f = 0, u = 0;
  bool bias = false, sequences = false, deterministic = false;
  bool dx = true; // the gradient writes dx
  DType type = DType::kF32;
  /// The program's buffers, in the contract's order (the bias's slot only
  /// when it has one): forward x, kernel, recurrent, [bias], y; grad x,
  /// kernel, recurrent, [bias], dy, [dx], dkernel, drecurrent, [dbias].
  uint32_t args[9] = {};
  int argCount = 0;

  int64_t outputElements() const { return sequences ? n * t * u : n * u; }
};

/// Device addresses (or the emulation's host pointers) of a call's buffers
/// by role; the bias and the gradients are null where the call has none.
template <typename Pointer> struct LstmBuffers {
  Pointer x{}, kernel{}, recurrent{}, bias{}, y{}; // y: dy for the gradient
  Pointer dx{}, dkernel{}, drecurrent{}, dbias{};
};

inline constexpr const char *kLstmRoutine = "lstm";

/// |call| (of |program|) as an LstmCall: kInvalidArgument saying what is
/// wrong when it is not one the contract allows.
Status parseLstm(const fb::LibraryCall &call, const fb::Program &program, LstmCall *out);

/// The buffers of |call| by role, from the buffer index -> address map
/// |address|.
template <typename Pointer, typename Map>
LstmBuffers<Pointer> lstmBuffers(const LstmCall &call, Map &&address) {
  LstmBuffers<Pointer> b;
  int i = 0;
  b.x = address(call.args[i++]);
  b.kernel = address(call.args[i++]);
  b.recurrent = address(call.args[i++]);
  if (call.bias)
    b.bias = address(call.args[i++]);
  b.y = address(call.args[i++]);
  if (call.grad) {
    if (call.dx)
      b.dx = address(call.args[i++]);
    b.dkernel = address(call.args[i++]);
    b.drecurrent = address(call.args[i++]);
    if (call.bias)
      b.dbias = address(call.args[i++]);
  }
  return b;
}

/// The contract computed on the host, over host memory (the emulation's
/// device memory), in f32.
void referenceLstm(const LstmCall &call, const LstmBuffers<void *> &buffers);

} // namespace dlc::rt::cuda
