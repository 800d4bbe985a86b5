//===- GradCommand.cpp - `dlc grad`: loss and gradients of one batch -----===//
//
// The contract tests and users check dlc against: parameters and a batch in,
// the batch-mean loss and the gradient of every trainable parameter out, all
// as safetensors keyed by Keras names.
//
//===----------------------------------------------------------------------===//
#include "tools/dlc/GradCommand.h"
#include "compiler/Reference/Evaluator.h"
#include "compiler/Transforms/Passes.h"
#include "runtime/safetensors.h"

#include "mlir/Pass/PassManager.h"

#include <set>

using namespace mlir;
using namespace dlc;

namespace {
std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + (ShapedType::isDynamic(shape[i]) ? std::string("N")
                                                               : std::to_string(shape[i]));
  return text + "]";
}

/// Reads |view| as a tensor of |type| (dynamic dims take the file's sizes).
std::string readTensor(const rt::TensorView &view, RankedTensorType type, const std::string &file,
                       ref::RefTensor *out) {
  std::string where = "'" + view.name + "' in " + file;
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
    return where + ": " + status.message() + " (expected float32)";
  out->data.assign(values.begin(), values.end());
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
    const rt::TensorView *view = file.find(name);
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
  for (const rt::TensorView &view : file.tensors())
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
    const rt::TensorView *view = file.find(key);
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
} // namespace

std::string dlc::runGrad(ModuleOp module, const GradOptions &options) {
  if (options.backend != "ref")
    return "backend '" + options.backend + "' is not available yet; use --backend ref";
  PassManager pm(module.getContext());
  pm.addPass(dlc::createAutodiffPass());
  if (failed(pm.run(module)))
    return "could not derive the gradients (see the errors above)";
  auto grad = module.lookupSymbol<func::FuncOp>("grad");

  ref::ParamMap params;
  if (std::string error = loadParams(module, options.weights, &params); !error.empty())
    return error;
  std::vector<ref::RefTensor> arguments;
  if (std::string error = loadBatch(grad, options.batch, &arguments); !error.empty())
    return error;
  FailureOr<std::vector<ref::RefTensor>> results = ref::evaluate(grad, arguments, params);
  if (failed(results))
    return "evaluation failed (see the errors above)";

  std::vector<std::vector<float>> storage(results->size());
  std::vector<rt::TensorToWrite> tensors;
  for (auto [index, result] : llvm::enumerate(*results)) {
    storage[index].assign(result.data.begin(), result.data.end());
    auto name = grad.getResultAttrOfType<StringAttr>(index, "dl.name");
    tensors.push_back({name.str(), rt::DType::F32, result.shape, storage[index].data(),
                       storage[index].size() * sizeof(float)});
  }
  if (rt::Status status = rt::writeSafetensors(options.out, tensors); !status.ok())
    return status.message();
  return "";
}
