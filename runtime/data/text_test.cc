//===- text_test.cc - Tokenizer, vocabulary and next-word windows ---------===//
#include "runtime/data/text.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

using namespace dlc::rt;
using namespace dlc::rt::data;
namespace fs = std::filesystem;

namespace {

using Words = std::vector<std::string>;

TEST(DataTextTokenize, LowercasesAndStripsPunctuation) {
  EXPECT_EQ(tokenizeWords("Don't PANIC!  'Quoted' -- 42 e-mail, rock'n'roll...\n"),
            (Words{"don't", "panic", "quoted", "42", "e", "mail", "rock'n'roll"}));
  EXPECT_EQ(tokenizeWords("''' !!! \t"), Words{});
  // Non-ASCII bytes separate words rather than joining into them.
  EXPECT_EQ(tokenizeWords("caf\xc3\xa9 ok"), (Words{"caf", "ok"}));
}

TEST(DataTextTokenize, UndoesOverstriking) {
  // nroff-style underline (_\bx) and bold (x\bx), as in fortunes' files.
  EXPECT_EQ(tokenizeWords("_\bB_\bo_\bl_\bd and b\bbo\bol\bld\bd"), (Words{"bold", "and", "bold"}));
}

TEST(DataTextTokenize, SplitsFortuneEntries) {
  std::vector<std::string_view> e = splitEntries("a b\n%\nc\r\n%\r\n\n%\nd %\n%");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0], "a b\n");
  EXPECT_EQ(e[1], "c\r\n");
  EXPECT_EQ(e[2], "d %\n");
  EXPECT_EQ(splitEntries("no separators\n100% here\n").size(), 1u);
}

TEST(DataTextDataset, WindowsAndLabelsAreExact) {
  std::shared_ptr<TextDataset> ds;
  // Counts: the 3; cat, end, mat, on, sat 1 each -> ties go alphabetically.
  ASSERT_TRUE(
      TextDataset::fromTexts({"The cat sat on the mat.\n%\nThe end!"}, 4, 3, "t", &ds).ok());
  EXPECT_EQ(ds->vocabulary(), (Words{"[UNK]", "the", "cat", "end"}));
  EXPECT_EQ(ds->tokens(), (std::vector<int32_t>{1, 2, 0, 0, 1, 0, 1, 3}));
  EXPECT_EQ(ds->size(), 5);
  EXPECT_EQ(ds->numClasses(0), 4);
  EXPECT_EQ(ds->inputs()[0].shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(ds->inputs()[0].dtype, DType::kI32);
  EXPECT_EQ(ds->lookup("cat"), 2);
  EXPECT_EQ(ds->lookup("mat"), 0);
  EXPECT_EQ(ds->stats().entries, 2);
  EXPECT_EQ(ds->stats().tokens, 8);
  EXPECT_EQ(ds->stats().distinctWords, 6);
  EXPECT_DOUBLE_EQ(ds->stats().coverage(), 5.0 / 8.0);

  // Window 4 crosses the entry boundary: "the mat the" -> "end".
  std::vector<int32_t> inputs(2 * 3, -1), labels(2, -1);
  int64_t idx[] = {0, 4};
  auto ids = [&](DType type) {
    return std::vector<TensorView>{TensorView{inputs.data(), type, {2, 3}}};
  };
  const std::vector<TensorView> labelView = {TensorView{labels.data(), DType::kI32, {2}}};
  ASSERT_TRUE(ds->gather(idx, 2, ids(DType::kI32), labelView).ok());
  EXPECT_EQ(inputs, (std::vector<int32_t>{1, 2, 0, 1, 0, 1}));
  EXPECT_EQ(labels, (std::vector<int32_t>{0, 3}));

  int64_t bad[] = {5};
  EXPECT_EQ(ds->gather(bad, 1, ids(DType::kI32), labelView).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ds->gather(idx, 2, ids(DType::kI8), labelView).ok()); // not a type ids convert to
}

TEST(DataTextDataset, VocabularyIsDeterministic) {
  // The same counts in different orders give the same vocabulary.
  std::shared_ptr<TextDataset> a, b, c;
  ASSERT_TRUE(TextDataset::fromTexts({"z y x w z y x z y z"}, 4, 1, "a", &a).ok());
  ASSERT_TRUE(TextDataset::fromTexts({"w x y z x y z y z z"}, 4, 1, "b", &b).ok());
  ASSERT_TRUE(TextDataset::fromTexts({"q r s t u v"}, 4, 1, "c", &c).ok());
  EXPECT_EQ(a->vocabulary(), (Words{"[UNK]", "z", "y", "x"}));
  EXPECT_EQ(a->vocabulary(), b->vocabulary());
  EXPECT_EQ(c->vocabulary(), (Words{"[UNK]", "q", "r", "s"})); // all tied: alphabetical
}

TEST(DataTextDataset, RejectsTooSmallCorpora) {
  std::shared_ptr<TextDataset> ds;
  Status s = TextDataset::fromTexts({"one two three"}, 10, 3, "tiny", &ds);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("3 words"), std::string::npos) << s.toString();
  EXPECT_TRUE(TextDataset::fromTexts({"one two three"}, 10, 2, "tiny", &ds).ok());
  EXPECT_EQ(ds->size(), 1);
  EXPECT_EQ(TextDataset::open("/nonexistent/corpus", 10, 2, &ds).code(), StatusCode::kNotFound);
}

