//===- csv.cc - Tables of examples in CSV files ---------------------------===//
#include "runtime/data/csv.h"

#include "runtime/file_io.h"
#include "runtime/limits.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

namespace dlc::rt::data {
namespace {

/// Splits the file into rows of fields, RFC 4180: a quoted field may hold
/// the delimiter, newlines and "" for a quote. Remembers each row's line.
class Reader {
public:
  Reader(const std::string &path, std::string_view text, char delimiter)
      : path_(path), text_(text), delimiter_(delimiter) {}

  /// The next row; false at the end of the text.
  Status next(std::vector<std::string> *fields, int64_t *line, bool *got) {
    fields->clear();
    *got = false;
    // Blank lines (a trailing newline, an empty last line) are not rows.
    while (at_ < text_.size() && (text_[at_] == '\n' || text_[at_] == '\r')) {
      if (text_[at_] == '\n')
        ++line_;
      ++at_;
    }
    if (at_ >= text_.size())
      return okStatus();
    *line = line_;
    *got = true;
    std::string field;
    while (true) {
      if (at_ < text_.size() && text_[at_] == '"' ) {
        ++at_;
        while (true) {
          if (at_ >= text_.size())
            return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                                   path_ + ":" + std::to_string(*line) +
                                       ": a quoted field is never closed");
          char c = text_[at_++];
          if (c == '"') {
            if (at_ < text_.size() && text_[at_] == '"') {
              field += '"';
              ++at_;
              continue;
            }
            break;
          }
          if (c == '\n')
            ++line_;
          field += c;
        }
      }
      while (at_ < text_.size() && text_[at_] != delimiter_ && text_[at_] != '\n' &&
             text_[at_] != '\r')
        field += text_[at_++];
      fields->push_back(std::move(field));
      field.clear();
      if (at_ >= text_.size())
        return okStatus();
      char c = text_[at_++];
      if (c == delimiter_)
        continue;
      if (c == '\r' && at_ < text_.size() && text_[at_] == '\n')
        ++at_;
      ++line_;
      return okStatus();
    }
  }

private:
  std::string path_;
  std::string_view text_;
  char delimiter_;
  size_t at_ = 0;
  int64_t line_ = 1;
};

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

/// A finite number spelled in full ("1", "-2.5e3", " 7 "); false otherwise.
bool parseNumber(const std::string &text, double *out) {
  std::string t = trim(text);
  if (t.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  double v = std::strtod(t.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v) || std::fabs(v) > 3.4028234663852886e38)
    return false;
  // strtod reads "nan", "inf" and hex floats; a data file means none of them.
  for (char c : t)
    if (std::isalpha(static_cast<unsigned char>(c)) && c != 'e' && c != 'E')
      return false;
  *out = v;
  return true;
}

} // namespace

std::vector<std::string> splitList(const std::string &text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = trim(text.substr(start, comma == std::string::npos ? std::string::npos
                                                                          : comma - start));
    if (!item.empty())
      items.push_back(item);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return items;
}

