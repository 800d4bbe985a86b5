//===- npy.cc - NumPy .npy and .npz files ---------------------------------===//
#include "runtime/data/npy.h"

#include "runtime/limits.h"
#include "runtime/zip_archive.h"

#include <cstring>

namespace dlc::rt::data {
namespace {

Status dataLoss(const std::string &name, const std::string &what) {
  return DLC_MAKE_STATUS(StatusCode::kDataLoss, name + ": " + what);
}

/// The dict literal of a .npy header, as numpy.lib.format writes it (and as
/// a hand-written one could spell it: either quote, spaces anywhere, a
/// trailing comma).
class HeaderParser {
public:
  explicit HeaderParser(std::string_view text) : text_(text) {}

  Status parse(const std::string &name, std::string *descr, bool *fortran,
               std::vector<int64_t> *shape) {
    bool haveDescr = false, haveFortran = false, haveShape = false;
    if (!eat('{'))
      return bad(name, "the header is not a dict");
    while (!eat('}')) {
      std::string key;
      if (!quoted(&key) || !eat(':'))
        return bad(name, "the header's keys must be quoted strings followed by ':'");
      if (key == "descr") {
        if (!quoted(descr))
          return bad(name, "'descr' is not a simple type (structured and object arrays "
                           "cannot be read; save a plain numeric array)");
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (word("True"))
          *fortran = true;
        else if (word("False"))
          *fortran = false;
        else
          return bad(name, "'fortran_order' must be True or False");
        haveFortran = true;
      } else if (key == "shape") {
        if (!tuple(shape))
          return bad(name, "'shape' must be a tuple of non-negative integers");
        haveShape = true;
      } else {
        return bad(name, "the header has an unknown key '" + key + "'");
      }
      if (!eat(',')) {
        if (!eat('}'))
          return bad(name, "expected ',' or '}' in the header");
        break;
      }
    }
    skipSpace();
    if (at_ != text_.size())
      return bad(name, "text after the header's dict");
    if (!haveDescr || !haveFortran || !haveShape)
      return bad(name, "the header lacks 'descr', 'fortran_order' or 'shape'");
    return okStatus();
  }

private:
  static Status bad(const std::string &name, const std::string &what) {
    return dataLoss(name, what + " (not a .npy file numpy.save wrote?)");
  }
  void skipSpace() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\t'))
      ++at_;
  }
  bool eat(char c) {
    skipSpace();
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  bool word(std::string_view w) {
    skipSpace();
    if (text_.substr(at_, w.size()) != w)
      return false;
    at_ += w.size();
    return true;
  }
  bool quoted(std::string *out) {
    skipSpace();
    if (at_ >= text_.size() || (text_[at_] != '\'' && text_[at_] != '"'))
      return false;
    char quote = text_[at_++];
    size_t end = text_.find(quote, at_);
    if (end == std::string_view::npos || end - at_ > 64)
      return false;
    *out = std::string(text_.substr(at_, end - at_));
    at_ = end + 1;
    return true;
  }
  bool tuple(std::vector<int64_t> *out) {
    out->clear();
    if (!eat('('))
      return false;
    while (!eat(')')) {
      skipSpace();
      int64_t v = 0;
      size_t digits = 0;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9' && digits < 16) {
        v = v * 10 + (text_[at_++] - '0');
        ++digits;
      }
      if (digits == 0 || digits == 16 || out->size() >= 32)
        return false;
      skipSpace();
      if (at_ < text_.size() && text_[at_] == 'L') // Python 2's long suffix
        ++at_;
      out->push_back(v);
      if (!eat(',')) {
        if (!eat(')'))
          return false;
        break;
      }
    }
    return true;
  }

  std::string_view text_;
  size_t at_ = 0;
};

/// numpy's type string ('<f4', '|u1') as a DType.
Status parseDescr(const std::string &descr, const std::string &name, DType *out) {
  static const struct {
    const char *code;
    DType dtype;
  } kTypes[] = {{"b1", DType::kBool}, {"u1", DType::kU8},  {"i1", DType::kI8},
                {"u2", DType::kU16},  {"i2", DType::kI16}, {"u4", DType::kU32},
                {"i4", DType::kI32},  {"u8", DType::kU64}, {"i8", DType::kI64},
                {"f2", DType::kF16},  {"f4", DType::kF32}, {"f8", DType::kF64}};
  if (descr.size() == 3)
    for (const auto &t : kTypes)
      if (descr.compare(1, 2, t.code) == 0) {
        const bool single = dtypeSize(t.dtype) == 1;
        if (descr[0] == '<' || descr[0] == '|' || (descr[0] == '=' && !single)) {
          *out = t.dtype;
          return okStatus();
        }
        if (descr[0] == '>')
          return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                                 name + ": the array is big-endian ('" + descr +
                                     "'); save it little-endian, e.g. "
                                     "np.save(path, a.astype(a.dtype.newbyteorder('<')))");
      }
  return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                         name + ": element type '" + descr +
                             "' is not supported (bool, u1-u8, i1-i8, f2, f4 or f8 are)");
}

} // namespace

