//===- safetensors.cc - Reading and atomically writing .safetensors ------===//
//
// The header is parsed with a SAX handler rather than into a JSON DOM: it
// sees duplicate keys (which a DOM silently merges), and it stops at the
// first value that does not fit the schema, so a hostile 100 MB header of
// '[[[[...' or a million-element shape costs nothing before it is rejected.
//
//===----------------------------------------------------------------------===//
#include "runtime/safetensors.h"

#include "runtime/file_io.h"
#include "runtime/float16.h"
#include "runtime/limits.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <set>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dlc::rt {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeaderSize = 100'000'000; // the reference's MAX_HEADER_SIZE
constexpr size_t kMaxRank = 64; // numpy's limit; bounds what a hostile shape can allocate
constexpr std::string_view kMetadataKey = "__metadata__";

struct DTypeInfo {
  DType dtype;
  const char *name;
  size_t size;
  // Position in the reference implementation's `Dtype` enum; its writer lays
  // tensors out in that order (see writeSafetensors).
  int referenceRank;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::kBool, "BOOL", 1, 0},  {DType::kU8, "U8", 1, 4},     {DType::kI8, "I8", 1, 5},
    {DType::kI16, "I16", 2, 9},    {DType::kU16, "U16", 2, 10},  {DType::kF16, "F16", 2, 11},
    {DType::kBF16, "BF16", 2, 12}, {DType::kI32, "I32", 4, 13},  {DType::kU32, "U32", 4, 14},
    {DType::kF32, "F32", 4, 15},   {DType::kF64, "F64", 8, 17},  {DType::kI64, "I64", 8, 18},
    {DType::kU64, "U64", 8, 19},
};

const DTypeInfo *lookup(DType dtype) {
  for (const DTypeInfo &info : kDTypes)
    if (info.dtype == dtype) return &info;
  return nullptr; // only for a value cast from an out-of-range integer
}

/// Quotes untrusted text for an error message: bytes outside printable ASCII
/// are escaped (names need not be valid UTF-8 after truncation, and JSON
/// parser messages quote raw input), and long text is cut so a 1 MB name
/// cannot flood a log.
std::string quote(std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  std::string result = "'";
  for (size_t i = 0; i < text.size() && i < 80; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7F)
      result += {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
    else
      result += static_cast<char>(c);
  }
  return result + (text.size() > 80 ? "...'" : "'");
}

std::string tensorContext(const std::string &name) { return "tensor " + quote(name) + ": "; }

