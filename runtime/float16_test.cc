//===- float16_test.cc - The host's 16-bit float conversions --------------===//
//
// Every f16 and bf16 value round-trips; every midpoint between neighbours
// rounds to the even one; overflow, subnormals and NaN behave as IEEE 754
// says. Known bit patterns pin the formats themselves.
//
//===----------------------------------------------------------------------===//
#include "runtime/float16.h"
#include "runtime/cpu/elementwise.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

namespace dlc::rt {
namespace {

struct Format {
  const char *name;
  uint16_t (*narrow)(double);
  float (*widen)(uint16_t);
  uint16_t infinity;
};

const Format kFormats[] = {{"f16", toF16Bits, fromF16Bits, 0x7C00},
                           {"bf16", toBF16Bits, fromBF16Bits, 0x7F80}};

TEST(Float16, KnownValues) {
  EXPECT_EQ(toF16Bits(1.0), 0x3C00);
  EXPECT_EQ(toF16Bits(-2.0), 0xC000);
  EXPECT_EQ(toF16Bits(65504.0), 0x7BFF);         // the largest f16
  EXPECT_EQ(toF16Bits(65519.99), 0x7BFF);        // below the midpoint to 2^16
  EXPECT_EQ(toF16Bits(65520.0), 0x7C00);         // the midpoint rounds to even: infinity
  EXPECT_EQ(toF16Bits(std::ldexp(1.0, -24)), 0x0001); // the smallest subnormal
  EXPECT_EQ(toF16Bits(std::ldexp(1.0, -25)), 0x0000); // half of it: ties to even (zero)
  EXPECT_EQ(toF16Bits(std::ldexp(1.5, -25)), 0x0001);
  EXPECT_EQ(toF16Bits(-0.0), 0x8000);
  EXPECT_EQ(toF16Bits(0.1), 0x2E66);
  EXPECT_EQ(toBF16Bits(1.0), 0x3F80);
  EXPECT_EQ(toBF16Bits(1.0 + 1.0 / 256), 0x3F80); // a tie: to even
  EXPECT_EQ(toBF16Bits(1.0 + 3.0 / 256), 0x3F82);
  EXPECT_EQ(toBF16Bits(0.1), 0x3DCD);
  EXPECT_EQ(toBF16Bits(3.4e38), 0x7F80);          // beyond the largest bf16 (~3.39e38)
  EXPECT_FLOAT_EQ(fromF16Bits(0x3555), 0.333251953125f);
  EXPECT_EQ(fromBF16Bits(0xC049), -3.140625f);
}

TEST(Float16, EveryValueRoundTripsAndMidpointsRoundToEven) {
  for (const Format &f : kFormats) {
    SCOPED_TRACE(f.name);
    int checked = 0;
    for (uint32_t bits = 0; bits < 0x10000; ++bits) {
      const uint16_t h = uint16_t(bits);
      const float value = f.widen(h);
      if (std::isnan(value)) {
        EXPECT_TRUE(std::isnan(f.widen(f.narrow(value)))) << std::hex << bits;
        continue;
      }
      ASSERT_EQ(f.narrow(value), h) << std::hex << bits;
      // The midpoint to the next value up in magnitude (not from the largest
      // finite value, nor from infinity).
      const uint16_t next = uint16_t(h + 1);
      if ((h & 0x7FFF) >= f.infinity - 1)
        continue;
      const double mid = (double(value) + double(f.widen(next))) / 2;
      const uint16_t even = (h & 1) ? next : h;
      EXPECT_EQ(f.narrow(mid), even) << std::hex << bits;
      EXPECT_EQ(f.narrow(std::nextafter(mid, 0.0)), h) << std::hex << bits;
      EXPECT_EQ(f.narrow(std::nextafter(mid, 2 * mid)), next) << std::hex << bits;
      ++checked;
    }
    EXPECT_GT(checked, 60000);
    EXPECT_EQ(f.narrow(INFINITY), f.infinity);
    EXPECT_EQ(f.narrow(-INFINITY), f.infinity | 0x8000);
    EXPECT_TRUE(std::isnan(f.widen(f.narrow(NAN))));
  }
}

TEST(Float16, ElementsLoadAndStoreByDType) {
  float f32[1];
  uint16_t half[1];
  int64_t i64[1];
  storeElement(DType::kF32, f32, 0, 0.1);
  EXPECT_EQ(f32[0], 0.1f);
  storeElement(DType::kBF16, half, 0, 0.1);
  EXPECT_EQ(half[0], 0x3DCD);
  EXPECT_EQ(loadElement(DType::kBF16, half, 0), double(fromBF16Bits(0x3DCD)));
  storeElement(DType::kI64, i64, 0, 42);
  EXPECT_EQ(loadElement(DType::kI64, i64, 0), 42.0);
}

/// The float fast paths round as the double ones do: every 61st bit pattern
/// (all exponents, many fractions) and the boundaries between the cases.
TEST(Float16, FloatConversionsRoundAsDoubleOnes) {
  auto check = [](uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    ASSERT_EQ(floatToBF16Bits(f), toBF16Bits(double(f))) << std::hex << bits;
    ASSERT_EQ(floatToF16Bits(f), toF16Bits(double(f))) << std::hex << bits;
  };
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 61)
    check(uint32_t(bits));
  for (uint32_t edge : {0x477FF000u, 0x38800000u, 0x33000000u, 0x7F800000u, 0x7F7FFFFFu,
                        0x00000001u, 0x3F808000u, 0x3F818000u, 0x387FF000u, 0x33800000u})
    for (uint32_t sign : {0u, 0x80000000u})
      for (int d = -3; d <= 3; ++d)
        check((edge + uint32_t(d)) ^ sign);
}

/// The CPU's bulk conversions (F16C for f16, vectorised integer code for
/// bf16) give the scalar functions' bits for every pattern, NaNs included,
/// in the vector body and in the tail.
TEST(Float16, BulkConversionsMatchScalarOnes) {
  std::vector<float> floats;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 4099) {
    float f;
    uint32_t b = uint32_t(bits);
    std::memcpy(&f, &b, sizeof f);
    floats.push_back(f);
  }
  floats.push_back(65520.0f);
  floats.push_back(-std::ldexp(1.0f, -25)); // 1 + 8k + 3: a tail of three
  for (DType type : {DType::kF16, DType::kBF16}) {
    const int64_t n = int64_t(floats.size());
    std::vector<uint16_t> narrow(floats.size());
    cpu::convertFloats(TensorView{floats.data(), DType::kF32, {n}}, TensorView{narrow.data(), type, {n}});
    for (size_t i = 0; i < floats.size(); ++i)
      ASSERT_EQ(narrow[i], type == DType::kF16 ? floatToF16Bits(floats[i]) : floatToBF16Bits(floats[i]))
          << "element " << i;
    std::vector<float> rounded(floats.size());
    cpu::roundFloats(TensorView{floats.data(), DType::kF32, {n}}, type,
                     TensorView{rounded.data(), DType::kF32, {n}});
    for (size_t i = 0; i < floats.size(); ++i) {
      float want = type == DType::kF16 ? fromF16Bits(floatToF16Bits(floats[i]))
                                       : fromBF16Bits(floatToBF16Bits(floats[i]));
      ASSERT_EQ(std::memcmp(&rounded[i], &want, sizeof want), 0) << "rounded element " << i;
    }
    std::vector<uint16_t> all(65536 + 5);
    for (size_t i = 0; i < all.size(); ++i)
      all[i] = uint16_t(i);
    std::vector<float> wide(all.size());
    cpu::convertFloats(TensorView{all.data(), type, {int64_t(all.size())}},
                       TensorView{wide.data(), DType::kF32, {int64_t(all.size())}});
    for (size_t i = 0; i < all.size(); ++i) {
      float want = type == DType::kF16 ? fromF16Bits(all[i]) : fromBF16Bits(all[i]);
      ASSERT_EQ(std::memcmp(&wide[i], &want, sizeof want), 0) << "pattern " << i;
    }
  }
}

} // namespace
} // namespace dlc::rt
