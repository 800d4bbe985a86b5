//===- OnnxConformanceTest.cpp - The reference evaluator on ONNX node tests ===//
//
// Runs the float64 reference evaluator on ONNX's backend node test cases
// (shared/conformance/onnx-node: case.json + raw little-endian tensors). Each
// case becomes its own test: the harness writes a dl function for the ONNX
// node (inputs, and parameters too, as function arguments), parses it, runs
// dlc::ref::evaluate and compares with ONNX's expected outputs within
// |got - want| <= atol + rtol * |want|.
//
// ONNX and dl disagree on layouts, so the harness converts: images NCHW ->
// NHWC, conv weights OIHW -> [kh, kw, in, out], LSTM weights from ONNX's gate
// order (i, o, f, c) to Keras' (i, f, c, o); results go back the same way.
// A case dl cannot express (broadcasting, asymmetric padding, ceil_mode, ops
// without a dl counterpart, ...) is skipped with the reason; the summary at
// the end lists run/passed/skipped cases and the largest error per op, and
// every skip reason with its cases.
//
//===----------------------------------------------------------------------===//
#include "OnnxCase.h"
#include "OnnxMappings.h"

#include "compiler/Reference/Evaluator.h"
#include "dialects/DL/DLDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>

using namespace dlc::conformance;

namespace {

constexpr double kRtol = 1e-4, kAtol = 1e-6;

//===----------------------------------------------------------------------===//
// Comparison and the summary
//===----------------------------------------------------------------------===//

struct OpStats {
  int cases = 0, run = 0, passed = 0;
  /// Largest |got - want| / |want| (want != 0), |got - want|, and share of
  /// the allowed error atol + rtol * |want| used.
  double maxRelative = 0, maxAbsolute = 0, maxTolerance = 0;
  std::string worstCase;
  std::map<std::string, std::vector<std::string>> skipped; // reason -> cases
};

std::map<std::string, OpStats> &allStats() {
  static std::map<std::string, OpStats> stats;
  return stats;
}

std::string indexText(const std::vector<int64_t> &shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (int64_t i = int64_t(shape.size()) - 1; i >= 0; --i) {
    index[i] = shape[i] ? flat % shape[i] : 0;
    flat = shape[i] ? flat / shape[i] : 0;
  }
  return shapeText(index);
}

void compare(const std::string &caseName, const RefTensor &got, const OnnxTensor &want,
             OpStats &stats) {
  ASSERT_EQ(shapeText(got.shape), shapeText(want.shape))
      << "output '" << want.name << "': shape differs";
  int64_t bad = 0, first = -1;
  double maxRelative = 0, maxAbsolute = 0, maxTolerance = 0;
  for (int64_t i = 0; i < got.size(); ++i) {
    double g = got[i], w = want.data[i];
    bool ok;
    if (std::isnan(g) || std::isnan(w)) {
      ok = std::isnan(g) && std::isnan(w);
    } else if (std::isinf(g) || std::isinf(w)) {
      ok = g == w;
    } else {
      double error = std::fabs(g - w), allowed = kAtol + kRtol * std::fabs(w);
      ok = error <= allowed;
      maxAbsolute = std::max(maxAbsolute, error);
      maxTolerance = std::max(maxTolerance, error / allowed);
      if (w != 0)
        maxRelative = std::max(maxRelative, error / std::fabs(w));
    }
    if (!ok && bad++ == 0)
      first = i;
  }
  if (maxRelative > stats.maxRelative || stats.worstCase.empty()) {
    stats.maxRelative = maxRelative;
    stats.worstCase = caseName;
  }
  stats.maxAbsolute = std::max(stats.maxAbsolute, maxAbsolute);
  stats.maxTolerance = std::max(stats.maxTolerance, maxTolerance);
  std::ostringstream detail;
  detail.precision(10);
  if (first >= 0)
    detail << "first at " << indexText(want.shape, first) << ": got " << got[first] << ", want "
           << want.data[first];
  EXPECT_EQ(bad, 0) << "output '" << want.name << "': " << bad << " of " << got.size()
                    << " elements outside |got - want| <= " << kAtol << " + " << kRtol
                    << " * |want|; " << detail.str() << " (max relative error " << maxRelative
                    << ")";
}

class SummaryEnvironment : public ::testing::Environment {
public:
  void TearDown() override {
    auto &stats = allStats();
    if (stats.empty())
      return;
    std::ostringstream out;
    char line[256];
    out << "\n=== ONNX node conformance of the reference evaluator (rtol " << kRtol << ", atol "
        << kAtol << ") ===\n";
    std::snprintf(line, sizeof line, "%-26s %5s %4s %6s %7s  %-11s %-11s %-11s %s\n", "op",
                  "cases", "run", "passed", "skipped", "max rel err", "max abs err",
                  "err/allowed", "worst case (rel)");
    out << line;
    int cases = 0, run = 0, passed = 0;
    for (const auto &[op, s] : stats) {
      int skipped = 0;
      for (const auto &entry : s.skipped)
        skipped += int(entry.second.size());
      cases += s.cases, run += s.run, passed += s.passed;
      if (s.run)
        std::snprintf(line, sizeof line, "%-26s %5d %4d %6d %7d  %-11.3e %-11.3e %-11.3e %s\n",
                      op.c_str(), s.cases, s.run, s.passed, skipped, s.maxRelative,
                      s.maxAbsolute, s.maxTolerance, s.worstCase.c_str());
      else
        std::snprintf(line, sizeof line, "%-26s %5d %4d %6d %7d  %-11s %-11s %-11s\n",
                      op.c_str(), s.cases, s.run, s.passed, skipped, "-", "-", "-");
      out << line;
    }
    out << "total: " << cases << " cases, " << run << " run, " << passed << " passed, "
        << cases - run << " skipped\n\nSkipped, by op and reason:\n";
    for (const auto &[op, s] : stats)
      for (const auto &[reason, names] : s.skipped) {
        out << "  " << op << ": " << reason << " (" << names.size() << "):";
        for (const std::string &name : names)
          out << " " << name;
        out << "\n";
      }
    std::cout << out.str() << std::flush;
  }
};

[[maybe_unused]] ::testing::Environment *const summary =
    ::testing::AddGlobalTestEnvironment(new SummaryEnvironment);

//===----------------------------------------------------------------------===//
// The tests
//===----------------------------------------------------------------------===//

class OnnxNode : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxNode, MatchesReference) {
  const std::string &name = GetParam();
  ASSERT_NE(name, kIndexUnreadable) << "cannot read " << caseRoot() << "/index.json";
  OnnxCase c;
  std::string error = loadCase(name, c);
  ASSERT_TRUE(error.empty()) << error;
  OpStats &stats = allStats()[c.opType];
  ++stats.cases;
  Plan plan = mapCase(c);
  if (!plan.skip.empty()) {
    stats.skipped[plan.skip].push_back(name);
    GTEST_SKIP() << plan.skip;
  }
  ++stats.run;

