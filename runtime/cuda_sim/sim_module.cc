//===- sim_module.cc - A bundle's CUDA kernels emulated on the CPU --------===//
#include "runtime/cuda_sim/sim_module.h"

#include "runtime/cuda/code_trust.h"
#include "runtime/cuda/kernel_cache.h"
#include "runtime/cuda/nvrtc.h"
#include "runtime/cuda/sha256.h"
#include "runtime/cuda_sim/sim_module_abi.h"
#include "runtime/file_io.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include <dlfcn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

// Baked in by runtime/CMakeLists.txt.
#ifndef DLC_SIM_CXX
#define DLC_SIM_CXX "c++"
#endif
#ifndef DLC_SIM_SOURCE_ROOT
#define DLC_SIM_SOURCE_ROOT ""
#endif
#ifndef DLC_SIM_CUDA_INCLUDE
#define DLC_SIM_CUDA_INCLUDE "/usr/local/cuda/include"
#endif

namespace dlc::rt::cuda {
namespace {

constexpr const char *kFlags = "-std=c++17 -O1 -fPIC -shared -fvisibility=hidden -w";

/// What the module's code depends on besides its own text: a change to any
/// of these must miss the cache.
constexpr const char *kHeaders[] = {
    "runtime/cuda_sim/cuda_sim.h",      "runtime/cuda_sim/cuda_sim_host.h",
    "runtime/cuda_sim/cuda_sim_math.h", "runtime/cuda_sim/cuda_sim_fp16.h",
    "runtime/cuda_sim/dynamic_shared.h", "runtime/cuda_sim/sim_module_abi.h",
    "runtime/status.h"};

Status unavailable(const std::string &message) {
  return DLC_MAKE_STATUS(StatusCode::kUnavailable, message);
}

std::string environment(const char *name, const std::string &fallback) {
  const char *value = std::getenv(name);
  return value && *value ? value : fallback;
}

bool isFile(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

/// Single quotes for the shell.
std::string quote(const std::string &text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// Whether the first word of |command| names an executable, as the shell
/// would find it.
bool findExecutable(const std::string &command) {
  std::string program = command.substr(0, command.find(' '));
  if (program.find('/') != std::string::npos)
    return ::access(program.c_str(), X_OK) == 0;
  std::stringstream path(environment("PATH", "/usr/bin:/bin"));
  for (std::string dir; std::getline(path, dir, ':');)
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0)
      return true;
  return false;
}

/// Every entry of |kernels|, in the module's order.
std::vector<std::string> entriesOf(const std::vector<SimKernelSource> &kernels) {
  std::vector<std::string> entries;
  for (const SimKernelSource &k : kernels) {
    entries.push_back(k.entry);
    entries.insert(entries.end(), k.otherEntries.begin(), k.otherEntries.end());
  }
  return entries;
}

/// The generated translation unit, and the line each kernel starts on (for
/// naming the kernel a compile error is in).
std::string generate(const std::vector<SimKernelSource> &kernels, std::vector<int> *firstLines) {
  std::string out = "// The emulated kernels of one bundle (runtime/cuda_sim/sim_module.cc).\n"
                    "#include \"runtime/cuda_sim/sim_module_abi.h\"\n";
  auto lines = [&] { return int(std::count(out.begin(), out.end(), '\n')) + 1; };
  std::string names, packed;
  for (size_t i = 0; i < kernels.size(); ++i) {
    // The namespace keeps helpers apart; extern "C" entries ignore it, so
    // each entry is renamed too, in case two sources use one name.
    const std::string ns = "dlc_sim_kernel_" + std::to_string(i), &entry = kernels[i].entry,
                      symbol = "dlc_sim_entry_" + std::to_string(i);
    out += "\n// kernel " + std::to_string(i) + ": " + entry + "\nnamespace " + ns +
           " {\n#define " + entry + " " + symbol + "\n";
    std::string undefine = "#undef " + entry + "\n";
    names += "    \"" + entry + "\",\n";
    packed += "    DLC_SIM_PACKED(" + ns + "::" + symbol + "),\n";
    for (const std::string &other : kernels[i].otherEntries) {
      out += "#define " + other + " " + symbol + "_" + other + "\n";
      undefine += "#undef " + other + "\n";
      names += "    \"" + other + "\",\n";
      packed += "    DLC_SIM_PACKED(" + ns + "::" + symbol + "_" + other + "),\n";
    }
    firstLines->push_back(lines());
    out += kernels[i].source + "\n" + undefine + "} // namespace " + ns + "\n";
  }
  out += "\nnamespace {\nconst char *const kNames[] = {\n" + names +
         "};\nconst ::dlc::sim::PackedKernel kKernels[] = {\n" + packed +
         "};\n"
         "::dlc::rt::Status launchKernel(int index, void **args, dim3 grid, dim3 block,\n"
         "                               size_t dynamicShared,\n"
         "                               const ::dlc::sim::LaunchOptions *options) {\n"
         "  return ::dlc::sim::launchPacked(kNames[index], kKernels[index], args, grid, block,\n"
         "                                  dynamicShared, *options);\n"
         "}\n} // namespace\n\n"
         "extern \"C\" __attribute__((visibility(\"default\"))) const DlcSimModuleTable " +
         std::string(DLC_SIM_MODULE_SYMBOL) + " = {DLC_SIM_MODULE_ABI, " +
         std::to_string(entriesOf(kernels).size()) + ", kNames, launchKernel};\n";
  return out;
}

Status cacheKey(const SimToolchain &toolchain, const std::string &source, std::string *key) {
  Sha256 hash;
  hash.updateField("dlc cuda-sim module " + std::to_string(DLC_SIM_MODULE_ABI));
  hash.updateField(toolchain.command("SOURCE", "OUTPUT"));
  for (const char *header : kHeaders) {
    std::vector<uint8_t> bytes;
    DLC_RETURN_IF_ERROR(readFile(toolchain.sourceRoot + "/" + header, &bytes, uint64_t(1) << 26, "a header"),
                        "reading the emulation's headers");
    hash.updateField(std::string(bytes.begin(), bytes.end()));
  }
  hash.updateField(source);
  *key = toHex(hash.finish());
  return okStatus();
}

/// "<file>:LINE:COL: error: ..." -> the kernel whose source holds LINE.
std::string kernelOfError(const std::string &log, const std::vector<SimKernelSource> &kernels,
                          const std::vector<int> &firstLines) {
  size_t at = log.find(": error:");
  if (at == std::string::npos)
    return "";
  size_t colon = log.rfind(':', at - 1), before = colon == std::string::npos ? 0 : log.rfind(':', colon - 1);
  if (colon == std::string::npos || before == std::string::npos)
    return "";
  int line = std::atoi(log.c_str() + before + 1);
  std::string entry;
  for (size_t i = 0; i < firstLines.size(); ++i)
    if (line >= firstLines[i])
      entry = kernels[i].entry;
  return entry;
}

std::string headOf(const std::string &text, int count) {
  size_t end = 0;
  for (int i = 0; i < count && end != std::string::npos; ++i)
    end = text.find('\n', end ? end + 1 : 0);
  return end == std::string::npos ? text : text.substr(0, end) + "\n...";
}

/// A directory removed (with its files) when it goes out of scope: the
/// module's home when there is no cache directory.
struct TempDirectory {
  std::string path;
  ~TempDirectory() {
    if (!path.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  }
};

Status makeDirectory(const std::string &requested, TempDirectory *temp, std::string *out) {
  std::error_code ec;
  if (!requested.empty() && (std::filesystem::create_directories(requested, ec), !ec) &&
      ::access(requested.c_str(), W_OK) == 0) {
    *out = requested;
    return okStatus();
  }
  // Caching is an optimisation: without a usable cache directory, compile
  // into a temporary one.
  std::string pattern = environment("TMPDIR", "/tmp") + "/dlc-sim-XXXXXX";
  if (!::mkdtemp(pattern.data()))
    return unavailable("cannot create a directory for the emulated kernels: " +
                       std::string(std::strerror(errno)));
  *out = temp->path = pattern;
  return okStatus();
}

Status compileModule(const SimToolchain &toolchain, const std::string &source,
                     const std::vector<SimKernelSource> &kernels, const std::vector<int> &lines,
                     const std::string &stem, const std::string &sharedObject) {
  static std::atomic<int> counter{0};
  // Kept beside the module: the emulator's fault reports cite its lines.
  const std::string cc = stem + ".cc";
  DLC_RETURN_IF_ERROR(writeFileAtomically(cc, {{source.data(), source.size()}}), "");
  const std::string tag = "." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const std::string temp = sharedObject + tag + ".tmp", logPath = stem + tag + ".log";
  const std::string command = toolchain.command(cc, temp) + " > " + quote(logPath) + " 2>&1";
  int rc = std::system(command.c_str());
  std::vector<uint8_t> logBytes;
  (void)readFile(logPath, &logBytes, uint64_t(1) << 26, "a compiler log");
  std::remove(logPath.c_str());
  std::string log(logBytes.begin(), logBytes.end());
  if (rc != 0) {
    std::remove(temp.c_str());
    int exit = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    std::string kernel = kernelOfError(log, kernels, lines);
    return DLC_MAKE_STATUS(exit == 127 ? StatusCode::kUnavailable : StatusCode::kInvalidArgument,
                           "the host compiler failed on the emulated kernels" +
                               (kernel.empty() ? "" : " in kernel '" + kernel + "'") +
                               " (exit status " + std::to_string(exit) + "; " + cc + "):\n" +
                               headOf(log, 20));
  }
  // Readers of the cache see no module or a whole one.
  if (std::rename(temp.c_str(), sharedObject.c_str()) != 0) {
    std::remove(temp.c_str());
    return unavailable("cannot store " + sharedObject + ": " + std::strerror(errno));
  }
  return okStatus();
}

} // namespace

SimToolchain SimToolchain::fromEnvironment() {
  SimToolchain t;
  t.compiler = environment("DLC_CXX", DLC_SIM_CXX);
  t.sourceRoot = environment("DLC_CUDA_SIM_INCLUDE", DLC_SIM_SOURCE_ROOT);
  t.cudaInclude = DLC_SIM_CUDA_INCLUDE;
  bool cudaHome = std::getenv("CUDA_HOME") || std::getenv("CUDA_PATH");
  if (cudaHome || !isFile(t.cudaInclude + "/vector_types.h"))
    if (std::string found = findCudaIncludeDir(); !found.empty())
      t.cudaInclude = found;
  t.cacheDirectory = KernelCache::defaultDirectory();
  t.arch = environment("DLC_SIM_ARCH", t.arch);
  return t;
}

Status SimToolchain::check() const {
  if (compiler.empty() || !findExecutable(compiler))
    return unavailable("the cuda-sim backend compiles kernels with a host C++ compiler, and '" +
                       compiler + "' was not found (install g++ or set $DLC_CXX)");
  if (!isFile(sourceRoot + "/runtime/cuda_sim/cuda_sim.h"))
    return unavailable("the CUDA emulation's headers are not at '" + sourceRoot +
                       "/runtime/cuda_sim' (set $DLC_CUDA_SIM_INCLUDE to the dlc source tree)");
  if (arch.size() < 5 || arch.size() > 6 || arch.compare(0, 3, "sm_") != 0 ||
      arch.find_first_not_of("0123456789", 3) != std::string::npos)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "DLC_SIM_ARCH='" + arch + "' is not an architecture such as sm_80 or sm_90");
  if (!isFile(cudaInclude + "/vector_types.h"))
    return unavailable("the CUDA headers (vector_types.h, cuda_fp16.h) are not at '" +
                       cudaInclude + "' (install the CUDA toolkit or set $CUDA_HOME)");
  return okStatus();
}

std::string SimToolchain::command(const std::string &source, const std::string &output) const {
  return compiler + " " + kFlags + " -DDLC_SIM_ARCH=" + arch.substr(3) + "0 -include " +
         quote(sourceRoot + "/runtime/cuda_sim/cuda_sim.h") + " -I" + quote(sourceRoot) + " -I" +
         quote(cudaInclude) + " -o " + quote(output) + " " + quote(source);
}

std::string simModuleSource(const std::vector<SimKernelSource> &kernels) {
  std::vector<int> lines;
  return generate(kernels, &lines);
}

Status SimModule::build(const std::vector<SimKernelSource> &kernels, const SimToolchain &toolchain,
                        std::unique_ptr<SimModule> *out) {
  DLC_RETURN_IF_ERROR(toolchain.check(), "");
  std::vector<int> lines;
  const std::string source = generate(kernels, &lines);
  std::string key, directory;
  DLC_RETURN_IF_ERROR(cacheKey(toolchain, source, &key), "");
  TempDirectory temp;
  DLC_RETURN_IF_ERROR(makeDirectory(toolchain.cacheDirectory, &temp, &directory), "");
  const std::string stem = directory + "/sim-" + key, sharedObject = stem + ".so";

  auto module = std::unique_ptr<SimModule>(new SimModule);
  module->path_ = sharedObject;
  bool missingSymbols = false;
  if (isFile(sharedObject)) {
    Status loaded = module->load(kernels, &missingSymbols);
    if (loaded.ok() || missingSymbols) {
      module->cached_ = loaded.ok();
      *out = std::move(module);
      return loaded;
    }
    std::remove(sharedObject.c_str()); // damaged: build it again
  }
  DLC_RETURN_IF_ERROR(compileModule(toolchain, source, kernels, lines, stem, sharedObject), "");
  DLC_RETURN_IF_ERROR(module->load(kernels, &missingSymbols), "");
  *out = std::move(module);
  return okStatus();
}

Status SimModule::load(const std::vector<SimKernelSource> &kernels, bool *missingSymbols) {
  handle_ = ::dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_) {
    const char *error = ::dlerror();
    std::string why = error ? error : "unknown error";
    *missingSymbols = why.find("undefined symbol") != std::string::npos;
    if (*missingSymbols)
      return unavailable(why + ": the executable does not export the CUDA emulation the "
                               "kernels call into (link it with dlc_runtime_cuda_sim, which "
                               "adds -Wl,--dynamic-list=runtime/cuda_sim/exports.list)");
    return DLC_MAKE_STATUS(StatusCode::kDataLoss, "cannot load " + path_ + ": " + why);
  }
  const auto *table = static_cast<const DlcSimModuleTable *>(::dlsym(handle_, DLC_SIM_MODULE_SYMBOL));
  const std::vector<std::string> entries = entriesOf(kernels);
  bool matches = table && table->abi == DLC_SIM_MODULE_ABI && size_t(table->count) == entries.size();
  for (size_t i = 0; matches && i < entries.size(); ++i)
    matches = entries[i] == table->names[i];
  if (!matches)
    return DLC_MAKE_STATUS(StatusCode::kDataLoss,
                           path_ + " is not the module of these kernels (damaged cache entry?)");
  table_ = table;
  return okStatus();
}

SimModule::~SimModule() {
  if (handle_)
    ::dlclose(handle_);
}

Status SimModule::launch(size_t index, const LaunchConfig &config, void **args,
                         const dlc::sim::LaunchOptions *launchOptions) const {
  const auto *table = static_cast<const DlcSimModuleTable *>(table_);
  if (!table || index >= size_t(table->count))
    return DLC_MAKE_STATUS(StatusCode::kInternal, "no emulated kernel " + std::to_string(index));
  dlc::sim::LaunchOptions options = launchOptions ? *launchOptions : dlc::sim::defaultLaunchOptions();
  options.clusterBlocks = config.clusterBlocks;
  return table->launch(int(index), args, dim3(config.grid[0], config.grid[1], config.grid[2]),
                       dim3(config.block[0], config.block[1], config.block[2]),
                       config.sharedBytes, &options);
}

namespace {

/// The executor's memory and launches on the emulation: simMalloc'ed host
/// memory, plain copies, one module of kernels per bundle.
class SimBackend : public CudaBackend {
public:
  SimBackend(SimToolchain toolchain, SimOptions options, dlc::sim::LaunchOptions launchOptions)
      : toolchain_(std::move(toolchain)), options_(options), launchOptions_(launchOptions) {}

