//===- zip_archive.h - Reading zip archives (.npz, .keras) ----------------===//
//
// The zip subset numpy.savez and Keras write: stored or deflated members,
// zip64 extensions (numpy forces them), no encryption. A stored member is a
// view into the archive's bytes; a deflated one is inflated into memory
// (bounded by the host's memory). Every offset and size is checked against
// the archive, and each member's CRC-32 is verified, so a truncated or
// damaged archive is kDataLoss naming the member.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dlc::rt {

struct ZipMember {
  std::string name;
  const uint8_t *data = nullptr;
  size_t size = 0;
  std::shared_ptr<const void> owner; // the archive's bytes, or the inflated copy
};

/// The members of the archive |data|[0, size) that |owner| keeps alive, in
/// directory order; |path| names it in errors.
Status readZipArchive(const uint8_t *data, size_t size, std::shared_ptr<const void> owner,
                      const std::string &path, std::vector<ZipMember> *out);

} // namespace dlc::rt
