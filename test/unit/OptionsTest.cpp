//===- OptionsTest.cpp - Unit tests of constant evaluation and binding ----===//
//
// Expressions come from small .dl snippets (`train t { x = <expr> }`) so that
// they carry real file:line:col locations; each test checks the value or the
// exact diagnostic, and where it matters its column.
//
//===----------------------------------------------------------------------===//
#include "frontend/Options.h"
#include "DiagnosticCapture.h"
#include "dialects/DL/DLOps.h"
#include "frontend/Parser.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <limits>

using namespace dlc;
using dl::OptionDefault;
using dl::OptionSpec;
using dl::OptionType;
using unittest::Diag;
using unittest::DiagnosticCapture;

namespace {

class OptionsTest : public ::testing::Test {
protected:
  OptionsTest() : context(mlir::MLIRContext::Threading::DISABLED), diags(&context) {
    context.loadDialect<dl::DLDialect>();
  }

  /// Parses `train t {\n  x = <text>\n}` and returns the expression of x
  /// (it starts at line 2, column 7).
  const ast::Expr &expr(llvm::StringRef text) {
    std::string source = ("train t {\n  x = " + text + "\n}\n").str();
    llvm::SourceMgr sourceMgr;
    unsigned id = sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(source, "opts.dl"), llvm::SMLoc());
    std::optional<ast::File> file = parseFile(sourceMgr, id, &context);
    EXPECT_TRUE(file) << "does not parse: " << text.str();
    EXPECT_TRUE(diags.empty());
    if (!file || file->trains.empty() || file->trains[0].settings.empty())
      return dummy;
    files.push_back(std::move(*file));
    return *files.back().trains[0].settings[0].value;
  }

  mlir::FailureOr<Constant> eval(llvm::StringRef text) {
    diags.clear();
    mlir::FailureOr<Constant> value = evaluate(expr(text), scope);
    EXPECT_EQ(diags.size(), mlir::failed(value) ? 1u : 0u) << text.str();
    return value;
  }

  /// Evaluates |text| expecting failure; returns its one diagnostic.
  Diag evalError(llvm::StringRef text) {
    mlir::FailureOr<Constant> value = eval(text);
    EXPECT_TRUE(mlir::failed(value)) << "unexpectedly evaluated: " << text.str();
    return diags.first();
  }

  /// Evaluates the call |text| and binds its arguments to |specs|.
  mlir::FailureOr<mlir::NamedAttrList> bind(llvm::StringRef text,
                                            llvm::ArrayRef<OptionSpec> specs) {
    diags.clear();
    const ast::Expr &callExpr = expr(text);
    mlir::FailureOr<Constant> call = evaluate(callExpr, scope);
    if (mlir::failed(call) || call->kind != Constant::Kind::Call) {
      ADD_FAILURE() << "not a call: " << text.str();
      return mlir::failure();
    }
    // As for layers, each argument is reported at its keyword (or value when
    // positional): the location of the ast::Arg.
    std::vector<BoundArg> args;
    for (size_t i = 0; i < call->items.size(); ++i)
      args.push_back({callExpr.args[i].loc, call->keywords[i], call->items[i]});
    diags.clear();
    mlir::FailureOr<mlir::NamedAttrList> bound = bindOptions(call->loc, "conv2d", specs, args);
    EXPECT_EQ(diags.size(), mlir::failed(bound) ? 1u : 0u) << text.str();
    return bound;
  }

  Diag bindError(llvm::StringRef text, llvm::ArrayRef<OptionSpec> specs) {
    mlir::FailureOr<mlir::NamedAttrList> bound = bind(text, specs);
    EXPECT_TRUE(mlir::failed(bound)) << "unexpectedly bound: " << text.str();
    return diags.first();
  }

  mlir::FailureOr<mlir::Attribute> config(dl::Category category, llvm::StringRef text) {
    mlir::FailureOr<Constant> value = eval(text);
    if (mlir::failed(value)) {
      ADD_FAILURE() << "does not evaluate: " << text.str();
      return mlir::failure();
    }
    diags.clear();
    mlir::FailureOr<mlir::Attribute> attr = buildConfig(category, *value);
    EXPECT_EQ(diags.size(), mlir::failed(attr) ? 1u : 0u) << text.str();
    return attr;
  }

