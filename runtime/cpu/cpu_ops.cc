//===- cpu_ops.cc - The CPU's routines, prepared per call -----------------===//
//
// Decodes each op's attributes (named as in the dl dialect) and binds its
// buffers to a CPU kernel. Everything that can fail on bad input fails here,
// at preparation; calls only fail on data (an embedding id out of range).
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/conv.h"
#include "runtime/cpu/cpu_device.h"
#include "runtime/cpu/dense.h"
#include "runtime/cpu/elementwise.h"
#include "runtime/cpu/embedding.h"
#include "runtime/cpu/loss.h"
#include "runtime/cpu/normalization.h"
#include "runtime/cpu/optimizer.h"
#include "runtime/cpu/pool.h"
#include "runtime/cpu/op_attrs.h"
#include "runtime/cpu/op_builders.h"
#include "runtime/cpu/recurrent.h"
#include "runtime/float16.h"

#include <algorithm>
#include <cstring>

namespace dlc::rt::cpu {
namespace {

/// The activation an activation op or its gradient applies (the one
/// decoder of activations in the CPU backend); *grad says which it is.
Status activationOf(const fb::Op &op, Activation *out, float *slope, bool *grad) {
  *slope = 0.0f;
  *grad = false;
  switch (op.kind()) {
  case fb::OpKind::relu_grad: *grad = true; [[fallthrough]];
  case fb::OpKind::relu: *out = Activation::kRelu; break;
  case fb::OpKind::sigmoid_grad: *grad = true; [[fallthrough]];
  case fb::OpKind::sigmoid: *out = Activation::kSigmoid; break;
  case fb::OpKind::tanh_grad: *grad = true; [[fallthrough]];
  case fb::OpKind::tanh: *out = Activation::kTanh; break;
  case fb::OpKind::gelu_grad: *grad = true; [[fallthrough]];
  case fb::OpKind::gelu:
    *out = boolOr(op, "approximate", false) ? Activation::kGeluTanh : Activation::kGelu;
    break;
  case fb::OpKind::leaky_relu_grad: *grad = true; [[fallthrough]];
  case fb::OpKind::leaky_relu:
    *out = Activation::kLeakyRelu;
    *slope = float(floatOr(op, "negative_slope", 0.2));
    break;
  default:
    return bad(std::string("op '") + fb::EnumNameOpKind(op.kind()) + "' is not an activation");
  }
  return okStatus();
}

/// The activation_epilogue routine's second op: an activation of the first
/// op's only output, which nothing else reads (the output is Unstored).
Status epilogueFor(const OpContext &ctx, const fb::Op &activation, Epilogue *e, TensorView *y) {
  if (ctx.numOutputs() != 1 || !activation.inputs() || activation.inputs()->size() != 1 ||
      !activation.outputs() || activation.outputs()->size() != 1 ||
      activation.inputs()->Get(0) != ctx.op.outputs()->Get(0) ||
      ctx.readers[ctx.op.outputs()->Get(0)] != 1)
    return bad("an activation epilogue must read the only output of the op before it, and "
               "nothing else may");
  bool grad;
  DLC_RETURN_IF_ERROR(activationOf(activation, &e->activation, &e->slope, &grad), "");
  if (grad)
    return bad("an activation epilogue applies an activation, not its gradient");
  *y = ctx.views[activation.outputs()->Get(0)];
  return okStatus();
}

//===----------------------------------------------------------------------===//
// Convolution, pooling, dense
//===----------------------------------------------------------------------===//

Status convGeometry(const fb::Op &op, const std::vector<int64_t> &x,
                    const std::vector<int64_t> &kernel, ConvGeometry *g) {
  std::vector<int64_t> strides, dilation;
  bool same;
  DLC_RETURN_IF_ERROR(intsAttr(op, "strides", 2, &strides), "");
  DLC_RETURN_IF_ERROR(intsAttr(op, "dilation", 2, &dilation), "");
  DLC_RETURN_IF_ERROR(sameFlag(op, &same), "");
  if (x.size() != 4 || kernel.size() != 4)
    return bad("conv2d needs NHWC input and HWIO kernel");
  return makeConvGeometry(x[0], x[1], x[2], x[3], kernel[0], kernel[1], kernel[3], strides[0],
                          strides[1], dilation[0], dilation[1], same, g);
}

/// conv2d, with |activation| as its epilogue when given.
Status buildConv(OpContext &ctx, const fb::Op *activation, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  ConvGeometry g;
  DLC_RETURN_IF_ERROR(convGeometry(ctx.op, ctx.in(0).shape, ctx.in(1).shape, &g), "");
  Epilogue e;
  TensorView y = ctx.out(0);
  if (activation)
    DLC_RETURN_IF_ERROR(epilogueFor(ctx, *activation, &e, &y), "");
  auto conv = std::make_shared<Conv2D>();
  DLC_RETURN_IF_ERROR(conv->prepare(g, e), "");
  TensorView x = ctx.in(0), k = ctx.in(1);
  std::optional<TensorView> bias;
  if (ctx.numInputs() > 2)
    bias = ctx.in(2);
  *call = [=](const RunOptions &) { return conv->forward(x, k, bias ? &*bias : nullptr, y); };
  return okStatus();
}

Status buildConvGradInput(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  ConvGeometry g;
  DLC_RETURN_IF_ERROR(convGeometry(ctx.op, ctx.out(0).shape, ctx.in(1).shape, &g), "");
  auto conv = std::make_shared<Conv2D>();
  DLC_RETURN_IF_ERROR(conv->prepare(g, {}, /*backward=*/true), "");
  TensorView dy = ctx.in(0), k = ctx.in(1), dx = ctx.out(0);
  *call = [=](const RunOptions &) { return conv->backwardData(dy, k, dx); };
  return okStatus();
}

Status buildConvGradKernel(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  ConvGeometry g;
  DLC_RETURN_IF_ERROR(convGeometry(ctx.op, ctx.in(0).shape, ctx.out(0).shape, &g), "");
  auto conv = std::make_shared<Conv2D>();
  DLC_RETURN_IF_ERROR(conv->prepare(g, {}, /*backward=*/true), "");
  TensorView x = ctx.in(0), dy = ctx.in(1), dk = ctx.out(0);
  *call = [=](const RunOptions &) { return conv->backwardKernel(x, dy, dk, nullptr); };
  return okStatus();
}

Status poolGeometry(const fb::Op &op, const std::vector<int64_t> &x, PoolGeometry *g) {
  std::vector<int64_t> window, strides;
  bool same;
  DLC_RETURN_IF_ERROR(intsAttr(op, "pool_size", 2, &window), "");
  DLC_RETURN_IF_ERROR(intsAttr(op, "strides", 2, &strides), "");
  DLC_RETURN_IF_ERROR(sameFlag(op, &same), "");
  if (x.size() != 4)
    return bad("pooling needs an NHWC input");
  return makePoolGeometry(x[0], x[1], x[2], x[3], window[0], window[1], strides[0], strides[1],
                          same, g);
}

Status buildPool(OpContext &ctx, PreparedCall *call) {
  using K = fb::OpKind;
  K kind = ctx.op.kind();
  if (kind == K::max_pool2d || kind == K::avg_pool2d) {
    DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
    PoolGeometry g;
    DLC_RETURN_IF_ERROR(poolGeometry(ctx.op, ctx.in(0).shape, &g), "");
    TensorView x = ctx.in(0), y = ctx.out(0);
    bool max = kind == K::max_pool2d;
    *call = [=](const RunOptions &) { return max ? maxPool2d(g, x, y) : avgPool2d(g, x, y); };
  } else if (kind == K::max_pool2d_grad) {
    DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
    PoolGeometry g;
    DLC_RETURN_IF_ERROR(poolGeometry(ctx.op, ctx.in(0).shape, &g), "");
    TensorView x = ctx.in(0), dy = ctx.in(1), dx = ctx.out(0);
    *call = [=](const RunOptions &) { return maxPool2dGrad(g, x, dy, dx); };
  } else if (kind == K::avg_pool2d_grad) {
    DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
    PoolGeometry g;
    DLC_RETURN_IF_ERROR(poolGeometry(ctx.op, ctx.out(0).shape, &g), "");
    TensorView dy = ctx.in(0), dx = ctx.out(0);
    *call = [=](const RunOptions &) { return avgPool2dGrad(g, dy, dx); };
  } else if (kind == K::global_max_pool2d || kind == K::global_avg_pool2d) {
    DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
    TensorView x = ctx.in(0), y = ctx.out(0);
    bool max = kind == K::global_max_pool2d;
    *call = [=](const RunOptions &) { return max ? globalMaxPool2d(x, y) : globalAvgPool2d(x, y); };
  } else if (kind == K::global_max_pool2d_grad) {
    DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
    TensorView x = ctx.in(0), dy = ctx.in(1), dx = ctx.out(0);
    *call = [=](const RunOptions &) { return globalMaxPool2dGrad(x, dy, dx); };
  } else if (kind == K::global_avg_pool2d_grad) {
    DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
    TensorView dy = ctx.in(0), dx = ctx.out(0);
    *call = [=](const RunOptions &) { return globalAvgPool2dGrad(dy, dx); };
  } else {
    return bad("not a pooling op");
  }
  return okStatus();
}

/// dense, with |activation| as its epilogue when given.
Status buildDense(OpContext &ctx, const fb::Op *activation, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  Epilogue e;
  TensorView y = ctx.out(0);
  if (activation)
    DLC_RETURN_IF_ERROR(epilogueFor(ctx, *activation, &e, &y), "");
  TensorView x = ctx.in(0), k = ctx.in(1);
  std::optional<TensorView> bias;
  if (ctx.numInputs() > 2)
    bias = ctx.in(2);
  *call = [=](const RunOptions &) { return denseForward(x, k, bias ? &*bias : nullptr, e, y); };
  return okStatus();
}

//===----------------------------------------------------------------------===//
// Elementwise, softmax, shape ops
//===----------------------------------------------------------------------===//

Status buildUnary(OpContext &ctx, PreparedCall *call) {
  Activation u;
  float slope;
  bool grad;
  DLC_RETURN_IF_ERROR(activationOf(ctx.op, &u, &slope, &grad), "");
  DLC_RETURN_IF_ERROR(need(ctx, grad ? 2 : 1, 1), "");
  TensorView a = ctx.in(0), y = ctx.out(0);
  int64_t n = y.numel();
  if (!grad) {
    *call = [=](const RunOptions &) {
      unary(u, a.f32(), y.f32(), n, slope);
      return okStatus();
    };
    return okStatus();
  }
  TensorView dy = ctx.in(1);
  *call = [=](const RunOptions &) {
    unaryGrad(u, a.f32(), dy.f32(), y.f32(), n, slope);
    return okStatus();
  };
  return okStatus();
}

Status buildSoftmax(OpContext &ctx, bool grad, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, grad ? 2 : 1, 1), "");
  int64_t axis;
  DLC_RETURN_IF_ERROR(intAttr(ctx.op, "axis", &axis), "");
  AxisDims dims;
  DLC_RETURN_IF_ERROR(axisDims(ctx.out(0).shape, axis, &dims), "");
  TensorView a = ctx.in(0), y = ctx.out(0);
  if (!grad) {
    *call = [=](const RunOptions &) {
      softmax(a.f32(), y.f32(), dims);
      return okStatus();
    };
  } else {
    TensorView dy = ctx.in(1);
    *call = [=](const RunOptions &) {
      softmaxGrad(a.f32(), dy.f32(), y.f32(), dims);
      return okStatus();
    };
  }
  return okStatus();
}

