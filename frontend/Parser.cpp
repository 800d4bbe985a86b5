//===- Parser.cpp - Recursive-descent parser for .dl files ----------------===//
//
// One token of lookahead (plus one peeked token) follows docs/language.md's
// grammar directly. Two rules keep the parser total on hostile input:
//  - the first diagnostic wins: once an error is reported, every later report
//    is swallowed and each parse function just unwinds with failure, so a
//    failed parse yields exactly one error;
//  - recursion is bounded: brackets, bodies and unary minus share one nesting
//    budget, and operator chains have their own, so neither parsing nor the
//    recursive walks over the tree later (destructors, ModelBuilder) can run
//    out of stack.
//
//===----------------------------------------------------------------------===//
#include "frontend/Parser.h"
#include "frontend/Lexer.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringMap.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

using namespace dlc;
using llvm::SMLoc;
using llvm::Twine;
using mlir::failed;
using mlir::failure;
using mlir::LogicalResult;
using mlir::success;

namespace {

constexpr unsigned kMaxNesting = 64;
constexpr unsigned kMaxOperators = 64;

class Parser {
public:
  Parser(llvm::SourceMgr &sourceMgr, unsigned bufferId, mlir::MLIRContext *context)
      : sourceMgr(sourceMgr), bufferId(bufferId),
        bufferName(sourceMgr.getMemoryBuffer(bufferId)->getBufferIdentifier()),
        fileName(mlir::StringAttr::get(context, bufferName)),
        lexer(sourceMgr.getMemoryBuffer(bufferId)->getBuffer()) {}

  std::optional<ast::File> parseFile();

private:
  /// Holds one level of the nesting budget for the lifetime of a bracketed
  /// construct; check failed() right after construction.
  class NestingScope {
  public:
    NestingScope(Parser &parser, SMLoc at) : parser(parser) {
      ok = ++parser.depth <= kMaxNesting;
      if (!ok)
        (void)parser.error(at, "nesting too deep (more than 64 levels)");
    }
    ~NestingScope() { --parser.depth; }
    bool failed() const { return !ok; }

  private:
    Parser &parser;
    bool ok;
  };

  // Token stream.
  void advance();
  const Token &peek();
  bool at(TokenKind kind) const { return tok.is(kind); }
  bool consumeIf(TokenKind kind);
  bool startsExpr() const;

  // Diagnostics.
  mlir::Location loc(SMLoc at);
  LogicalResult error(SMLoc at, const Twine &message, const Twine &note = {},
                      std::optional<SMLoc> noteAt = std::nullopt);
  LogicalResult errorExpected(const Twine &what, const Twine &note = {});
  /// Like errorExpected, explaining when the token found is a keyword.
  LogicalResult errorExpectedName(const Twine &what);
  LogicalResult parseName(std::string &name, SMLoc &nameAt, const Twine &what);

  // Declarations.
  LogicalResult parseImport(ast::File &file);
  LogicalResult parseBlock(ast::File &file);
  LogicalResult parseModel(ast::File &file);
  LogicalResult parseTrain(ast::File &file);
  LogicalResult parseDataSection(ast::Train &train, std::optional<SMLoc> &firstData);
  LogicalResult parseSetting(std::vector<ast::Setting> &settings, bool orStep);
  /// Parses `'{' { item } '}'`; |parseItem| must consume a token or fail.
  LogicalResult parseBraced(const Twine &what,
                            llvm::function_ref<LogicalResult()> parseItem);

  // Statements.
  LogicalResult parseBody(ast::StmtList &body, const Twine &what);
  LogicalResult parseStmt(ast::StmtList &body);
  LogicalResult parseInput(ast::StmtList &body);
  LogicalResult parseShape(std::optional<std::vector<ast::ExprPtr>> &shape);
  LogicalResult parseOutput(ast::StmtList &body);
  LogicalResult parseFor(ast::StmtList &body);
  LogicalResult parseLayer(ast::StmtList &body);
  LogicalResult parseArgs(std::vector<ast::Arg> &args);