  std::string name() const override { return "cuda-sim"; }
  std::string identity() const override { return "cuda-sim (the CUDA emulation on this host's CPU)"; }
  // Its timings are the host's: they say nothing of which execution is
  // faster on a GPU, and runs here should not depend on them.
  ChoicePolicy defaultChoicePolicy() const override { return ChoicePolicy::kCompiled; }
  Status alloc(size_t bytes, const std::string &what, DevicePtr *out) override {
    void *p = nullptr;
    DLC_RETURN_IF_ERROR(dlc::sim::simMalloc(&p, bytes, what.c_str()),
                        what);
    *out = reinterpret_cast<uintptr_t>(p);
    return okStatus();
  }
  Status free(DevicePtr ptr) override { return dlc::sim::simFree(host(ptr)); }
  Status memset(DevicePtr dst, uint8_t value, size_t bytes) override {
    return queue([=] {
      std::memset(host(dst), value, bytes);
      return okStatus();
    });
  }
  Status copyToDevice(DevicePtr dst, const void *src, size_t bytes) override {
    DLC_RETURN_IF_ERROR(refusedWhileCapturing("a copy from the host"), "");
    std::memcpy(host(dst), src, bytes);
    return okStatus();
  }
  Status copyToHost(void *dst, DevicePtr src, size_t bytes) override {
    DLC_RETURN_IF_ERROR(refusedWhileCapturing("a copy to the host"), "");
    std::memcpy(dst, host(src), bytes);
    return okStatus();
  }
  Status copyOnDevice(DevicePtr dst, DevicePtr src, size_t bytes) override {
    return queue([=] {
      std::memmove(host(dst), host(src), bytes);
      return okStatus();
    });
  }
  Status synchronize() override { return okStatus(); } // launches run to completion
  Status timed(const std::function<Status()> &work, double *seconds) override {
    const auto start = std::chrono::steady_clock::now();
    DLC_RETURN_IF_ERROR(work(), "");
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return okStatus();
  }

