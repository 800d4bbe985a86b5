//===- cpu_ops.cc - One prepared step per dl op ---------------------------===//
//
// Decodes each op's attributes (named as in the dl dialect) and binds its
// buffers to a CPU kernel. Everything that can fail on bad input fails here,
// at preparation; steps only fail on data (an embedding id out of range).
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
#include "runtime/cpu/recurrent.h"

#include <algorithm>
#include <cstring>

namespace dlc::rt::cpu {
namespace {

/// The activation of |op| as an epilogue, if it is one.
bool epilogueOf(const fb::Op &op, Epilogue *e) {
  std::string kind = op.kind()->str();
  if (kind == "relu")
    e->activation = Activation::kRelu;
  else if (kind == "sigmoid")
    e->activation = Activation::kSigmoid;
  else if (kind == "tanh")
    e->activation = Activation::kTanh;
  else if (kind == "gelu")
    e->activation = boolOr(op, "approximate", false) ? Activation::kGeluTanh : Activation::kGelu;
  else if (kind == "leaky_relu") {
    e->activation = Activation::kLeakyRelu;
    e->slope = float(floatOr(op, "negative_slope", 0.2));
  } else
    return false;
  return true;
}

/// Whether |next| is an activation applied to |ctx.op|'s only output, which
/// nothing else reads: then the producer writes the activation's result.
bool fusesEpilogue(const OpContext &ctx, const fb::Op *next, Epilogue *e) {
  if (!next || !next->inputs() || next->inputs()->size() != 1 || ctx.numOutputs() != 1)
    return false;
  uint32_t produced = ctx.op.outputs()->Get(0);
  return next->inputs()->Get(0) == produced && ctx.readers[produced] == 1 && epilogueOf(*next, e);
}

Status unaryKind(const std::string &kind, const fb::Op &op, UnaryKind *out, float *slope) {
  *slope = 0.0f;
  if (kind == "relu" || kind == "relu_grad")
    *out = UnaryKind::kRelu;
  else if (kind == "sigmoid" || kind == "sigmoid_grad")
    *out = UnaryKind::kSigmoid;
  else if (kind == "tanh" || kind == "tanh_grad")
    *out = UnaryKind::kTanh;
  else if (kind == "gelu" || kind == "gelu_grad")
    *out = boolOr(op, "approximate", false) ? UnaryKind::kGeluTanh : UnaryKind::kGelu;
  else if (kind == "leaky_relu" || kind == "leaky_relu_grad") {
    *out = UnaryKind::kLeakyRelu;
    *slope = float(floatOr(op, "negative_slope", 0.2));
  } else
    return bad("not an activation");
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

Status buildConv(OpContext &ctx, const fb::Op *next, bool *consumedNext, Step *step) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  ConvGeometry g;
  DLC_RETURN_IF_ERROR(convGeometry(ctx.op, ctx.in(0).shape, ctx.in(1).shape, &g), "");
  Epilogue e;
  TensorView y = ctx.out(0);
  if (fusesEpilogue(ctx, next, &e)) {
    *consumedNext = true;
    y = ctx.views[next->outputs()->Get(0)];
  }
  auto conv = std::make_shared<Conv2D>();
  DLC_RETURN_IF_ERROR(conv->prepare(g, e), "");
  TensorView x = ctx.in(0), k = ctx.in(1);
  std::optional<TensorView> bias;
  if (ctx.numInputs() > 2)
    bias = ctx.in(2);
  *step = [=](const RunOptions &) { return conv->forward(x, k, bias ? &*bias : nullptr, y); };
  return okStatus();
}

Status buildConvGradInput(OpContext &ctx, Step *step) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  ConvGeometry g;
  DLC_RETURN_IF_ERROR(convGeometry(ctx.op, ctx.out(0).shape, ctx.in(1).shape, &g), "");
  auto conv = std::make_shared<Conv2D>();
  DLC_RETURN_IF_ERROR(conv->prepare(g, {}, /*backward=*/true), "");
  TensorView dy = ctx.in(0), k = ctx.in(1), dx = ctx.out(0);
  *step = [=](const RunOptions &) { return conv->backwardData(dy, k, dx); };
  return okStatus();
}

Status buildConvGradKernel(OpContext &ctx, Step *step) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  ConvGeometry g;
  DLC_RETURN_IF_ERROR(convGeometry(ctx.op, ctx.in(0).shape, ctx.out(0).shape, &g), "");
  auto conv = std::make_shared<Conv2D>();
  DLC_RETURN_IF_ERROR(conv->prepare(g, {}, /*backward=*/true), "");
  TensorView x = ctx.in(0), dy = ctx.in(1), dk = ctx.out(0);
  *step = [=](const RunOptions &) { return conv->backwardKernel(x, dy, dk, nullptr); };
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

Status buildPool(OpContext &ctx, const std::string &kind, Step *step) {
  if (kind == "max_pool2d" || kind == "avg_pool2d") {
    DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
    PoolGeometry g;
    DLC_RETURN_IF_ERROR(poolGeometry(ctx.op, ctx.in(0).shape, &g), "");
    TensorView x = ctx.in(0), y = ctx.out(0);
    bool max = kind == "max_pool2d";
    *step = [=](const RunOptions &) { return max ? maxPool2d(g, x, y) : avgPool2d(g, x, y); };
  } else if (kind == "max_pool2d_grad") {
    DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
    PoolGeometry g;
    DLC_RETURN_IF_ERROR(poolGeometry(ctx.op, ctx.in(0).shape, &g), "");
    TensorView x = ctx.in(0), dy = ctx.in(1), dx = ctx.out(0);
    *step = [=](const RunOptions &) { return maxPool2dGrad(g, x, dy, dx); };
  } else if (kind == "avg_pool2d_grad") {
    DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
    PoolGeometry g;
    DLC_RETURN_IF_ERROR(poolGeometry(ctx.op, ctx.out(0).shape, &g), "");
    TensorView dy = ctx.in(0), dx = ctx.out(0);
    *step = [=](const RunOptions &) { return avgPool2dGrad(g, dy, dx); };
  } else if (kind == "global_max_pool2d" || kind == "global_avg_pool2d") {
    DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
    TensorView x = ctx.in(0), y = ctx.out(0);
    bool max = kind == "global_max_pool2d";
    *step = [=](const RunOptions &) { return max ? globalMaxPool2d(x, y) : globalAvgPool2d(x, y); };
  } else if (kind == "global_max_pool2d_grad") {
    DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
    TensorView x = ctx.in(0), dy = ctx.in(1), dx = ctx.out(0);
    *step = [=](const RunOptions &) { return globalMaxPool2dGrad(x, dy, dx); };
  } else { // global_avg_pool2d_grad
    DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
    TensorView dy = ctx.in(0), dx = ctx.out(0);
    *step = [=](const RunOptions &) { return globalAvgPool2dGrad(dy, dx); };
  }
  return okStatus();
}

Status buildDense(OpContext &ctx, const fb::Op *next, bool *consumedNext, Step *step) {
  DLC_RETURN_IF_ERROR(need(ctx, 2, 1), "");
  Epilogue e;
  TensorView y = ctx.out(0);
  if (fusesEpilogue(ctx, next, &e)) {
    *consumedNext = true;
    y = ctx.views[next->outputs()->Get(0)];
  }
  TensorView x = ctx.in(0), k = ctx.in(1);
  std::optional<TensorView> bias;
  if (ctx.numInputs() > 2)
    bias = ctx.in(2);
  *step = [=](const RunOptions &) { return denseForward(x, k, bias ? &*bias : nullptr, e, y); };
  return okStatus();
}

//===----------------------------------------------------------------------===//
// Elementwise, softmax, shape ops
//===----------------------------------------------------------------------===//

Status buildUnary(OpContext &ctx, const std::string &kind, Step *step) {
  UnaryKind u;
  float slope;
  DLC_RETURN_IF_ERROR(unaryKind(kind, ctx.op, &u, &slope), "");
  bool grad = kind.size() > 5 && kind.compare(kind.size() - 5, 5, "_grad") == 0;
  DLC_RETURN_IF_ERROR(need(ctx, grad ? 2 : 1, 1), "");
  TensorView a = ctx.in(0), y = ctx.out(0);
  int64_t n = y.numel();
  if (!grad) {
    *step = [=](const RunOptions &) {
      unary(u, a.f32(), y.f32(), n, slope);
      return okStatus();
    };
    return okStatus();
  }
  TensorView dy = ctx.in(1);
  *step = [=](const RunOptions &) {
    unaryGrad(u, a.f32(), dy.f32(), y.f32(), n, slope);
    return okStatus();
  };
  return okStatus();
}

Status buildSoftmax(OpContext &ctx, bool grad, Step *step) {
  DLC_RETURN_IF_ERROR(need(ctx, grad ? 2 : 1, 1), "");
  int64_t axis;
  DLC_RETURN_IF_ERROR(intAttr(ctx.op, "axis", &axis), "");
  AxisDims dims;
  DLC_RETURN_IF_ERROR(axisDims(ctx.out(0).shape, axis, &dims), "");
  TensorView a = ctx.in(0), y = ctx.out(0);
  if (!grad) {
    *step = [=](const RunOptions &) {
      softmax(a.f32(), y.f32(), dims);
      return okStatus();
    };
  } else {
    TensorView dy = ctx.in(1);
    *step = [=](const RunOptions &) {
      softmaxGrad(a.f32(), dy.f32(), y.f32(), dims);
      return okStatus();
    };
  }
  return okStatus();
}

Status buildConcat(OpContext &ctx, Step *step) {
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
  *step = [=](const RunOptions &) {
    concat(inputs.data(), sizes.data(), int64_t(inputs.size()), y.data, outer, inner);
    return okStatus();
  };
  return okStatus();
}

Status buildSlice(OpContext &ctx, Step *step) {
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
  *step = [=](const RunOptions &) {
    slice(x.data, y.data, outer, whole, start, size, inner);
    return okStatus();
  };
  return okStatus();
}

/// max_pool2d_grad, relu_grad of the pool's input (a relu output: the mask
/// is x > 0), bias_grad of the result: one pass (maxPool2dGradRelu).
bool buildPoolGradReluBias(OpContext &ctx, const std::vector<const fb::Op *> &following,
                           int *consumed, Step *step) {
  if (ctx.op.kind()->str() != "max_pool2d_grad" || following.size() < 2 || ctx.numInputs() != 2)
    return false;
  const fb::Op &relu = *following[0], &bias = *following[1];
  uint32_t x = ctx.op.inputs()->Get(0), pooled = ctx.op.outputs()->Get(0);
  if (relu.kind()->str() != "relu_grad" || !relu.inputs() || relu.inputs()->size() != 2 ||
      relu.inputs()->Get(0) != x || relu.inputs()->Get(1) != pooled || ctx.readers[pooled] != 1 ||
      bias.kind()->str() != "bias_grad" || !bias.inputs() || bias.inputs()->size() != 1 ||
      bias.inputs()->Get(0) != relu.outputs()->Get(0))
    return false;
  PoolGeometry g;
  if (!poolGeometry(ctx.op, ctx.in(0).shape, &g).ok())
    return false;
  TensorView xv = ctx.in(0), dy = ctx.in(1), dx = ctx.views[relu.outputs()->Get(0)];
  TensorView db = ctx.views[bias.outputs()->Get(0)];
  *step = [=](const RunOptions &) { return maxPool2dGradRelu(g, xv, dy, dx, &db); };
  *consumed = 2;
  return true;
}

} // namespace