  // Expressions; null means failure (already reported).
  ast::ExprPtr parseExpr();
  /// `expr` when |additive|, else `term`: a left-associative operator chain.
  ast::ExprPtr parseBinary(bool additive);
  ast::ExprPtr parseUnary();
  ast::ExprPtr parsePrimary();
  ast::ExprPtr parseList();
  /// `{ key: expr, ... }` (keys are names or strings), e.g. one loss per output.
  ast::ExprPtr parseDict();
  /// Parses `[ expr { ',' expr } [ ',' ] ] close` after the opener.
  LogicalResult parseExprList(std::vector<ast::ExprPtr> &items, TokenKind close,
                              const Twine &what);
  ast::ExprPtr parseParen();
  ast::ExprPtr makeExpr(ast::Expr::Kind kind, SMLoc at) {
    return std::make_unique<ast::Expr>(kind, loc(at));
  }

  llvm::SourceMgr &sourceMgr;
  unsigned bufferId;
  llvm::StringRef bufferName;
  mlir::StringAttr fileName;
  Lexer lexer;
  Token tok;
  std::optional<Token> peeked;
  unsigned depth = 0;
  bool hadError = false;
};

} // namespace

//===----------------------------------------------------------------------===//
// Tokens and diagnostics
//===----------------------------------------------------------------------===//

void Parser::advance() {
  if (peeked) {
    tok = std::move(*peeked);
    peeked.reset();
  } else {
    tok = lexer.next();
  }
  // Reported only once it becomes current: a peeked-at bad token may never be
  // reached if the parse fails earlier.
  if (tok.is(TokenKind::Error))
    (void)error(tok.loc, tok.value, tok.note ? tok.note : "");
}

const Token &Parser::peek() {
  if (!peeked)
    peeked = lexer.next();
  return *peeked;
}

bool Parser::consumeIf(TokenKind kind) {
  if (!at(kind))
    return false;
  advance();
  return true;
}

bool Parser::startsExpr() const {
  return at(TokenKind::Int) || at(TokenKind::Float) || at(TokenKind::String) ||
         at(TokenKind::KwTrue) || at(TokenKind::KwFalse) || at(TokenKind::Ident) ||
         at(TokenKind::LBracket) || at(TokenKind::LParen) || at(TokenKind::Minus);
}

mlir::Location Parser::loc(SMLoc at) {
  auto [line, col] = sourceMgr.getLineAndColumn(at, bufferId);
  return mlir::FileLineColLoc::get(fileName, line, col);
}

LogicalResult Parser::error(SMLoc at, const Twine &message, const Twine &note,
                            std::optional<SMLoc> noteAt) {
  if (hadError)
    return failure();
  hadError = true;
  mlir::InFlightDiagnostic diag = mlir::emitError(loc(at)) << message;
  if (!note.isTriviallyEmpty()) {
    std::optional<mlir::Location> where;
    if (noteAt)
      where = loc(*noteAt);
    diag.attachNote(where) << note;
  }
  return failure();
}

LogicalResult Parser::errorExpected(const Twine &what, const Twine &note) {
  if (at(TokenKind::Eof))
    return error(tok.loc, "unexpected end of file, expected " + what, note);
  return error(tok.loc, "expected " + what + ", found '" + displayText(tok.text) + "'",
               note);
}

LogicalResult Parser::errorExpectedName(const Twine &what) {
  if (tok.isKeyword())
    return errorExpected(what, "'" + tok.text + "' is a keyword and cannot be used as a name");
  return errorExpected(what);
}

