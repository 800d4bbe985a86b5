//===- driver_backend.cc - The GPU, through the CUDA driver ---------------===//
//
// The CudaBackend of a real GPU: memory, launches and graphs through the
// driver (cuda_driver.h), kernels from the bundle's images or NVRTC through
// the kernel cache, library calls through cuBLASLt and cuDNN. The device
// that runs bundles on it is cuda_device.cc's, shared with the emulation.
//
//===----------------------------------------------------------------------===//
#include "runtime/cuda/cuda_device.h"

#include "runtime/cuda/cublaslt.h"
#include "runtime/cuda/cudnn.h"
#include "runtime/cuda/kernel_cache.h"
#include "runtime/cuda/nvrtc.h"

#include <cstdlib>
#include <map>

namespace dlc::rt::cuda {
namespace {

/// The image to load for |arch| ("sm_90"): its own CUBIN (with PTX as the
/// fallback), else the PTX of the newest older architecture, which the
/// driver JIT-compiles. Null when the bundle has neither.
const fb::CudaImage *pickImage(const fb::Kernel &k, const std::string &arch) {
  if (!k.cuda_images())
    return nullptr;
  auto number = [](const std::string &a) { return std::atoi(a.c_str() + a.find('_') + 1); };
  const fb::CudaImage *best = nullptr;
  for (const fb::CudaImage *image : *k.cuda_images()) {
    std::string a = image->arch() ? image->arch()->str() : "";
    if (a == arch && (image->cubin_bytes() || image->ptx_bytes()))
      return image;
    if (image->ptx_bytes() && number(a) <= number(arch) &&
        (!best || number(best->arch()->str()) < number(a)))
      best = image;
  }
  return best;
}

class DriverBackend : public CudaBackend {
public:
  explicit DriverBackend(std::unique_ptr<CudaContext> context) : ctx_(std::move(context)) {}
  ~DriverBackend() override {
    if (libraryWorkspace_)
      (void)ctx_->free(libraryWorkspace_);
    for (DevicePtr p : libraryMemory_)
      (void)ctx_->free(p);
  }

  std::string name() const override { return "cuda"; }
  std::string identity() const override {
    const DeviceInfo &d = ctx_->device();
    std::string id = d.name + " " + d.arch() + " driver " + std::to_string(d.driverVersion);
    const CublasLt *lt = nullptr;
    const Cudnn *cudnn = nullptr;
    id += "; " + (CublasLt::instance(&lt).ok() ? lt->describe() : std::string("no cuBLASLt"));
    id += "; " + (Cudnn::instance(&cudnn).ok() ? cudnn->describe() : std::string("no cuDNN"));
    return id;
  }
  // Timed on the GPU itself: what the choice is for.
  ChoicePolicy defaultChoicePolicy() const override { return ChoicePolicy::kMeasured; }
  Status alloc(size_t bytes, const std::string &what, DevicePtr *out) override {
    DLC_RETURN_IF_ERROR(ctx_->alloc(bytes, out), what);
    return okStatus();
  }
  Status free(DevicePtr ptr) override { return ctx_->free(ptr); }
  Status memset(DevicePtr dst, uint8_t value, size_t bytes) override {
    return ctx_->memset(dst, value, bytes);
  }
  Status copyToDevice(DevicePtr dst, const void *src, size_t bytes) override {
    return ctx_->copyToDevice(dst, src, bytes);
  }
  Status copyToHost(void *dst, DevicePtr src, size_t bytes) override {
    return ctx_->copyToHost(dst, src, bytes);
  }
  Status copyOnDevice(DevicePtr dst, DevicePtr src, size_t bytes) override {
    return ctx_->copyOnDevice(dst, src, bytes);
  }
  Status synchronize() override { return ctx_->synchronize(); }
  Status timed(const std::function<Status()> &work, double *seconds) override {
    return ctx_->timed(work, seconds);
  }

  Status loadKernels(const Bundle &bundle) override {
    bundle_ = &bundle;
    for (const fb::Program *p : *bundle.root().programs())
      for (const fb::Kernel *k : *p->kernels())
        if (launchOf(*k) && !loaded(*k))
          DLC_RETURN_IF_ERROR(loadOne(*k), "kernel '" + k->name()->str() + "'");
    return okStatus();
  }

  /// Whether every entry |k| launches is loaded: kernels sharing a source
  /// may list different stages.
  bool loaded(const fb::Kernel &k) const {
    const fb::CudaLaunch *launch = launchOf(k);
    if (!kernels_.count({k.cuda_source_offset(), launch->entry()->str()}))
      return false;
    if (launch->then())
      for (const fb::CudaStage *stage : *launch->then())
        if (!kernels_.count({k.cuda_source_offset(), stage->entry()->str()}))
          return false;
    return true;
  }

