//===- cuda_driver.cc - The CUDA driver API, loaded at run time -----------===//
#include "runtime/cuda/cuda_driver.h"

#include "runtime/cuda/cubin_info.h"
#include "runtime/cuda/cuda_api.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include <dlfcn.h>

namespace dlc::rt::cuda {
using namespace api;

struct CudaContext::Driver {
#define DLC_CU_SYMBOL(name, params) CUresult(*name) params = nullptr;
#include "runtime/cuda/cuda_symbols.inc"
  Status status; // of loading and cuInit
  std::string path;
};

struct CudaModule {
  CUmodule module = nullptr;
  std::string name;
};

namespace {
using Driver = CudaContext::Driver;

constexpr const char *kDriverSoname = "libcuda.so.1";

struct ErrorInfo {
  int code;
  const char *name, *text;
  StatusCode status;
};

// The driver's own cuGetErrorName is used when it works; this table covers
// the stub (which fails even that) and the codes whose Status class we
// choose. Everything not listed is kInternal.
constexpr ErrorInfo kErrors[] = {
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument", StatusCode::kInvalidArgument},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory", StatusCode::kUnavailable},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error", StatusCode::kUnavailable},
    {4, "CUDA_ERROR_DEINITIALIZED", "driver shutting down", StatusCode::kUnavailable},
    {34, "CUDA_ERROR_STUB_LIBRARY",
     "CUDA driver is a stub library (the toolkit's lib64/stubs/libcuda.so, not a driver)",
     StatusCode::kUnavailable},
    {36, "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER", "the driver is too old for this call",
     StatusCode::kUnavailable},
    {46, "CUDA_ERROR_DEVICE_UNAVAILABLE", "CUDA-capable device(s) busy or unavailable",
     StatusCode::kUnavailable},
    {100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected", StatusCode::kUnavailable},
    {101, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal", StatusCode::kInvalidArgument},
    {200, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid",
     StatusCode::kInvalidArgument},
    {201, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context", StatusCode::kInternal},
    {209, "CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for this device",
     StatusCode::kInvalidArgument},
    {218, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed", StatusCode::kInvalidArgument},
    {221, "CUDA_ERROR_JIT_COMPILER_NOT_FOUND", "PTX JIT compiler library not found",
     StatusCode::kUnavailable},
    {222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
     "the PTX was compiled by a toolchain newer than the driver", StatusCode::kUnavailable},
    {400, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle", StatusCode::kInvalidArgument},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found", StatusCode::kNotFound},
    {700, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered",
     StatusCode::kInternal},
    {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch",
     StatusCode::kInvalidArgument},
    {702, "CUDA_ERROR_LAUNCH_TIMEOUT", "the launch timed out", StatusCode::kInternal},
    {710, "CUDA_ERROR_ASSERT", "device-side assert triggered", StatusCode::kInternal},
    {719, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure", StatusCode::kInternal},
    {802, "CUDA_ERROR_SYSTEM_NOT_READY", "system not yet initialized", StatusCode::kUnavailable},
    {803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH", "driver and kernel module versions differ",
     StatusCode::kUnavailable},
    {912, "CUDA_ERROR_INVALID_CLUSTER_SIZE", "invalid cluster size", StatusCode::kInvalidArgument},
    {999, "CUDA_ERROR_UNKNOWN", "unknown error", StatusCode::kInternal},
};

const ErrorInfo *findError(int code) {
  for (const ErrorInfo &e : kErrors)
    if (e.code == code) return &e;
  return nullptr;
}

std::string errorText(const Driver *driver, CUresult r) {
  const char *name = nullptr, *text = nullptr;
  if (driver && driver->cuGetErrorName && driver->cuGetErrorName(r, &name) != CUDA_SUCCESS)
    name = nullptr;
  if (driver && driver->cuGetErrorString && driver->cuGetErrorString(r, &text) != CUDA_SUCCESS)
    text = nullptr;
  const ErrorInfo *known = findError(r);
  if (!name) name = known ? known->name : "CUDA_ERROR";
  if (!text) text = known ? known->text : "unrecognized error";
  return std::string(name) + " (" + std::to_string(r) + "): " + text;
}

StatusCode statusFor(CUresult r) {
  const ErrorInfo *known = findError(r);
  return known ? known->status : StatusCode::kInternal;
}

Status cuError(const Driver *driver, CUresult r, const std::string &call) {
  return DLC_MAKE_STATUS(statusFor(r), call + ": " + errorText(driver, r));
}

#define DLC_CU_CHECK(expr, call)                                                                   \
  do {                                                                                             \
    const CUresult dlc_cu_r_ = (expr);                                                             \
    if (dlc_cu_r_ != CUDA_SUCCESS) return cuError(driver_, dlc_cu_r_, (call));                     \
  } while (0)

/// Loads |name| once per process (a driver cannot be unloaded safely) and
/// runs cuInit; the result, good or bad, is remembered.
const Driver *loadDriver(const std::string &name) {
  static std::mutex mutex;
  static std::map<std::string, Driver *> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = loaded.find(name); it != loaded.end()) return it->second;
  auto *d = new Driver; // immortal, like the library
  loaded[name] = d;
  d->path = name;
  void *handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = ::dlerror();
    d->status = DLC_MAKE_STATUS(StatusCode::kUnavailable,
                                name + " not found: no NVIDIA driver on this machine (dlopen: " +
                                    (why ? why : "unknown error") + ")");
    return d;
  }
#define DLC_CU_SYMBOL(sym, params)                                                                 \
  d->sym = reinterpret_cast<CUresult(*) params>(::dlsym(handle, #sym));                            \
  if (!d->sym) {                                                                                   \
    d->status = DLC_MAKE_STATUS(StatusCode::kUnavailable,                                          \
                                name + " lacks " #sym ": NVIDIA driver too old (need CUDA 11+)");  \
    return d;                                                                                      \
  }
#include "runtime/cuda/cuda_symbols.inc"
  // The stub and a driver without a GPU (or with a broken kernel module)
  // both fail here; either way there is no GPU to use.
  if (CUresult r = d->cuInit(0); r != CUDA_SUCCESS)
    d->status = DLC_MAKE_STATUS(StatusCode::kUnavailable,
                                "cuInit failed: " + errorText(d, r) + " [" + name + "]");
  return d;
}

std::string driverName() {
  const char *override = std::getenv("DLC_CUDA_DRIVER_LIBRARY");
  return override && *override ? override : kDriverSoname;
}

Status deviceCount(const Driver *driver, int *count) {
  if (!driver->status.ok()) return driver->status;
  *count = 0;
  if (CUresult r = driver->cuDeviceGetCount(count); r != CUDA_SUCCESS)
    return DLC_MAKE_STATUS(StatusCode::kUnavailable, "cuDeviceGetCount: " + errorText(driver, r));
  if (*count <= 0)
    return DLC_MAKE_STATUS(StatusCode::kUnavailable, "no CUDA device: cuDeviceGetCount returned 0");
  return okStatus();
}

std::string dims(const uint32_t d[3]) {
  return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" + std::to_string(d[2]);
}

} // namespace

std::string DeviceInfo::arch() const {
  return "sm_" + std::to_string(ccMajor) + std::to_string(ccMinor);
}

std::string cudaErrorText(int result) {
  const Driver *d = loadDriver(driverName());
  return errorText(d->status.ok() ? d : nullptr, result);
}

Status CudaContext::probe() {
  int count = 0;
  return deviceCount(loadDriver(driverName()), &count);
}

Status CudaContext::open(int ordinal, std::unique_ptr<CudaContext> *out) {
  std::unique_ptr<CudaContext> ctx(new CudaContext);
  const Driver *driver_ = ctx->driver_ = loadDriver(driverName());
  int count = 0;
  DLC_RETURN_IF_ERROR(deviceCount(driver_, &count), "");
  if (ordinal < 0 || ordinal >= count)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "CUDA device " + std::to_string(ordinal) +
                                                             " does not exist (" +
                                                             std::to_string(count) + " device(s))");
  DeviceInfo &info = ctx->device_;
  info.ordinal = ordinal;
  CUdevice dev = 0;
  const std::string on = " (device " + std::to_string(ordinal) + ")";
  DLC_CU_CHECK(driver_->cuDeviceGet(&dev, ordinal), "cuDeviceGet" + on);
  ctx->deviceHandle_ = dev;
  char name[256] = {};
  DLC_CU_CHECK(driver_->cuDeviceGetName(name, sizeof name - 1, dev), "cuDeviceGetName" + on);
  info.name = name;
  const std::pair<CUdevice_attribute, int *> attributes[] = {
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, &info.ccMajor},
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, &info.ccMinor},
      {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, &info.multiprocessors},
      {CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, &info.maxThreadsPerBlock},
      {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, &info.sharedPerBlock},
      {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, &info.sharedPerBlockOptin}};
  for (const auto &[attribute, value] : attributes)
    DLC_CU_CHECK(driver_->cuDeviceGetAttribute(value, attribute, dev),
                 "cuDeviceGetAttribute(" + std::to_string(attribute) + ")" + on);
  DLC_CU_CHECK(driver_->cuDeviceTotalMem_v2(&info.totalMemory, dev), "cuDeviceTotalMem" + on);
  DLC_CU_CHECK(driver_->cuDriverGetVersion(&info.driverVersion), "cuDriverGetVersion");

  CUcontext context = nullptr;
  DLC_CU_CHECK(driver_->cuDevicePrimaryCtxRetain(&context, dev), "cuDevicePrimaryCtxRetain" + on);
  ctx->context_ = context; // from here on the destructor releases it
  DLC_CU_CHECK(driver_->cuCtxSetCurrent(context), "cuCtxSetCurrent" + on);
  CUstream stream = nullptr;
  DLC_CU_CHECK(driver_->cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate" + on);
  ctx->stream_ = stream;
  CUstream upload = nullptr;
  DLC_CU_CHECK(driver_->cuStreamCreate(&upload, CU_STREAM_NON_BLOCKING), "cuStreamCreate" + on);
  ctx->uploadStream_ = upload;
  CUevent uploaded = nullptr;
  DLC_CU_CHECK(driver_->cuEventCreate(&uploaded, CU_EVENT_DISABLE_TIMING), "cuEventCreate" + on);
  ctx->uploaded_ = uploaded;
  *out = std::move(ctx);
  return okStatus();
}

CudaContext::~CudaContext() {
  if (!context_) return;
  // Errors here cannot be reported; a dying context reports them anyway.
  driver_->cuCtxSetCurrent(static_cast<CUcontext>(context_));
  if (stream_) driver_->cuStreamSynchronize(static_cast<CUstream>(stream_));
  if (uploadStream_) driver_->cuStreamSynchronize(static_cast<CUstream>(uploadStream_));
  for (auto &m : modules_) driver_->cuModuleUnload(m->module);
  if (uploaded_) driver_->cuEventDestroy_v2(static_cast<CUevent>(uploaded_));
  for (void *event : {timedStart_, timedEnd_})
    if (event) driver_->cuEventDestroy_v2(static_cast<CUevent>(event));
  if (uploadStream_) driver_->cuStreamDestroy_v2(static_cast<CUstream>(uploadStream_));
  if (stream_) driver_->cuStreamDestroy_v2(static_cast<CUstream>(stream_));
  driver_->cuDevicePrimaryCtxRelease_v2(deviceHandle_);
}

Status CudaContext::workStream(void **out) {
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  *out = stream_;
  return okStatus();
}

Status CudaContext::makeCurrent() {
  DLC_CU_CHECK(driver_->cuCtxSetCurrent(static_cast<CUcontext>(context_)), "cuCtxSetCurrent");
  return okStatus();
}

Status CudaContext::alloc(size_t bytes, DevicePtr *out) {
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  CUdeviceptr ptr = 0;
  DLC_CU_CHECK(driver_->cuMemAlloc_v2(&ptr, bytes ? bytes : 1),
               "cuMemAlloc(" + std::to_string(bytes) + " bytes)");
  *out = ptr;
  return okStatus();
}

Status CudaContext::free(DevicePtr ptr) {
  if (ptr == 0) return okStatus();
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  DLC_CU_CHECK(driver_->cuMemFree_v2(ptr), "cuMemFree");
  return okStatus();
}

Status CudaContext::memset(DevicePtr dst, uint8_t value, size_t bytes) {
  if (bytes == 0) return okStatus();
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  DLC_CU_CHECK(driver_->cuMemsetD8Async(dst, value, bytes, static_cast<CUstream>(stream_)),
               "cuMemsetD8Async(" + std::to_string(bytes) + " bytes)");
  return okStatus();
}

Status CudaContext::copyToDevice(DevicePtr dst, const void *src, size_t bytes) {
  if (bytes == 0) return okStatus();
  if (!src || !dst)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "copyToDevice: null pointer");
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  DLC_CU_CHECK(driver_->cuMemcpyHtoDAsync_v2(dst, src, bytes, static_cast<CUstream>(stream_)),
               "cuMemcpyHtoDAsync(" + std::to_string(bytes) + " bytes)");
  return okStatus();
}

Status CudaContext::copyToHost(void *dst, DevicePtr src, size_t bytes) {
  if (bytes == 0) return okStatus();
  if (!src || !dst)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "copyToHost: null pointer");
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  DLC_CU_CHECK(driver_->cuMemcpyDtoHAsync_v2(dst, src, bytes, static_cast<CUstream>(stream_)),
               "cuMemcpyDtoHAsync(" + std::to_string(bytes) + " bytes)");
  return okStatus();
}

Status CudaContext::copyOnDevice(DevicePtr dst, DevicePtr src, size_t bytes) {
  if (bytes == 0) return okStatus();
  if (!src || !dst)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "copyOnDevice: null pointer");
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  DLC_CU_CHECK(driver_->cuMemcpyDtoDAsync_v2(dst, src, bytes, static_cast<CUstream>(stream_)),
               "cuMemcpyDtoDAsync(" + std::to_string(bytes) + " bytes)");
  return okStatus();
}

Status CudaContext::synchronize() {
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  // Asynchronous faults (illegal address, assert) of earlier launches surface here.
  DLC_CU_CHECK(driver_->cuStreamSynchronize(static_cast<CUstream>(stream_)), "cuStreamSynchronize");
  return okStatus();
}

Status CudaContext::timed(const std::function<Status()> &work, double *seconds) {
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  if (!timedStart_) {
    CUevent start = nullptr, end = nullptr;
    DLC_CU_CHECK(driver_->cuEventCreate(&start, CU_EVENT_DEFAULT), "cuEventCreate");
    if (CUresult r = driver_->cuEventCreate(&end, CU_EVENT_DEFAULT); r != CUDA_SUCCESS) {
      driver_->cuEventDestroy_v2(start);
      DLC_CU_CHECK(r, "cuEventCreate");
    }
    timedStart_ = start;
    timedEnd_ = end;
  }
  const auto stream = static_cast<CUstream>(stream_);
  DLC_CU_CHECK(driver_->cuEventRecord(static_cast<CUevent>(timedStart_), stream), "cuEventRecord");
  DLC_RETURN_IF_ERROR(work(), "");
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  DLC_CU_CHECK(driver_->cuEventRecord(static_cast<CUevent>(timedEnd_), stream), "cuEventRecord");
  DLC_RETURN_IF_ERROR(synchronize(), "");
  float milliseconds = 0;
  DLC_CU_CHECK(driver_->cuEventElapsedTime(&milliseconds, static_cast<CUevent>(timedStart_),
                                           static_cast<CUevent>(timedEnd_)),
               "cuEventElapsedTime");
  *seconds = 1e-3 * double(milliseconds);
  return okStatus();
}

Status CudaContext::memoryInfo(size_t *freeBytes, size_t *totalBytes) {
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  DLC_CU_CHECK(driver_->cuMemGetInfo_v2(freeBytes, totalBytes), "cuMemGetInfo");
  return okStatus();
}

Status CudaContext::upload(DevicePtr dst, const void *src, size_t bytes) {
  if (bytes == 0) return okStatus();
  if (!src || !dst)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "upload: null pointer");
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  DLC_CU_CHECK(driver_->cuMemcpyHtoDAsync_v2(dst, src, bytes, static_cast<CUstream>(uploadStream_)),
               "cuMemcpyHtoDAsync(" + std::to_string(bytes) + " bytes, upload stream)");
  return okStatus();
}

