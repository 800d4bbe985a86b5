//===- Lexer.cpp - Tokenizer for .dl files --------------------------------===//
//
// Every read is bounded by the buffer end rather than a NUL terminator: files
// may hold NUL bytes, and a truncated file must end cleanly mid-token.
//
//===----------------------------------------------------------------------===//
#include "frontend/Lexer.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace dlc;

namespace {
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isIdentChar(char c) { return isIdentStart(c) || isDigit(c); }
bool isPrintable(unsigned char c) { return c >= 0x20 && c < 0x7f; }

/// Longest spelling quoted verbatim in a message; beyond it the tail is cut.
constexpr size_t kMaxDisplayed = 40;
} // namespace

std::string dlc::describeByte(unsigned char c) {
  std::string out;
  llvm::raw_string_ostream os(out);
  if (c > 0x20 && c < 0x7f)
    os << "character '" << static_cast<char>(c) << "'";
  else
    os << "byte " << llvm::format("0x%02x", c);
  return out;
}

std::string dlc::displayText(llvm::StringRef text) {
  bool cut = text.size() > kMaxDisplayed;
  if (cut)
    text = text.take_front(kMaxDisplayed - 3);
  std::string out;
  llvm::raw_string_ostream os(out);
  for (unsigned char c : text) {
    if (isPrintable(c))
      os << static_cast<char>(c);
    else
      os << "\\x" << llvm::format("%02x", c);
  }
  if (cut)
    os << "...";
  return out;
}

Lexer::Lexer(llvm::StringRef buffer)
    : cur(buffer.begin()), end(buffer.end()) {
  // Editors on some systems write a UTF-8 byte order mark; it carries no meaning.
  if (buffer.starts_with("\xEF\xBB\xBF"))
    cur += 3;
}

Token Lexer::makeToken(TokenKind kind, const char *start) {
  Token tok;
  tok.kind = kind;
  tok.text = llvm::StringRef(start, cur - start);
  tok.loc = llvm::SMLoc::getFromPointer(start);
  return tok;
}

Token Lexer::makeError(const char *at, std::string message, const char *note) {
  stuckAt = at;
  stuckMessage = message;
  stuckNote = note;
  Token tok;
  tok.kind = TokenKind::Error;
  tok.text = llvm::StringRef(at, at < end ? 1 : 0);
  tok.loc = llvm::SMLoc::getFromPointer(at);
  tok.value = std::move(message);
  tok.note = note;
  return tok;
}

const char *Lexer::skipTrivia() {
  while (cur < end) {
    char c = *cur;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++cur;
    } else if (c == '#') {
      // Comments may hold any text (UTF-8 included), but a NUL byte means the
      // file is not text at all.
      for (; cur < end && *cur != '\n'; ++cur)
        if (*cur == '\0')
          return cur;
    } else {
      break;
    }
  }
  return nullptr;
}

Token Lexer::next() {
  if (stuckAt)
    return makeError(stuckAt, stuckMessage, stuckNote);
  if (const char *nul = skipTrivia())
    return makeError(nul, "unexpected byte 0x00");

  const char *start = cur;
  if (cur == end)
    return makeToken(TokenKind::Eof, start);

  char c = *cur;
  if (isIdentStart(c))
    return lexIdentifier(start);
  if (isDigit(c))
    return lexNumber(start);
  if (c == '"')
    return lexString(start);

  auto punct = [&](TokenKind kind, size_t length) {
    cur += length;
    return makeToken(kind, start);
  };
  switch (c) {
  case '(': return punct(TokenKind::LParen, 1);
  case ')': return punct(TokenKind::RParen, 1);
  case '[': return punct(TokenKind::LBracket, 1);
  case ']': return punct(TokenKind::RBracket, 1);
  case '{': return punct(TokenKind::LBrace, 1);
  case '}': return punct(TokenKind::RBrace, 1);
  case ',': return punct(TokenKind::Comma, 1);
  case '=': return punct(TokenKind::Equal, 1);
  case ':': return punct(TokenKind::Colon, 1);
  case '+': return punct(TokenKind::Plus, 1);
  case '-': return punct(TokenKind::Minus, 1);
  case '*': return punct(TokenKind::Star, 1);
  case '/': return punct(TokenKind::Slash, 1);
  case '.':
    if (cur + 1 < end && cur[1] == '.')
      return punct(TokenKind::DotDot, 2);
    return makeError(start, "unexpected character '.'",
                     "a range is written 'a..b'; a float needs a digit before "
                     "the point, as in '0.5'");
  case '\'':
    return makeError(start, "unexpected character '''",
                     "strings are written in double quotes");
  case ';':
    return makeError(start, "unexpected character ';'",
                     "statements need no separator");
  default:
    return makeError(start, "unexpected " + describeByte(c));
  }
}

