//===- idx_test.cc - IDX reader and writer ---------------------------------===//
#include "runtime/data/idx.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>
#include <zlib.h>

using namespace dlc::rt;
using namespace dlc::rt::data;
namespace fs = std::filesystem;

namespace {

class DataIdxTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "dlc_idx_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string &name) const { return (fs::path(dir_) / name).string(); }

  std::vector<uint8_t> readBytes(const std::string &p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  void gzipBytes(const std::string &p, const std::vector<uint8_t> &bytes) {
    gzFile f = gzopen(p.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
    ASSERT_EQ(gzclose(f), Z_OK);
  }
  void writeBytes(const std::string &p, const std::vector<uint8_t> &bytes) {
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
  }
  /// Expects readIdx to fail with |code| and a message naming the file and
  /// containing |fragment|.
  void expectError(const std::string &p, StatusCode code, const std::string &fragment) {
    IdxArray array;
    Status s = readIdx(p, &array);
    ASSERT_FALSE(s.ok()) << p;
    EXPECT_EQ(s.code(), code) << s.toString();
    EXPECT_NE(s.message().find(p), std::string::npos) << s.toString();
    EXPECT_NE(s.message().find(fragment), std::string::npos) << s.toString();
  }

  std::string dir_;
};

template <typename T>
IdxArray makeArray(IdxType type, std::vector<int64_t> dims, const std::vector<T> &values) {
  IdxArray a;
  a.type = type;
  a.dims = std::move(dims);
  a.data.resize(values.size() * sizeof(T));
  if (!values.empty())
    std::memcpy(a.data.data(), values.data(), a.data.size());
  return a;
}

std::vector<uint8_t> header(uint8_t type, std::vector<uint32_t> dims) {
  std::vector<uint8_t> b = {0, 0, type, uint8_t(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8)
      b.push_back(uint8_t(d >> s));
  return b;
}

TEST_F(DataIdxTest, RoundTripsEveryTypeRawAndGzipped) {
  std::vector<IdxArray> arrays = {
      makeArray<uint8_t>(IdxType::kU8, {2, 3}, {0, 1, 127, 128, 200, 255}),
      makeArray<int8_t>(IdxType::kI8, {4}, {-128, -1, 0, 127}),
      makeArray<int16_t>(IdxType::kI16, {2, 2}, {-32768, -2, 258, 32767}),
      makeArray<int32_t>(IdxType::kI32, {3}, {INT32_MIN, 16909060, INT32_MAX}),
      makeArray<float>(IdxType::kF32, {1, 3}, {-1.5f, 0.0f, 3.25e10f}),
      makeArray<double>(IdxType::kF64, {2}, {-2.5, 1e300}),
  };
  for (const IdxArray &a : arrays)
    for (bool gzip : {false, true}) {
      std::string p = path(std::string(idxTypeName(a.type)) + (gzip ? ".gz" : ".raw"));
      ASSERT_TRUE(writeIdx(p, a, gzip).ok()) << p;
      IdxArray back;
      Status s = readIdx(p, &back);
      ASSERT_TRUE(s.ok()) << s.toString();
      EXPECT_EQ(back.type, a.type) << p;
      EXPECT_EQ(back.dims, a.dims) << p;
      EXPECT_EQ(back.data, a.data) << p;
      if (!gzip) // the raw file is the spec's layout, size for size
        EXPECT_EQ(readBytes(p).size(), 4 + 4 * a.dims.size() + a.data.size());
      else // and the gzip one really is compressed
        EXPECT_EQ(readBytes(p)[0], 0x1f);
    }
  EXPECT_EQ(arrays[2].at(0), -32768.0);
  EXPECT_EQ(arrays[4].at(2), double(3.25e10f));
}

TEST_F(DataIdxTest, ReadsBigEndianFilesWrittenByHand) {
  std::vector<uint8_t> bytes = header(0x0C, {2, 1});
  bytes.insert(bytes.end(), {0x01, 0x02, 0x03, 0x04, 0xFF, 0xFF, 0xFF, 0xFE});
  writeBytes(path("hand"), bytes);
  IdxArray a;
  ASSERT_TRUE(readIdx(path("hand"), &a).ok());
  EXPECT_EQ(a.type, IdxType::kI32);
  EXPECT_EQ(a.dims, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(a.at(0), 0x01020304);
  EXPECT_EQ(a.at(1), -2);

  std::vector<uint8_t> f = header(0x0D, {1});
  f.insert(f.end(), {0x3F, 0xC0, 0x00, 0x00}); // 1.5f
  writeBytes(path("float"), f);
  ASSERT_TRUE(readIdx(path("float"), &a).ok());
  EXPECT_EQ(a.at(0), 1.5);
}

TEST_F(DataIdxTest, EmptyAndZeroSizedArrays) {
  IdxArray a = makeArray<uint8_t>(IdxType::kU8, {0, 28, 28}, {});
  ASSERT_TRUE(writeIdx(path("empty"), a, false).ok());
  IdxArray back;
  ASSERT_TRUE(readIdx(path("empty"), &back).ok());
  EXPECT_EQ(back.dims, (std::vector<int64_t>{0, 28, 28}));
  EXPECT_EQ(back.numElements(), 0);
}

TEST_F(DataIdxTest, RejectsBadMagic) {
  std::vector<uint8_t> bytes = header(0x08, {1});
  bytes.push_back(7);
  bytes[0] = 1;
  writeBytes(path("magic0"), bytes);
  expectError(path("magic0"), StatusCode::kDataLoss, "bad IDX magic 01 00 08");
  bytes[0] = 0;
  bytes[2] = 0x0A; // not a type code
  writeBytes(path("type"), bytes);
  expectError(path("type"), StatusCode::kDataLoss, "bad IDX magic");
  writeBytes(path("short"), {0, 0, 8});
  expectError(path("short"), StatusCode::kDataLoss, "too short");
  // A text file mistaken for IDX.
  writeBytes(path("text"), {'h', 'e', 'l', 'l', 'o', '\n'});
  expectError(path("text"), StatusCode::kDataLoss, "bad IDX magic");
}

TEST_F(DataIdxTest, RejectsTruncatedAndTrailingData) {
  IdxArray a = makeArray<int16_t>(IdxType::kI16, {3, 4}, std::vector<int16_t>(12, 5));
  ASSERT_TRUE(writeIdx(path("ok"), a, false).ok());
  std::vector<uint8_t> bytes = readBytes(path("ok"));

  // Found by fuzz-idx: dimensions whose running product passes 2^63 before a 0.
  writeBytes(path("wide"), {0, 0, 0x08, 4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                            0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0});
  expectError(path("wide"), StatusCode::kDataLoss, "overflow a 64-bit size");
  writeBytes(path("empty"), {}); // found by fuzz-idx: an empty file
  expectError(path("empty"), StatusCode::kDataLoss, "too short for an IDX header (0 bytes)");

  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 1);
  writeBytes(path("cut"), cut);
  expectError(path("cut"), StatusCode::kDataLoss, "holds only 23");

  std::vector<uint8_t> headerOnly(bytes.begin(), bytes.begin() + 6); // mid-dimensions
  writeBytes(path("cuthead"), headerOnly);
  expectError(path("cuthead"), StatusCode::kDataLoss, "truncated in the header");

  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  writeBytes(path("long"), longer);
  expectError(path("long"), StatusCode::kDataLoss, "trailing data");

  // Gzipped: a cut stream and a corrupted CRC are both data loss.
  ASSERT_TRUE(writeIdx(path("ok.gz"), a, true).ok());
  std::vector<uint8_t> gz = readBytes(path("ok.gz"));
  writeBytes(path("cut.gz"), std::vector<uint8_t>(gz.begin(), gz.end() - 10));
  IdxArray out;
  Status s = readIdx(path("cut.gz"), &out);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.toString();
  std::vector<uint8_t> crc = gz;
  crc[crc.size() - 6] ^= 0xFF;
  writeBytes(path("crc.gz"), crc);
  s = readIdx(path("crc.gz"), &out);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.toString();
  EXPECT_NE(s.message().find("corrupt gzip"), std::string::npos) << s.toString();
}

TEST_F(DataIdxTest, RejectsDimensionsThatDoNotMatchTheData) {
  // Header says [3] u8, data holds 2 bytes / 4 bytes.
  std::vector<uint8_t> bytes = header(0x08, {3});
  bytes.insert(bytes.end(), {1, 2});
  writeBytes(path("few"), bytes);
  expectError(path("few"), StatusCode::kDataLoss, "truncated");
  bytes.insert(bytes.end(), {3, 4});
  writeBytes(path("many"), bytes);
  expectError(path("many"), StatusCode::kDataLoss, "wrong dimensions");

  // Dimensions whose product overflows 64 bits are caught before allocating.
  writeBytes(path("overflow"), header(0x0E, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}));
  expectError(path("overflow"), StatusCode::kDataLoss, "overflow");
  // A file claiming 16 GiB from a few bytes is rejected before allocating:
  // raw against its size, gzip against deflate's maximum ratio.
  std::vector<uint8_t> bomb = header(0x08, {0x10000, 0x10000, 4});
  bomb.insert(bomb.end(), {1, 2, 3, 4});
  writeBytes(path("bomb.raw"), bomb);
  expectError(path("bomb.raw"), StatusCode::kDataLoss, "header claims u8 [65536, 65536, 4]");
  gzipBytes(path("bomb.gz"), bomb);
  expectError(path("bomb.gz"), StatusCode::kDataLoss, "bytes compressed");
}

TEST_F(DataIdxTest, MissingFileIsNotFound) {
  expectError(path("absent.gz"), StatusCode::kNotFound, "No such file");
  expectError(dir_, StatusCode::kInvalidArgument, "is a directory, not an IDX file");
}

TEST_F(DataIdxTest, WriterRejectsInconsistentArrays) {
  IdxArray a = makeArray<int32_t>(IdxType::kI32, {3}, {1, 2});
  EXPECT_EQ(writeIdx(path("bad"), a, false).code(), StatusCode::kInvalidArgument);
}

} // namespace
