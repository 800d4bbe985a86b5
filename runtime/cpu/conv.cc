//===- conv.cc - 2-D convolution on the CPU through oneDNN ----------------===//
//
// Forward and input gradient are oneDNN primitives. Activations stay NHWC:
// oneDNN 2.6's jit:avx2 kernels read nhwc directly, and blocked activations
// (nChw8c) saved under 10% of the compute, less than the reorders cost.
// Weights are left to oneDNN (format_tag::any: its blocked layout) and
// reordered from the model's HWIO on every run, since the optimizer updates
// them in HWIO between steps; on the MNIST CNN at batch 128 that made the
// three oneDNN passes 1.8x faster than on plain HWIO weights (47 vs 82 ms
// per training step, one thread); a 3x3x64x64 reorder costs microseconds.
// The kernel gradient is im2col + sgemm (see kernelGrad).
//
//===----------------------------------------------------------------------===//
#include "runtime/cpu/conv.h"

#include "runtime/cpu/gemm.h"

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <exception>
#include <string>
#include <vector>

namespace dlc::rt::cpu {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using DT = memory::data_type;

/// The one CPU engine; oneDNN engines are cheap to share and thread-safe.
dnnl::engine &cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

/// Whether oneDNN applies |a| as the convolution's post-op: relu and
/// leaky_relu, which are exact (max and a product), so oneDNN's bits are
/// the CPU's. Other activations run after the primitive through the CPU's
/// one definition of each (elementwise.h).
bool oneDnnPostOp(Activation a) { return a == Activation::kRelu || a == Activation::kLeakyRelu; }

/// The model's HWIO kernel and the layout a primitive wants: either the same
/// (no copy) or a cached reorder into an owned buffer.
struct WeightsBridge {
  memory user, internal;
  dnnl::reorder reorder;
  bool needsReorder = false;

  void init(const memory::desc &userMd, const memory::desc &wanted) {
    dnnl::engine &e = cpuEngine();
    user = memory(userMd, e, DNNL_MEMORY_NONE);
    needsReorder = wanted != userMd;
    if (!needsReorder) {
      internal = user;
      return;
    }
    internal = memory(wanted, e);
    reorder = dnnl::reorder(user, internal);
  }
  /// The memory the primitive should read (after copying in |data|).
  memory &in(dnnl::stream &s, const float *data) {
    user.set_data_handle(const_cast<float *>(data));
    if (needsReorder)
      reorder.execute(s, user, internal);
    return internal;
  }
};

} // namespace

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
  std::vector<float> zeroBias;

  bool backwardReady = false;
  dnnl::convolution_backward_data bwdData;
  WeightsBridge bwdDataWeights;
  memory diffDst, diffSrc;
  std::string impl;

  // Kernel gradient by im2col + sgemm: per thread, a patch matrix of
  // chunkRows rows and a partial [KK + 1, F] result (the extra row is dbias).
  std::vector<float> patches, partials;
  int64_t chunkRows = 0;

  void kernelGrad(const float *x, const float *dy, float *dk, float *db);
  void im2col(const float *x, int64_t firstRow, int64_t rows, float *col) const;

  void build(const ConvGeometry &geometry, Epilogue e) {
    g = geometry;
    epilogue = e;
    dnnl::engine &eng = cpuEngine();
    srcMd = memory::desc({g.batch, g.inC, g.inH, g.inW}, DT::f32, Tag::nhwc);
    dstMd = memory::desc({g.batch, g.outC, g.outH, g.outW}, DT::f32, Tag::nhwc);
    userWeightsMd = memory::desc({g.outC, g.inC, g.kernelH, g.kernelW}, DT::f32, Tag::hwio);
    biasMd = memory::desc({g.outC}, DT::f32, Tag::x);
    memory::desc anyWeights({g.outC, g.inC, g.kernelH, g.kernelW}, DT::f32, Tag::any);
    strides = {g.strideH, g.strideW};
    dilates = {g.dilationH - 1, g.dilationW - 1}; // oneDNN counts the gaps
    padL = {g.padTop, g.padLeft};
    padR = {g.padBottom, g.padRight};

    dnnl::primitive_attr attr;
    if (oneDnnPostOp(e.activation)) {
      dnnl::post_ops ops;
      float alpha = e.activation == Activation::kLeakyRelu ? e.slope : 0.0f;
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, alpha, 0.0f);
      attr.set_post_ops(ops);
    }
    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training,
                                         dnnl::algorithm::convolution_direct, srcMd, anyWeights,
                                         biasMd, dstMd, strides, dilates, padL, padR);
    fwdPd = dnnl::convolution_forward::primitive_desc(desc, attr, eng);
    fwd = dnnl::convolution_forward(fwdPd);
    fwdWeights.init(userWeightsMd, fwdPd.weights_desc());
    stream = dnnl::stream(eng);
    src = memory(srcMd, eng, DNNL_MEMORY_NONE);
    dst = memory(dstMd, eng, DNNL_MEMORY_NONE);
    bias = memory(biasMd, eng, DNNL_MEMORY_NONE);
    zeroBias.assign(size_t(g.outC), 0.0f);
    impl = std::string("fwd=") + fwdPd.impl_info_str() + " bwd_kernel=im2col+sgemm";
    backwardReady = false;
  }

  void buildBackward() {
    dnnl::engine &eng = cpuEngine();
    memory::desc anyWeights({g.outC, g.inC, g.kernelH, g.kernelW}, DT::f32, Tag::any);
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
    bwdDataWeights.init(userWeightsMd, dataPd.weights_desc());

    diffDst = memory(dstMd, eng, DNNL_MEMORY_NONE);
    diffSrc = memory(srcMd, eng, DNNL_MEMORY_NONE);
    impl += std::string(" bwd_data=") + dataPd.impl_info_str();
    backwardReady = true;
  }

  std::vector<int64_t> xShape() const { return {g.batch, g.inH, g.inW, g.inC}; }
  std::vector<int64_t> yShape() const { return {g.batch, g.outH, g.outW, g.outC}; }
  std::vector<int64_t> kShape() const { return {g.kernelH, g.kernelW, g.inC, g.outC}; }
};