  Constant intConstant(int64_t value) {
    Constant c(mlir::UnknownLoc::get(&context));
    c.intValue = value;
    return c;
  }
  Constant textConstant(Constant::Kind kind, llvm::StringRef text) {
    Constant c(mlir::UnknownLoc::get(&context));
    c.kind = kind;
    c.text = text.str();
    return c;
  }
  Constant floatConstant(double value) {
    Constant c(mlir::UnknownLoc::get(&context));
    c.kind = Constant::Kind::Float;
    c.floatValue = value;
    return c;
  }

  mlir::MLIRContext context;
  DiagnosticCapture diags;
  ast::Expr dummy{ast::Expr::Kind::Int, mlir::UnknownLoc::get(&context)};
  std::vector<ast::File> files;
  Scope scope;
};

//===----------------------------------------------------------------------===//
// evaluate
//===----------------------------------------------------------------------===//

TEST_F(OptionsTest, IntegerArithmetic) {
  mlir::FailureOr<Constant> value = eval("1 + 2 * 3 - 4");
  ASSERT_TRUE(mlir::succeeded(value));
  EXPECT_EQ(value->kind, Constant::Kind::Int);
  EXPECT_EQ(value->intValue, 3);

  value = eval("(1 + 2) * -3");
  ASSERT_TRUE(mlir::succeeded(value));
  EXPECT_EQ(value->kind, Constant::Kind::Int);
  EXPECT_EQ(value->intValue, -9);

  value = eval("9223372036854775806 + 1");
  ASSERT_TRUE(mlir::succeeded(value));
  EXPECT_EQ(value->intValue, std::numeric_limits<int64_t>::max());
}

TEST_F(OptionsTest, DivisionIsFloat) {
  mlir::FailureOr<Constant> value = eval("7 / 2");
  ASSERT_TRUE(mlir::succeeded(value));
  EXPECT_EQ(value->kind, Constant::Kind::Float);
  EXPECT_DOUBLE_EQ(value->floatValue, 3.5);

  value = eval("1 / 255");
  ASSERT_TRUE(mlir::succeeded(value));
  EXPECT_DOUBLE_EQ(value->floatValue, 1.0 / 255);

  // Mixed operands give a float even when the value is integral.
  value = eval("2 * 1.5");
  ASSERT_TRUE(mlir::succeeded(value));
  EXPECT_EQ(value->kind, Constant::Kind::Float);
  EXPECT_DOUBLE_EQ(value->floatValue, 3.0);
}

TEST_F(OptionsTest, ArithmeticErrors) {
  EXPECT_DIAG(evalError("9223372036854775807 + 1"), "integer overflow in '+'", 2, 27);
  EXPECT_DIAG(evalError("0 - 9223372036854775807 - 2"), "integer overflow in '-'", 2, 31);
  EXPECT_DIAG(evalError("4294967296 * 4294967296"), "integer overflow in '*'", 2, 18);
  EXPECT_DIAG(evalError("-(0 - 9223372036854775807 - 1)"), "integer overflow in '-'", 2, 7);
  EXPECT_DIAG(evalError("1 / 0"), "division by zero", 2, 9);
  EXPECT_DIAG(evalError("1.5 / 0.0"), "division by zero", 2, 11);
  EXPECT_DIAG(evalError("1e308 * 10"), "arithmetic result is out of range", 2, 13);
}

TEST_F(OptionsTest, OperatorsNeedNumbers) {
  EXPECT_DIAG(evalError("-relu"), "operator '-' needs a number, got word 'relu'", 2, 7);
  EXPECT_DIAG(evalError("-\"text\""), "operator '-' needs a number, got string \"text\"", 2, 7);
  EXPECT_DIAG(evalError("relu + 1"), "operator '+' needs numbers, got word 'relu' and integer 1", 2,
              12);
  EXPECT_DIAG(evalError("2 * [1, 2]"), "operator '*' needs numbers, got integer 2 and a list", 2,
              9);
  EXPECT_DIAG(evalError("true - 1"), "operator '-' needs numbers, got true and integer 1", 2, 12);
}