Status buildConcat(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
  int64_t axis;
  DLC_RETURN_IF_ERROR(intAttr(ctx.op, "axis", &axis), "");
  TensorView y = ctx.out(0);
  int64_t rank = int64_t(y.shape.size());
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return bad("concat axis out of range");
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= y.shape[size_t(i)];
  for (int64_t i = axis + 1; i < rank; ++i)
    inner *= y.shape[size_t(i)];
  std::vector<const void *> inputs;
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < ctx.numInputs(); ++i) {
    inputs.push_back(ctx.in(i).data);
    sizes.push_back(ctx.in(i).shape[size_t(axis)]);
  }
  *call = [=](const RunOptions &) {
    concat(inputs.data(), sizes.data(), int64_t(inputs.size()), y.data, outer, inner);
    return okStatus();
  };
  return okStatus();
}

Status buildSlice(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
  int64_t axis, start;
  DLC_RETURN_IF_ERROR(intAttr(ctx.op, "axis", &axis), "");
  DLC_RETURN_IF_ERROR(intAttr(ctx.op, "start", &start), "");
  TensorView x = ctx.in(0), y = ctx.out(0);
  int64_t rank = int64_t(x.shape.size());
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return bad("slice axis out of range");
  int64_t outer = 1, inner = 1, whole = x.shape[size_t(axis)], size = y.shape[size_t(axis)];
  if (start < 0 || start + size > whole)
    return bad("slice out of range");
  for (int64_t i = 0; i < axis; ++i)
    outer *= x.shape[size_t(i)];
  for (int64_t i = axis + 1; i < rank; ++i)
    inner *= x.shape[size_t(i)];
  *call = [=](const RunOptions &) {
    slice(x.data, y.data, outer, whole, start, size, inner);
    return okStatus();
  };
  return okStatus();
}

