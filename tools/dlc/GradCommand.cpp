//===- GradCommand.cpp - `dlc grad`: loss and gradients of one batch -----===//
//
// The contract tests and users check dlc against: parameters and a batch in,
// the batch-mean loss and the gradient of every trainable parameter out, all
// as safetensors keyed by Keras names.
//
//===----------------------------------------------------------------------===//
#include "tools/dlc/GradCommand.h"
#include "compiler/Reference/Evaluator.h"
#include "compiler/Pipelines/Pipelines.h"
#include "compiler/Target/BundleWriter.h"
#include "dialects/DL/DLOps.h"
#include "runtime/class_ids.h"
#include "runtime/float16.h"
#include "runtime/safetensors.h"
#include "runtime/session.h"
#include "tools/dlc/RuntimeCommands.h"

#include "mlir/Pass/PassManager.h"

#include <cstring>
#include <set>

using namespace mlir;
using namespace dlc;

namespace {
/// An output of the @evaluate program (each example's loss or a metric's
/// scores), by its name, for --eval-out.
struct NamedTensor {
  std::string name;
  ref::RefTensor value;
};

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + (ShapedType::isDynamic(shape[i]) ? std::string("N")
                                                               : std::to_string(shape[i]));
  return text + "]";
}

/// Reads |view| as a tensor of |type| (dynamic dims take the file's sizes).
std::string readTensor(const rt::SafetensorsTensor &view, RankedTensorType type, const std::string &file,
                       ref::RefTensor *out) {
  std::string where = "'" + view.name + "' in " + file;
  // One-hot rows where the program takes class ids (dlc-class-id-labels).
  std::vector<int64_t> idsShape;
  for (int64_t d : type.getShape())
    idsShape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  if (type.getElementType().isSignlessInteger() && rt::holdsOneHotRowsFor(view, idsShape)) {
    std::vector<int64_t> ids;
    if (rt::Status status = rt::classIdsOfOneHotTensor(view, where, &ids); !status.ok())
      return status.message();
    out->shape.assign(view.shape.begin(), view.shape.end() - 1);
    out->integer = true;
    out->data.assign(ids.begin(), ids.end());
    return "";
  }
  if (int64_t(view.shape.size()) != type.getRank() ||
      failed(verifyCompatibleShape(view.shape, type.getShape())))
    return where + " has shape " + shapeText(view.shape) + ", expected " +
           shapeText(type.getShape());
  out->shape = view.shape;
  out->integer = type.getElementType().isSignlessInteger();
  if (out->integer) {
    std::vector<int64_t> values;
    if (rt::Status status = rt::readInt64(view, &values); !status.ok())
      return where + ": " + status.message() + " (expected integer ids)";
    out->data.assign(values.begin(), values.end());
    return "";
  }
  std::vector<float> values;
  if (rt::Status status = rt::readFloat32(view, &values); !status.ok())
    return where + ": " + status.message() + " (expected floats)";
  // A tensor declared float16 or bfloat16 holds the values rounded to it.
  out->data.resize(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    out->data[i] = ref::roundTo(type.getElementType(), values[i]);
  return "";
}

std::string loadParams(ModuleOp module, const std::string &path, ref::ParamMap *params) {
  rt::SafetensorsFile file;
  if (rt::Status status = rt::SafetensorsFile::open(path, &file); !status.ok())
    return status.message();
  std::vector<std::string> missing;
  std::set<std::string> known;
  for (auto param : module.getOps<dl::ParamOp>()) {
    if (param.isOptimizerSlot()) // optimizer state, not part of the model
      continue;
    std::string name = param.getSymName().str();
    known.insert(name);
    const rt::SafetensorsTensor *view = file.find(name);
    if (!view) {
      missing.push_back(name);
      continue;
    }
    if (std::string error = readTensor(*view, param.getTensorType(), path, &(*params)[name]);
        !error.empty())
      return error;
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 10; ++i)
      list += (i ? ", " : "") + missing[i];
    if (missing.size() > 10)
      list += ", ... (" + std::to_string(missing.size()) + " in all)";
    return path + " lacks parameters: " + list;
  }
  for (const rt::SafetensorsTensor &view : file.tensors())
    if (!known.count(view.name))
      return path + " holds '" + view.name + "', which is not a parameter of the model";
  return "";
}

