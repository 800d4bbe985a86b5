//===- ModelBuilder.cpp - .dl models to the dl dialect --------------------===//
//
// expandModel -> assignLayerNames -> emit: one forward function whose ops
// carry NameLoc(layer name, file:line:col), parameters at module level, and
// the training setup.
//
//===----------------------------------------------------------------------===//
#include "frontend/ModelBuilder.h"
#include "dialects/DL/DLOps.h"
#include "frontend/Expansion.h"
#include "frontend/TrainSetup.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace dlc;

namespace {
const ast::Model *selectModel(const Program &program, StringRef modelName, MLIRContext *context) {
  const ast::File &main = program.main();
  if (!modelName.empty()) {
    auto it = program.models.find(modelName);
    if (it != program.models.end())
      return it->second;
    InFlightDiagnostic diag = emitError(FileLineColLoc::get(context, main.path, 1, 1))
                              << "no model named '" << modelName << "'";
    std::vector<std::string> names;
    for (const auto &entry : program.models)
      names.push_back(entry.getKey().str());
    if (auto match = dl::closestMatch(modelName, names))
      diag.attachNote() << "did you mean '" << *match << "'?";
    return nullptr;
  }
  if (main.models.size() == 1)
    return &main.models.front();
  InFlightDiagnostic diag = emitError(FileLineColLoc::get(context, main.path, 1, 1));
  if (main.models.empty()) {
    diag << "no model in this file";
    diag.attachNote() << "a model reads `model name { input x: [28, 28, 1] ... }`";
    return nullptr;
  }
  diag << "this file defines " << main.models.size() << " models; choose one with --model";
  SmallVector<StringRef> names;
  for (const ast::Model &model : main.models)
    names.push_back(model.name);
  diag.attachNote() << "models: " << llvm::join(names, ", ");
  return nullptr;
}

FailureOr<const ast::Train *> selectTrain(const Program &program, StringRef model) {
  const ast::Train *found = nullptr;
  for (const ast::Train &train : program.main().trains) {
    if (train.model != model) {
      if (!program.models.count(train.model)) {
        InFlightDiagnostic diag = emitError(train.modelLoc)
                                  << "'train' names unknown model '" << train.model << "'";
        std::vector<std::string> names;
        for (const auto &entry : program.models)
          names.push_back(entry.getKey().str());
        if (auto match = dl::closestMatch(train.model, names))
          diag.attachNote() << "did you mean '" << *match << "'?";
        return failure();
      }
      continue;
    }
    if (found) {
      InFlightDiagnostic diag = emitError(train.loc)
                                << "model '" << model << "' has two training setups";
      diag.attachNote(found->loc) << "the first is here";
      return failure();
    }
    found = &train;
  }
  return found;
}
} // namespace

FailureOr<OwningOpRef<ModuleOp>> dlc::buildModule(const Program &program, StringRef modelName,
                                                  MLIRContext *context) {
  context->loadDialect<dl::DLDialect, func::FuncDialect>();
  const ast::Model *model = selectModel(program, modelName, context);
  if (!model)
    return failure();
  FailureOr<const ast::Train *> train = selectTrain(program, model->name);
  if (failed(train))
    return failure();
  FailureOr<Expansion> expansion = expandModel(program, *model);
  if (failed(expansion) || failed(assignLayerNames(*expansion)))
    return failure();

  OwningOpRef<ModuleOp> module = ModuleOp::create(model->loc, StringRef(model->name));
  OpBuilder builder(context);
  builder.setInsertionPointToEnd(module->getBody());

  SmallVector<Type> inputTypes;
  for (const ModelInput &input : expansion->inputs) {
    SmallVector<int64_t> shape{ShapedType::kDynamic};
    shape.append(input.shape.begin(), input.shape.end());
    inputTypes.push_back(RankedTensorType::get(shape, input.elementType));
  }
  auto function = builder.create<func::FuncOp>(model->loc, kForwardFunction,
                                               builder.getFunctionType(inputTypes, {}));
  Block *entry = function.addEntryBlock();
  for (auto [index, input] : llvm::enumerate(expansion->inputs)) {
    function.setArgAttr(index, "dl.name", builder.getStringAttr(input.name));
    entry->getArgument(index).setLoc(NameLoc::get(builder.getStringAttr(input.name), input.loc));
  }

  OpBuilder body = OpBuilder::atBlockEnd(entry);
  LayerEmitter emitter(*module, body);
  std::vector<Value> values(entry->getArguments().begin(), entry->getArguments().end());
  // Keras layers cast their inputs to the compute type, float32 in an fp32
  // program: a float16, bfloat16 or float64 input is stored as declared and
  // cast once, where it enters.
  for (auto [index, input] : llvm::enumerate(expansion->inputs)) {
    auto type = cast<RankedTensorType>(values[index].getType());
    if (!isa<FloatType>(type.getElementType()) || type.getElementType().isF32())
      continue;
    values[index] = body.create<dl::CastOp>(entry->getArgument(index).getLoc(),
                                            RankedTensorType::get(type.getShape(), body.getF32Type()),
                                            values[index], TypeAttr::get(body.getF32Type()));
  }
  std::vector<std::string> producers(values.size());
  for (const ModelInput &input : expansion->inputs)
    producers.push_back(input.name);
  for (const LayerInstance &layer : expansion->layers) {
    LayerCall call{NameLoc::get(builder.getStringAttr(layer.name), layer.loc), layer.name,
                   layer.options, layer.trainable, layer.weightsFile, {}, layer.kind->defaultName};
    for (int input : layer.inputs)
      call.inputs.push_back(values[input]);
    FailureOr<Value> output = layer.kind->emit(emitter, call);
    if (failed(output))
      return failure();
    values.resize(std::max<size_t>(values.size(), layer.output + 1));
    producers.resize(values.size());
    values[layer.output] = *output;
    producers[layer.output] = layer.name;
  }

  SmallVector<Value> results;
  for (const ModelOutput &output : expansion->outputs)
    results.push_back(values[output.value]);
  body.create<func::ReturnOp>(model->loc, results);
  function.setFunctionType(builder.getFunctionType(inputTypes, ValueRange(results).getTypes()));
  for (auto [index, output] : llvm::enumerate(expansion->outputs)) {
    const std::string &label = output.label.empty() ? producers[output.value] : output.label;
    function.setResultAttr(index, "dl.name", builder.getStringAttr(label));
  }

  std::vector<std::string> outputNames;
  for (unsigned o = 0; o < function.getNumResults(); ++o)
    outputNames.push_back(function.getResultAttrOfType<StringAttr>(o, "dl.name").str());
  if (*train && failed(buildTrainSetup(**train, outputNames, builder)))
    return failure();
  if (failed(verify(*module)))
    return failure();
  return module;
}
