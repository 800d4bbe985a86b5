//===- BundleLoaderTest.cpp - Corrupted and hostile bundles are rejected ---===//
//
// A bundle is compiled from the MNIST example, then damaged in every way a
// file can be: truncated at many lengths, bytes flipped (caught by the
// checksums), bytes flipped with the checksums recomputed (what a hostile file
// does: the flatbuffers Verifier and the semantic checks must hold), and
// single fields set out of range. Loading must fail with a message; nothing
// may crash, and a bundle that does load must still run.
//
//===----------------------------------------------------------------------===//
#include "compiler/Pipelines/Pipelines.h"
#include "compiler/Target/BundleWriter.h"
#include "dialects/DL/DLOps.h"
#include "frontend/ModelBuilder.h"
#include "runtime/bundle.h"
#include "runtime/session.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <iostream>
#include <random>
#include <map>
#include <set>

using namespace mlir;
using namespace dlc;

namespace {

/// The model of the .dl file |path| compiled at batch 2, as bundle file bytes.
std::vector<uint8_t> compileBundle(const std::string &path, const BundleOptions &options = {}) {
  MLIRContext context;
  context.loadDialect<dl::DLDialect, func::FuncDialect>();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  auto program = loadProgram(path, sourceMgr, &context);
  EXPECT_TRUE(succeeded(program));
  auto module = buildModule(*program, "", &context);
  EXPECT_TRUE(succeeded(module));
  EXPECT_TRUE(succeeded(runKernelPipeline(**module, 2, BundleOptions{}.targets)));
  std::vector<uint8_t> out;
  EXPECT_TRUE(succeeded(writeBundle(**module, options, &out)));
  return out;
}

/// The MNIST CNN at batch 2, as file bytes.
const std::vector<uint8_t> &mnistBundle() {
  static std::vector<uint8_t> bytes = compileBundle(DLC_SOURCE_DIR "/examples/mnist_cnn.dl");
  return bytes;
}

rt::Status load(std::vector<uint8_t> bytes, std::unique_ptr<rt::Bundle> *out) {
  return rt::Bundle::fromBytes(std::move(bytes), "test.dlcb", out);
}

/// Rewrites both header checksums so that only structural and semantic
/// checks stand between |bytes| and the executor.
void resign(std::vector<uint8_t> &bytes) {
  uint64_t fbBytes, payloadBytes;
  std::memcpy(&fbBytes, bytes.data() + 8, 8);
  std::memcpy(&payloadBytes, bytes.data() + 16, 8);
  uint64_t payloadStart = (32 + fbBytes + 63) / 64 * 64;
  uint32_t a = uint32_t(crc32(0, bytes.data() + 32, uInt(fbBytes)));
  uint32_t b = uint32_t(crc32(0, bytes.data() + payloadStart, uInt(payloadBytes)));
  std::memcpy(bytes.data() + 24, &a, 4);
  std::memcpy(bytes.data() + 28, &b, 4);
}

/// Loads, creates a session and runs inference (with |everyProgram|, every
/// program) on zeros: must not crash.
void exercise(const std::vector<uint8_t> &bytes, bool everyProgram = false) {
  std::unique_ptr<rt::Bundle> bundle;
  if (!load(bytes, &bundle).ok())
    return;
  std::vector<std::string> names;
  for (const rt::fb::Program *p : *bundle->root().programs())
    if (everyProgram || p->name()->str() == "infer")
      names.push_back(p->name()->str());
  std::unique_ptr<rt::Session> session;
  if (!rt::Session::create(std::move(bundle), rt::createCpuDevice(), &session).ok())
    return;
  for (const std::string &name : names) {
    std::vector<rt::TensorView> inputs, outputs;
    std::vector<std::vector<uint8_t>> storage;
    for (const rt::TensorSpec &spec : session->inputs(name)) {
      storage.emplace_back(size_t(rt::numElements(spec.shape)) * rt::dtypeSize(spec.dtype));
      inputs.push_back({storage.back().data(), spec.dtype, spec.shape});
    }
    (void)session->run(name, inputs, &outputs);
  }
}

TEST(BundleLoaderTest, LoadsAndRunsTheCompiledBundle) {
  std::unique_ptr<rt::Bundle> bundle;
  rt::Status status = load(mnistBundle(), &bundle);
  ASSERT_TRUE(status.ok()) << status.toString();
  std::unique_ptr<rt::Session> session;
  ASSERT_TRUE(rt::Session::create(std::move(bundle), rt::createCpuDevice(), &session).ok());
  std::vector<float> image(2 * 28 * 28, 0.5f);
  std::vector<rt::TensorView> outputs;
  status = session->run("infer", {{image.data(), rt::DType::kF32, {2, 28, 28, 1}}}, &outputs);
  ASSERT_TRUE(status.ok()) << status.toString();
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].shape, (std::vector<int64_t>{2, 10}));
  float sum = 0;
  for (int i = 0; i < 10; ++i)
    sum += outputs[0].f32()[i];
  EXPECT_NEAR(sum, 1.0f, 1e-5f); // a softmax row
}

