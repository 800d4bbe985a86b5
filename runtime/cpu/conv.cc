//===- conv.cc - 2-D convolution on the CPU through oneDNN ----------------===//
//
// Activations stay NHWC (oneDNN's jit:avx2 kernels read nhwc directly, so no
// activation reorders); weights are left to oneDNN (format_tag::any picks the
// blocked layout its kernel wants) and reordered from/to the model's HWIO on
// every run, because the optimizer updates them in HWIO between steps. The
// reorder of a 3x3x64x64 kernel costs a few microseconds.
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/conv.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <exception>
#include <string>
#include <vector>

namespace dlc::rt::cpu {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using DT = memory::data_type;

std::string dimsString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// The one CPU engine; oneDNN engines are cheap to share and thread-safe.
dnnl::engine &cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

Status checkView(const TensorView &t, const std::vector<int64_t> &want, const char *what) {
  if (t.dtype != DType::kF32)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           std::string(what) + " must be f32, not " + dtypeName(t.dtype));
  if (t.shape != want)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           std::string(what) + " must be " + dimsString(want) + ", got " +
                               dimsString(t.shape));
  if (!t.data)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, std::string(what) + " has no data");
  return okStatus();
}

dnnl::algorithm eltwiseOf(Activation a) {
  switch (a) {
  case Activation::kRelu:
  case Activation::kLeakyRelu: return dnnl::algorithm::eltwise_relu;
  case Activation::kSigmoid: return dnnl::algorithm::eltwise_logistic;
  case Activation::kTanh: return dnnl::algorithm::eltwise_tanh;
  case Activation::kGelu: return dnnl::algorithm::eltwise_gelu_erf;
  case Activation::kGeluTanh: return dnnl::algorithm::eltwise_gelu_tanh;
  case Activation::kNone: break;
  }
  return dnnl::algorithm::undef;
}

/// A user buffer in HWIO and the layout a primitive wants: either the same
/// (no copy) or a cached reorder into/out of an owned buffer.
struct WeightsBridge {
  memory user, internal;
  dnnl::reorder reorder;
  bool needsReorder = false;

  void init(const memory::desc &userMd, const memory::desc &wanted, bool toUser) {
    dnnl::engine &e = cpuEngine();
    user = memory(userMd, e, DNNL_MEMORY_NONE);
    needsReorder = wanted != userMd;
    if (!needsReorder) {
      internal = user;
      return;
    }
    internal = memory(wanted, e);
    reorder = toUser ? dnnl::reorder(internal, user) : dnnl::reorder(user, internal);
  }
  /// The memory the primitive should read (after copying in |data|).
  memory &in(dnnl::stream &s, const float *data) {
    user.set_data_handle(const_cast<float *>(data));
    if (needsReorder)
      reorder.execute(s, user, internal);
    return internal;
  }
  memory &out(float *data) {
    user.set_data_handle(data);
    return internal;
  }
  void flushOut(dnnl::stream &s) {
    if (needsReorder)
      reorder.execute(s, internal, user);
  }
};

} // namespace

bool dlcBenchPlainWeights = false; // TEMPORARY (benchmark hook)

struct Conv2D::Impl {
  ConvGeometry g;
  Epilogue epilogue;
  memory::desc srcMd, dstMd, userWeightsMd, biasMd;
  memory::dims strides, dilates, padL, padR;

  dnnl::stream stream;
  dnnl::convolution_forward::primitive_desc fwdPd;
  dnnl::convolution_forward fwd;
  WeightsBridge fwdWeights;
  memory src, dst, bias;
  std::vector<float> zeroBias, scratchBias;

  bool backwardReady = false;
  dnnl::convolution_backward_data bwdData;
  dnnl::convolution_backward_weights bwdWeights;
  WeightsBridge bwdDataWeights, bwdDiffWeights;
  memory diffDst, diffSrc, diffBias;
  std::string impl;

