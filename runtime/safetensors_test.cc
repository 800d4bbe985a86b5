#include "runtime/safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include <csignal>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace dlc::rt;
namespace fs = std::filesystem;

namespace {

/// Builds a file by hand, exactly as the spec lays it out.
std::vector<uint8_t> makeFile(const std::string &header, const std::vector<uint8_t> &data = {}) {
  std::vector<uint8_t> bytes;
  for (int i = 0; i < 8; ++i)
    bytes.push_back(static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

std::vector<uint8_t> withHeaderLength(uint64_t length, size_t totalSize) {
  std::vector<uint8_t> bytes(totalSize, ' ');
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<uint8_t>(length >> (8 * i));
  return bytes;
}

std::vector<uint8_t> readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

template <typename T> std::vector<uint8_t> rawBytes(const std::vector<T> &values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty())
    std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

/// Each test gets a fresh directory, so "no temp file left" is checkable.
class SafetensorsFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "dlc_st_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string &name) const { return (dir_ / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto &e : fs::directory_iterator(dir_))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path dir_;
};

const std::vector<float> kF32 = {1.5f, -2.0f, 0.0f, 3.25f, 1e-7f, -1e30f};
const std::vector<uint16_t> kF16 = {0x3C00, 0xC000, 0x7BFF, 0x0001}; // 1, -2, 65504, 2^-24
const std::vector<uint16_t> kBF16 = {0x3F80, 0xC040};                 // 1, -3
const std::vector<double> kF64 = {0.1, -1e10, 4.0};
const std::vector<int64_t> kI64 = {INT64_MIN, -1, 0, INT64_MAX};
const std::vector<int32_t> kI32 = {-7, 0, 2147483647};
const std::vector<int8_t> kI8 = {-128, -1, 0, 1, 127};
const std::vector<uint8_t> kU8 = {0, 200, 255};
const std::vector<uint8_t> kBool = {1, 0};
const float kScalar = 42.0f;

std::vector<TensorToWrite> sampleTensors() {
  return {
      {"f32", DType::kF32, {2, 3}, kF32.data(), kF32.size() * 4},
      {"f16", DType::kF16, {4}, kF16.data(), kF16.size() * 2},
      {"bf16", DType::kBF16, {1, 2}, kBF16.data(), kBF16.size() * 2},
      {"f64", DType::kF64, {3}, kF64.data(), kF64.size() * 8},
      {"i64", DType::kI64, {2, 2}, kI64.data(), kI64.size() * 8},
      {"i32", DType::kI32, {3}, kI32.data(), kI32.size() * 4},
      {"i8", DType::kI8, {5}, kI8.data(), kI8.size()},
      {"u8", DType::kU8, {3}, kU8.data(), kU8.size()},
      {"bool", DType::kBool, {2}, kBool.data(), kBool.size()},
      {"scalar", DType::kF32, {}, &kScalar, 4},
      {"empty", DType::kF32, {0, 4}, nullptr, 0},
  };
}

} // namespace

TEST(SafetensorsDTypeTest, NamesAndSizesRoundTrip) {
  for (DType d : {DType::kF16, DType::kBF16, DType::kF32, DType::kF64, DType::kI8, DType::kU8, DType::kI16,
                  DType::kU16, DType::kI32, DType::kU32, DType::kI64, DType::kU64, DType::kBool}) {
    DType parsed;
    ASSERT_TRUE(parseSafetensorsDType(safetensorsDTypeName(d), &parsed)) << safetensorsDTypeName(d);
    EXPECT_EQ(parsed, d);
  }
  EXPECT_EQ(dtypeSize(DType::kBF16), 2u);
  EXPECT_EQ(dtypeSize(DType::kF64), 8u);
  EXPECT_EQ(std::string(safetensorsDTypeName(DType::kBool)), "BOOL");
  DType unused;
  EXPECT_FALSE(parseSafetensorsDType("F8_E4M3", &unused));
  EXPECT_FALSE(parseSafetensorsDType("f32", &unused));
}

TEST_F(SafetensorsFileTest, RoundTripsDtypesShapesScalarAndEmpty) {
  std::vector<TensorToWrite> tensors = sampleTensors();
  std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "h\xC3\xA9"}};
  ASSERT_TRUE(writeSafetensors(path("m.safetensors"), tensors, metadata).ok());
  EXPECT_EQ(entries(), std::vector<std::string>{"m.safetensors"});

  SafetensorsFile file;
  Status status = SafetensorsFile::open(path("m.safetensors"), &file);
  ASSERT_TRUE(status.ok()) << status.toString();
  EXPECT_EQ(file.metadata(), metadata);
  ASSERT_EQ(file.tensors().size(), tensors.size());
  for (size_t i = 1; i < file.tensors().size(); ++i) // sorted by name
    EXPECT_LT(file.tensors()[i - 1].name, file.tensors()[i].name);
  for (const TensorToWrite &want : tensors) {
    const SafetensorsTensor *got = file.find(want.name);
    ASSERT_NE(got, nullptr) << want.name;
    EXPECT_EQ(got->dtype, want.dtype) << want.name;
    EXPECT_EQ(got->shape, want.shape) << want.name;
    ASSERT_EQ(got->nbytes, want.nbytes) << want.name;
    if (want.nbytes) {
      EXPECT_EQ(std::memcmp(got->data, want.data, want.nbytes), 0) << want.name;
    }
  }
  EXPECT_EQ(file.find("scalar")->numElements(), 1);
  EXPECT_EQ(file.find("empty")->numElements(), 0);
  EXPECT_EQ(file.find("missing"), nullptr);

  std::vector<uint8_t> bytes = readBytes(path("m.safetensors"));
  uint64_t headerSize = 0;
  std::memcpy(&headerSize, bytes.data(), 8); // the test host is little-endian
  EXPECT_EQ((8 + headerSize) % 8, 0u) << "data section must start 8-byte aligned";

  std::vector<float> floats;
  ASSERT_TRUE(readFloat32(*file.find("f32"), &floats).ok());
  EXPECT_EQ(floats, kF32);
  std::vector<int64_t> ints;
  ASSERT_TRUE(readInt64(*file.find("i64"), &ints).ok());
  EXPECT_EQ(ints, kI64);
}