  Status loadKernels(const Bundle &bundle) override {
    std::vector<SimKernelSource> sources;
    std::vector<uint64_t> sourceOffsets; // of each of sources in the payload
    std::map<uint64_t, size_t> sourceAt; // a source's offset -> its index in sources
    for (const fb::Program *p : *bundle.root().programs())
      for (const fb::Kernel *k : *p->kernels()) {
        const fb::CudaLaunch *launch = launchOf(*k);
        if (!launch)
          continue;
        std::vector<std::string> entries = {launch->entry()->str()};
        if (launch->then())
          for (const fb::CudaStage *stage : *launch->then())
            entries.push_back(stage->entry()->str());
        const std::string text(reinterpret_cast<const char *>(bundle.payload() + k->cuda_source_offset()),
                               k->cuda_source_bytes());
        for (const std::string &entry : entries)
          if (text.find(" " + entry + "(") == std::string::npos)
            return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                                   bundle.origin() + ": kernel '" + k->name()->str() +
                                       "' launches '" + entry + "', which its CUDA source does not define");
        // One copy of each source, every entry that any kernel of it
        // launches a kernel of the module (kernels sharing a source may
        // list different stages).
        auto [at, fresh] = sourceAt.emplace(k->cuda_source_offset(), sources.size());
        if (fresh) {
          sources.push_back({entries.front(), text, {}});
          sourceOffsets.push_back(k->cuda_source_offset());
        }
        SimKernelSource &source = sources[at->second];
        for (const std::string &entry : entries)
          if (entry != source.entry &&
              std::find(source.otherEntries.begin(), source.otherEntries.end(), entry) == source.otherEntries.end())
            source.otherEntries.push_back(entry);
      }
    if (sources.empty())
      return okStatus();
    // The module's kernels in its order (entriesOf): each source's entry,
    // then its others.
    size_t moduleEntries = 0;
    for (size_t i = 0; i < sources.size(); ++i) {
      index_.emplace(std::make_pair(sourceOffsets[i], sources[i].entry), moduleEntries++);
      for (const std::string &entry : sources[i].otherEntries)
        index_.emplace(std::make_pair(sourceOffsets[i], entry), moduleEntries++);
    }
    // The sources become host code in this process: only what dlc compiled
    // here, or what the user vouches for.
    if (!options_.trustAnyBundle && !signedHere(bundle))
      return DLC_MAKE_STATUS(
          StatusCode::kInvalidArgument,
          bundle.origin() + ": cuda-sim compiles a bundle's CUDA code with the host compiler and "
                            "runs it in this process, and this bundle was not compiled by dlc on "
                            "this machine (it carries no valid signature of " +
              signingKeyPath() +
              "); recompile it here with `dlc compile`, or pass --trust-bundle-code if you trust "
              "where it came from");
    DLC_RETURN_IF_ERROR(SimModule::build(sources, toolchain_, &module_),
                        "building the emulated kernels of " + bundle.origin());
    return okStatus();
  }