/// The max_pool_grad_relu_bias routine: max_pool2d_grad(x, dy), relu_grad
/// of the pool's input (a relu output: the mask is x > 0) on the pooled
/// gradient (read by nothing else), bias_grad of that, in one pass.
Status buildPoolGradReluBias(OpContext &ctx, const fb::Op &relu, const fb::Op &bias, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  uint32_t x = ctx.op.inputs()->Get(0), pooled = ctx.op.outputs()->Get(0);
  if (ctx.op.kind() != fb::OpKind::max_pool2d_grad || relu.kind() != fb::OpKind::relu_grad ||
      !relu.inputs() || relu.inputs()->size() != 2 || relu.inputs()->Get(0) != x ||
      relu.inputs()->Get(1) != pooled || ctx.readers[pooled] != 1 || !relu.outputs() ||
      relu.outputs()->size() != 1 || bias.kind() != fb::OpKind::bias_grad || !bias.inputs() ||
      bias.inputs()->size() != 1 || bias.inputs()->Get(0) != relu.outputs()->Get(0) ||
      !bias.outputs() || bias.outputs()->size() != 1)
    return bad("max_pool_grad_relu_bias runs max_pool2d_grad(x, dy), relu_grad(x, its result), "
               "bias_grad of that");
  PoolGeometry g;
  DLC_RETURN_IF_ERROR(poolGeometry(ctx.op, ctx.in(0).shape, &g), "");
  TensorView xv = ctx.in(0), dy = ctx.in(1), dx = ctx.views[relu.outputs()->Get(0)];
  TensorView db = ctx.views[bias.outputs()->Get(0)];
  *call = [=](const RunOptions &) { return maxPool2dGradRelu(g, xv, dy, dx, &db); };
  return okStatus();
}

