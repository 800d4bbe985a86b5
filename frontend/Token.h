//===- Token.h - Tokens of the .dl model language -------------------------===//
//
// A token is a view into the SourceMgr buffer (its spelling and start), plus
// the value the lexer already decoded: literals are converted once, where the
// exact failing spot is known, so the parser never re-reads raw text.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"

#include <cstdint>
#include <string>

namespace dlc {

enum class TokenKind {
  Eof,
  /// A lexical error; Token::value holds the message, Token::loc the spot.
  Error,
  Ident,
  Int,
  Float,
  String,
  // Keywords. `data` is contextual and lexes as Ident.
  KwImport,
  KwBlock,
  KwModel,
  KwTrain,
  KwFor,
  KwIn,
  KwInput,
  KwOutput,
  KwTrue,
  KwFalse,
  // Punctuation.
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Equal,
  Colon,
  Plus,
  Minus,
  Star,
  Slash,
  DotDot,
};

struct Token {
  TokenKind kind = TokenKind::Eof;
  /// The spelling in the buffer (empty at end of file).
  llvm::StringRef text;
  llvm::SMLoc loc;
  int64_t intValue = 0;    // Int
  double floatValue = 0;   // Float
  /// String: the decoded contents. Error: the diagnostic message.
  std::string value;
  /// Error only: an optional hint for a note, or null.
  const char *note = nullptr;

  bool is(TokenKind k) const { return kind == k; }
  bool isKeyword() const {
    return kind >= TokenKind::KwImport && kind <= TokenKind::KwFalse;
  }
};

} // namespace dlc
