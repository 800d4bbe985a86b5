//===- ASTDump.cpp - Text dump of the .dl syntax tree ---------------------===//
//
// The dump feeds FileCheck tests, so its shape is part of the interface: one
// node per line, two spaces of indent per level, and every node that has a
// location ends in ` @file:line:col` (the file's base name, so tests do not
// depend on where the source tree lives). Expressions are printed inline in
// source syntax with only the parentheses their tree needs.
//
//===----------------------------------------------------------------------===//
#include "frontend/AST.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace dlc;
using namespace dlc::ast;

namespace {

/// Binding strength of an expression when printed; atoms bind tightest.
int precedence(const Expr &expr) {
  if (expr.kind == Expr::Kind::Binary)
    return expr.text == "+" || expr.text == "-" ? 1 : 2;
  if (expr.kind == Expr::Kind::Neg)
    return 3;
  return 4;
}

/// Shortest text that reads back as the same double, laid out like Python's
/// repr (fixed notation for exponents -4..15) and always with a point or an
/// exponent, so that a float never looks like an integer.
std::string formatFloat(double value) {
  char buffer[64];
  int digits = 1;
  for (; digits < 17; ++digits) {
    std::snprintf(buffer, sizeof(buffer), "%.*e", digits - 1, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  std::snprintf(buffer, sizeof(buffer), "%.*e", digits - 1, value);
  const char *exponentText = std::strchr(buffer, 'e');
  int exponent = exponentText ? std::atoi(exponentText + 1) : 0;
  if (exponent >= -4 && exponent < 16)
    std::snprintf(buffer, sizeof(buffer), "%.*f", std::max(0, digits - 1 - exponent), value);
  std::string text = buffer;
  if (text.find_first_of(".en") == std::string::npos)
    text += ".0";
  return text;
}

class Dumper {
public:
  explicit Dumper(llvm::raw_ostream &os) : os(os) {}

  void dumpFile(const File &file);

private:
  llvm::raw_ostream &line() { return os.indent(2 * indent); }
  void endLine(mlir::Location loc);
  void printExpr(const Expr &expr, int minPrecedence = 0);
  void printArgs(const std::vector<Arg> &args);
  void printArg(const Arg &arg);
  void dumpBody(const StmtList &body);
  void dumpStmt(const Stmt &stmt);
  void dumpSetting(const Setting &setting);

  llvm::raw_ostream &os;
  unsigned indent = 0;
};

} // namespace

void Dumper::endLine(mlir::Location loc) {
  if (auto fileLoc = llvm::dyn_cast<mlir::FileLineColLoc>(loc))
    os << " @" << llvm::sys::path::filename(fileLoc.getFilename().getValue()) << ':'
       << fileLoc.getLine() << ':' << fileLoc.getColumn();
  else
    os << " @" << loc;
  os << '\n';
}

void Dumper::printExpr(const Expr &expr, int minPrecedence) {
  int own = precedence(expr);
  bool parens = own < minPrecedence;
  if (parens)
    os << '(';
  switch (expr.kind) {
  case Expr::Kind::Int:
    os << expr.intValue;
    break;
  case Expr::Kind::Float:
    os << formatFloat(expr.floatValue);
    break;
  case Expr::Kind::Bool:
    os << (expr.intValue ? "true" : "false");
    break;
  case Expr::Kind::String:
    os << '"';
    for (unsigned char c : expr.text) {
      switch (c) {
      case '"': os << "\\\""; break;
      case '\\': os << "\\\\"; break;
      case '\n': os << "\\n"; break;
      case '\t': os << "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f)
          os << "\\x" << llvm::format("%02x", c);
        else
          os << static_cast<char>(c);
      }
    }
    os << '"';
    break;
  case Expr::Kind::Name:
    os << expr.text;
    break;
  case Expr::Kind::List:
  case Expr::Kind::Tuple: {
    bool isList = expr.kind == Expr::Kind::List;
    os << (isList ? '[' : '(');
    for (size_t i = 0; i < expr.operands.size(); ++i) {
      if (i)
        os << ", ";
      printExpr(*expr.operands[i]);
    }
    if (!isList && expr.operands.size() == 1)
      os << ',';
    os << (isList ? ']' : ')');
    break;
  }
  case Expr::Kind::Dict:
    os << '{';
    for (size_t i = 0; i < expr.args.size(); ++i) {
      os << (i ? ", " : "") << expr.args[i].keyword << ": ";
      printExpr(*expr.args[i].value);
    }
    os << '}';
    break;
  case Expr::Kind::Call:
    os << expr.text;
    printArgs(expr.args);
    break;
  case Expr::Kind::Neg:
    os << '-';
    // A nested minus gets parentheses: `--x` would read as a typo.
    if (!expr.operands.empty())
      printExpr(*expr.operands[0], own + 1);
    break;
  case Expr::Kind::Binary:
    // Left-associative: an equal-precedence right operand needs parentheses.
    if (expr.operands.size() == 2) {
      printExpr(*expr.operands[0], own);
      os << ' ' << expr.text << ' ';
      printExpr(*expr.operands[1], own + 1);
    }
    break;
  }
  if (parens)
    os << ')';
}

void Dumper::printArg(const Arg &arg) {
  if (!arg.keyword.empty())
    os << arg.keyword << '=';
  if (arg.value)
    printExpr(*arg.value);
}

void Dumper::printArgs(const std::vector<Arg> &args) {
  os << '(';
  for (size_t i = 0; i < args.size(); ++i) {
    if (i)
      os << ", ";
    printArg(args[i]);
  }
  os << ')';
}

void Dumper::dumpSetting(const Setting &setting) {
  line() << "Setting " << setting.key << " = ";
  if (setting.value)
    printExpr(*setting.value);
  endLine(setting.loc);
}

void Dumper::dumpBody(const StmtList &body) {
  ++indent;
  for (const Stmt &stmt : body)
    dumpStmt(stmt);
  --indent;
}

void Dumper::dumpStmt(const Stmt &stmt) {
  switch (stmt.kind) {
  case Stmt::Kind::Input:
    line() << "Input " << stmt.name;
    if (stmt.shape) {
      os << ' ' << (stmt.dtype.empty() ? "float32" : stmt.dtype) << " [";
      for (size_t i = 0; i < stmt.shape->size(); ++i) {
        if (i)
          os << ", ";
        printExpr(*(*stmt.shape)[i]);
      }
      os << ']';
    }
    endLine(stmt.loc);
    return;
  case Stmt::Kind::Output:
    line() << "Output";
    endLine(stmt.loc);
    ++indent;
    for (const NameRef &ref : stmt.outputs) {
      line() << "Ref " << ref.name;
      endLine(ref.loc);
    }
    --indent;
    return;
  case Stmt::Kind::For:
    line() << "For " << stmt.name << " in ";
    if (stmt.from)
      printExpr(*stmt.from);
    os << "..";
    if (stmt.to)
      printExpr(*stmt.to);
    endLine(stmt.loc);
    dumpBody(stmt.body);
    return;
  case Stmt::Kind::Layer:
    line() << "Layer ";
    if (stmt.target)
      os << stmt.target->name << " = ";
    os << stmt.callee;
    endLine(stmt.loc);
    ++indent;
    for (const Arg &arg : stmt.args) {
      line() << "Arg ";
      printArg(arg);
      endLine(arg.loc);
    }
    if (stmt.inputs) {
      line() << "Apply\n";
      ++indent;
      for (const NameRef &ref : *stmt.inputs) {
        line() << "Ref " << ref.name;
        endLine(ref.loc);
      }
      --indent;
    }
    --indent;
    return;
  }
}

void Dumper::dumpFile(const File &file) {
  os << "File " << file.path << '\n';
  ++indent;
  for (const Import &import : file.imports) {
    line() << "Import \"" << import.path << '"';
    endLine(import.loc);
  }
  for (const Block &block : file.blocks) {
    line() << "Block " << block.name;
    endLine(block.loc);
    ++indent;
    for (const BlockParam &param : block.params) {
      line() << "Param " << param.name;
      if (param.defaultValue) {
        os << " = ";
        printExpr(*param.defaultValue);
      }
      endLine(param.loc);
    }
    --indent;
    dumpBody(block.body);
  }
  for (const Model &model : file.models) {
    line() << "Model " << model.name;
    endLine(model.loc);
    dumpBody(model.body);
  }
  for (const Train &train : file.trains) {
    line() << "Train " << train.model;
    endLine(train.loc);
    ++indent;
    for (const Setting &setting : train.settings)
      dumpSetting(setting);
    if (train.data) {
      line() << "Data";
      endLine(train.data->loc);
      ++indent;
      for (const Setting &setting : train.data->settings)
        dumpSetting(setting);
      for (const ExprPtr &step : train.data->steps) {
        line() << "Step ";
        printExpr(*step);
        endLine(step->loc);
      }
      --indent;
    }
    --indent;
  }
  --indent;
}

void dlc::ast::dump(const File &file, llvm::raw_ostream &os) { Dumper(os).dumpFile(file); }
