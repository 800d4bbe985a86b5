//===- tensorboard_test.cc - TFRecord framing of event files --------------===//
#include "runtime/tensorboard.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace {

TEST(TensorBoardTest, Crc32cCheckValues) {
  // The Castagnoli CRC's check value (RFC 3720, B.4) and an iSCSI vector.
  EXPECT_EQ(dlc::rt::crc32c("123456789", 9), 0xe3069283u);
  unsigned char zeros[32] = {};
  EXPECT_EQ(dlc::rt::crc32c(zeros, sizeof zeros), 0x8a9136aau);
}

TEST(TensorBoardTest, RecordsAreFramedAndChecksummed) {
  std::string dir = ::testing::TempDir() + "/dlc-tensorboard-test";
  std::filesystem::remove_all(dir);
  std::unique_ptr<dlc::rt::EventWriter> writer;
  ASSERT_TRUE(dlc::rt::EventWriter::open(dir + "/train", &writer).ok());
  ASSERT_TRUE(writer->write(3, {{"epoch_loss", 0.5}}).ok());
  std::ifstream in(writer->path(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Two records (the file version, then the summary), each length, masked
  // CRC of the length, data, masked CRC of the data.
  size_t at = 0, records = 0;
  auto masked = [](uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; };
  while (at < bytes.size()) {
    ASSERT_LE(at + 12, bytes.size());
    uint64_t length;
    uint32_t lengthCrc, dataCrc;
    std::memcpy(&length, bytes.data() + at, 8);
    std::memcpy(&lengthCrc, bytes.data() + at + 8, 4);
    EXPECT_EQ(lengthCrc, masked(dlc::rt::crc32c(bytes.data() + at, 8)));
    ASSERT_LE(at + 16 + length, bytes.size());
    std::memcpy(&dataCrc, bytes.data() + at + 12 + length, 4);
    EXPECT_EQ(dataCrc, masked(dlc::rt::crc32c(bytes.data() + at + 12, length)));
    at += 16 + length;
    ++records;
  }
  EXPECT_EQ(records, 2u);
  EXPECT_NE(bytes.find("brain.Event:2"), std::string::npos);
  EXPECT_NE(bytes.find("epoch_loss"), std::string::npos);
  std::filesystem::remove_all(dir);
}

} // namespace