Status buildTrainingStep(OpContext &ctx, const std::string &kind, Step *step);

Status buildOp(OpContext &ctx, const fb::Op *next, bool *consumedNext, Step *step);

Status buildStep(OpContext &ctx, const std::vector<const fb::Op *> &following, int *consumed,
                 Step *step) {
  for (size_t i = 0; i < ctx.numInputs(); ++i)
    if (!ctx.in(i).data && ctx.in(i).numel())
      return bad("input " + std::to_string(i) + " is a fused value its producer did not fuse");
  if (buildPoolGradReluBias(ctx, following, consumed, step))
    return okStatus();
  bool consumedNext = false;
  DLC_RETURN_IF_ERROR(buildOp(ctx, following.empty() ? nullptr : following[0], &consumedNext, step),
                      "");
  *consumed = consumedNext ? 1 : 0;
  if (!consumedNext)
    for (size_t i = 0; i < ctx.numOutputs(); ++i)
      if (!ctx.out(i).data && ctx.out(i).numel())
        return bad("output " + std::to_string(i) +
                   " is marked fused but the next op is not an activation of it");
  return okStatus();
}

Status buildOp(OpContext &ctx, const fb::Op *next, bool *consumedNext, Step *step) {
  *consumedNext = false;
  std::string kind = ctx.op.kind()->str();
  for (size_t i = 0; i < ctx.numOutputs(); ++i)
    if (ctx.out(i).dtype != DType::kF32)
      return bad("outputs must be f32");
  if (kind == "conv2d")
    return buildConv(ctx, next, consumedNext, step);
  if (kind == "conv2d_grad_input")
    return buildConvGradInput(ctx, step);
  if (kind == "conv2d_grad_kernel")
    return buildConvGradKernel(ctx, step);
  if (kind == "dense")
    return buildDense(ctx, next, consumedNext, step);
  if (kind.find("pool2d") != std::string::npos)
    return buildPool(ctx, kind, step);
  if (kind == "relu" || kind == "sigmoid" || kind == "tanh" || kind == "gelu" ||
      kind == "leaky_relu" || kind == "relu_grad" || kind == "sigmoid_grad" ||
      kind == "tanh_grad" || kind == "gelu_grad" || kind == "leaky_relu_grad")
    return buildUnary(ctx, kind, step);
  if (kind == "softmax" || kind == "softmax_grad")
    return buildSoftmax(ctx, kind == "softmax_grad", step);
  if (kind == "concat")
    return buildConcat(ctx, step);
  if (kind == "slice")
    return buildSlice(ctx, step);
  if (kind == "add") {
    DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
    std::vector<const float *> inputs;
    for (size_t i = 0; i < ctx.numInputs(); ++i)
      inputs.push_back(ctx.in(i).f32());
    TensorView y = ctx.out(0);
    *step = [=](const RunOptions &) {
      add(inputs.data(), int64_t(inputs.size()), y.f32(), y.numel());
      return okStatus();
    };
    return okStatus();
  }
  if (kind == "copy") {
    DLC_RETURN_IF_ERROR(need(ctx, 1, 1), "");
    TensorView x = ctx.in(0), y = ctx.out(0);
    *step = [=](const RunOptions &) {
      copy(x.data, y.data, y.bytes());
      return okStatus();
    };
    return okStatus();
  }
  if (kind == "zeros") {
    DLC_RETURN_IF_ERROR(need(ctx, 0, 1), "");
    TensorView y = ctx.out(0);
    *step = [=](const RunOptions &) {
      zeros(y.data, y.bytes());
      return okStatus();
    };
    return okStatus();
  }
  return buildTrainingStep(ctx, kind, step);
}

} // namespace dlc::rt::cpu