std::string describe(DType dtype, const std::vector<int64_t> &shape) {
  std::string s = std::string(lookup(dtype) ? lookup(dtype)->name : "?") + " [";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// Element and byte counts of |shape| without overflow; false if a dimension
/// is negative, the count exceeds INT64_MAX, or the bytes do not fit size_t.
bool checkedSize(const std::vector<int64_t> &shape, size_t elementSize, uint64_t *elements,
                 uint64_t *bytes) {
  uint64_t count = 1;
  for (int64_t dim : shape)
    if (dim < 0 || __builtin_mul_overflow(count, static_cast<uint64_t>(dim), &count)) return false;
  if (count > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(count, elementSize, bytes) ||
      *bytes > SIZE_MAX)
    return false;
  *elements = count;
  return true;
}

// Assembling bytes explicitly is endian-independent and alignment-free.
uint64_t loadLE(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

Status errnoStatus(int err, const std::string &what) {
  StatusCode code = err == ENOENT || err == ENOTDIR ? StatusCode::kNotFound : StatusCode::kUnavailable;
  return DLC_MAKE_STATUS(code, what + ": " + std::error_code(err, std::generic_category()).message());
}

// One tensor entry as written in the header, before semantic checks.
struct RawEntry {
  std::string name, dtype;
  std::vector<uint64_t> shape, offsets;
  bool hasDtype = false, hasShape = false, hasOffsets = false;
};

/// Checks the header's structure while it is being lexed. A callback that
/// returns false stops the parser; |error| then says why. depth_ counts open
/// containers: 1 = top object, 2 = a tensor entry or __metadata__, 3 = a list.
class HeaderHandler : public nlohmann::json_sax<json> {
public:
  std::vector<RawEntry> entries;
  std::map<std::string, std::string> metadata;
  std::string error;

  bool null() override { return unexpected("null"); }
  bool boolean(bool) override { return unexpected("a boolean"); }
  bool number_integer(number_integer_t v) override { // non-negatives arrive as unsigned
    return unexpected("the negative number " + std::to_string(v));
  }
  bool number_float(number_float_t, const string_t &text) override {
    return unexpected("the non-integer " + quote(text)); // incl. integers beyond uint64
  }
  bool binary(binary_t &) override { return unexpected("binary data"); }
  bool number_unsigned(number_unsigned_t v) override {
    if (depth_ != 3) return unexpected("a number");
    if (field_ == Field::Offsets) {
      if (entry_.offsets.size() == 2)
        return fail(tensorContext(entry_.name) + "data_offsets has more than 2 entries");
      entry_.offsets.push_back(v);
      return true;
    }
    if (entry_.shape.size() == kMaxRank)
      return fail(tensorContext(entry_.name) + "shape has more than " + std::to_string(kMaxRank) +
                  " dimensions");
    if (v > static_cast<uint64_t>(INT64_MAX))
      return fail(tensorContext(entry_.name) + "shape dimension " + std::to_string(v) + " is too large");
    entry_.shape.push_back(v);
    return true;
  }
  bool string(string_t &v) override {
    if (depth_ != 2 || (!inMetadata_ && field_ != Field::Dtype)) return unexpected("a string");
    if (inMetadata_)
      metadata.emplace(key_, std::move(v));
    else
      entry_.dtype = std::move(v);
    return true;
  }
  bool start_object(std::size_t) override {
    if (depth_ > 1) return unexpected("an object");
    if (depth_++ == 1 && !inMetadata_) {
      entry_ = RawEntry();
      entry_.name = key_;
    }
    return true;
  }
  bool key(string_t &k) override {
    if (depth_ == 1) {
      if (!topKeys_.insert(k).second)
        return fail((k == kMetadataKey ? "__metadata__" : "tensor " + quote(k)) +
                    " appears more than once in the header");
      inMetadata_ = k == kMetadataKey;
      key_ = std::move(k);
      return true;
    }
    if (inMetadata_) {
      if (metadata.count(k)) // earlier values were strings, or we would have stopped
        return fail("__metadata__ key " + quote(k) + " appears more than once");
      key_ = std::move(k);
      return true;
    }
    bool *seen = k == "dtype" ? &entry_.hasDtype : k == "shape" ? &entry_.hasShape
                 : k == "data_offsets" ? &entry_.hasOffsets : nullptr;
    if (!seen)
      return fail(tensorContext(entry_.name) + "unexpected key " + quote(k) +
                  " (allowed: dtype, shape, data_offsets)");
    if (*seen)
      return fail(tensorContext(entry_.name) + "key " + quote(k) + " appears more than once");
    *seen = true;
    field_ = k == "dtype" ? Field::Dtype : k == "shape" ? Field::Shape : Field::Offsets;
    return true;
  }
  bool end_object() override {
    if (depth_ == 2 && !inMetadata_) {
      const std::pair<bool, const char *> required[] = {
          {entry_.hasDtype, "dtype"}, {entry_.hasShape, "shape"}, {entry_.hasOffsets, "data_offsets"}};
      for (auto [has, name] : required)
        if (!has) return fail(tensorContext(entry_.name) + "missing key '" + name + "'");
      entries.push_back(std::move(entry_));
    }
    inMetadata_ = false;
    field_ = Field::None;
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ != 2 || inMetadata_ || (field_ != Field::Shape && field_ != Field::Offsets))
      return unexpected("a list");
    ++depth_;
    return true;
  }
  bool end_array() override {
    if (field_ == Field::Offsets && entry_.offsets.size() != 2)
      return fail(tensorContext(entry_.name) + "data_offsets has " +
                  std::to_string(entry_.offsets.size()) + " entries, not 2");
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string &, const json::exception &e) override {
    return fail("header is not valid JSON: " + quote(e.what()));
  }

private:
  enum class Field { None, Dtype, Shape, Offsets };

  bool fail(std::string message) {
    error = std::move(message);
    return false;
  }
  /// Reports |what| appearing where the schema wants something else.
  bool unexpected(const std::string &what) {
    if (depth_ == 0) return fail("header is " + what + ", not a JSON object");
    if (depth_ == 1)
      return fail((inMetadata_ ? std::string("__metadata__") : tensorContext(key_) + "entry") + " is " +
                  what + ", not an object");
    if (inMetadata_)
      return fail("__metadata__ value for " + quote(key_) + " is " + what + ", not a string");
    const std::string verb = depth_ == 3 ? " contains " : " is ";
    const std::string context = tensorContext(entry_.name);
    if (field_ == Field::Dtype) return fail(context + "dtype is " + what + ", not a string");
    if (field_ == Field::Shape)
      return fail(context + "shape" + verb + what + ", not a list of non-negative integers");
    return fail(context + "data_offsets" + verb + what + ", not two non-negative integers");
  }

  int depth_ = 0;
  bool inMetadata_ = false;
  Field field_ = Field::None;
  std::string key_; // the current top-level key, or __metadata__ key
  RawEntry entry_;
  std::set<std::string> topKeys_;
};

} // namespace

