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
#include <random>

using namespace mlir;
using namespace dlc;

namespace {

/// The MNIST CNN at batch 2, as file bytes.
const std::vector<uint8_t> &mnistBundle() {
  static std::vector<uint8_t> bytes = [] {
    MLIRContext context;
    context.loadDialect<dl::DLDialect, func::FuncDialect>();
    llvm::SourceMgr sourceMgr;
    SourceMgrDiagnosticHandler handler(sourceMgr, &context);
    auto program = loadProgram(DLC_SOURCE_DIR "/examples/mnist_cnn.dl", sourceMgr, &context);
    EXPECT_TRUE(succeeded(program));
    auto module = buildModule(*program, "", &context);
    EXPECT_TRUE(succeeded(module));
    EXPECT_TRUE(succeeded(runKernelPipeline(**module, 2, BundleOptions{}.targets)));
    std::vector<uint8_t> out;
    EXPECT_TRUE(succeeded(writeBundle(**module, BundleOptions{}, &out)));
    return out;
  }();
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

/// Loads, creates a session and runs inference on zeros: must not crash.
void exercise(const std::vector<uint8_t> &bytes) {
  std::unique_ptr<rt::Bundle> bundle;
  if (!load(bytes, &bundle).ok())
    return;
  std::unique_ptr<rt::Session> session;
  if (!rt::Session::create(std::move(bundle), rt::createCpuDevice(), &session).ok())
    return;
  std::vector<rt::TensorView> inputs, outputs;
  std::vector<std::vector<uint8_t>> storage;
  for (const rt::TensorSpec &spec : session->inputs("infer")) {
    storage.emplace_back(size_t(rt::numElements(spec.shape)) * rt::dtypeSize(spec.dtype));
    inputs.push_back({storage.back().data(), spec.dtype, spec.shape});
  }
  (void)session->run("infer", inputs, &outputs);
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

TEST(BundleLoaderTest, RejectsEveryTruncation) {
  const std::vector<uint8_t> &good = mnistBundle();
  for (size_t length = 0; length < good.size(); length += 1 + length / 7) {
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
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<uint8_t> bytes = good;
    size_t at = 32 + rng() % (bytes.size() - 32);
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
std::string loadEdited(const std::function<void(rt::fb::Bundle *)> &edit) {
  std::vector<uint8_t> bytes = mnistBundle();
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