  void build(const ConvGeometry &geometry, Epilogue e) {
    g = geometry;
    epilogue = e;
    dnnl::engine &eng = cpuEngine();
    srcMd = memory::desc({g.batch, g.inC, g.inH, g.inW}, DT::f32, Tag::nhwc);
    dstMd = memory::desc({g.batch, g.outC, g.outH, g.outW}, DT::f32, Tag::nhwc);
    userWeightsMd = memory::desc({g.outC, g.inC, g.kernelH, g.kernelW}, DT::f32, Tag::hwio);
    biasMd = memory::desc({g.outC}, DT::f32, Tag::x);
    memory::desc anyWeights({g.outC, g.inC, g.kernelH, g.kernelW}, DT::f32, dlcBenchPlainWeights ? Tag::hwio : Tag::any);
    strides = {g.strideH, g.strideW};
    dilates = {g.dilationH - 1, g.dilationW - 1}; // oneDNN counts the gaps
    padL = {g.padTop, g.padLeft};
    padR = {g.padBottom, g.padRight};

    dnnl::primitive_attr attr;
    if (e.activation != Activation::kNone) {
      dnnl::post_ops ops;
      float alpha = e.activation == Activation::kLeakyRelu ? e.slope : 0.0f;
      ops.append_eltwise(1.0f, eltwiseOf(e.activation), alpha, 0.0f);
      attr.set_post_ops(ops);
    }
    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training,
                                         dnnl::algorithm::convolution_direct, srcMd, anyWeights,
                                         biasMd, dstMd, strides, dilates, padL, padR);
    fwdPd = dnnl::convolution_forward::primitive_desc(desc, attr, eng);
    fwd = dnnl::convolution_forward(fwdPd);
    fwdWeights.init(userWeightsMd, fwdPd.weights_desc(), false);
    stream = dnnl::stream(eng);
    src = memory(srcMd, eng, DNNL_MEMORY_NONE);
    dst = memory(dstMd, eng, DNNL_MEMORY_NONE);
    bias = memory(biasMd, eng, DNNL_MEMORY_NONE);
    zeroBias.assign(size_t(g.outC), 0.0f);
    impl = std::string("fwd=") + fwdPd.impl_info_str();
    backwardReady = false;
  }

  void buildBackward() {
    dnnl::engine &eng = cpuEngine();
    memory::desc anyWeights({g.outC, g.inC, g.kernelH, g.kernelW}, DT::f32, dlcBenchPlainWeights ? Tag::hwio : Tag::any);
    // The hint must be a forward_training descriptor without post-ops: the
    // backward passes differentiate the convolution alone.
    dnnl::convolution_forward::desc hintDesc(dnnl::prop_kind::forward_training,
                                             dnnl::algorithm::convolution_direct, srcMd,
                                             anyWeights, biasMd, dstMd, strides, dilates, padL,
                                             padR);
    dnnl::convolution_forward::primitive_desc hint(hintDesc, eng);

    dnnl::convolution_backward_data::desc dataDesc(dnnl::algorithm::convolution_direct, srcMd,
                                                   anyWeights, dstMd, strides, dilates, padL,
                                                   padR);
    dnnl::convolution_backward_data::primitive_desc dataPd(dataDesc, eng, hint);
    bwdData = dnnl::convolution_backward_data(dataPd);
    bwdDataWeights.init(userWeightsMd, dataPd.weights_desc(), false);

    dnnl::convolution_backward_weights::desc weightsDesc(
        dnnl::algorithm::convolution_direct, srcMd, anyWeights, biasMd, dstMd, strides, dilates,
        padL, padR);
    dnnl::convolution_backward_weights::primitive_desc weightsPd(weightsDesc, eng, hint);
    bwdWeights = dnnl::convolution_backward_weights(weightsPd);
    bwdDiffWeights.init(userWeightsMd, weightsPd.diff_weights_desc(), true);

    diffDst = memory(dstMd, eng, DNNL_MEMORY_NONE);
    diffSrc = memory(srcMd, eng, DNNL_MEMORY_NONE);
    diffBias = memory(biasMd, eng, DNNL_MEMORY_NONE);
    scratchBias.assign(size_t(g.outC), 0.0f);
    impl += std::string(" bwd_data=") + dataPd.impl_info_str() +
            " bwd_weights=" + weightsPd.impl_info_str();
    backwardReady = true;
  }

  std::vector<int64_t> xShape() const { return {g.batch, g.inH, g.inW, g.inC}; }
  std::vector<int64_t> yShape() const { return {g.batch, g.outH, g.outW, g.outC}; }
  std::vector<int64_t> kShape() const { return {g.kernelH, g.kernelW, g.inC, g.outC}; }
};