const char *safetensorsDTypeName(DType dtype) { return lookup(dtype) ? lookup(dtype)->name : "?"; }

bool parseSafetensorsDType(std::string_view name, DType *out) {
  for (const DTypeInfo &info : kDTypes)
    if (name == info.name) {
      *out = info.dtype;
      return true;
    }
  return false;
}

int64_t SafetensorsTensor::numElements() const {
  uint64_t elements = 0, bytes = 0;
  return checkedSize(shape, 1, &elements, &bytes) ? static_cast<int64_t>(elements) : -1;
}

const SafetensorsTensor *SafetensorsFile::find(std::string_view name) const {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                             [](const SafetensorsTensor &t, std::string_view n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

Status SafetensorsFile::open(const std::string &path, SafetensorsFile *out) {
  int fd;
  uint64_t size;
  DLC_RETURN_IF_ERROR(openRegularFile(path, "a safetensors file", hostMemoryBytes(), &fd, &size), "");
  struct Closer { int fd; ~Closer() { ::close(fd); } } closer{fd};
  std::vector<uint8_t> bytes;
  size_t used = 0;
  try {
    // The size is only a hint (the file may change while we read): read to EOF.
    bytes.resize(size_t(size) + 1);
    for (;;) {
      if (used == bytes.size()) bytes.resize(bytes.size() * 2);
      const ssize_t n = ::read(fd, bytes.data() + used, bytes.size() - used);
      if (n == 0) break;
      if (n > 0)
        used += static_cast<size_t>(n);
      else if (errno != EINTR)
        return errnoStatus(errno, "cannot read " + path);
    }
  } catch (const std::bad_alloc &) {
    return DLC_MAKE_STATUS(StatusCode::kUnavailable, "out of memory reading " + path);
  }
  bytes.resize(used);
  return parse(std::move(bytes), path, out);
}

Status SafetensorsFile::parse(std::vector<uint8_t> bytes, std::string sourceName,
                              SafetensorsFile *out) {
  auto dataLoss = [&](const std::string &message) {
    return DLC_MAKE_STATUS(StatusCode::kDataLoss, sourceName + ": " + message);
  };
  if (!out)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "SafetensorsFile::parse: null output");
  if (bytes.size() < 8)
    return dataLoss("file is " + std::to_string(bytes.size()) +
                    " bytes, too short for the 8-byte header length");
  const uint64_t headerSize = loadLE(bytes.data(), 8);
  if (headerSize > kMaxHeaderSize)
    return dataLoss("header length " + std::to_string(headerSize) + " exceeds the limit of " +
                    std::to_string(kMaxHeaderSize) + " bytes");
  if (headerSize > bytes.size() - 8)
    return dataLoss("header length " + std::to_string(headerSize) + " exceeds the " +
                    std::to_string(bytes.size() - 8) + " bytes after it (truncated file?)");
  // The spec demands '{' first; trailing padding is whitespace, which JSON allows.
  const char *header = reinterpret_cast<const char *>(bytes.data() + 8);
  if (headerSize == 0 || header[0] != '{') return dataLoss("header does not start with '{'");

  SafetensorsFile file;
  std::vector<std::pair<uint64_t, uint64_t>> ranges; // [begin, end) per file.tensors_ entry
  try { // allocation is the only thing that can throw below
    HeaderHandler handler;
    if (!json::sax_parse(header, header + headerSize, &handler))
      return dataLoss(handler.error.empty() ? "header is not valid JSON" : handler.error);
    file.metadata_ = std::move(handler.metadata);
    file.bytes_ = std::move(bytes); // a move keeps the storage, so views stay valid
    const uint8_t *data = file.bytes_.data() + 8 + headerSize;
    const uint64_t dataSize = file.bytes_.size() - 8 - headerSize;

    for (RawEntry &entry : handler.entries) {
      const std::string context = tensorContext(entry.name);
      SafetensorsTensor view;
      if (!parseSafetensorsDType(entry.dtype, &view.dtype))
        return dataLoss(context + "unknown or unsupported dtype " + quote(entry.dtype));
      view.shape.assign(entry.shape.begin(), entry.shape.end()); // each <= INT64_MAX
      uint64_t elements = 0, needed = 0;
      if (!checkedSize(view.shape, dtypeSize(view.dtype), &elements, &needed))
        return dataLoss(context + "shape " + describe(view.dtype, view.shape) + " overflows");
      const uint64_t begin = entry.offsets[0], end = entry.offsets[1];
      const std::string offsets =
          "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "]";
      if (begin > end) return dataLoss(context + offsets + " has begin after end");
      if (end > dataSize)
        return dataLoss(context + offsets + " extends beyond the data section (" +
                        std::to_string(dataSize) + " bytes)");
      if (end - begin != needed)
        return dataLoss(context + offsets + " span " + std::to_string(end - begin) + " bytes but " +
                        describe(view.dtype, view.shape) + " needs " + std::to_string(needed));
      view.name = std::move(entry.name);
      view.data = data + begin;
      view.nbytes = static_cast<size_t>(needed);
      file.tensors_.push_back(std::move(view));
      ranges.emplace_back(begin, end);
    }

    // The spec requires the tensors to cover the data section exactly: walk
    // them in offset order and report the first gap or overlap.
    std::vector<size_t> order(ranges.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ranges[a] < ranges[b]; });
    uint64_t covered = 0;
    const std::string *coveredBy = nullptr;
    for (size_t i : order) {
      const auto [begin, end] = ranges[i];
      const std::string &name = file.tensors_[i].name;
      if (begin < covered)
        return dataLoss(tensorContext(name) + "bytes [" + std::to_string(begin) + ", " +
                        std::to_string(end) + ") overlap tensor " + quote(*coveredBy) +
                        ", which ends at " + std::to_string(covered));
      if (begin > covered)
        return dataLoss("bytes [" + std::to_string(covered) + ", " + std::to_string(begin) +
                        ") of the data section are a gap not covered by any tensor (before tensor " +
                        quote(name) + ")");
      covered = end;
      coveredBy = &name;
    }
    if (covered != dataSize)
      return dataLoss("bytes [" + std::to_string(covered) + ", " + std::to_string(dataSize) +
                      ") at the end of the data section are not covered by any tensor");
    std::sort(file.tensors_.begin(), file.tensors_.end(),
              [](const SafetensorsTensor &a, const SafetensorsTensor &b) { return a.name < b.name; });
  } catch (const std::exception &e) {
    return DLC_MAKE_STATUS(StatusCode::kUnavailable, sourceName + ": cannot parse: " + e.what());
  }
  file.sourceName_ = std::move(sourceName); // last: dataLoss() above uses it
  *out = std::move(file);
  return okStatus();
}