  std::vector<RefTensor> results;
  mlir::MLIRContext context;
  if (plan.direct) {
    results = plan.direct();
  } else {
    context.loadDialect<dlc::dl::DLDialect, mlir::func::FuncDialect>();
    std::string diagnostics;
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diagnostic) {
      llvm::raw_string_ostream os(diagnostics);
      os << diagnostic.getLocation() << ": " << diagnostic << "\n";
      return mlir::success();
    });
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::parseSourceString<mlir::ModuleOp>(plan.mlir, &context);
    ASSERT_TRUE(module) << "the dl function does not parse:\n" << diagnostics << plan.mlir;
    auto function = module->lookupSymbol<mlir::func::FuncOp>("main");
    ASSERT_TRUE(function);
    mlir::FailureOr<std::vector<RefTensor>> evaluated =
        dlc::ref::evaluate(function, plan.arguments, dlc::ref::ParamMap());
    ASSERT_TRUE(mlir::succeeded(evaluated))
        << "evaluation failed:\n" << diagnostics << plan.mlir;
    results = std::move(*evaluated);
  }
  ASSERT_EQ(results.size(), plan.checks.size());
  for (size_t i = 0; i < results.size(); ++i) {
    const OnnxTensor *want = c.output(plan.checks[i].output);
    ASSERT_TRUE(want) << "no expected output " << plan.checks[i].output;
    SCOPED_TRACE(plan.mlir);
    compare(name, plan.checks[i].toOnnx(results[i]), *want, stats);
  }
  for (const auto &[output, value] : plan.constants)
    compare(name, value, *c.output(output), stats);
  if (!HasFailure())
    ++stats.passed;
}

std::string testName(const ::testing::TestParamInfo<std::string> &info) {
  std::string name = info.param;
  for (char &ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)))
      ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Onnx, OnnxNode, ::testing::ValuesIn(caseNames()), testName);
} // namespace