TEST(SafetensorsParseTest, ReadsHandBuiltSpecBuffer) {
  // Two tensors out of name order, offsets relative to the data section,
  // little-endian values, and header padding with spaces.
  std::string header = R"({"__metadata__":{"k":"v"},)"
                       R"("w":{"dtype":"F32","shape":[2],"data_offsets":[2,10]},)"
                       R"("b":{"dtype":"I16","shape":[1],"data_offsets":[0,2]}}   )";
  std::vector<uint8_t> data = {0xFE, 0xFF,              // b = -2 (I16)
                               0x00, 0x00, 0x80, 0x3F,  // w[0] = 1.0f
                               0x00, 0x00, 0x20, 0xC1}; // w[1] = -10.0f
  SafetensorsFile file;
  Status status = SafetensorsFile::parse(makeFile(header, data), "spec.safetensors", &file);
  ASSERT_TRUE(status.ok()) << status.toString();
  EXPECT_EQ(file.sourceName(), "spec.safetensors");
  EXPECT_EQ(file.metadata().at("k"), "v");
  ASSERT_EQ(file.tensors().size(), 2u);
  EXPECT_EQ(file.tensors()[0].name, "b");
  const SafetensorsTensor *w = file.find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, std::vector<int64_t>{2});
  EXPECT_EQ(w->nbytes, 8u);
  std::vector<float> values;
  ASSERT_TRUE(readFloat32(*w, &values).ok());
  EXPECT_EQ(values, (std::vector<float>{1.0f, -10.0f}));
  std::vector<int64_t> ids;
  ASSERT_TRUE(readInt64(*file.find("b"), &ids).ok());
  EXPECT_EQ(ids, std::vector<int64_t>{-2});

  // Views survive moving the file object (the buffer moves, not copies).
  SafetensorsFile moved = std::move(file);
  ASSERT_TRUE(readFloat32(*moved.find("w"), &values).ok());
  EXPECT_EQ(values, (std::vector<float>{1.0f, -10.0f}));
}

