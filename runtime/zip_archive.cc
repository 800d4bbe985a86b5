//===- zip_archive.cc - Reading zip archives (.npz, .keras) ---------------===//
#include "runtime/zip_archive.h"

#include "runtime/limits.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace dlc::rt {
namespace {

Status dataLoss(const std::string &name, const std::string &what) {
  return DLC_MAKE_STATUS(StatusCode::kDataLoss, name + ": " + what);
}

uint64_t readLE(const uint8_t *p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

/// A member of a zip archive, from its central directory entry.
struct DirectoryEntry {
  std::string name;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t compressed = 0, uncompressed = 0, localHeader = 0;
};

/// Reads the zip64 extra field of a central directory entry: the fields
/// whose 32-bit value is 0xFFFFFFFF, in order.
bool readZip64Extra(const uint8_t *extra, size_t length, DirectoryEntry *m, bool sizeMax,
                    bool compressedMax, bool offsetMax) {
  size_t at = 0;
  while (at + 4 <= length) {
    const uint16_t id = uint16_t(readLE(extra + at, 2)), size = uint16_t(readLE(extra + at + 2, 2));
    if (at + 4 + size > length)
      return false;
    if (id == 0x0001) {
      const uint8_t *p = extra + at + 4;
      size_t left = size;
      auto take = [&](uint64_t *field) {
        if (left < 8)
          return false;
        *field = readLE(p, 8);
        p += 8;
        left -= 8;
        return true;
      };
      if ((sizeMax && !take(&m->uncompressed)) || (compressedMax && !take(&m->compressed)) ||
          (offsetMax && !take(&m->localHeader)))
        return false;
      return true;
    }
    at += 4 + size;
  }
  return !(sizeMax || compressedMax || offsetMax);
}

Status listZip(const uint8_t *data, size_t size, const std::string &path,
               std::vector<DirectoryEntry> *members) {
  auto bad = [&](const std::string &what) {
    return dataLoss(path, what + " (not a zip archive, or a damaged one)");
  };
  // The end-of-central-directory record: the last 22 bytes, before a comment
  // of at most 64 KiB.
  if (size < 22)
    return bad("too short for a zip archive");
  size_t eocd = SIZE_MAX;
  for (size_t at = size - 22, stop = size > 22 + 65535 ? size - 22 - 65535 : 0;; --at) {
    if (readLE(data + at, 4) == 0x06054b50 && at + 22 + readLE(data + at + 20, 2) == size) {
      eocd = at;
      break;
    }
    if (at == stop)
      break;
  }
  if (eocd == SIZE_MAX)
    return bad("no zip end-of-directory record");
  uint64_t entries = readLE(data + eocd + 10, 2);
  uint64_t directorySize = readLE(data + eocd + 12, 4);
  uint64_t directory = readLE(data + eocd + 16, 4);
  if (entries == 0xFFFF || directory == 0xFFFFFFFF || directorySize == 0xFFFFFFFF) {
    // Zip64: a locator right before the record points at the zip64 record.
    if (eocd < 20 || readLE(data + eocd - 20, 4) != 0x07064b50)
      return bad("a zip64 archive without its locator");
    const uint64_t record = readLE(data + eocd - 20 + 8, 8);
    if (record > size - 56 || readLE(data + record, 4) != 0x06064b50)
      return bad("a damaged zip64 end-of-directory record");
    entries = readLE(data + record + 32, 8);
    directorySize = readLE(data + record + 40, 8);
    directory = readLE(data + record + 48, 8);
  }
  if (directory > size || directorySize > size - directory || entries > directorySize / 46)
    return bad("the central directory lies outside the file");
  size_t at = size_t(directory);
  const size_t end = size_t(directory + directorySize);
  for (uint64_t e = 0; e < entries; ++e) {
    if (end - at < 46 || readLE(data + at, 4) != 0x02014b50)
      return bad("a damaged central directory entry");
    DirectoryEntry m;
    const uint16_t flags = uint16_t(readLE(data + at + 8, 2));
    m.method = uint16_t(readLE(data + at + 10, 2));
    m.crc = uint32_t(readLE(data + at + 16, 4));
    m.compressed = readLE(data + at + 20, 4);
    m.uncompressed = readLE(data + at + 24, 4);
    const size_t nameLength = readLE(data + at + 28, 2), extraLength = readLE(data + at + 30, 2),
                 commentLength = readLE(data + at + 32, 2);
    m.localHeader = readLE(data + at + 42, 4);
    if (end - at - 46 < nameLength + extraLength + commentLength)
      return bad("a central directory entry runs past the directory");
    m.name.assign(reinterpret_cast<const char *>(data + at + 46), nameLength);
    if (!readZip64Extra(data + at + 46 + nameLength, extraLength, &m,
                        m.uncompressed == 0xFFFFFFFF, m.compressed == 0xFFFFFFFF,
                        m.localHeader == 0xFFFFFFFF))
      return bad("member '" + m.name + "' has a damaged zip64 field");
    if (flags & 1)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             path + ": member '" + m.name + "' is encrypted");
    members->push_back(std::move(m));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return okStatus();
}

Status inflateMember(const uint8_t *src, uint64_t size, uint64_t expected, const std::string &name,
                     std::vector<uint8_t> *out) {
  DLC_RETURN_IF_ERROR(checkFits(expected, hostMemoryBytes() / 2, name + " inflated",
                                "store the arrays uncompressed (numpy.savez) to map them instead"),
                      "");
  out->resize(size_t(expected) + 1); // one spare byte: more output than promised is an error
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
    return DLC_MAKE_STATUS(StatusCode::kInternal, name + ": zlib failed to start");
  uint64_t consumed = 0, produced = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    const uInt inChunk = uInt(std::min<uint64_t>(size - consumed, 1u << 30));
    const uInt outChunk = uInt(std::min<uint64_t>(out->size() - produced, 1u << 30));
    z.next_in = const_cast<Bytef *>(src + consumed);
    z.avail_in = inChunk;
    z.next_out = out->data() + produced;
    z.avail_out = outChunk;
    rc = inflate(&z, Z_NO_FLUSH);
    consumed += inChunk - z.avail_in;
    produced += outChunk - z.avail_out;
    if (rc == Z_BUF_ERROR && (inChunk == 0 || outChunk == 0))
      break;
    if (rc == Z_BUF_ERROR)
      rc = Z_OK;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != expected)
    return dataLoss(name, "the compressed data is damaged");
  out->resize(size_t(expected));
  return okStatus();
}

} // namespace