TEST_F(OptionsTest, NamesAndScopes) {
  scope.bind("filters", intConstant(32));
  Scope inner(&scope);
  inner.bind("i", intConstant(2));
  inner.bind("filters", intConstant(64)); // shadows the outer binding

  diags.clear();
  mlir::FailureOr<Constant> value = evaluate(expr("filters * i"), inner);
  ASSERT_TRUE(mlir::succeeded(value));
  EXPECT_EQ(value->intValue, 128);
  value = evaluate(expr("filters"), scope);
  ASSERT_TRUE(mlir::succeeded(value));
  EXPECT_EQ(value->intValue, 32);
  // The value takes the location of the use, not of the binding.
  auto loc = llvm::cast<mlir::FileLineColLoc>(value->loc);
  EXPECT_EQ(loc.getLine(), 2u);
  EXPECT_EQ(loc.getColumn(), 7u);

  // An unbound name is a word.
  value = eval("relu");
  ASSERT_TRUE(mlir::succeeded(value));
  EXPECT_EQ(value->kind, Constant::Kind::Word);
  EXPECT_EQ(value->text, "relu");
  EXPECT_EQ(value->describe(), "word 'relu'");
}

TEST_F(OptionsTest, ListsTuplesAndCalls) {
  mlir::FailureOr<Constant> value = eval("[1, 2.5, relu, \"s\", true]");
  ASSERT_TRUE(mlir::succeeded(value));
  ASSERT_EQ(value->kind, Constant::Kind::List);
  ASSERT_EQ(value->items.size(), 5u);
  EXPECT_EQ(value->items[0].kind, Constant::Kind::Int);
  EXPECT_EQ(value->items[1].kind, Constant::Kind::Float);
  EXPECT_EQ(value->items[2].kind, Constant::Kind::Word);
  EXPECT_EQ(value->items[3].kind, Constant::Kind::String);
  EXPECT_EQ(value->items[4].kind, Constant::Kind::Bool);
  EXPECT_EQ(value->items[4].intValue, 1);

  value = eval("(3, 5)");
  ASSERT_TRUE(mlir::succeeded(value));
  EXPECT_EQ(value->kind, Constant::Kind::List);
  EXPECT_EQ(value->describe(), "a list");

  value = eval("adam(0.01, amsgrad=true)");
  ASSERT_TRUE(mlir::succeeded(value));
  EXPECT_EQ(value->kind, Constant::Kind::Call);
  EXPECT_EQ(value->text, "adam");
  EXPECT_EQ(value->describe(), "call 'adam(...)'");
  ASSERT_EQ(value->items.size(), 2u);
  EXPECT_EQ(value->keywords, (std::vector<std::string>{"", "amsgrad"}));
  EXPECT_DOUBLE_EQ(value->items[0].floatValue, 0.01);

  // An error inside a list or call is reported at its own position.
  EXPECT_DIAG(evalError("[1, 2 / 0]"), "division by zero", 2, 13);
  EXPECT_DIAG(evalError("f(x=-g)"), "operator '-' needs a number, got word 'g'", 2, 11);
}

TEST_F(OptionsTest, StringSplicing) {
  scope.bind("b", intConstant(2));
  scope.bind("i", intConstant(10));
  scope.bind("kind", textConstant(Constant::Kind::Word, "conv"));
  scope.bind("tag", textConstant(Constant::Kind::String, "x"));
  mlir::FailureOr<Constant> value = eval("\"block{b}_{kind}{i}_{tag}\"");
  ASSERT_TRUE(mlir::succeeded(value));
  EXPECT_EQ(value->kind, Constant::Kind::String);
  EXPECT_EQ(value->text, "block2_conv10_x");

  // Text without a closing brace is kept as written.
  value = eval("\"a{b}{c\"");
  ASSERT_TRUE(mlir::succeeded(value));
  EXPECT_EQ(value->text, "a2{c");

  EXPECT_DIAG(evalError("\"block{q}\""),
              "unknown name 'q' in string; only block parameters and loop variables can be "
              "spliced",
              2, 7);
  scope.bind("rate", floatConstant(0.5));
  EXPECT_DIAG(evalError("\"drop{rate}\""), "cannot splice number 0.5 into a string", 2, 7);
}

//===----------------------------------------------------------------------===//
// bindOptions
//===----------------------------------------------------------------------===//

const dl::Range kAtLeastOne{1, std::numeric_limits<double>::infinity()};

