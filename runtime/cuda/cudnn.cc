//===- cudnn.cc - cuDNN, loaded at run time, for "convolution" calls ------===//
#include "runtime/cuda/cudnn.h"

#include "runtime/cuda/cudnn_api.h"
#include "runtime/cuda/toolkit_library.h"

#include <dlfcn.h>

#include <mutex>
#include <vector>

namespace dlc::rt::cuda {

using namespace api;

struct Cudnn::Symbols {
#define DLC_CUDNN_SYMBOL(ret, name, params) ret(*name) params = nullptr;
#include "runtime/cuda/cudnn_symbols.inc"
  cudnnHandle_t handle = nullptr; // made on first use, never destroyed
  std::mutex mutex;
};

struct Cudnn::Plan {
  const Symbols *symbols = nullptr;
  ConvolutionCall call;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  // The filter as the convolution reads it ([k, r, s, c]) and, for the
  // transposes, as a tensor in each layout.
  cudnnFilterDescriptor_t filter = nullptr;
  cudnnTensorDescriptor_t filterHwio = nullptr, filterKrsc = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnActivationDescriptor_t relu = nullptr;
  int algo = 0;
  size_t workspaceBytes = 0;
};

namespace {

struct Loaded {
  Status status;
  Cudnn::Symbols symbols;
  std::string path;
};

Loaded *loadOnce() {
  auto *loaded = new Loaded; // immortal, like the library
  std::string tried;
  void *handle =
      openFirstLibrary(toolkitLibraryCandidates("DLC_CUDNN_LIBRARY", {"libcudnn.so.9"}), &loaded->path, &tried);
  if (!handle) {
    loaded->status = DLC_MAKE_STATUS(StatusCode::kUnavailable,
                                     "cuDNN not found (the bundle calls it for its convolutions; install "
                                     "cuDNN 9, or recompile with --kernels generated); tried:" + tried);
    return loaded;
  }
#define DLC_CUDNN_SYMBOL(ret, name, params)                                                        \
  loaded->symbols.name = reinterpret_cast<ret(*) params>(::dlsym(handle, #name));                  \
  if (!loaded->symbols.name) {                                                                     \
    loaded->status = DLC_MAKE_STATUS(StatusCode::kUnavailable,                                     \
                                     loaded->path + " lacks " #name ": cuDNN too old (need 9)");   \
    return loaded;                                                                                 \
  }
#include "runtime/cuda/cudnn_symbols.inc"
  return loaded;
}

std::string statusText(const Cudnn::Symbols &s, cudnnStatus_t r) {
  const char *name = s.cudnnGetErrorString ? s.cudnnGetErrorString(r) : nullptr;
  std::string text = std::string(name ? name : "CUDNN_STATUS") + " (" + std::to_string(r) + ")";
  if (s.cudnnGetLastErrorString) {
    char detail[512] = {};
    s.cudnnGetLastErrorString(detail, sizeof detail);
    if (detail[0])
      text += ": " + std::string(detail);
  }
  return text;
}

cudnnDataType_t dataType(DType t) {
  return t == DType::kF16 ? CUDNN_DATA_HALF : t == DType::kBF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
}

void *pointer(DevicePtr p) { return reinterpret_cast<void *>(uintptr_t(p)); }

// Tensor descriptors take int sizes.
constexpr size_t kIntLimitForTensors = (size_t(1) << 31) - 1;

} // namespace

#define DLC_CUDNN_CHECK(symbols, expr, call)                                                       \
  do {                                                                                             \
    const cudnnStatus_t dlc_r_ = (expr);                                                           \
    if (dlc_r_ != CUDNN_STATUS_SUCCESS)                                                            \
      return DLC_MAKE_STATUS(StatusCode::kInternal, std::string(call) + ": " + statusText(symbols, dlc_r_)); \
  } while (0)

Status Cudnn::instance(const Cudnn **out) {
  static Loaded *loaded = loadOnce();
  static Cudnn *instance = nullptr;
  if (!loaded->status.ok())
    return loaded->status;
  if (!instance) {
    instance = new Cudnn; // immortal
    instance->symbols_ = &loaded->symbols;
    instance->path_ = loaded->path;
  }
  *out = instance;
  return okStatus();
}

std::string Cudnn::describe() const {
  return "cuDNN " + std::to_string(symbols_->cudnnGetVersion()) + " (" + path_ + ")";
}

void Cudnn::PlanDeleter::operator()(Plan *plan) const {
  if (!plan)
    return;
  const Symbols &s = *plan->symbols;
  for (cudnnTensorDescriptor_t t : {plan->x, plan->y, plan->bias, plan->filterHwio, plan->filterKrsc})
    if (t)
      s.cudnnDestroyTensorDescriptor(t);
  if (plan->filter)
    s.cudnnDestroyFilterDescriptor(plan->filter);
  if (plan->conv)
    s.cudnnDestroyConvolutionDescriptor(plan->conv);
  if (plan->relu)
    s.cudnnDestroyActivationDescriptor(plan->relu);
  delete plan;
}

namespace {
/// cuDNN's one handle, made the first time a call is prepared (on the
/// context current then).
Status createHandleOnce(Cudnn::Symbols &s) {
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.handle)
    DLC_CUDNN_CHECK(s, s.cudnnCreate(&s.handle), "cudnnCreate");
  return okStatus();
}
} // namespace

Status Cudnn::plan(const ConvolutionCall &c, size_t workspaceBytes, PlanPtr *out) const {
  Symbols &s = const_cast<Symbols &>(*symbols_);
  DLC_RETURN_IF_ERROR(createHandleOnce(s), "");
  PlanPtr plan(new Plan);
  plan->symbols = &s;
  plan->call = c;
  const cudnnDataType_t type = dataType(c.type);
  // parseConvolution keeps every size and element count below 2^31.
  const int n = int(c.n), h = int(c.h), w = int(c.w), ch = int(c.c), k = int(c.k), r = int(c.r),
            sw = int(c.s), p = int(c.p), q = int(c.q);
  DLC_CUDNN_CHECK(s, s.cudnnCreateTensorDescriptor(&plan->x), "cudnnCreateTensorDescriptor");
  DLC_CUDNN_CHECK(s, s.cudnnSetTensor4dDescriptor(plan->x, CUDNN_TENSOR_NHWC, type, n, ch, h, w),
                  "cudnnSetTensor4dDescriptor(input)");
  DLC_CUDNN_CHECK(s, s.cudnnCreateTensorDescriptor(&plan->y), "cudnnCreateTensorDescriptor");
  DLC_CUDNN_CHECK(s, s.cudnnSetTensor4dDescriptor(plan->y, CUDNN_TENSOR_NHWC, type, n, k, p, q),
                  "cudnnSetTensor4dDescriptor(output)");
  DLC_CUDNN_CHECK(s, s.cudnnCreateFilterDescriptor(&plan->filter), "cudnnCreateFilterDescriptor");
  DLC_CUDNN_CHECK(s, s.cudnnSetFilter4dDescriptor(plan->filter, type, CUDNN_TENSOR_NHWC, k, ch, r, sw),
                  "cudnnSetFilter4dDescriptor");
  // The filter's two layouts as tensors of dims (k, c, r, s): HWIO by its
  // strides, and [k, r, s, c] packed.
  DLC_CUDNN_CHECK(s, s.cudnnCreateTensorDescriptor(&plan->filterHwio), "cudnnCreateTensorDescriptor");
  DLC_CUDNN_CHECK(s, s.cudnnSetTensor4dDescriptorEx(plan->filterHwio, type, k, ch, r, sw, 1, k, sw * ch * k, ch * k),
                  "cudnnSetTensor4dDescriptorEx(HWIO filter)");
  DLC_CUDNN_CHECK(s, s.cudnnCreateTensorDescriptor(&plan->filterKrsc), "cudnnCreateTensorDescriptor");
  DLC_CUDNN_CHECK(s, s.cudnnSetTensor4dDescriptor(plan->filterKrsc, CUDNN_TENSOR_NHWC, type, k, ch, r, sw),
                  "cudnnSetTensor4dDescriptor(KRSC filter)");
  if (c.bias) {
    DLC_CUDNN_CHECK(s, s.cudnnCreateTensorDescriptor(&plan->bias), "cudnnCreateTensorDescriptor");
    DLC_CUDNN_CHECK(s, s.cudnnSetTensor4dDescriptor(plan->bias, CUDNN_TENSOR_NHWC, type, 1, k, 1, 1),
                    "cudnnSetTensor4dDescriptor(bias)");
  }
  if (c.epilogue == ConvolutionEpilogue::kRelu) {
    DLC_CUDNN_CHECK(s, s.cudnnCreateActivationDescriptor(&plan->relu), "cudnnCreateActivationDescriptor");
    DLC_CUDNN_CHECK(s, s.cudnnSetActivationDescriptor(plan->relu, CUDNN_ACTIVATION_RELU, CUDNN_PROPAGATE_NAN, 0.0),
                    "cudnnSetActivationDescriptor");
  }
  DLC_CUDNN_CHECK(s, s.cudnnCreateConvolutionDescriptor(&plan->conv), "cudnnCreateConvolutionDescriptor");
  DLC_CUDNN_CHECK(s, s.cudnnSetConvolution2dDescriptor(plan->conv, int(c.padH), int(c.padW), int(c.strideH),
                                                       int(c.strideW), int(c.dilationH), int(c.dilationW),
                                                       CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                  "cudnnSetConvolution2dDescriptor");
  // f32 in FMA math unless the call allows TF32: cuDNN's default math
  // allows it from Ampere on (what PyTorch's allow_tf32 selects).
  const bool f32 = c.type == DType::kF32 && !c.tf32;
  const cudnnMathType_t requested = f32 ? CUDNN_FMA_MATH : c.tf32 ? CUDNN_DEFAULT_MATH : CUDNN_TENSOR_OP_MATH;
  DLC_CUDNN_CHECK(s, s.cudnnSetConvolutionMathType(plan->conv, requested), "cudnnSetConvolutionMathType");
  constexpr int kCandidates = 16;
  cudnnConvolutionAlgoPerf_t found[kCandidates] = {};
  int count = 0;
  switch (c.direction) {
  case ConvolutionDirection::kForward:
    DLC_CUDNN_CHECK(s, s.cudnnGetConvolutionForwardAlgorithm_v7(s.handle, plan->x, plan->filter, plan->conv, plan->y,
                                                                kCandidates, &count, found),
                    "cudnnGetConvolutionForwardAlgorithm_v7");
    break;
  case ConvolutionDirection::kGradInput:
    DLC_CUDNN_CHECK(s, s.cudnnGetConvolutionBackwardDataAlgorithm_v7(s.handle, plan->filter, plan->y, plan->conv,
                                                                     plan->x, kCandidates, &count, found),
                    "cudnnGetConvolutionBackwardDataAlgorithm_v7");
    break;
  case ConvolutionDirection::kGradKernel:
    DLC_CUDNN_CHECK(s, s.cudnnGetConvolutionBackwardFilterAlgorithm_v7(s.handle, plan->x, plan->y, plan->conv,
                                                                       plan->filter, kCandidates, &count, found),
                    "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
    break;
  }
  // The heuristic's order, best first: the first that runs, fits and (when
  // asked) sums in a fixed order. Its math type is the one it was ranked
  // in, except that f32 without tf32 stays in FMA math whatever cuDNN
  // proposes.
  for (int i = 0; i < count && i < kCandidates; ++i) {
    const cudnnConvolutionAlgoPerf_t &candidate = found[i];
    if (candidate.status != CUDNN_STATUS_SUCCESS || (c.deterministic && candidate.determinism != CUDNN_DETERMINISTIC))
      continue;
    const cudnnMathType_t math = f32 ? CUDNN_FMA_MATH : candidate.mathType;
    DLC_CUDNN_CHECK(s, s.cudnnSetConvolutionMathType(plan->conv, math), "cudnnSetConvolutionMathType");
    size_t need = 0;
    cudnnStatus_t sized =
        c.direction == ConvolutionDirection::kForward
            ? s.cudnnGetConvolutionForwardWorkspaceSize(s.handle, plan->x, plan->filter, plan->conv, plan->y,
                                                        candidate.algo, &need)
        : c.direction == ConvolutionDirection::kGradInput
            ? s.cudnnGetConvolutionBackwardDataWorkspaceSize(s.handle, plan->filter, plan->y, plan->conv, plan->x,
                                                             candidate.algo, &need)
            : s.cudnnGetConvolutionBackwardFilterWorkspaceSize(s.handle, plan->x, plan->y, plan->conv,
                                                               plan->filter, candidate.algo, &need);
    if (sized != CUDNN_STATUS_SUCCESS || need > workspaceBytes)
      continue;
    plan->algo = candidate.algo;
    plan->workspaceBytes = need;
    *out = std::move(plan);
    return okStatus();
  }
  return DLC_MAKE_STATUS(StatusCode::kUnavailable,
                         std::string("cuDNN has no algorithm for this convolution's ") +
                             convolutionDirectionName(c.direction) + " (" + std::to_string(c.n) + "x" +
                             std::to_string(c.h) + "x" + std::to_string(c.w) + "x" + std::to_string(c.c) + " by " +
                             std::to_string(c.r) + "x" + std::to_string(c.s) + "x" + std::to_string(c.k) +
                             (c.deterministic ? ", deterministic" : "") + ") within " +
                             std::to_string(workspaceBytes) + " bytes of workspace; recompile with --kernels generated");
}

Status Cudnn::run(const Plan &plan, const ConvolutionBuffers<DevicePtr> &b, DevicePtr workspace,
                  void *stream) const {
  const Symbols &s = *symbols_;
  const ConvolutionCall &c = plan.call;
  DLC_CUDNN_CHECK(s, s.cudnnSetStream(s.handle, static_cast<cudaStream_t>(stream)), "cudnnSetStream");
  const float one = 1.0f, zero = 0.0f;
  void *space = pointer(workspace);
  switch (c.direction) {
  case ConvolutionDirection::kForward:
    DLC_CUDNN_CHECK(s, s.cudnnTransformTensor(s.handle, &one, plan.filterHwio, pointer(b.filter), &zero,
                                              plan.filterKrsc, pointer(b.scratch)),
                    "cudnnTransformTensor(filter to KRSC)");
    DLC_CUDNN_CHECK(s, s.cudnnConvolutionForward(s.handle, &one, plan.x, pointer(b.input), plan.filter,
                                                 pointer(b.scratch), plan.conv, plan.algo, space, plan.workspaceBytes,
                                                 &zero, plan.y, pointer(b.output)),
                    "cudnnConvolutionForward");
    if (c.bias)
      DLC_CUDNN_CHECK(s, s.cudnnAddTensor(s.handle, &one, plan.bias, pointer(b.bias), &one, plan.y, pointer(b.output)),
                      "cudnnAddTensor(bias)");
    if (plan.relu)
      DLC_CUDNN_CHECK(s, s.cudnnActivationForward(s.handle, plan.relu, &one, plan.y, pointer(b.output), &zero, plan.y,
                                                  pointer(b.output)),
                      "cudnnActivationForward(relu)");
    return okStatus();
  case ConvolutionDirection::kGradInput:
    DLC_CUDNN_CHECK(s, s.cudnnTransformTensor(s.handle, &one, plan.filterHwio, pointer(b.filter), &zero,
                                              plan.filterKrsc, pointer(b.scratch)),
                    "cudnnTransformTensor(filter to KRSC)");
    DLC_CUDNN_CHECK(s, s.cudnnConvolutionBackwardData(s.handle, &one, plan.filter, pointer(b.scratch), plan.y,
                                                      pointer(b.output), plan.conv, plan.algo, space,
                                                      plan.workspaceBytes, &zero, plan.x, pointer(b.input)),
                    "cudnnConvolutionBackwardData");
    return okStatus();
  case ConvolutionDirection::kGradKernel:
    DLC_CUDNN_CHECK(s, s.cudnnConvolutionBackwardFilter(s.handle, &one, plan.x, pointer(b.input), plan.y,
                                                        pointer(b.output), plan.conv, plan.algo, space,
                                                        plan.workspaceBytes, &zero, plan.filter, pointer(b.scratch)),
                    "cudnnConvolutionBackwardFilter");
    DLC_CUDNN_CHECK(s, s.cudnnTransformTensor(s.handle, &one, plan.filterKrsc, pointer(b.scratch), &zero,
                                              plan.filterHwio, pointer(b.filter)),
                    "cudnnTransformTensor(filter gradient to HWIO)");
    return okStatus();
  }
  return okStatus();
}

struct Cudnn::LstmPlan {
  const Symbols *symbols = nullptr;
  LstmCall call;
  cudnnRNNDescriptor_t rnn = nullptr;
  cudnnDropoutDescriptor_t dropout = nullptr;
  cudnnRNNDataDescriptor_t x = nullptr, y = nullptr;
  cudnnTensorDescriptor_t state = nullptr; // h and c: [1, n, u]
  // Our weights as strided views of one gate's columns, cuDNN's packed:
  // input [u, f], recurrent [u, u], bias [u].
  cudnnTensorDescriptor_t inputView = nullptr, recurrentView = nullptr, inputPacked = nullptr,
                          recurrentPacked = nullptr, gateBias = nullptr;
  cudnnTensorDescriptor_t lengths = nullptr, sequence = nullptr, weights = nullptr; // for cudnnSetTensor
  size_t weightBytes = 0, workBytes = 0, reserveBytes = 0;
  // Byte offsets in the weight space of each gate's matrix (0-3 input,
  // 4-7 recurrent) and bias (0-3).
  size_t matrixAt[8] = {}, biasAt[4] = {};
  // The plan's device memory: weight space, its gradient, work and reserve
  // space, the full output and its gradient (when the call's are not), and
  // each sequence's length.
  DevicePtr weightSpace = 0, weightGrad = 0, work = 0, reserve = 0, fullY = 0, fullDy = 0, seqLengths = 0;
  DevicePtr dx = 0; // where cuDNN writes dx when the call has none
};

void Cudnn::LstmPlanDeleter::operator()(LstmPlan *plan) const {
  if (!plan)
    return;
  const Symbols &s = *plan->symbols;
  for (cudnnTensorDescriptor_t t : {plan->state, plan->inputView, plan->recurrentView, plan->inputPacked,
                                    plan->recurrentPacked, plan->gateBias, plan->lengths, plan->sequence,
                                    plan->weights})
    if (t)
      s.cudnnDestroyTensorDescriptor(t);
  for (cudnnRNNDataDescriptor_t d : {plan->x, plan->y})
    if (d)
      s.cudnnDestroyRNNDataDescriptor(d);
  if (plan->rnn)
    s.cudnnDestroyRNNDescriptor(plan->rnn);
  if (plan->dropout)
    s.cudnnDestroyDropoutDescriptor(plan->dropout);
  delete plan;
}

Status Cudnn::planLstm(const LstmCall &c, const Allocate &allocate, LstmPlanPtr *out) const {
  Symbols &s = const_cast<Symbols &>(*symbols_);
  DLC_RETURN_IF_ERROR(createHandleOnce(s), "");
  LstmPlanPtr plan(new LstmPlan);
  plan->symbols = &s;
  plan->call = c;
  const cudnnDataType_t type = dataType(c.type);
  // parseLstm keeps every size and element count below 2^31.
  const int n = int(c.n), t = int(c.t), f = int(c.f), u = int(c.u), g = 4 * u;
  DLC_CUDNN_CHECK(s, s.cudnnCreateDropoutDescriptor(&plan->dropout), "cudnnCreateDropoutDescriptor");
  DLC_CUDNN_CHECK(s, s.cudnnSetDropoutDescriptor(plan->dropout, s.handle, 0.0f, nullptr, 0, 0),
                  "cudnnSetDropoutDescriptor(no dropout)");
  DLC_CUDNN_CHECK(s, s.cudnnCreateRNNDescriptor(&plan->rnn), "cudnnCreateRNNDescriptor");
  DLC_CUDNN_CHECK(s, s.cudnnSetRNNDescriptor_v8(plan->rnn, CUDNN_RNN_ALGO_STANDARD, CUDNN_LSTM,
                                                c.bias ? CUDNN_RNN_SINGLE_INP_BIAS : CUDNN_RNN_NO_BIAS,
                                                CUDNN_UNIDIRECTIONAL, CUDNN_LINEAR_INPUT, type, CUDNN_DATA_FLOAT,
                                                c.type == DType::kF32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH, f, u,
                                                u, 1, plan->dropout, kRnnPaddedIoDisabled),
                  "cudnnSetRNNDescriptor_v8");
  std::vector<int> lengths(size_t(n), t);
  for (auto [desc, width] : {std::pair{&plan->x, f}, std::pair{&plan->y, u}}) {
    DLC_CUDNN_CHECK(s, s.cudnnCreateRNNDataDescriptor(desc), "cudnnCreateRNNDataDescriptor");
    DLC_CUDNN_CHECK(s, s.cudnnSetRNNDataDescriptor(*desc, type, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED, t, n,
                                                   width, lengths.data(), nullptr),
                    "cudnnSetRNNDataDescriptor");
  }
  // 4-D, as cudnnTransformTensor and cudnnSetTensor take them (a leading 1
  // before our 3 dimensions); the RNN's state descriptor is 3-D.
  auto tensor = [&](cudnnTensorDescriptor_t *desc, cudnnDataType_t dtype, std::vector<int> dims,
                    std::vector<int> strides) -> cudnnStatus_t {
    if (desc != &plan->state) {
      dims.insert(dims.begin(), 1);
      strides.insert(strides.begin(), strides.front() * dims[1]);
    }
    cudnnStatus_t r = s.cudnnCreateTensorDescriptor(desc);
    return r != CUDNN_STATUS_SUCCESS ? r
                                     : s.cudnnSetTensorNdDescriptor(*desc, dtype, int(dims.size()), dims.data(),
                                                                    strides.data());
  };
  DLC_CUDNN_CHECK(s, tensor(&plan->state, type, {1, n, u}, {n * u, u, 1}), "the state's descriptor");
  DLC_CUDNN_CHECK(s, tensor(&plan->inputView, type, {1, u, f}, {u * f, 1, g}), "the kernel's descriptor");
  DLC_CUDNN_CHECK(s, tensor(&plan->recurrentView, type, {1, u, u}, {u * u, 1, g}), "the recurrent kernel's descriptor");
  DLC_CUDNN_CHECK(s, tensor(&plan->inputPacked, type, {1, u, f}, {u * f, f, 1}), "a gate matrix's descriptor");
  DLC_CUDNN_CHECK(s, tensor(&plan->recurrentPacked, type, {1, u, u}, {u * u, u, 1}), "a gate matrix's descriptor");
  DLC_CUDNN_CHECK(s, tensor(&plan->gateBias, type, {1, u, 1}, {u, 1, 1}), "a gate bias's descriptor");
  DLC_CUDNN_CHECK(s, tensor(&plan->lengths, CUDNN_DATA_INT32, {1, n, 1}, {n, 1, 1}), "the lengths' descriptor");
  DLC_CUDNN_CHECK(s, tensor(&plan->sequence, type, {1, n * t, u}, {n * t * u, u, 1}), "the output's descriptor");
  DLC_CUDNN_CHECK(s, s.cudnnGetRNNWeightSpaceSize(s.handle, plan->rnn, &plan->weightBytes),
                  "cudnnGetRNNWeightSpaceSize");
  const size_t elementBytes = dtypeSize(c.type);
  if (plan->weightBytes % elementBytes != 0 || plan->weightBytes / elementBytes > size_t(kIntLimitForTensors))
    return DLC_MAKE_STATUS(StatusCode::kInternal, "cuDNN's LSTM weight space of " +
                                                      std::to_string(plan->weightBytes) + " bytes is not a tensor");
  DLC_CUDNN_CHECK(s, tensor(&plan->weights, type, {1, int(plan->weightBytes / elementBytes), 1},
                            {int(plan->weightBytes / elementBytes), 1, 1}),
                  "the weight space's descriptor");
  DLC_CUDNN_CHECK(s, s.cudnnGetRNNTempSpaceSizes(s.handle, plan->rnn,
                                                 c.grad ? CUDNN_FWD_MODE_TRAINING : CUDNN_FWD_MODE_INFERENCE, plan->x,
                                                 &plan->workBytes, &plan->reserveBytes),
                  "cudnnGetRNNTempSpaceSizes");
  // The plan's memory, in one allocation of 256-byte aligned parts.
  const size_t sequenceBytes = size_t(n) * size_t(t) * size_t(u) * elementBytes;
  std::vector<std::pair<DevicePtr *, size_t>> parts = {{&plan->weightSpace, plan->weightBytes},
                                                       {&plan->work, plan->workBytes},
                                                       {&plan->seqLengths, size_t(n) * sizeof(int32_t)}};
  if (c.grad)
    parts.insert(parts.end(), {{&plan->weightGrad, plan->weightBytes}, {&plan->reserve, plan->reserveBytes}});
  if (c.grad || !c.sequences)
    parts.push_back({&plan->fullY, sequenceBytes});
  if (c.grad && !c.sequences)
    parts.push_back({&plan->fullDy, sequenceBytes});
  if (c.grad && !c.dx)
    parts.push_back({&plan->dx, size_t(n) * size_t(t) * size_t(f) * elementBytes});
  auto aligned = [](size_t bytes) { return (bytes + 255) / 256 * 256; };
  size_t total = 0;
  for (const auto &[at, bytes] : parts)
    total += aligned(bytes);
  DevicePtr base = 0;
  DLC_RETURN_IF_ERROR(allocate(total, &base), "the LSTM's cuDNN memory");
  for (const auto &[at, bytes] : parts) {
    *at = base;
    base += aligned(bytes);
  }
  // Where each gate's matrix and bias lie: offsets in any weight space.
  cudnnTensorDescriptor_t matrix = nullptr, bias = nullptr;
  DLC_CUDNN_CHECK(s, s.cudnnCreateTensorDescriptor(&matrix), "cudnnCreateTensorDescriptor");
  cudnnStatus_t made = s.cudnnCreateTensorDescriptor(&bias);
  Status located = okStatus();
  for (int id = 0; id < 8 && made == CUDNN_STATUS_SUCCESS && located.ok(); ++id) {
    void *matrixAddress = nullptr, *biasAddress = nullptr;
    void *space = pointer(plan->weightSpace);
    cudnnStatus_t r = s.cudnnGetRNNWeightParams(s.handle, plan->rnn, 0, plan->weightBytes, space, id, matrix,
                                                &matrixAddress, bias, &biasAddress);
    auto offset = [&](void *address, size_t bytes, size_t *at) {
      const uintptr_t begin = uintptr_t(space), p = uintptr_t(address);
      if (!address || p < begin || p + bytes > begin + plan->weightBytes)
        return false;
      *at = p - begin;
      return true;
    };
    const size_t matrixBytes = size_t(u) * size_t(id < 4 ? f : u) * elementBytes;
    if (r != CUDNN_STATUS_SUCCESS)
      located = DLC_MAKE_STATUS(StatusCode::kInternal, "cudnnGetRNNWeightParams: " + statusText(s, r));
    else if (!offset(matrixAddress, matrixBytes, &plan->matrixAt[id]) ||
             (c.bias && id < 4 && !offset(biasAddress, size_t(u) * elementBytes, &plan->biasAt[id])))
      located = DLC_MAKE_STATUS(StatusCode::kInternal,
                                "cuDNN's LSTM weight space does not hold gate " + std::to_string(id) +
                                    " where this runtime expects it");
  }
  if (matrix)
    s.cudnnDestroyTensorDescriptor(matrix);
  if (bias)
    s.cudnnDestroyTensorDescriptor(bias);
  DLC_CUDNN_CHECK(s, made, "cudnnCreateTensorDescriptor");
  DLC_RETURN_IF_ERROR(located, "");
  *out = std::move(plan);
  return okStatus();
}

Status Cudnn::runLstm(const LstmPlan &plan, const LstmBuffers<DevicePtr> &b, void *stream) const {
  const Symbols &s = *symbols_;
  const LstmCall &c = plan.call;
  DLC_CUDNN_CHECK(s, s.cudnnSetStream(s.handle, static_cast<cudaStream_t>(stream)), "cudnnSetStream");
  const float one = 1.0f, zero = 0.0f;
  const size_t elementBytes = dtypeSize(c.type), gateColumns = size_t(c.u) * elementBytes;
  const int32_t steps = int32_t(c.t);
  DLC_CUDNN_CHECK(s, s.cudnnSetTensor(s.handle, plan.lengths, pointer(plan.seqLengths), &steps),
                  "cudnnSetTensor(sequence lengths)");
  // Our [f | u, 4u] kernels: gate j's columns are cuDNN's [u, f | u] matrix j.
  for (int gate = 0; gate < 4; ++gate) {
    DLC_CUDNN_CHECK(s, s.cudnnTransformTensor(s.handle, &one, plan.inputView, pointer(b.kernel + gate * gateColumns),
                                              &zero, plan.inputPacked, pointer(plan.weightSpace + plan.matrixAt[gate])),
                    "cudnnTransformTensor(kernel)");
    DLC_CUDNN_CHECK(s, s.cudnnTransformTensor(s.handle, &one, plan.recurrentView,
                                              pointer(b.recurrent + gate * gateColumns), &zero, plan.recurrentPacked,
                                              pointer(plan.weightSpace + plan.matrixAt[4 + gate])),
                    "cudnnTransformTensor(recurrent kernel)");
    if (c.bias)
      DLC_CUDNN_CHECK(s, s.cudnnTransformTensor(s.handle, &one, plan.gateBias, pointer(b.bias + gate * gateColumns),
                                                &zero, plan.gateBias, pointer(plan.weightSpace + plan.biasAt[gate])),
                      "cudnnTransformTensor(bias)");
  }
  const int32_t *lengths = static_cast<const int32_t *>(pointer(plan.seqLengths));
  // Every step's h: the call's output, or the plan's when the call keeps the last only.
  const DevicePtr y = c.grad || !c.sequences ? plan.fullY : b.y;
  DLC_CUDNN_CHECK(s, s.cudnnRNNForward(s.handle, plan.rnn, c.grad ? CUDNN_FWD_MODE_TRAINING : CUDNN_FWD_MODE_INFERENCE,
                                       lengths, plan.x, pointer(b.x), plan.y, pointer(y), plan.state, nullptr,
                                       !c.grad && !c.sequences ? pointer(b.y) : nullptr, plan.state, nullptr, nullptr,
                                       plan.weightBytes, pointer(plan.weightSpace), plan.workBytes, pointer(plan.work),
                                       plan.reserveBytes, c.grad ? pointer(plan.reserve) : nullptr),
                  "cudnnRNNForward");
  if (!c.grad)
    return okStatus();
  // dy of every step (zeros but the last's, which is dhy, for the last only).
  if (!c.sequences)
    DLC_CUDNN_CHECK(s, s.cudnnSetTensor(s.handle, plan.sequence, pointer(plan.fullDy), &zero),
                    "cudnnSetTensor(dy)");
  DLC_CUDNN_CHECK(s, s.cudnnRNNBackwardData_v8(s.handle, plan.rnn, lengths, plan.y, pointer(plan.fullY),
                                               pointer(c.sequences ? b.y : plan.fullDy), plan.x,
                                               pointer(c.dx ? b.dx : plan.dx),
                                               plan.state, nullptr, c.sequences ? nullptr : pointer(b.y), nullptr,
                                               plan.state, nullptr, nullptr, nullptr, plan.weightBytes,
                                               pointer(plan.weightSpace), plan.workBytes, pointer(plan.work),
                                               plan.reserveBytes, pointer(plan.reserve)),
                  "cudnnRNNBackwardData_v8");
  // The weight gradients add into their space (cuDNN 9 offers no other mode).
  DLC_CUDNN_CHECK(s, s.cudnnSetTensor(s.handle, plan.weights, pointer(plan.weightGrad), &zero),
                  "cudnnSetTensor(weight gradients)");
  DLC_CUDNN_CHECK(s, s.cudnnRNNBackwardWeights_v8(s.handle, plan.rnn, CUDNN_WGRAD_MODE_ADD, lengths, plan.x,
                                                  pointer(b.x), plan.state, nullptr, plan.y, pointer(plan.fullY),
                                                  plan.weightBytes, pointer(plan.weightGrad), plan.workBytes,
                                                  pointer(plan.work), plan.reserveBytes, pointer(plan.reserve)),
                  "cudnnRNNBackwardWeights_v8");
  for (int gate = 0; gate < 4; ++gate) {
    DLC_CUDNN_CHECK(s, s.cudnnTransformTensor(s.handle, &one, plan.inputPacked,
                                              pointer(plan.weightGrad + plan.matrixAt[gate]), &zero, plan.inputView,
                                              pointer(b.dkernel + gate * gateColumns)),
                    "cudnnTransformTensor(kernel gradient)");
    DLC_CUDNN_CHECK(s, s.cudnnTransformTensor(s.handle, &one, plan.recurrentPacked,
                                              pointer(plan.weightGrad + plan.matrixAt[4 + gate]), &zero,
                                              plan.recurrentView, pointer(b.drecurrent + gate * gateColumns)),
                    "cudnnTransformTensor(recurrent kernel gradient)");
    if (c.bias)
      DLC_CUDNN_CHECK(s, s.cudnnTransformTensor(s.handle, &one, plan.gateBias,
                                                pointer(plan.weightGrad + plan.biasAt[gate]), &zero, plan.gateBias,
                                                pointer(b.dbias + gate * gateColumns)),
                      "cudnnTransformTensor(bias gradient)");
  }
  return okStatus();
}

} // namespace dlc::rt::cuda
