//===- Options.h - Constant values and typed call arguments --------------===//
//
// Layer arguments and training settings are constant expressions: numbers,
// words, strings, lists and calls such as `adam(learning_rate=1e-3)`. They are
// evaluated in a scope of block parameters and loop variables, then bound to
// an option table (dl::OptionSpec) that checks names, types and ranges and
// fills Keras' defaults.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "dialects/DL/DLCatalog.h"
#include "frontend/AST.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/ADT/StringMap.h"

namespace dlc {

/// The value of a constant expression.
struct Constant {
  enum class Kind { Int, Float, Bool, String, Word, List, Dict, Call };
  Kind kind = Kind::Int;
  mlir::Location loc;
  int64_t intValue = 0;
  double floatValue = 0;
  std::string text; // String, Word, Call callee
  std::vector<Constant> items; // List elements, Call arguments, Dict values (in order)
  std::vector<std::string> keywords; // Call: keyword of each argument, "" if positional; Dict: keys
  std::vector<mlir::Location> argLocs; // Call, Dict: where each argument or entry starts

  explicit Constant(mlir::Location loc) : loc(loc) {}
  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }
  double asDouble() const { return kind == Kind::Int ? double(intValue) : floatValue; }
  /// "integer", "number", "word 'relu'", "list" ...: for messages.
  std::string describe() const;
};

/// Block parameters and loop variables in scope, innermost first.
class Scope {
public:
  explicit Scope(const Scope *parent = nullptr) : parent(parent) {}
  void bind(llvm::StringRef name, Constant value) { vars.insert_or_assign(name, std::move(value)); }
  const Constant *lookup(llvm::StringRef name) const;

private:
  const Scope *parent;
  llvm::StringMap<Constant> vars;
};

/// Evaluates |expr|; a name not in |scope| is a word. Reports errors at the
/// expression's location.
mlir::FailureOr<Constant> evaluate(const ast::Expr &expr, const Scope &scope);

/// One evaluated call argument.
struct BoundArg {
  mlir::Location loc;
  std::string keyword; // empty when positional
  Constant value;
};

/// Binds |args| of a call to |what| (e.g. "conv2d", "optimizer 'adam'") to
/// |specs| in positional order, converting each to its attribute form and
/// filling defaults. Unknown or duplicate keywords, extra positionals, missing
/// required options, wrong types and values out of range are errors at the
/// argument (or |callLoc|).
mlir::FailureOr<mlir::NamedAttrList> bindOptions(mlir::Location callLoc, llvm::StringRef what,
                                                 llvm::ArrayRef<dl::OptionSpec> specs,
                                                 llvm::ArrayRef<BoundArg> args);

/// Converts a setting such as `optimizer = adam(...)` or `metrics = [accuracy]`
/// entry to a #dl.config of |category|: a word takes every default, a call
/// binds its arguments. Unknown kinds get a "did you mean" note.
mlir::FailureOr<mlir::Attribute> buildConfig(dl::Category category, const Constant &value);

} // namespace dlc
