//===- BundleWriter.cpp - dl modules to dlc bundles -----------------------===//
#include "compiler/Target/BundleWriter.h"

#include "compiler/Analysis/MemoryFit.h"
#include "compiler/Codegen/CUDA/CudaEmitter.h"
#include "compiler/Target/ProgramLowering.h"
#include "dialects/DL/DLOps.h"
#include "runtime/bundle.h"
#include "runtime/cuda/code_trust.h"
#include "runtime/cuda/cubin_info.h"
#include "runtime/cuda/kernel_cache.h"
#include "runtime/cuda/nvrtc.h"
#include "runtime/initializers.h"
#include "runtime/limits.h"
#include "runtime/utf8.h"
#include "runtime/pretrained_weights.h"
#include "runtime/safetensors.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

using namespace mlir;
namespace fb = dlc::rt::fb;

namespace dlc {
namespace {

/// The functions dlc-autodiff leaves, under the names programs have.
constexpr std::pair<const char *, const char *> kPrograms[] = {
    {"forward", "infer"}, {"grad", "grad"}, {"train_step", "train_step"}, {"evaluate", "evaluate"}};

nlohmann::json toJson(Attribute a) {
  if (auto b = dyn_cast<BoolAttr>(a))
    return b.getValue();
  if (auto i = dyn_cast<IntegerAttr>(a))
    return i.getInt();
  if (auto f = dyn_cast<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto s = dyn_cast<StringAttr>(a))
    return s.str();
  if (auto ints = dyn_cast<DenseI64ArrayAttr>(a))
    return nlohmann::json(std::vector<int64_t>(ints.asArrayRef().begin(), ints.asArrayRef().end()));
  if (auto floats = dyn_cast<DenseF64ArrayAttr>(a))
    return nlohmann::json(std::vector<double>(floats.asArrayRef().begin(), floats.asArrayRef().end()));
  if (auto list = dyn_cast<ArrayAttr>(a)) {
    nlohmann::json out = nlohmann::json::array();
    for (Attribute e : list)
      out.push_back(toJson(e));
    return out;
  }
  if (auto dict = dyn_cast<DictionaryAttr>(a)) {
    nlohmann::json out = nlohmann::json::object();
    for (NamedAttribute e : dict)
      out[e.getName().str()] = toJson(e.getValue());
    return out;
  }
  if (auto config = dyn_cast<dl::ConfigAttr>(a))
    return {{"kind", config.getKind().str()}, {"options", toJson(config.getOptions())}};
  if (auto p = dyn_cast<dl::PrecisionAttr>(a))
    return dl::stringifyPrecision(p.getValue()).str();
  std::string text;
  llvm::raw_string_ostream os(text);
  a.print(os);
  return text;
}

/// Appends the initial value of |param| to |payload|: from its weights file
/// when that exists, else from its initializer. A missing weights file is
/// recorded as external (loading the bundle then needs it) with a warning.
LogicalResult appendInitialValue(dl::ParamOp param, const BundleOptions &options,
                                 rt::PretrainedWeights &pretrained,
                                 std::vector<uint8_t> &payload, uint64_t *offset,
                                 uint64_t *bytes, std::string *external,
                                 std::set<std::string> &warned, bool *drawnAtLoad) {
  RankedTensorType type = param.getTensorType();
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  int64_t n = type.getNumElements();
  std::vector<float> values(size_t(n), 0.0f);
  std::string name = param.getSymName().str();
  if (auto file = param.getWeightsFile()) {
    if (::access(file->str().c_str(), F_OK) != 0) {
      // Absolute, so the bundle finds it wherever it is run from.
      std::error_code ec;
      std::filesystem::path absolute = std::filesystem::absolute(file->str(), ec);
      *external = ec ? file->str() : absolute.lexically_normal().string();
      if (warned.insert(file->str()).second)
        emitWarning(param.getLoc()) << "weights file '" << *file
                                    << "' not found: the bundle refers to it and loading needs it";
      *offset = *bytes = 0;
      return success();
    }
    std::vector<float> read;
    rt::Status status = pretrained.read(file->str(), name, shape, &read);
    if (!status.ok())
      return param.emitError(status.message());
    values = std::move(read);
  } else if (std::optional<DenseElementsAttr> constant = param.getInitialValue()) {
    values.assign(constant->getValues<float>().begin(), constant->getValues<float>().end());
  } else {
    rt::Status status = rt::initializeParameter(
        dl::stringifyInitializer(param.getInitializer()).str(), shape,
        rt::parameterSeed(options.seed, name), values.data());
    if (!status.ok())
      return param.emitError(status.message());
    if (options.drawInitialValues) { // checked above; drawn again at load
      *drawnAtLoad = true;
      *offset = *bytes = 0;
      return success();
    }
  }
  payload.resize((payload.size() + 63) / 64 * 64);
  *offset = payload.size();
  *bytes = values.size() * sizeof(float);
  const auto *p = reinterpret_cast<const uint8_t *>(values.data());
  payload.insert(payload.end(), p, p + *bytes);
  return success();
}

void appendBytes(std::vector<uint8_t> &payload, const void *data, size_t size, uint64_t *offset) {
  payload.resize((payload.size() + 63) / 64 * 64);
  *offset = payload.size();
  const auto *p = static_cast<const uint8_t *>(data);
  payload.insert(payload.end(), p, p + size);
}

/// One distinct CUDA kernel: its source, launch table and the first group
/// that emitted it (where NVRTC's complaints about it are reported).
struct DistinctKernel {
  std::string source;
  KernelCode code;
  Operation *group; // a dl.fused
};

/// Emits the CUDA kernels of every dl.fused group of the program functions
/// (its chosen plan's, and its alternative's where it has one), keeping one
/// per distinct source; |kernelOf| maps every group to its entries in
/// |kernels|, the alternative's second.
LogicalResult emitCudaKernels(ModuleOp module, std::vector<DistinctKernel> *kernels,
                              llvm::DenseMap<Operation *, SmallVector<size_t, 2>> *kernelOf) {
  std::map<std::string, size_t> byName; // equal names are equal code
  bool ok = true;
  for (auto [funcName, programName] : kPrograms) {
    auto func = module.lookupSymbol<func::FuncOp>(funcName);
    if (!func)
      continue;
    for (auto group : func.getBody().getOps<dl::FusedOp>())
      for (cuda::Plan plan : {cuda::Plan::kChosen, cuda::Plan::kAlternative}) {
        if (plan == cuda::Plan::kAlternative && !group.getAlternativeKernelsFor("cuda"))
          continue;
        FailureOr<cuda::CudaKernel> kernel = cuda::emitKernel(group, plan);
        if (failed(kernel)) {
          ok = false;
          break;
        }
        auto [it, inserted] = byName.try_emplace(kernel->name, kernels->size());
        if (inserted) {
          DistinctKernel k{kernel->source, {}, group.getOperation()};
          k.code.entry = kernel->name;
          k.code.family = kernel->family;
          k.code.grid = kernel->grid;
          k.code.block = kernel->block;
          k.code.takesStep = kernel->takesStep;
          k.code.zeroedResults = kernel->zeroedOutputs;
          k.code.scratchBytes = kernel->scratchBytes;
          k.code.zeroedScratch = kernel->zeroedScratch;
          k.code.tensorCores = kernel->tensorCores;
          k.code.efficiency = kernel->efficiency;
          k.code.globalAtomics = kernel->globalAtomics;
          k.code.library = kernel->library;
          k.code.then = kernel->then;
          kernels->push_back(std::move(k));
        }
        (*kernelOf)[group.getOperation()].push_back(it->second);
      }
  }
  return success(ok);
}

/// NVRTC options for the emitted kernels. They include no headers (the
/// emitters spell out what they need, e.g. -__int_as_float(0x7f800000) for
/// -inf), so no -I; ptxas' report in the log gives exact spill bytes, which
/// the CUBIN does not hold (runtime/cuda/cubin_info.h).
const std::vector<std::string> &nvrtcOptions() {
  static const std::vector<std::string> options = {"--std=c++17", "--ptxas-options=-v"};
  return options;
}

/// The loader's multi-line "tried:" list as one line: each name once
/// ($CUDA_HOME is often /usr/local/cuda, which is also tried by default).
std::string oneLine(const std::string &message) {
  size_t eol = message.find('\n');
  std::string out = message.substr(0, eol);
  std::set<std::string> seen;
  while (eol != std::string::npos) {
    size_t next = message.find('\n', eol + 1);
    std::string line = message.substr(eol + 1, next == std::string::npos ? next : next - eol - 1);
    line.erase(0, line.find_first_not_of(' '));
    line = line.substr(0, line.find(": "));
    if (!line.empty() && seen.insert(line).second)
      out += (out.back() == ':' ? " " : ", ") + line;
    eol = next;
  }
  return out;
}

/// Whether |arch| is sm_<number> for a number NVRTC compiles CUBIN for.
/// Variants such as sm_90a are left out: they only pay off for instructions
/// the emitters do not use, and NVRTC would reject some only at compile time.
bool supportedArch(const std::string &arch, const std::vector<std::string> &supported) {
  return std::find(supported.begin(), supported.end(), arch) != supported.end();
}

/// Registers, spill bytes, shared memory and stack of |kernel|'s entry in
/// one compiled image; fails (at the group) when the CUBIN does not say or
/// the kernel cannot be launched with its block.
LogicalResult describeImage(const DistinctKernel &kernel, const rt::cuda::CompiledImage &image,
                            KernelCode::Image *out) {
  const std::string &entry = kernel.code.entry;
  rt::cuda::CubinInfo info;
  rt::Status status = rt::cuda::parseCubin(image.cubin.data(), image.cubin.size(), &info,
                                           "the " + image.arch + " CUBIN of " + entry);
  if (!status.ok())
    return kernel.group->emitError(status.message());
  rt::cuda::mergePtxasLog(image.log, &info);
  const rt::cuda::KernelResources *r = info.find(entry);
  if (!r)
    return kernel.group->emitError("the ") << image.arch << " CUBIN has no kernel '" << entry << "'";
  out->arch = image.arch;
  out->registers = r->registers;
  // Without ptxas' report only "no spills" is certain; -1 says unknown.
  out->spillBytes = r->spillStoreBytes >= 0 && r->spillLoadBytes >= 0
                        ? int(r->spillStoreBytes + r->spillLoadBytes)
                        : r->spillInstructions == 0 ? 0 : -1;
  out->sharedBytes = int(r->sharedBytes);
  out->stackBytes = int(std::max(r->frameBytes, r->stackBytes));
  // A block that needs more than the SM's 64 Ki registers fails at launch.
  auto fits = [&](const std::string &function, const std::array<int64_t, 3> &block) -> LogicalResult {
    const rt::cuda::KernelResources *used = info.find(function);
    if (!used)
      return kernel.group->emitError("the ") << image.arch << " CUBIN has no kernel '" << function << "'";
    int64_t threads = block[0] * block[1] * block[2];
    if (int64_t(used->registers) * threads > 65536)
      return kernel.group->emitError("the CUDA kernel ")
             << function << " needs " << used->registers << " registers per thread on " << image.arch
             << ": " << threads << " threads per block exceed the 65536 registers of a block";
    return success();
  };
  if (failed(fits(entry, kernel.code.block)))
    return failure();
  for (const cuda::CudaStage &stage : kernel.code.then)
    if (failed(fits(stage.entry, stage.block)))
      return failure();
  return success();
}

/// Compiles every distinct kernel for every architecture in one NVRTC
/// batch through the on-disk kernel cache; a kernel NVRTC rejects is
/// reported at its group, with NVRTC's log as a note.
LogicalResult compileCudaKernels(ModuleOp module, const std::vector<DistinctKernel> &kernels,
                                 const std::vector<std::string> &archs,
                                 std::vector<rt::cuda::CompiledProgram> *compiled,
                                 CudaCompileStats *stats) {
  if (archs.empty()) // CUDA source only (the emulation compiles it itself)
    return success();
  if (std::string error = checkCudaToolchain(archs); !error.empty())
    return module.emitError(error);
  const rt::cuda::Nvrtc *nvrtc = nullptr;
  (void)rt::cuda::Nvrtc::instance(&nvrtc); // checked just above
  std::vector<rt::cuda::NvrtcProgram> programs;
  // Tensor-core kernels include mma.h (and with it cuda_fp16.h).
  std::vector<std::string> includeDirs;
  if (std::string dir = rt::cuda::findCudaIncludeDir(); !dir.empty())
    includeDirs.push_back(dir);
  // Library calls have no code to compile.
  std::vector<size_t> generated;
  for (size_t i = 0; i < kernels.size(); ++i)
    if (!kernels[i].code.library) {
      generated.push_back(i);
      programs.push_back({kernels[i].code.entry, kernels[i].source, {}, includeDirs, nvrtcOptions()});
    }
  rt::cuda::KernelCache cache(rt::cuda::KernelCache::defaultDirectory());
  auto start = std::chrono::steady_clock::now();
  std::vector<rt::Status> failures;
  std::vector<rt::cuda::CompiledProgram> results;
  rt::Status status = cache.compileBatch(*nvrtc, programs, archs, /*threads=*/0, &results, &failures);
  compiled->assign(kernels.size(), {});
  for (size_t i = 0; i < generated.size() && i < results.size(); ++i)
    (*compiled)[generated[i]] = std::move(results[i]);
  stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats->kernels = int(generated.size());
  stats->images = int(generated.size() * archs.size());
  stats->cacheHits = int(cache.stats().hits);
  stats->compiler = "NVRTC " + nvrtc->version();
  stats->cacheDirectory = cache.directory();
  if (status.ok())
    return success();
  for (size_t i = 0; i < generated.size() && i < failures.size(); ++i) {
    if (failures[i].ok())
      continue;
    const std::string &message = failures[i].message();
    size_t eol = message.find('\n');
    InFlightDiagnostic d = kernels[generated[i]].group->emitError(message.substr(0, eol));
    if (eol != std::string::npos)
      d.attachNote() << "NVRTC's log:\n" << message.substr(eol + 1);
  }
  return failure();
}

/// Stores each kernel's source and, per architecture, its PTX and CUBIN in
/// |payload|, and fills the kernel's images with their resources.
LogicalResult appendCudaCode(std::vector<DistinctKernel> &kernels,
                             const std::vector<rt::cuda::CompiledProgram> &compiled,
                             std::vector<uint8_t> &payload) {
  for (size_t i = 0; i < kernels.size(); ++i) {
    KernelCode &c = kernels[i].code;
    if (c.library) // a library routine: nothing to load
      continue;
    appendBytes(payload, kernels[i].source.data(), kernels[i].source.size(), &c.sourceOffset);
    c.sourceBytes = kernels[i].source.size();
    if (i >= compiled.size()) // source only
      continue;
    for (const rt::cuda::CompiledImage &image : compiled[i].images) {
      KernelCode::Image out;
      if (failed(describeImage(kernels[i], image, &out)))
        return failure();
      appendBytes(payload, image.ptx.data(), image.ptx.size(), &out.ptxOffset);
      out.ptxBytes = image.ptx.size();
      appendBytes(payload, image.cubin.data(), image.cubin.size(), &out.cubinOffset);
      out.cubinBytes = image.cubin.size();
      c.images.push_back(std::move(out));
    }
  }
  return success();
}

/// The cuda target: every group's kernel, compiled, in |payload|; |code|
/// gets each group's launch table and images.
LogicalResult addCudaCode(ModuleOp module, const BundleOptions &options,
                          std::vector<uint8_t> &payload, KernelCodeMap *code,
                          CudaCompileStats *stats) {
  std::vector<DistinctKernel> kernels;
  llvm::DenseMap<Operation *, SmallVector<size_t, 2>> kernelOf;
  std::vector<rt::cuda::CompiledProgram> compiled;
  if (failed(emitCudaKernels(module, &kernels, &kernelOf)) ||
      failed(compileCudaKernels(module, kernels, options.cudaArchs, &compiled, stats)) ||
      failed(appendCudaCode(kernels, compiled, payload)))
    return failure();
  for (auto &[group, indices] : kernelOf) {
    KernelCode &c = (*code)[group] = kernels[indices.front()].code;
    if (indices.size() > 1)
      c.alternative = {kernels[indices[1]].code};
  }
  return success();
}

} // namespace

std::string checkCudaToolchain(const std::vector<std::string> &archs) {
  const rt::cuda::Nvrtc *nvrtc = nullptr;
  if (rt::Status status = rt::cuda::Nvrtc::instance(&nvrtc); !status.ok())
    return "--target cuda needs NVRTC: " + oneLine(status.message());
  if (archs.empty())
    return "--target cuda needs at least one CUDA architecture";
  std::vector<std::string> supported = nvrtc->supportedArchs();
  for (const std::string &arch : archs)
    if (!supportedArch(arch, supported)) {
      std::string list;
      for (const std::string &s : supported)
        list += (list.empty() ? "" : ", ") + s;
      return "unknown CUDA architecture '" + arch + "' (NVRTC " + nvrtc->version() +
             " compiles for " + list + ")";
    }
  return "";
}

LogicalResult writeBundle(ModuleOp module, const BundleOptions &options,
                          std::vector<uint8_t> *fileBytes, CudaCompileStats *stats) {
  if (failed(checkModelFitsMemory(module, rt::hostMemoryBytes())))
    return failure();
  flatbuffers::FlatBufferBuilder fbb(1 << 16);
  std::vector<uint8_t> payload;
  llvm::StringMap<int> parameterIndex;
  std::vector<flatbuffers::Offset<fb::Parameter>> parameters;
  std::set<std::string> warned;
  std::vector<rt::PretrainedWeights::Param> fromFiles;
  for (dl::ParamOp param : module.getOps<dl::ParamOp>())
    if (auto file = param.getWeightsFile()) {
      std::vector<int64_t> rows;
      if (auto imageRows = param.getImageRows())
        rows.assign(imageRows->begin(), imageRows->end());
      fromFiles.push_back({param.getSymName().str(), file->str(),
                           param.getLayerClass() ? param.getLayerClass()->str() : "",
                           param.getWeightsLayout() ? param.getWeightsLayout()->str() : "", rows});
    }
  rt::PretrainedWeights pretrained(fromFiles);
  for (dl::ParamOp param : module.getOps<dl::ParamOp>()) {
    // Parameters are stored in float32 until mixed precision stores others.
    if (!param.getTensorType().getElementType().isF32())
      return param.emitError("parameters are stored as f32; '")
             << param.getSymName() << "' is " << param.getTensorType().getElementType()
             << " (other storage types come with mixed precision)";
    uint64_t offset = 0, bytes = 0;
    std::string external;
    bool drawn = false;
    if (failed(appendInitialValue(param, options, pretrained, payload, &offset, &bytes, &external,
                                  warned, &drawn)))
      return failure();
    RankedTensorType type = param.getTensorType();
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    std::string slotOf = param.getSlotOf() ? param.getSlotOf()->str() : "";
    // How to read an external file travels with it; embedded values are
    // read already.
    std::string layout = !external.empty() && param.getWeightsLayout() ? param.getWeightsLayout()->str() : "";
    std::vector<int64_t> rows;
    if (auto imageRows = param.getImageRows(); imageRows && !external.empty())
      rows.assign(imageRows->begin(), imageRows->end());
    parameters.push_back(fb::CreateParameterDirect(
        fbb, param.getSymName().str().c_str(), fb::DType::F32, &shape, param.isTrainable(),
        slotOf.empty() ? nullptr : slotOf.c_str(),
        dl::stringifyInitializer(param.getInitializer()).str().c_str(), offset, bytes,
        external.empty() ? nullptr : external.c_str(),
        external.empty() || !param.getLayerClass() ? nullptr : param.getLayerClass()->str().c_str(),
        layout.empty() ? nullptr : layout.c_str(), rows.empty() ? nullptr : &rows, drawn,
        drawn ? rt::parameterSeed(options.seed, param.getSymName().str()) : 0));
    parameterIndex[param.getSymName()] = int(parameters.size() - 1);
  }

  if (rt::Status status = pretrained.checkAllUsed(); !status.ok())
    return module.emitError(status.message());

  KernelCodeMap code;
  CudaCompileStats ignored;
  bool cuda =
      std::find(options.targets.begin(), options.targets.end(), "cuda") != options.targets.end();
  if (cuda && failed(addCudaCode(module, options, payload, &code, stats ? stats : &ignored)))
    return failure();

  std::vector<flatbuffers::Offset<fb::Program>> programs;
  for (auto [funcName, programName] : kPrograms) {
    auto func = module.lookupSymbol<func::FuncOp>(funcName);
    if (!func)
      continue;
    auto program = lowerProgram(func, programName, parameterIndex, code, cuda, fbb);
    if (failed(program))
      return failure();
    programs.push_back(*program);
  }

  nlohmann::json setup = nlohmann::json::object();
  for (auto op : module.getOps<dl::TrainSetupOp>())
    for (NamedAttribute a : op->getAttrs())
      if (a.getName() != op.getDataTransformLocationsAttrName()) // the compiler's, not the trainer's
        setup[a.getName().str()] = toJson(a.getValue());
  std::vector<flatbuffers::Offset<flatbuffers::String>> targets;
  for (const std::string &t : options.targets)
    targets.push_back(fbb.CreateString(t));
  std::string model = module.getSymName() ? module.getSymName()->str() : "model";
  bool deterministic = false;
  module.walk([&](dl::FusedOp group) { deterministic |= group.getOrderedSums(); });
  auto root = fb::CreateBundle(fbb, rt::kBundleVersion, fbb.CreateString(model),
                               fbb.CreateString(rt::toValidUtf8(options.source)),
                               fbb.CreateVector(targets),
                               fbb.CreateVector(parameters), fbb.CreateVector(programs),
                               fbb.CreateString(setup.dump(-1, ' ', false,
                                                           nlohmann::json::error_handler_t::replace)),
                               deterministic);
  fb::FinishBundleBuffer(fbb, root);
  if (fbb.GetSize() > (size_t(1) << 31))
    return module.emitError("the bundle's program data exceeds 2 GiB");
  *fileBytes = rt::encodeBundle(fbb.GetBufferPointer(), fbb.GetSize(), payload);
  // Signed with this machine's key: what says to cuda-sim that dlc compiled
  // its code here. Without a key (no writable HOME) the bundle stays
  // unsigned, and cuda-sim asks the user to vouch for it.
  (void)rt::cuda::signBundle(fileBytes);
  return success();
}

} // namespace dlc