Status readZipArchive(const uint8_t *data, size_t size, std::shared_ptr<const void> owner,
                      const std::string &path, std::vector<ZipMember> *out) {
  std::vector<DirectoryEntry> entries;
  DLC_RETURN_IF_ERROR(listZip(data, size, path, &entries), "");
  std::vector<ZipMember> members;
  for (const DirectoryEntry &m : entries) {
    const std::string name = path + " member '" + m.name + "'";
    if (m.localHeader > size || size - m.localHeader < 30 ||
        readLE(data + m.localHeader, 4) != 0x04034b50)
      return dataLoss(name, "its local header lies outside the file");
    const uint64_t start = m.localHeader + 30 + readLE(data + m.localHeader + 26, 2) +
                           readLE(data + m.localHeader + 28, 2);
    if (start > size || m.compressed > size - start)
      return dataLoss(name, "its data runs past the end of the file");
    const uint8_t *bytes = data + start;
    ZipMember member;
    member.name = m.name;
    if (m.method == 0) {
      if (m.compressed != m.uncompressed)
        return dataLoss(name, "a stored member whose sizes disagree");
      member.data = bytes;
      member.size = size_t(m.compressed);
      member.owner = owner;
    } else if (m.method == 8) {
      auto inflated = std::make_shared<std::vector<uint8_t>>();
      DLC_RETURN_IF_ERROR(inflateMember(bytes, m.compressed, m.uncompressed, name, inflated.get()),
                          "");
      member.data = inflated->data();
      member.size = inflated->size();
      member.owner = std::move(inflated);
    } else {
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             name + ": compression method " + std::to_string(m.method) +
                                 " is not supported (stored and deflated are)");
    }
    if (uint32_t(crc32_z(0, member.data, member.size)) != m.crc)
      return dataLoss(name, "its CRC-32 does not match (the file is damaged)");
    members.push_back(std::move(member));
  }
  *out = std::move(members);
  return okStatus();
}

} // namespace dlc::rt
