//===- kernel_cache.cc - On-disk cache of NVRTC output --------------------===//
#include "runtime/cuda/kernel_cache.h"

#include "runtime/cuda/sha256.h"
#include "runtime/file_io.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <sys/stat.h>
#include <unistd.h>

namespace dlc::rt::cuda {
namespace {

constexpr char kMagic[8] = {'D', 'L', 'C', 'K', 'E', 'R', 'N', '1'};
constexpr size_t kHeaderSize = 8 + 32 + 4 * 8 + 32;

std::array<uint8_t, 32> keyDigest(const std::string &keyHex) {
  std::array<uint8_t, 32> d{};
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i < 32 && 2 * i + 1 < keyHex.size(); ++i)
    d[i] = static_cast<uint8_t>(nibble(keyHex[2 * i]) << 4 | nibble(keyHex[2 * i + 1]));
  return d;
}

bool validKey(const std::string &key) {
  if (key.size() != 64) return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::array<uint8_t, 32> payloadDigest(const std::string &arch, const std::string &ptx,
                                      const uint8_t *cubin, size_t cubinSize,
                                      const std::string &log) {
  Sha256 h;
  h.update(arch.data(), arch.size());
  h.update(ptx.data(), ptx.size());
  h.update(cubin, cubinSize);
  h.update(log.data(), log.size());
  return h.finish();
}

void putU64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t getU64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}


} // namespace

KernelCache::KernelCache(std::string directory) : directory_(std::move(directory)) {
  while (directory_.size() > 1 && directory_.back() == '/') directory_.pop_back();
}

std::string KernelCache::defaultDirectory() {
  if (const char *dir = std::getenv("DLC_CACHE_DIR"); dir && *dir) return dir;
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/dlc/kernels";
  return "";
}

std::string KernelCache::key(const NvrtcProgram &program, const std::string &arch,
                             const std::string &compilerId) {
  Sha256 h;
  h.updateField("dlc-kernel-cache-v1");
  h.updateField(compilerId);
  h.updateField(arch);
  h.updateField(program.name);
  h.updateField(program.source);
  h.updateField(std::to_string(program.headers.size()));
  for (const NvrtcHeader &header : program.headers) {
    h.updateField(header.name);
    h.updateField(header.contents);
  }
  for (const std::vector<std::string> *list : {&program.includeDirs, &program.options}) {
    h.updateField(std::to_string(list->size()));
    for (const std::string &s : *list) h.updateField(s);
  }
  return toHex(h.finish());
}

std::string KernelCache::entryPath(const std::string &key) const {
  return directory_ + "/" + key + ".kernel";
}

Status KernelCache::load(const std::string &key, CompiledImage *out) const {
  if (!validKey(key))
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "malformed kernel cache key " + key);
  if (directory_.empty()) return DLC_MAKE_STATUS(StatusCode::kNotFound, "kernel cache disabled");
  const std::string path = entryPath(key);
  std::vector<uint8_t> bytes;
  Status read = readFile(path, &bytes, uint64_t(1) << 30, "a kernel cache entry");
  if (!read.ok())
    return read.code() == StatusCode::kNotFound ? read : read.annotate("kernel cache");

  auto corrupt = [&](const std::string &why) {
    ::unlink(path.c_str()); // best effort: the next store rewrites it anyway
    return DLC_MAKE_STATUS(StatusCode::kDataLoss,
                           "corrupted kernel cache entry " + path + ": " + why);
  };
  if (bytes.size() < kHeaderSize) return corrupt("shorter than its header");
  if (std::memcmp(bytes.data(), kMagic, 8) != 0) return corrupt("bad magic");
  if (std::memcmp(bytes.data() + 8, keyDigest(key).data(), 32) != 0)
    return corrupt("entry belongs to another key");
  uint64_t sizes[4], total = 0;
  for (int i = 0; i < 4; ++i) {
    sizes[i] = getU64(bytes.data() + 40 + 8 * i);
    if (sizes[i] > bytes.size() - kHeaderSize - total)
      return corrupt("field sizes exceed the file");
    total += sizes[i];
  }
  if (total != bytes.size() - kHeaderSize) return corrupt("trailing bytes");
  const uint8_t *p = bytes.data() + kHeaderSize;
  CompiledImage image;
  image.arch.assign(reinterpret_cast<const char *>(p), sizes[0]);
  p += sizes[0];
  image.ptx.assign(reinterpret_cast<const char *>(p), sizes[1]);
  p += sizes[1];
  image.cubin.assign(p, p + sizes[2]);
  p += sizes[2];
  image.log.assign(reinterpret_cast<const char *>(p), sizes[3]);
  const auto digest =
      payloadDigest(image.arch, image.ptx, image.cubin.data(), image.cubin.size(), image.log);
  if (std::memcmp(bytes.data() + 72, digest.data(), 32) != 0) return corrupt("checksum mismatch");
  *out = std::move(image);
  return okStatus();
}

Status KernelCache::store(const std::string &key, const CompiledImage &image) const {
  if (!validKey(key))
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, "malformed kernel cache key " + key);
  if (directory_.empty()) return okStatus();
  DLC_RETURN_IF_ERROR(makeDirectories(directory_, "kernel cache directory"), "");
  uint8_t header[kHeaderSize];
  std::memcpy(header, kMagic, 8);
  std::memcpy(header + 8, keyDigest(key).data(), 32);
  putU64(header + 40, image.arch.size());
  putU64(header + 48, image.ptx.size());
  putU64(header + 56, image.cubin.size());
  putU64(header + 64, image.log.size());
  const auto digest =
      payloadDigest(image.arch, image.ptx, image.cubin.data(), image.cubin.size(), image.log);
  std::memcpy(header + 72, digest.data(), 32);
  return writeFileAtomically(entryPath(key), {{header, sizeof header},
                                              {image.arch.data(), image.arch.size()},
                                              {image.ptx.data(), image.ptx.size()},
                                              {image.cubin.data(), image.cubin.size()},
                                              {image.log.data(), image.log.size()}});
}

Status KernelCache::compile(const Nvrtc &nvrtc, const NvrtcProgram &program,
                            const std::vector<std::string> &archs, CompiledProgram *out) {
  std::vector<CompiledProgram> results;
  Status status = compileBatch(nvrtc, {program}, archs, 1, &results);
  if (!results.empty()) *out = std::move(results[0]);
  return status;
}

Status KernelCache::compileBatch(const Nvrtc &nvrtc, const std::vector<NvrtcProgram> &programs,
                                 const std::vector<std::string> &archs, int threads,
                                 std::vector<CompiledProgram> *out, std::vector<Status> *failures) {
  auto cachedOrCompiled = [&](const NvrtcProgram &program, const std::string &arch,
                              CompiledImage *image) {
    const std::string k = key(program, arch, nvrtc.compilerId());
    Status cached = load(k, image);
    if (cached.ok() && image->arch == arch) {
      ++hits_;
      return okStatus();
    }
    ++(cached.code() == StatusCode::kDataLoss ? corrupt_ : misses_);
    Status compiled = nvrtc.compileForArch(program, arch, image);
    if (compiled.ok() && !directory_.empty())
      ++(store(k, *image).ok() ? stores_ : storeFailures_);
    return compiled;
  };
  return compileItems(programs, archs, threads, cachedOrCompiled, out, failures);
}

KernelCacheStats KernelCache::stats() const {
  KernelCacheStats s;
  s.hits = hits_, s.misses = misses_, s.corrupt = corrupt_, s.stores = stores_,
  s.storeFailures = storeFailures_;
  return s;
}

} // namespace dlc::rt::cuda