namespace {

/// Element count of a view, cross-checked against nbytes: views need not
/// come from parse(), so nothing about them is trusted.
Status elementCount(const SafetensorsTensor &t, size_t *count) {
  uint64_t elements = 0, bytes = 0;
  if (!lookup(t.dtype) || !checkedSize(t.shape, dtypeSize(t.dtype), &elements, &bytes) ||
      bytes != t.nbytes || (t.nbytes && !t.data))
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, tensorContext(t.name) + "nbytes " +
                                                             std::to_string(t.nbytes) +
                                                             " does not match " +
                                                             describe(t.dtype, t.shape));
  *count = static_cast<size_t>(elements);
  return okStatus();
}

float bitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

Status conversionError(const char *function, const SafetensorsTensor &t, const std::string &message) {
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                         std::string(function) + ": " + tensorContext(t.name) + message);
}

} // namespace

Status readFloat32(const SafetensorsTensor &t, std::vector<float> *out) {
  size_t count = 0;
  DLC_RETURN_IF_ERROR(elementCount(t, &count), "readFloat32");
  if (t.dtype != DType::kF16 && t.dtype != DType::kBF16 && t.dtype != DType::kF32 && t.dtype != DType::kF64)
    return conversionError("readFloat32", t, std::string("dtype ") + safetensorsDTypeName(t.dtype) +
                                                 " is not a floating-point type");
  std::vector<float> values(count);
  const size_t size = dtypeSize(t.dtype);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t raw = loadLE(t.data + i * size, size);
    if (t.dtype == DType::kF16) {
      values[i] = fromF16Bits(static_cast<uint16_t>(raw));
    } else if (t.dtype == DType::kBF16) {
      values[i] = fromBF16Bits(static_cast<uint16_t>(raw));
    } else if (t.dtype == DType::kF32) {
      values[i] = bitsToFloat(static_cast<uint32_t>(raw));
    } else {
      double d;
      std::memcpy(&d, &raw, sizeof d);
      // From FLT_MAX + half an ulp (2^103) on, rounding would give inf.
      if (std::isfinite(d) && std::fabs(d) >= double(FLT_MAX) + std::ldexp(1.0, 103)) {
        char text[32];
        std::snprintf(text, sizeof text, "%g", d);
        return conversionError("readFloat32", t, "element " + std::to_string(i) + " (" + text +
                                                     ") is out of float range");
      }
      values[i] = static_cast<float>(d); // rounds to nearest
    }
  }
  *out = std::move(values);
  return okStatus();
}

