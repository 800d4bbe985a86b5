//===- CatalogTest.cpp - Unit tests of the training-setup catalog ---------===//
//
// closestMatch drives every "did you mean" hint, Range every range message,
// and verifyConfig the verifier of dl.train_setup; each test pins the exact
// text a user would see.
//
//===----------------------------------------------------------------------===//
#include "dialects/DL/DLCatalog.h"
#include "DiagnosticCapture.h"
#include "dialects/DL/DLOps.h"

#include "mlir/IR/Builders.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace dlc;
using dl::Category;
using dl::Range;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<std::string> names(std::initializer_list<const char *> list) {
  return std::vector<std::string>(list.begin(), list.end());
}

std::vector<std::string> optionNames(Category category, llvm::StringRef kind) {
  const dl::KindSpec *spec = dl::findKind(category, kind);
  std::vector<std::string> result;
  if (spec)
    for (const dl::OptionSpec &option : spec->options)
      result.push_back(option.name);
  return result;
}

//===----------------------------------------------------------------------===//
// closestMatch
//===----------------------------------------------------------------------===//

TEST(ClosestMatchTest, Misspelling) {
  std::vector<std::string> adam = optionNames(Category::Optimizer, "adam");
  // learning_rate, beta_1, beta_2, epsilon, amsgrad, clipvalue, clipnorm, global_clipnorm
  ASSERT_EQ(adam.size(), 8u);
  EXPECT_EQ(dl::closestMatch("lerning_rate", adam), "learning_rate");
  EXPECT_EQ(dl::closestMatch("beta1", adam), "beta_1");
  EXPECT_EQ(dl::closestMatch("amsgard", adam), "amsgrad");
  EXPECT_EQ(dl::closestMatch("clip_value", adam), "clipvalue");
  EXPECT_EQ(dl::closestMatch("sgdd", names({"sgd", "adam", "adamw", "rmsprop"})), "sgd");
  EXPECT_EQ(dl::closestMatch("rmsprp", names({"sgd", "adam", "adamw", "rmsprop"})), "rmsprop");
}

TEST(ClosestMatchTest, AbbreviationByInitials) {
  EXPECT_EQ(dl::closestMatch("lr", optionNames(Category::Optimizer, "adam")), "learning_rate");
  EXPECT_EQ(dl::closestMatch("lr", optionNames(Category::Optimizer, "sgd")), "learning_rate");
  // Initials need at least two parts: `m` is not momentum's abbreviation.
  EXPECT_EQ(dl::closestMatch("m", names({"momentum"})), std::nullopt);
  EXPECT_EQ(dl::closestMatch(
                "scc", names({"categorical_crossentropy", "sparse_categorical_crossentropy"})),
            "sparse_categorical_crossentropy");
}

TEST(ClosestMatchTest, SuffixAfterUnderscore) {
  std::vector<std::string> precisions = names({"fp32", "mixed_fp16", "mixed_bf16"});
  EXPECT_EQ(dl::closestMatch("fp16", precisions), "mixed_fp16");
  EXPECT_EQ(dl::closestMatch("bf16", precisions), "mixed_bf16");
  EXPECT_EQ(dl::closestMatch("flip", names({"rescale", "random_flip", "random_crop"})),
            "random_flip");
  // Only a whole trailing part counts: `lip` is no suffix of random_flip.
  EXPECT_EQ(dl::closestMatch("lip", names({"random_flip"})), std::nullopt);
}

TEST(ClosestMatchTest, NoMatchForUnrelatedWords) {
  std::vector<std::string> optimizers = names({"sgd", "adam", "adamw", "rmsprop"});
  EXPECT_EQ(dl::closestMatch("banana", optimizers), std::nullopt);
  EXPECT_EQ(dl::closestMatch("xyz", optimizers), std::nullopt);
  EXPECT_EQ(dl::closestMatch("anything", {}), std::nullopt);
  // A transposed three-letter word is two edits away: more than a third.
  EXPECT_EQ(dl::closestMatch("sdg", optimizers), std::nullopt);
}

TEST(ClosestMatchTest, ThresholdIsAThirdOfTheWord) {
  // Six letters allow two edits, not three.
  EXPECT_EQ(dl::closestMatch("abcdxx", names({"abcdef"})), "abcdef");
  EXPECT_EQ(dl::closestMatch("abcxxx", names({"abcdef"})), std::nullopt);
}

TEST(ClosestMatchTest, ExactMatchIsNoSuggestion) {
  EXPECT_EQ(dl::closestMatch("adam", names({"sgd", "adam", "adamw", "rmsprop"})), std::nullopt);
  EXPECT_EQ(dl::closestMatch("learning_rate", optionNames(Category::Optimizer, "adam")),
            std::nullopt);
}

