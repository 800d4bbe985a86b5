//===- cubin_info_test.cc - Resource reports from CUBINs ------------------===//
#include "runtime/cuda/cubin_info.h"

#include "runtime/cuda/nvrtc.h"
#include "runtime/cuda/test_kernels.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

#include <unistd.h>

namespace dlc::rt::cuda {
namespace {
using namespace testing;

constexpr const char *kPtxas = "/usr/local/cuda/bin/ptxas";

#define DLC_REQUIRE_NVRTC(nvrtc)                                                                   \
  const Nvrtc *nvrtc = nullptr;                                                                    \
  if (Status s = Nvrtc::instance(&nvrtc); !s.ok()) GTEST_SKIP() << s.toString()

struct Case {
  const char *name, *source;
  bool fp16;
};
const Case kCases[] = {{"dlc_add", kAddSource, false},
                       {"dlc_block_sum", kBlockSumSource, false},
                       {"dlc_half_scale", kHalfScaleSource, true},
                       {"dlc_local", kLocalArraySource, false}};

NvrtcProgram program(const Case &c, std::vector<std::string> options = {"--ptxas-options=-v"}) {
  NvrtcProgram p{c.name, c.source, {}, {}, std::move(options)};
  if (c.fp16)
    EXPECT_TRUE(readCudaHeaders(findCudaIncludeDir(), fp16HeaderNames(), &p.headers).ok());
  return p;
}

CompiledImage compileOrDie(const Nvrtc &nvrtc, const NvrtcProgram &p, const std::string &arch) {
  CompiledImage image;
  Status s = nvrtc.compileForArch(p, arch, &image);
  EXPECT_TRUE(s.ok()) << s.toString();
  return image;
}

/// Runs `ptxas -arch=<arch> -v` on |ptx|; returns its report.
std::string runPtxas(const std::string &ptx, const std::string &arch) {
  char dir[] = "/tmp/dlc_cubin_info_XXXXXX";
  if (!::mkdtemp(dir)) return "";
  const std::string base = dir;
  std::ofstream(base + "/k.ptx") << ptx;
  const std::string cmd = std::string(kPtxas) + " -arch=" + arch + " -v " + base + "/k.ptx -o " +
                          base + "/k.cubin 2>&1";
  std::string report;
  if (FILE *pipe = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) report.append(buf, n);
    ::pclose(pipe);
  }
  std::remove((base + "/k.ptx").c_str());
  std::remove((base + "/k.cubin").c_str());
  ::rmdir(dir);
  return report;
}

TEST(CubinInfo, ReportsWhatPtxasReports) {
  DLC_REQUIRE_NVRTC(nvrtc);
  const bool havePtxas = ::access(kPtxas, X_OK) == 0;
  for (const char *arch : {"sm_90", "sm_80"})
    for (const Case &c : kCases) {
      SCOPED_TRACE(std::string(c.name) + " " + arch);
      const CompiledImage image = compileOrDie(*nvrtc, program(c), arch);
      CubinInfo info;
      Status s = parseCubin(image.cubin.data(), image.cubin.size(), &info);
      ASSERT_TRUE(s.ok()) << s.toString();
      EXPECT_EQ("sm_" + std::to_string(info.smVersion), arch);
      ASSERT_EQ(info.kernels.size(), 1u); // `pick` is a device function, not a kernel
      const KernelResources &k = info.kernels[0];
      EXPECT_EQ(k.name, c.name);
      EXPECT_EQ(info.find(c.name), &k);

      // NVRTC's own ptxas report (--ptxas-options=-v).
      const std::vector<PtxasKernelReport> reports = parsePtxasLog(image.log);
      const PtxasKernelReport *r = nullptr;
      for (const PtxasKernelReport &x : reports)
        if (x.name == c.name) r = &x;
      ASSERT_NE(r, nullptr) << image.log;
      EXPECT_EQ(r->arch, arch);
      EXPECT_GT(k.registers, 0);
      EXPECT_EQ(k.registers, r->registers);
      EXPECT_EQ(k.sharedBytes, r->sharedBytes);
      EXPECT_EQ(k.frameBytes, r->stackFrameBytes);
      EXPECT_EQ(k.stackBytes, std::max(r->cumulativeStackBytes, r->stackFrameBytes));
      EXPECT_EQ(k.spillInstructions, 0u);
      EXPECT_EQ(r->spillStoreBytes, 0);

      // The standalone ptxas on the same PTX.
      if (havePtxas) {
        const std::string report = runPtxas(image.ptx, arch);
        const std::vector<PtxasKernelReport> standalone = parsePtxasLog(report);
        ASSERT_FALSE(standalone.empty()) << report;
        EXPECT_EQ(standalone[0].name, c.name);
        EXPECT_EQ(k.registers, standalone[0].registers) << report;
        EXPECT_EQ(k.sharedBytes, standalone[0].sharedBytes) << report;
      }
    }
}

TEST(CubinInfo, SharedMemoryAndKernelAttributes) {
  DLC_REQUIRE_NVRTC(nvrtc);
  for (const char *arch : {"sm_90", "sm_80"}) {
    SCOPED_TRACE(arch);
    CubinInfo sum, local;
    CompiledImage image = compileOrDie(*nvrtc, program(kCases[1]), arch);
    ASSERT_TRUE(parseCubin(image.cubin.data(), image.cubin.size(), &sum).ok());
    EXPECT_EQ(sum.kernels[0].sharedBytes, 1024u);
    // sm_90+ sections carry the 1 KiB reserved prefix; sm_80 ones do not.
    EXPECT_EQ(sum.kernels[0].reservedSharedBytes, std::string(arch) == "sm_90" ? 1024u : 0u);
    EXPECT_EQ(sum.kernels[0].sharedSectionBytes, 1024u + sum.kernels[0].reservedSharedBytes);
    EXPECT_EQ(sum.kernels[0].paramBytes, 20u); // two pointers, an int, padding
    EXPECT_EQ(sum.kernels[0].maxRegisters, 255);
    EXPECT_EQ(sum.kernels[0].barriers, 1);

    image = compileOrDie(*nvrtc, program(kCases[3]), arch);
    ASSERT_TRUE(parseCubin(image.cubin.data(), image.cubin.size(), &local).ok());
    const KernelResources &k = local.kernels[0];
    EXPECT_EQ(k.maxThreads[0], 128u);
    EXPECT_EQ(k.maxThreads[1], 1u);
    EXPECT_GT(k.frameBytes, 0u);           // b[32] lives on the stack
    EXPECT_GE(k.stackBytes, k.frameBytes); // cumulative, with pick's
    EXPECT_EQ(k.spillInstructions, 0u);    // a local array is not a spill
  }
}

TEST(CubinInfo, CountsSpills) {
  DLC_REQUIRE_NVRTC(nvrtc);
  const Case spill{"dlc_spill", kSpillSource, false};
  for (const char *arch : {"sm_90", "sm_80"}) {
    SCOPED_TRACE(arch);
    const CompiledImage image =
        compileOrDie(*nvrtc, program(spill, {"--ptxas-options=-v", "--maxrregcount=24"}), arch);
    CubinInfo info;
    ASSERT_TRUE(parseCubin(image.cubin.data(), image.cubin.size(), &info).ok());
    KernelResources &k = info.kernels[0];
    EXPECT_EQ(k.registers, 24);
    EXPECT_EQ(k.maxRegisters, 24);
    EXPECT_EQ(k.spillStoreBytes, -1); // not in the cubin...
    mergePtxasLog(image.log, &info);  // ...but in the log
    ASSERT_GT(k.spillStoreBytes, 0) << image.log;
    ASSERT_GT(k.spillLoadBytes, 0);
    // One entry per spill instruction, each moving 4 to 16 bytes (here all
    // but a few are 4-byte floats).
    const int64_t bytes = k.spillStoreBytes + k.spillLoadBytes;
    EXPECT_GT(k.spillInstructions, 0u);
    EXPECT_LE(4 * int64_t{k.spillInstructions}, bytes) << image.log;
    EXPECT_GE(16 * int64_t{k.spillInstructions}, bytes) << image.log;
    EXPECT_GE(k.frameBytes, k.spillStoreBytes / 4);
  }
}

TEST(CubinInfo, ParsesPtxasCommandLineFormat) {
  const std::string report = R"(ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'caller' for 'sm_80'
ptxas info    : Function properties for caller
    64 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads
ptxas info    : Used 32 registers, used 0 barriers, 64 bytes cumulative stack size, 100 bytes smem, 364 bytes cmem[0]
ptxas info    : Function properties for _Z6helperPfi
    16 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
)";
  const std::vector<PtxasKernelReport> r = parsePtxasLog(report);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].name, "caller");
  EXPECT_EQ(r[0].arch, "sm_80");
  EXPECT_EQ(r[0].registers, 32);
  EXPECT_EQ(r[0].stackFrameBytes, 64);
  EXPECT_EQ(r[0].spillStoreBytes, 8);
  EXPECT_EQ(r[0].spillLoadBytes, 12);
  EXPECT_EQ(r[0].sharedBytes, 100);
  EXPECT_EQ(r[0].cumulativeStackBytes, 64);
  EXPECT_EQ(r[1].name, "_Z6helperPfi");
  EXPECT_EQ(r[1].stackFrameBytes, 16);
  EXPECT_EQ(r[1].registers, -1);
  EXPECT_TRUE(parsePtxasLog("garbage\n'\n Used registers\nFunction properties for \n").empty());
}

