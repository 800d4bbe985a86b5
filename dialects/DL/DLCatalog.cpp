//===- DLCatalog.cpp - Known kinds and options of the training setup -----===//
//
// Defaults and ranges are Keras 3's (keras.losses, keras.optimizers,
// keras.metrics, keras.layers preprocessing) unless noted.
//
//===----------------------------------------------------------------------===//
#include "dialects/DL/DLCatalog.h"
#include "dialects/DL/DLOps.h"
#include "runtime/loss_scale.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace dlc::dl;
using D = OptionDefault;
using T = OptionType;

namespace {
const Range kPositive{0, std::numeric_limits<double>::infinity(), true, false};
const Range kNonNegative{0, std::numeric_limits<double>::infinity(), false, false};
const Range kUnitOpen{0, 1, false, true};   // [0, 1)
const Range kUnitClosed{0, 1, false, false}; // [0, 1]
const Range kAtLeastOne{1, std::numeric_limits<double>::infinity(), false, false};

OptionSpec learningRate(double value) { return {"learning_rate", T::Rate, D::of(value), kPositive}; }
OptionSpec epsilon() { return {"epsilon", T::Float, D::of(1e-7), kPositive}; }
// Keras' gradient clipping, after loss scaling's division, at most one of
// them (runtime/settings.h): clipvalue clips each gradient element to
// [-clipvalue, clipvalue]; clipnorm rescales each parameter's gradient to an
// L2 norm of at most clipnorm; global_clipnorm rescales all gradients
// together to a joint L2 norm of at most global_clipnorm. Unset: none.
OptionSpec clipValue() { return {"clipvalue", T::Float, D::absent(), kPositive}; }
OptionSpec clipNorm() { return {"clipnorm", T::Float, D::absent(), kPositive}; }
OptionSpec globalClipNorm() { return {"global_clipnorm", T::Float, D::absent(), kPositive}; }

const std::vector<KindSpec> &losses() {
  static const std::vector<KindSpec> kinds = {
      {"categorical_crossentropy",
       {{"from_logits", T::Bool, D::of(false)},
        {"label_smoothing", T::Float, D::of(0.0), kUnitClosed}}},
      {"sparse_categorical_crossentropy", {{"from_logits", T::Bool, D::of(false)}}},
      {"binary_crossentropy",
       {{"from_logits", T::Bool, D::of(false)},
        {"label_smoothing", T::Float, D::of(0.0), kUnitClosed}}},
      {"mse", {}},
  };
  return kinds;
}

const std::vector<KindSpec> &optimizers() {
  static const std::vector<KindSpec> kinds = {
      {"sgd",
       {learningRate(0.01), {"momentum", T::Float, D::of(0.0), kUnitClosed},
        {"nesterov", T::Bool, D::of(false)}, clipValue(), clipNorm(), globalClipNorm()}},
      {"adam",
       {learningRate(0.001), {"beta_1", T::Float, D::of(0.9), kUnitOpen},
        {"beta_2", T::Float, D::of(0.999), kUnitOpen}, epsilon(),
        {"amsgrad", T::Bool, D::of(false)}, clipValue(), clipNorm(), globalClipNorm()}},
      {"adamw",
       {learningRate(0.001), {"weight_decay", T::Float, D::of(0.004), kNonNegative},
        {"beta_1", T::Float, D::of(0.9), kUnitOpen},
        {"beta_2", T::Float, D::of(0.999), kUnitOpen}, epsilon(),
        {"amsgrad", T::Bool, D::of(false)}, clipValue(), clipNorm(), globalClipNorm()}},
      {"rmsprop",
       {learningRate(0.001), {"rho", T::Float, D::of(0.9), kUnitOpen},
        {"momentum", T::Float, D::of(0.0), kUnitOpen}, epsilon(),
        {"centered", T::Bool, D::of(false)}, clipValue(), clipNorm(), globalClipNorm()}},
  };
  return kinds;
}

// keras.optimizers.schedules, given as an optimizer's learning_rate and
// evaluated on the device from the step (runtime/settings.h has the
// formulas).
const std::vector<KindSpec> &schedules() {
  const OptionSpec initial = {"initial_learning_rate", T::Float, D::required(), kPositive};
  const OptionSpec decaySteps = {"decay_steps", T::Float, D::required(), kPositive};
  static const std::vector<KindSpec> kinds = {
      {"exponential_decay",
       {initial, decaySteps, {"decay_rate", T::Float, D::required(), kPositive},
        {"staircase", T::Bool, D::of(false)}}},
      {"piecewise_constant",
       {{"boundaries", T::IntList, D::required(), kNonNegative},
        {"values", T::FloatOrList, D::required(), kPositive}}},
      {"cosine_decay",
       {initial, decaySteps, {"alpha", T::Float, D::of(0.0), kUnitClosed},
        {"warmup_target", T::Float, D::absent(), kPositive},
        {"warmup_steps", T::Int, D::of(0), kNonNegative}}},
  };
  return kinds;
}

const std::vector<KindSpec> &lossScales() {
  static const std::vector<KindSpec> kinds = {
      {"dynamic",
       {{"initial_scale", T::Float, D::of(dlc::rt::loss_scale::kInitialScale), {0, 1e38, true, false}},
        {"growth_steps", T::Int, D::of(dlc::rt::loss_scale::kGrowthSteps), {1, 1e9}}}},
      {"none", {}},
  };
  return kinds;
}

// keras.callbacks: what model.fit does at each epoch's end. `monitor` names
// a logged quantity: loss, val_loss, or a metric with or without val_.
const std::vector<KindSpec> &callbacks() {
  const OptionSpec monitor = {"monitor", T::String, D::of("val_loss")};
  const OptionSpec mode = {"mode", T::Word, D::of("auto"), {}, {"auto", "min", "max"}};
  static const std::vector<KindSpec> kinds = {
      {"early_stopping",
       {monitor, mode,
        {"patience", T::Int, D::of(0), kNonNegative},
        {"min_delta", T::Float, D::of(0.0), kNonNegative},
        {"restore_best_weights", T::Bool, D::of(false)},
        {"start_from_epoch", T::Int, D::of(0), kNonNegative}}},
      {"model_checkpoint", {monitor, mode, {"save_best_only", T::Bool, D::of(true)}}},
      {"tensorboard",
       {{"log_dir", T::Path, D::of("logs")},
        {"update_freq", T::Word, D::of("epoch"), {}, {"epoch", "batch"}}}},
  };
  return kinds;
}

const std::vector<KindSpec> &metrics() {
  static const std::vector<KindSpec> kinds = {
      {"accuracy", {}},
      {"top_k_accuracy", {{"k", T::Int, D::of(5), kAtLeastOne}}},
  };
  return kinds;
}

const std::vector<KindSpec> &dataSources() {
  const D none = D::of("");
  static const std::vector<KindSpec> kinds = {
      {"fashion_mnist", {{"path", T::Path, D::of("/usr/share/datasets/fashion-mnist")}}},
      {"idx",
       {{"train_images", T::Path, D::required()},
        {"train_labels", T::Path, D::required()},
        {"test_images", T::Path, none},
        {"test_labels", T::Path, none}}},
      {"text",
       {{"path", T::Path, D::required()},
        {"vocab_size", T::Int, D::of(1000), {2, 1e9}},
        {"sequence_length", T::Int, D::of(20), {1, 1e6}}}},
      {"npy",
       {{"x", T::Path, D::required()},
        {"y", T::Path, D::required()},
        {"test_x", T::Path, none},
        {"test_y", T::Path, none}}},
      {"npz", {{"train", T::Path, D::required()}, {"test", T::Path, none}}},
      {"safetensors", {{"train", T::Path, D::required()}, {"test", T::Path, none}}},
      {"csv",
       {{"train", T::Path, D::required()},
        {"test", T::Path, none},
        {"label", T::String, D::required()},
        {"columns", T::String, none},
        {"header", T::Bool, D::of(true)},
        {"delimiter", T::String, D::of(",")}}},
      {"image_folder",
       {{"path", T::Path, D::required()},
        {"test", T::Path, none},
        {"image_size", T::IntOrPair, D::absent(), {1, 16384}},
        {"color_mode", T::Word, D::absent(), {}, {"rgb", "grayscale", "rgba"}}}},
  };
  return kinds;
}

const std::vector<KindSpec> &dataTransforms() {
  static const std::vector<KindSpec> kinds = {
      {"rescale", {{"scale", T::Float, D::required()}, {"offset", T::Float, D::of(0.0)}}},
      {"normalize",
       {{"mean", T::FloatOrList, D::required()}, {"std", T::FloatOrList, D::required(), kPositive}}},
      {"imagenet_preprocess", {{"mode", T::Word, D::of("caffe"), {}, {"caffe", "torch", "tf"}}}},
      {"resize",
       {{"height", T::Int, D::required(), {1, 65536}},
        {"width", T::Int, D::required(), {1, 65536}},
        {"interpolation", T::Word, D::of("bilinear"), {}, {"bilinear", "nearest"}}}},
      {"random_flip",
       {{"mode", T::Word, D::of("horizontal"), {},
         {"horizontal", "vertical", "horizontal_and_vertical"}}}},
      {"random_rotation", {{"factor", T::Float, D::required(), kUnitClosed}}},
      {"random_crop",
       {{"height", T::Int, D::required(), {1, 65536}},
        {"width", T::Int, D::required(), {1, 65536}}}},
      {"random_zoom", {{"factor", T::Float, D::required(), kUnitOpen}}},
      {"random_translation",
       {{"height_factor", T::Float, D::required(), kUnitClosed},
        {"width_factor", T::Float, D::required(), kUnitClosed}}},
      {"random_brightness",
       {{"factor", T::Float, D::required(), kUnitClosed}, {"value_range", T::FloatOrList, D::absent()}}},
      {"random_contrast",
       {{"factor", T::Float, D::required(), kUnitClosed}, {"value_range", T::FloatOrList, D::absent()}}},
  };
  return kinds;
}

} // namespace