TEST(ClosestMatchTest, PrefersTheNearestCandidate) {
  EXPECT_EQ(dl::closestMatch("adamww", names({"adam", "adamw"})), "adamw");
  // On a tie the earlier candidate wins.
  EXPECT_EQ(dl::closestMatch("adamv", names({"adam", "adamw"})), "adam");
  EXPECT_EQ(dl::closestMatch("adm", names({"adamw", "adam"})), "adam");
}

//===----------------------------------------------------------------------===//
// Range
//===----------------------------------------------------------------------===//

TEST(RangeTest, ContainsHonoursOpenAndClosedBounds) {
  Range halfOpen{0, 1, false, true}; // [0, 1)
  EXPECT_TRUE(halfOpen.contains(0));
  EXPECT_TRUE(halfOpen.contains(0.999));
  EXPECT_FALSE(halfOpen.contains(1));
  EXPECT_FALSE(halfOpen.contains(-1e-9));

  Range openClosed{0, 1, true, false}; // (0, 1]
  EXPECT_FALSE(openClosed.contains(0));
  EXPECT_TRUE(openClosed.contains(1e-12));
  EXPECT_TRUE(openClosed.contains(1));
  EXPECT_FALSE(openClosed.contains(1.5));

  Range positive{0, kInf, true, false};
  EXPECT_FALSE(positive.contains(0));
  EXPECT_TRUE(positive.contains(1e300));

  Range any;
  EXPECT_TRUE(any.contains(-1e300));
  EXPECT_TRUE(any.contains(1e300));
  EXPECT_FALSE(any.contains(std::nan("")));
  EXPECT_FALSE(halfOpen.contains(std::nan("")));
}

TEST(RangeTest, Describe) {
  EXPECT_EQ((Range{0, 1, false, true}).describe(), "in [0, 1)");
  EXPECT_EQ((Range{0, 1, true, false}).describe(), "in (0, 1]");
  EXPECT_EQ((Range{0, 1, false, false}).describe(), "in [0, 1]");
  EXPECT_EQ((Range{2, 1e9, false, false}).describe(), "in [2, 1e+09]");
  EXPECT_EQ((Range{0, kInf, true, false}).describe(), "greater than 0");
  EXPECT_EQ((Range{1, kInf, false, false}).describe(), "at least 1");
  EXPECT_EQ((Range{-kInf, 5, false, true}).describe(), "less than 5");
  EXPECT_EQ((Range{-kInf, 0.5, false, false}).describe(), "at most 0.5");
  EXPECT_EQ(Range().describe(), "a number");
}

//===----------------------------------------------------------------------===//
// Catalog lookup
//===----------------------------------------------------------------------===//

TEST(CatalogTest, CategoriesAndKinds) {
  EXPECT_EQ(dl::categoryName(Category::Loss), "loss");
  EXPECT_EQ(dl::categoryName(Category::Optimizer), "optimizer");
  EXPECT_EQ(dl::categoryName(Category::Metric), "metric");
  EXPECT_EQ(dl::categoryName(Category::DataSource), "data source");
  EXPECT_EQ(dl::categoryName(Category::DataTransform), "data transform");

  ASSERT_NE(dl::findKind(Category::Optimizer, "adam"), nullptr);
  EXPECT_EQ(dl::findKind(Category::Loss, "adam"), nullptr);
  EXPECT_EQ(dl::findKind(Category::Optimizer, "Adam"), nullptr);

  const dl::KindSpec *adam = dl::findKind(Category::Optimizer, "adam");
  const dl::OptionSpec *beta1 = adam->find("beta_1");
  ASSERT_NE(beta1, nullptr);
  EXPECT_EQ(beta1->type, dl::OptionType::Float);
  EXPECT_DOUBLE_EQ(beta1->defaultValue.floatValue, 0.9);
  EXPECT_EQ(beta1->range.describe(), "in [0, 1)");
  EXPECT_EQ(adam->find("lr"), nullptr);

  for (Category category : {Category::Loss, Category::Optimizer, Category::Metric,
                            Category::DataSource, Category::DataTransform}) {
    EXPECT_FALSE(dl::kindsOf(category).empty()) << dl::categoryName(category).str();
    for (const dl::KindSpec &kind : dl::kindsOf(category))
      EXPECT_EQ(dl::findKind(category, kind.name), &kind) << kind.name;
  }
}

//===----------------------------------------------------------------------===//
// verifyConfig
//===----------------------------------------------------------------------===//

class VerifyConfigTest : public ::testing::Test {
protected:
  VerifyConfigTest() : context(mlir::MLIRContext::Threading::DISABLED), b(&context) {
    context.loadDialect<dl::DLDialect>();
  }