// --- Malformed input: read from bundles, so never trusted --------------------

std::vector<uint8_t> sampleCubin() {
  const Nvrtc *nvrtc = nullptr;
  if (!Nvrtc::instance(&nvrtc).ok()) return {};
  return compileOrDie(*nvrtc, program(kCases[1], {}), "sm_90").cubin;
}

void put32(std::vector<uint8_t> &b, size_t at, uint32_t v) { std::memcpy(&b[at], &v, 4); }
void put64(std::vector<uint8_t> &b, size_t at, uint64_t v) { std::memcpy(&b[at], &v, 8); }
uint64_t get64(const std::vector<uint8_t> &b, size_t at) {
  uint64_t v;
  std::memcpy(&v, &b[at], 8);
  return v;
}

void expectRejectedOrParsed(const std::vector<uint8_t> &bytes) {
  CubinInfo info;
  Status s = parseCubin(bytes.data(), bytes.size(), &info);
  if (!s.ok()) {
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.toString();
    EXPECT_NE(s.message().find("not a valid CUBIN"), std::string::npos);
  }
}

TEST(CubinInfo, RejectsEveryTruncation) {
  const std::vector<uint8_t> cubin = sampleCubin();
  if (cubin.empty()) GTEST_SKIP() << "no NVRTC";
  for (size_t n = 0; n < cubin.size(); ++n) {
    std::vector<uint8_t> cut(cubin.begin(), cubin.begin() + n);
    CubinInfo info;
    // The program headers sit at the end of the file: every cut loses them.
    EXPECT_EQ(parseCubin(cut.data(), cut.size(), &info).code(), StatusCode::kDataLoss) << n;
  }
  CubinInfo info;
  EXPECT_TRUE(parseCubin(cubin.data(), cubin.size(), &info).ok());
  EXPECT_EQ(parseCubin(nullptr, 0, &info).code(), StatusCode::kDataLoss);
}

