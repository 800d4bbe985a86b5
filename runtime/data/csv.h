//===- csv.h - Tables of examples in CSV files ----------------------------===//
//
// RFC 4180 CSV (quoted fields, "" inside quotes, CRLF or LF) with a header
// row naming the columns, or none (columns are then named by their
// 0-based index: "0", "1", ...). One row is one example:
//
//   features  every column but the label columns, or those |columns| names,
//             in that order: numbers (decimal, exponent, inf/nan refused),
//             f32 [N, D]
//   labels    the |label| columns: numbers (integers stay integers, so they
//             can be class ids; [N] for one column, [N, k] for several), or,
//             for one column of words, class names numbered in sorted order
//             ("cat" 0, "dog" 1) unless |classNames| fixes the numbering
//             (the test file uses the train file's)
//
// Every defect is kInvalidArgument at `file:line`: a row with another number
// of fields than the header, a field that is not a number, an empty field,
// a class name the train file did not have.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/data/array.h"

namespace dlc::rt::data {

struct CsvOptions {
  std::vector<std::string> labels;  // the target columns (none: features only)
  std::vector<std::string> columns; // feature columns; empty: all but the labels
  bool header = true;
  char delimiter = ',';
};

struct CsvTable {
  HostArray features; // f32 [N, D]
  HostArray labels;   // i64 or f32, [N] or [N, k]; empty dims when no label columns
  std::vector<std::string> featureNames;
  std::vector<std::string> classNames; // when the label column holds words
};

/// Reads |path|. |classNames|, when not null and not empty, numbers word
/// labels (a name outside it is an error).
Status readCsv(const std::string &path, const CsvOptions &options,
               const std::vector<std::string> *classNames, CsvTable *out);

/// Splits "a, b,c" at commas, trimming spaces (option values listing columns).
std::vector<std::string> splitList(const std::string &text);

} // namespace dlc::rt::data