std::string loadBatch(func::FuncOp grad, const std::string &path,
                      std::vector<ref::RefTensor> *arguments) {
  rt::SafetensorsFile file;
  if (rt::Status status = rt::SafetensorsFile::open(path, &file); !status.ok())
    return status.message();
  unsigned count = grad.getNumArguments();
  arguments->resize(count);
  int64_t batch = -1;
  std::string batchFrom;
  for (unsigned i = 0; i < count; ++i) {
    auto name = grad.getArgAttrOfType<StringAttr>(i, "dl.name");
    std::string key = name ? name.str() : "input" + std::to_string(i);
    const rt::SafetensorsTensor *view = file.find(key);
    // A model with one input also takes it under the name `input`.
    if (!view && count == 2 && i == 0)
      view = file.find("input");
    if (!view)
      return path + " lacks '" + key + "'" + (count == 2 && i == 0 ? " (or 'input')" : "");
    auto type = cast<RankedTensorType>(grad.getArgumentTypes()[i]);
    if (std::string error = readTensor(*view, type, path, &(*arguments)[i]); !error.empty())
      return error;
    int64_t rows = view->shape.empty() ? -1 : view->shape.front();
    if (batch >= 0 && rows != batch)
      return path + ": '" + view->name + "' has " + std::to_string(rows) + " examples but '" +
             batchFrom + "' has " + std::to_string(batch);
    batch = rows;
    batchFrom = view->name;
  }
  if (batch <= 0)
    return path + ": the batch is empty";
  return "";
}
/// What @train_step takes besides @grad's batch and the step, after
/// dlc-augment-on-device: the batch before a crop the step makes itself, in
/// place of the model's input of the same position (`image/uncropped`,
/// from the batch file), and after the step the augmentation keys (from the
/// batch file by name, else each example's index in the batch and (seed,
/// epoch) = (0, 0)).
struct StepInputs {
  std::map<unsigned, ref::RefTensor> replaced;
  std::vector<ref::RefTensor> extras;
};

std::string loadStepInputs(func::FuncOp trainStep, func::FuncOp grad, const std::string &path,
                           int64_t rows, StepInputs *out) {
  rt::SafetensorsFile file;
  if (rt::Status status = rt::SafetensorsFile::open(path, &file); !status.ok())
    return status.message();
  const unsigned first = grad.getNumArguments() + 1; // after the step
  for (unsigned i = 0; i < trainStep.getNumArguments(); ++i) {
    auto name = trainStep.getArgAttrOfType<StringAttr>(i, "dl.name");
    if (i + 1 < first && name == grad.getArgAttrOfType<StringAttr>(i, "dl.name"))
      continue; // the batch's own
    if (i + 1 == first)
      continue; // the step
    auto type = cast<RankedTensorType>(trainStep.getArgumentTypes()[i]);
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    for (int64_t &d : shape)
      d = ShapedType::isDynamic(d) ? rows : d; // the batch
    ref::RefTensor value(shape);
    value.integer = type.getElementType().isSignlessInteger();
    if (const rt::SafetensorsTensor *view = name ? file.find(name.str()) : nullptr) {
      if (std::string error = readTensor(*view, type, path, &value); !error.empty())
        return error;
    } else if (i >= first && name && name.getValue() == "example_ids") {
      for (int64_t e = 0; e < value.size(); ++e)
        value[e] = double(e);
    } else if (i < first || !name || name.getValue() != "augment_seed") {
      return path + " lacks '" + (name ? name.str() : "input" + std::to_string(i)) +
             "', an input of the training step" +
             (i < first ? " (the batch before the crop the step makes)" : "");
    }
    if (i < first)
      out->replaced[i] = std::move(value);
    else
      out->extras.push_back(std::move(value));
  }
  return "";
}