TEST(SafetensorsParseTest, EmptyHeaderObjectIsAValidEmptyFile) {
  SafetensorsFile file;
  ASSERT_TRUE(SafetensorsFile::parse(makeFile("{}      "), "e", &file).ok());
  EXPECT_TRUE(file.tensors().empty());
  EXPECT_TRUE(file.metadata().empty());
}

// The expected bytes are what the reference implementation (Python
// safetensors 0.8.0, serialize()) writes for the same tensors: wider dtypes
// first, then by name, "__metadata__" first in the header, space padding.
TEST_F(SafetensorsFileTest, WriterMatchesReferenceImplementationByteForByte) {
  const std::vector<float> w = {0, 1, 2, 3, 4, 5};
  const std::vector<uint16_t> h = {0x3C00, 0xC000};
  const int64_t s = -5;
  const std::vector<uint8_t> i = {1, 2, 3};
  ASSERT_TRUE(writeSafetensors(path("g.safetensors"),
                               {{"w", DType::kF32, {2, 3}, w.data(), 24},
                                {"h", DType::kF16, {2}, h.data(), 4},
                                {"s", DType::kI64, {}, &s, 8},
                                {"e", DType::kBF16, {0, 3}, nullptr, 0},
                                {"i", DType::kU8, {3}, i.data(), 3}},
                               {{"k", "v"}})
                  .ok());
  const std::string header = R"({"__metadata__":{"k":"v"},)"
                             R"("s":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
                             R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]},)"
                             R"("e":{"dtype":"BF16","shape":[0,3],"data_offsets":[32,32]},)"
                             R"("h":{"dtype":"F16","shape":[2],"data_offsets":[32,36]},)"
                             R"("i":{"dtype":"U8","shape":[3],"data_offsets":[36,39]}})"
                             "   ";
  std::vector<uint8_t> data = {0xFB, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}; // s = -5
  for (uint8_t byte : rawBytes(w))
    data.push_back(byte);
  for (uint8_t byte : {0x00, 0x3C, 0x00, 0xC0, 1, 2, 3}) // h, then i
    data.push_back(byte);
  EXPECT_EQ(readBytes(path("g.safetensors")), makeFile(header, data));
}

// --- Rejections ----------------------------------------------------------

namespace {
struct BadCase {
  std::string label;
  std::vector<uint8_t> bytes;
  std::string expected; // substring of the message
};
// gtest would otherwise print each case as a raw byte dump.
void PrintTo(const BadCase &c, std::ostream *os) { *os << c.label; }

std::string entry(const std::string &dtype, const std::string &shape, const std::string &offsets) {
  return R"({"dtype":)" + dtype + R"(,"shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
}
std::string oneTensor(const std::string &body) { return R"({"t":)" + body + "}"; }
std::vector<uint8_t> zeros(size_t n) { return std::vector<uint8_t>(n, 0); }
std::string ranks(int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i)
    s += i ? ",1" : "1";
  return s + "]";
}

