//===- SettingsDecodeTest.cpp - Every catalog kind and option decodes -----===//
//
// The trainer, the CPU backend and the CUDA emitter decode optimizers,
// losses and metrics with one decoder each (runtime/settings.h), from the
// options the catalog writes. Here every kind of the catalog decodes from
// its defaults (through the compiler's #dl.config, the form the CUDA emitter
// reads), each of its options changes what is decoded (so none is ignored),
// and unknown kinds, missing options and extra options are errors, never a
// default.
//
//===----------------------------------------------------------------------===//
#include "dialects/DL/DLCatalog.h"
#include "dialects/DL/DLDialect.h"
#include "dialects/DL/DLOps.h"
#include "runtime/settings.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace mlir;
using namespace dlc;

namespace {

std::string describe(const rt::OptimizerSettings &s) {
  std::ostringstream os;
  os << int(s.kind) << " " << s.learningRate.initial << " " << s.momentum << " " << s.nesterov << " "
     << s.beta1 << " " << s.beta2 << " " << s.epsilon << " " << s.amsgrad << " "
     << s.weightDecay << " " << s.rho << " " << s.centered << " " << s.clipValue << " " << s.clipNorm
     << " " << s.globalClipNorm;
  return os.str();
}
std::string describe(const rt::LossSettings &s) {
  std::ostringstream os;
  os << int(s.kind) << " " << s.fromLogits << " " << s.labelSmoothing;
  return os.str();
}
std::string describe(const rt::MetricSettings &s) {
  std::ostringstream os;
  os << int(s.kind) << " " << s.name << " " << s.k;
  return os.str();
}

/// Decodes |setting| as |category| and describes the result ("" on error,
/// with the message in *error).
std::string decode(dl::Category category, const rt::Setting &setting, std::string *error) {
  rt::Status status;
  std::string text;
  if (category == dl::Category::Optimizer) {
    rt::OptimizerSettings s;
    status = rt::decodeOptimizer(setting, &s);
    text = describe(s);
  } else if (category == dl::Category::Loss) {
    rt::LossSettings s;
    status = rt::decodeLoss(setting, &s);
    text = describe(s);
  } else {
    rt::MetricSettings s;
    status = rt::decodeMetric(setting, &s);
    text = describe(s);
  }
  *error = status.ok() ? "" : status.message();
  return status.ok() ? text : "";
}

/// The option's default as an attribute, as the frontend writes it.
Attribute defaultAttr(Builder &b, const dl::OptionSpec &o) {
  switch (o.defaultValue.kind) {
  case dl::OptionDefault::Kind::Bool: return b.getBoolAttr(o.defaultValue.intValue != 0);
  case dl::OptionDefault::Kind::Int: return b.getI64IntegerAttr(o.defaultValue.intValue);
  default: return b.getF64FloatAttr(o.defaultValue.floatValue);
  }
}

/// A valid value of |o| other than its default.
Attribute otherAttr(Builder &b, const dl::OptionSpec &o) {
  switch (o.type) {
  case dl::OptionType::Bool: return b.getBoolAttr(o.defaultValue.intValue == 0);
  case dl::OptionType::Int: {
    int64_t v = o.defaultValue.intValue + 1;
    return b.getI64IntegerAttr(o.range.contains(double(v)) ? v : o.defaultValue.intValue - 1);
  }
  default:
    for (double v : {0.5, 0.25, 0.05, 2.0, 20.0})
      if (o.range.contains(v) && v != o.defaultValue.floatValue)
        return b.getF64FloatAttr(v);
  }
  return {};
}

dl::ConfigAttr config(MLIRContext *ctx, const dl::KindSpec &kind, const char *changed = nullptr) {
  Builder b(ctx);
  SmallVector<NamedAttribute> options;
  for (const dl::OptionSpec &o : kind.options)
    options.push_back(b.getNamedAttr(
        o.name, changed && std::string(changed) == o.name ? otherAttr(b, o) : defaultAttr(b, o)));
  return dl::ConfigAttr::get(ctx, b.getStringAttr(kind.name), b.getDictionaryAttr(options));
}

TEST(SettingsDecodeTest, EveryCatalogKindAndOptionDecodes) {
  MLIRContext context;
  context.loadDialect<dl::DLDialect>();
  int kinds = 0, options = 0;
  for (dl::Category category : {dl::Category::Optimizer, dl::Category::Loss, dl::Category::Metric})
    for (const dl::KindSpec &kind : dl::kindsOf(category)) {
      SCOPED_TRACE(kind.name);
      std::string error;
      std::string base = decode(category, dl::settingOf(config(&context, kind)), &error);
      ASSERT_FALSE(base.empty()) << error;
      ++kinds;
      for (const dl::OptionSpec &o : kind.options) {
        SCOPED_TRACE(o.name);
        std::string changed = decode(category, dl::settingOf(config(&context, kind, o.name)), &error);
        ASSERT_FALSE(changed.empty()) << error;
        EXPECT_NE(changed, base) << "the decoder ignores option '" << o.name << "'";
        ++options;
      }
    }
  EXPECT_EQ(kinds, 4 + 4 + 2);
  EXPECT_GE(options, 20);
}

TEST(SettingsDecodeTest, UnknownKindsAndOptionsAreErrorsNotDefaults) {
  std::string error;
  EXPECT_EQ(decode(dl::Category::Loss, {"hinge", {}}, &error), "");
  EXPECT_NE(error.find("unknown loss 'hinge'"), std::string::npos) << error;
  EXPECT_EQ(decode(dl::Category::Optimizer, {"sgd", {{"learning_rate", 0.1}}}, &error), "");
  EXPECT_NE(error.find("'sgd' is missing option 'momentum'"), std::string::npos) << error;
  EXPECT_EQ(decode(dl::Category::Metric, {"accuracy", {{"k", 3}}}, &error), "");
  EXPECT_NE(error.find("'accuracy' has no option 'k'"), std::string::npos) << error;
  EXPECT_EQ(decode(dl::Category::Metric, {"top_k_accuracy", {{"k", 2.5}}}, &error), "");
  EXPECT_NE(error.find("whole k"), std::string::npos) << error;
}

// The slot list is one list: the catalog (which names the slot parameters)
// reads it from the runtime.
TEST(SettingsDecodeTest, OptimizerSlotsComeFromOneList) {
  MLIRContext context;
  context.loadDialect<dl::DLDialect>();
  const dl::KindSpec *rmsprop = dl::findKind(dl::Category::Optimizer, "rmsprop");
  ASSERT_TRUE(rmsprop);
  EXPECT_EQ(dl::optimizerSlots(config(&context, *rmsprop)), std::vector<std::string>{"velocity"});
  EXPECT_EQ(dl::optimizerSlots(config(&context, *rmsprop, "centered")),
            (std::vector<std::string>{"velocity", "average_gradient"}));
  EXPECT_EQ(dl::optimizerSlots(config(&context, *rmsprop, "momentum")),
            (std::vector<std::string>{"velocity", "momentum"}));
}

} // namespace