Status parseNpy(const uint8_t *data, size_t size, std::shared_ptr<const void> owner,
                const std::string &name, HostArray *out) {
  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (size < 10 || std::memcmp(data, kMagic, 6) != 0)
    return dataLoss(name, "not a .npy file (no \\x93NUMPY magic)");
  const uint8_t major = data[6];
  if (major < 1 || major > 3)
    return dataLoss(name, ".npy format version " + std::to_string(major) + " is not supported");
  const int lengthBytes = major == 1 ? 2 : 4;
  if (size < size_t(8 + lengthBytes))
    return dataLoss(name, "truncated header");
  uint64_t headerLength = 0; // little-endian
  for (int i = lengthBytes - 1; i >= 0; --i)
    headerLength = (headerLength << 8) | data[8 + i];
  const uint64_t start = 8 + uint64_t(lengthBytes) + headerLength;
  if (headerLength > (1u << 20) || start > size)
    return dataLoss(name, "the header's length runs past the end of the file");
  std::string descr;
  bool fortran = false;
  std::vector<int64_t> shape;
  const std::string_view header(reinterpret_cast<const char *>(data) + 8 + lengthBytes,
                                size_t(headerLength));
  DLC_RETURN_IF_ERROR(HeaderParser(header).parse(name, &descr, &fortran, &shape), "");
  DType dtype;
  DLC_RETURN_IF_ERROR(parseDescr(descr, name, &dtype), "");
  if (fortran)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           name + ": the array is in Fortran order; save a C-ordered copy "
                                  "(np.save(path, np.ascontiguousarray(a)))");
  // Checked before multiplying: each dim at most 2^40 elements in all.
  int64_t elements = 1;
  for (int64_t d : shape) {
    if (d != 0 && elements > kMaxTensorElements / d)
      return dataLoss(name, "the shape " + shapeString(shape) + " is too large");
    elements *= d;
  }
  const uint64_t bytes = uint64_t(elements) * dtypeSize(dtype);
  if (size - start != bytes)
    return dataLoss(name, "the header promises " + shapeString(shape) + " of " + descr + " (" +
                              std::to_string(bytes) + " bytes) but " +
                              std::to_string(size - start) + " bytes follow (truncated?)");
  HostArray array;
  array.dtype = dtype;
  array.dims = std::move(shape);
  array.data = data + start;
  array.bytes = size_t(bytes);
  array.owner = std::move(owner);
  *out = std::move(array);
  return okStatus();
}

Status readNpy(const std::string &path, HostArray *out) {
  const uint8_t *data = nullptr;
  size_t size = 0;
  std::shared_ptr<const void> owner;
  DLC_RETURN_IF_ERROR(mapFile(path, "a .npy file", &data, &size, &owner), "");
  return parseNpy(data, size, std::move(owner), path, out);
}

Status readNpz(const std::string &path, std::map<std::string, HostArray> *out) {
  const uint8_t *data = nullptr;
  size_t size = 0;
  std::shared_ptr<const void> owner;
  DLC_RETURN_IF_ERROR(mapFile(path, "a .npz file", &data, &size, &owner), "");
  std::vector<ZipMember> members;
  DLC_RETURN_IF_ERROR(readZipArchive(data, size, owner, path, &members), "");
  std::map<std::string, HostArray> arrays;
  for (const ZipMember &m : members) {
    const std::string name = path + " member '" + m.name + "'";
    if (m.name.size() < 5 || m.name.compare(m.name.size() - 4, 4, ".npy") != 0)
      return dataLoss(name, "is not a .npy array (a .npz holds NAME.npy members)");
    HostArray array;
    DLC_RETURN_IF_ERROR(parseNpy(m.data, m.size, m.owner, name, &array), "");
    if (!arrays.emplace(m.name.substr(0, m.name.size() - 4), std::move(array)).second)
      return dataLoss(name, "appears twice in the archive");
  }
  *out = std::move(arrays);
  return okStatus();
}

} // namespace dlc::rt::data