namespace {
/// Runs |body|, turning whatever oneDNN or the allocator throws into a Status.
template <typename Body>
Status guarded(const char *what, Body body) {
  try {
    return body();
  } catch (const dnnl::error &e) {
    return DLC_MAKE_STATUS(StatusCode::kInternal,
                           std::string(what) + ": oneDNN: " + e.what() + " (status " +
                               std::to_string(int(e.status)) + ")");
  } catch (const std::bad_alloc &) {
    return DLC_MAKE_STATUS(StatusCode::kUnavailable, std::string(what) + ": out of memory");
  } catch (const std::exception &e) {
    return DLC_MAKE_STATUS(StatusCode::kInternal, std::string(what) + ": " + e.what());
  }
}
} // namespace

Status placeWindow(int64_t in, int64_t window, int64_t stride, int64_t dilation, bool same,
                   WindowPlacement *placement) {
  if (in <= 0 || window <= 0 || stride <= 0 || dilation <= 0)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "window placement needs positive sizes, got input " +
                               std::to_string(in) + ", window " + std::to_string(window) +
                               ", stride " + std::to_string(stride) + ", dilation " +
                               std::to_string(dilation));
  int64_t effective = dilation * (window - 1) + 1;
  if (!same) {
    if (in < effective)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             "valid window of extent " + std::to_string(effective) +
                                 " does not fit in input size " + std::to_string(in));
    *placement = {(in - effective) / stride + 1, 0, 0};
    return okStatus();
  }
  int64_t out = (in + stride - 1) / stride;
  int64_t padTotal = std::max<int64_t>((out - 1) * stride + effective - in, 0);
  *placement = {out, padTotal / 2, padTotal - padTotal / 2};
  return okStatus();
}

Status makeConvGeometry(int64_t batch, int64_t inH, int64_t inW, int64_t inC, int64_t kernelH,
                        int64_t kernelW, int64_t outC, int64_t strideH, int64_t strideW,
                        int64_t dilationH, int64_t dilationW, bool same,
                        ConvGeometry *geometry) {
  if (batch <= 0 || inC <= 0 || outC <= 0)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "conv2d needs a positive batch and channel counts");
  WindowPlacement y, x;
  DLC_RETURN_IF_ERROR(placeWindow(inH, kernelH, strideH, dilationH, same, &y), "conv2d rows");
  DLC_RETURN_IF_ERROR(placeWindow(inW, kernelW, strideW, dilationW, same, &x), "conv2d columns");
  ConvGeometry g;
  g.batch = batch, g.inH = inH, g.inW = inW, g.inC = inC;
  g.kernelH = kernelH, g.kernelW = kernelW, g.outC = outC;
  g.outH = y.out, g.outW = x.out;
  g.strideH = strideH, g.strideW = strideW, g.dilationH = dilationH, g.dilationW = dilationW;
  g.padTop = y.padBefore, g.padBottom = y.padAfter, g.padLeft = x.padBefore, g.padRight = x.padAfter;
  *geometry = g;
  return okStatus();
}

Conv2D::Conv2D() = default;
Conv2D::~Conv2D() = default;
Conv2D::Conv2D(Conv2D &&) noexcept = default;
Conv2D &Conv2D::operator=(Conv2D &&) noexcept = default;

bool Conv2D::prepared() const { return impl_ != nullptr; }

const ConvGeometry &Conv2D::geometry() const {
  static const ConvGeometry empty;
  return impl_ ? impl_->g : empty;
}

const char *Conv2D::implementation() const { return impl_ ? impl_->impl.c_str() : ""; }

Status Conv2D::prepare(const ConvGeometry &g, Epilogue epilogue, bool backward) {
  impl_.reset();
  // Re-derive the output size from the padding: a geometry oneDNN would
  // reject (or read out of bounds with) is refused here with a clear message.
  auto axisOk = [](int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pa,
                   int64_t out) {
    return in > 0 && k > 0 && s > 0 && d > 0 && pb >= 0 && pa >= 0 && out > 0 &&
           (in + pb + pa - (d * (k - 1) + 1)) >= 0 &&
           (in + pb + pa - (d * (k - 1) + 1)) / s + 1 == out;
  };
  if (g.batch <= 0 || g.inC <= 0 || g.outC <= 0 ||
      !axisOk(g.inH, g.kernelH, g.strideH, g.dilationH, g.padTop, g.padBottom, g.outH) ||
      !axisOk(g.inW, g.kernelW, g.strideW, g.dilationW, g.padLeft, g.padRight, g.outW))
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "conv2d: inconsistent geometry (use makeConvGeometry)");
  auto impl = std::make_unique<Impl>();
  Status built = guarded("conv2d prepare", [&] {
    impl->build(g, epilogue);
    if (backward)
      impl->buildBackward();
    return okStatus();
  });
  if (!built.ok())
    return built;
  impl_ = std::move(impl);
  return okStatus();
}