bool dlc::dl::changesExampleShape(StringRef kind) { return kind == "resize" || kind == "random_crop"; }

bool dlc::dl::givesClassIds(StringRef sourceKind) {
  static const StringRef kinds[] = {"fashion_mnist", "idx", "text", "image_folder"};
  return llvm::is_contained(kinds, sourceKind);
}

namespace {

std::string formatNumber(double v) {
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  return llvm::formatv("{0}", llvm::format("%g", v)).str();
}

LogicalResult verifyNumber(const OptionSpec &spec, double value, StringRef kind,
                           llvm::function_ref<InFlightDiagnostic()> emitError) {
  if (spec.range.contains(value))
    return success();
  return emitError() << "option '" << spec.name << "' of '" << kind << "' must be "
                     << spec.range.describe() << ", got " << formatNumber(value);
}

LogicalResult verifyOption(const OptionSpec &spec, Attribute value, StringRef kind,
                           llvm::function_ref<InFlightDiagnostic()> emitError) {
  auto typeError = [&](StringRef expected) {
    return emitError() << "option '" << spec.name << "' of '" << kind << "' must be "
                       << expected << ", got " << value;
  };
  switch (spec.type) {
  case T::Int: {
    auto attr = dyn_cast<IntegerAttr>(value);
    if (!attr || !attr.getType().isInteger(64))
      return typeError("an integer");
    return verifyNumber(spec, double(attr.getInt()), kind, emitError);
  }
  case T::Float: {
    auto attr = dyn_cast<FloatAttr>(value);
    if (!attr)
      return typeError("a number");
    return verifyNumber(spec, attr.getValueAsDouble(), kind, emitError);
  }
  case T::Bool:
    return isa<BoolAttr>(value) ? success() : typeError("true or false");
  case T::String:
  case T::Path:
    return isa<StringAttr>(value) ? success() : typeError("a string");
  case T::Word: {
    auto attr = dyn_cast<StringAttr>(value);
    if (attr && llvm::is_contained(spec.words, attr.getValue()))
      return success();
    SmallVector<StringRef> words(spec.words.begin(), spec.words.end());
    return typeError("one of " + llvm::join(words, ", "));
  }
  case T::FloatOrList: {
    if (auto attr = dyn_cast<FloatAttr>(value))
      return verifyNumber(spec, attr.getValueAsDouble(), kind, emitError);
    auto list = dyn_cast<ArrayAttr>(value);
    if (!list || list.empty())
      return typeError("a number or a non-empty list of numbers");
    for (Attribute element : list) {
      auto number = dyn_cast<FloatAttr>(element);
      if (!number)
        return typeError("a number or a non-empty list of numbers");
      if (failed(verifyNumber(spec, number.getValueAsDouble(), kind, emitError)))
        return failure();
    }
    return success();
  }
  case T::Rate: {
    if (auto attr = dyn_cast<FloatAttr>(value))
      return verifyNumber(spec, attr.getValueAsDouble(), kind, emitError);
    auto schedule = dyn_cast<ConfigAttr>(value);
    if (!schedule)
      return typeError("a number or a learning-rate schedule");
    return verifyConfig(Category::Schedule, schedule, emitError);
  }
  case T::IntOrPair:
  case T::IntList: {
    auto list = dyn_cast<DenseI64ArrayAttr>(value);
    if (!list || (spec.type == T::IntOrPair && list.size() != 2))
      return typeError(spec.type == T::IntOrPair ? "a pair of integers" : "a list of integers");
    for (int64_t element : list.asArrayRef())
      if (failed(verifyNumber(spec, double(element), kind, emitError)))
        return failure();
    return success();
  }
  }
  return failure();
}

} // namespace