/// The bytes the checksums cover (without the signature trailer, if any).
size_t checkedBytes(const std::vector<uint8_t> &bytes) {
  std::unique_ptr<rt::Bundle> bundle;
  EXPECT_TRUE(load(bytes, &bundle).ok());
  return bundle->signature().empty() ? bytes.size() : bundle->signedBytes();
}

TEST(BundleLoaderTest, RejectsEveryTruncation) {
  const std::vector<uint8_t> &good = mnistBundle();
  size_t unsignedSize = checkedBytes(good);
  for (size_t length = 0; length < good.size(); length += 1 + length / 7) {
    if (length == unsignedSize)
      continue; // the bundle without its signature: valid, and unsigned
    std::vector<uint8_t> cut(good.begin(), good.begin() + long(length));
    std::unique_ptr<rt::Bundle> bundle;
    rt::Status status = load(cut, &bundle);
    EXPECT_FALSE(status.ok()) << "truncated to " << length << " bytes";
    EXPECT_EQ(status.code(), rt::StatusCode::kDataLoss);
  }
}

TEST(BundleLoaderTest, ChecksumsCatchEveryFlippedByte) {
  const std::vector<uint8_t> &good = mnistBundle();
  std::mt19937_64 rng(7);
  size_t covered = checkedBytes(good); // the signature trailer is not checksummed
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<uint8_t> bytes = good;
    size_t at = 32 + rng() % (covered - 32);
    bytes[at] ^= uint8_t(1 + rng() % 255);
    std::unique_ptr<rt::Bundle> bundle;
    rt::Status status = load(bytes, &bundle);
    ASSERT_FALSE(status.ok()) << "flip at " << at << " was accepted";
    EXPECT_NE(status.message().find("checksum"), std::string::npos) << status.message();
  }
}

TEST(BundleLoaderTest, ResignedRandomDamageNeverCrashes) {
  const std::vector<uint8_t> &good = mnistBundle();
  uint64_t fbBytes;
  std::memcpy(&fbBytes, good.data() + 8, 8);
  std::mt19937_64 rng(11);
  int rejected = 0;
  for (int trial = 0; trial < 600; ++trial) {
    std::vector<uint8_t> bytes = good;
    for (int flips = 1 + int(rng() % 4); flips > 0; --flips)
      bytes[32 + rng() % fbBytes] = uint8_t(rng());
    resign(bytes);
    std::unique_ptr<rt::Bundle> bundle;
    rejected += !load(bytes, &bundle).ok();
    exercise(bytes);
  }
  // Most damage is structural and must be refused before execution.
  EXPECT_GT(rejected, 300);
}