Status buildAdd(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
  std::vector<const float *> inputs;
  for (size_t i = 0; i < ctx.numInputs(); ++i)
    inputs.push_back(ctx.in(i).f32());
  TensorView y = ctx.out(0);
  *call = [=](const RunOptions &) {
    add(inputs.data(), int64_t(inputs.size()), y.f32(), y.numel());
    return okStatus();
  };
  return okStatus();
}

Status buildCopy(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
  TensorView x = ctx.in(0), y = ctx.out(0);
  if (x.bytes() != y.bytes())
    return bad("copy between buffers of different sizes");
  *call = [=](const RunOptions &) {
    copy(x.data, y.data, y.bytes());
    return okStatus();
  };
  return okStatus();
}

/// Converts every element (floats round to nearest even, integers convert
/// by value); which types is the buffers' dtypes.
Status buildCast(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
  TensorView x = ctx.in(0), y = ctx.out(0);
  if (x.numel() != y.numel())
    return bad("cast between tensors of different sizes");
  if (!isComputeDType(x.dtype) || !isComputeDType(y.dtype) ||
      (isFloatDType(x.dtype) && !isFloatDType(y.dtype)))
    return bad(std::string("no cast from ") + dtypeName(x.dtype) + " to " + dtypeName(y.dtype));
  *call = [=](const RunOptions &) {
    const int64_t n = x.numel();
    if (isFloatDType(x.dtype)) {
      convertFloats(x, y);
      return okStatus();
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = x.dtype == DType::kI32 ? x.i32()[i] : x.i64()[i];
      if (y.dtype == DType::kI64)
        y.i64()[i] = v;
      else if (y.dtype != DType::kI32)
        storeElement(y.dtype, y.data, i, double(v));
      else if (v == int64_t(int32_t(v)))
        y.i32()[i] = int32_t(v);
      else
        return bad("cast to i32: element " + std::to_string(i) + " (" + std::to_string(v) +
                   ") does not fit");
    }
    return okStatus();
  };
  return okStatus();
}

