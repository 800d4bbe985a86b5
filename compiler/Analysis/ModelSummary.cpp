//===- ModelSummary.cpp - Keras-style model.summary() of a dl module -----===//
#include "compiler/Analysis/ModelSummary.h"
#include "dialects/DL/DLOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <limits>

using namespace mlir;
using namespace dlc;

namespace {
/// The Keras class a dl op's layer would have in model.summary().
StringRef kerasClass(Operation *op) {
  static const llvm::StringMap<StringRef> classes = {
      {"dl.conv2d", "Conv2D"},
      {"dl.max_pool2d", "MaxPooling2D"},
      {"dl.avg_pool2d", "AveragePooling2D"},
      {"dl.global_max_pool2d", "GlobalMaxPooling2D"},
      {"dl.global_avg_pool2d", "GlobalAveragePooling2D"},
      {"dl.dense", "Dense"},
      {"dl.flatten", "Flatten"},
      {"dl.reshape", "Reshape"},
      {"dl.dropout", "Dropout"},
      {"dl.batch_norm", "BatchNormalization"},
      {"dl.embedding", "Embedding"},
      {"dl.lstm", "LSTM"},
      {"dl.relu", "ReLU"},
      {"dl.sigmoid", "Activation"},
      {"dl.tanh", "Activation"},
      {"dl.gelu", "Activation"},
      {"dl.leaky_relu", "LeakyReLU"},
      {"dl.softmax", "Softmax"},
      {"dl.add", "Add"},
      {"dl.concat", "Concatenate"},
  };
  auto it = classes.find(op->getName().getStringRef());
  return it == classes.end() ? op->getName().getStringRef() : it->second;
}

std::string layerOf(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  return "";
}

std::string kerasShape(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return "?";
  std::string text = "(";
  for (auto [index, dim] : llvm::enumerate(tensor.getShape())) {
    if (index)
      text += ", ";
    text += ShapedType::isDynamic(dim) ? "None" : std::to_string(dim);
  }
  return text + (tensor.getRank() == 1 ? ",)" : ")");
}

std::string withCommas(int64_t value) {
  std::string digits = std::to_string(value), text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      text += ',';
    text += digits[i];
  }
  return text;
}