TEST(CubinInfo, SurvivesRandomCorruption) {
  const std::vector<uint8_t> cubin = sampleCubin();
  if (cubin.empty()) GTEST_SKIP() << "no NVRTC";
  std::mt19937_64 rng(12345);
  const size_t shoff = get64(cubin, 0x28);
  ASSERT_LT(shoff, cubin.size());
  int rejected = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::vector<uint8_t> bytes = cubin;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) {
      // Most flips hit the ELF header, the section headers (where the
      // offsets live) or the .nv.info attributes; the rest land anywhere.
      const int where = static_cast<int>(rng() % 3);
      const size_t at = where == 0   ? rng() % 64
                        : where == 1 ? shoff + rng() % (bytes.size() - shoff)
                                     : rng() % bytes.size();
      bytes[at] = static_cast<uint8_t>(rng());
    }
    CubinInfo info;
    rejected += !parseCubin(bytes.data(), bytes.size(), &info).ok();
    expectRejectedOrParsed(bytes);
  }
  EXPECT_GT(rejected, 1000);
}

TEST(CubinInfo, RejectsCraftedHeaders) {
  const std::vector<uint8_t> cubin = sampleCubin();
  if (cubin.empty()) GTEST_SKIP() << "no NVRTC";
  const uint64_t shoff = get64(cubin, 0x28);
  uint16_t shnum;
  std::memcpy(&shnum, &cubin[0x3c], 2);
  auto expectLoss = [](std::vector<uint8_t> b, const char *why) {
    CubinInfo info;
    Status s = parseCubin(b.data(), b.size(), &info);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << why;
    EXPECT_NE(s.message().find(why), std::string::npos) << s.message();
  };
  std::vector<uint8_t> b = cubin;
  put64(b, 0x28, ~uint64_t{0} - 8); // shoff near 2^64: must not wrap
  expectLoss(b, "section headers outside the file");
  b = cubin;
  b[18] = 62; // EM_X86_64
  expectLoss(b, "EM_CUDA");
  b = cubin;
  b[4] = 1; // ELFCLASS32
  expectLoss(b, "ELF64");
  b = cubin;
  b[0x3a] = 8; // shentsize
  expectLoss(b, "smaller than Elf64_Shdr");
  b = cubin;
  b[0x3e] = static_cast<uint8_t>(shnum), b[0x3f] = static_cast<uint8_t>(shnum >> 8);
  expectLoss(b, "index out of range");
  for (uint16_t i = 1; i < shnum; ++i) { // each section in turn: size past the end
    b = cubin;
    const size_t h = shoff + 64u * i;
    uint32_t type;
    std::memcpy(&type, &b[h + 4], 4);
    if (type == 8) continue; // NOBITS occupies no file space
    put64(b, h + 32, ~uint64_t{0});
    expectLoss(b, "extends past the end");
    b = cubin;
    put32(b, h, 0xfffffff0u); // name offset outside the name table
    expectLoss(b, "no valid name");
    b = cubin;
    put64(b, h + 56, 0); // entsize 0: matters for the symbol table only
    expectRejectedOrParsed(b);
  }
}

} // namespace
} // namespace dlc::rt::cuda