  Status kernel(const fb::Kernel &k, const std::string &entry, KernelHandle *out) override {
    auto it = kernels_.find({k.cuda_source_offset(), entry});
    if (it == kernels_.end())
      return DLC_MAKE_STATUS(StatusCode::kInternal, "kernel not loaded");
    *out = &it->second;
    return okStatus();
  }

  Status launch(KernelHandle kernel, const LaunchConfig &config, void **args) override {
    return ctx_->launch(*static_cast<const CudaKernel *>(kernel), config, args);
  }

  Status upload(DevicePtr dst, const void *src, size_t bytes) override {
    return ctx_->upload(dst, src, bytes);
  }
  Status awaitUploads() override { return ctx_->awaitUploads(); }
  Status allocHost(size_t bytes, void **out) override { return ctx_->allocHost(bytes, out); }
  void freeHost(void *p) override { (void)ctx_->freeHost(p); }
  Status beginCapture() override { return ctx_->beginCapture(); }
  Status endCapture(GraphHandle *out) override {
    auto graph = std::make_unique<CudaGraph>();
    DLC_RETURN_IF_ERROR(ctx_->endCapture(graph.get()), "");
    *out = graph.release();
    return okStatus();
  }
  Status replay(GraphHandle graph) override {
    return ctx_->launchGraph(*static_cast<CudaGraph *>(graph));
  }
  void destroyGraph(GraphHandle graph) override {
    auto *g = static_cast<CudaGraph *>(graph);
    ctx_->destroyGraph(*g);
    delete g;
  }

  Status prepareMatmul(const MatmulCall &call, LibraryHandle *out) override {
    const CublasLt *lt = nullptr;
    DLC_RETURN_IF_ERROR(CublasLt::instance(&lt), "");
    void *stream = nullptr;
    DLC_RETURN_IF_ERROR(ctx_->workStream(&stream), ""); // makes the context current
    DLC_RETURN_IF_ERROR(libraryWorkspace(), "");
    CublasLt::PlanPtr plan;
    DLC_RETURN_IF_ERROR(lt->plan(call, &plan), "");
    matmuls_.push_back(std::move(plan));
    *out = matmuls_.back().get();
    return okStatus();
  }
  Status matmul(LibraryHandle call, DevicePtr a, DevicePtr b, DevicePtr bias, DevicePtr d) override {
    const CublasLt *lt = nullptr;
    DLC_RETURN_IF_ERROR(CublasLt::instance(&lt), "");
    void *stream = nullptr;
    DLC_RETURN_IF_ERROR(ctx_->workStream(&stream), "");
    return lt->run(*static_cast<const CublasLt::Plan *>(call), a, b, bias, d, libraryWorkspace_, stream);
  }

  Status prepareConvolution(const ConvolutionCall &call, LibraryHandle *out) override {
    const Cudnn *cudnn = nullptr;
    void *stream = nullptr;
    DLC_RETURN_IF_ERROR(cudnnOnStream(&cudnn, &stream), "");
    DLC_RETURN_IF_ERROR(libraryWorkspace(), "");
    Cudnn::PlanPtr plan;
    DLC_RETURN_IF_ERROR(cudnn->plan(call, kLibraryWorkspaceBytes, &plan), "");
    convolutions_.push_back(std::move(plan));
    *out = convolutions_.back().get();
    return okStatus();
  }
  Status convolution(LibraryHandle call, const ConvolutionBuffers<DevicePtr> &buffers) override {
    const Cudnn *cudnn = nullptr;
    void *stream = nullptr;
    DLC_RETURN_IF_ERROR(cudnnOnStream(&cudnn, &stream), "");
    return cudnn->run(*static_cast<const Cudnn::Plan *>(call), buffers, libraryWorkspace_, stream);
  }
  Status prepareLstm(const LstmCall &call, LibraryHandle *out) override {
    const Cudnn *cudnn = nullptr;
    void *stream = nullptr;
    DLC_RETURN_IF_ERROR(cudnnOnStream(&cudnn, &stream), "");
    Cudnn::LstmPlanPtr plan;
    DLC_RETURN_IF_ERROR(cudnn->planLstm(call,
                                        [&](size_t bytes, DevicePtr *memory) {
                                          DLC_RETURN_IF_ERROR(ctx_->alloc(bytes, memory), "");
                                          libraryMemory_.push_back(*memory);
                                          return okStatus();
                                        },
                                        &plan),
                        "");
    lstms_.push_back(std::move(plan));
    *out = lstms_.back().get();
    return okStatus();
  }
  Status lstm(LibraryHandle call, const LstmBuffers<DevicePtr> &buffers) override {
    const Cudnn *cudnn = nullptr;
    void *stream = nullptr;
    DLC_RETURN_IF_ERROR(cudnnOnStream(&cudnn, &stream), "");
    return cudnn->runLstm(*static_cast<const Cudnn::LstmPlan *>(call), buffers, stream);
  }

private:
  /// cuDNN and the work stream its calls queue on (getting the stream makes
  /// the device's context current).
  Status cudnnOnStream(const Cudnn **cudnn, void **stream) {
    DLC_RETURN_IF_ERROR(Cudnn::instance(cudnn), "");
    return ctx_->workStream(stream);
  }

