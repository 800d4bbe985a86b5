//===- source.h - Opening a data section's source and splitting it -------===//
//
// The entry point `dlc train` uses: openSource() turns a source kind and its
// options (dialects/DL/DLCatalog.cpp dataSources()) into datasets,
// splitSource() applies the `validation` setting, and BatchLoader (batch.h)
// draws batches through the Pipeline of steps (steps.h).
//
//   fashion_mnist(path)  the four *-ubyte.gz files of Debian's
//                        dataset-fashion-mnist (or their uncompressed
//                        names); 10 classes
//   idx(train_images, train_labels, test_images, test_labels)
//                        any IDX pair per split (test paths may be "" for no
//                        test split); classes = 1 + the largest label
//   text(path, vocab_size, sequence_length)
//                        next-word windows (text.h); no test split
//   npy(x, y, test_x, test_y)
//                        one .npy file of inputs and one of targets per split
//   npz(train, test)     a .npz per split: an array per model input, named
//                        after it (a one-input model also takes `x`), and
//                        the targets `labels` (or `y`); a model of several
//                        outputs takes an array of targets per output,
//                        named after it (Keras' y={"price": ..., ...})
//   safetensors(train, test)
//                        the same naming, in safetensors files
//   csv(train, test, label, columns, header, delimiter)
//                        one row per example (csv.h)
//   image_folder(path, test, image_size, color_mode)
//                        one sub-folder of JPEG/PNG images per class
//                        (image.h); image_size and color_mode default to
//                        the model's first input
//
// Every other source gives one target, so a model of several outputs trains
// from npz or safetensors.
//
// Paths in a .dl file were made absolute by the compiler (relative to the
// .dl file); on the command line they are relative to the working
// directory.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/data/dataset.h"
#include "runtime/data/options.h"

namespace dlc::rt::data {

struct Source {
  std::shared_ptr<const Dataset> train;
  std::shared_ptr<const Dataset> test; // null when the source has no test split
  /// One line for the training log, e.g. "fashion_mnist: 60000 train, 10000
  /// test examples of f32 [28, 28, 1], 10 classes".
  std::string summary;
};

/// The model's inputs and outputs, which name the arrays of npz/safetensors
/// files; the inputs give image_folder its defaults.
struct ModelSignature {
  std::vector<Field> inputs;
  /// The model's output names, in order: a dataset has one target per
  /// output. Empty or one name: one target, as every source gives it.
  std::vector<std::string> outputs;
  /// False to predict (dlc run): only the model's inputs are read, targets
  /// the files may hold are not needed (and not read); the datasets'
  /// targets are then placeholders of zeros, one per output. Not for text
  /// and image_folder (their targets come with the examples).
  bool targets = true;
};

Status openSource(const std::string &kind, const Options &options, const ModelSignature &model,
                  Source *out);

/// The `validation` setting: "test" (the default), a fraction in (0, 1), or
/// none (train on everything, no validation).
struct Validation {
  enum class Kind { kNone, kTest, kFraction };
  Kind kind = Kind::kTest;
  double fraction = 0;
};

/// Parses "test", "none" or a number in (0, 1).
Status parseValidation(const OptionValue &value, Validation *out);

struct Splits {
  std::shared_ptr<const Dataset> train;
  std::shared_ptr<const Dataset> validation; // null for Kind::kNone
};

/// kTest: the source's test split (an error if it has none). kFraction:
/// Keras' validation_split rule, deterministic and before any shuffling:
/// examples [floor(n * (1 - fraction)), n) validate and the ones before
/// train, less splitGap() examples at the seam so overlapping text windows
/// do not leak validation tokens into training.
Status splitSource(const Source &source, const Validation &validation, Splits *out);

} // namespace dlc::rt::data
