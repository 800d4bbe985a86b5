//===- Options.cpp - Constant values and typed call arguments ------------===//
#include "frontend/Options.h"
#include "dialects/DL/DLOps.h"
#include "runtime/settings.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace dlc;
using dl::OptionDefault;
using dl::OptionSpec;
using dl::OptionType;

std::string Constant::describe() const {
  switch (kind) {
  case Kind::Int: return "integer " + std::to_string(intValue);
  case Kind::Float: return "number " + llvm::formatv("{0}", llvm::format("%g", floatValue)).str();
  case Kind::Bool: return intValue ? "true" : "false";
  case Kind::String: return "string \"" + text + "\"";
  case Kind::Word: return "word '" + text + "'";
  case Kind::List: return "a list";
  case Kind::Dict: return "a dict";
  case Kind::Call: return "call '" + text + "(...)'";
  }
  return "value";
}

const Constant *Scope::lookup(StringRef name) const {
  for (const Scope *scope = this; scope; scope = scope->parent) {
    auto it = scope->vars.find(name);
    if (it != scope->vars.end())
      return &it->second;
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Evaluation
//===----------------------------------------------------------------------===//

namespace {
FailureOr<Constant> fail(Location loc, const Twine &message) {
  emitError(loc) << message;
  return failure();
}

/// Splices `{name}` references to parameters and loop variables.
FailureOr<std::string> interpolate(const ast::Expr &expr, const Scope &scope) {
  StringRef text = expr.text;
  std::string result;
  while (!text.empty()) {
    size_t open = text.find('{');
    size_t close = open == StringRef::npos ? StringRef::npos : text.find('}', open);
    if (close == StringRef::npos) {
      result += text.str();
      break;
    }
    result += text.take_front(open).str();
    StringRef name = text.slice(open + 1, close);
    const Constant *value = scope.lookup(name);
    if (!value) {
      emitError(expr.loc) << "unknown name '" << name << "' in string; only block parameters "
                          << "and loop variables can be spliced";
      return failure();
    }
    switch (value->kind) {
    case Constant::Kind::Int: result += std::to_string(value->intValue); break;
    case Constant::Kind::String:
    case Constant::Kind::Word: result += value->text; break;
    default:
      emitError(expr.loc) << "cannot splice " << value->describe() << " into a string";
      return failure();
    }
    text = text.drop_front(close + 1);
  }
  return result;
}

FailureOr<Constant> arithmetic(const ast::Expr &expr, const Constant &lhs, const Constant &rhs) {
  if (!lhs.isNumber() || !rhs.isNumber())
    return fail(expr.loc, "operator '" + expr.text + "' needs numbers, got " + lhs.describe() +
                              " and " + rhs.describe());
  Constant result(expr.loc);
  char op = expr.text.empty() ? '?' : expr.text[0];
  if (lhs.kind == Constant::Kind::Int && rhs.kind == Constant::Kind::Int && op != '/') {
    int64_t value = 0;
    bool overflow = op == '+'   ? __builtin_add_overflow(lhs.intValue, rhs.intValue, &value)
                    : op == '-' ? __builtin_sub_overflow(lhs.intValue, rhs.intValue, &value)
                                : __builtin_mul_overflow(lhs.intValue, rhs.intValue, &value);
    if (overflow)
      return fail(expr.loc, "integer overflow in '" + expr.text + "'");
    result.kind = Constant::Kind::Int;
    result.intValue = value;
    return result;
  }
  double a = lhs.asDouble(), b = rhs.asDouble();
  if (op == '/' && b == 0)
    return fail(expr.loc, "division by zero");
  double value = op == '+' ? a + b : op == '-' ? a - b : op == '*' ? a * b : a / b;
  if (!std::isfinite(value))
    return fail(expr.loc, "arithmetic result is out of range");
  result.kind = Constant::Kind::Float;
  result.floatValue = value;
  return result;
}
} // namespace

FailureOr<Constant> dlc::evaluate(const ast::Expr &expr, const Scope &scope) {
  using K = ast::Expr::Kind;
  Constant result(expr.loc);
  switch (expr.kind) {
  case K::Int:
    result.intValue = expr.intValue;
    return result;
  case K::Float:
    result.kind = Constant::Kind::Float;
    result.floatValue = expr.floatValue;
    return result;
  case K::Bool:
    result.kind = Constant::Kind::Bool;
    result.intValue = expr.intValue;
    return result;
  case K::String: {
    FailureOr<std::string> text = interpolate(expr, scope);
    if (failed(text))
      return failure();
    result.kind = Constant::Kind::String;
    result.text = *text;
    return result;
  }
  case K::Name:
    if (const Constant *bound = scope.lookup(expr.text)) {
      result = *bound;
      result.loc = expr.loc;
      return result;
    }
    result.kind = Constant::Kind::Word;
    result.text = expr.text;
    return result;
  case K::List:
  case K::Tuple:
    result.kind = Constant::Kind::List;
    for (const ast::ExprPtr &item : expr.operands) {
      FailureOr<Constant> value = evaluate(*item, scope);
      if (failed(value))
        return failure();
      result.items.push_back(std::move(*value));
    }
    return result;
  case K::Dict:
  case K::Call:
    result.kind = expr.kind == K::Dict ? Constant::Kind::Dict : Constant::Kind::Call;
    result.text = expr.text;
    for (const ast::Arg &arg : expr.args) {
      FailureOr<Constant> value = evaluate(*arg.value, scope);
      if (failed(value))
        return failure();
      result.items.push_back(std::move(*value));
      result.keywords.push_back(arg.keyword);
      result.argLocs.push_back(arg.loc);
    }
    return result;
  case K::Neg: {
    FailureOr<Constant> operand = evaluate(*expr.operands.front(), scope);
    if (failed(operand))
      return failure();
    if (operand->kind == Constant::Kind::Int) {
      if (operand->intValue == INT64_MIN)
        return fail(expr.loc, "integer overflow in '-'");
      operand->intValue = -operand->intValue;
    } else if (operand->kind == Constant::Kind::Float) {
      operand->floatValue = -operand->floatValue;
    } else {
      return fail(expr.loc, "operator '-' needs a number, got " + operand->describe());
    }
    operand->loc = expr.loc;
    return operand;
  }
  case K::Binary: {
    FailureOr<Constant> lhs = evaluate(*expr.operands[0], scope);
    if (failed(lhs))
      return failure();
    FailureOr<Constant> rhs = evaluate(*expr.operands[1], scope);
    if (failed(rhs))
      return failure();
    return arithmetic(expr, *lhs, *rhs);
  }
  }
  return fail(expr.loc, "unsupported expression");
}

//===----------------------------------------------------------------------===//
// Binding to option tables
//===----------------------------------------------------------------------===//

namespace {
std::string wordList(const OptionSpec &spec) {
  return llvm::join(SmallVector<StringRef>(spec.words.begin(), spec.words.end()), ", ");
}

/// Integral value of |value| (an integer, or a float with an integral value
/// such as `width / 2`).
std::optional<int64_t> asInteger(const Constant &value) {
  if (value.kind == Constant::Kind::Int)
    return value.intValue;
  if (value.kind == Constant::Kind::Float && std::trunc(value.floatValue) == value.floatValue &&
      std::fabs(value.floatValue) < 9.0e15)
    return int64_t(value.floatValue);
  return std::nullopt;
}

LogicalResult checkRange(const OptionSpec &spec, StringRef what, double number, Location loc) {
  if (spec.range.contains(number))
    return success();
  emitError(loc) << "'" << spec.name << "' of " << what << " must be " << spec.range.describe()
                 << ", got " << llvm::formatv("{0}", llvm::format("%g", number)).str();
  return failure();
}

FailureOr<Attribute> convert(const OptionSpec &spec, StringRef what, const Constant &value) {
  Builder builder(value.loc.getContext());
  auto mismatch = [&](StringRef expected) -> FailureOr<Attribute> {
    InFlightDiagnostic diag = emitError(value.loc) << "'" << spec.name << "' of " << what
                                                   << " must be " << expected << ", got "
                                                   << value.describe();
    if (spec.type == OptionType::Word && value.kind == Constant::Kind::Word) {
      std::vector<std::string> words(spec.words.begin(), spec.words.end());
      if (auto match = dl::closestMatch(value.text, words))
        diag.attachNote() << "did you mean '" << *match << "'?";
    }
    return failure();
  };
  switch (spec.type) {
  case OptionType::Int: {
    std::optional<int64_t> number = asInteger(value);
    if (!number)
      return mismatch("an integer");
    if (failed(checkRange(spec, what, double(*number), value.loc)))
      return failure();
    return Attribute(builder.getI64IntegerAttr(*number));
  }
  case OptionType::Float:
    if (!value.isNumber())
      return mismatch("a number");
    if (failed(checkRange(spec, what, value.asDouble(), value.loc)))
      return failure();
    return Attribute(builder.getF64FloatAttr(value.asDouble()));
  case OptionType::Bool:
    if (value.kind != Constant::Kind::Bool)
      return mismatch("true or false");
    return Attribute(builder.getBoolAttr(value.intValue != 0));
  case OptionType::String:
    if (value.kind != Constant::Kind::String)
      return mismatch("a string");
    return Attribute(builder.getStringAttr(value.text));
  case OptionType::Path: {
    if (value.kind != Constant::Kind::String)
      return mismatch("a path in quotes");
    // Relative to the .dl file that spells it, as imports and weights are,
    // and absolute so that a bundle does not depend on where it runs.
    llvm::SmallString<256> path(value.text);
    auto file = dyn_cast<FileLineColLoc>(value.loc);
    if (!path.empty() && !llvm::sys::path::is_absolute(path) && file) {
      path = llvm::sys::path::parent_path(file.getFilename().getValue());
      llvm::sys::path::append(path, value.text);
    }
    if (!path.empty())
      llvm::sys::fs::make_absolute(path);
    llvm::sys::path::remove_dots(path, /*remove_dot_dot=*/true);
    return Attribute(builder.getStringAttr(path));
  }
  case OptionType::Word:
    if ((value.kind != Constant::Kind::Word && value.kind != Constant::Kind::String) ||
        !llvm::is_contained(spec.words, StringRef(value.text)))
      return mismatch("one of " + wordList(spec));
    return Attribute(builder.getStringAttr(value.text));
  case OptionType::FloatOrList: {
    if (value.isNumber()) {
      if (failed(checkRange(spec, what, value.asDouble(), value.loc)))
        return failure();
      return Attribute(builder.getF64FloatAttr(value.asDouble()));
    }
    if (value.kind != Constant::Kind::List || value.items.empty())
      return mismatch("a number or a list of numbers");
    SmallVector<Attribute> numbers;
    for (const Constant &item : value.items) {
      if (!item.isNumber())
        return mismatch("a number or a list of numbers");
      if (failed(checkRange(spec, what, item.asDouble(), item.loc)))
        return failure();
      numbers.push_back(builder.getF64FloatAttr(item.asDouble()));
    }
    return Attribute(builder.getArrayAttr(numbers));
  }
  case OptionType::Rate:
    if (value.isNumber()) {
      if (failed(checkRange(spec, what, value.asDouble(), value.loc)))
        return failure();
      return Attribute(builder.getF64FloatAttr(value.asDouble()));
    }
    if (value.kind != Constant::Kind::Call && value.kind != Constant::Kind::Word)
      return mismatch("a number or a learning-rate schedule such as cosine_decay(...)");
    return buildConfig(dl::Category::Schedule, value);
  case OptionType::IntOrPair:
  case OptionType::IntList: {
    SmallVector<int64_t> numbers;
    if (std::optional<int64_t> number = asInteger(value);
        number && spec.type == OptionType::IntOrPair) {
      numbers = {*number, *number};
    } else if (value.kind == Constant::Kind::List) {
      for (const Constant &item : value.items) {
        std::optional<int64_t> element = asInteger(item);
        if (!element)
          return mismatch(spec.type == OptionType::IntOrPair ? "an integer or a pair (h, w)"
                                                            : "a list of integers");
        numbers.push_back(*element);
      }
    } else {
      return mismatch(spec.type == OptionType::IntOrPair ? "an integer or a pair (h, w)"
                                                        : "a list of integers");
    }
    if (spec.type == OptionType::IntOrPair && numbers.size() != 2)
      return mismatch("an integer or a pair (h, w)");
    if (spec.type == OptionType::IntList && numbers.empty())
      return mismatch("a non-empty list of integers");
    for (int64_t number : numbers)
      if (failed(checkRange(spec, what, double(number), value.loc)))
        return failure();
    return Attribute(builder.getDenseI64ArrayAttr(numbers));
  }
  }
  return failure();
}

Attribute defaultAttribute(const OptionSpec &spec, Builder &builder) {
  const OptionDefault &value = spec.defaultValue;
  switch (value.kind) {
  case OptionDefault::Kind::Int:
    if (spec.type == OptionType::IntOrPair)
      return builder.getDenseI64ArrayAttr({value.intValue, value.intValue});
    if (spec.type == OptionType::Float)
      return builder.getF64FloatAttr(double(value.intValue));
    return builder.getI64IntegerAttr(value.intValue);
  case OptionDefault::Kind::Float: return builder.getF64FloatAttr(value.floatValue);
  case OptionDefault::Kind::Bool: return builder.getBoolAttr(value.intValue != 0);
  case OptionDefault::Kind::String: return builder.getStringAttr(value.text);
  case OptionDefault::Kind::None:
  case OptionDefault::Kind::Absent: return {};
  }
  return {};
}
} // namespace

FailureOr<NamedAttrList> dlc::bindOptions(Location callLoc, StringRef what,
                                          ArrayRef<OptionSpec> specs, ArrayRef<BoundArg> args) {
  Builder builder(callLoc.getContext());
  NamedAttrList bound;
  llvm::StringMap<Location> seen;
  size_t position = 0;
  for (const BoundArg &arg : args) {
    const OptionSpec *spec = nullptr;
    if (arg.keyword.empty()) {
      if (position >= specs.size()) {
        InFlightDiagnostic diag = emitError(arg.loc)
                                  << what << " takes at most " << specs.size()
                                  << " positional argument" << (specs.size() == 1 ? "" : "s")
                                  << ", got more";
        if (!specs.empty()) {
          SmallVector<StringRef> names;
          for (const OptionSpec &option : specs)
            names.push_back(option.name);
          diag.attachNote() << "its arguments are: " << llvm::join(names, ", ");
        }
        return failure();
      }
      spec = &specs[position++];
    } else {
      for (const OptionSpec &option : specs)
        if (arg.keyword == option.name)
          spec = &option;
      if (!spec) {
        InFlightDiagnostic diag = emitError(arg.loc)
                                  << what << " has no argument '" << arg.keyword << "'";
        std::vector<std::string> names;
        for (const OptionSpec &option : specs)
          names.push_back(option.name);
        if (auto match = dl::closestMatch(arg.keyword, names))
          diag.attachNote() << "did you mean '" << *match << "'?";
        return failure();
      }
    }
    auto [it, inserted] = seen.try_emplace(spec->name, arg.loc);
    if (!inserted) {
      emitError(arg.loc) << "argument '" << spec->name << "' of " << what << " is given twice";
      return failure();
    }
    // `none` leaves an optional argument unset, as Python's None does.
    if (spec->defaultValue.kind == OptionDefault::Kind::Absent &&
        arg.value.kind == Constant::Kind::Word && arg.value.text == "none")
      continue;
    FailureOr<Attribute> attr = convert(*spec, what, arg.value);
    if (failed(attr))
      return failure();
    bound.set(spec->name, *attr);
  }
  for (const OptionSpec &spec : specs) {
    if (bound.get(spec.name))
      continue;
    if (spec.defaultValue.kind == OptionDefault::Kind::None) {
      emitError(callLoc) << what << " is missing required argument '" << spec.name << "'";
      return failure();
    }
    if (Attribute value = defaultAttribute(spec, builder))
      bound.set(spec.name, value);
  }
  return bound;
}

FailureOr<Attribute> dlc::buildConfig(dl::Category category, const Constant &value) {
  MLIRContext *context = value.loc.getContext();
  if (value.kind != Constant::Kind::Word && value.kind != Constant::Kind::Call &&
      value.kind != Constant::Kind::String) {
    emitError(value.loc) << "expected the name of the " << dl::categoryName(category)
                         << ", got " << value.describe();
    return failure();
  }
  const dl::KindSpec *kind = dl::findKind(category, value.text);
  if (!kind) {
    InFlightDiagnostic diag = emitError(value.loc)
                              << "unknown " << dl::categoryName(category) << " '" << value.text
                              << "'";
    std::vector<std::string> names;
    for (const dl::KindSpec &known : dl::kindsOf(category))
      names.push_back(known.name);
    if (auto match = dl::closestMatch(value.text, names))
      diag.attachNote() << "did you mean '" << *match << "'?";
    else
      diag.attachNote() << "known: " << llvm::join(names, ", ");
    return failure();
  }
  std::vector<BoundArg> args;
  for (size_t i = 0; i < value.items.size(); ++i)
    args.push_back({value.argLocs[i], value.keywords[i], value.items[i]});
  std::string what = (dl::categoryName(category) + " '" + value.text + "'").str();
  FailureOr<NamedAttrList> options = bindOptions(value.loc, what, kind->options, args);
  if (failed(options))
    return failure();
  auto config = dl::ConfigAttr::get(context, StringAttr::get(context, value.text),
                                    options->getDictionary(context));
  // What options one by one cannot say (piecewise_constant's list lengths,
  // at most one gradient clipping): the runtime's decoding decides.
  rt::Status decoded = rt::okStatus();
  if (category == dl::Category::Schedule) {
    rt::LearningRateSchedule schedule;
    decoded = rt::decodeSchedule(dl::settingOf(config), &schedule);
  } else if (category == dl::Category::Optimizer) {
    rt::OptimizerSettings optimizer;
    decoded = rt::decodeOptimizer(dl::settingOf(config), &optimizer);
  }
  if (!decoded.ok()) {
    emitError(value.loc) << decoded.message();
    return failure();
  }
  return Attribute(config);
}