  /// The workspace of every library call: they run one at a time on the
  /// work stream, so one serves them all.
  Status libraryWorkspace() {
    if (!libraryWorkspace_)
      DLC_RETURN_IF_ERROR(ctx_->alloc(kLibraryWorkspaceBytes, &libraryWorkspace_), "the library calls' workspace");
    return okStatus();
  }

  std::string payloadText(uint64_t offset, uint64_t bytes) const {
    return std::string(reinterpret_cast<const char *>(bundle_->payload() + offset), bytes);
  }

  Status loadOne(const fb::Kernel &k) {
    const std::string entry = launchOf(k)->entry()->str(), arch = ctx_->device().arch();
    std::vector<uint8_t> cubin;
    std::string ptx;
    if (const fb::CudaImage *image = pickImage(k, arch)) {
      if (image->arch()->str() == arch) {
        const uint8_t *c = bundle_->payload() + image->cubin_offset();
        cubin.assign(c, c + image->cubin_bytes());
      }
      ptx = payloadText(image->ptx_offset(), image->ptx_bytes());
    } else {
      DLC_RETURN_IF_ERROR(compile(k, entry, arch, &cubin, &ptx), "");
    }
    CudaModule *module = nullptr;
    DLC_RETURN_IF_ERROR(ctx_->loadModule(entry, cubin, ptx, &module), "");
    DLC_RETURN_IF_ERROR(ctx_->getKernel(module, entry, &kernels_[{k.cuda_source_offset(), entry}]), "");
    if (const auto *stages = launchOf(k)->then())
      for (const fb::CudaStage *stage : *stages)
        DLC_RETURN_IF_ERROR(ctx_->getKernel(module, stage->entry()->str(),
                                            &kernels_[{k.cuda_source_offset(), stage->entry()->str()}]),
                            "");
    return okStatus();
  }

  /// No image for this GPU in the bundle: NVRTC, through the kernel cache.
  Status compile(const fb::Kernel &k, const std::string &entry, const std::string &arch,
                 std::vector<uint8_t> *cubin, std::string *ptx) {
    const Nvrtc *nvrtc = nullptr;
    DLC_RETURN_IF_ERROR(Nvrtc::instance(&nvrtc), "the bundle has no code for " + arch);
    // Tensor-core kernels include mma.h: the CUDA headers where they are.
    std::vector<std::string> includeDirs;
    if (std::string dir = findCudaIncludeDir(); !dir.empty())
      includeDirs.push_back(dir);
    NvrtcProgram program{entry, payloadText(k.cuda_source_offset(), k.cuda_source_bytes()), {},
                         includeDirs, {"--std=c++17"}};
    CompiledProgram compiled;
    DLC_RETURN_IF_ERROR(cache_.compile(*nvrtc, program, {arch}, &compiled), "");
    *cubin = compiled.images.at(0).cubin;
    *ptx = compiled.images.at(0).ptx;
    return okStatus();
  }

  std::unique_ptr<CudaContext> ctx_;
  const Bundle *bundle_ = nullptr;
  KernelCache cache_{KernelCache::defaultDirectory()};
  /// By source offset and entry: identical kernels share one.
  std::map<std::pair<uint64_t, std::string>, CudaKernel> kernels_;
  std::vector<CublasLt::PlanPtr> matmuls_; // handles point at the plans
  std::vector<Cudnn::PlanPtr> convolutions_;
  std::vector<Cudnn::LstmPlanPtr> lstms_;
  std::vector<DevicePtr> libraryMemory_; // what the LSTM plans keep on the device
  DevicePtr libraryWorkspace_ = 0; // kLibraryWorkspaceBytes, shared by every call
};

} // namespace
} // namespace dlc::rt::cuda

namespace dlc::rt {

Status createCudaDevice(int ordinal, std::unique_ptr<Device> *out) {
  std::unique_ptr<cuda::CudaContext> context;
  DLC_RETURN_IF_ERROR(cuda::CudaContext::open(ordinal, &context), "");
  *out = cuda::createDeviceOn(std::make_unique<cuda::DriverBackend>(std::move(context)));
  return okStatus();
}

} // namespace dlc::rt