/// Applies |edit| to the verified flatbuffer of a copy of the bundle, re-signs
/// it and returns the loader's message.
std::string loadEdited(const std::function<void(rt::fb::Bundle *)> &edit,
                       std::vector<uint8_t> bytes = mnistBundle()) {
  edit(rt::fb::GetMutableBundle(bytes.data() + 32));
  resign(bytes);
  std::unique_ptr<rt::Bundle> bundle;
  rt::Status status = load(bytes, &bundle);
  return status.ok() ? "accepted" : status.message();
}

TEST(BundleLoaderTest, RejectsHostileFieldsWithTheirPath) {
  auto infer = [](rt::fb::Bundle *b) { return b->mutable_programs()->GetMutableObject(0); };
  EXPECT_NE(loadEdited([&](rt::fb::Bundle *b) {
              infer(b)->mutable_buffers()->GetMutableObject(5)->mutate_offset(uint64_t(1) << 40);
            }).find("programs[0].buffers[5]"),
            std::string::npos);
  EXPECT_NE(loadEdited([&](rt::fb::Bundle *b) {
              auto *op = infer(b)->mutable_kernels()->GetMutableObject(0)->mutable_ops()->GetMutableObject(0);
              op->mutable_inputs()->Mutate(0, 100000);
            }).find("out of range"),
            std::string::npos);
  EXPECT_NE(loadEdited([&](rt::fb::Bundle *b) {
              auto *buffers = infer(b)->mutable_buffers();
              for (uint32_t i = 0; i < buffers->size(); ++i)
                if (buffers->Get(i)->kind() == rt::fb::BufferKind::Param) {
                  buffers->GetMutableObject(i)->mutate_param(999);
                  break;
                }
            }).find("out of range"),
            std::string::npos);
  EXPECT_NE(loadEdited([&](rt::fb::Bundle *b) {
              ASSERT_TRUE(b->mutable_parameters()->GetMutableObject(1)->mutate_data_offset(uint64_t(1) << 50));
            }).find("parameters[1]"),
            std::string::npos);
  // A dtype outside the schema's (train_step's step input is the one buffer
  // whose dtype, i64, is stored rather than the f32 default).
  EXPECT_NE(loadEdited([&](rt::fb::Bundle *b) {
              auto *programs = b->mutable_programs();
              for (uint32_t p = 0; p < programs->size(); ++p) {
                auto *buffers = programs->GetMutableObject(p)->mutable_buffers();
                for (uint32_t i = 0; i < buffers->size(); ++i)
                  if (buffers->Get(i)->dtype() == rt::fb::DType::I64) {
                    ASSERT_TRUE(buffers->GetMutableObject(i)->mutate_dtype(rt::fb::DType(200)));
                    return;
                  }
              }
              FAIL() << "no i64 buffer";
            }).find("dtype 200 is unknown"),
            std::string::npos);
  EXPECT_NE(loadEdited([&](rt::fb::Bundle *b) {
              auto *op = infer(b)->mutable_kernels()->GetMutableObject(0)->mutable_ops()->GetMutableObject(0);
              op->mutate_kind(rt::fb::OpKind(999));
            }).find("kind 999 is unknown"),
            std::string::npos);
  EXPECT_NE(loadEdited([&](rt::fb::Bundle *b) {
              auto *kernel = infer(b)->mutable_kernels()->GetMutableObject(0);
              kernel->mutable_cpu()->GetMutableObject(0)->mutate_ops(7);
            }).find(".cpu runs"),
            std::string::npos);
  EXPECT_NE(loadEdited([&](rt::fb::Bundle *b) {
              infer(b)->mutable_buffers()->GetMutableObject(0)->mutable_shape()->Mutate(0, -3);
            }).find("shape"),
            std::string::npos);
  EXPECT_NE(loadEdited([&](rt::fb::Bundle *b) { b->mutate_version(99); }).find("version 99"),
            std::string::npos);
}

