//===- nvrtc.h - CUDA C++ to PTX and CUBIN with NVRTC, loaded at run time -===//
//
// The runtime compiles the CUDA C++ that the compiler emits with NVRTC, which
// it loads with dlopen (libnvrtc.so.13, then libnvrtc.so, then the same names
// under $CUDA_HOME, $CUDA_PATH and /usr/local/cuda, lib64/): nothing links
// against it, so a machine without CUDA still runs the CPU backend and only
// learns NVRTC is missing (kUnavailable) when it asks for a GPU kernel.
// $DLC_NVRTC_LIBRARY names the library explicitly.
//
// NVRTC has no built-in CUDA headers: a program either embeds the headers it
// includes (NvrtcHeader, e.g. from readCudaHeaders) or names include
// directories (findCudaIncludeDir). Embedding is what a deployed bundle does;
// -I is convenient on a development machine.
//
// One NVRTC compilation targets one architecture, so a program compiled for
// {sm_90, sm_80} is two compilations; compileBatch spreads all (program,
// architecture) pairs over threads (NVRTC is thread-safe across programs).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/status.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dlc::rt::cuda {

/// A header made available to #include "name" without touching the disk.
struct NvrtcHeader {
  std::string name; // as written in the #include, e.g. "cuda_fp16.h"
  std::string contents;
};

/// One translation unit. |name| identifies it in errors and in NVRTC's log
/// ("name(12): error: ..."), so use the kernel's name.
struct NvrtcProgram {
  std::string name;
  std::string source;
  std::vector<NvrtcHeader> headers;
  std::vector<std::string> includeDirs; // each becomes -I<dir>
  /// Further NVRTC options, e.g. "--std=c++17", "--use_fast_math",
  /// "--ptxas-options=-v" (puts ptxas's register/spill report in the log).
  std::vector<std::string> options;
};

/// The output of one compilation for one architecture.
struct CompiledImage {
  std::string arch;           // "sm_90", or "compute_90" for PTX only
  std::string ptx;            // without the trailing NUL
  std::vector<uint8_t> cubin; // ELF; empty for a compute_XX target
  std::string log;            // NVRTC's log (warnings; ptxas -v output if asked)
};

/// One program compiled for each requested architecture, in request order.
struct CompiledProgram {
  std::string name;
  std::vector<CompiledImage> images;
  /// The image for |arch|, or nullptr.
  const CompiledImage *find(const std::string &arch) const;
};

class Nvrtc {
public:
  /// The process-wide NVRTC: loaded on first use; every later call returns
  /// the same library, or the same kUnavailable error naming what was tried.
  static Status instance(const Nvrtc **out);

  int versionMajor() const { return major_; }
  int versionMinor() const { return minor_; }
  /// "13.0".
  std::string version() const;
  /// Identifies the compiler for cache keys: the version plus the size of
  /// the loaded library file, which differs between patch releases that
  /// nvrtcVersion does not tell apart (13.0.48 and 13.0.88 are both 13.0).
  const std::string &compilerId() const { return compilerId_; }
  /// The file dlopen loaded.
  const std::string &libraryPath() const { return libraryPath_; }
  /// The real architectures this NVRTC can emit CUBIN for: "sm_75", ...
  std::vector<std::string> supportedArchs() const;

  /// Compiles |program| for one architecture ("sm_90", "compute_90"). A
  /// source error is kInvalidArgument with the program name, the arch and
  /// NVRTC's log; an option NVRTC rejects is kInvalidArgument too.
  Status compileForArch(const NvrtcProgram &program, const std::string &arch,
                        CompiledImage *out) const;

  /// Compiles |program| for every arch in |archs|, one after another.
  Status compile(const NvrtcProgram &program, const std::vector<std::string> &archs,
                 CompiledProgram *out) const;

  /// Compiles every program for every arch, on up to |threads| threads (0:
  /// one per hardware thread). |out| gets one entry per program, in order.
  /// On failure returns the first failing program's Status (others still
  /// compile; |failures|, if given, receives every program's Status).
  Status compileBatch(const std::vector<NvrtcProgram> &programs,
                      const std::vector<std::string> &archs, int threads,
                      std::vector<CompiledProgram> *out,
                      std::vector<Status> *failures = nullptr) const;

  struct Symbols; // the dlsym'd function table (nvrtc.cc)

private:
  Nvrtc() = default;
  const Symbols *symbols_ = nullptr;
  int major_ = 0, minor_ = 0;
  std::string libraryPath_, compilerId_;
};

/// The first of $CUDA_HOME/include, $CUDA_PATH/include,
/// /usr/local/cuda/include that holds cuda_fp16.h; "" when there is none.
std::string findCudaIncludeDir();

/// Reads |names| (relative to |dir|) as embeddable headers. kNotFound names
/// the missing file.
Status readCudaHeaders(const std::string &dir, const std::vector<std::string> &names,
                       std::vector<NvrtcHeader> *out);

/// The headers cuda_fp16.h needs under NVRTC (it skips vector_types.h and
/// <nv/target> when __CUDACC_RTC__ is defined): cuda_fp16.h, cuda_fp16.hpp.
std::vector<std::string> fp16HeaderNames();

/// Compiles every (program, arch) item of a batch with |compileOne| on up to
/// |threads| threads into |out| (one CompiledProgram per program, images in
/// |archs| order), then folds the statuses as summarizeBatch does.
using ImageCompiler =
    std::function<Status(const NvrtcProgram &, const std::string &arch, CompiledImage *)>;
Status compileItems(const std::vector<NvrtcProgram> &programs, const std::vector<std::string> &archs,
                    int threads, const ImageCompiler &compileOne, std::vector<CompiledProgram> *out,
                    std::vector<Status> *failures);

/// Folds the statuses of a batch's (program, arch) items, program-major,
/// into one per program (|perProgram|, if given) and the batch's result:
/// the first failing program's Status, saying how many failed.
Status summarizeBatch(const std::vector<Status> &items, size_t programs,
                      std::vector<Status> *perProgram);

/// Runs fn(0) ... fn(count - 1) on up to |threads| threads (0: one per
/// hardware thread; the caller's thread is one of them). fn must not throw.
void parallelFor(size_t count, int threads, const std::function<void(size_t)> &fn);

} // namespace dlc::rt::cuda