std::vector<BadCase> badCases() {
  const std::string ok = entry(R"("F32")", "[2]", "[0,8]");
  return {
      {"Empty", {}, "0 bytes, too short"},
      {"SevenBytes", zeros(7), "7 bytes, too short"},
      {"HeaderLongerThanFile", withHeaderLength(100, 50), "header length 100 exceeds the 42 bytes"},
      {"HeaderOver100MB", withHeaderLength(100'000'001, 64), "exceeds the limit of 100000000"},
      {"HeaderLengthMaxU64", withHeaderLength(UINT64_MAX, 64), "exceeds the limit"},
      {"ZeroHeader", makeFile(""), "does not start with '{'"},
      {"HeaderIsList", makeFile("[]"), "does not start with '{'"},
      {"TruncatedJson", makeFile(R"({"t":)"), "not valid JSON"},
      {"TrailingGarbage", makeFile("{}}"), "not valid JSON"},
      {"InvalidUtf8", makeFile("{\"\xFF\":1}"), "not valid JSON"},
      {"EntryNotObject", makeFile(R"({"t":[1]})"), "tensor 't': entry is a list, not an object"},
      {"MissingShape", makeFile(oneTensor(R"({"dtype":"F32","data_offsets":[0,0]})")), "tensor 't': missing key 'shape'"},
      {"MissingOffsets", makeFile(oneTensor(R"({"dtype":"F32","shape":[0]})")), "missing key 'data_offsets'"},
      {"ExtraKey", makeFile(oneTensor(R"({"dtype":"F32","shape":[0],"data_offsets":[0,0],"x":1})")), "tensor 't': unexpected key 'x'"},
      {"DuplicateKey", makeFile(oneTensor(R"({"dtype":"F32","dtype":"F32"})")), "key 'dtype' appears more than once"},
      {"UnknownDtype", makeFile(oneTensor(entry(R"("F128")", "[2]", "[0,8]")), zeros(8)), "tensor 't': unknown or unsupported dtype 'F128'"},
      {"DtypeNotString", makeFile(oneTensor(entry("4", "[2]", "[0,8]")), zeros(8)), "dtype is a number, not a string"},
      {"ShapeNotList", makeFile(oneTensor(entry(R"("F32")", R"("2")", "[0,8]")), zeros(8)), "shape is a string, not a list"},
      {"ShapeNegative", makeFile(oneTensor(entry(R"("F32")", "[-2]", "[0,8]")), zeros(8)), "shape contains the negative number -2"},
      {"ShapeFloat", makeFile(oneTensor(entry(R"("F32")", "[2.0]", "[0,8]")), zeros(8)), "shape contains the non-integer '2.0'"},
      {"ShapeNested", makeFile(oneTensor(entry(R"("F32")", "[[2]]", "[0,8]")), zeros(8)), "shape contains a list"},
      {"ShapeDimTooLarge", makeFile(oneTensor(entry(R"("U8")", "[9223372036854775808]", "[0,1]")), zeros(1)), "too large"},
      {"ShapeProductOverflows", makeFile(oneTensor(entry(R"("U8")", "[4294967296,4294967296]", "[0,1]")), zeros(1)), "overflows"},
      {"ShapeBytesOverflow", makeFile(oneTensor(entry(R"("F64")", "[4611686018427387904]", "[0,1]")), zeros(1)), "overflows"},
      {"ShapeRankOver64", makeFile(oneTensor(entry(R"("U8")", ranks(65), "[0,1]")), zeros(1)), "more than 64 dimensions"},
      {"ShapeSizeMismatch", makeFile(oneTensor(entry(R"("F32")", "[3]", "[0,8]")), zeros(8)), "span 8 bytes but F32 [3] needs 12"},
      {"OffsetsOneEntry", makeFile(oneTensor(entry(R"("F32")", "[2]", "[8]")), zeros(8)), "data_offsets has 1 entries, not 2"},
      {"OffsetsThreeEntries", makeFile(oneTensor(entry(R"("F32")", "[2]", "[0,8,8]")), zeros(8)), "more than 2 entries"},
      {"OffsetsNegative", makeFile(oneTensor(entry(R"("F32")", "[2]", "[-8,0]")), zeros(8)), "data_offsets contains the negative number -8"},
      {"OffsetsNotList", makeFile(oneTensor(entry(R"("F32")", "[2]", "8")), zeros(8)), "data_offsets is a number, not two"},
      {"BeginAfterEnd", makeFile(oneTensor(entry(R"("F32")", "[0]", "[8,0]")), zeros(8)), "data_offsets [8, 0] has begin after end"},
      {"EndBeyondData", makeFile(oneTensor(ok), zeros(4)), "extends beyond the data section (4 bytes)"},
      {"Overlap", makeFile(R"({"a":)" + ok + R"(,"b":)" + entry(R"("F32")", "[1]", "[4,8]") + "}", zeros(8)), "tensor 'b': bytes [4, 8) overlap tensor 'a'"},
      {"GapBetween", makeFile(R"({"a":)" + entry(R"("F32")", "[1]", "[0,4]") + R"(,"b":)" + entry(R"("F32")", "[1]", "[8,12]") + "}", zeros(12)), "bytes [4, 8) of the data section are a gap"},
      {"GapAtStart", makeFile(oneTensor(entry(R"("F32")", "[1]", "[4,8]")), zeros(8)), "bytes [0, 4) of the data section are a gap"},
      {"UncoveredTail", makeFile(oneTensor(ok), zeros(12)), "bytes [8, 12) at the end of the data section are not covered"},
      {"DuplicateTensor", makeFile(R"({"a":)" + ok + R"(,"a":)" + ok + "}", zeros(8)), "tensor 'a' appears more than once"},
      {"DuplicateMetadata", makeFile(R"({"__metadata__":{},"__metadata__":{}})"), "__metadata__ appears more than once"},
      {"MetadataNotObject", makeFile(R"({"__metadata__":["a"]})"), "__metadata__ is a list, not an object"},
      {"MetadataValueNotString", makeFile(R"({"__metadata__":{"k":1}})"), "__metadata__ value for 'k' is a number, not a string"},
      {"MetadataDuplicateKey", makeFile(R"({"__metadata__":{"k":"a","k":"b"}})"), "__metadata__ key 'k' appears more than once"},
      {"ControlCharsEscapedInMessage", makeFile(R"({"a\u0001":1})"), "tensor 'a\\x01': entry is a number"},
  };
}