/// Runs @grad through a bundle on a runtime device (cpu, cuda, cuda-sim):
/// the path `dlc train` takes.
std::string runOnDevice(ModuleOp original, const std::string &backend, const ref::ParamMap &params,
                        const std::vector<ref::RefTensor> &arguments,
                        const StepInputs &stepInputs,
                        std::vector<ref::RefTensor> *results, const GradOptions &options,
                        ref::ParamMap *stepped, std::vector<NamedTensor> *evaluated) {
  // Before compiling: a missing GPU or host compiler is the clearer error.
  std::unique_ptr<rt::Device> device;
  // The bundle is compiled here, in memory: signed, so trust is not needed.
  if (rt::Status s = createDevice(backend, /*trustBundleCode=*/false, &device); !s.ok())
    return s.message();
  OwningOpRef<ModuleOp> module = original.clone();
  BundleOptions bundleOptions;
  if (backend != "cpu")
    bundleOptions.targets = {"cpu", "cuda"};
  if (backend == "cuda-sim") // the emulation compiles the source itself
    bundleOptions.cudaArchs.clear();
  // The step applies its data transforms on every backend here, as the
  // reference does: what `dlc grad` checks.
  if (failed(runKernelPipeline(*module, arguments.front().shape.front(), bundleOptions.targets,
                               options.precision, /*augmentInStep=*/true, options.kernels)))
    return "could not compile the model (see the errors above)";
  std::vector<uint8_t> bytes;
  if (failed(writeBundle(*module, bundleOptions, &bytes)))
    return "could not write the bundle (see the errors above)";
  std::unique_ptr<rt::Bundle> loaded;
  if (rt::Status s = rt::Bundle::fromBytes(std::move(bytes), "<in memory>", &loaded); !s.ok())
    return s.message();
  std::unique_ptr<rt::Session> session;
  if (rt::Status s = rt::Session::create(std::move(loaded), std::move(device), &session); !s.ok())
    return s.message();
  for (const auto &[name, value] : params) {
    rt::Parameter *p = session->parameter(name.str());
    if (!p)
      return "the bundle has no parameter '" + name.str() + "'";
    if (p->dtype != rt::DType::kF32 || p->bytes.size() != value.data.size() * sizeof(float))
      return "parameter '" + name.str() + "' is not f32 of " +
             std::to_string(value.data.size()) + " elements";
    std::vector<float> values(value.data.begin(), value.data.end());
    std::memcpy(p->bytes.data(), values.data(), p->bytes.size());
  }
  if (rt::Status s = session->parametersChanged(); !s.ok())
    return s.message();
  std::vector<rt::TensorSpec> specs = session->inputs("grad");
  std::vector<std::vector<uint8_t>> storage(arguments.size());
  std::vector<rt::TensorView> inputs;
  for (size_t i = 0; i < arguments.size() && i < specs.size(); ++i) {
    const ref::RefTensor &a = arguments[i];
    rt::TensorView v{nullptr, specs[i].dtype, a.shape};
    storage[i].resize(v.bytes());
    v.data = storage[i].data();
    for (size_t j = 0; j < a.data.size(); ++j) {
      if (rt::isFloatDType(v.dtype))
        rt::storeElement(v.dtype, v.data, int64_t(j), a.data[j]);
      else if (v.dtype == rt::DType::kI64)
        v.i64()[j] = int64_t(a.data[j]);
      else if (a.data[j] == double(int32_t(a.data[j])))
        v.i32()[j] = int32_t(a.data[j]);
      else
        return "'" + specs[i].name + "' holds " + std::to_string(int64_t(a.data[j])) +
               " at element " + std::to_string(j) + ", which does not fit int32";
    }
    inputs.push_back(v);
  }
  std::vector<rt::TensorView> outputs;
  rt::RunOptions gradRun; // the step's dropout masks, as in train_step below
  gradRun.step = uint64_t(options.step);
  if (rt::Status s = session->run("grad", inputs, &outputs, gradRun); !s.ok())
    return s.message();
  for (const rt::TensorView &o : outputs) {
    ref::RefTensor t;
    t.shape = o.shape;
    t.data.assign(o.f32(), o.f32() + o.numel());
    results->push_back(std::move(t));
  }
  if (!options.evalOut.empty()) {
    if (!session->hasProgram("evaluate"))
      return "the model has no evaluate program (its output has no class axis after the batch)";
    std::vector<rt::TensorView> scores;
    if (rt::Status s = session->run("evaluate", inputs, &scores); !s.ok())
      return s.message();
    std::vector<rt::TensorSpec> names = session->outputs("evaluate");
    for (size_t i = 0; i < scores.size(); ++i) {
      ref::RefTensor t;
      t.shape = scores[i].shape;
      t.data.assign(scores[i].f32(), scores[i].f32() + scores[i].numel());
      evaluated->push_back({names[i].name, std::move(t)});
    }
  }
  if (options.stepOut.empty())
    return "";
  int64_t step = options.step;
  std::vector<std::vector<float>> replacedStorage;
  for (const auto &[index, value] : stepInputs.replaced) {
    replacedStorage.emplace_back(value.data.begin(), value.data.end());
    inputs[index] = rt::TensorView{replacedStorage.back().data(), rt::DType::kF32, value.shape};
  }
  inputs.push_back(rt::TensorView{&step, rt::DType::kI64, {}});
  std::vector<std::vector<int64_t>> extraStorage;
  for (const ref::RefTensor &extra : stepInputs.extras) {
    extraStorage.emplace_back(extra.data.begin(), extra.data.end());
    inputs.push_back(rt::TensorView{extraStorage.back().data(), rt::DType::kI64, extra.shape});
  }
  rt::RunOptions run;
  run.step = uint64_t(step);
  if (rt::Status s = session->run("train_step", inputs, &outputs, run); !s.ok())
    return s.message();
  if (rt::Status s = session->syncParametersToHost(); !s.ok())
    return s.message();
  for (rt::Parameter &p : session->parameters()) {
    if (p.dtype != rt::DType::kF32)
      return "parameter '" + p.name + "' is " + rt::dtypeName(p.dtype) + ", not f32";
    const float *values = static_cast<const float *>(p.view().data);
    ref::RefTensor t;
    t.shape = p.shape;
    t.data.assign(values, values + p.bytes.size() / sizeof(float));
    (*stepped)[p.name] = std::move(t);
  }
  return "";
}