// A parameter drawn at load (--initial-values drawn) must name an
// initializer the runtime knows: the loader refuses another before anything
// is drawn.
TEST(BundleLoaderTest, RefusesAParameterDrawnByAnUnknownInitializer) {
  BundleOptions drawn;
  drawn.drawInitialValues = true;
  std::vector<uint8_t> bytes = compileBundle(DLC_SOURCE_DIR "/examples/mnist_cnn.dl", drawn);
  EXPECT_EQ(loadEdited([](rt::fb::Bundle *) {}, bytes), "accepted");
  EXPECT_NE(loadEdited(
                [](rt::fb::Bundle *b) {
                  const flatbuffers::String *name = b->parameters()->Get(0)->initializer();
                  ASSERT_TRUE(name && name->size() > 2);
                  const_cast<char *>(name->c_str())[1] = 'X'; // glorot_uniform -> gXorot_uniform
                },
                bytes)
                .find("parameters[0] ('conv2d/kernel') is drawn at load, but names no known initializer"),
            std::string::npos);
}

/// test/unit/Inputs/every_op.dl (44 of the op kinds, in its infer, grad,
/// evaluate and train_step programs) at batch 2, as file bytes.
const std::vector<uint8_t> &everyOpBundle() {
  static std::vector<uint8_t> bytes =
      compileBundle(DLC_SOURCE_DIR "/test/unit/Inputs/every_op.dl");
  return bytes;
}

// The loader's op contracts (runtime/op_contracts.cc), generated over every
// operand and result of every op of every program: pointed at a buffer of
// another shape (a parameter, so the value exists and may be written), each
// must be refused by its op's contract, naming the op. This is what stops a
// re-signed bundle from making a kernel read or write past a buffer.
TEST(BundleLoaderTest, EveryOperandOfAnotherShapeBreaksItsOpsContract) {
  const std::vector<uint8_t> &good = everyOpBundle();
  std::unique_ptr<rt::Bundle> loaded;
  ASSERT_TRUE(load(good, &loaded).ok());
  const rt::fb::Bundle &root = loaded->root();
  std::set<std::string> kinds;
  std::vector<std::string> accepted;
  int mutations = 0;
  for (uint32_t pi = 0; pi < root.programs()->size(); ++pi) {
    const rt::fb::Program *program = root.programs()->Get(pi);
    const auto &buffers = *program->buffers();
    for (uint32_t k = 0; k < program->kernels()->size(); ++k) {
      const auto &ops = *program->kernels()->Get(k)->ops();
      for (uint32_t o = 0; o < ops.size(); ++o) {
        const rt::fb::Op *op = ops[o];
        std::string kind = rt::fb::EnumNameOpKind(op->kind());
        for (bool output : {false, true}) {
          const auto *slots = output ? op->outputs() : op->inputs();
          for (uint32_t s = 0; slots && s < slots->size(); ++s) {
            const rt::fb::Buffer *old = buffers[slots->Get(s)];
            std::vector<int64_t> oldShape(old->shape()->begin(), old->shape()->end());
            // A parameter of another shape and the same element type.
            int other = -1;
            for (uint32_t j = 0; j < buffers.size() && other < 0; ++j) {
              const rt::fb::Buffer *b = buffers[j];
              if (b->kind() == rt::fb::BufferKind::Param && b->dtype() == old->dtype() &&
                  std::vector<int64_t>(b->shape()->begin(), b->shape()->end()) != oldShape)
                other = int(j);
            }
            if (other < 0)
              continue; // e.g. i32 ids: no parameter has their type
            std::vector<uint8_t> bytes = good;
            auto *mutableOp = rt::fb::GetMutableBundle(bytes.data() + 32)
                                  ->mutable_programs()->GetMutableObject(pi)
                                  ->mutable_kernels()->GetMutableObject(k)
                                  ->mutable_ops()->GetMutableObject(o);
            (output ? mutableOp->mutable_outputs() : mutableOp->mutable_inputs())
                ->Mutate(s, uint32_t(other));
            resign(bytes);
            std::unique_ptr<rt::Bundle> bundle;
            rt::Status status = load(bytes, &bundle);
            ++mutations;
            kinds.insert(kind);
            if (status.ok()) {
              // The shapes still agree (bias_grad reads [..., C] of any
              // leading size; two heights may pool to one): what loads must
              // run without touching memory outside its buffers (the
              // sanitizer build checks that).
              accepted.push_back(kind + (output ? " result " : " operand ") + std::to_string(s));
              exercise(bytes, /*everyProgram=*/true);
              continue;
            }
            EXPECT_NE(status.message().find("(" + kind + "): "), std::string::npos)
                << status.message();
          }
        }
      }
    }
  }
  EXPECT_GE(kinds.size(), 40u) << "the model lost op kinds";
  EXPECT_GT(mutations, 500);
  std::string list;
  for (const std::string &a : accepted)
    list += "  " + a + "\n";
  std::cout << mutations << " operands and results redirected over " << kinds.size()
            << " op kinds; " << accepted.size() << " still keep their contracts and ran:\n"
            << list;
  EXPECT_LT(accepted.size() * 20, size_t(mutations)) << "accepted:\n" << list;
}