class SafetensorsRejectTest : public ::testing::TestWithParam<BadCase> {};
} // namespace

TEST_P(SafetensorsRejectTest, ReportsDataLossNamingFileAndProblem) {
  const BadCase &c = GetParam();
  SafetensorsFile file;
  Status status = SafetensorsFile::parse(c.bytes, "bad.safetensors", &file);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.toString();
  EXPECT_EQ(status.message().rfind("bad.safetensors: ", 0), 0u) << status.message();
  EXPECT_NE(status.message().find(c.expected), std::string::npos) << status.message();
  EXPECT_TRUE(file.tensors().empty()) << "output must be untouched on failure";
}

INSTANTIATE_TEST_SUITE_P(Cases, SafetensorsRejectTest, ::testing::ValuesIn(badCases()),
                         [](const auto &info) { return info.param.label; });

// Random damage to a valid file must produce OK or an error, never a crash or
// an out-of-bounds view (run under ASan to catch silent overreads too).
TEST_F(SafetensorsFileTest, FuzzedFilesNeverCrash) {
  ASSERT_TRUE(writeSafetensors(path("f.safetensors"), sampleTensors(), {{"a", "b"}}).ok());
  const std::vector<uint8_t> valid = readBytes(path("f.safetensors"));
  uint64_t headerEnd = 8;
  for (int i = 0; i < 8; ++i)
    headerEnd += static_cast<uint64_t>(valid[i]) << (8 * i);
  std::mt19937 rng(20240611);
  const std::string structural = "{}[],:\" -.0123456789eE\\";
  int accepted = 0, rejected = 0;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    std::vector<uint8_t> bytes = valid;
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    switch (iteration % 4) {
    case 0: // flip bits, mostly in the header where the parser works
      for (size_t k = 1 + pick(4); k > 0; --k)
        bytes[pick(headerEnd)] ^= static_cast<uint8_t>(1u << pick(8));
      break;
    case 1: // random bytes anywhere
      for (size_t k = 1 + pick(4); k > 0; --k)
        bytes[pick(bytes.size())] = static_cast<uint8_t>(rng());
      break;
    case 2: // JSON punctuation in the header
      bytes[8 + pick(headerEnd - 8)] = static_cast<uint8_t>(structural[pick(structural.size())]);
      break;
    default: // truncation, sometimes with a flip
      bytes.resize(pick(bytes.size() + 1));
      if (!bytes.empty() && rng() % 2)
        bytes[pick(bytes.size())] ^= 0x20;
    }
    const size_t size = bytes.size();
    SafetensorsFile file;
    Status status = SafetensorsFile::parse(std::move(bytes), "fuzz", &file);
    if (!status.ok()) {
      ++rejected;
      EXPECT_NE(status.message().find("fuzz: "), std::string::npos);
      continue;
    }
    ++accepted;
    size_t total = 0;
    for (const SafetensorsTensor &t : file.tensors()) {
      total += t.nbytes;
      uint64_t sum = 0;
      for (size_t b = 0; b < t.nbytes; ++b) // touch every byte of every view
        sum += t.data[b];
      std::vector<float> f;
      std::vector<int64_t> n;
      (void)readFloat32(t, &f);
      (void)readInt64(t, &n);
      (void)sum;
    }
    EXPECT_LE(total, size);
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(rejected, 0);
}

