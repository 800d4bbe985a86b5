//===- file_io.h - Durable file writes ------------------------------------===//
//
// Bundles, checkpoints and gradient files are written atomically so that a
// crash or `kill -9` at any moment leaves either the old file or the new one.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dlc::rt {

/// Writes the concatenation of |chunks| to |path| through a fsynced temporary
/// file beside it, a rename, and a fsync of the directory.
Status writeFileAtomically(const std::string &path,
                           const std::vector<std::pair<const void *, size_t>> &chunks);

/// Reads all of |path| into |out|.
Status readFile(const std::string &path, std::vector<uint8_t> *out);

} // namespace dlc::rt