Status CudaContext::awaitUploads() {
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  DLC_CU_CHECK(driver_->cuEventRecord(static_cast<CUevent>(uploaded_),
                                      static_cast<CUstream>(uploadStream_)),
               "cuEventRecord");
  DLC_CU_CHECK(driver_->cuStreamWaitEvent(static_cast<CUstream>(stream_),
                                          static_cast<CUevent>(uploaded_), 0),
               "cuStreamWaitEvent");
  return okStatus();
}

Status CudaContext::allocHost(size_t bytes, void **out) {
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  *out = nullptr;
  DLC_CU_CHECK(driver_->cuMemHostAlloc(out, std::max<size_t>(bytes, 1), 0),
               "cuMemHostAlloc(" + std::to_string(bytes) + " bytes)");
  return okStatus();
}

Status CudaContext::freeHost(void *p) {
  if (!p) return okStatus();
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  DLC_CU_CHECK(driver_->cuMemFreeHost(p), "cuMemFreeHost");
  return okStatus();
}

Status CudaContext::beginCapture() {
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  // Thread-local: another thread's unsafe calls (a synchronous copy by the
  // data loader's host code, say) do not invalidate this capture.
  DLC_CU_CHECK(driver_->cuStreamBeginCapture_v2(static_cast<CUstream>(stream_),
                                                CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
               "cuStreamBeginCapture");
  return okStatus();
}

Status CudaContext::endCapture(CudaGraph *out) {
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  CUgraph graph = nullptr;
  // Ends the capture even when something queued during it failed.
  DLC_CU_CHECK(driver_->cuStreamEndCapture(static_cast<CUstream>(stream_), &graph),
               "cuStreamEndCapture");
  CUgraphExec exec = nullptr;
  if (CUresult r = driver_->cuGraphInstantiateWithFlags(&exec, graph, 0); r != CUDA_SUCCESS) {
    driver_->cuGraphDestroy(graph);
    return cuError(driver_, r, "cuGraphInstantiateWithFlags");
  }
  out->graph = graph;
  out->exec = exec;
  return okStatus();
}

Status CudaContext::launchGraph(const CudaGraph &graph) {
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  DLC_CU_CHECK(driver_->cuGraphLaunch(static_cast<CUgraphExec>(graph.exec),
                                      static_cast<CUstream>(stream_)),
               "cuGraphLaunch");
  return okStatus();
}

void CudaContext::destroyGraph(CudaGraph &graph) {
  if (!makeCurrent().ok()) return;
  if (graph.exec) driver_->cuGraphExecDestroy(static_cast<CUgraphExec>(graph.exec));
  if (graph.graph) driver_->cuGraphDestroy(static_cast<CUgraph>(graph.graph));
  graph = {};
}

Status CudaContext::loadModule(const std::string &name, const std::vector<uint8_t> &cubin,
                               const std::string &ptx, CudaModule **out) {
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  // Images come from bundles: never hand the driver an ELF we cannot parse.
  if (cubin.size() >= 4 && std::memcmp(cubin.data(), "\x7f\x45\x4c\x46", 4) == 0) {
    CubinInfo info;
    DLC_RETURN_IF_ERROR(parseCubin(cubin.data(), cubin.size(), &info, "module '" + name + "'"), "");
  }
  // The JIT (PTX, or a CUBIN the driver re-links) reports errors through a
  // log buffer rather than the CUresult.
  auto tryLoad = [&](const void *image, CUmodule *module, std::string *log) {
    char buffer[8192] = {};
    CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {buffer, reinterpret_cast<void *>(uintptr_t{sizeof buffer - 1})};
    CUresult r = driver_->cuModuleLoadDataEx(module, image, 2, options, values);
    *log = buffer;
    return r;
  };
  CUmodule module = nullptr;
  std::string failures, log;
  if (!cubin.empty()) {
    CUresult r = tryLoad(cubin.data(), &module, &log);
    if (r != CUDA_SUCCESS) {
      failures = "cuModuleLoadDataEx(module '" + name + "', CUBIN): " + errorText(driver_, r) +
                 (log.empty() ? "" : "\n" + log);
      if (ptx.empty()) return DLC_MAKE_STATUS(statusFor(r), failures);
      module = nullptr;
    }
  }
  if (!module) {
    if (ptx.empty())
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             "module '" + name + "' has neither CUBIN nor PTX");
    CUresult r = tryLoad(ptx.c_str(), &module, &log);
    if (r != CUDA_SUCCESS) {
      return DLC_MAKE_STATUS(statusFor(r), (failures.empty() ? "" : failures + "; then ") +
                                               "cuModuleLoadDataEx(module '" + name +
                                               "', PTX JIT): " + errorText(driver_, r) +
                                               (log.empty() ? "" : "\n" + log));
    }
  }
  auto owned = std::make_unique<CudaModule>();
  owned->module = module;
  owned->name = name;
  *out = owned.get();
  modules_.push_back(std::move(owned));
  return okStatus();
}