// --- Conversions ----------------------------------------------------------

TEST(SafetensorsReadTest, Float16ConvertsEveryBitPatternExactly) {
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = static_cast<uint16_t>(i);
  SafetensorsTensor view{"h", DType::kF16, {65536}, reinterpret_cast<const uint8_t *>(all.data()), 131072};
  std::vector<float> got;
  ASSERT_TRUE(readFloat32(view, &got).ok());
  for (uint32_t h = 0; h < 65536; ++h) {
    const int exponent = (h >> 10) & 31, mantissa = h & 1023;
    const float sign = (h & 0x8000) ? -1.0f : 1.0f;
    if (exponent == 31) {
      EXPECT_TRUE(mantissa ? std::isnan(got[h]) : got[h] == sign * INFINITY) << h;
      continue;
    }
    // Independent formula: subnormals are m * 2^-24, normals (1024 + m) * 2^(e-25).
    float want = exponent == 0 ? std::ldexp(float(mantissa), -24)
                               : std::ldexp(float(1024 + mantissa), exponent - 25);
    EXPECT_EQ(got[h], sign * want) << h;
    EXPECT_EQ(std::signbit(got[h]), (h & 0x8000) != 0) << h;
  }
}

TEST(SafetensorsReadTest, BFloat16AndFloat64) {
  const std::vector<uint16_t> bf = {0x3F80, 0xC040, 0x7F80, 0x0001};
  SafetensorsTensor b{"b", DType::kBF16, {4}, reinterpret_cast<const uint8_t *>(bf.data()), 8};
  std::vector<float> got;
  ASSERT_TRUE(readFloat32(b, &got).ok());
  EXPECT_EQ(got, (std::vector<float>{1.0f, -3.0f, INFINITY, std::ldexp(1.0f, -133)}));

  // FLT_MAX + half an ulp is where rounding to float would produce inf.
  const double halfway = static_cast<double>(FLT_MAX) + std::ldexp(1.0, 103);
  const std::vector<double> d = {0.1, -2.5, std::nextafter(halfway, 0.0), -INFINITY, NAN};
  SafetensorsTensor f{"d", DType::kF64, {5}, reinterpret_cast<const uint8_t *>(d.data()), 40};
  ASSERT_TRUE(readFloat32(f, &got).ok());
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(std::vector<float>(got.begin(), got.begin() + 4),
            (std::vector<float>{0.1f, -2.5f, FLT_MAX, -INFINITY}));
  EXPECT_TRUE(std::isnan(got[4]));

  for (double bad : {-1e300, halfway}) {
    const std::vector<double> huge = {1.0, bad};
    SafetensorsTensor h{"huge", DType::kF64, {2}, reinterpret_cast<const uint8_t *>(huge.data()), 16};
    Status status = readFloat32(h, &got);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find("tensor 'huge': element 1 ("), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("is out of float range"), std::string::npos) << status.message();
  }
}