bool Range::contains(double v) const {
  if (std::isnan(v))
    return false;
  bool aboveMin = minOpen ? v > min : v >= min;
  bool belowMax = maxOpen ? v < max : v <= max;
  return aboveMin && belowMax;
}

std::string Range::describe() const {
  bool hasMin = !std::isinf(min), hasMax = !std::isinf(max);
  if (hasMin && hasMax)
    return llvm::formatv("in {0}{1}, {2}{3}", minOpen ? "(" : "[", formatNumber(min),
                         formatNumber(max), maxOpen ? ")" : "]");
  if (hasMin)
    return (minOpen ? "greater than " : "at least ") + formatNumber(min);
  if (hasMax)
    return (maxOpen ? "less than " : "at most ") + formatNumber(max);
  return "a number";
}

const OptionSpec *KindSpec::find(StringRef option) const {
  for (const OptionSpec &spec : options)
    if (option == spec.name)
      return &spec;
  return nullptr;
}

StringRef dlc::dl::categoryName(Category category) {
  switch (category) {
  case Category::Loss: return "loss";
  case Category::Optimizer: return "optimizer";
  case Category::Metric: return "metric";
  case Category::DataSource: return "data source";
  case Category::DataTransform: return "data transform";
  case Category::LossScale: return "loss scale";
  case Category::Callback: return "callback";
  case Category::Schedule: return "learning-rate schedule";
  }
  return "";
}

