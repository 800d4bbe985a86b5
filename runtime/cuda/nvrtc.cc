//===- nvrtc.cc - CUDA C++ to PTX and CUBIN with NVRTC, loaded at run time -===//
#include "runtime/cuda/nvrtc.h"

#include "runtime/cuda/cuda_api.h"
#include "runtime/cuda/toolkit_library.h"
#include "runtime/file_io.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include <dlfcn.h>
#include <sys/stat.h>

namespace dlc::rt::cuda {
using namespace api;

struct Nvrtc::Symbols {
#define DLC_NVRTC_SYMBOL(ret, name, params) ret(*name) params = nullptr;
#include "runtime/cuda/nvrtc_symbols.inc"
};

namespace {

std::string errorName(const Nvrtc::Symbols &s, nvrtcResult r) {
  const char *text = s.nvrtcGetErrorString ? s.nvrtcGetErrorString(r) : nullptr;
  return std::string(text ? text : "NVRTC_ERROR") + " (" + std::to_string(r) + ")";
}

/// Loaded once; the handle is never closed (NVRTC keeps internal state and
/// threads that must not outlive their code).
struct Loaded {
  Status status;
  Nvrtc::Symbols symbols;
  std::string path;
  int major = 0, minor = 0;
};

Loaded *loadOnce() {
  auto *loaded = new Loaded; // intentionally immortal: see above
  std::string tried;
  void *handle = openFirstLibrary(
      toolkitLibraryCandidates("DLC_NVRTC_LIBRARY", {"libnvrtc.so.13", "libnvrtc.so"}), &loaded->path, &tried);
  if (!handle) {
    loaded->status = DLC_MAKE_STATUS(
        StatusCode::kUnavailable, "NVRTC not found (CUDA toolkit not installed?); tried:" + tried);
    return loaded;
  }
  // Report the file actually loaded, not the soname we asked for.
  Dl_info info{};
  if (void *probe = ::dlsym(handle, "nvrtcVersion");
      probe && ::dladdr(probe, &info) && info.dli_fname && *info.dli_fname)
    loaded->path = info.dli_fname;
#define DLC_NVRTC_SYMBOL(ret, name, params)                                                        \
  loaded->symbols.name = reinterpret_cast<ret(*) params>(::dlsym(handle, #name));                  \
  if (!loaded->symbols.name) {                                                                     \
    loaded->status = DLC_MAKE_STATUS(StatusCode::kUnavailable,                                     \
                                     loaded->path + " lacks " #name " (NVRTC older than 11.1?)");  \
    return loaded;                                                                                 \
  }
#include "runtime/cuda/nvrtc_symbols.inc"
  nvrtcResult r = loaded->symbols.nvrtcVersion(&loaded->major, &loaded->minor);
  if (r != NVRTC_SUCCESS)
    loaded->status = DLC_MAKE_STATUS(StatusCode::kUnavailable,
                                     "nvrtcVersion failed: " + errorName(loaded->symbols, r));
  return loaded;
}

/// Owns an nvrtcProgram so every exit path destroys it.
class ProgramGuard {
public:
  explicit ProgramGuard(const Nvrtc::Symbols &s) : s_(s) {}
  ~ProgramGuard() {
    if (prog_) s_.nvrtcDestroyProgram(&prog_);
  }
  nvrtcProgram *addr() { return &prog_; }
  nvrtcProgram get() const { return prog_; }

private:
  const Nvrtc::Symbols &s_;
  nvrtcProgram prog_ = nullptr;
};

std::string programLog(const Nvrtc::Symbols &s, nvrtcProgram prog) {
  size_t size = 0;
  if (s.nvrtcGetProgramLogSize(prog, &size) != NVRTC_SUCCESS || size <= 1) return "";
  std::string log(size, '\0');
  if (s.nvrtcGetProgramLog(prog, log.data()) != NVRTC_SUCCESS) return "";
  log.resize(size - 1); // drop the NUL the size counts
  while (!log.empty() && (log.back() == '\n' || log.back() == '\0')) log.pop_back();
  return log;
}

bool validArch(const std::string &arch) {
  const bool sm = arch.rfind("sm_", 0) == 0, compute = arch.rfind("compute_", 0) == 0;
  const size_t digits = sm ? 3 : compute ? 8 : arch.size();
  // "sm_90", "sm_90a", "sm_100f": digits, then at most one letter.
  size_t i = digits;
  while (i < arch.size() && arch[i] >= '0' && arch[i] <= '9') ++i;
  return i > digits &&
         (i == arch.size() || (i + 1 == arch.size() && arch[i] >= 'a' && arch[i] <= 'z'));
}

} // namespace

const CompiledImage *CompiledProgram::find(const std::string &arch) const {
  for (const CompiledImage &image : images)
    if (image.arch == arch) return &image;
  return nullptr;
}

Status Nvrtc::instance(const Nvrtc **out) {
  static Loaded *loaded = loadOnce();
  static Nvrtc *nvrtc = [] {
    if (!loaded->status.ok()) return static_cast<Nvrtc *>(nullptr);
    auto *n = new Nvrtc; // immortal, like the library
    n->symbols_ = &loaded->symbols;
    n->major_ = loaded->major;
    n->minor_ = loaded->minor;
    n->libraryPath_ = loaded->path;
    struct stat st {};
    const long long size = ::stat(loaded->path.c_str(), &st) == 0 ? st.st_size : -1;
    n->compilerId_ = "nvrtc-" + n->version() + "-" + std::to_string(size);
    return n;
  }();
  *out = nvrtc;
  return loaded->status;
}

std::string Nvrtc::version() const { return std::to_string(major_) + "." + std::to_string(minor_); }

std::vector<std::string> Nvrtc::supportedArchs() const {
  int count = 0;
  if (symbols_->nvrtcGetNumSupportedArchs(&count) != NVRTC_SUCCESS || count <= 0 || count > 4096)
    return {};
  std::vector<int> archs(static_cast<size_t>(count));
  if (symbols_->nvrtcGetSupportedArchs(archs.data()) != NVRTC_SUCCESS) return {};
  std::vector<std::string> names;
  for (int a : archs) names.push_back("sm_" + std::to_string(a));
  return names;
}

Status Nvrtc::compileForArch(const NvrtcProgram &program, const std::string &arch,
                             CompiledImage *out) const {
  const Symbols &s = *symbols_;
  const std::string name = program.name.empty() ? "dlc_kernel" : program.name;
  const std::string what = "NVRTC program '" + name + "' for " + arch;
  if (!validArch(arch))
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           what + ": architecture must look like sm_90 or compute_90");
  std::vector<const char *> headerTexts, headerNames;
  for (const NvrtcHeader &h : program.headers) {
    headerTexts.push_back(h.contents.c_str());
    headerNames.push_back(h.name.c_str());
  }
  ProgramGuard prog(s);
  nvrtcResult r = s.nvrtcCreateProgram(prog.addr(), program.source.c_str(), name.c_str(),
                                       static_cast<int>(headerTexts.size()), headerTexts.data(),
                                       headerNames.data());
  if (r != NVRTC_SUCCESS)
    return DLC_MAKE_STATUS(r == NVRTC_ERROR_OUT_OF_MEMORY ? StatusCode::kUnavailable
                                                          : StatusCode::kInternal,
                           what + ": nvrtcCreateProgram failed: " + errorName(s, r));

  std::vector<std::string> options;
  options.push_back("--gpu-architecture=" + arch);
  for (const std::string &dir : program.includeDirs) options.push_back("-I" + dir);
  options.insert(options.end(), program.options.begin(), program.options.end());
  std::vector<const char *> optionPtrs;
  for (const std::string &o : options) optionPtrs.push_back(o.c_str());

  r = s.nvrtcCompileProgram(prog.get(), static_cast<int>(optionPtrs.size()), optionPtrs.data());
  std::string log = programLog(s, prog.get());
  if (r != NVRTC_SUCCESS) {
    const StatusCode code = r == NVRTC_ERROR_COMPILATION || r == NVRTC_ERROR_INVALID_OPTION
                                ? StatusCode::kInvalidArgument
                            : r == NVRTC_ERROR_OUT_OF_MEMORY ? StatusCode::kUnavailable
                                                             : StatusCode::kInternal;
    return DLC_MAKE_STATUS(code, what + " failed to compile: " + errorName(s, r) +
                                     (log.empty() ? std::string() : "\n" + log));
  }

  CompiledImage image;
  image.arch = arch;
  image.log = std::move(log);
  size_t size = 0;
  if ((r = s.nvrtcGetPTXSize(prog.get(), &size)) != NVRTC_SUCCESS)
    return DLC_MAKE_STATUS(StatusCode::kInternal, what + ": nvrtcGetPTXSize: " + errorName(s, r));
  image.ptx.assign(size, '\0');
  if (size > 0 && (r = s.nvrtcGetPTX(prog.get(), image.ptx.data())) != NVRTC_SUCCESS)
    return DLC_MAKE_STATUS(StatusCode::kInternal, what + ": nvrtcGetPTX: " + errorName(s, r));
  while (!image.ptx.empty() && image.ptx.back() == '\0') image.ptx.pop_back();
  // A compute_XX target has no CUBIN: size 0 (or an error from older NVRTCs).
  if (s.nvrtcGetCUBINSize(prog.get(), &size) == NVRTC_SUCCESS && size > 0) {
    image.cubin.resize(size);
    if ((r = s.nvrtcGetCUBIN(prog.get(), reinterpret_cast<char *>(image.cubin.data()))) !=
        NVRTC_SUCCESS)
      return DLC_MAKE_STATUS(StatusCode::kInternal, what + ": nvrtcGetCUBIN: " + errorName(s, r));
  }
  if (image.ptx.empty())
    return DLC_MAKE_STATUS(StatusCode::kInternal, what + ": NVRTC produced no PTX");
  *out = std::move(image);
  return okStatus();
}

Status Nvrtc::compile(const NvrtcProgram &program, const std::vector<std::string> &archs,
                      CompiledProgram *out) const {
  CompiledProgram result;
  result.name = program.name;
  result.images.resize(archs.size());
  for (size_t i = 0; i < archs.size(); ++i)
    DLC_RETURN_IF_ERROR(compileForArch(program, archs[i], &result.images[i]), "");
  *out = std::move(result);
  return okStatus();
}

Status Nvrtc::compileBatch(const std::vector<NvrtcProgram> &programs,
                           const std::vector<std::string> &archs, int threads,
                           std::vector<CompiledProgram> *out, std::vector<Status> *failures) const {
  return compileItems(
      programs, archs, threads,
      [this](const NvrtcProgram &program, const std::string &arch, CompiledImage *image) {
        return compileForArch(program, arch, image);
      },
      out, failures);
}

Status compileItems(const std::vector<NvrtcProgram> &programs, const std::vector<std::string> &archs,
                    int threads, const ImageCompiler &compileOne, std::vector<CompiledProgram> *out,
                    std::vector<Status> *failures) {
  const size_t nArch = archs.size();
  std::vector<CompiledProgram> results(programs.size());
  std::vector<Status> statuses(programs.size() * nArch);
  for (size_t p = 0; p < programs.size(); ++p) {
    results[p].name = programs[p].name;
    results[p].images.resize(nArch);
  }
  parallelFor(programs.size() * nArch, threads, [&](size_t item) {
    const size_t p = item / nArch, a = item % nArch;
    statuses[item] = compileOne(programs[p], archs[a], &results[p].images[a]);
  });
  *out = std::move(results);
  return summarizeBatch(statuses, programs.size(), failures);
}

Status summarizeBatch(const std::vector<Status> &items, size_t programs,
                      std::vector<Status> *perProgram) {
  const size_t perItem = programs ? items.size() / programs : 0;
  std::vector<Status> byProgram(programs);
  size_t failed = 0;
  for (size_t item = 0; perItem && item < items.size(); ++item)
    if (!items[item].ok() && byProgram[item / perItem].ok()) {
      byProgram[item / perItem] = items[item];
      ++failed;
    }
  if (perProgram) *perProgram = byProgram;
  for (Status &status : byProgram)
    if (!status.ok())
      return failed == 1
                 ? status
                 : status.annotate(std::to_string(failed) + " of " + std::to_string(programs) +
                                   " programs failed; the first");
  return okStatus();
}

void parallelFor(size_t count, int threads, const std::function<void(size_t)> &fn) {
  size_t workers = threads > 0 ? static_cast<size_t>(threads)
                               : std::max(1u, std::thread::hardware_concurrency());
  workers = std::min(workers, count);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < count; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < workers; ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error &) {
      break; // no more threads to be had: the ones we have finish the work
    }
  }
  work();
  for (std::thread &t : pool) t.join();
}

std::string findCudaIncludeDir() {
  std::vector<std::string> roots;
  for (const char *var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *root = std::getenv(var); root && *root) roots.push_back(root);
  roots.push_back("/usr/local/cuda");
  for (const std::string &root : roots) {
    struct stat st {};
    if (::stat((root + "/include/cuda_fp16.h").c_str(), &st) == 0) return root + "/include";
  }
  return "";
}

Status readCudaHeaders(const std::string &dir, const std::vector<std::string> &names,
                       std::vector<NvrtcHeader> *out) {
  std::vector<NvrtcHeader> headers;
  for (const std::string &name : names) {
    std::vector<uint8_t> bytes;
    DLC_RETURN_IF_ERROR(readFile(dir + "/" + name, &bytes, uint64_t(1) << 26, "a CUDA header"), "reading CUDA header " + name);
    headers.push_back({name, std::string(bytes.begin(), bytes.end())});
  }
  out->insert(out->end(), std::make_move_iterator(headers.begin()),
              std::make_move_iterator(headers.end()));
  return okStatus();
}

std::vector<std::string> fp16HeaderNames() { return {"cuda_fp16.h", "cuda_fp16.hpp"}; }

} // namespace dlc::rt::cuda