TEST(SafetensorsReadTest, IntegersConvertExactlyAndOverflowIsReported) {
  std::vector<int64_t> got;
  const std::vector<int8_t> i8 = {-128, 127};
  ASSERT_TRUE(readInt64({"a", DType::kI8, {2}, reinterpret_cast<const uint8_t *>(i8.data()), 2}, &got).ok());
  EXPECT_EQ(got, (std::vector<int64_t>{-128, 127}));
  const std::vector<uint8_t> u8 = {255, 0};
  ASSERT_TRUE(readInt64({"b", DType::kU8, {2}, u8.data(), 2}, &got).ok());
  EXPECT_EQ(got, (std::vector<int64_t>{255, 0}));
  const std::vector<int32_t> i32 = {INT32_MIN, -1};
  ASSERT_TRUE(readInt64({"c", DType::kI32, {2}, reinterpret_cast<const uint8_t *>(i32.data()), 8}, &got).ok());
  EXPECT_EQ(got, (std::vector<int64_t>{INT32_MIN, -1}));
  const std::vector<uint32_t> u32 = {UINT32_MAX};
  ASSERT_TRUE(readInt64({"d", DType::kU32, {}, reinterpret_cast<const uint8_t *>(u32.data()), 4}, &got).ok());
  EXPECT_EQ(got, (std::vector<int64_t>{UINT32_MAX}));

  const std::vector<uint64_t> u64 = {1, uint64_t{1} << 63};
  Status status = readInt64({"e", DType::kU64, {2}, reinterpret_cast<const uint8_t *>(u64.data()), 16}, &got);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("tensor 'e': element 1"), std::string::npos) << status.message();

  const float f = 1.0f;
  status = readInt64({"f", DType::kF32, {}, reinterpret_cast<const uint8_t *>(&f), 4}, &got);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("not an integer type"), std::string::npos);
  std::vector<float> floats;
  status = readFloat32({"g", DType::kI32, {1}, reinterpret_cast<const uint8_t *>(i32.data()), 4}, &floats);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("not a floating-point type"), std::string::npos);
  // A hand-made view whose nbytes disagrees with its shape is refused, not read past.
  status = readInt64({"h", DType::kI32, {3}, reinterpret_cast<const uint8_t *>(i32.data()), 8}, &got);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("does not match I32 [3]"), std::string::npos) << status.message();
}

// --- Files and the atomic writer -------------------------------------------

TEST_F(SafetensorsFileTest, OpenReportsMissingFileAndDirectory) {
  SafetensorsFile file;
  Status status = SafetensorsFile::open(path("nope.safetensors"), &file);
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_NE(status.message().find("nope.safetensors"), std::string::npos);
  status = SafetensorsFile::open(dir_.string(), &file);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.toString();
  EXPECT_NE(status.message().find("is a directory, not a safetensors file"), std::string::npos)
      << status.message();
}

TEST_F(SafetensorsFileTest, WritingIntoMissingDirectoryFailsCleanly) {
  const float v = 1.0f;
  Status status = writeSafetensors(path("no/such/dir/m.safetensors"), {{"v", DType::kF32, {}, &v, 4}});
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.toString();
  EXPECT_NE(status.message().find("m.safetensors.tmp."), std::string::npos) << status.message();
  EXPECT_TRUE(entries().empty());
}

TEST_F(SafetensorsFileTest, OverwriteReplacesTheWholeFile) {
  std::vector<uint8_t> big(100000, 0xAB);
  ASSERT_TRUE(writeSafetensors(path("m.safetensors"), {{"big", DType::kU8, {100000}, big.data(), big.size()}}).ok());
  const int32_t small = 5;
  ASSERT_TRUE(writeSafetensors(path("m.safetensors"), {{"small", DType::kI32, {1}, &small, 4}}).ok());
  EXPECT_EQ(entries(), std::vector<std::string>{"m.safetensors"});
  EXPECT_LT(fs::file_size(path("m.safetensors")), 200u) << "old bytes must not survive";
  SafetensorsFile file;
  ASSERT_TRUE(SafetensorsFile::open(path("m.safetensors"), &file).ok());
  ASSERT_EQ(file.tensors().size(), 1u);
  EXPECT_EQ(file.tensors()[0].name, "small");
}

