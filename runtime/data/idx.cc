//===- idx.cc - Reading and writing IDX files (MNIST's format) ------------===//
//
// Gzip and raw files take one code path (ByteStream): read the header, check
// the size it claims against the file and this machine, then read exactly
// that many bytes and demand end of file. Asking for one byte past the data
// is what makes zlib verify the gzip trailer (CRC and length) and what finds
// trailing garbage, so corruption anywhere in the file is caught, not only in
// the part we needed.
//
//===----------------------------------------------------------------------===//
#include "runtime/data/idx.h"

#include "runtime/file_io.h"
#include "runtime/limits.h"

#include <zlib.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <new>

#include <sys/stat.h>

namespace dlc::rt::data {
namespace {

// Deflate can expand data by up to about 1032:1, but only for nearly constant
// bytes; real data compresses far less (Fashion-MNIST's images 5:1, its labels
// 2:1). A header that claims more than 200 times the gzip file's size is a
// corrupt dimension or a decompression bomb: checked before allocating.
constexpr uint64_t kMaxDeflateRatio = 200;

Status dataLoss(const std::string &path, const std::string &what) {
  return DLC_MAKE_STATUS(StatusCode::kDataLoss,
                         path + ": " + what + " (re-download or reinstall the file)");
}

bool validType(uint8_t code) { return idxTypeSize(static_cast<IdxType>(code)) != 0; }

/// Closes the gzFile on every return path (writing).
struct GzCloser {
  gzFile file;
  ~GzCloser() {
    if (file)
      gzclose(file);
  }
};

/// The bytes of a file that is either raw or gzip (one or more members, as
/// `cat a.gz b.gz` makes), read in order. Inflating ourselves rather than
/// through gzread is what lets trailing garbage after the last member be an
/// error (gzread ignores it) and the amount inflated be counted exactly.
class ByteStream {
public:
  ByteStream(const std::string &path, std::vector<uint8_t> file) : path_(path), file_(std::move(file)) {
    gzip_ = file_.size() >= 2 && file_[0] == 0x1f && file_[1] == 0x8b;
  }
  ~ByteStream() {
    if (open_)
      inflateEnd(&z_);
  }
  bool gzip() const { return gzip_; }

