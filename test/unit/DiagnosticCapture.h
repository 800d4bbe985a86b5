//===- DiagnosticCapture.h - Collect diagnostics in unit tests --*- C++ -*-===//
//
// The unit tests pin each diagnostic's text, line:col and notes, because those
// are what users see. DiagnosticCapture installs a handler on a context that
// records every diagnostic (expecting errors only) instead of printing it;
// EXPECT_DIAG checks one recorded diagnostic.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TEST_UNIT_DIAGNOSTICCAPTURE_H
#define DLC_TEST_UNIT_DIAGNOSTICCAPTURE_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace dlc::unittest {

/// One recorded diagnostic; line and col are 0 unless it was reported at a
/// FileLineColLoc.
struct Diag {
  std::string message;
  unsigned line = 0, col = 0;
  std::vector<Diag> notes;

  static Diag from(mlir::Diagnostic &diagnostic) {
    Diag diag;
    diag.message = diagnostic.str();
    if (auto loc = llvm::dyn_cast<mlir::FileLineColLoc>(diagnostic.getLocation())) {
      diag.line = loc.getLine();
      diag.col = loc.getColumn();
    }
    for (mlir::Diagnostic &note : diagnostic.getNotes())
      diag.notes.push_back(from(note));
    return diag;
  }

  /// The messages of the notes, in order.
  std::vector<std::string> noteMessages() const {
    std::vector<std::string> messages;
    for (const Diag &note : notes)
      messages.push_back(note.message);
    return messages;
  }
};

/// Records the diagnostics of |context| while it lives (it must not outlive
/// the context). Each one is expected to be an error.
class DiagnosticCapture {
public:
  explicit DiagnosticCapture(mlir::MLIRContext *context)
      : handler(context, [this](mlir::Diagnostic &d) {
          EXPECT_EQ(d.getSeverity(), mlir::DiagnosticSeverity::Error);
          diags.push_back(Diag::from(d));
          return mlir::success();
        }) {}
  DiagnosticCapture(const DiagnosticCapture &) = delete;
  DiagnosticCapture &operator=(const DiagnosticCapture &) = delete;

  size_t size() const { return diags.size(); }
  bool empty() const { return diags.empty(); }
  const Diag &operator[](size_t i) const { return diags[i]; }
  void clear() { diags.clear(); }

  /// The first diagnostic, or an empty Diag when there is none (the caller
  /// has checked the count).
  Diag first() const { return diags.empty() ? Diag{} : diags.front(); }

private:
  std::vector<Diag> diags;
  mlir::ScopedDiagnosticHandler handler;
};

/// Line and column of a FileLineColLoc.
inline std::pair<unsigned, unsigned> lineCol(mlir::Location loc) {
  auto fileLoc = llvm::cast<mlir::FileLineColLoc>(loc);
  return {fileLoc.getLine(), fileLoc.getColumn()};
}

} // namespace dlc::unittest

/// Checks the message and line:col of the Diag |diag|.
#define EXPECT_DIAG(diag, msg, l, c)                                                               \
  do {                                                                                             \
    ::dlc::unittest::Diag d_ = (diag);                                                             \
    EXPECT_EQ(d_.message, msg);                                                                    \
    EXPECT_EQ(d_.line, unsigned(l));                                                               \
    EXPECT_EQ(d_.col, unsigned(c));                                                                \
  } while (0)

#endif // DLC_TEST_UNIT_DIAGNOSTICCAPTURE_H
