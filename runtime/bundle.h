//===- bundle.h - Loading and writing dlc bundles (.dlcb) -----------------===//
//
// A bundle is untrusted input: load() checks the header, both checksums, the
// flatbuffers Verifier and then every index, shape, size and offset the
// executor will use, so a truncated, corrupted or hostile file is rejected
// with a message naming the bad field, never dereferenced.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/schemas/bundle_generated.h"
#include "runtime/status.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

namespace dlc::rt {

constexpr uint32_t kBundleVersion = 7;

/// Every arena buffer's offset is a multiple of this (the memory plan places
/// them so; the loader refuses others: vector loads and no misaligned element).
constexpr uint64_t kBufferAlignment = 64;

class Bundle {
public:
  /// Reads and validates |path|.
  static Status load(const std::string &path, std::unique_ptr<Bundle> *out);
  /// Validates an in-memory bundle (the file's bytes); |origin| names it in errors.
  static Status fromBytes(std::vector<uint8_t> bytes, const std::string &origin,
                          std::unique_ptr<Bundle> *out);

  const fb::Bundle &root() const { return *root_; }
  const uint8_t *payload() const { return payload_; }
  uint64_t payloadSize() const { return payloadSize_; }
  const std::string &origin() const { return origin_; }
  const std::vector<uint8_t> &bytes() const { return bytes_; }
  /// The signature trailer's MAC (empty for an unsigned bundle) and the
  /// bytes it signs (the whole file before the trailer); see
  /// runtime/cuda/code_trust.h for who signs and who checks.
  const std::vector<uint8_t> &signature() const { return signature_; }
  size_t signedBytes() const { return signedBytes_; }
  /// The program called |name|, or null.
  const fb::Program *program(const std::string &name) const;

private:
  std::vector<uint8_t> bytes_;
  std::string origin_;
  const fb::Bundle *root_ = nullptr;
  const uint8_t *payload_ = nullptr;
  uint64_t payloadSize_ = 0;
  std::vector<uint8_t> signature_;
  size_t signedBytes_ = 0;
};

/// A bundle may end with a signature trailer: "DLCS", a u32 version (1), and
/// a 32-byte HMAC-SHA256 of everything before it. The checksums do not cover
/// it; it is what says which machine's compiler wrote the bundle.
constexpr size_t kSignatureTrailerBytes = 40;
constexpr char kSignatureMagic[4] = {'D', 'L', 'C', 'S'};

/// The bytes of buffer |b|'s elements (of a loaded, hence verified, bundle).
uint64_t bufferBytes(const fb::Buffer &b);
/// Where kernel |k| comes from in the .dl source: its distinct locations,
/// "model.dl:12:3, model.dl:13:3" ("" when the bundle records none).
std::string kernelLocations(const fb::Kernel &k);
/// The CUDA launch of kernel |k|'s source: its execution's, else its
/// alternative's; null when it launches none.
inline const fb::CudaLaunch *launchOf(const fb::Kernel &k) {
  return k.cuda_as_CudaLaunch() ? k.cuda_as_CudaLaunch() : k.alternative_as_CudaLaunch();
}

/// The file bytes of a bundle: header, |flatbuffer|, |payload|.
std::vector<uint8_t> encodeBundle(const uint8_t *flatbuffer, size_t flatbufferBytes,
                                  const std::vector<uint8_t> &payload);

/// The runtime's DType of a bundle dtype (the same values: a loaded bundle's
/// dtypes are in range).
DType fromFbDType(fb::DType t);

/// Whether |value| is one of schema enum E's values (the flatbuffers
/// Verifier does not check enum fields).
template <typename E> bool knownEnum(E value) { return value >= E::MIN && value <= E::MAX; }

/// The value of schema enum E called |name| in |names| (flatc's EnumNames
/// array for E), if there is one.
template <typename E>
std::optional<E> enumNamed(const char *const *names, std::string_view name) {
  for (int v = int(E::MIN); v <= int(E::MAX); ++v)
    if (name == names[v - int(E::MIN)])
      return E(v);
  return std::nullopt;
}
} // namespace dlc::rt