/// One training step on the reference from |params| (optimizer state starts
/// as in a fresh bundle: zero, or its constant): every parameter and slot
/// after it.
std::string stepOnReference(ModuleOp module, const ref::ParamMap &params,
                            std::vector<ref::RefTensor> arguments,
                            const StepInputs &stepInputs, const GradOptions &options,
                            ref::ParamMap *stepped) {
  auto trainStep = module.lookupSymbol<func::FuncOp>("train_step");
  if (!trainStep)
    return "the model has no training step";
  ref::ParamMap all;
  for (const auto &entry : params)
    all[entry.first()] = entry.second;
  for (auto param : module.getOps<dl::ParamOp>())
    if (!all.count(param.getSymName())) {
      auto shape = param.getTensorType().getShape();
      ref::RefTensor initial(std::vector<int64_t>(shape.begin(), shape.end()));
      if (std::optional<DenseElementsAttr> constant = param.getInitialValue())
        initial.data.assign(constant->getValues<float>().begin(), constant->getValues<float>().end());
      all[param.getSymName()] = std::move(initial);
    }
  ref::RefTensor step(std::vector<int64_t>{});
  step[0] = double(options.step);
  step.integer = true;
  for (const auto &[index, value] : stepInputs.replaced)
    arguments[index] = value;
  arguments.push_back(std::move(step));
  arguments.insert(arguments.end(), stepInputs.extras.begin(), stepInputs.extras.end());
  ref::EvalOptions evalOptions;
  evalOptions.step = uint64_t(options.step);
  evalOptions.roundingProbe = options.roundingProbe;
  ref::ParamMap updates;
  if (failed(ref::evaluate(trainStep, arguments, all, evalOptions, &updates)))
    return "evaluation of the training step failed (see the errors above)";
  for (auto &entry : updates)
    all[entry.first()] = std::move(entry.second);
  for (auto &entry : all)
    (*stepped)[entry.first()] = std::move(entry.second);
  return "";
}