Status buildZeros(OpContext &ctx, PreparedCall *call) {
  DLC_RETURN_IF_ERROR(need(ctx, 0, 1), "");
  TensorView y = ctx.out(0);
  *call = [=](const RunOptions &) {
    zeros(y.data, y.bytes());
    return okStatus();
  };
  return okStatus();
}

/// The CPU's routine for one op of each kind: the dispatch table of the
/// `op` routine (a switch without default, so a new OpKind without a
/// routine is a compile-time warning).
Status buildOp(OpContext &ctx, PreparedCall *call) {
  using K = fb::OpKind;
  switch (ctx.op.kind()) {
  case K::copy: return buildCopy(ctx, call);
  case K::zeros: return buildZeros(ctx, call);
  case K::conv2d: return buildConv(ctx, nullptr, call);
  case K::conv2d_grad_input: return buildConvGradInput(ctx, call);
  case K::conv2d_grad_kernel: return buildConvGradKernel(ctx, call);
  case K::dense: return buildDense(ctx, nullptr, call);
  case K::dense_grad_input:
  case K::dense_grad_kernel:
  case K::bias_grad: return buildDenseGrad(ctx, call);
  case K::max_pool2d:
  case K::avg_pool2d:
  case K::global_max_pool2d:
  case K::global_avg_pool2d:
  case K::max_pool2d_grad:
  case K::avg_pool2d_grad:
  case K::global_max_pool2d_grad:
  case K::global_avg_pool2d_grad: return buildPool(ctx, call);
  case K::relu:
  case K::sigmoid:
  case K::tanh:
  case K::gelu:
  case K::leaky_relu:
  case K::relu_grad:
  case K::sigmoid_grad:
  case K::tanh_grad:
  case K::gelu_grad:
  case K::leaky_relu_grad: return buildUnary(ctx, call);
  case K::softmax: return buildSoftmax(ctx, false, call);
  case K::softmax_grad: return buildSoftmax(ctx, true, call);
  case K::add: return buildAdd(ctx, call);
  case K::concat: return buildConcat(ctx, call);
  case K::slice: return buildSlice(ctx, call);
  case K::dropout: return buildDropout(ctx, call);
  case K::batch_norm: return buildBatchNorm(ctx, call);
  case K::batch_norm_grad: return buildBatchNormGrads(ctx, /*inference=*/false, call);
  case K::batch_norm_inference_grad: return buildBatchNormGrads(ctx, /*inference=*/true, call);
  case K::batch_norm_statistics_update: return buildStatisticsUpdate(ctx, call);
  case K::embedding: return buildEmbedding(ctx, false, call);
  case K::embedding_grad: return buildEmbedding(ctx, true, call);
  case K::lstm: return buildLstm(ctx, call);
  case K::lstm_grad: return buildLstmGrad(ctx, call);
  case K::loss: return buildLoss(ctx, false, call);
  case K::loss_grad: return buildLoss(ctx, true, call);
  case K::optimizer_update: return buildOptimizerUpdate(ctx, call);
  case K::loss_scale_update: return buildLossScaleUpdate(ctx, call);
  case K::gradient_norm: return buildGradientNorm(ctx, call);
  case K::augment: return buildAugment(ctx, call);
  case K::cast: return buildCast(ctx, call);
  case K::example_loss: return buildExampleLoss(ctx, call);
  case K::metric: return buildMetric(ctx, call);
  }
  return bad("op kind " + std::to_string(int(ctx.op.kind())) + " is unknown");
}

} // namespace

