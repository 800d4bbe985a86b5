//===- cublaslt.cc - cuBLASLt, loaded at run time, for "matmul" calls -----===//
#include "runtime/cuda/cublaslt.h"

#include "runtime/cuda/cublaslt_api.h"
#include "runtime/cuda/toolkit_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <vector>

namespace dlc::rt::cuda {

using namespace api;

struct CublasLt::Symbols {
#define DLC_CUBLASLT_SYMBOL(ret, name, params) ret(*name) params = nullptr;
#include "runtime/cuda/cublaslt_symbols.inc"
  cublasLtHandle_t handle = nullptr; // made on first use, never destroyed
  std::mutex mutex;
};

struct CublasLt::Plan {
  const Symbols *symbols = nullptr;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
  bool bias = false;
};

namespace {

struct Loaded {
  Status status;
  CublasLt::Symbols symbols;
  std::string path;
};

Loaded *loadOnce() {
  auto *loaded = new Loaded; // immortal, like the library
  std::string tried;
  void *handle = openFirstLibrary(
      toolkitLibraryCandidates("DLC_CUBLASLT_LIBRARY", {"libcublasLt.so.13", "libcublasLt.so.12"}), &loaded->path,
      &tried);
  if (!handle) {
    loaded->status = DLC_MAKE_STATUS(StatusCode::kUnavailable,
                                     "cuBLASLt not found (the bundle calls it for its matrix products; "
                                     "install the CUDA toolkit's cuBLAS, or recompile with "
                                     "--kernels generated); tried:" + tried);
    return loaded;
  }
#define DLC_CUBLASLT_SYMBOL(ret, name, params)                                                     \
  loaded->symbols.name = reinterpret_cast<ret(*) params>(::dlsym(handle, #name));                  \
  if (!loaded->symbols.name) {                                                                     \
    loaded->status = DLC_MAKE_STATUS(StatusCode::kUnavailable,                                     \
                                     loaded->path + " lacks " #name ": cuBLASLt too old (need 12+)"); \
    return loaded;                                                                                 \
  }
#include "runtime/cuda/cublaslt_symbols.inc"
  return loaded;
}

std::string statusText(const CublasLt::Symbols &s, cublasStatus_t r) {
  const char *name = s.cublasLtGetStatusName ? s.cublasLtGetStatusName(r) : nullptr;
  const char *text = s.cublasLtGetStatusString ? s.cublasLtGetStatusString(r) : nullptr;
  return std::string(name ? name : "CUBLAS_STATUS") + " (" + std::to_string(r) + ")" +
         (text ? std::string(": ") + text : "");
}

cudaDataType dataType(DType t) {
  return t == DType::kF16 ? CUDA_R_16F : t == DType::kBF16 ? CUDA_R_16BF : CUDA_R_32F;
}

} // namespace

#define DLC_CUBLASLT_CHECK(symbols, expr, call)                                                    \
  do {                                                                                             \
    const cublasStatus_t dlc_r_ = (expr);                                                          \
    if (dlc_r_ != CUBLAS_STATUS_SUCCESS)                                                           \
      return DLC_MAKE_STATUS(StatusCode::kInternal, std::string(call) + ": " +                     \
                                                        statusText(symbols, dlc_r_));              \
  } while (0)

Status CublasLt::instance(const CublasLt **out) {
  static Loaded *loaded = loadOnce();
  static CublasLt *instance = nullptr;
  if (!loaded->status.ok())
    return loaded->status;
  if (!instance) {
    instance = new CublasLt; // immortal
    instance->symbols_ = &loaded->symbols;
    instance->path_ = loaded->path;
  }
  *out = instance;
  return okStatus();
}

std::string CublasLt::describe() const {
  return "cuBLASLt " + std::to_string(symbols_->cublasLtGetVersion()) + " (" + path_ + ")";
}

void CublasLt::PlanDeleter::operator()(Plan *plan) const {
  if (!plan)
    return;
  const Symbols &s = *plan->symbols;
  for (cublasLtMatrixLayout_t layout : {plan->a, plan->b, plan->d})
    if (layout)
      s.cublasLtMatrixLayoutDestroy(layout);
  if (plan->desc)
    s.cublasLtMatmulDescDestroy(plan->desc);
  delete plan;
}

Status CublasLt::plan(const MatmulCall &call, PlanPtr *out) const {
  auto &s = const_cast<Symbols &>(*symbols_);
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.handle)
      DLC_CUBLASLT_CHECK(s, s.cublasLtCreate(&s.handle), "cublasLtCreate");
  }
  PlanPtr plan(new Plan);
  plan->symbols = &s;
  plan->bias = call.bias;
  // Column-major D^T[n, m] = op(B)^T[n, k] op(A)^T[k, m] (cublaslt.h).
  const cublasOperation_t opA = call.transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t opB = call.transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  // TF32 tensor cores only where the program's precision policy allows them.
  const cublasComputeType_t compute = call.tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  DLC_CUBLASLT_CHECK(s, s.cublasLtMatmulDescCreate(&plan->desc, compute, CUDA_R_32F),
                     "cublasLtMatmulDescCreate");
  DLC_CUBLASLT_CHECK(s, s.cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSA, &opA, sizeof opA),
                     "cublasLtMatmulDescSetAttribute(TRANSA)");
  DLC_CUBLASLT_CHECK(s, s.cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSB, &opB, sizeof opB),
                     "cublasLtMatmulDescSetAttribute(TRANSB)");
  cublasLtEpilogue_t epilogue = call.epilogue == MatmulEpilogue::kRelu       ? CUBLASLT_EPILOGUE_RELU
                                : call.epilogue == MatmulEpilogue::kGeluTanh ? CUBLASLT_EPILOGUE_GELU
                                                                             : CUBLASLT_EPILOGUE_DEFAULT;
  if (call.bias) // RELU_BIAS and GELU_BIAS are the flags or'ed; DEFAULT (1) gives way to BIAS
    epilogue = (epilogue == CUBLASLT_EPILOGUE_DEFAULT ? 0 : epilogue) | CUBLASLT_EPILOGUE_BIAS;
  DLC_CUBLASLT_CHECK(s, s.cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                                         sizeof epilogue),
                     "cublasLtMatmulDescSetAttribute(EPILOGUE)");
  if (call.bias && call.biasType != call.d) {
    cudaDataType biasType = dataType(call.biasType);
    DLC_CUBLASLT_CHECK(s, s.cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE,
                                                           &biasType, sizeof biasType),
                       "cublasLtMatmulDescSetAttribute(BIAS_DATA_TYPE)");
  }
  const cudaDataType ab = dataType(call.ab), d = dataType(call.d);
  // cuBLASLt's A is our B: [k, n] row-major is n x k column-major (ld n);
  // transposed, [n, k] is k x n (ld k). Its B is our A likewise.
  auto layout = [&](cublasLtMatrixLayout_t *out, cudaDataType type, int64_t rows, int64_t cols) {
    return s.cublasLtMatrixLayoutCreate(out, type, uint64_t(rows), uint64_t(cols), rows);
  };
  DLC_CUBLASLT_CHECK(s, call.transB ? layout(&plan->a, ab, call.k, call.n) : layout(&plan->a, ab, call.n, call.k),
                     "cublasLtMatrixLayoutCreate(A)");
  DLC_CUBLASLT_CHECK(s, call.transA ? layout(&plan->b, ab, call.m, call.k) : layout(&plan->b, ab, call.k, call.m),
                     "cublasLtMatrixLayoutCreate(B)");
  DLC_CUBLASLT_CHECK(s, layout(&plan->d, d, call.n, call.m), "cublasLtMatrixLayoutCreate(D)");
  cublasLtMatmulPreference_t preference = nullptr;
  DLC_CUBLASLT_CHECK(s, s.cublasLtMatmulPreferenceCreate(&preference), "cublasLtMatmulPreferenceCreate");
  const size_t maxWorkspace = kLibraryWorkspaceBytes;
  cublasStatus_t set = s.cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                              &maxWorkspace, sizeof maxWorkspace);
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  cublasStatus_t heuristic =
      set != CUBLAS_STATUS_SUCCESS
          ? set
          : s.cublasLtMatmulAlgoGetHeuristic(s.handle, plan->desc, plan->a, plan->b, plan->d, plan->d, preference,
                                             1, &result, &found);
  s.cublasLtMatmulPreferenceDestroy(preference);
  DLC_CUBLASLT_CHECK(s, heuristic, "cublasLtMatmulAlgoGetHeuristic");
  if (found < 1)
    return DLC_MAKE_STATUS(StatusCode::kUnavailable,
                           "cuBLASLt has no algorithm for a " + std::to_string(call.m) + "x" +
                               std::to_string(call.n) + "x" + std::to_string(call.k) + " matmul with epilogue " +
                               matmulEpilogueName(call.epilogue) + "; recompile with --kernels generated");
  plan->algo = result.algo;
  *out = std::move(plan);
  return okStatus();
}

Status CublasLt::run(const Plan &plan, DevicePtr a, DevicePtr b, DevicePtr bias, DevicePtr d,
                     DevicePtr workspace, void *stream) const {
  const Symbols &s = *symbols_;
  if (plan.bias) {
    const void *pointer = reinterpret_cast<const void *>(uintptr_t(bias));
    DLC_CUBLASLT_CHECK(s, s.cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &pointer,
                                                           sizeof pointer),
                       "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
  }
  const float alpha = 1.0f, beta = 0.0f;
  auto *dPointer = reinterpret_cast<void *>(uintptr_t(d));
  DLC_CUBLASLT_CHECK(s, s.cublasLtMatmul(s.handle, plan.desc, &alpha, reinterpret_cast<const void *>(uintptr_t(b)),
                                         plan.a, reinterpret_cast<const void *>(uintptr_t(a)), plan.b, &beta, dPointer,
                                         plan.d, dPointer, plan.d, &plan.algo,
                                         reinterpret_cast<void *>(uintptr_t(workspace)), kLibraryWorkspaceBytes,
                                         static_cast<cudaStream_t>(stream)),
                     "cublasLtMatmul");
  return okStatus();
}

} // namespace dlc::rt::cuda
