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
      {"precision", T::Word, D::of("fp32"), {}, {"fp32", "mixed_fp16", "mixed_bf16"}},
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
/// A list setting of configs (`metrics = [accuracy, top_k_accuracy(k=3)]`)
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

LogicalResult dlc::buildTrainSetup(const ast::Train &train, OpBuilder &builder) {
  MLIRContext *context = builder.getContext();
  std::vector<std::string> trainKeys = {"loss", "optimizer", "metrics", "loss_scale", "callbacks"};
  for (const dl::OptionSpec &spec : trainOptions())
    trainKeys.push_back(spec.name);
  if (failed(checkKeys(train.settings, trainKeys, "train")))
    return failure();

  FailureOr<Attribute> loss = configSetting(train.settings, "loss", Category::Loss, train.loc, true);
  if (failed(loss))
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
  if (failed(configList(train.settings, "metrics", Category::Metric, "[accuracy]", metrics)) ||
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
      train.loc, cast<dl::ConfigAttr>(*loss), cast<dl::ConfigAttr>(*optimizer),
      builder.getArrayAttr(metrics), cast<IntegerAttr>(plain->get("batch_size")),
      cast<IntegerAttr>(plain->get("epochs")), dl::PrecisionAttr::get(context, precision),
      source ? cast<dl::ConfigAttr>(source) : dl::ConfigAttr(), builder.getArrayAttr(steps),
      validation, cast<BoolAttr>(shuffle),
      *lossScale ? cast<dl::ConfigAttr>(*lossScale) : dl::ConfigAttr(),
      callbacks.empty() ? ArrayAttr() : builder.getArrayAttr(callbacks), IntegerAttr(),
      stepLocations.empty() ? ArrayAttr() : builder.getArrayAttr(stepLocations));
  return success();
}