TEST(DataTextDataset, ReadsDirectoriesLikeFortunes) {
  std::string pattern = (fs::temp_directory_path() / "dlc_text_XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  fs::path dir = pattern;
  std::ofstream(dir / "b") << "gamma delta\n%\nepsilon\n";
  std::ofstream(dir / "a") << "alpha beta\n";
  std::ofstream(dir / "a.dat") << "binary index";
  std::ofstream(dir / ".hidden") << "hidden words";
  fs::create_symlink("a", dir / "a.u8");
  fs::create_directory(dir / "off");
  std::ofstream(dir / "off" / "c") << "not read";

  std::shared_ptr<TextDataset> ds;
  Status s = TextDataset::open(dir.string(), 100, 2, &ds);
  ASSERT_TRUE(s.ok()) << s.toString();
  EXPECT_EQ(ds->stats().files, 2);
  EXPECT_EQ(ds->stats().entries, 3);
  // Files in name order: a then b.
  Words stream;
  for (int32_t t : ds->tokens())
    stream.push_back(ds->vocabulary()[size_t(t)]);
  EXPECT_EQ(stream, (Words{"alpha", "beta", "gamma", "delta", "epsilon"}));
  fs::remove_all(dir);
}

TEST(DataTextDataset, DebianFortunes) {
  const char *path = "/usr/share/games/fortunes";
  if (!fs::exists(fs::path(path) / "fortunes"))
    GTEST_SKIP() << "Debian's fortunes package is not installed";
  std::shared_ptr<TextDataset> ds;
  Status s = TextDataset::open(path, 1000, 20, &ds);
  ASSERT_TRUE(s.ok()) << s.toString();
  const TextStats &st = ds->stats();
  EXPECT_GT(st.files, 10);
  EXPECT_GT(st.entries, 1000);
  EXPECT_GT(st.tokens, 100000);
  EXPECT_EQ(ds->vocabulary().size(), 1000u);
  EXPECT_EQ(ds->vocabulary()[1], "the");
  EXPECT_GT(st.coverage(), 0.7);
  EXPECT_EQ(ds->size(), st.tokens - 20);
  RecordProperty("files", int(st.files));
  RecordProperty("entries", int(st.entries));
  RecordProperty("tokens", int(st.tokens));
  RecordProperty("distinct", int(st.distinctWords));
  RecordProperty("coverage_permille", int(st.coverage() * 1000));
}

} // namespace
