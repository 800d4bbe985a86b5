//===- npy.h - NumPy .npy and .npz files ----------------------------------===//
//
// The formats numpy.save and numpy.savez/savez_compressed write
// (numpy.lib.format, version 1.0-3.0):
//
//   .npy  "\x93NUMPY" major minor, a little-endian u16 (1.0) or u32 (2.0,
//         3.0) header length, a Python dict literal
//         {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
//         padded to 64 bytes, then the elements, C order.
//   .npz  a zip archive of NAME.npy members, stored (savez) or deflated
//         (savez_compressed), zip64 extensions included (numpy forces them).
//
// A .npy file, and a stored member of a .npz, is mapped, not read: only the
// examples a batch touches are paged in. A deflated member is inflated into
// memory once. Element types: b1 u1 i1 u2 i2 u4 i4 u8 i8 f2 f4 f8,
// little-endian or single-byte; big-endian data, Fortran order and object
// arrays are refused with the line of numpy that converts them. Every size
// is checked against the file before it is used, and a member's CRC-32 is
// verified, so a truncated or corrupt file is kDataLoss naming it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/data/array.h"

#include <map>

namespace dlc::rt::data {

/// Reads the .npy file |path| (mapped).
Status readNpy(const std::string &path, HostArray *out);
/// Parses .npy bytes that |owner| keeps alive; |name| prefixes errors.
Status parseNpy(const uint8_t *data, size_t size, std::shared_ptr<const void> owner,
                const std::string &name, HostArray *out);

/// Reads every array of the .npz file |path|, keyed by member name without
/// ".npy" (the keyword names given to numpy.savez).
Status readNpz(const std::string &path, std::map<std::string, HostArray> *out);

} // namespace dlc::rt::data
