//===- kernel_cache_test.cc - The on-disk kernel cache --------------------===//
#include "runtime/cuda/kernel_cache.h"

#include "runtime/cuda/sha256.h"
#include "runtime/cuda/test_kernels.h"
#include "runtime/file_io.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

namespace dlc::rt::cuda {
namespace {
using namespace testing;

/// A fresh directory under /tmp, removed with its files afterwards.
class TempDir {
public:
  TempDir() {
    char dir[] = "/tmp/dlc_kernel_cache_XXXXXX";
    path_ = ::mkdtemp(dir) ? dir : "";
  }
  ~TempDir() {
    if (!path_.empty()) std::system(("rm -rf '" + path_ + "'").c_str());
  }
  const std::string &path() const { return path_; }

private:
  std::string path_;
};

bool exists(const std::string &path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

CompiledImage sampleImage() {
  CompiledImage image;
  image.arch = "sm_90";
  image.ptx = ".version 9.0\n.target sm_90\n";
  image.cubin = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0x41, 8, 0, 0, 0};
  image.log = "ptxas info: Used 12 registers";
  return image;
}

bool sameImage(const CompiledImage &a, const CompiledImage &b) {
  return a.arch == b.arch && a.ptx == b.ptx && a.cubin == b.cubin && a.log == b.log;
}

TEST(Sha256, KnownAnswers) {
  auto hex = [](const std::string &s) {
    Sha256 h;
    h.update(s.data(), s.size());
    return toHex(h.finish());
  };
  EXPECT_EQ(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  Sha256 pieces; // split across block boundaries
  const std::string text(200, 'x');
  for (size_t i = 0; i < text.size(); i += 7)
    pieces.update(text.data() + i, std::min<size_t>(7, text.size() - i));
  EXPECT_EQ(toHex(pieces.finish()), hex(text));
}

TEST(KernelCache, KeyCoversEveryInput) {
  const NvrtcProgram base{"k", kAddSource, {{"h.h", "int x;"}}, {"/inc"}, {"--use_fast_math"}};
  const std::string k = KernelCache::key(base, "sm_90", "nvrtc-13.0-1");
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(k, KernelCache::key(base, "sm_90", "nvrtc-13.0-1"));
  std::vector<std::string> keys = {k, KernelCache::key(base, "sm_80", "nvrtc-13.0-1"),
                                   KernelCache::key(base, "sm_90", "nvrtc-13.1-1")};
  NvrtcProgram p = base;
  p.name = "k2";
  keys.push_back(KernelCache::key(p, "sm_90", "nvrtc-13.0-1"));
  p = base;
  p.source += " ";
  keys.push_back(KernelCache::key(p, "sm_90", "nvrtc-13.0-1"));
  p = base;
  p.headers[0].contents = "int y;";
  keys.push_back(KernelCache::key(p, "sm_90", "nvrtc-13.0-1"));
  p = base;
  p.includeDirs.clear();
  keys.push_back(KernelCache::key(p, "sm_90", "nvrtc-13.0-1"));
  p = base;
  p.options.push_back("-lineinfo");
  keys.push_back(KernelCache::key(p, "sm_90", "nvrtc-13.0-1"));
  p = base; // the same strings in another field
  p.options = p.includeDirs;
  p.includeDirs = {"--use_fast_math"};
  keys.push_back(KernelCache::key(p, "sm_90", "nvrtc-13.0-1"));
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(std::unique(keys.begin(), keys.end()), keys.end());
}

TEST(KernelCache, StoresAndLoads) {
  TempDir dir;
  KernelCache cache(dir.path() + "/nested/cache/"); // created on first store
  const std::string key(64, 'a');
  CompiledImage out;
  EXPECT_EQ(cache.load(key, &out).code(), StatusCode::kNotFound);
  ASSERT_TRUE(cache.store(key, sampleImage()).ok());
  EXPECT_TRUE(exists(dir.path() + "/nested/cache/" + key + ".kernel"));
  ASSERT_TRUE(cache.load(key, &out).ok());
  EXPECT_TRUE(sameImage(out, sampleImage()));
  EXPECT_EQ(cache.load("../etc/passwd", &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cache.store(std::string(64, 'G'), out).code(), StatusCode::kInvalidArgument);
}

TEST(KernelCache, DetectsAndRemovesCorruptedEntries) {
  TempDir dir;
  KernelCache cache(dir.path());
  const std::string key(64, 'b'), other(64, 'c');
  ASSERT_TRUE(cache.store(key, sampleImage()).ok());
  std::vector<uint8_t> good;
  ASSERT_TRUE(readFile(cache.entryPath(key), &good, uint64_t(1) << 30).ok());

  auto expectCorrupt = [&](std::vector<uint8_t> bytes, const char *why) {
    ASSERT_TRUE(writeFileAtomically(cache.entryPath(key), {{bytes.data(), bytes.size()}}).ok());
    CompiledImage out;
    Status s = cache.load(key, &out);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << why;
    EXPECT_NE(s.message().find(why), std::string::npos) << s.message();
    EXPECT_FALSE(exists(cache.entryPath(key))); // removed
  };
  for (size_t at = 0; at < good.size(); ++at) { // every single-byte flip is caught
    std::vector<uint8_t> bytes = good;
    bytes[at] ^= 0x20;
    ASSERT_TRUE(writeFileAtomically(cache.entryPath(key), {{bytes.data(), bytes.size()}}).ok());
    CompiledImage out;
    EXPECT_EQ(cache.load(key, &out).code(), StatusCode::kDataLoss) << at;
  }
  for (size_t n : {size_t{0}, size_t{10}, good.size() - 1})
    expectCorrupt(std::vector<uint8_t>(good.begin(), good.begin() + n), "corrupted kernel cache");
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  expectCorrupt(longer, "trailing bytes");
  std::vector<uint8_t> payload = good;
  payload.back() ^= 1;
  expectCorrupt(payload, "checksum mismatch");
  std::vector<uint8_t> sizes = good;
  sizes[40 + 8 * 2 + 7] = 0x80; // cubin size ~2^63
  expectCorrupt(sizes, "field sizes exceed the file");
  // A valid entry under the wrong name (a copied or renamed file).
  ASSERT_TRUE(cache.store(other, sampleImage()).ok());
  std::vector<uint8_t> otherBytes;
  ASSERT_TRUE(readFile(cache.entryPath(other), &otherBytes, uint64_t(1) << 30).ok());
  expectCorrupt(otherBytes, "another key");
}

TEST(KernelCache, DefaultDirectory) {
  const char *saved = std::getenv("DLC_CACHE_DIR");
  const std::string restore = saved ? saved : "";
  ::setenv("DLC_CACHE_DIR", "/some/where", 1);
  EXPECT_EQ(KernelCache::defaultDirectory(), "/some/where");
  ::unsetenv("DLC_CACHE_DIR");
  if (const char *home = std::getenv("HOME"))
    EXPECT_EQ(KernelCache::defaultDirectory(), std::string(home) + "/.cache/dlc/kernels");
  if (saved) ::setenv("DLC_CACHE_DIR", restore.c_str(), 1);
}

TEST(KernelCache, CompilesThroughTheCache) {
  const Nvrtc *nvrtc = nullptr;
  if (Status s = Nvrtc::instance(&nvrtc); !s.ok()) GTEST_SKIP() << s.toString();
  TempDir dir;
  const std::vector<NvrtcProgram> programs = {{"dlc_add", kAddSource, {}, {}, {}},
                                              {"dlc_block_sum", kBlockSumSource, {}, {}, {}}};
  const std::vector<std::string> archs = {"sm_90", "sm_80"};
  std::vector<CompiledProgram> cold, warm, again;
  {
    KernelCache cache(dir.path());
    ASSERT_TRUE(cache.compileBatch(*nvrtc, programs, archs, 2, &cold).ok());
    const KernelCacheStats s = cache.stats();
    EXPECT_EQ(s.misses, 4u);
    EXPECT_EQ(s.stores, 4u);
    EXPECT_EQ(s.hits, 0u);
  }
  KernelCache cache(dir.path()); // a later process
  ASSERT_TRUE(cache.compileBatch(*nvrtc, programs, archs, 2, &warm).ok());
  EXPECT_EQ(cache.stats().hits, 4u);
  EXPECT_EQ(cache.stats().misses, 0u);
  for (size_t p = 0; p < programs.size(); ++p)
    for (size_t a = 0; a < archs.size(); ++a)
      EXPECT_TRUE(sameImage(cold[p].images[a], warm[p].images[a]));

  // Corrupt one entry: detected, recompiled, rewritten.
  const std::string key = KernelCache::key(programs[1], "sm_80", nvrtc->compilerId());
  std::ofstream(cache.entryPath(key), std::ios::binary | std::ios::in | std::ios::out)
      .seekp(200)
      .put('\xff');
  ASSERT_TRUE(cache.compileBatch(*nvrtc, programs, archs, 1, &again).ok());
  EXPECT_EQ(cache.stats().corrupt, 1u);
  EXPECT_EQ(cache.stats().hits, 7u);
  EXPECT_TRUE(sameImage(again[1].images[1], cold[1].images[1]));
  CompiledImage reread;
  EXPECT_TRUE(cache.load(key, &reread).ok());

  // Compile errors are reported, not cached.
  CompiledProgram broken;
  Status s =
      cache.compile(*nvrtc, {"dlc_broken", kSyntaxErrorSource, {}, {}, {}}, {"sm_90"}, &broken);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(exists(cache.entryPath(KernelCache::key(
      {"dlc_broken", kSyntaxErrorSource, {}, {}, {}}, "sm_90", nvrtc->compilerId()))));
}

TEST(KernelCache, AnUnwritableCacheDoesNotFailTheCompile) {
  const Nvrtc *nvrtc = nullptr;
  if (Status s = Nvrtc::instance(&nvrtc); !s.ok()) GTEST_SKIP() << s.toString();
  TempDir dir;
  const std::string file = dir.path() + "/not-a-directory";
  std::ofstream(file) << "x";
  KernelCache cache(file + "/cache");
  CompiledProgram out;
  ASSERT_TRUE(cache.compile(*nvrtc, {"dlc_add", kAddSource, {}, {}, {}}, {"sm_90"}, &out).ok());
  EXPECT_FALSE(out.images[0].cubin.empty());
  EXPECT_EQ(cache.stats().storeFailures, 1u);

  KernelCache disabled("");
  ASSERT_TRUE(disabled.compile(*nvrtc, {"dlc_add", kAddSource, {}, {}, {}}, {"sm_90"}, &out).ok());
  EXPECT_EQ(disabled.stats().misses, 1u);
}

} // namespace
} // namespace dlc::rt::cuda