/// Keras' readable byte sizes: "364.54 KB".
std::string readableBytes(int64_t bytes) {
  const char *units[] = {"B", "KB", "MB", "GB", "TB"};
  double value = double(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return llvm::formatv("{0:F2} {1}", value, units[unit]).str();
}

std::string padded(StringRef text, size_t width) {
  std::string result = text.str();
  if (result.size() < width)
    result.append(width - result.size(), ' ');
  return result;
}

std::string describeConfig(dl::ConfigAttr config);

/// An option's value as the .dl source spells it.
std::string describeValue(Attribute value) {
  if (auto flag = dyn_cast<BoolAttr>(value))
    return flag.getValue() ? "true" : "false";
  if (auto number = dyn_cast<FloatAttr>(value))
    return llvm::formatv("{0}", llvm::format("%g", number.getValueAsDouble())).str();
  if (auto integer = dyn_cast<IntegerAttr>(value))
    return std::to_string(integer.getInt());
  if (auto string = dyn_cast<StringAttr>(value))
    return "\"" + string.str() + "\"";
  if (auto nested = dyn_cast<dl::ConfigAttr>(value))
    return describeConfig(nested);
  if (auto ints = dyn_cast<DenseI64ArrayAttr>(value)) {
    std::string text;
    for (int64_t v : ints.asArrayRef())
      text += (text.empty() ? "" : ", ") + std::to_string(v);
    return "[" + text + "]";
  }
  if (auto list = dyn_cast<ArrayAttr>(value)) {
    std::string text;
    for (Attribute element : list)
      text += (text.empty() ? "" : ", ") + describeValue(element);
    return "[" + text + "]";
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << value;
  return text;
}

std::string describeConfig(dl::ConfigAttr config) {
  std::string text = config.getKind().str();
  if (config.getOptions().empty())
    return text;
  text += "(";
  bool first = true;
  for (NamedAttribute option : config.getOptions()) {
    text += (first ? "" : ", ") + option.getName().str() + "=" + describeValue(option.getValue());
    first = false;
  }
  return text + ")";
}
} // namespace

ModelSummary dlc::summarizeModel(ModuleOp module) {
  ModelSummary summary;
  summary.model = module.getSymName().value_or("model").str();
  llvm::StringMap<size_t> rowOf;
  auto function = module.lookupSymbol<func::FuncOp>("forward");
  if (function) {
    for (BlockArgument argument : function.getArguments()) {
      auto name = function.getArgAttrOfType<StringAttr>(argument.getArgNumber(), "dl.name");
      summary.rows.push_back({name ? name.str() : "input", "InputLayer",
                              kerasShape(argument.getType()), 0});
    }
    function.walk([&](Operation *op) {
      if (isa<dl::WeightOp, func::ReturnOp>(op) || op->getNumResults() != 1)
        return;
      std::string layer = layerOf(op->getLoc());
      auto [it, inserted] = rowOf.try_emplace(layer, summary.rows.size());
      if (inserted)
        summary.rows.push_back({layer, kerasClass(op).str(), "", 0});
      summary.rows[it->second].outputShape = kerasShape(op->getResult(0).getType());
    });
  }
  for (auto param : module.getOps<dl::ParamOp>()) {
    if (param.isOptimizerSlot())
      continue;
    RankedTensorType type = param.getTensorType();
    int64_t count = type.getNumElements(); // at most 2^40 (the verifier's limit)
    int64_t bytes = count * int64_t(type.getElementTypeBitWidth() / 8);
    // Sums saturate: a model past 2^63 bytes is refused by checkModelFitsMemory.
    auto add = [](int64_t &sum, int64_t v) {
      if (__builtin_add_overflow(sum, v, &sum))
        sum = std::numeric_limits<int64_t>::max();
    };
    add(summary.totalParams, count);
    add(summary.totalBytes, bytes);
    if (param.isTrainable()) {
      add(summary.trainableParams, count);
      add(summary.trainableBytes, bytes);
    }
    StringRef layer = param.getSymName().rsplit('/').first;
    auto it = rowOf.find(layer);
    if (it != rowOf.end())
      summary.rows[it->second].params += count;
  }
  return summary;
}

void dlc::printSummary(const ModelSummary &summary, llvm::raw_ostream &os) {
  constexpr size_t kLayerWidth = 33, kShapeWidth = 26;
  std::string rule(kLayerWidth + kShapeWidth + 11, '_');
  std::string doubleRule(rule.size(), '=');
  os << "Model: \"" << summary.model << "\"\n" << rule << "\n";
  os << " " << padded("Layer (type)", kLayerWidth) << padded("Output Shape", kShapeWidth)
     << "Param #\n" << doubleRule << "\n";
  for (const SummaryRow &row : summary.rows)
    os << " " << padded(row.layer + " (" + row.kerasClass + ")", kLayerWidth - 1) << " "
       << padded(row.outputShape, kShapeWidth - 1) << " " << withCommas(row.params) << "\n";
  os << doubleRule << "\n";
  int64_t frozen = summary.totalParams - summary.trainableParams;
  int64_t frozenBytes = summary.totalBytes - summary.trainableBytes;
  os << "Total params: " << withCommas(summary.totalParams) << " ("
     << readableBytes(summary.totalBytes) << ")\n";
  os << "Trainable params: " << withCommas(summary.trainableParams) << " ("
     << readableBytes(summary.trainableBytes) << ")\n";
  os << "Non-trainable params: " << withCommas(frozen) << " (" << readableBytes(frozenBytes)
     << ")\n" << rule << "\n";
}

void dlc::printTrainSetup(ModuleOp module, llvm::raw_ostream &os) {
  auto setups = module.getOps<dl::TrainSetupOp>();
  if (setups.empty()) {
    os << "Training: no train section\n";
    return;
  }
  dl::TrainSetupOp setup = *setups.begin();
  os << "Training:\n";
  auto forward = module.lookupSymbol<func::FuncOp>("forward");
  const unsigned outputs = forward ? forward.getNumResults() : 1;
  if (outputs == 1) {
    os << "  loss:       " << describeConfig(setup.lossOf(0)) << "\n";
    os << "  optimizer:  " << describeConfig(setup.getOptimizer()) << "\n";
    os << "  metrics:    [";
    for (auto [index, metric] : llvm::enumerate(setup.metricsOf(0)))
      os << (index ? ", " : "") << describeConfig(metric);
    os << "]\n";
  } else {
    // Each output's loss, its weight and its metrics.
    for (unsigned o = 0; o < outputs; ++o) {
      auto name = forward.getResultAttrOfType<StringAttr>(o, "dl.name");
      os << "  output " << (name ? name.getValue() : StringRef("?")) << ": loss "
         << describeConfig(setup.lossOf(o)) << " x " << llvm::formatv("{0}", setup.lossWeightOf(o)).str() << ", metrics [";
      for (auto [index, metric] : llvm::enumerate(setup.metricsOf(o)))
        os << (index ? ", " : "") << describeConfig(metric);
      os << "]\n";
    }
    os << "  optimizer:  " << describeConfig(setup.getOptimizer()) << "\n";
  }
  os << "  batch_size: " << setup.getBatchSize() << ", epochs: " << setup.getEpochs()
     << ", precision: " << dl::stringifyPrecision(setup.getPrecision());
  if (std::optional<dl::ConfigAttr> lossScale = setup.getLossScale())
    os << ", loss_scale: " << describeConfig(*lossScale);
  os << "\n";
  if (std::optional<ArrayAttr> callbacks = setup.getCallbacks()) {
    os << "  callbacks:  [";
    for (auto [index, callback] : llvm::enumerate(*callbacks))
      os << (index ? ", " : "") << describeConfig(cast<dl::ConfigAttr>(callback));
    os << "]\n";
  }
  if (std::optional<dl::ConfigAttr> source = setup.getDataSource()) {
    os << "  data:       " << describeConfig(*source);
    for (Attribute step : setup.getDataTransforms())
      os << " -> " << describeConfig(cast<dl::ConfigAttr>(step));
    os << "\n";
  }
}