TEST(BundleLoaderTest, RefusesProgramsThatReadWhatNoOneWrote) {
  auto infer = [](rt::fb::Bundle *b) { return b->mutable_programs()->GetMutableObject(0); };
  // An op reading a buffer of its operand's shape that only a later kernel writes.
  {
    const std::vector<uint8_t> &good = everyOpBundle();
    const rt::fb::Program *program = rt::fb::GetBundle(good.data() + 32)->programs()->Get(0);
    const auto &buffers = *program->buffers();
    std::map<uint32_t, uint32_t> firstWriter; // buffer -> kernel
    for (uint32_t k = 0; k < program->kernels()->size(); ++k)
      for (const rt::fb::Op *op : *program->kernels()->Get(k)->ops())
        for (uint32_t out : *op->outputs())
          firstWriter.emplace(out, k);
    bool found = false;
    for (uint32_t k = 0; k < program->kernels()->size() && !found; ++k) {
      const rt::fb::Op *op = program->kernels()->Get(k)->ops()->Get(0);
      for (uint32_t s = 0; op->inputs() && s < op->inputs()->size() && !found; ++s)
        for (auto [buffer, writer] : firstWriter)
          if (writer > k && buffers[buffer]->dtype() == buffers[op->inputs()->Get(s)]->dtype() &&
              std::equal(buffers[buffer]->shape()->begin(), buffers[buffer]->shape()->end(),
                         buffers[op->inputs()->Get(s)]->shape()->begin(),
                         buffers[op->inputs()->Get(s)]->shape()->end())) {
            std::vector<uint8_t> bytes = good;
            rt::fb::GetMutableBundle(bytes.data() + 32)->mutable_programs()->GetMutableObject(0)
                ->mutable_kernels()->GetMutableObject(k)->mutable_ops()->GetMutableObject(0)
                ->mutable_inputs()->Mutate(s, buffer);
            resign(bytes);
            std::unique_ptr<rt::Bundle> bundle;
            rt::Status status = load(bytes, &bundle);
            EXPECT_NE(status.message().find("before anything writes it"), std::string::npos)
                << status.message();
            found = true;
            break;
          }
    }
    EXPECT_TRUE(found) << "no op to point at a later kernel's result";
  }
  // A batch of 0.
  EXPECT_NE(loadEdited([&](rt::fb::Bundle *b) {
              auto *program = infer(b);
              uint32_t input = program->inputs()->Get(0);
              program->mutable_buffers()->GetMutableObject(input)->mutable_shape()->Mutate(0, 0);
            }).find("dimension"),
            std::string::npos);
  // A parameter of 2^40 elements.
  EXPECT_NE(loadEdited([&](rt::fb::Bundle *b) {
              auto *shape = b->mutable_parameters()->GetMutableObject(0)->mutable_shape();
              ASSERT_EQ(shape->size(), 4u);
              for (uint32_t d = 0; d < 4; ++d)
                shape->Mutate(d, 1 << 10);
            }).find("more than the"),
            std::string::npos);
  // A name that is not UTF-8.
  EXPECT_NE(loadEdited([&](rt::fb::Bundle *b) {
              auto *name = b->mutable_parameters()->GetMutableObject(0)->mutable_name();
              name->Mutate(0, char(0xFF));
            }).find("not valid UTF-8"),
            std::string::npos);
}