  /// Reads up to |size| bytes; |*got| says how many arrived (fewer at the end).
  Status read(uint8_t *dst, uint64_t size, uint64_t *got) {
    *got = 0;
    if (!gzip_) {
      *got = std::min<uint64_t>(size, file_.size() - at_);
      if (*got)
        std::memcpy(dst, file_.data() + at_, size_t(*got));
      at_ += *got;
      return okStatus();
    }
    while (*got < size) {
      if (!open_) {
        if (at_ == file_.size())
          return okStatus();
        if (file_.size() - at_ < 2 || file_[at_] != 0x1f || file_[at_ + 1] != 0x8b)
          return dataLoss(path_, std::to_string(file_.size() - at_) +
                                     " bytes of trailing garbage after the gzip stream");
        z_ = z_stream{};
        if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK)
          return DLC_MAKE_STATUS(StatusCode::kResourceExhausted, path_ + ": cannot start zlib");
        open_ = true;
      }
      z_.next_in = file_.data() + at_;
      z_.avail_in = unsigned(std::min<uint64_t>(file_.size() - at_, 1u << 30));
      z_.next_out = dst + *got;
      z_.avail_out = unsigned(std::min<uint64_t>(size - *got, 1u << 30));
      unsigned inBefore = z_.avail_in, outBefore = z_.avail_out;
      int rc = inflate(&z_, Z_NO_FLUSH);
      at_ += inBefore - z_.avail_in;
      *got += outBefore - z_.avail_out;
      if (rc == Z_STREAM_END) {
        inflateEnd(&z_);
        open_ = false;
      } else if (rc == Z_BUF_ERROR && z_.avail_in == 0 && at_ == file_.size()) {
        return dataLoss(path_, "truncated gzip stream");
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return dataLoss(path_, std::string("corrupt gzip stream: ") + (z_.msg ? z_.msg : "error"));
      }
    }
    return okStatus();
  }

private:
  std::string path_;
  std::vector<uint8_t> file_;
  uint64_t at_ = 0;
  bool gzip_ = false, open_ = false;
  z_stream z_{};
};

std::string describeDims(const std::vector<int64_t> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

void swapToHost(uint8_t *data, uint64_t count, size_t width) {
  // IDX is big-endian; the runtime targets little-endian x86-64 and AArch64.
  for (uint64_t i = 0; i < count; ++i, data += width)
    for (size_t a = 0, b = width - 1; a < b; ++a, --b)
      std::swap(data[a], data[b]);
}

} // namespace

size_t idxTypeSize(IdxType type) {
  switch (type) {
  case IdxType::kU8:
  case IdxType::kI8: return 1;
  case IdxType::kI16: return 2;
  case IdxType::kI32:
  case IdxType::kF32: return 4;
  case IdxType::kF64: return 8;
  }
  return 0;
}

const char *idxTypeName(IdxType type) {
  switch (type) {
  case IdxType::kU8: return "u8";
  case IdxType::kI8: return "i8";
  case IdxType::kI16: return "i16";
  case IdxType::kI32: return "i32";
  case IdxType::kF32: return "f32";
  case IdxType::kF64: return "f64";
  }
  return "?";
}

int64_t IdxArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

double IdxArray::at(int64_t i) const {
  const uint8_t *p = data.data() + size_t(i) * idxTypeSize(type);
  switch (type) {
  case IdxType::kU8: return *p;
  case IdxType::kI8: return int8_t(*p);
  case IdxType::kI16: {
    int16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }
  case IdxType::kI32: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case IdxType::kF32: {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case IdxType::kF64: {
    double v;
    std::memcpy(&v, p, 8);
    return v;
  }
  }
  return 0;
}

Status readIdx(const std::string &path, IdxArray *out) {
  std::vector<uint8_t> fileBytes;
  DLC_RETURN_IF_ERROR(readFile(path, &fileBytes, hostMemoryBytes() / 2, "an IDX file"), "");
  return parseIdx(std::move(fileBytes), path, out);
}

Status parseIdx(std::vector<uint8_t> fileBytes, const std::string &path, IdxArray *out) {
  const uint64_t fileSize = fileBytes.size();
  ByteStream stream(path, std::move(fileBytes));

  uint8_t magic[4];
  uint64_t got = 0;
  DLC_RETURN_IF_ERROR(stream.read(magic, 4, &got), "");
  if (got < 4)
    return dataLoss(path, "too short for an IDX header (" + std::to_string(got) + " bytes)");
  if (magic[0] != 0 || magic[1] != 0 || !validType(magic[2])) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%02x %02x %02x", magic[0], magic[1], magic[2]);
    return dataLoss(path, std::string("bad IDX magic ") + hex +
                              " (expected 00 00 then a type code 08, 09, 0b, 0c, 0d or 0e)");
  }
  IdxArray array;
  array.type = static_cast<IdxType>(magic[2]);
  const size_t width = idxTypeSize(array.type);
  const unsigned rank = magic[3];

  uint8_t dimBytes[255 * 4];
  DLC_RETURN_IF_ERROR(stream.read(dimBytes, 4 * rank, &got), "");
  if (got < 4 * rank)
    return dataLoss(path, "truncated in the header: rank " + std::to_string(rank) + " needs " +
                              std::to_string(4 * rank) + " bytes of dimensions");
  uint64_t count = 1;
  bool overflow = false;
  for (unsigned i = 0; i < rank; ++i) {
    const uint8_t *b = dimBytes + 4 * i;
    uint32_t d = uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
    array.dims.push_back(d);
    overflow |= __builtin_mul_overflow(count, uint64_t(d), &count) || count > uint64_t(INT64_MAX);
  }
  uint64_t payload = 0;
  overflow |= __builtin_mul_overflow(count, uint64_t(width), &payload);
  overflow |= payload > uint64_t(INT64_MAX);
  if (overflow)
    return dataLoss(path, "dimensions " + describeDims(array.dims) +
                              " overflow a 64-bit size (corrupt header)");

  // The raw size is exact; a gzip file can only bound it (see kMaxDeflateRatio).
  const uint64_t headerSize = 4 + 4 * uint64_t(rank);
  const bool raw = !stream.gzip();
  const uint64_t limit =
      raw ? fileSize - std::min(fileSize, headerSize) : fileSize * kMaxDeflateRatio + 4096;

  if (payload > limit)
    return dataLoss(path, std::string("header claims ") + idxTypeName(array.type) + " " +
                              describeDims(array.dims) + " = " + std::to_string(payload) +
                              " bytes of data but the file " +
                              (raw ? "holds only " + std::to_string(limit) + " (truncated or corrupt)"
                                   : "is only " + std::to_string(fileSize) +
                                         " bytes compressed, more than " +
                                         std::to_string(kMaxDeflateRatio) +
                                         " times smaller (a corrupt header or a decompression "
                                         "bomb)"));
  DLC_RETURN_IF_ERROR(checkFits(payload, hostMemoryBytes() / 2,
                                path + ": the data of " + describeDims(array.dims),
                                "half of this machine's memory is the limit for one data file"),
                      "");
  try {
    array.data.resize(size_t(payload));
  } catch (const std::bad_alloc &) {
    return DLC_MAKE_STATUS(StatusCode::kResourceExhausted, path + ": out of memory allocating " +
                                                         std::to_string(payload) + " bytes for " +
                                                         describeDims(array.dims));
  }
  DLC_RETURN_IF_ERROR(stream.read(array.data.data(), payload, &got), "");
  if (got < payload)
    return dataLoss(path, "truncated: header " + describeDims(array.dims) + " needs " +
                              std::to_string(payload) + " bytes of data, file has " +
                              std::to_string(got));
  uint8_t extra;
  DLC_RETURN_IF_ERROR(stream.read(&extra, 1, &got), "");
  if (got != 0)
    return dataLoss(path, "trailing data after the " + std::to_string(payload) +
                              " bytes that dimensions " + describeDims(array.dims) +
                              " describe (wrong dimensions in the header?)");
  swapToHost(array.data.data(), count, width);
  *out = std::move(array);
  return okStatus();
}

Status writeIdx(const std::string &path, const IdxArray &array, bool gzip) {
  const size_t width = idxTypeSize(array.type);
  if (width == 0 || array.dims.size() > 255)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           path + ": cannot write an IDX file of rank " +
                               std::to_string(array.dims.size()) + " or type code " +
                               std::to_string(int(array.type)));
  for (int64_t d : array.dims)
    if (d < 0 || d > int64_t(UINT32_MAX))
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             path + ": IDX dimensions must fit in u32, got " +
                                 describeDims(array.dims));
  if (uint64_t(array.numElements()) * width != array.data.size())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           path + ": " + std::to_string(array.data.size()) +
                               " bytes of data do not match dimensions " +
                               describeDims(array.dims));
  std::vector<uint8_t> bytes = {0, 0, uint8_t(array.type), uint8_t(array.dims.size())};
  for (int64_t d : array.dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(uint8_t(uint64_t(d) >> shift));
  size_t header = bytes.size();
  bytes.insert(bytes.end(), array.data.begin(), array.data.end());
  swapToHost(bytes.data() + header, uint64_t(array.numElements()), width);

  // "T" asks zlib for a plain, uncompressed file through the same API.
  GzCloser gz{gzopen(path.c_str(), gzip ? "wb6" : "wbT")};
  if (!gz.file)
    return DLC_MAKE_STATUS(StatusCode::kUnavailable,
                           path + ": cannot create: " + std::strerror(errno));
  for (size_t done = 0; done < bytes.size();) {
    unsigned chunk = unsigned(std::min<size_t>(bytes.size() - done, 1u << 30));
    if (gzwrite(gz.file, bytes.data() + done, chunk) != int(chunk))
      return DLC_MAKE_STATUS(StatusCode::kUnavailable, path + ": write failed");
    done += chunk;
  }
  gzFile file = gz.file;
  gz.file = nullptr;
  if (gzclose(file) != Z_OK)
    return DLC_MAKE_STATUS(StatusCode::kUnavailable, path + ": write failed on close");
  return okStatus();
}

} // namespace dlc::rt::data