std::vector<OptionSpec> convSpecs() {
  return {
      {"filters", OptionType::Int, OptionDefault::required(), kAtLeastOne},
      {"kernel_size", OptionType::IntOrPair, OptionDefault::of(1), kAtLeastOne},
      {"activation", OptionType::Word, OptionDefault::of("linear"), {}, {"linear", "relu"}},
      {"use_bias", OptionType::Bool, OptionDefault::of(true)},
      {"rate", OptionType::Float, OptionDefault::of(0), {0, 1, false, true}},
      {"seed", OptionType::Int, OptionDefault::absent()},
      {"name", OptionType::String, OptionDefault::of("conv")},
      {"mean", OptionType::FloatOrList, OptionDefault::of(0.0)},
      {"shape", OptionType::IntList, OptionDefault::absent(), {-1, 1e9}},
  };
}

TEST_F(OptionsTest, BindPositionalKeywordAndDefaults) {
  mlir::FailureOr<mlir::NamedAttrList> bound = bind("f(32, 3, activation=relu)", convSpecs());
  ASSERT_TRUE(mlir::succeeded(bound));
  mlir::Builder b(&context);
  EXPECT_EQ(bound->get("filters"), b.getI64IntegerAttr(32));
  EXPECT_EQ(bound->get("kernel_size"), b.getDenseI64ArrayAttr({3, 3}));
  EXPECT_EQ(bound->get("activation"), b.getStringAttr("relu"));
  EXPECT_EQ(bound->get("use_bias"), b.getBoolAttr(true));
  // An integer default of a Float option becomes an f64.
  EXPECT_EQ(bound->get("rate"), b.getF64FloatAttr(0.0));
  EXPECT_EQ(bound->get("name"), b.getStringAttr("conv"));
  EXPECT_EQ(bound->get("mean"), b.getF64FloatAttr(0.0));
  // Absent options stay unset.
  EXPECT_FALSE(bound->get("seed"));
  EXPECT_FALSE(bound->get("shape"));
  EXPECT_EQ(bound->getAttrs().size(), 7u);
}

TEST_F(OptionsTest, BindConvertsValues) {
  mlir::Builder b(&context);
  mlir::FailureOr<mlir::NamedAttrList> bound =
      bind("f(filters=8, kernel_size=(3, 5), use_bias=false, rate=1 / 4, seed=7, name=\"c1\", "
           "mean=[0.5, 1], shape=[-1, 4], activation=\"linear\")",
           convSpecs());
  ASSERT_TRUE(mlir::succeeded(bound));
  EXPECT_EQ(bound->get("kernel_size"), b.getDenseI64ArrayAttr({3, 5}));
  EXPECT_EQ(bound->get("use_bias"), b.getBoolAttr(false));
  EXPECT_EQ(bound->get("rate"), b.getF64FloatAttr(0.25));
  EXPECT_EQ(bound->get("seed"), b.getI64IntegerAttr(7));
  EXPECT_EQ(bound->get("name"), b.getStringAttr("c1"));
  EXPECT_EQ(bound->get("mean"), b.getArrayAttr({b.getF64FloatAttr(0.5), b.getF64FloatAttr(1.0)}));
  EXPECT_EQ(bound->get("shape"), b.getDenseI64ArrayAttr({-1, 4}));
  // A word option also takes its word as a string.
  EXPECT_EQ(bound->get("activation"), b.getStringAttr("linear"));
}

TEST_F(OptionsTest, BindIntegralFloats) {
  mlir::Builder b(&context);
  // `6 / 2` is the float 3.0: integral, so it is accepted where integers are.
  mlir::FailureOr<mlir::NamedAttrList> bound = bind("f(64 / 2, 6 / 2)", convSpecs());
  ASSERT_TRUE(mlir::succeeded(bound));
  EXPECT_EQ(bound->get("filters"), b.getI64IntegerAttr(32));
  EXPECT_EQ(bound->get("kernel_size"), b.getDenseI64ArrayAttr({3, 3}));
  EXPECT_DIAG(bindError("f(7 / 2)", convSpecs()),
              "'filters' of conv2d must be an integer, got number 3.5", 2, 11);
}