TEST(BundleLoaderTest, RejectsAWrongHeaderVersionAndMagic) {
  std::vector<uint8_t> bytes = mnistBundle();
  bytes[4] = 9;
  std::unique_ptr<rt::Bundle> bundle;
  EXPECT_NE(load(bytes, &bundle).message().find("format version 9"), std::string::npos);
  bytes = mnistBundle();
  bytes[0] = 'X';
  EXPECT_NE(load(bytes, &bundle).message().find("not a dlc bundle"), std::string::npos);
}

} // namespace

namespace {

/// The MNIST CNN's module after the kernel pipeline (kernels chosen, memory
/// planned), and the errors writing a bundle of it reports.
struct PlannedModel {
  MLIRContext context;
  llvm::SourceMgr sourceMgr;
  OwningOpRef<ModuleOp> module;
  std::string errors;

  PlannedModel() {
    context.loadDialect<dl::DLDialect, func::FuncDialect>();
    context.getDiagEngine().registerHandler([this](Diagnostic &d) {
      errors += d.str() + "\n";
      return success();
    });
    auto program = loadProgram(DLC_SOURCE_DIR "/examples/mnist_cnn.dl", sourceMgr, &context);
    EXPECT_TRUE(succeeded(program));
    auto built = buildModule(*program, "", &context);
    EXPECT_TRUE(succeeded(built));
    module = std::move(*built);
    EXPECT_TRUE(succeeded(runKernelPipeline(*module, 2, BundleOptions{}.targets)));
  }
  bool write() {
    std::vector<uint8_t> out;
    return succeeded(writeBundle(*module, BundleOptions{}, &out));
  }
};

} // namespace

// The bundle writer places buffers as dlc-plan-memory recorded, and checks
// the record as the loader checks a bundle.
TEST(MemoryPlanTest, TheWriterChecksTheRecordedPlan) {
  {
    PlannedModel m;
    EXPECT_TRUE(m.write()) << m.errors;
  }
  { // Two values live at once given the same bytes.
    PlannedModel m;
    auto forward = m.module->lookupSymbol<func::FuncOp>("forward");
    SmallVector<Operation *> producers;
    forward.walk([&](Operation *op) {
      if (auto list = op->getAttrOfType<ArrayAttr>("dl.memory"))
        if (list.size() == 1 && isa<IntegerAttr>(list[0]))
          producers.push_back(op);
    });
    ASSERT_GE(producers.size(), 2u);
    // The first two stored values: the first feeds the second's kernel.
    producers[1]->setAttr("dl.memory", producers[0]->getAttr("dl.memory"));
    EXPECT_FALSE(m.write());
    EXPECT_NE(m.errors.find("live at once, the same bytes"), std::string::npos) << m.errors;
  }
  { // A plan that does not fit its arena, or misaligned.
    PlannedModel m;
    auto forward = m.module->lookupSymbol<func::FuncOp>("forward");
    forward->setAttr("dl.arena_bytes", IntegerAttr::get(IntegerType::get(&m.context, 64), 64));
    EXPECT_FALSE(m.write());
    EXPECT_NE(m.errors.find("outside the 64-byte aligned arena"), std::string::npos) << m.errors;
  }
  { // No plan at all.
    PlannedModel m;
    m.module->lookupSymbol<func::FuncOp>("forward")->removeAttr("dl.arena_bytes");
    EXPECT_FALSE(m.write());
    EXPECT_NE(m.errors.find("has no memory plan (run dlc-plan-memory)"), std::string::npos)
        << m.errors;
  }
}