Status CudaContext::unloadModule(CudaModule *module) {
  for (auto it = modules_.begin(); it != modules_.end(); ++it)
    if (it->get() == module) {
      DLC_RETURN_IF_ERROR(makeCurrent(), "");
      const std::string name = module->name;
      const CUresult r = driver_->cuModuleUnload(module->module);
      modules_.erase(it);
      if (r != CUDA_SUCCESS) return cuError(driver_, r, "cuModuleUnload(module '" + name + "')");
      return okStatus();
    }
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                         "unloadModule: not a module of this context");
}

Status CudaContext::getKernel(CudaModule *module, const std::string &name, CudaKernel *out) {
  if (!module) return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "getKernel: null module");
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  CUfunction function = nullptr;
  DLC_CU_CHECK(driver_->cuModuleGetFunction(&function, module->module, name.c_str()),
               "cuModuleGetFunction(kernel '" + name + "' in module '" + module->name + "')");
  out->function = function;
  out->name = name;
  DLC_CU_CHECK(driver_->cuFuncGetAttribute(&out->staticSharedBytes,
                                           CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, function),
               "cuFuncGetAttribute(kernel '" + name + "', static shared memory)");
  return okStatus();
}

uint32_t dynamicSharedOptIn(int staticSharedBytes, uint32_t dynamicSharedBytes) {
  constexpr uint64_t kWithoutOptIn = 48 * 1024;
  if (dynamicSharedBytes == 0 ||
      uint64_t(std::max(staticSharedBytes, 0)) + dynamicSharedBytes <= kWithoutOptIn)
    return 0;
  return dynamicSharedBytes;
}