TEST_F(OptionsTest, BindNoneUnsetsAnOptionalArgument) {
  mlir::FailureOr<mlir::NamedAttrList> bound = bind("f(1, seed=none)", convSpecs());
  ASSERT_TRUE(mlir::succeeded(bound));
  EXPECT_FALSE(bound->get("seed"));
  // `none` is only special for optional arguments.
  EXPECT_DIAG(bindError("f(none)", convSpecs()),
              "'filters' of conv2d must be an integer, got word 'none'", 2, 9);
}

TEST_F(OptionsTest, BindMissingRequired) {
  // Reported at the call.
  EXPECT_DIAG(bindError("f(kernel_size=3)", convSpecs()),
              "conv2d is missing required argument 'filters'", 2, 7);
}

TEST_F(OptionsTest, BindTooManyPositionals) {
  std::vector<OptionSpec> all = convSpecs();
  std::vector<OptionSpec> specs(all.begin(), all.begin() + 2);
  Diag diag = bindError("f(1, 2, 3)", specs);
  EXPECT_DIAG(diag, "conv2d takes at most 2 positional arguments, got more", 2, 15);
  EXPECT_EQ(diag.noteMessages(),
            (std::vector<std::string>{"its arguments are: filters, kernel_size"}));

  std::vector<OptionSpec> one(all.begin(), all.begin() + 1);
  EXPECT_EQ(bindError("f(1, 2)", one).message,
            "conv2d takes at most 1 positional argument, got more");
  Diag none = bindError("f(1)", {});
  EXPECT_EQ(none.message, "conv2d takes at most 0 positional arguments, got more");
  EXPECT_TRUE(none.notes.empty());
}

TEST_F(OptionsTest, BindUnknownKeyword) {
  Diag diag = bindError("f(1, activaton=relu)", convSpecs());
  EXPECT_DIAG(diag, "conv2d has no argument 'activaton'", 2, 12);
  EXPECT_EQ(diag.noteMessages(), (std::vector<std::string>{"did you mean 'activation'?"}));

  diag = bindError("f(1, color=red)", convSpecs());
  EXPECT_EQ(diag.message, "conv2d has no argument 'color'");
  EXPECT_TRUE(diag.notes.empty());
}

TEST_F(OptionsTest, BindDuplicate) {
  EXPECT_DIAG(bindError("f(32, filters=64)", convSpecs()),
              "argument 'filters' of conv2d is given twice", 2, 13);
  // The parser already rejects a repeated keyword in one call; bindOptions
  // checks it as well for arguments gathered otherwise.
  mlir::Location first = mlir::FileLineColLoc::get(&context, "opts.dl", 3, 1);
  mlir::Location second = mlir::FileLineColLoc::get(&context, "opts.dl", 4, 1);
  Constant yes(first), no(second);
  yes.kind = no.kind = Constant::Kind::Bool;
  yes.intValue = 1;
  std::vector<BoundArg> args = {
      {first, "filters", intConstant(1)}, {first, "use_bias", yes}, {second, "use_bias", no}};
  diags.clear();
  EXPECT_TRUE(mlir::failed(bindOptions(first, "conv2d", convSpecs(), args)));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_DIAG(diags[0], "argument 'use_bias' of conv2d is given twice", 4, 1);
}

TEST_F(OptionsTest, BindTypeErrors) {
  EXPECT_DIAG(bindError("f(1, use_bias=1)", convSpecs()),
              "'use_bias' of conv2d must be true or false, got integer 1", 2, 21);
  EXPECT_DIAG(bindError("f(\"32\")", convSpecs()),
              "'filters' of conv2d must be an integer, got string \"32\"", 2, 9);
  EXPECT_DIAG(bindError("f(1, rate=high)", convSpecs()),
              "'rate' of conv2d must be a number, got word 'high'", 2, 17);
  EXPECT_DIAG(bindError("f(1, name=conv)", convSpecs()),
              "'name' of conv2d must be a string, got word 'conv'", 2, 17);
  EXPECT_DIAG(bindError("f(1, kernel_size=(1, 2, 3))", convSpecs()),
              "'kernel_size' of conv2d must be an integer or a pair (h, w), got a list", 2, 24);
  EXPECT_DIAG(bindError("f(1, kernel_size=(1.5, 2))", convSpecs()),
              "'kernel_size' of conv2d must be an integer or a pair (h, w), got a list", 2, 24);
  EXPECT_DIAG(bindError("f(1, shape=[])", convSpecs()),
              "'shape' of conv2d must be a non-empty list of integers, got a list", 2, 18);
  EXPECT_DIAG(bindError("f(1, mean=[0.5, x])", convSpecs()),
              "'mean' of conv2d must be a number or a list of numbers, got a list", 2, 17);
  EXPECT_DIAG(bindError("f(1, mean=[])", convSpecs()),
              "'mean' of conv2d must be a number or a list of numbers, got a list", 2, 17);
}

