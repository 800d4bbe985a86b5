//===- TrainSetup.cpp - `train` sections to dl.train_setup ----------------===//
#include "frontend/TrainSetup.h"
#include "dialects/DL/DLOps.h"
#include "frontend/Options.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace dlc;
using dl::Category;
using D = dl::OptionDefault;
using T = dl::OptionType;

namespace {
/// Settings that are plain options; loss, optimizer, metrics and data are
/// configs from the catalog and handled apart.
const std::vector<dl::OptionSpec> &trainOptions() {
  static const std::vector<dl::OptionSpec> specs = {
      {"batch_size", T::Int, D::of(32), {1, 1 << 20}},
      {"epochs", T::Int, D::of(1), {1, 1e9}},
      {"precision", T::Word, D::of("fp32"), {}, dl::precisionPolicies()},
  };
  return specs;
}

const std::vector<dl::OptionSpec> &dataOptions() {
  static const std::vector<dl::OptionSpec> specs = {
      {"shuffle", T::Bool, D::of(true)},
  };
  return specs;
}

/// Rejects repeated keys and unknown ones (with a hint among |known|).
LogicalResult checkKeys(ArrayRef<ast::Setting> settings, ArrayRef<std::string> known,
                        StringRef section) {
  llvm::StringMap<Location> seen;
  for (const ast::Setting &setting : settings) {
    if (!llvm::is_contained(known, setting.key)) {
      InFlightDiagnostic diag = emitError(setting.loc)
                                << "unknown setting '" << setting.key << "' in " << section;
      if (auto match = dl::closestMatch(setting.key, known))
        diag.attachNote() << "did you mean '" << *match << "'?";
      else
        diag.attachNote() << section << " settings: " << llvm::join(known, ", ");
      return failure();
    }
    auto [it, inserted] = seen.try_emplace(setting.key, setting.loc);
    if (!inserted) {
      InFlightDiagnostic diag = emitError(setting.loc) << "'" << setting.key << "' is set twice";
      diag.attachNote(it->second) << "first set here";
      return failure();
    }
  }
  return success();
}

const ast::Setting *find(ArrayRef<ast::Setting> settings, StringRef key) {
  for (const ast::Setting &setting : settings)
    if (setting.key == key)
      return &setting;
  return nullptr;
}

FailureOr<Constant> evaluateSetting(const ast::Setting &setting) {
  static const Scope empty;
  return evaluate(*setting.value, empty);
}

/// Binds the plain settings among |settings| to |specs|.
FailureOr<NamedAttrList> bindPlain(Location loc, StringRef section, ArrayRef<ast::Setting> settings,
                                   ArrayRef<dl::OptionSpec> specs) {
  std::vector<BoundArg> args;
  for (const ast::Setting &setting : settings) {
    bool plain = llvm::any_of(specs, [&](const dl::OptionSpec &s) { return setting.key == s.name; });
    if (!plain)
      continue;
    FailureOr<Constant> value = evaluateSetting(setting);
    if (failed(value))
      return failure();
    args.push_back({setting.loc, setting.key, std::move(*value)});
  }
  return bindOptions(loc, section, specs, args);
}

FailureOr<Attribute> configSetting(ArrayRef<ast::Setting> settings, StringRef key, Category category,
                                   Location sectionLoc, bool required) {
  const ast::Setting *setting = find(settings, key);
  if (!setting) {
    if (required) {
      InFlightDiagnostic diag = emitError(sectionLoc) << "training needs a " << key;
      SmallVector<StringRef> kinds;
      for (const dl::KindSpec &kind : dl::kindsOf(category))
        kinds.push_back(kind.name);
      diag.attachNote() << "add `" << key << " = ...`, one of: " << llvm::join(kinds, ", ");
      return failure();
    }
    return Attribute();
  }
  FailureOr<Constant> value = evaluateSetting(*setting);
  if (failed(value))
    return failure();
  return buildConfig(category, *value);
}
/// Which output a dict entry names: its index in |outputs|, or an error at
/// the entry (with a hint) for a name that is not one.
FailureOr<unsigned> outputNamed(const Constant &dict, size_t entry, ArrayRef<std::string> outputs,
                                StringRef key) {
  const std::string &name = dict.keywords[entry];
  for (auto [index, output] : llvm::enumerate(outputs))
    if (output == name)
      return unsigned(index);
  InFlightDiagnostic diag = emitError(dict.argLocs[entry])
                            << key << " names '" << name << "', which is not an output of the model";
  if (auto match = dl::closestMatch(name, outputs))
    diag.attachNote() << "did you mean '" << *match << "'?";
  else
    diag.attachNote() << "the model's outputs: " << llvm::join(outputs, ", ");
  return failure();
}

/// The value a per-output setting gives each of |outputs|: a list holds one
/// per output in order, a dict one per output by name (absent ones null).
FailureOr<SmallVector<const Constant *>> perOutput(const Constant &value, ArrayRef<std::string> outputs,
                                                  StringRef key) {
  SmallVector<const Constant *> values(outputs.size(), nullptr);
  if (value.kind == Constant::Kind::List) {
    if (value.items.size() != outputs.size())
      return emitError(value.loc) << key << " lists " << value.items.size() << " values for the model's "
                                  << outputs.size() << " outputs (" << llvm::join(outputs, ", ") << ")";
    for (auto [index, item] : llvm::enumerate(value.items))
      values[index] = &item;
    return values;
  }
  for (size_t entry = 0; entry < value.items.size(); ++entry) {
    FailureOr<unsigned> output = outputNamed(value, entry, outputs, key);
    if (failed(output))
      return failure();
    values[*output] = &value.items[entry];
  }
  return values;
}

/// `loss`: one loss for every output (a single config attribute), or one
/// per output as a list or a dict by output name (an array attribute).
FailureOr<Attribute> lossSetting(const ast::Train &train, ArrayRef<std::string> outputs, Builder &b) {
  const ast::Setting *setting = find(train.settings, "loss");
  if (!setting || setting->value->kind == ast::Expr::Kind::Name ||
      setting->value->kind == ast::Expr::Kind::Call)
    return configSetting(train.settings, "loss", Category::Loss, train.loc, true);
  FailureOr<Constant> value = evaluateSetting(*setting);
  if (failed(value))
    return failure();
  if (value->kind != Constant::Kind::List && value->kind != Constant::Kind::Dict)
    return buildConfig(Category::Loss, *value);
  FailureOr<SmallVector<const Constant *>> values = perOutput(*value, outputs, "loss");
  if (failed(values))
    return failure();
  SmallVector<Attribute> losses;
  for (auto [index, item] : llvm::enumerate(*values)) {
    if (!item) {
      InFlightDiagnostic diag = emitError(value->loc) << "output '" << outputs[index] << "' has no loss";
      diag.attachNote() << "add `" << outputs[index] << ": ...` (every output trains)";
      return failure();
    }
    FailureOr<Attribute> config = buildConfig(Category::Loss, *item);
    if (failed(config))
      return failure();
    losses.push_back(*config);
  }
  if (outputs.size() == 1)
    return losses.front();
  return Attribute(b.getArrayAttr(losses));
}

/// `loss_weights`: a list with one number per output, or a dict by output
/// name (others 1); absent: null.
FailureOr<DenseF64ArrayAttr> lossWeightsSetting(const ast::Train &train, ArrayRef<std::string> outputs,
                                                Builder &b) {
  const ast::Setting *setting = find(train.settings, "loss_weights");
  if (!setting)
    return DenseF64ArrayAttr();
  FailureOr<Constant> value = evaluateSetting(*setting);
  if (failed(value))
    return failure();
  if (value->kind != Constant::Kind::List && value->kind != Constant::Kind::Dict)
    return emitError(value->loc) << "loss_weights must be a list with one number per output or a dict "
                                    "by output name, e.g. {"
                                 << outputs.front() << ": 1.0}, got " << value->describe();
  FailureOr<SmallVector<const Constant *>> values = perOutput(*value, outputs, "loss_weights");
  if (failed(values))
    return failure();
  SmallVector<double> weights;
  for (const Constant *item : *values) {
    if (item && (!item->isNumber() || !(item->asDouble() >= 0) || !std::isfinite(item->asDouble())))
      return emitError(item->loc) << "a loss weight is a number of at least 0, got " << item->describe();
    weights.push_back(item ? item->asDouble() : 1.0);
  }
  return b.getDenseF64ArrayAttr(weights);
}

/// `metrics`: a list of metrics for a model with one output; for several,
/// a list with one list per output or a dict by output name. Fills |out|
/// and each metric's output in |metricOutputs|.
LogicalResult metricsSetting(const ast::Train &train, ArrayRef<std::string> outputs,
                             SmallVectorImpl<Attribute> &out, SmallVectorImpl<int64_t> &metricOutputs) {
  const ast::Setting *setting = find(train.settings, "metrics");
  if (!setting)
    return success();
  FailureOr<Constant> value = evaluateSetting(*setting);
  if (failed(value))
    return failure();
  auto add = [&](const Constant &metrics, unsigned output) -> LogicalResult {
    // One metric alone stands for a list of it.
    ArrayRef<Constant> items = metrics.kind == Constant::Kind::List ? ArrayRef(metrics.items)
                                                                     : ArrayRef(metrics);
    for (const Constant &item : items) {
      FailureOr<Attribute> config = buildConfig(Category::Metric, item);
      if (failed(config))
        return failure();
      out.push_back(*config);
      metricOutputs.push_back(output);
    }
    return success();
  };
  if (outputs.size() == 1 && value->kind == Constant::Kind::List)
    return add(*value, 0);
  bool perOutputList = value->kind == Constant::Kind::List &&
                       llvm::all_of(value->items, [](const Constant &c) { return c.kind == Constant::Kind::List; });
  if (value->kind != Constant::Kind::Dict && !perOutputList) {
    InFlightDiagnostic diag = emitError(value->loc)
                              << (value->kind == Constant::Kind::List
                                      ? "a model with several outputs takes its metrics per output"
                                      : "metrics must be a list, e.g. [accuracy]");
    if (value->kind == Constant::Kind::List)
      diag.attachNote() << "e.g. metrics = {" << outputs.back() << ": [accuracy]}, or one list per output";
    return failure();
  }
  FailureOr<SmallVector<const Constant *>> values = perOutput(*value, outputs, "metrics");
  if (failed(values))
    return failure();
  for (auto [index, item] : llvm::enumerate(*values))
    if (item && failed(add(*item, index)))
      return failure();
  return success();
}

/// A list setting of configs (`callbacks = [early_stopping(patience=3)]`)
/// into |out|; absent leaves it empty.
LogicalResult configList(ArrayRef<ast::Setting> settings, StringRef key, Category category,
                         StringRef example, SmallVectorImpl<Attribute> &out) {
  const ast::Setting *setting = find(settings, key);
  if (!setting)
    return success();
  FailureOr<Constant> value = evaluateSetting(*setting);
  if (failed(value))
    return failure();
  if (value->kind != Constant::Kind::List)
    return emitError(value->loc) << key << " must be a list, e.g. " << example;
  for (const Constant &item : value->items) {
    FailureOr<Attribute> config = buildConfig(category, item);
    if (failed(config))
      return failure();
    out.push_back(*config);
  }
  return success();
}
} // namespace