Status CudaContext::kernelAttributes(const CudaKernel &kernel, KernelAttributes *out) {
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  const std::pair<CUfunction_attribute, int *> attributes[] = {
      {CU_FUNC_ATTRIBUTE_NUM_REGS, &out->registers},
      {CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, &out->sharedBytes},
      {CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, &out->localBytes},
      {CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES, &out->constBytes},
      {CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, &out->maxThreadsPerBlock},
      {CU_FUNC_ATTRIBUTE_PTX_VERSION, &out->ptxVersion},
      {CU_FUNC_ATTRIBUTE_BINARY_VERSION, &out->binaryVersion}};
  for (const auto &[attribute, value] : attributes)
    DLC_CU_CHECK(
        driver_->cuFuncGetAttribute(value, attribute, static_cast<CUfunction>(kernel.function)),
        "cuFuncGetAttribute(kernel '" + kernel.name + "', " + std::to_string(attribute) + ")");
  return okStatus();
}

Status CudaContext::launch(const CudaKernel &kernel, const LaunchConfig &config, void **args) {
  // Formatted only for an error: a launch allocates nothing on the host.
  auto what = [&] {
    return "cuLaunchKernel(kernel '" + kernel.name + "', grid " + dims(config.grid) + ", block " +
           dims(config.block) + ", " + std::to_string(config.sharedBytes) + " B shared)";
  };
  if (!kernel.function) return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, what() + ": no kernel");
  for (int i = 0; i < 3; ++i)
    if (config.grid[i] == 0 || config.block[i] == 0)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, what() + ": zero dimension");
  DLC_RETURN_IF_ERROR(makeCurrent(), "");
  auto function = static_cast<CUfunction>(kernel.function);
  if (uint32_t limit = dynamicSharedOptIn(kernel.staticSharedBytes, config.sharedBytes))
    DLC_CU_CHECK(driver_->cuFuncSetAttribute(function,
                                             CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                             static_cast<int>(limit)),
                 "cuFuncSetAttribute(kernel '" + kernel.name + "', max dynamic shared " +
                     std::to_string(limit) + " with " +
                     std::to_string(kernel.staticSharedBytes) + " B static)");
  DLC_CU_CHECK(driver_->cuLaunchKernel(function, config.grid[0], config.grid[1], config.grid[2],
                                       config.block[0], config.block[1], config.block[2],
                                       config.sharedBytes, static_cast<CUstream>(stream_), args,
                                       nullptr),
               what());
  return okStatus();
}

} // namespace dlc::rt::cuda