Status readInt64(const SafetensorsTensor &t, std::vector<int64_t> *out) {
  size_t count = 0;
  DLC_RETURN_IF_ERROR(elementCount(t, &count), "readInt64");
  const DType d = t.dtype;
  const bool isSigned = d == DType::kI8 || d == DType::kI16 || d == DType::kI32 || d == DType::kI64;
  if (!isSigned && d != DType::kU8 && d != DType::kU16 && d != DType::kU32 && d != DType::kU64)
    return conversionError("readInt64", t,
                           std::string("dtype ") + safetensorsDTypeName(d) + " is not an integer type");
  std::vector<int64_t> values(count);
  const size_t size = dtypeSize(d);
  const uint64_t signBit = uint64_t{1} << (8 * size - 1);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t raw = loadLE(t.data + i * size, size);
    if (isSigned) // sign-extend: flipping then subtracting the sign bit is branch- and UB-free
      values[i] = static_cast<int64_t>((raw ^ signBit) - signBit);
    else if (raw > static_cast<uint64_t>(INT64_MAX))
      return conversionError("readInt64", t, "element " + std::to_string(i) + " (" +
                                                 std::to_string(raw) + ") does not fit in int64");
    else
      values[i] = static_cast<int64_t>(raw);
  }
  *out = std::move(values);
  return okStatus();
}