LogicalResult dlc::buildTrainSetup(const ast::Train &train, ArrayRef<std::string> outputs,
                                   OpBuilder &builder) {
  MLIRContext *context = builder.getContext();
  std::vector<std::string> trainKeys = {"loss", "loss_weights", "optimizer", "metrics", "loss_scale",
                                        "callbacks"};
  for (const dl::OptionSpec &spec : trainOptions())
    trainKeys.push_back(spec.name);
  if (failed(checkKeys(train.settings, trainKeys, "train")))
    return failure();

  FailureOr<Attribute> loss = lossSetting(train, outputs, builder);
  if (failed(loss))
    return failure();
  FailureOr<DenseF64ArrayAttr> lossWeights = lossWeightsSetting(train, outputs, builder);
  if (failed(lossWeights))
    return failure();
  FailureOr<Attribute> optimizer =
      configSetting(train.settings, "optimizer", Category::Optimizer, train.loc, true);
  if (failed(optimizer))
    return failure();

  FailureOr<Attribute> lossScale =
      configSetting(train.settings, "loss_scale", Category::LossScale, train.loc, false);
  if (failed(lossScale))
    return failure();

  SmallVector<Attribute> metrics, callbacks;
  SmallVector<int64_t> metricOutputs;
  if (failed(metricsSetting(train, outputs, metrics, metricOutputs)) ||
      failed(configList(train.settings, "callbacks", Category::Callback, "[early_stopping(patience=3)]",
                        callbacks)))
    return failure();

  FailureOr<NamedAttrList> plain = bindPlain(train.loc, "train", train.settings, trainOptions());
  if (failed(plain))
    return failure();

  Attribute source;
  SmallVector<Attribute> steps, stepLocations;
  Attribute validation = builder.getStringAttr("test");
  Attribute shuffle = builder.getBoolAttr(true);
  if (train.data) {
    const ast::DataSection &data = *train.data;
    if (failed(checkKeys(data.settings, std::vector<std::string>{"source", "validation", "shuffle"}, "data")))
      return failure();
    FailureOr<Attribute> sourceConfig =
        configSetting(data.settings, "source", Category::DataSource, data.loc, true);
    if (failed(sourceConfig))
      return failure();
    source = *sourceConfig;
    if (const ast::Setting *setting = find(data.settings, "validation")) {
      FailureOr<Constant> value = evaluateSetting(*setting);
      if (failed(value))
        return failure();
      if ((value->kind == Constant::Kind::Word || value->kind == Constant::Kind::String) &&
          value->text == "test") {
        validation = builder.getStringAttr("test");
      } else if (value->kind == Constant::Kind::Float && value->floatValue > 0 &&
                 value->floatValue < 1) {
        validation = builder.getF64FloatAttr(value->floatValue);
      } else {
        emitError(value->loc) << "validation must be `test` or a fraction in (0, 1), got "
                              << value->describe();
        return failure();
      }
    }
    FailureOr<NamedAttrList> dataPlain = bindPlain(data.loc, "data", data.settings, dataOptions());
    if (failed(dataPlain))
      return failure();
    shuffle = dataPlain->get("shuffle");
    static const Scope empty;
    for (const ast::ExprPtr &stepExpr : data.steps) {
      FailureOr<Constant> value = evaluate(*stepExpr, empty);
      if (failed(value))
        return failure();
      FailureOr<Attribute> step = buildConfig(Category::DataTransform, *value);
      if (failed(step))
        return failure();
      steps.push_back(*step);
      stepLocations.push_back(stepExpr->loc);
    }
  }

  auto precision = *dl::symbolizePrecision(cast<StringAttr>(plain->get("precision")).getValue());
  builder.create<dl::TrainSetupOp>(
      train.loc, *loss, cast<dl::ConfigAttr>(*optimizer),
      builder.getArrayAttr(metrics), cast<IntegerAttr>(plain->get("batch_size")),
      cast<IntegerAttr>(plain->get("epochs")), dl::PrecisionAttr::get(context, precision),
      source ? cast<dl::ConfigAttr>(source) : dl::ConfigAttr(), builder.getArrayAttr(steps),
      validation, cast<BoolAttr>(shuffle),
      *lossScale ? cast<dl::ConfigAttr>(*lossScale) : dl::ConfigAttr(),
      callbacks.empty() ? ArrayAttr() : builder.getArrayAttr(callbacks), IntegerAttr(),
      stepLocations.empty() ? ArrayAttr() : builder.getArrayAttr(stepLocations), *lossWeights,
      outputs.size() > 1 ? builder.getDenseI64ArrayAttr(metricOutputs) : DenseI64ArrayAttr());
  return success();
}