TEST_F(SafetensorsFileTest, InvalidInputLeavesExistingFileUntouched) {
  const std::string target = path("m.safetensors");
  const float v = 2.0f;
  ASSERT_TRUE(writeSafetensors(target, {{"v", DType::kF32, {}, &v, 4}}).ok());
  const std::vector<uint8_t> before = readBytes(target);
  const std::vector<std::pair<std::vector<TensorToWrite>, std::string>> bad = {
      {{{"v", DType::kF32, {}, &v, 4}, {"v", DType::kF32, {}, &v, 4}}, "tensor 'v': name appears more than once"},
      {{{"v", DType::kF32, {2}, &v, 4}}, "nbytes 4 does not match F32 [2]"},
      {{{"v", DType::kF32, {-1}, &v, 4}}, "does not match F32 [-1]"},
      {{{"v", DType::kF32, {1}, nullptr, 4}}, "data is null"},
      {{{"__metadata__", DType::kF32, {}, &v, 4}}, "__metadata__ is reserved"},
      {{{"bad\xFF", DType::kF32, {}, &v, 4}}, "not valid UTF-8"},
      {{{"v", DType::kF32, std::vector<int64_t>(65, 1), &v, 4}}, "more than 64 dimensions"},
  };
  for (const auto &[tensors, expected] : bad) {
    Status status = writeSafetensors(target, tensors);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << expected;
    EXPECT_NE(status.message().find(expected), std::string::npos) << status.message();
  }
  Status status = writeSafetensors(target, {{"v", DType::kF32, {}, &v, 4}}, {{"k", "\xC3"}});
  EXPECT_NE(status.message().find("not valid UTF-8"), std::string::npos) << status.message();
  EXPECT_EQ(readBytes(target), before);
  EXPECT_EQ(entries(), std::vector<std::string>{"m.safetensors"});
}

TEST_F(SafetensorsFileTest, FailedRenameRemovesTheTempFile) {
  fs::create_directory(path("target"));
  const float v = 1.0f;
  Status status = writeSafetensors(path("target"), {{"v", DType::kF32, {}, &v, 4}});
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("cannot rename"), std::string::npos) << status.message();
  EXPECT_EQ(entries(), std::vector<std::string>{"target"});
}

TEST_F(SafetensorsFileTest, FailureMidWriteKeepsOldFileAndRemovesTemp) {
  const std::string target = path("m.safetensors");
  const float v = 3.0f;
  ASSERT_TRUE(writeSafetensors(target, {{"v", DType::kF32, {}, &v, 4}}).ok());
  const std::vector<uint8_t> before = readBytes(target);
  std::vector<uint8_t> big(1 << 20, 7);
  // A file-size limit makes write() fail with EFBIG part way through the
  // data; it is set in a child so the test process keeps its limits.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{64 * 1024, 64 * 1024};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    Status status = writeSafetensors(target, {{"big", DType::kU8, {1 << 20}, big.data(), big.size()}});
    bool expected = status.code() == StatusCode::kUnavailable &&
                    status.message().find("cannot write") != std::string::npos;
    ::_exit(status.ok() ? 1 : expected ? 0 : 2);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "1: write succeeded, 2: wrong error";
  EXPECT_EQ(readBytes(target), before);
  EXPECT_EQ(entries(), std::vector<std::string>{"m.safetensors"});
}

// A reader racing a writer must always see one complete version: a writer
// that truncated and rewrote the target in place would fail this.
TEST_F(SafetensorsFileTest, ConcurrentReaderNeverSeesAPartialFile) {
  const std::string target = path("m.safetensors");
  std::vector<uint8_t> a(256 * 1024, 0xAA), b(200 * 1024, 0xBB);
  ASSERT_TRUE(writeSafetensors(target, {{"x", DType::kU8, {int64_t(a.size())}, a.data(), a.size()}}).ok());
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, bad{0};
  std::thread reader([&] {
    while (!done) {
      SafetensorsFile file;
      const SafetensorsTensor *x = nullptr;
      if (!SafetensorsFile::open(target, &file).ok() || !(x = file.find("x")) ||
          (x->nbytes != a.size() && x->nbytes != b.size()) ||
          std::count(x->data, x->data + x->nbytes, x->data[0]) != static_cast<long>(x->nbytes))
        ++bad;
      ++reads;
    }
  });
  while (reads == 0) // make sure the reader is running before the writes
    std::this_thread::yield();
  for (int i = 0; i < 40; ++i) {
    const std::vector<uint8_t> &v = i % 2 ? a : b;
    ASSERT_TRUE(writeSafetensors(target, {{"x", DType::kU8, {int64_t(v.size())}, v.data(), v.size()}}).ok());
  }
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(entries(), std::vector<std::string>{"m.safetensors"});
}