llvm::ArrayRef<KindSpec> dlc::dl::kindsOf(Category category) {
  switch (category) {
  case Category::Loss: return losses();
  case Category::Optimizer: return optimizers();
  case Category::Metric: return metrics();
  case Category::DataSource: return dataSources();
  case Category::DataTransform: return dataTransforms();
  case Category::LossScale: return lossScales();
  case Category::Callback: return callbacks();
  case Category::Schedule: return schedules();
  }
  return {};
}

const KindSpec *dlc::dl::findKind(Category category, StringRef kind) {
  for (const KindSpec &spec : kindsOf(category))
    if (kind == spec.name)
      return &spec;
  return nullptr;
}

LogicalResult dlc::dl::verifyConfig(Category category, ConfigAttr config,
                                    llvm::function_ref<InFlightDiagnostic()> emitError) {
  StringRef kind = config.getKind().getValue();
  const KindSpec *spec = findKind(category, kind);
  if (!spec)
    return emitError() << "unknown " << categoryName(category) << " '" << kind << "'";
  for (NamedAttribute option : config.getOptions()) {
    const OptionSpec *optionSpec = spec->find(option.getName().getValue());
    if (!optionSpec)
      return emitError() << "'" << kind << "' has no option '" << option.getName().getValue()
                         << "'";
    if (failed(verifyOption(*optionSpec, option.getValue(), kind, emitError)))
      return failure();
  }
  for (const OptionSpec &optionSpec : spec->options)
    if (optionSpec.defaultValue.kind != OptionDefault::Kind::Absent &&
        !config.getOptions().get(optionSpec.name))
      return emitError() << "'" << kind << "' is missing option '" << optionSpec.name << "'";
  return success();
}

