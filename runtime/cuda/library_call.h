//===- library_call.h - Reading a LibraryCall's descriptor and buffers ----===//
//
// What every routine's parser (matmul.h, convolution.h) checks the same
// way: a bundle is untrusted input, so an attribute is read only after its
// kind and range are checked, and a buffer only after its index and size.
// Each error says "library call <routine>: ...".
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/bundle.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <string>

namespace dlc::rt::cuda {

/// The device workspace every library call may use (what PyTorch allows
/// cuBLASLt on Hopper): calls run one at a time on the work stream, so one
/// of this size serves them all.
inline constexpr size_t kLibraryWorkspaceBytes = size_t(32) << 20;

/// The types library routines read and write: f32, f16 and bf16.
inline bool isLibraryFloat(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }

class LibraryCallReader {
public:
  LibraryCallReader(const fb::LibraryCall &call, const fb::Program &program, const char *routine)
      : call_(call), program_(program), routine_(routine) {}

  /// kInvalidArgument: "library call <routine>: <message>".
  Status invalid(const std::string &message) const;
  /// The integer attribute |name|, within [low, high].
  Status integer(const char *name, int64_t low, int64_t high, int64_t *out) const;
  /// The text attribute |name| ("" when there is none).
  std::string text(const char *name) const;
  /// The call names exactly |count| buffers, each one of the program's.
  Status checkArgCount(size_t count) const;
  /// The |i|th buffer the call names (after checkArgCount).
  uint32_t arg(size_t i) const { return call_.args()->Get(uint32_t(i)); }
  DType type(uint32_t buffer) const;
  /// Buffer |buffer| holds exactly |elements| of its type.
  Status checkElements(uint32_t buffer, uint64_t elements, const std::string &what) const;
  /// Buffer |buffer| holds at least |bytes|.
  Status checkAtLeast(uint32_t buffer, uint64_t bytes, const std::string &what) const;

private:
  const fb::Attr *find(const char *name) const;
  const fb::LibraryCall &call_;
  const fb::Program &program_;
  const char *routine_;
};

} // namespace dlc::rt::cuda