std::string writeTensors(const std::string &path, const std::vector<std::string> &names,
                         const std::vector<const ref::RefTensor *> &values) {
  std::vector<std::vector<float>> storage(values.size());
  std::vector<rt::TensorToWrite> tensors;
  for (size_t i = 0; i < values.size(); ++i) {
    storage[i].assign(values[i]->data.begin(), values[i]->data.end());
    tensors.push_back({names[i], rt::DType::kF32, values[i]->shape, storage[i].data(),
                       storage[i].size() * sizeof(float)});
  }
  rt::Status status = rt::writeSafetensors(path, tensors);
  return status.ok() ? "" : status.message();
}
} // namespace

std::string dlc::runGrad(ModuleOp module, const GradOptions &options) {
  const std::string &backend = options.backend;
  if (backend != "ref" && backend != "cpu" && backend != "cuda" && backend != "cuda-sim")
    return "unknown backend '" + backend + "' (backends: ref, cpu, cuda, cuda-sim)";
  if (options.roundingProbe && backend != "ref")
    return "--rounding-probe perturbs the reference evaluator: it needs --backend ref";
  OwningOpRef<ModuleOp> original = module.clone();
  PassManager pm(module.getContext());
  dlc::addTrainingPasses(pm, options.precision, /*differentiate=*/true);
  if (failed(pm.run(module)))
    return "could not derive the gradients (see the errors above)";
  auto grad = module.lookupSymbol<func::FuncOp>("grad");

  ref::ParamMap params;
  if (std::string error = loadParams(module, options.weights, &params); !error.empty())
    return error;
  std::vector<ref::RefTensor> arguments;
  if (std::string error = loadBatch(grad, options.batch, &arguments); !error.empty())
    return error;
  StepInputs stepInputs;
  if (auto trainStep = module.lookupSymbol<func::FuncOp>("train_step"); trainStep && !options.stepOut.empty())
    if (std::string error = loadStepInputs(trainStep, grad, options.batch, arguments.front().shape.front(),
                                           &stepInputs);
        !error.empty())
      return error;
  FailureOr<std::vector<ref::RefTensor>> results = std::vector<ref::RefTensor>();
  ref::ParamMap stepped;
  std::vector<NamedTensor> evaluated; // the @evaluate program's outputs
  if (backend != "ref") {
    if (std::string error = runOnDevice(*original, backend, params, arguments, stepInputs, &*results, options,
                                        &stepped, &evaluated);
        !error.empty())
      return error;
  } else {
    ref::EvalOptions evalOptions;
    evalOptions.step = uint64_t(options.step);
    evalOptions.roundingProbe = options.roundingProbe;
    results = ref::evaluate(grad, arguments, params, evalOptions);
    if (failed(results))
      return "evaluation failed (see the errors above)";
    if (!options.evalOut.empty()) {
      auto evaluate = module.lookupSymbol<func::FuncOp>("evaluate");
      if (!evaluate)
        return "the model has no evaluate program (its output has no class axis after the batch)";
      FailureOr<std::vector<ref::RefTensor>> scores =
          ref::evaluate(evaluate, arguments, params, evalOptions);
      if (failed(scores))
        return "evaluation of @evaluate failed (see the errors above)";
      for (auto [index, score] : llvm::enumerate(*scores))
        evaluated.push_back(
            {evaluate.getResultAttrOfType<StringAttr>(index, "dl.name").str(), std::move(score)});
    }
    if (!options.stepOut.empty())
      if (std::string error = stepOnReference(module, params, arguments, stepInputs, options, &stepped);
          !error.empty())
        return error;
  }

  std::vector<std::string> names;
  std::vector<const ref::RefTensor *> values;
  for (auto [index, result] : llvm::enumerate(*results)) {
    names.push_back(grad.getResultAttrOfType<StringAttr>(index, "dl.name").str());
    values.push_back(&result);
  }
  if (std::string error = writeTensors(options.out, names, values); !error.empty())
    return error;
  if (!options.evalOut.empty()) {
    names.clear();
    values.clear();
    for (const NamedTensor &e : evaluated) {
      names.push_back(e.name);
      values.push_back(&e.value);
    }
    if (std::string error = writeTensors(options.evalOut, names, values); !error.empty())
      return error;
  }
  if (options.stepOut.empty())
    return "";
  names.clear();
  values.clear();
  for (auto &entry : stepped) {
    names.push_back(entry.first().str());
    values.push_back(&entry.second);
  }
  return writeTensors(options.stepOut, names, values);
}