dlc::rt::Setting dlc::dl::settingOf(ConfigAttr config) {
  rt::Setting s;
  s.kind = config.getKind().str();
  for (NamedAttribute option : config.getOptions()) {
    Attribute a = option.getValue();
    if (auto f = dyn_cast<FloatAttr>(a))
      s.options[option.getName().str()] = f.getValueAsDouble();
    else if (auto b = dyn_cast<BoolAttr>(a))
      s.options[option.getName().str()] = b.getValue();
    else if (auto i = dyn_cast<IntegerAttr>(a))
      s.options[option.getName().str()] = double(i.getInt());
    else if (auto ints = dyn_cast<DenseI64ArrayAttr>(a))
      s.lists[option.getName().str()].assign(ints.asArrayRef().begin(), ints.asArrayRef().end());
    else if (auto list = dyn_cast<ArrayAttr>(a))
      for (Attribute e : list)
        s.lists[option.getName().str()].push_back(cast<FloatAttr>(e).getValueAsDouble());
    else if (auto nested = dyn_cast<ConfigAttr>(a))
      s.settings[option.getName().str()] = settingOf(nested);
  }
  return s;
}

std::vector<std::string> dlc::dl::optimizerSlots(ConfigAttr optimizer) {
  rt::OptimizerSettings settings;
  if (!rt::decodeOptimizer(settingOf(optimizer), &settings).ok())
    return {};
  return rt::optimizerSlots(settings);
}

std::optional<std::string> dlc::dl::closestMatch(StringRef word,
                                                 llvm::ArrayRef<std::string> candidates) {
  if (llvm::is_contained(candidates, word))
    return std::nullopt;
  // Abbreviations and partial names: `lr` is learning_rate's initials,
  // `fp16` the tail of mixed_fp16.
  for (const std::string &candidate : candidates) {
    llvm::SmallVector<StringRef> parts;
    StringRef(candidate).split(parts, '_');
    std::string initials;
    for (StringRef part : parts)
      if (!part.empty())
        initials += part.front();
    if (parts.size() > 1 && word == initials)
      return candidate;
    if (StringRef(candidate).ends_with(("_" + word).str()))
      return candidate;
  }
  std::optional<std::string> best;
  unsigned bestDistance = 0;
  for (const std::string &candidate : candidates) {
    unsigned distance = word.edit_distance(candidate, /*AllowReplacements=*/true);
    if (!best || distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // A plausible misspelling differs in at most a third of its letters.
  if (!best || bestDistance == 0 || bestDistance * 3 > std::max<size_t>(word.size(), 3))
    return std::nullopt;
  return best;
}

ArrayRef<ElementTypeSpec> dlc::dl::elementTypes() {
  static const ElementTypeSpec types[] = {
      {"float32", [](MLIRContext *c) -> Type { return Float32Type::get(c); }},
      {"float16", [](MLIRContext *c) -> Type { return Float16Type::get(c); }},
      {"bfloat16", [](MLIRContext *c) -> Type { return BFloat16Type::get(c); }},
      {"float64", [](MLIRContext *c) -> Type { return Float64Type::get(c); }},
      {"int32", [](MLIRContext *c) -> Type { return IntegerType::get(c, 32); }},
      {"int64", [](MLIRContext *c) -> Type { return IntegerType::get(c, 64); }},
  };
  return types;
}

Type dlc::dl::elementTypeNamed(StringRef name, MLIRContext *context) {
  for (const ElementTypeSpec &t : elementTypes())
    if (name == t.name)
      return t.type(context);
  return {};
}