Token Lexer::lexIdentifier(const char *start) {
  while (cur < end && isIdentChar(*cur))
    ++cur;
  llvm::StringRef text(start, cur - start);
  TokenKind kind = llvm::StringSwitch<TokenKind>(text)
                       .Case("import", TokenKind::KwImport)
                       .Case("block", TokenKind::KwBlock)
                       .Case("model", TokenKind::KwModel)
                       .Case("train", TokenKind::KwTrain)
                       .Case("for", TokenKind::KwFor)
                       .Case("in", TokenKind::KwIn)
                       .Case("input", TokenKind::KwInput)
                       .Case("output", TokenKind::KwOutput)
                       .Case("true", TokenKind::KwTrue)
                       .Case("false", TokenKind::KwFalse)
                       .Default(TokenKind::Ident);
  return makeToken(kind, start);
}

Token Lexer::lexNumber(const char *start) {
  bool isFloat = false;
  while (cur < end && isDigit(*cur))
    ++cur;
  // Only a digit after the point makes a fraction, so `1..n` stays a range.
  if (cur + 1 < end && *cur == '.' && isDigit(cur[1])) {
    isFloat = true;
    cur += 2;
    while (cur < end && isDigit(*cur))
      ++cur;
  }
  if (cur < end && (*cur == 'e' || *cur == 'E')) {
    const char *p = cur + 1;
    if (p < end && (*p == '+' || *p == '-'))
      ++p;
    if (p < end && isDigit(*p)) {
      isFloat = true;
      cur = p;
      while (cur < end && isDigit(*cur))
        ++cur;
    }
  }
  // `3x` or `1e` would otherwise split silently into a number and a name.
  if (cur < end && isIdentChar(*cur)) {
    while (cur < end && isIdentChar(*cur))
      ++cur;
    return makeError(start, "invalid number '" +
                                displayText(llvm::StringRef(start, cur - start)) +
                                "'");
  }

  Token tok = makeToken(isFloat ? TokenKind::Float : TokenKind::Int, start);
  if (!isFloat) {
    if (tok.text.getAsInteger(10, tok.intValue))
      return makeError(start, "integer literal '" + displayText(tok.text) +
                                  "' is too large");
    return tok;
  }

  llvm::APFloat value(llvm::APFloat::IEEEdouble());
  auto status =
      value.convertFromString(tok.text, llvm::APFloat::rmNearestTiesToEven);
  if (!status) {
    llvm::consumeError(status.takeError());
    return makeError(start, "invalid float literal '" + displayText(tok.text) + "'");
  }
  if ((*status & llvm::APFloat::opOverflow) || !value.isFinite())
    return makeError(start, "float literal '" + displayText(tok.text) +
                                "' is out of range");
  tok.floatValue = value.convertToDouble();
  return tok;
}

Token Lexer::lexString(const char *start) {
  ++cur; // opening quote
  std::string value;
  while (true) {
    if (cur == end || *cur == '\n')
      return makeError(start, "unterminated string");
    unsigned char c = *cur;
    if (c == '"') {
      ++cur;
      break;
    }
    if (c == '\\') {
      if (cur + 1 == end || cur[1] == '\n')
        return makeError(start, "unterminated string");
      char e = cur[1];
      switch (e) {
      case '"': value += '"'; break;
      case '\\': value += '\\'; break;
      case 'n': value += '\n'; break;
      case 't': value += '\t'; break;
      default:
        if (isPrintable(e))
          return makeError(cur, std::string("unknown escape sequence '\\") + e + "'",
                           "the escapes are \\\" \\\\ \\n and \\t");
        return makeError(cur + 1, "unexpected " + describeByte(e) + " in string");
      }
      cur += 2;
      continue;
    }
    if (c >= 0x80) {
      // Keep strings valid UTF-8: they end up in names and diagnostics.
      unsigned length = llvm::getNumBytesForUTF8(c);
      const auto *p = reinterpret_cast<const llvm::UTF8 *>(cur);
      if (static_cast<size_t>(end - cur) < length ||
          !llvm::isLegalUTF8Sequence(p, p + length))
        return makeError(cur, "unexpected " + describeByte(c) + " in string",
                         "strings must be valid UTF-8");
      value.append(cur, length);
      cur += length;
      continue;
    }
    if (c != '\t' && !isPrintable(c))
      return makeError(cur, "unexpected " + describeByte(c) + " in string");
    value += static_cast<char>(c);
    ++cur;
  }
  Token tok = makeToken(TokenKind::String, start);
  tok.value = std::move(value);
  return tok;
}
