//===- text.cc - Next-word prediction windows over a text corpus ---------===//
#include "runtime/data/text.h"

#include "runtime/file_io.h"
#include "runtime/float16.h"
#include "runtime/limits.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include <sys/stat.h>

namespace dlc::rt::data {
namespace fs = std::filesystem;
namespace {

bool isWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'';
}

std::string undoOverstrike(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c != '\b')
      out.push_back(c);
    else if (!out.empty() && out.back() != '\n')
      out.pop_back(); // "x\by" prints y over x: keep only y
  }
  return out;
}

bool endsWith(const std::string &s, const char *suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

Status readText(const std::string &path, std::string *out) {
  std::vector<uint8_t> bytes;
  DLC_RETURN_IF_ERROR(readFile(path, &bytes, hostMemoryBytes() / 4, "a text corpus file"), "");
  out->assign(bytes.begin(), bytes.end());
  return okStatus();
}

/// The corpus files under |path|, in name order.
Status listFiles(const std::string &path, std::vector<std::string> *files) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0)
    return DLC_MAKE_STATUS(StatusCode::kNotFound,
                           path + ": not found (give a text file or a directory of them; "
                                  "Debian's fortunes package installs /usr/share/games/fortunes)");
  if (S_ISREG(info.st_mode)) {
    files->push_back(path);
    return okStatus();
  }
  if (!S_ISDIR(info.st_mode))
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, path + ": neither a file nor a directory");
  std::error_code ec;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || endsWith(name, ".dat") || endsWith(name, ".u8"))
      continue;
    std::error_code typeError;
    if (it->is_regular_file(typeError)) // follows symlinks
      files->push_back(it->path().string());
  }
  if (ec)
    return DLC_MAKE_STATUS(StatusCode::kUnavailable,
                           path + ": cannot list the directory: " + ec.message());
  if (files->empty())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           path + ": no text files in the directory (*.dat and *.u8 are skipped)");
  std::sort(files->begin(), files->end());
  return okStatus();
}

} // namespace

