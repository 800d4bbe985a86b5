//===- BundleWriter.cpp - dl modules to dlc bundles -----------------------===//
#include "compiler/Target/BundleWriter.h"

#include "compiler/Codegen/CUDA/CudaEmitter.h"
#include "compiler/Target/ProgramLowering.h"
#include "dialects/DL/DLOps.h"
#include "runtime/bundle.h"
#include "runtime/initializers.h"
#include "runtime/safetensors.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

using namespace mlir;
namespace fb = dlc::rt::fb;

namespace dlc {
namespace {

/// The functions dlc-autodiff leaves, under the names programs have.
constexpr std::pair<const char *, const char *> kPrograms[] = {
    {"forward", "infer"}, {"grad", "grad"}, {"train_step", "train_step"}};

nlohmann::json toJson(Attribute a) {
  if (auto b = dyn_cast<BoolAttr>(a))
    return b.getValue();
  if (auto i = dyn_cast<IntegerAttr>(a))
    return i.getInt();
  if (auto f = dyn_cast<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto s = dyn_cast<StringAttr>(a))
    return s.str();
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
                                 std::vector<uint8_t> &payload, uint64_t *offset,
                                 uint64_t *bytes, std::string *external,
                                 std::set<std::string> &warned) {
  RankedTensorType type = param.getTensorType();
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  int64_t n = type.getNumElements();
  std::vector<float> values(size_t(n), 0.0f);
  std::string name = param.getSymName().str();
  if (auto file = param.getWeightsFile()) {
    rt::SafetensorsFile weights;
    rt::Status status = rt::SafetensorsFile::open(file->str(), &weights);
    if (status.code() == rt::StatusCode::kNotFound) {
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
    if (!status.ok())
      return param.emitError(status.message());
    const rt::SafetensorsTensor *t = weights.find(name);
    if (!t)
      return param.emitError("weights file '") << *file << "' has no tensor '" << name << "'";
    if (t->shape != shape)
      return param.emitError("tensor '") << name << "' in '" << *file << "' has a different shape";
    std::vector<float> read;
    status = rt::readFloat32(*t, &read);
    if (!status.ok())
      return param.emitError(status.message());
    values = std::move(read);
  } else {
    rt::Status status = rt::initializeParameter(
        dl::stringifyInitializer(param.getInitializer()).str(), shape,
        rt::parameterSeed(options.seed, name), values.data());
    if (!status.ok())
      return param.emitError(status.message());
  }
  payload.resize((payload.size() + 63) / 64 * 64);
  *offset = payload.size();
  *bytes = values.size() * sizeof(float);
  const auto *p = reinterpret_cast<const uint8_t *>(values.data());
  payload.insert(payload.end(), p, p + *bytes);
  return success();
}

void appendBytes(std::vector<uint8_t> &payload, const std::string &bytes, uint64_t *offset) {
  payload.resize((payload.size() + 63) / 64 * 64);
  *offset = payload.size();
  payload.insert(payload.end(), bytes.begin(), bytes.end());
}

/// Emits the CUDA kernel of every dl.fused group of the program functions
/// and stores each distinct source once in |payload|.
LogicalResult emitCudaKernels(ModuleOp module, std::vector<uint8_t> &payload,
                              KernelCodeMap *code) {
  std::map<std::string, KernelCode> bySource; // source with its name blanked
  int index = 0;
  bool ok = true;
  for (auto [funcName, programName] : kPrograms) {
    auto func = module.lookupSymbol<func::FuncOp>(funcName);
    if (!func)
      continue;
    for (auto group : func.getBody().getOps<dl::FusedOp>()) {
      FailureOr<cuda::CudaKernel> kernel = cuda::emitKernel(group, index++);
      if (failed(kernel)) {
        ok = false;
        continue;
      }
      std::string key = kernel->source;
      for (size_t at = key.find(kernel->name); at != std::string::npos;
           at = key.find(kernel->name, at))
        key.replace(at, kernel->name.size(), "@");
      auto [it, inserted] = bySource.try_emplace(key);
      if (inserted) {
        KernelCode &c = it->second;
        c.entry = kernel->name;
        c.grid = kernel->grid;
        c.block = kernel->block;
        c.takesStep = kernel->takesStep;
        c.zeroedResults = kernel->zeroedOutputs;
        appendBytes(payload, kernel->source, &c.sourceOffset);
        c.sourceBytes = kernel->source.size();
      }
      (*code)[group.getOperation()] = it->second;
    }
  }
  return success(ok);
}

} // namespace

LogicalResult writeBundle(ModuleOp module, const BundleOptions &options,
                          std::vector<uint8_t> *fileBytes) {
  flatbuffers::FlatBufferBuilder fbb(1 << 16);
  std::vector<uint8_t> payload;
  llvm::StringMap<int> parameterIndex;
  std::vector<flatbuffers::Offset<fb::Parameter>> parameters;
  std::set<std::string> warned;
  for (dl::ParamOp param : module.getOps<dl::ParamOp>()) {
    uint64_t offset = 0, bytes = 0;
    std::string external;
    if (failed(appendInitialValue(param, options, payload, &offset, &bytes, &external, warned)))
      return failure();
    RankedTensorType type = param.getTensorType();
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    std::string slotOf = param.getSlotOf() ? param.getSlotOf()->str() : "";
    parameters.push_back(fb::CreateParameterDirect(
        fbb, param.getSymName().str().c_str(), fb::DType::F32, &shape, param.isTrainable(),
        slotOf.empty() ? nullptr : slotOf.c_str(),
        dl::stringifyInitializer(param.getInitializer()).str().c_str(), offset, bytes,
        external.empty() ? nullptr : external.c_str()));
    parameterIndex[param.getSymName()] = int(parameters.size() - 1);
  }

  KernelCodeMap code;
  if (std::find(options.targets.begin(), options.targets.end(), "cuda") != options.targets.end() &&
      failed(emitCudaKernels(module, payload, &code)))
    return failure();

  std::vector<flatbuffers::Offset<fb::Program>> programs;
  for (auto [funcName, programName] : kPrograms) {
    auto func = module.lookupSymbol<func::FuncOp>(funcName);
    if (!func)
      continue;
    auto program = lowerProgram(func, programName, parameterIndex, code, fbb);
    if (failed(program))
      return failure();
    programs.push_back(*program);
  }

  nlohmann::json setup = nlohmann::json::object();
  for (auto op : module.getOps<dl::TrainSetupOp>())
    for (NamedAttribute a : op->getAttrs())
      setup[a.getName().str()] = toJson(a.getValue());
  std::vector<flatbuffers::Offset<flatbuffers::String>> targets;
  for (const std::string &t : options.targets)
    targets.push_back(fbb.CreateString(t));
  std::string model = module.getSymName() ? module.getSymName()->str() : "model";
  auto root = fb::CreateBundle(fbb, rt::kBundleVersion, fbb.CreateString(model),
                               fbb.CreateString(options.source), fbb.CreateVector(targets),
                               fbb.CreateVector(parameters), fbb.CreateVector(programs),
                               fbb.CreateString(setup.dump()));
  fb::FinishBundleBuffer(fbb, root);
  if (fbb.GetSize() > (size_t(1) << 31))
    return module.emitError("the bundle's program data exceeds 2 GiB");
  *fileBytes = rt::encodeBundle(fbb.GetBufferPointer(), fbb.GetSize(), payload);
  return success();
}

} // namespace dlc
