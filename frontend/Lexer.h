//===- Lexer.h - Tokenizer for .dl files ----------------------------------===//
//
// The lexer never reports diagnostics itself: a lexical problem becomes an
// Error token, and the parser reports it only if parsing actually reaches it.
// This keeps "exactly one error per failed parse" a property of the parser
// alone, even when it peeks one token ahead.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Token.h"

#include "llvm/ADT/StringRef.h"

namespace dlc {

class Lexer {
public:
  /// |buffer| must stay alive while tokens are used; end of input is the end
  /// of |buffer|, never a NUL byte.
  explicit Lexer(llvm::StringRef buffer);

  /// Returns the next token. After Eof or Error, keeps returning the same
  /// kind at the same spot, so a caller cannot run past the end.
  Token next();

private:
  Token lexIdentifier(const char *start);
  Token lexNumber(const char *start);
  Token lexString(const char *start);
  Token makeToken(TokenKind kind, const char *start);
  Token makeError(const char *at, std::string message, const char *note = nullptr);
  /// Skips blanks and comments; returns the position of a NUL byte found in a
  /// comment, or null.
  const char *skipTrivia();

  const char *cur;
  const char *end;
  /// Set once an Error has been produced: lexing stops there for good.
  const char *stuckAt = nullptr;
  std::string stuckMessage;
  const char *stuckNote = nullptr;
};

/// Renders |text| for a diagnostic: bytes outside printable ASCII become
/// `\xNN`, and long spellings are cut with "...", so a message never carries
/// raw binary or an entire line of garbage.
std::string displayText(llvm::StringRef text);

/// Describes one byte as `'c'` (printable ASCII) or `byte 0xNN`.
std::string describeByte(unsigned char c);

} // namespace dlc