Status writeSafetensors(const std::string &path, const std::vector<TensorToWrite> &tensors,
                        const std::map<std::string, std::string> &metadata) {
  auto invalid = [&](const std::string &message) {
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "writing " + path + ": " + message);
  };
  try { // allocation (and dump() on invalid UTF-8) are the only throws
    std::set<std::string_view> names;
    for (const TensorToWrite &t : tensors) {
      const std::string context = tensorContext(t.name);
      uint64_t elements = 0, bytes = 0;
      if (t.name == kMetadataKey) return invalid("the name __metadata__ is reserved");
      if (!names.insert(t.name).second) return invalid(context + "name appears more than once");
      if (!lookup(t.dtype) || !checkedSize(t.shape, dtypeSize(t.dtype), &elements, &bytes) ||
          bytes != t.nbytes)
        return invalid(context + "nbytes " + std::to_string(t.nbytes) + " does not match " +
                       describe(t.dtype, t.shape));
      if (t.shape.size() > kMaxRank) // the reader would refuse it
        return invalid(context + "shape has more than " + std::to_string(kMaxRank) + " dimensions");
      if (t.nbytes > 0 && !t.data) return invalid(context + "data is null");
    }
    // Lay tensors out exactly as the reference writer (safetensors 0.8) does:
    // by dtype in descending enum order, which puts wider elements first so
    // every tensor is naturally aligned, then by name. Same input, same bytes.
    std::vector<const TensorToWrite *> sorted;
    for (const TensorToWrite &t : tensors)
      sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(), [](const TensorToWrite *a, const TensorToWrite *b) {
      const int ra = lookup(a->dtype)->referenceRank, rb = lookup(b->dtype)->referenceRank;
      return ra != rb ? ra > rb : a->name < b->name;
    });

    nlohmann::ordered_json header = nlohmann::ordered_json::object(); // keeps insertion order
    if (!metadata.empty())
      header[std::string(kMetadataKey)] = metadata;
    std::vector<std::pair<const void *, size_t>> chunks(2); // length and header, filled below
    uint64_t offset = 0;
    for (const TensorToWrite *t : sorted) {
      uint64_t end = 0;
      if (__builtin_add_overflow(offset, uint64_t{t->nbytes}, &end))
        return invalid("total size overflows");
      nlohmann::ordered_json entry = nlohmann::ordered_json::object();
      entry["dtype"] = safetensorsDTypeName(t->dtype);
      entry["shape"] = t->shape;
      entry["data_offsets"] = {offset, end};
      header[t->name] = std::move(entry);
      chunks.emplace_back(t->data, t->nbytes);
      offset = end;
    }

    std::string text;
    try {
      text = header.dump(); // strict error handler: throws on invalid UTF-8
    } catch (const json::type_error &) {
      return invalid("a tensor name or metadata string is not valid UTF-8");
    }
    // Pad with spaces so the data section (at 8 + size) starts 8-byte aligned.
    text.append((8 - text.size() % 8) % 8, ' ');
    if (text.size() > kMaxHeaderSize)
      return invalid("header of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                     std::to_string(kMaxHeaderSize));
    uint8_t length[8];
    for (int i = 0; i < 8; ++i)
      length[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
    chunks[0] = {length, 8};
    chunks[1] = {text.data(), text.size()};
    return writeFileAtomically(path, chunks);
  } catch (const std::exception &e) {
    return DLC_MAKE_STATUS(StatusCode::kUnavailable, "writing " + path + ": " + e.what());
  }
}

} // namespace dlc::rt