std::vector<std::string> tokenizeWords(std::string_view text) {
  std::string clean = undoOverstrike(text);
  std::vector<std::string> words;
  for (size_t i = 0; i < clean.size();) {
    if (!isWordByte(clean[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < clean.size() && isWordByte(clean[j]))
      ++j;
    size_t b = i, e = j;
    while (b < e && clean[b] == '\'')
      ++b;
    while (e > b && clean[e - 1] == '\'')
      --e;
    if (b < e) {
      std::string word = clean.substr(b, e - b);
      for (char &c : word)
        if (c >= 'A' && c <= 'Z')
          c = char(c - 'A' + 'a');
      words.push_back(std::move(word));
    }
    i = j;
  }
  return words;
}

std::vector<std::string_view> splitEntries(std::string_view text) {
  std::vector<std::string_view> entries;
  size_t start = 0, pos = 0;
  auto flush = [&](size_t end) {
    if (text.substr(start, end - start).find_first_not_of(" \t\r\n") != std::string_view::npos)
      entries.push_back(text.substr(start, end - start));
  };
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    size_t lineEnd = eol == std::string_view::npos ? text.size() : eol;
    std::string_view line = text.substr(pos, lineEnd - pos);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    size_t next = eol == std::string_view::npos ? text.size() : eol + 1;
    if (line == "%") {
      flush(pos);
      start = next;
    }
    pos = next;
  }
  flush(text.size());
  return entries;
}

int32_t TextDataset::lookup(const std::string &word) const {
  // The vocabulary is small (vocab_size) and looked up rarely (decoding).
  auto it = std::find(vocabulary_.begin() + 1, vocabulary_.end(), word);
  return it == vocabulary_.end() ? 0 : int32_t(it - vocabulary_.begin());
}

Status TextDataset::fromTexts(const std::vector<std::string> &texts, int64_t vocabSize,
                              int64_t sequenceLength, std::string name,
                              std::shared_ptr<TextDataset> *out) {
  if (vocabSize < 2 || vocabSize > INT32_MAX || sequenceLength < 1)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           name +
                               ": vocab_size must be at least 2 and sequence_length at "
                               "least 1, got " +
                               std::to_string(vocabSize) + " and " +
                               std::to_string(sequenceLength));
  auto ds = std::make_shared<TextDataset>();
  ds->name_ = std::move(name);
  ds->vocabSize_ = vocabSize;
  ds->sequenceLength_ = sequenceLength;
  ds->inputs_ = {Field{"", DType::kI32, {sequenceLength}}};
  std::vector<std::string> words;
  for (const std::string &text : texts) {
    ds->stats_.bytes += int64_t(text.size());
    for (std::string_view entry : splitEntries(text)) {
      ++ds->stats_.entries;
      std::vector<std::string> entryWords = tokenizeWords(entry);
      words.insert(words.end(), std::make_move_iterator(entryWords.begin()),
                   std::make_move_iterator(entryWords.end()));
    }
  }
  if (int64_t(words.size()) <= sequenceLength)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                           ds->name_ + ": the corpus has " + std::to_string(words.size()) +
                               " words, too few for one window of sequence_length " +
                               std::to_string(sequenceLength) + " plus its next word");
  std::unordered_map<std::string, int64_t> counts;
  for (const std::string &w : words)
    ++counts[w];
  std::vector<std::pair<int64_t, const std::string *>> ranked;
  ranked.reserve(counts.size());
  for (const auto &[word, count] : counts)
    ranked.push_back({count, &word});
  std::sort(ranked.begin(), ranked.end(), [](const auto &a, const auto &b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  });
  size_t kept = std::min(ranked.size(), size_t(vocabSize - 1));
  ds->vocabulary_ = {"[UNK]"};
  std::unordered_map<std::string_view, int32_t> ids;
  for (size_t i = 0; i < kept; ++i) {
    ds->vocabulary_.push_back(*ranked[i].second);
    ids[*ranked[i].second] = int32_t(i + 1);
  }
  ds->tokens_.reserve(words.size());
  for (const std::string &w : words) {
    auto it = ids.find(w);
    ds->tokens_.push_back(it == ids.end() ? 0 : it->second);
    ds->stats_.tokensInVocabulary += it != ids.end();
  }
  ds->stats_.files = int64_t(texts.size());
  ds->stats_.tokens = int64_t(words.size());
  ds->stats_.distinctWords = int64_t(counts.size());
  *out = std::move(ds);
  return okStatus();
}

Status TextDataset::open(const std::string &path, int64_t vocabSize, int64_t sequenceLength,
                         std::shared_ptr<TextDataset> *out) {
  std::vector<std::string> files;
  DLC_RETURN_IF_ERROR(listFiles(path, &files), "");
  std::vector<std::string> texts(files.size());
  for (size_t i = 0; i < files.size(); ++i)
    DLC_RETURN_IF_ERROR(readText(files[i], &texts[i]), "");
  return fromTexts(texts, vocabSize, sequenceLength, path, out);
}

Status TextDataset::gatherChecked(const int64_t *indices, int64_t count, void *const *inputs,
                                  const DType *inputTypes, void *const *targets,
                                  const DType *targetTypes) const {
  for (int64_t r = 0; r < count; ++r) {
    const int32_t *window = tokens_.data() + indices[r];
    if (inputTypes[0] == DType::kI32)
      std::copy(window, window + sequenceLength_, static_cast<int32_t *>(inputs[0]) + r * sequenceLength_);
    else
      for (int64_t t = 0; t < sequenceLength_; ++t)
        storeElement(inputTypes[0], inputs[0], r * sequenceLength_ + t, window[t]);
    storeElement(targetTypes[0], targets[0], r, window[sequenceLength_]);
  }
  return okStatus();
}

} // namespace dlc::rt::data