TEST_F(OptionsTest, BindWordErrorsSuggest) {
  Diag diag = bindError("f(1, activation=relux)", convSpecs());
  EXPECT_DIAG(diag, "'activation' of conv2d must be one of linear, relu, got word 'relux'", 2, 23);
  EXPECT_EQ(diag.noteMessages(), (std::vector<std::string>{"did you mean 'relu'?"}));
  // A string is not misspelled: no hint.
  diag = bindError("f(1, activation=\"relux\")", convSpecs());
  EXPECT_EQ(diag.message,
            "'activation' of conv2d must be one of linear, relu, got string \"relux\"");
  EXPECT_TRUE(diag.notes.empty());
}

TEST_F(OptionsTest, BindRangeErrors) {
  EXPECT_DIAG(bindError("f(0)", convSpecs()), "'filters' of conv2d must be at least 1, got 0", 2,
              9);
  EXPECT_DIAG(bindError("f(1, rate=1)", convSpecs()), "'rate' of conv2d must be in [0, 1), got 1",
              2, 17);
  // A broadcast pair is checked once per element, at the argument.
  EXPECT_DIAG(bindError("f(1, 0)", convSpecs()),
              "'kernel_size' of conv2d must be at least 1, got 0", 2, 12);
  EXPECT_DIAG(bindError("f(1, kernel_size=(3, -1))", convSpecs()),
              "'kernel_size' of conv2d must be at least 1, got -1", 2, 24);
  EXPECT_DIAG(bindError("f(1, shape=[4, -2])", convSpecs()),
              "'shape' of conv2d must be in [-1, 1e+09], got -2", 2, 18);
}

//===----------------------------------------------------------------------===//
// buildConfig
//===----------------------------------------------------------------------===//

TEST_F(OptionsTest, ConfigFromAWordTakesEveryDefault) {
  mlir::FailureOr<mlir::Attribute> attr = config(dl::Category::Optimizer, "adam");
  ASSERT_TRUE(mlir::succeeded(attr));
  auto adam = llvm::dyn_cast<dl::ConfigAttr>(*attr);
  ASSERT_TRUE(adam);
  EXPECT_EQ(adam.getKind().getValue(), "adam");
  mlir::DictionaryAttr options = adam.getOptions();
  EXPECT_EQ(options.size(), 5u);
  EXPECT_DOUBLE_EQ(llvm::cast<mlir::FloatAttr>(options.get("learning_rate")).getValueAsDouble(),
                   0.001);
  EXPECT_DOUBLE_EQ(llvm::cast<mlir::FloatAttr>(options.get("beta_1")).getValueAsDouble(), 0.9);
  EXPECT_DOUBLE_EQ(llvm::cast<mlir::FloatAttr>(options.get("beta_2")).getValueAsDouble(), 0.999);
  EXPECT_DOUBLE_EQ(llvm::cast<mlir::FloatAttr>(options.get("epsilon")).getValueAsDouble(), 1e-7);
  EXPECT_EQ(options.get("amsgrad"), mlir::BoolAttr::get(&context, false));

  // Metric without options; a string names a kind as well as a word.
  attr = config(dl::Category::Metric, "\"accuracy\"");
  ASSERT_TRUE(mlir::succeeded(attr));
  EXPECT_EQ(llvm::cast<dl::ConfigAttr>(*attr).getOptions().size(), 0u);
}

