//===- text.h - Next-word prediction windows over a text corpus ----------===//
//
// The `text` source reads one file, or every file of a directory (sorted by
// name, not recursive; hidden files, fortune's *.dat indexes and its *.u8
// duplicates skipped), so Debian's /usr/share/games/fortunes works as is.
// A line holding only '%' separates entries (fortune's format); a file
// without one is a single entry.
//
// Tokens: the text is lowercased (ASCII) and split into words, maximal runs
// of ASCII letters, digits and apostrophes with apostrophes trimmed from
// both ends, so "Don't!" is "don't" and 'quoted' is "quoted"; every other
// byte separates words. Fortune's overstriking ("_\bx", "x\bx") is undone
// first, so underlined and bold words read as plain words.
//
// Vocabulary: the vocab_size - 1 most frequent words over the whole corpus,
// ties broken alphabetically (byte order) so it does not depend on hash
// order, get ids 1..vocab_size-1 by rank; every other word is id 0 ("[UNK]").
//
// Examples: the entries' tokens are concatenated in file order into one
// stream, and example i is the window stream[i, i + sequence_length) with
// label stream[i + sequence_length]. Windows run across entry boundaries
// rather than within entries: most fortunes are shorter than a 20-word
// window plus its label, and would otherwise yield nothing.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/data/dataset.h"

#include <string_view>

namespace dlc::rt::data {

/// Lowercased words of |text| under the rules above (overstriking included).
std::vector<std::string> tokenizeWords(std::string_view text);
/// The entries of a fortune-format text (the whole text if there is no '%'
/// line). Empty entries are dropped.
std::vector<std::string_view> splitEntries(std::string_view text);

struct TextStats {
  int64_t files = 0;
  int64_t bytes = 0;
  int64_t entries = 0;
  int64_t tokens = 0;        // words in the stream
  int64_t distinctWords = 0; // before the vocabulary cut
  int64_t tokensInVocabulary = 0;
  /// Fraction of the stream's tokens that are not [UNK].
  double coverage() const { return tokens ? double(tokensInVocabulary) / double(tokens) : 0.0; }
};

class TextDataset : public Dataset {
public:
  /// Reads |path| (a file or a directory, see above).
  static Status open(const std::string &path, int64_t vocabSize, int64_t sequenceLength,
                     std::shared_ptr<TextDataset> *out);
  /// Builds from in-memory texts, each read as one file would be.
  static Status fromTexts(const std::vector<std::string> &texts, int64_t vocabSize,
                          int64_t sequenceLength, std::string name,
                          std::shared_ptr<TextDataset> *out);

  int64_t size() const override { return int64_t(tokens_.size()) - sequenceLength_; }
  const std::vector<Field> &inputs() const override { return inputs_; }
  /// One target: the next word's id.
  const std::vector<Field> &targets() const override { return targets_; }
  /// vocab_size, even when the corpus has fewer distinct words: the model's
  /// output layer is sized from the option.
  int64_t numClasses(size_t) const override { return vocabSize_; }
  std::string name() const override { return name_; }
  int64_t splitGap() const override { return sequenceLength_; }

  /// Id -> word; [0] is "[UNK]". May be shorter than vocab_size.
  const std::vector<std::string> &vocabulary() const { return vocabulary_; }
  /// The id of |word| (0 if out of vocabulary).
  int32_t lookup(const std::string &word) const;
  const std::vector<int32_t> &tokens() const { return tokens_; }
  const TextStats &stats() const { return stats_; }

protected:
  Status gatherChecked(const int64_t *indices, int64_t count, void *const *inputs,
                       const DType *inputTypes, void *const *targets,
                       const DType *targetTypes) const override;

private:
  std::string name_;
  int64_t vocabSize_ = 0, sequenceLength_ = 0;
  std::vector<Field> inputs_;
  std::vector<Field> targets_{Field{"labels", DType::kI32, {}}};
  std::vector<std::string> vocabulary_;
  std::vector<int32_t> tokens_;
  TextStats stats_;
};

} // namespace dlc::rt::data