/// Patch matrix rows [firstRow, firstRow + rows) of the flattened output
/// positions: each row is the input taps of one output pixel in [kh][kw][C]
/// order (zeros for padding), then a 1 that turns the gemm's extra output
/// row into the bias gradient.
void Conv2D::Impl::im2col(const float *x, int64_t firstRow, int64_t rows, float *col) const {
  const int64_t C = g.inC, tapRow = g.kernelW * C, width = g.kernelH * tapRow + 1;
  const bool denseRow = g.dilationW == 1;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t at = firstRow + r, ox = at % g.outW, oy = (at / g.outW) % g.outH;
    int64_t b = at / (g.outW * g.outH);
    const float *image = x + b * g.inH * g.inW * C;
    float *out = col + r * width;
    int64_t x0 = ox * g.strideW - g.padLeft;
    bool inside = x0 >= 0 && x0 + (g.kernelW - 1) * g.dilationW < g.inW;
    for (int64_t ky = 0; ky < g.kernelH; ++ky, out += tapRow) {
      int64_t iy = oy * g.strideH + ky * g.dilationH - g.padTop;
      if (iy < 0 || iy >= g.inH) {
        std::fill(out, out + tapRow, 0.0f);
        continue;
      }
      const float *line = image + (iy * g.inW) * C;
      if (inside && denseRow) {
        std::copy(line + x0 * C, line + x0 * C + tapRow, out);
        continue;
      }
      for (int64_t kx = 0; kx < g.kernelW; ++kx) {
        int64_t ix = x0 + kx * g.dilationW;
        if (ix < 0 || ix >= g.inW)
          std::fill(out + kx * C, out + (kx + 1) * C, 0.0f);
        else
          std::copy(line + ix * C, line + (ix + 1) * C, out + kx * C);
      }
    }
    *out = 1.0f;
  }
}

/// dK[KK, F] (+ dbias) = patchesᵀ · dy. Faster than oneDNN 2.6's jit:avx2
/// backward-weights on every MNIST layer (1 thread, batch 128: 1.8 vs 2.5,
/// 7.0 vs 11.1, 1.0 vs 2.1 ms), and its result is already HWIO: the patch
/// column order is the kernel's row-major [kh][kw][C] order. Threads split
/// the output positions; each runs single-threaded gemms (oneDNN does not
/// nest inside an OpenMP region) into its own partial, summed at the end.
void Conv2D::Impl::kernelGrad(const float *x, const float *dy, float *dk, float *db) {
  const int64_t KK = g.kernelH * g.kernelW * g.inC, width = KK + 1, F = g.outC;
  const int64_t rows = g.batch * g.outH * g.outW;
  // Enough rows per gemm to amortise its packing, few enough to stay in L2.
  constexpr int64_t kChunkFloats = 1 << 18;
  constexpr int64_t kMinRowsPerThread = 256;
  int threads = int(std::clamp<int64_t>(rows / kMinRowsPerThread, 1, omp_get_max_threads()));
  if (chunkRows == 0)
    chunkRows = std::max<int64_t>(kChunkFloats / width, 16);
  patches.resize(size_t(threads * chunkRows * width));
  partials.resize(size_t(threads * width * F));
  int used = 1;
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    if (t == 0)
      used = nt;
    int64_t begin = rows * t / nt, end = rows * (t + 1) / nt;
    float *col = patches.data() + t * chunkRows * width;
    float *acc = partials.data() + t * width * F;
    if (begin == end)
      std::fill(acc, acc + width * F, 0.0f);
    for (int64_t r = begin; r < end; r += chunkRows) {
      int64_t n = std::min(chunkRows, end - r);
      im2col(x, r, n, col);
      sgemm(true, false, width, F, n, 1.0f, col, width, dy + r * F, F, r == begin ? 0.0f : 1.0f,
            acc, F);
    }
  }
  const float *first = partials.data();
#pragma omp simd
  for (int64_t i = 0; i < KK * F; ++i)
    dk[i] = first[i];
  if (db)
    std::copy(first + KK * F, first + width * F, db);
  for (int t = 1; t < used; ++t) {
    const float *part = partials.data() + t * width * F;
#pragma omp simd
    for (int64_t i = 0; i < KK * F; ++i)
      dk[i] += part[i];
    if (db)
      for (int64_t f = 0; f < F; ++f)
        db[f] += part[KK * F + f];
  }
}

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
    if (!oneDnnPostOp(m.epilogue.activation))
      unary(m.epilogue.activation, y.f32(), y.f32(), y.numel(), m.epilogue.slope);
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
  // No oneDNN here: the only exception possible is the buffers' bad_alloc.
  return guarded("conv2d backward kernel", [&] {
    m.kernelGrad(x.f32(), dy.f32(), dkernel.f32(), dbias ? dbias->f32() : nullptr);
    return okStatus();
  });
}

} // namespace dlc::rt::cpu