Status buildCall(fb::CpuRoutine routine, OpContext &ctx, const std::vector<const fb::Op *> &ops,
                 PreparedCall *call) {
  for (size_t i = 0; i < ctx.numInputs(); ++i)
    if (!ctx.in(i).data && ctx.in(i).numel())
      return bad("input " + std::to_string(i) + " is a value no call stored");
  // The kernels compute in f32 and read ids and labels as i32 or i64; a
  // cast converts between the other types.
  for (const fb::Op *op : ops) {
    if (op->kind() == fb::OpKind::cast)
      continue;
    if (op->outputs())
      for (uint32_t out : *op->outputs())
        if (ctx.views[out].dtype != DType::kF32)
          return bad("outputs must be f32");
    if (op->inputs())
      for (uint32_t in : *op->inputs()) {
        DType t = ctx.views[in].dtype;
        if (t != DType::kF32 && t != DType::kI32 && t != DType::kI64)
          return bad(std::string("inputs must be f32, i32 or i64, not ") + dtypeName(t));
      }
  }
  size_t want = cpuRoutineOps(routine);
  if (ops.size() != want)
    return bad(std::string("the ") + fb::EnumNameCpuRoutine(routine) + " routine runs " +
               std::to_string(want) + " ops, not " + std::to_string(ops.size()));
  switch (routine) {
  case fb::CpuRoutine::op:
    DLC_RETURN_IF_ERROR(buildOp(ctx, call), "");
    for (size_t i = 0; i < ctx.numOutputs(); ++i)
      if (!ctx.out(i).data && ctx.out(i).numel())
        return bad("output " + std::to_string(i) + " is marked unstored but one op stores it");
    return okStatus();
  case fb::CpuRoutine::activation_epilogue:
    if (ctx.op.kind() == fb::OpKind::conv2d)
      return buildConv(ctx, ops[1], call);
    if (ctx.op.kind() == fb::OpKind::dense)
      return buildDense(ctx, ops[1], call);
    return bad("an activation epilogue follows conv2d or dense");
  case fb::CpuRoutine::max_pool_grad_relu_bias:
    return buildPoolGradReluBias(ctx, *ops[1], *ops[2], call);
  }
  return bad("CPU routine " + std::to_string(int(routine)) + " is unknown");
}

size_t cpuRoutineOps(fb::CpuRoutine routine) {
  switch (routine) {
  case fb::CpuRoutine::op: return 1;
  case fb::CpuRoutine::activation_epilogue: return 2;
  case fb::CpuRoutine::max_pool_grad_relu_bias: return 3;
  }
  return 0;
}

} // namespace dlc::rt::cpu