  Status kernel(const fb::Kernel &k, const std::string &entry, KernelHandle *out) override {
    auto it = index_.find({k.cuda_source_offset(), entry});
    if (it == index_.end() || !module_)
      return DLC_MAKE_STATUS(StatusCode::kInternal, "kernel not loaded");
    *out = &it->second;
    return okStatus();
  }

  Status launch(KernelHandle kernel, const LaunchConfig &config, void **args) override {
    if (!capture_)
      return module_->launch(*static_cast<const size_t *>(kernel), config, args, &launchOptions_);
    // A graph keeps the arguments' values at capture, as cuLaunchKernel's
    // do: later changes to what |args| points at do not reach it.
    std::vector<uint64_t> values;
    for (void **a = args; *a; ++a)
      values.push_back(*static_cast<const uint64_t *>(*a));
    size_t index = *static_cast<const size_t *>(kernel);
    capture_->push_back([this, index, config, values]() mutable {
      std::vector<void *> pointers;
      for (uint64_t &v : values)
        pointers.push_back(&v);
      pointers.push_back(nullptr);
      return module_->launch(index, config, pointers.data(), &launchOptions_);
    });
    return okStatus();
  }

  // One queue: an upload is done when it returns.
  Status upload(DevicePtr dst, const void *src, size_t bytes) override {
    return copyToDevice(dst, src, bytes);
  }
  Status awaitUploads() override { return refusedWhileCapturing("waiting for uploads"); }