LogicalResult Parser::parseName(std::string &name, SMLoc &nameAt, const Twine &what) {
  if (!at(TokenKind::Ident))
    return errorExpectedName(what);
  name = tok.text.str();
  nameAt = tok.loc;
  advance();
  return success();
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

std::optional<ast::File> Parser::parseFile() {
  ast::File file;
  file.path = bufferName.str();
  advance();
  while (!at(TokenKind::Eof)) {
    LogicalResult result = failure();
    switch (tok.kind) {
    case TokenKind::KwImport: result = parseImport(file); break;
    case TokenKind::KwBlock: result = parseBlock(file); break;
    case TokenKind::KwModel: result = parseModel(file); break;
    case TokenKind::KwTrain: result = parseTrain(file); break;
    default:
      result = errorExpected("'import', 'block', 'model' or 'train'");
      break;
    }
    if (failed(result))
      return std::nullopt;
  }
  if (hadError) // e.g. a lexical error a successful path stepped over
    return std::nullopt;
  return file;
}

LogicalResult Parser::parseImport(ast::File &file) {
  SMLoc start = tok.loc;
  advance();
  if (!at(TokenKind::String))
    return errorExpected("a file name in double quotes after 'import'");
  file.imports.push_back({loc(start), tok.value});
  advance();
  return success();
}

LogicalResult Parser::parseBlock(ast::File &file) {
  ast::Block block{loc(tok.loc), {}, {}, {}};
  advance();
  SMLoc nameAt;
  if (failed(parseName(block.name, nameAt, "a block name after 'block'")))
    return failure();
  if (!at(TokenKind::LParen))
    return errorExpected("'(' after the block name",
                         "a block without parameters is written 'block " + block.name +
                             "() { ... }'");
  {
    NestingScope scope(*this, tok.loc);
    if (scope.failed())
      return failure();
    advance();
    llvm::StringMap<SMLoc> seen;
    while (!at(TokenKind::RParen)) {
      std::string name;
      SMLoc paramAt;
      if (failed(parseName(name, paramAt, "a parameter name")))
        return failure();
      auto [it, inserted] = seen.try_emplace(name, paramAt);
      if (!inserted)
        return error(paramAt, "duplicate parameter '" + name + "'",
                     "'" + name + "' was first declared here", it->second);
      ast::BlockParam param{loc(paramAt), name, nullptr};
      if (consumeIf(TokenKind::Equal) && !(param.defaultValue = parseExpr()))
        return failure();
      block.params.push_back(std::move(param));
      if (consumeIf(TokenKind::Comma))
        continue;
      if (!at(TokenKind::RParen))
        return errorExpected("')' after parameters",
                             at(TokenKind::Colon) ? "a default is written 'name = value'" : "");
    }
    advance();
  }
  if (failed(parseBody(block.body, "'{' after the block parameters")))
    return failure();
  file.blocks.push_back(std::move(block));
  return success();
}

LogicalResult Parser::parseModel(ast::File &file) {
  ast::Model model{loc(tok.loc), {}, {}};
  advance();
  SMLoc nameAt;
  if (failed(parseName(model.name, nameAt, "a model name after 'model'")) ||
      failed(parseBody(model.body, "'{' after the model name")))
    return failure();
  file.models.push_back(std::move(model));
  return success();
}

LogicalResult Parser::parseTrain(ast::File &file) {
  SMLoc start = tok.loc;
  advance();
  std::string model;
  SMLoc modelAt;
  if (failed(parseName(model, modelAt, "a model name after 'train'")))
    return failure();
  ast::Train train{loc(start), model, loc(modelAt), {}, std::nullopt};
  std::optional<SMLoc> firstData;
  auto parseItem = [&]() -> LogicalResult {
    if (!at(TokenKind::Ident))
      return errorExpectedName("a setting or 'data'");
    // `data` is a keyword only here, and only when it opens a section; it
    // stays usable as a setting name or value anywhere else.
    if (tok.text == "data" && peek().is(TokenKind::LBrace))
      return parseDataSection(train, firstData);
    return parseSetting(train.settings, /*orStep=*/false);
  };
  if (failed(parseBraced("'{' after the model name", parseItem)))
    return failure();
  file.trains.push_back(std::move(train));
  return success();
}

LogicalResult Parser::parseDataSection(ast::Train &train, std::optional<SMLoc> &firstData) {
  if (firstData)
    return error(tok.loc, "duplicate data section", "the first data section is here",
                 *firstData);
  firstData = tok.loc;
  ast::DataSection data{loc(tok.loc), {}, {}};
  advance();
  auto parseItem = [&]() -> LogicalResult {
    if (!at(TokenKind::Ident))
      return errorExpectedName("a setting or a step");
    if (!peek().is(TokenKind::LParen))
      return parseSetting(data.settings, /*orStep=*/true);
    ast::ExprPtr step = parsePrimary(); // an identifier and '(' make a call
    if (!step)
      return failure();
    data.steps.push_back(std::move(step));
    return success();
  };
  if (failed(parseBraced("'{' after 'data'", parseItem)))
    return failure();
  train.data = std::move(data);
  return success();
}

LogicalResult Parser::parseSetting(std::vector<ast::Setting> &settings, bool orStep) {
  SMLoc keyAt = tok.loc;
  std::string key = tok.text.str();
  advance();
  if (!at(TokenKind::Equal)) {
    std::string what = (orStep ? "'=' or '(' after '" : "'=' after '") + key + "'";
    return errorExpected(what, at(TokenKind::Colon)
                                   ? "settings are written 'name = value'"
                                   : "");
  }
  advance();
  ast::ExprPtr value = parseExpr();
  if (!value)
    return failure();
  settings.push_back({loc(keyAt), key, std::move(value)});
  return success();
}

LogicalResult Parser::parseBraced(const Twine &what,
                                  llvm::function_ref<LogicalResult()> parseItem) {
  if (!at(TokenKind::LBrace))
    return errorExpected(what);
  SMLoc open = tok.loc;
  NestingScope scope(*this, open);
  if (scope.failed())
    return failure();
  advance();
  while (!at(TokenKind::RBrace)) {
    if (at(TokenKind::Eof))
      return error(tok.loc, "unexpected end of file, expected '}'", "to match this '{'",
                   open);
    if (failed(parseItem()))
      return failure();
  }
  advance();
  return success();
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

LogicalResult Parser::parseBody(ast::StmtList &body, const Twine &what) {
  return parseBraced(what, [&] { return parseStmt(body); });
}

LogicalResult Parser::parseStmt(ast::StmtList &body) {
  switch (tok.kind) {
  case TokenKind::KwInput: return parseInput(body);
  case TokenKind::KwOutput: return parseOutput(body);
  case TokenKind::KwFor: return parseFor(body);
  case TokenKind::Ident: return parseLayer(body);
  case TokenKind::KwImport:
  case TokenKind::KwBlock:
  case TokenKind::KwModel:
  case TokenKind::KwTrain:
    // A declaration keyword inside a body almost always means the body before
    // it was not closed.
    return errorExpected("a layer, 'input', 'output' or 'for'",
                         "is a '}' missing before this '" + tok.text + "'?");
  default:
    return errorExpectedName("a layer, 'input', 'output' or 'for'");
  }
}

LogicalResult Parser::parseInput(ast::StmtList &body) {
  ast::Stmt stmt(ast::Stmt::Kind::Input, loc(tok.loc));
  advance();
  SMLoc nameAt;
  if (failed(parseName(stmt.name, nameAt, "an input name after 'input'")))
    return failure();
  if (consumeIf(TokenKind::Colon)) {
    if (at(TokenKind::Ident)) {
      stmt.dtype = tok.text.str();
      stmt.dtypeLoc = loc(tok.loc);
      advance();
      if (!at(TokenKind::LBracket))
        return errorExpected("'[' after element type '" + stmt.dtype + "'");
    } else if (!at(TokenKind::LBracket)) {
      return errorExpected("a shape after ':'",
                           "a shape lists the dimensions of one example, as in "
                           "'input x: [28, 28, 1]'");
    }
    if (failed(parseShape(stmt.shape)))
      return failure();
  } else if (at(TokenKind::LBracket) || at(TokenKind::Equal) ||
             (at(TokenKind::Ident) && peek().is(TokenKind::LBracket))) {
    // Nothing valid can follow an input name this way; say what was meant.
    return errorExpected("':' after input name",
                         "an input's shape follows a colon, as in 'input " + stmt.name +
                             ": [28, 28, 1]'");
  }
  body.push_back(std::move(stmt));
  return success();
}

LogicalResult Parser::parseShape(std::optional<std::vector<ast::ExprPtr>> &shape) {
  NestingScope scope(*this, tok.loc);
  if (scope.failed())
    return failure();
  advance();
  std::vector<ast::ExprPtr> dims;
  while (true) {
    if (at(TokenKind::RBracket))
      return errorExpected("a dimension",
                           dims.empty() ? "the batch dimension is implicit: a shape lists "
                                          "the dimensions of one example, e.g. '[10]'"
                                        : "");
    ast::ExprPtr dim = parseExpr();
    if (!dim)
      return failure();
    dims.push_back(std::move(dim));
    if (consumeIf(TokenKind::Comma))
      continue;
    if (!at(TokenKind::RBracket))
      return errorExpected("']' after the shape");
    break;
  }
  advance();
  shape = std::move(dims);
  return success();
}

LogicalResult Parser::parseOutput(ast::StmtList &body) {
  ast::Stmt stmt(ast::Stmt::Kind::Output, loc(tok.loc));
  advance();
  do {
    std::string name;
    SMLoc nameAt;
    if (failed(parseName(name, nameAt, "an output name")))
      return failure();
    stmt.outputs.push_back({loc(nameAt), name});
  } while (consumeIf(TokenKind::Comma));
  body.push_back(std::move(stmt));
  return success();
}

LogicalResult Parser::parseFor(ast::StmtList &body) {
  ast::Stmt stmt(ast::Stmt::Kind::For, loc(tok.loc));
  advance();
  SMLoc varAt;
  if (failed(parseName(stmt.name, varAt, "a loop variable after 'for'")))
    return failure();
  if (!at(TokenKind::KwIn))
    return errorExpected("'in' after the loop variable");
  advance();
  if (!(stmt.from = parseExpr()))
    return failure();
  if (!at(TokenKind::DotDot))
    return errorExpected("'..' in the loop range", "a range is written 'for i in 1..n'");
  advance();
  if (!(stmt.to = parseExpr()) || failed(parseBody(stmt.body, "'{' after the loop range")))
    return failure();
  body.push_back(std::move(stmt));
  return success();
}

LogicalResult Parser::parseLayer(ast::StmtList &body) {
  ast::Stmt stmt(ast::Stmt::Kind::Layer, loc(tok.loc));
  SMLoc calleeAt = tok.loc;
  if (peek().is(TokenKind::Equal)) {
    stmt.target = ast::NameRef{loc(tok.loc), tok.text.str()};
    advance();
    advance();
    if (failed(parseName(stmt.callee, calleeAt, "a layer after '='")))
      return failure();
  } else {
    stmt.callee = tok.text.str();
    advance();
  }
  stmt.calleeLoc = loc(calleeAt);
  if (!at(TokenKind::LParen)) {
    if (!stmt.target && at(TokenKind::Colon))
      return errorExpected("'(' after '" + stmt.callee + "'",
                           "an input is declared as 'input " + stmt.callee + ": [...]'");
    return errorExpected("'(' after '" + stmt.callee + "'",
                         "a layer is applied with parentheses, as in '" + stmt.callee +
                             "()'");
  }
  if (failed(parseArgs(stmt.args)))
    return failure();

  if (at(TokenKind::LParen)) {
    NestingScope scope(*this, tok.loc);
    if (scope.failed())
      return failure();
    advance();
    std::vector<ast::NameRef> inputs;
    if (!at(TokenKind::RParen)) {
      do {
        std::string name;
        SMLoc nameAt;
        if (failed(parseName(name, nameAt, "the name of a value")))
          return failure();
        inputs.push_back({loc(nameAt), name});
      } while (consumeIf(TokenKind::Comma));
    }
    if (!at(TokenKind::RParen))
      return errorExpected("')' after layer inputs");
    advance();
    stmt.inputs = std::move(inputs);
  }
  body.push_back(std::move(stmt));
  return success();
}

LogicalResult Parser::parseArgs(std::vector<ast::Arg> &args) {
  NestingScope scope(*this, tok.loc);
  if (scope.failed())
    return failure();
  advance();
  llvm::StringMap<SMLoc> keywords;
  std::optional<SMLoc> lastKeyword;
  while (!at(TokenKind::RParen)) {
    SMLoc argAt = tok.loc;
    std::string keyword;
    if (at(TokenKind::Ident) && peek().is(TokenKind::Equal)) {
      keyword = tok.text.str();
      auto [it, inserted] = keywords.try_emplace(keyword, argAt);
      if (!inserted)
        return error(argAt, "duplicate keyword argument '" + keyword + "'",
                     "'" + keyword + "' was first given here", it->second);
      lastKeyword = argAt;
      advance();
      advance();
    } else if (lastKeyword && startsExpr()) {
      return error(argAt, "positional argument after keyword argument",
                   "the keyword argument is here", *lastKeyword);
    }
    ast::ExprPtr value = parseExpr();
    if (!value)
      return failure();
    args.push_back({loc(argAt), keyword, std::move(value)});
    if (consumeIf(TokenKind::Comma))
      continue;
    if (at(TokenKind::RParen))
      break;
    const char *note = "";
    if (at(TokenKind::Colon) || at(TokenKind::Equal))
      note = "keyword arguments are written 'name=value'";
    else if (startsExpr())
      note = "arguments are separated by ','";
    return errorExpected("')' after arguments", note);
  }
  advance();
  return success();
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

ast::ExprPtr Parser::parseExpr() { return parseBinary(/*additive=*/true); }

ast::ExprPtr Parser::parseBinary(bool additive) {
  TokenKind first = additive ? TokenKind::Plus : TokenKind::Star;
  TokenKind second = additive ? TokenKind::Minus : TokenKind::Slash;
  auto parseOperand = [&] { return additive ? parseBinary(false) : parseUnary(); };
  ast::ExprPtr lhs = parseOperand();
  for (unsigned ops = 0; lhs && (at(first) || at(second));) {
    // A long chain builds a deep left-leaning tree; bound it like nesting.
    if (++ops > kMaxOperators) {
      (void)error(tok.loc, "expression has too many operators (more than 64)");
      return nullptr;
    }
    ast::ExprPtr binary = makeExpr(ast::Expr::Kind::Binary, tok.loc);
    binary->text = tok.text.str();
    advance();
    ast::ExprPtr rhs = parseOperand();
    if (!rhs)
      return nullptr;
    binary->operands.push_back(std::move(lhs));
    binary->operands.push_back(std::move(rhs));
    lhs = std::move(binary);
  }
  return lhs;
}

ast::ExprPtr Parser::parseUnary() {
  // Iterative, so a run of 100k '-' cannot recurse; each one still costs a
  // nesting level because it deepens the tree.
  std::vector<SMLoc> minuses;
  while (at(TokenKind::Minus)) {
    if (depth + minuses.size() >= kMaxNesting) {
      (void)error(tok.loc, "nesting too deep (more than 64 levels)");
      return nullptr;
    }
    minuses.push_back(tok.loc);
    advance();
  }
  depth += minuses.size();
  ast::ExprPtr operand = parsePrimary();
  depth -= minuses.size();
  for (auto it = minuses.rbegin(); operand && it != minuses.rend(); ++it) {
    ast::ExprPtr neg = makeExpr(ast::Expr::Kind::Neg, *it);
    neg->operands.push_back(std::move(operand));
    operand = std::move(neg);
  }
  return operand;
}

ast::ExprPtr Parser::parsePrimary() {
  ast::ExprPtr expr;
  switch (tok.kind) {
  case TokenKind::Int:
    expr = makeExpr(ast::Expr::Kind::Int, tok.loc);
    expr->intValue = tok.intValue;
    break;
  case TokenKind::Float:
    expr = makeExpr(ast::Expr::Kind::Float, tok.loc);
    expr->floatValue = tok.floatValue;
    break;
  case TokenKind::String:
    expr = makeExpr(ast::Expr::Kind::String, tok.loc);
    expr->text = tok.value;
    break;
  case TokenKind::KwTrue:
  case TokenKind::KwFalse:
    expr = makeExpr(ast::Expr::Kind::Bool, tok.loc);
    expr->intValue = at(TokenKind::KwTrue) ? 1 : 0;
    break;
  case TokenKind::Ident: {
    bool isCall = peek().is(TokenKind::LParen);
    expr = makeExpr(isCall ? ast::Expr::Kind::Call : ast::Expr::Kind::Name, tok.loc);
    expr->text = tok.text.str();
    advance();
    if (isCall && failed(parseArgs(expr->args)))
      return nullptr;
    return expr;
  }
  case TokenKind::LBracket:
    return parseList();
  case TokenKind::LBrace:
    return parseDict();
  case TokenKind::LParen:
    return parseParen();
  default:
    (void)errorExpectedName("an expression");
    return nullptr;
  }
  advance();
  return expr;
}

LogicalResult Parser::parseExprList(std::vector<ast::ExprPtr> &items, TokenKind close,
                                    const Twine &what) {
  while (!at(close)) {
    ast::ExprPtr item = parseExpr();
    if (!item)
      return failure();
    items.push_back(std::move(item));
    if (!consumeIf(TokenKind::Comma) && !at(close))
      return errorExpected(what);
  }
  advance();
  return success();
}

ast::ExprPtr Parser::parseList() {
  ast::ExprPtr list = makeExpr(ast::Expr::Kind::List, tok.loc);
  NestingScope scope(*this, tok.loc);
  if (scope.failed())
    return nullptr;
  advance();
  if (failed(parseExprList(list->operands, TokenKind::RBracket,
                           "']' after list elements")))
    return nullptr;
  return list;
}

ast::ExprPtr Parser::parseDict() {
  ast::ExprPtr dict = makeExpr(ast::Expr::Kind::Dict, tok.loc);
  NestingScope scope(*this, tok.loc);
  if (scope.failed())
    return nullptr;
  advance();
  llvm::StringMap<SMLoc> keys;
  while (!at(TokenKind::RBrace)) {
    SMLoc keyAt = tok.loc;
    if (!at(TokenKind::Ident) && !at(TokenKind::String)) {
      (void)errorExpected("a key (a name or a string) in '{...}'");
      return nullptr;
    }
    std::string key = at(TokenKind::String) ? tok.value : tok.text.str();
    auto [it, inserted] = keys.try_emplace(key, keyAt);
    if (!inserted) {
      (void)error(keyAt, "duplicate key '" + key + "'", "'" + key + "' was first given here",
                  it->second);
      return nullptr;
    }
    advance();
    if (!consumeIf(TokenKind::Colon)) {
      (void)errorExpected("':' after the key '" + key + "'");
      return nullptr;
    }
    ast::ExprPtr value = parseExpr();
    if (!value)
      return nullptr;
    dict->args.push_back({loc(keyAt), key, std::move(value)});
    if (!consumeIf(TokenKind::Comma) && !at(TokenKind::RBrace)) {
      (void)errorExpected("'}' after the entries");
      return nullptr;
    }
  }
  advance();
  return dict;
}

ast::ExprPtr Parser::parseParen() {
  SMLoc open = tok.loc;
  NestingScope scope(*this, open);
  if (scope.failed())
    return nullptr;
  advance();
  ast::ExprPtr first = parseExpr();
  if (!first)
    return nullptr;
  if (consumeIf(TokenKind::RParen))
    return first; // grouping
  if (!at(TokenKind::Comma)) {
    (void)errorExpected("')' after expression");
    return nullptr;
  }
  advance();
  ast::ExprPtr tuple = makeExpr(ast::Expr::Kind::Tuple, open);
  tuple->operands.push_back(std::move(first));
  if (failed(parseExprList(tuple->operands, TokenKind::RParen,
                           "')' after tuple elements")))
    return nullptr;
  return tuple;
}

std::optional<ast::File> dlc::parseFile(llvm::SourceMgr &sourceMgr, unsigned bufferId,
                                        mlir::MLIRContext *context) {
  return Parser(sourceMgr, bufferId, context).parseFile();
}
