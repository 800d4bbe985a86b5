//===- library_call_test_util.h - Library calls built for parser tests ----===//
//
// The contract tests (matmul_test.cc, convolution_test.cc, lstm_test.cc)
// describe one call and its buffers as data, edit it, and read what the
// routine's parser says of the program holding that call alone.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/bundle.h"
#include "runtime/status.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dlc::rt::cuda::testing {

struct LibraryCallSpec {
  fb::Library library = fb::Library::cublas;
  std::string routine;
  std::vector<std::pair<std::string, int64_t>> ints;
  std::vector<std::pair<std::string, std::string>> texts;
  // One buffer each: its shape and type; the call's args index them.
  std::vector<std::vector<int64_t>> shapes;
  std::vector<fb::DType> types;
  std::vector<uint32_t> args;

  void set(const std::string &name, int64_t value) {
    for (auto &[n, v] : ints)
      if (n == name)
        v = value;
  }
  void setText(const std::string &name, const std::string &value) {
    for (auto &[n, v] : texts)
      if (n == name)
        v = value;
  }
  void drop(const std::string &name) {
    ints.erase(std::remove_if(ints.begin(), ints.end(), [&](const auto &entry) { return entry.first == name; }),
               ints.end());
  }
  /// Buffer |i| gone from the program and the call (later ones move down).
  void dropBuffer(uint32_t i) {
    shapes.erase(shapes.begin() + i);
    types.erase(types.begin() + i);
    args.erase(std::remove(args.begin(), args.end(), i), args.end());
    for (uint32_t &a : args)
      a -= a > i ? 1 : 0;
  }
};

template <typename Call>
using Parser = Status (*)(const fb::LibraryCall &, const fb::Program &, Call *);

/// What |parse| makes of |spec| as one program's only call.
template <typename Call> Status parseSpec(const LibraryCallSpec &spec, Parser<Call> parse, Call *out) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
  for (size_t i = 0; i < spec.shapes.size(); ++i)
    buffers.push_back(fb::CreateBufferDirect(fbb, ("b" + std::to_string(i)).c_str(), spec.types[i],
                                             &spec.shapes[i], fb::BufferKind::Temp, 0));
  std::vector<flatbuffers::Offset<fb::Attr>> descriptor;
  for (const auto &[name, value] : spec.ints) {
    std::vector<int64_t> ints = {value};
    descriptor.push_back(fb::CreateAttrDirect(fbb, name.c_str(), &ints));
  }
  for (const auto &[name, value] : spec.texts)
    descriptor.push_back(fb::CreateAttrDirect(fbb, name.c_str(), nullptr, nullptr, value.c_str()));
  auto call = fb::CreateLibraryCallDirect(fbb, spec.library, spec.routine.c_str(), &descriptor, &spec.args);
  std::vector<flatbuffers::Offset<fb::Kernel>> kernels = {fb::CreateKernelDirect(
      fbb, "k", nullptr, nullptr, 0, 0, nullptr, fb::CudaExecution::LibraryCall, call.Union())};
  fbb.Finish(fb::CreateProgramDirect(fbb, "p", &buffers, &kernels));
  const fb::Program *program = flatbuffers::GetRoot<fb::Program>(fbb.GetBufferPointer());
  return parse(*program->kernels()->Get(0)->cuda_as_LibraryCall(), *program, out);
}

/// "accepted", or the parser's message.
template <typename Call> std::string verdict(const LibraryCallSpec &spec, Parser<Call> parse) {
  Call call;
  Status s = parseSpec(spec, parse, &call);
  return s.ok() ? "accepted" : s.message();
}

/// "" when |message| contains |part|, else both (an EXPECT_EQ with "").
inline std::string missing(const std::string &message, const std::string &part) {
  return message.find(part) != std::string::npos ? "" : "'" + message + "' lacks '" + part + "'";
}

} // namespace dlc::rt::cuda::testing