  dl::ConfigAttr config(llvm::StringRef kind, llvm::ArrayRef<mlir::NamedAttribute> options) {
    return dl::ConfigAttr::get(&context, b.getStringAttr(kind), b.getDictionaryAttr(options));
  }

  mlir::NamedAttribute f64(llvm::StringRef name, double value) {
    return b.getNamedAttr(name, b.getF64FloatAttr(value));
  }
  mlir::NamedAttribute i64(llvm::StringRef name, int64_t value) {
    return b.getNamedAttr(name, b.getI64IntegerAttr(value));
  }
  mlir::NamedAttribute boolean(llvm::StringRef name, bool value) {
    return b.getNamedAttr(name, b.getBoolAttr(value));
  }
  mlir::NamedAttribute str(llvm::StringRef name, llvm::StringRef value) {
    return b.getNamedAttr(name, b.getStringAttr(value));
  }

  /// A complete, valid adam config with |replace| substituted or added.
  dl::ConfigAttr adam(std::optional<mlir::NamedAttribute> replace = std::nullopt,
                      llvm::StringRef drop = "") {
    mlir::NamedAttrList options;
    options.set("learning_rate", b.getF64FloatAttr(1e-3));
    options.set("beta_1", b.getF64FloatAttr(0.9));
    options.set("beta_2", b.getF64FloatAttr(0.999));
    options.set("epsilon", b.getF64FloatAttr(1e-7));
    options.set("amsgrad", b.getBoolAttr(false));
    if (replace)
      options.set(replace->getName(), replace->getValue());
    if (!drop.empty())
      options.erase(drop);
    return dl::ConfigAttr::get(&context, b.getStringAttr("adam"), options.getDictionary(&context));
  }

  /// Verifies |attr| as a |category|; returns the one error's message, or ""
  /// when it verifies.
  std::string verify(Category category, dl::ConfigAttr attr) {
    unittest::DiagnosticCapture diags(&context);
    mlir::Location loc = mlir::FileLineColLoc::get(&context, "setup", 1, 1);
    llvm::LogicalResult result =
        dl::verifyConfig(category, attr, [&] { return mlir::emitError(loc); });
    EXPECT_EQ(diags.size(), mlir::failed(result) ? 1u : 0u);
    return diags.first().message;
  }

  mlir::MLIRContext context;
  mlir::Builder b;
};

TEST_F(VerifyConfigTest, AcceptsACompleteAdam) {
  EXPECT_EQ(verify(Category::Optimizer, adam()), "");
  // An integer-valued float and a boundary value are fine.
  EXPECT_EQ(verify(Category::Optimizer, adam(f64("beta_1", 0))), "");
  EXPECT_EQ(
      verify(Category::Optimizer, adam(b.getNamedAttr("learning_rate", b.getF32FloatAttr(0.5f)))),
      "");
}

TEST_F(VerifyConfigTest, AcceptsEveryCategory) {
  EXPECT_EQ(verify(Category::Loss, config("mse", {})), "");
  EXPECT_EQ(verify(Category::Loss,
                   config("sparse_categorical_crossentropy", {boolean("from_logits", true)})),
            "");
  EXPECT_EQ(verify(Category::Metric, config("top_k_accuracy", {i64("k", 3)})), "");
  EXPECT_EQ(verify(Category::DataSource,
                   config("safetensors", {str("train", "a.safetensors"), str("test", "")})),
            "");
  EXPECT_EQ(verify(Category::DataTransform, config("resize", {i64("height", 224), i64("width", 224),
                                                         str("interpolation", "nearest")})),
            "");
  // FloatOrList takes one number or a list of numbers.
  EXPECT_EQ(verify(Category::DataTransform, config("normalize", {f64("mean", 0.5), f64("std", 0.25)})),
            "");
  EXPECT_EQ(verify(Category::DataTransform,
                   config("normalize",
                          {b.getNamedAttr("mean", b.getArrayAttr({b.getF64FloatAttr(0.4),
                                                                  b.getF64FloatAttr(0.5)})),
                           b.getNamedAttr("std", b.getArrayAttr({b.getF64FloatAttr(0.2),
                                                                 b.getF64FloatAttr(0.3)}))})),
            "");
}

TEST_F(VerifyConfigTest, UnknownKind) {
  EXPECT_EQ(verify(Category::Optimizer, config("adan", {})), "unknown optimizer 'adan'");
  EXPECT_EQ(verify(Category::Loss, config("adam", {})), "unknown loss 'adam'");
  EXPECT_EQ(verify(Category::DataTransform, config("random_shear", {})),
            "unknown data transform 'random_shear'");
  EXPECT_EQ(verify(Category::DataSource, config("mnist", {})), "unknown data source 'mnist'");
}