Status readCsv(const std::string &path, const CsvOptions &options,
               const std::vector<std::string> *classNames, CsvTable *out) {
  std::vector<uint8_t> bytes;
  DLC_RETURN_IF_ERROR(readFile(path, &bytes, hostMemoryBytes() / 4, "a CSV file"), "");
  std::string_view text(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") // a UTF-8 byte order mark
    text.remove_prefix(3);
  Reader reader(path, text, options.delimiter);
  std::vector<std::string> fields, names;
  int64_t line = 0;
  bool got = false;
  DLC_RETURN_IF_ERROR(reader.next(&fields, &line, &got), "");
  if (!got)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, path + ": the file holds no rows");
  const size_t width = fields.size();
  if (options.header) {
    for (std::string &f : fields)
      names.push_back(trim(f));
  } else {
    for (size_t i = 0; i < width; ++i)
      names.push_back(std::to_string(i));
  }
  auto columnOf = [&](const std::string &name, size_t *index) -> Status {
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end())
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             path + ":1: no column '" + name + "' (" +
                                 (options.header ? "the header names: " : "columns are numbered: ") +
                                 [&] {
                                   std::string all;
                                   for (size_t i = 0; i < names.size() && i < 20; ++i)
                                     all += (i ? ", " : "") + names[i];
                                   return all + (names.size() > 20 ? ", ..." : "");
                                 }() +
                                 ")");
    *index = size_t(it - names.begin());
    return okStatus();
  };
  std::vector<size_t> labelColumns, featureColumns;
  for (const std::string &l : options.labels) {
    size_t c;
    DLC_RETURN_IF_ERROR(columnOf(l, &c), "");
    labelColumns.push_back(c);
  }
  if (!options.columns.empty()) {
    for (const std::string &f : options.columns) {
      size_t c;
      DLC_RETURN_IF_ERROR(columnOf(f, &c), "");
      if (std::count(labelColumns.begin(), labelColumns.end(), c))
        return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                               path + ": column '" + f + "' is both a feature and the label");
      featureColumns.push_back(c);
    }
  } else {
    for (size_t c = 0; c < width; ++c)
      if (!std::count(labelColumns.begin(), labelColumns.end(), c))
        featureColumns.push_back(c);
  }
  if (featureColumns.empty())
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, path + ": no feature columns are left");

  std::vector<float> features;
  std::vector<double> labels;
  std::vector<std::string> words; // the label column's text, when it is words
  std::vector<int64_t> wordLines;
  bool wordLabels = false, integral = true;
  int64_t rows = 0;
  bool pending = !options.header;
  while (true) {
    if (!pending) {
      DLC_RETURN_IF_ERROR(reader.next(&fields, &line, &got), "");
      if (!got)
        break;
    }
    pending = false;
    const std::string where = path + ":" + std::to_string(line);
    if (fields.size() != width)
      return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                             where + ": the row has " + std::to_string(fields.size()) +
                                 " fields but the " + (options.header ? "header has " : "first row has ") +
                                 std::to_string(width) + " (a ragged row)");
    for (size_t c : featureColumns) {
      double v;
      if (!parseNumber(fields[c], &v))
        return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                               where + ": column '" + names[c] + "' holds '" + fields[c].substr(0, 40) +
                                   "', not a finite number" +
                                   (trim(fields[c]).empty() ? " (a missing value)" : ""));
      features.push_back(float(v));
    }
    for (size_t c : labelColumns) {
      double v;
      if (!wordLabels && parseNumber(fields[c], &v)) {
        integral = integral && v == std::floor(v) && std::fabs(v) < 9e15;
        labels.push_back(v);
        continue;
      }
      const std::string word = trim(fields[c]);
      if (labelColumns.size() > 1 || word.empty() || (!labels.empty() && !wordLabels))
        return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                               where + ": label column '" + names[c] + "' holds '" +
                                   fields[c].substr(0, 40) + "', " +
                                   (word.empty() ? "an empty field"
                                                 : "a word among numbers (labels are numbers, or "
                                                   "one column of class names)"));
      wordLabels = true;
      words.push_back(word);
      wordLines.push_back(line);
    }
    ++rows;
    if (int64_t(features.size()) > kMaxTensorElements)
      return DLC_MAKE_STATUS(StatusCode::kResourceExhausted, path + ": too many values");
  }
  if (rows == 0)
    return DLC_MAKE_STATUS(StatusCode::kInvalidArgument, path + ": the file holds a header but no rows");

  CsvTable table;
  for (size_t c : featureColumns)
    table.featureNames.push_back(names[c]);
  std::vector<uint8_t> featureBytes(features.size() * 4);
  std::memcpy(featureBytes.data(), features.data(), featureBytes.size());
  table.features = HostArray::owning(DType::kF32, {rows, int64_t(featureColumns.size())},
                                     std::move(featureBytes));
  if (!labelColumns.empty()) {
    std::vector<int64_t> dims = {rows};
    if (labelColumns.size() > 1)
      dims.push_back(int64_t(labelColumns.size()));
    if (wordLabels) {
      if (classNames && !classNames->empty()) {
        table.classNames = *classNames;
      } else {
        std::set<std::string> distinct(words.begin(), words.end());
        table.classNames.assign(distinct.begin(), distinct.end());
      }
      std::map<std::string, int64_t> ids;
      for (size_t i = 0; i < table.classNames.size(); ++i)
        ids[table.classNames[i]] = int64_t(i);
      std::vector<uint8_t> idBytes(words.size() * 8);
      for (size_t i = 0; i < words.size(); ++i) {
        auto it = ids.find(words[i]);
        if (it == ids.end())
          return DLC_MAKE_STATUS(StatusCode::kInvalidArgument,
                                 path + ":" + std::to_string(wordLines[i]) + ": the class '" +
                                     words[i] + "' is not one of the training file's " +
                                     std::to_string(table.classNames.size()) + " classes");
        std::memcpy(idBytes.data() + 8 * i, &it->second, 8);
      }
      table.labels = HostArray::owning(DType::kI64, dims, std::move(idBytes));
    } else if (integral) {
      std::vector<uint8_t> idBytes(labels.size() * 8);
      for (size_t i = 0; i < labels.size(); ++i) {
        int64_t v = int64_t(labels[i]);
        std::memcpy(idBytes.data() + 8 * i, &v, 8);
      }
      table.labels = HostArray::owning(DType::kI64, dims, std::move(idBytes));
    } else {
      std::vector<uint8_t> valueBytes(labels.size() * 4);
      for (size_t i = 0; i < labels.size(); ++i) {
        float v = float(labels[i]);
        std::memcpy(valueBytes.data() + 4 * i, &v, 4);
      }
      table.labels = HostArray::owning(DType::kF32, dims, std::move(valueBytes));
    }
  }
  *out = std::move(table);
  return okStatus();
}

} // namespace dlc::rt::data