TEST_F(OptionsTest, ConfigFromACall) {
  mlir::FailureOr<mlir::Attribute> attr =
      config(dl::Category::Optimizer, "sgd(0.1, nesterov=true)");
  ASSERT_TRUE(mlir::succeeded(attr));
  auto sgd = llvm::cast<dl::ConfigAttr>(*attr);
  EXPECT_EQ(sgd.getKind().getValue(), "sgd");
  mlir::DictionaryAttr options = sgd.getOptions();
  EXPECT_EQ(options.size(), 3u);
  EXPECT_DOUBLE_EQ(llvm::cast<mlir::FloatAttr>(options.get("learning_rate")).getValueAsDouble(),
                   0.1);
  EXPECT_DOUBLE_EQ(llvm::cast<mlir::FloatAttr>(options.get("momentum")).getValueAsDouble(), 0.0);
  EXPECT_EQ(options.get("nesterov"), mlir::BoolAttr::get(&context, true));

  attr = config(dl::Category::DataTransform, "random_flip(vertical)");
  ASSERT_TRUE(mlir::succeeded(attr));
  EXPECT_EQ(llvm::cast<dl::ConfigAttr>(*attr).getOptions().get("mode"),
            mlir::StringAttr::get(&context, "vertical"));
}

TEST_F(OptionsTest, ConfigsFromWordsVerify) {
  // What the frontend builds from a bare word passes the dl.train_setup
  // checks, for every kind that has no required option.
  int checked = 0;
  for (dl::Category category : {dl::Category::Loss, dl::Category::Optimizer, dl::Category::Metric,
                                dl::Category::DataSource, dl::Category::DataTransform,
                                dl::Category::Callback, dl::Category::Schedule}) {
    for (const dl::KindSpec &kind : dl::kindsOf(category)) {
      bool required = llvm::any_of(kind.options, [](const OptionSpec &option) {
        return option.defaultValue.kind == OptionDefault::Kind::None;
      });
      mlir::FailureOr<mlir::Attribute> attr = config(category, kind.name);
      if (required) {
        EXPECT_TRUE(mlir::failed(attr)) << kind.name;
        continue;
      }
      ASSERT_TRUE(mlir::succeeded(attr)) << kind.name;
      mlir::Location loc = mlir::UnknownLoc::get(&context);
      EXPECT_TRUE(mlir::succeeded(dl::verifyConfig(category, llvm::cast<dl::ConfigAttr>(*attr),
                                                   [&] { return mlir::emitError(loc); })))
          << kind.name;
      EXPECT_TRUE(diags.empty()) << kind.name;
      ++checked;
    }
  }
  // 4 losses, 4 optimizers, 2 metrics, fashion_mnist, imagenet_preprocess,
  // random_flip, 3 callbacks (every schedule has required options).
  EXPECT_EQ(checked, 16);
}

TEST_F(OptionsTest, ConfigErrors) {
  mlir::FailureOr<mlir::Attribute> attr = config(dl::Category::Optimizer, "adan");
  EXPECT_TRUE(mlir::failed(attr));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_DIAG(diags[0], "unknown optimizer 'adan'", 2, 7);
  EXPECT_EQ(diags[0].noteMessages(), (std::vector<std::string>{"did you mean 'adam'?"}));

  attr = config(dl::Category::Optimizer, "xyzzy");
  EXPECT_TRUE(mlir::failed(attr));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].message, "unknown optimizer 'xyzzy'");
  EXPECT_EQ(diags[0].noteMessages(),
            (std::vector<std::string>{"known: sgd, adam, adamw, rmsprop"}));

  attr = config(dl::Category::Optimizer, "adam(lr=0.01)");
  EXPECT_TRUE(mlir::failed(attr));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].message, "optimizer 'adam' has no argument 'lr'");
  EXPECT_EQ(diags[0].noteMessages(), (std::vector<std::string>{"did you mean 'learning_rate'?"}));

  attr = config(dl::Category::DataTransform, "rescale(offset=1)");
  EXPECT_TRUE(mlir::failed(attr));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_DIAG(diags[0], "data transform 'rescale' is missing required argument 'scale'", 2, 7);

  attr = config(dl::Category::Optimizer, "adam(beta_1=1)");
  EXPECT_TRUE(mlir::failed(attr));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].message, "'beta_1' of optimizer 'adam' must be in [0, 1), got 1");

  attr = config(dl::Category::Loss, "[mse]");
  EXPECT_TRUE(mlir::failed(attr));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].message, "expected the name of the loss, got a list");
}

} // namespace
