//===- nvrtc_test.cc - NVRTC loading and compilation ----------------------===//
#include "runtime/cuda/nvrtc.h"

#include "runtime/cuda/test_kernels.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>

namespace dlc::rt::cuda {
namespace {
using namespace testing;

/// The NVRTC under test, or skip the test where CUDA is not installed.
#define DLC_REQUIRE_NVRTC(nvrtc)                                                                   \
  const Nvrtc *nvrtc = nullptr;                                                                    \
  if (Status s = Nvrtc::instance(&nvrtc); !s.ok()) GTEST_SKIP() << s.toString()

NvrtcProgram halfProgram(bool embed) {
  NvrtcProgram p{"dlc_half_scale", kHalfScaleSource, {}, {}, {}};
  const std::string dir = findCudaIncludeDir();
  if (embed)
    EXPECT_TRUE(readCudaHeaders(dir, fp16HeaderNames(), &p.headers).ok());
  else
    p.includeDirs.push_back(dir);
  return p;
}

bool isElf(const std::vector<uint8_t> &b) {
  return b.size() > 64 && std::memcmp(b.data(), "\x7f\x45\x4c\x46", 4) == 0;
}

TEST(Nvrtc, LoadsOnceAndReportsItsVersion) {
  DLC_REQUIRE_NVRTC(nvrtc);
  const Nvrtc *again = nullptr;
  ASSERT_TRUE(Nvrtc::instance(&again).ok());
  EXPECT_EQ(nvrtc, again);
  EXPECT_GE(nvrtc->versionMajor(), 11);
  EXPECT_EQ(nvrtc->version(),
            std::to_string(nvrtc->versionMajor()) + "." + std::to_string(nvrtc->versionMinor()));
  EXPECT_EQ(nvrtc->compilerId().rfind("nvrtc-" + nvrtc->version() + "-", 0), 0u)
      << nvrtc->compilerId();
  EXPECT_FALSE(nvrtc->libraryPath().empty());
  const std::vector<std::string> archs = nvrtc->supportedArchs();
  EXPECT_NE(std::find(archs.begin(), archs.end(), "sm_90"), archs.end());
  EXPECT_NE(std::find(archs.begin(), archs.end(), "sm_80"), archs.end());
}

TEST(Nvrtc, CompilesTheThreeKernelKindsForSm90AndSm80) {
  DLC_REQUIRE_NVRTC(nvrtc);
  ASSERT_FALSE(findCudaIncludeDir().empty());
  const std::vector<NvrtcProgram> programs = {{"dlc_add", kAddSource, {}, {}, {}},
                                              {"dlc_block_sum", kBlockSumSource, {}, {}, {}},
                                              halfProgram(/*embed=*/true),
                                              halfProgram(/*embed=*/false)};
  for (const NvrtcProgram &program : programs) {
    CompiledProgram out;
    Status s = nvrtc->compile(program, {"sm_90", "sm_80"}, &out);
    ASSERT_TRUE(s.ok()) << s.toString();
    ASSERT_EQ(out.images.size(), 2u);
    EXPECT_EQ(out.name, program.name);
    for (const CompiledImage &image : out.images) {
      SCOPED_TRACE(program.name + " " + image.arch);
      EXPECT_NE(image.ptx.find(".entry " + program.name), std::string::npos);
      EXPECT_NE(image.ptx.find(".target " + image.arch), std::string::npos);
      EXPECT_TRUE(isElf(image.cubin));
    }
    EXPECT_EQ(out.find("sm_80"), &out.images[1]);
    EXPECT_EQ(out.find("sm_70"), nullptr);
  }
}

TEST(Nvrtc, ComputeArchGivesPtxOnly) {
  DLC_REQUIRE_NVRTC(nvrtc);
  CompiledImage image;
  ASSERT_TRUE(
      nvrtc->compileForArch({"dlc_add", kAddSource, {}, {}, {}}, "compute_90", &image).ok());
  EXPECT_NE(image.ptx.find(".entry dlc_add"), std::string::npos);
  EXPECT_TRUE(image.cubin.empty());
}

TEST(Nvrtc, SyntaxErrorNamesTheProgramAndCarriesTheLog) {
  DLC_REQUIRE_NVRTC(nvrtc);
  CompiledProgram out;
  Status s = nvrtc->compile({"dlc_broken", kSyntaxErrorSource, {}, {}, {}}, {"sm_90"}, &out);
  ASSERT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'dlc_broken' for sm_90 failed to compile"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("NVRTC_ERROR_COMPILATION"), std::string::npos);
  // The log, with the line after the missing semicolon (line 1 is empty).
  EXPECT_NE(s.message().find("dlc_broken(4): error: expected a \";\""), std::string::npos)
      << s.message();
}

TEST(Nvrtc, MissingHeaderIsACompileError) {
  DLC_REQUIRE_NVRTC(nvrtc);
  CompiledImage image;
  Status s =
      nvrtc->compileForArch({"dlc_half_scale", kHalfScaleSource, {}, {}, {}}, "sm_90", &image);
  ASSERT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("cuda_fp16.h"), std::string::npos) << s.message();
}

TEST(Nvrtc, RejectsBadArchitecturesAndOptions) {
  DLC_REQUIRE_NVRTC(nvrtc);
  const NvrtcProgram add{"dlc_add", kAddSource, {}, {}, {}};
  CompiledImage image;
  for (const char *arch : {"sm90", "sm_", "sm_9x", "", "compute_"}) {
    Status s = nvrtc->compileForArch(add, arch, &image);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << arch;
  }
  Status s = nvrtc->compileForArch(add, "sm_12", &image); // well-formed, unsupported
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.toString();
  NvrtcProgram badOption = add;
  badOption.options.push_back("--no-such-option");
  s = nvrtc->compileForArch(badOption, "sm_90", &image);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.toString();
  EXPECT_NE(s.message().find("dlc_add"), std::string::npos);
}

TEST(Nvrtc, BatchCompilesEveryProgramAndReportsEachFailure) {
  DLC_REQUIRE_NVRTC(nvrtc);
  std::vector<NvrtcProgram> programs;
  for (int i = 0; i < 6; ++i) {
    std::string source = kAddSource;
    source.replace(source.find("dlc_add"), 7, "dlc_add" + std::to_string(i));
    programs.push_back({"dlc_add" + std::to_string(i), source, {}, {}, {}});
  }
  std::vector<CompiledProgram> out;
  std::vector<Status> failures;
  Status s = nvrtc->compileBatch(programs, {"sm_90", "sm_80"}, 2, &out, &failures);
  ASSERT_TRUE(s.ok()) << s.toString();
  ASSERT_EQ(out.size(), 6u);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].name, programs[i].name);
    ASSERT_EQ(out[i].images.size(), 2u);
    EXPECT_NE(out[i].images[1].ptx.find(".entry " + programs[i].name), std::string::npos);
    EXPECT_TRUE(failures[i].ok());
  }

  programs[2] = {"dlc_broken", kSyntaxErrorSource, {}, {}, {}};
  s = nvrtc->compileBatch(programs, {"sm_90"}, 2, &out, &failures);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("'dlc_broken'"), std::string::npos);
  EXPECT_FALSE(failures[2].ok());
  EXPECT_TRUE(failures[3].ok());
  EXPECT_FALSE(out[3].images[0].cubin.empty()); // the others still compiled

  programs[4] = {"dlc_broken_too", kSyntaxErrorSource, {}, {}, {}};
  s = nvrtc->compileBatch(programs, {"sm_90"}, 1, &out, &failures);
  EXPECT_NE(s.message().find("2 of 6 programs failed; the first: "), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("'dlc_broken'"), std::string::npos);
}

TEST(Nvrtc, ParallelForRunsEveryIndexOnce) {
  for (int threads : {0, 1, 2, 7}) {
    std::vector<std::atomic<int>> hits(100);
    parallelFor(hits.size(), threads, [&](size_t i) { ++hits[i]; });
    for (auto &h : hits) EXPECT_EQ(h.load(), 1);
  }
  parallelFor(0, 4, [](size_t) { ADD_FAILURE(); });
}

TEST(Nvrtc, ReadCudaHeadersNamesAMissingFile) {
  std::vector<NvrtcHeader> headers;
  Status s = readCudaHeaders("/nonexistent-dir", {"cuda_fp16.h"}, &headers);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("cuda_fp16.h"), std::string::npos);
  EXPECT_TRUE(headers.empty());
}

} // namespace
} // namespace dlc::rt::cuda