TEST_F(VerifyConfigTest, UnknownOption) {
  EXPECT_EQ(verify(Category::Optimizer, adam(f64("lr", 0.1))), "'adam' has no option 'lr'");
  EXPECT_EQ(verify(Category::Loss, config("mse", {boolean("from_logits", true)})),
            "'mse' has no option 'from_logits'");
}

TEST_F(VerifyConfigTest, MissingOption) {
  EXPECT_EQ(verify(Category::Optimizer, adam(std::nullopt, "epsilon")),
            "'adam' is missing option 'epsilon'");
  // Required options (no default) as well as defaulted ones.
  EXPECT_EQ(verify(Category::DataTransform, config("rescale", {f64("offset", 0)})),
            "'rescale' is missing option 'scale'");
}

TEST_F(VerifyConfigTest, OutOfRange) {
  EXPECT_EQ(verify(Category::Optimizer, adam(f64("beta_1", 1.0))),
            "option 'beta_1' of 'adam' must be in [0, 1), got 1");
  EXPECT_EQ(verify(Category::Optimizer, adam(f64("learning_rate", 0))),
            "option 'learning_rate' of 'adam' must be greater than 0, got 0");
  EXPECT_EQ(verify(Category::Optimizer, adam(f64("epsilon", -1e-8))),
            "option 'epsilon' of 'adam' must be greater than 0, got -1e-08");
  EXPECT_EQ(verify(Category::Metric, config("top_k_accuracy", {i64("k", 0)})),
            "option 'k' of 'top_k_accuracy' must be at least 1, got 0");
  EXPECT_EQ(verify(Category::DataSource, config("text", {str("path", "x"), i64("vocab_size", 1),
                                                         i64("sequence_length", 20)})),
            "option 'vocab_size' of 'text' must be in [2, 1e+09], got 1");
  // Each element of a list is checked.
  EXPECT_EQ(
      verify(Category::DataTransform,
             config("normalize", {f64("mean", 0.5),
                                  b.getNamedAttr("std", b.getArrayAttr({b.getF64FloatAttr(0.2),
                                                                        b.getF64FloatAttr(0)}))})),
      "option 'std' of 'normalize' must be greater than 0, got 0");
}

TEST_F(VerifyConfigTest, WrongType) {
  EXPECT_EQ(verify(Category::Optimizer, adam(i64("amsgrad", 1))),
            "option 'amsgrad' of 'adam' must be true or false, got 1 : i64");
  // Float options take float attributes only; the frontend converts integers.
  EXPECT_EQ(verify(Category::Optimizer, adam(i64("learning_rate", 1))),
            "option 'learning_rate' of 'adam' must be a number or a learning-rate schedule, got 1 : i64");
  EXPECT_EQ(verify(Category::Metric, config("top_k_accuracy", {f64("k", 5)})),
            "option 'k' of 'top_k_accuracy' must be an integer, got 5.000000e+00 : f64");
  // Int options are 64-bit.
  EXPECT_EQ(verify(Category::Metric,
                   config("top_k_accuracy", {b.getNamedAttr("k", b.getI32IntegerAttr(5))})),
            "option 'k' of 'top_k_accuracy' must be an integer, got 5 : i32");
  EXPECT_EQ(verify(Category::DataSource, config("image_folder", {i64("path", 3)})),
            "option 'path' of 'image_folder' must be a string, got 3 : i64");
  EXPECT_EQ(verify(Category::DataTransform, config("random_flip", {str("mode", "diagonal")})),
            "option 'mode' of 'random_flip' must be one of horizontal, vertical, "
            "horizontal_and_vertical, got \"diagonal\"");
  EXPECT_EQ(
      verify(Category::DataTransform,
             config("normalize", {f64("mean", 0.5), b.getNamedAttr("std", b.getArrayAttr({}))})),
      "option 'std' of 'normalize' must be a number or a non-empty list of numbers, got []");
  EXPECT_EQ(verify(Category::DataTransform,
                   config("normalize",
                          {f64("mean", 0.5),
                           b.getNamedAttr("std", b.getArrayAttr({b.getI64IntegerAttr(1)}))})),
            "option 'std' of 'normalize' must be a number or a non-empty list of numbers, got "
            "[1]");
}

TEST_F(VerifyConfigTest, ReportsTheFirstProblemOnly) {
  // Unknown option `lr` comes first in the sorted dictionary; the missing
  // learning_rate is not reported as well.
  mlir::NamedAttrList options;
  options.set("lr", b.getF64FloatAttr(0.1));
  dl::ConfigAttr attr = config("sgd", options.getAttrs());
  EXPECT_EQ(verify(Category::Optimizer, attr), "'sgd' has no option 'lr'");
}

} // namespace