  Status allocHost(size_t bytes, void **out) override {
    *out = std::malloc(std::max<size_t>(bytes, 1));
    return *out ? okStatus()
                : DLC_MAKE_STATUS(StatusCode::kResourceExhausted,
                                  "no host memory for " + std::to_string(bytes) + " bytes");
  }
  void freeHost(void *p) override { std::free(p); }

  Status beginCapture() override {
    if (capture_)
      return DLC_MAKE_STATUS(StatusCode::kInternal, "a capture is already under way");
    capture_ = std::make_unique<Graph>();
    return okStatus();
  }
  Status endCapture(GraphHandle *out) override {
    if (!capture_)
      return DLC_MAKE_STATUS(StatusCode::kInternal, "no capture is under way");
    *out = capture_.release();
    return okStatus();
  }
  Status replay(GraphHandle graph) override {
    for (const auto &command : *static_cast<Graph *>(graph))
      DLC_RETURN_IF_ERROR(command(), "replaying a captured graph");
    return okStatus();
  }
  void destroyGraph(GraphHandle graph) override { delete static_cast<Graph *>(graph); }

  // Library routines: their reference implementations (matmul.h,
  // convolution.h, lstm.h), on the emulation's memory, in the queue's order.
  Status prepareMatmul(const MatmulCall &call, LibraryHandle *out) override {
    matmuls_.push_back(std::make_unique<MatmulCall>(call));
    *out = matmuls_.back().get();
    return okStatus();
  }
  Status matmul(LibraryHandle call, DevicePtr a, DevicePtr b, DevicePtr bias, DevicePtr d) override {
    const MatmulCall *c = static_cast<const MatmulCall *>(call);
    return queue([=] {
      referenceMatmul(*c, host(a), host(b), host(bias), host(d));
      return okStatus();
    });
  }
  Status prepareConvolution(const ConvolutionCall &call, LibraryHandle *out) override {
    convolutions_.push_back(std::make_unique<ConvolutionCall>(call));
    *out = convolutions_.back().get();
    return okStatus();
  }
  Status prepareLstm(const LstmCall &call, LibraryHandle *out) override {
    lstms_.push_back(std::make_unique<LstmCall>(call));
    *out = lstms_.back().get();
    return okStatus();
  }
  Status lstm(LibraryHandle call, const LstmBuffers<DevicePtr> &b) override {
    const LstmCall *c = static_cast<const LstmCall *>(call);
    return queue([=] {
      referenceLstm(*c, {host(b.x), host(b.kernel), host(b.recurrent), host(b.bias), host(b.y), host(b.dx),
                         host(b.dkernel), host(b.drecurrent), host(b.dbias)});
      return okStatus();
    });
  }
  Status convolution(LibraryHandle call, const ConvolutionBuffers<DevicePtr> &b) override {
    const ConvolutionCall *c = static_cast<const ConvolutionCall *>(call);
    return queue([=] {
      // The scratch is the call's own: the GPU leaves the filter in it.
      referenceConvolution(*c, {host(b.input), host(b.filter), host(b.output), host(b.bias), host(b.scratch)});
      return okStatus();
    });
  }

private:
  using Graph = std::vector<std::function<Status()>>;
  static void *host(DevicePtr p) { return reinterpret_cast<void *>(uintptr_t(p)); }