Status Conv2D::forward(const TensorView &x, const TensorView &kernel, const TensorView *bias,
                       const TensorView &y) {
  if (!impl_)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "conv2d forward: not prepared");
  Impl &m = *impl_;
  DLC_RETURN_IF_ERROR(checkView(x, m.xShape(), "input"), "conv2d forward");
  DLC_RETURN_IF_ERROR(checkView(kernel, m.kShape(), "kernel"), "conv2d forward");
  DLC_RETURN_IF_ERROR(checkView(y, m.yShape(), "output"), "conv2d forward");
  if (bias)
    DLC_RETURN_IF_ERROR(checkView(*bias, {m.g.outC}, "bias"), "conv2d forward");
  return guarded("conv2d forward", [&] {
    m.src.set_data_handle(x.data);
    m.dst.set_data_handle(y.data);
    m.bias.set_data_handle(bias ? bias->data : m.zeroBias.data());
    memory &w = m.fwdWeights.in(m.stream, kernel.f32());
    m.fwd.execute(m.stream, {{DNNL_ARG_SRC, m.src},
                             {DNNL_ARG_WEIGHTS, w},
                             {DNNL_ARG_BIAS, m.bias},
                             {DNNL_ARG_DST, m.dst}});
    m.stream.wait();
    return okStatus();
  });
}

Status Conv2D::backwardData(const TensorView &dy, const TensorView &kernel,
                            const TensorView &dx) {
  if (!impl_)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "conv2d backward data: not prepared");
  Impl &m = *impl_;
  DLC_RETURN_IF_ERROR(checkView(dy, m.yShape(), "output gradient"), "conv2d backward data");
  DLC_RETURN_IF_ERROR(checkView(kernel, m.kShape(), "kernel"), "conv2d backward data");
  DLC_RETURN_IF_ERROR(checkView(dx, m.xShape(), "input gradient"), "conv2d backward data");
  return guarded("conv2d backward data", [&] {
    if (!m.backwardReady)
      m.buildBackward();
    m.diffDst.set_data_handle(dy.data);
    m.diffSrc.set_data_handle(dx.data);
    memory &w = m.bwdDataWeights.in(m.stream, kernel.f32());
    m.bwdData.execute(m.stream, {{DNNL_ARG_DIFF_DST, m.diffDst},
                                 {DNNL_ARG_WEIGHTS, w},
                                 {DNNL_ARG_DIFF_SRC, m.diffSrc}});
    m.stream.wait();
    return okStatus();
  });
}

Status Conv2D::backwardKernel(const TensorView &x, const TensorView &dy,
                              const TensorView &dkernel, const TensorView *dbias) {
  if (!impl_)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "conv2d backward kernel: not prepared");
  Impl &m = *impl_;
  DLC_RETURN_IF_ERROR(checkView(x, m.xShape(), "input"), "conv2d backward kernel");
  DLC_RETURN_IF_ERROR(checkView(dy, m.yShape(), "output gradient"), "conv2d backward kernel");
  DLC_RETURN_IF_ERROR(checkView(dkernel, m.kShape(), "kernel gradient"),
                      "conv2d backward kernel");
  if (dbias)
    DLC_RETURN_IF_ERROR(checkView(*dbias, {m.g.outC}, "bias gradient"),
                        "conv2d backward kernel");
  return guarded("conv2d backward kernel", [&] {
    if (!m.backwardReady)
      m.buildBackward();
    m.src.set_data_handle(x.data);
    m.diffDst.set_data_handle(dy.data);
    m.diffBias.set_data_handle(dbias ? dbias->data : m.scratchBias.data());
    memory &dw = m.bwdDiffWeights.out(dkernel.f32());
    m.bwdWeights.execute(m.stream, {{DNNL_ARG_SRC, m.src},
                                    {DNNL_ARG_DIFF_DST, m.diffDst},
                                    {DNNL_ARG_DIFF_WEIGHTS, dw},
                                    {DNNL_ARG_DIFF_BIAS, m.diffBias}});
    m.bwdDiffWeights.flushOut(m.stream);
    m.stream.wait();
    return okStatus();
  });
}

} // namespace dlc::rt::cpu
