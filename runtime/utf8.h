//===- utf8.h - Valid UTF-8 for every string dlc writes or loads ----------===//
//
// Names, paths and locations travel into JSON (inspect --json, logs,
// safetensors headers) and terminals, which assume UTF-8. The loader refuses
// a bundle string that is not; the compiler makes what it writes valid
// (a file name in Latin-1 bytes keeps its ASCII and shows U+FFFD for the rest).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dlc::rt {

/// The length of the valid UTF-8 sequence at |s|[i], or 0 when there is none
/// (overlong forms, surrogates and code points past U+10FFFF are invalid).
inline size_t utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80)
    return 1;
  size_t extra = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 0;
  if (extra == 0 || (extra == 1 && c < 0xC2) || i + extra >= s.size())
    return 0;
  uint32_t code = c & (0x3F >> extra);
  for (size_t k = 1; k <= extra; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80)
      return 0;
    code = code << 6 | (byte(i + k) & 0x3F);
  }
  if ((extra == 2 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) ||
      (extra == 3 && (code < 0x10000 || code > 0x10FFFF)))
    return 0;
  return extra + 1;
}

inline bool isValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8SequenceLength(s, i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

/// |s| with every byte that starts no valid sequence replaced by U+FFFD.
inline std::string toValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8SequenceLength(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

} // namespace dlc::rt