  /// Runs |command| now, or records it while capturing.
  Status queue(std::function<Status()> command) {
    if (!capture_)
      return command();
    capture_->push_back(std::move(command));
    return okStatus();
  }
  Status refusedWhileCapturing(const char *what) const {
    if (!capture_)
      return okStatus();
    return DLC_MAKE_STATUS(StatusCode::kInternal,
                           std::string(what) + " cannot be captured into a graph");
  }

  std::unique_ptr<Graph> capture_; // while capturing

  SimToolchain toolchain_;
  SimOptions options_;
  dlc::sim::LaunchOptions launchOptions_;
  /// (source offset, entry) -> kernel of the module.
  std::map<std::pair<uint64_t, std::string>, size_t> index_;
  std::unique_ptr<SimModule> module_;
  std::vector<std::unique_ptr<MatmulCall>> matmuls_;
  std::vector<std::unique_ptr<ConvolutionCall>> convolutions_;
  std::vector<std::unique_ptr<LstmCall>> lstms_;
};

} // namespace
} // namespace dlc::rt::cuda

namespace dlc::rt {

namespace {

Status parseSchedule(const std::string &text, dlc::sim::LaunchOptions *out) {
  using dlc::sim::Schedule;
  *out = dlc::sim::defaultLaunchOptions();
  if (text.empty() || text == "forward") {
    out->schedule = Schedule::kForward;
    return okStatus();
  }
  if (text == "reverse") {
    out->schedule = Schedule::kReverse;
    return okStatus();
  }
  const std::string prefix = "random:";
  char *end = nullptr;
  unsigned long long seed =
      text.rfind(prefix, 0) == 0 ? std::strtoull(text.c_str() + prefix.size(), &end, 10) : 0;
  if (!end || *end || end == text.c_str() + prefix.size())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           "emulation schedule '" + text +
                               "' (DLC_SIM_SCHEDULE): expected forward, reverse or random:SEED");
  out->schedule = Schedule::kRandom;
  out->seed = seed;
  return okStatus();
}

} // namespace

Status createCudaSimDevice(std::unique_ptr<Device> *out, const SimOptions &options) {
  cuda::SimToolchain toolchain = cuda::SimToolchain::fromEnvironment();
  DLC_RETURN_IF_ERROR(toolchain.check(), "");
  const char *environment = std::getenv("DLC_SIM_SCHEDULE");
  dlc::sim::LaunchOptions launchOptions;
  DLC_RETURN_IF_ERROR(parseSchedule(!options.schedule.empty() ? options.schedule
                                    : environment             ? environment
                                                              : "",
                                    &launchOptions),
                      "");
  *out = cuda::createDeviceOn(
      std::make_unique<cuda::SimBackend>(std::move(toolchain), options, launchOptions));
  return okStatus();
}

} // namespace dlc::rt
