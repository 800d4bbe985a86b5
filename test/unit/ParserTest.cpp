//===- ParserTest.cpp - Unit tests of the .dl lexer and parser ------------===//
//
// Positive tests check the tree shape (and one golden dump); negative tests
// pin each diagnostic's text and line:col, because those are what users see;
// the mutation tests check the parser is total: any input gives a tree or
// exactly one error.
//
//===----------------------------------------------------------------------===//
#include "frontend/Parser.h"
#include "DiagnosticCapture.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <random>

using namespace dlc;
using ast::Expr;
using ast::Stmt;
using unittest::Diag;
using unittest::DiagnosticCapture;
using unittest::lineCol;

namespace {

const char *const kMnist = R"(# The Keras "simple MNIST convnet".
model mnist_cnn {
  input image: [28, 28, 1]
  conv2d(32, kernel_size=(3, 3), activation=relu)
  max_pool2d((2, 2))
  conv2d(64, kernel_size=(3, 3), activation=relu)
  max_pool2d((2, 2))
  flatten()
  dense(10, activation=softmax)
}

train mnist_cnn {
  loss = categorical_crossentropy
  optimizer = adam(learning_rate=0.001)
  metrics = [accuracy]
  batch_size = 128
  epochs = 15
}
)";

const char *const kTwoTowers = R"(model two_towers {
  input image: [64, 64, 3]
  input meta: int32[10]
  x = conv2d(32, 3, padding=same, activation=relu)(image)
  x = global_avg_pool2d()(x)
  m = dense(32, activation=relu)(meta)
  h = concat(x, m, axis=-1)
  s = add(h, h)
  out = dense(1, activation=sigmoid)(s)
  aux = dense(2)(h)
  output out, aux
}
)";

const char *const kVggBlock = R"(block vgg_block(b, filters, convs = 2) {
  for i in 1..convs {
    conv2d(filters, (3, 3), padding=same, activation=relu, name="block{b}_conv{i}")
  }
  max_pool2d((2, 2), strides=(2, 2), name="block{b}_pool")
}
)";

const char *const kTrainData = R"(import "lib/vgg16.dl"
import "../common/blocks.dl"

train text_lstm {
  loss = categorical_crossentropy
  optimizer = adam(learning_rate=1e-3)
  metrics = [accuracy, top_k_accuracy(k=5)]
  precision = fp32
  data {
    source = text("/usr/share/games/fortunes", vocab_size=1000, sequence_length=20)
    validation = 0.1
    rescale(1/255, offset=-0.5)
    random_flip(horizontal)
    normalize([0.5, 0.5], std=[2.5E+4, 1e-3])
  }
}
)";

class ParserTest : public ::testing::Test {
protected:
  ParserTest() : context(mlir::MLIRContext::Threading::DISABLED), diags(&context) {}

  /// Parses |text|; diagnostics land in |diags|. Checks the parser's contract:
  /// a tree and no diagnostic, or no tree and exactly one error.
  std::optional<ast::File> parse(llvm::StringRef text, llvm::StringRef name = "test.dl") {
    diags.clear();
    llvm::SourceMgr sourceMgr;
    unsigned id = sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(text, name), llvm::SMLoc());
    std::optional<ast::File> file = parseFile(sourceMgr, id, &context);
    EXPECT_EQ(diags.size(), file ? 0u : 1u) << "input: " << text.take_front(200).str();
    return file;
  }

  /// Parses |text| expecting failure; returns its one diagnostic.
  Diag parseError(llvm::StringRef text) {
    std::optional<ast::File> file = parse(text);
    EXPECT_FALSE(file.has_value()) << "unexpectedly parsed: " << text.str();
    return diags.first();
  }

  static std::string dumpOf(const ast::File &file) {
    std::string text;
    llvm::raw_string_ostream os(text);
    ast::dump(file, os);
    return text;
  }

  mlir::MLIRContext context;
  DiagnosticCapture diags;
};

//===----------------------------------------------------------------------===//
// Accepted input
//===----------------------------------------------------------------------===//

TEST_F(ParserTest, MnistExample) {
  std::optional<ast::File> file = parse(kMnist, "mnist.dl");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->path, "mnist.dl");
  ASSERT_EQ(file->models.size(), 1u);
  const ast::Model &model = file->models[0];
  EXPECT_EQ(model.name, "mnist_cnn");
  ASSERT_EQ(model.body.size(), 7u);

  const Stmt &input = model.body[0];
  EXPECT_EQ(input.kind, Stmt::Kind::Input);
  EXPECT_EQ(input.name, "image");
  EXPECT_EQ(input.dtype, "");
  ASSERT_TRUE(input.shape);
  ASSERT_EQ(input.shape->size(), 3u);
  EXPECT_EQ((*input.shape)[0]->kind, Expr::Kind::Int);
  EXPECT_EQ((*input.shape)[1]->intValue, 28);
  EXPECT_EQ((*input.shape)[2]->intValue, 1);

  const Stmt &conv = model.body[1];
  EXPECT_EQ(conv.kind, Stmt::Kind::Layer);
  EXPECT_EQ(conv.callee, "conv2d");
  EXPECT_FALSE(conv.target);
  EXPECT_FALSE(conv.inputs);
  ASSERT_EQ(conv.args.size(), 3u);
  EXPECT_EQ(conv.args[0].keyword, "");
  EXPECT_EQ(conv.args[0].value->intValue, 32);
  EXPECT_EQ(conv.args[1].keyword, "kernel_size");
  EXPECT_EQ(conv.args[1].value->kind, Expr::Kind::Tuple);
  EXPECT_EQ(conv.args[1].value->operands.size(), 2u);
  EXPECT_EQ(conv.args[2].value->kind, Expr::Kind::Name);
  EXPECT_EQ(conv.args[2].value->text, "relu");
  EXPECT_EQ(lineCol(conv.loc), std::make_pair(4u, 3u));
  EXPECT_EQ(lineCol(conv.args[1].loc), std::make_pair(4u, 14u));
  EXPECT_TRUE(model.body[5].args.empty());

  ASSERT_EQ(file->trains.size(), 1u);
  const ast::Train &train = file->trains[0];
  EXPECT_EQ(train.model, "mnist_cnn");
  EXPECT_EQ(lineCol(train.modelLoc), std::make_pair(12u, 7u));
  ASSERT_EQ(train.settings.size(), 5u);
  EXPECT_EQ(train.settings[1].key, "optimizer");
  const Expr &adam = *train.settings[1].value;
  EXPECT_EQ(adam.kind, Expr::Kind::Call);
  EXPECT_EQ(adam.text, "adam");
  ASSERT_EQ(adam.args.size(), 1u);
  EXPECT_EQ(adam.args[0].keyword, "learning_rate");
  EXPECT_EQ(adam.args[0].value->kind, Expr::Kind::Float);
  EXPECT_DOUBLE_EQ(adam.args[0].value->floatValue, 0.001);
  EXPECT_EQ(train.settings[2].value->kind, Expr::Kind::List);
  EXPECT_FALSE(train.data);
}

TEST_F(ParserTest, MnistDump) {
  std::optional<ast::File> file = parse(kMnist, "/some/dir/mnist.dl");
  ASSERT_TRUE(file);
  EXPECT_EQ(dumpOf(*file), R"(File /some/dir/mnist.dl
  Model mnist_cnn @mnist.dl:2:1
    Input image float32 [28, 28, 1] @mnist.dl:3:3
    Layer conv2d @mnist.dl:4:3
      Arg 32 @mnist.dl:4:10
      Arg kernel_size=(3, 3) @mnist.dl:4:14
      Arg activation=relu @mnist.dl:4:34
    Layer max_pool2d @mnist.dl:5:3
      Arg (2, 2) @mnist.dl:5:14
    Layer conv2d @mnist.dl:6:3
      Arg 64 @mnist.dl:6:10
      Arg kernel_size=(3, 3) @mnist.dl:6:14
      Arg activation=relu @mnist.dl:6:34
    Layer max_pool2d @mnist.dl:7:3
      Arg (2, 2) @mnist.dl:7:14
    Layer flatten @mnist.dl:8:3
    Layer dense @mnist.dl:9:3
      Arg 10 @mnist.dl:9:9
      Arg activation=softmax @mnist.dl:9:13
  Train mnist_cnn @mnist.dl:12:1
    Setting loss = categorical_crossentropy @mnist.dl:13:3
    Setting optimizer = adam(learning_rate=0.001) @mnist.dl:14:3
    Setting metrics = [accuracy] @mnist.dl:15:3
    Setting batch_size = 128 @mnist.dl:16:3
    Setting epochs = 15 @mnist.dl:17:3
)");
}

TEST_F(ParserTest, GraphModel) {
  std::optional<ast::File> file = parse(kTwoTowers);
  ASSERT_TRUE(file);
  ASSERT_EQ(file->models.size(), 1u);
  const ast::StmtList &body = file->models[0].body;
  ASSERT_EQ(body.size(), 10u);
  EXPECT_EQ(body[1].dtype, "int32");
  EXPECT_EQ(lineCol(body[1].dtypeLoc), std::make_pair(3u, 15u));

  const Stmt &conv = body[2];
  ASSERT_TRUE(conv.target);
  EXPECT_EQ(conv.target->name, "x");
  EXPECT_EQ(conv.callee, "conv2d");
  EXPECT_EQ(lineCol(conv.calleeLoc), std::make_pair(4u, 7u));
  ASSERT_TRUE(conv.inputs);
  ASSERT_EQ(conv.inputs->size(), 1u);
  EXPECT_EQ((*conv.inputs)[0].name, "image");

  const Stmt &concat = body[5];
  EXPECT_EQ(concat.callee, "concat");
  EXPECT_FALSE(concat.inputs);
  ASSERT_EQ(concat.args.size(), 3u);
  EXPECT_EQ(concat.args[1].value->text, "m");
  // Unary minus is kept as written, not folded into the literal.
  const Expr &axis = *concat.args[2].value;
  EXPECT_EQ(axis.kind, Expr::Kind::Neg);
  ASSERT_EQ(axis.operands.size(), 1u);
  EXPECT_EQ(axis.operands[0]->intValue, 1);

  EXPECT_EQ(body[6].callee, "add");
  EXPECT_EQ(body[6].args.size(), 2u);

  const Stmt &output = body[9];
  EXPECT_EQ(output.kind, Stmt::Kind::Output);
  ASSERT_EQ(output.outputs.size(), 2u);
  EXPECT_EQ(output.outputs[1].name, "aux");
  EXPECT_EQ(lineCol(output.outputs[1].loc), std::make_pair(11u, 15u));
}

TEST_F(ParserTest, BlockWithForAndDefaults) {
  std::optional<ast::File> file = parse(kVggBlock);
  ASSERT_TRUE(file);
  ASSERT_EQ(file->blocks.size(), 1u);
  const ast::Block &block = file->blocks[0];
  EXPECT_EQ(block.name, "vgg_block");
  ASSERT_EQ(block.params.size(), 3u);
  EXPECT_EQ(block.params[1].name, "filters");
  EXPECT_FALSE(block.params[1].defaultValue);
  ASSERT_TRUE(block.params[2].defaultValue);
  EXPECT_EQ(block.params[2].defaultValue->intValue, 2);

  ASSERT_EQ(block.body.size(), 2u);
  const Stmt &loop = block.body[0];
  EXPECT_EQ(loop.kind, Stmt::Kind::For);
  EXPECT_EQ(loop.name, "i");
  EXPECT_EQ(loop.from->kind, Expr::Kind::Int);
  EXPECT_EQ(loop.from->intValue, 1);
  EXPECT_EQ(loop.to->kind, Expr::Kind::Name);
  EXPECT_EQ(loop.to->text, "convs");
  ASSERT_EQ(loop.body.size(), 1u);
  const Stmt &conv = loop.body[0];
  ASSERT_EQ(conv.args.size(), 5u);
  EXPECT_EQ(conv.args[4].keyword, "name");
  EXPECT_EQ(conv.args[4].value->kind, Expr::Kind::String);
  EXPECT_EQ(conv.args[4].value->text, "block{b}_conv{i}");
  EXPECT_EQ(block.body[1].args[2].value->text, "block{b}_pool");

  std::string dump = dumpOf(*file);
  EXPECT_NE(dump.find("  Block vgg_block @test.dl:1:1\n"
                      "    Param b @test.dl:1:17\n"
                      "    Param filters @test.dl:1:20\n"
                      "    Param convs = 2 @test.dl:1:29\n"
                      "    For i in 1..convs @test.dl:2:3\n"),
            std::string::npos)
      << dump;
}

TEST_F(ParserTest, TrainWithDataSectionAndImports) {
  std::optional<ast::File> file = parse(kTrainData);
  ASSERT_TRUE(file);
  ASSERT_EQ(file->imports.size(), 2u);
  EXPECT_EQ(file->imports[0].path, "lib/vgg16.dl");
  EXPECT_EQ(file->imports[1].path, "../common/blocks.dl");
  EXPECT_EQ(lineCol(file->imports[1].loc), std::make_pair(2u, 1u));

  ASSERT_EQ(file->trains.size(), 1u);
  const ast::Train &train = file->trains[0];
  EXPECT_EQ(train.settings.size(), 4u);
  EXPECT_DOUBLE_EQ(train.settings[1].value->args[0].value->floatValue, 1e-3);
  const Expr &metrics = *train.settings[2].value;
  ASSERT_EQ(metrics.operands.size(), 2u);
  EXPECT_EQ(metrics.operands[1]->kind, Expr::Kind::Call);

  ASSERT_TRUE(train.data);
  EXPECT_EQ(lineCol(train.data->loc), std::make_pair(9u, 3u));
  ASSERT_EQ(train.data->settings.size(), 2u);
  EXPECT_EQ(train.data->settings[0].key, "source");
  EXPECT_EQ(train.data->settings[0].value->args[0].value->text,
            "/usr/share/games/fortunes");
  EXPECT_DOUBLE_EQ(train.data->settings[1].value->floatValue, 0.1);
  ASSERT_EQ(train.data->steps.size(), 3u);
  const Expr &rescale = *train.data->steps[0];
  EXPECT_EQ(rescale.kind, Expr::Kind::Call);
  EXPECT_EQ(rescale.text, "rescale");
  EXPECT_EQ(rescale.args[0].value->kind, Expr::Kind::Binary);
  EXPECT_EQ(rescale.args[0].value->text, "/");
  EXPECT_EQ(rescale.args[1].value->kind, Expr::Kind::Neg);
  EXPECT_EQ(train.data->steps[1]->text, "random_flip");
  const Expr &std = *train.data->steps[2]->args[1].value;
  EXPECT_DOUBLE_EQ(std.operands[0]->floatValue, 2.5e4);

  std::string dump = dumpOf(*file);
  EXPECT_NE(dump.find("    Data @test.dl:9:3\n"
                      "      Setting source = text(\"/usr/share/games/fortunes\", "
                      "vocab_size=1000, sequence_length=20) @test.dl:10:5\n"
                      "      Setting validation = 0.1 @test.dl:11:5\n"
                      "      Step rescale(1 / 255, offset=-0.5) @test.dl:12:5\n"),
            std::string::npos)
      << dump;
}

TEST_F(ParserTest, DataIsOnlyAKeywordBeforeABrace) {
  std::optional<ast::File> file =
      parse("train t { data = mnist\n data { data = 1 } }\nmodel m { data(3) }");
  ASSERT_TRUE(file);
  ASSERT_EQ(file->trains[0].settings.size(), 1u);
  EXPECT_EQ(file->trains[0].settings[0].key, "data");
  ASSERT_TRUE(file->trains[0].data);
  EXPECT_EQ(file->trains[0].data->settings[0].key, "data");
  EXPECT_EQ(file->models[0].body[0].callee, "data");
}

TEST_F(ParserTest, Expressions) {
  std::optional<ast::File> file = parse(
      "train t { a = 1 + 2 * 3\n b = (1 + 2) * 3\n c = (x)\n d = (x,)\n e = (1, 2,)\n"
      " f = [true, false, \"q\\\"\\\\\\n\\t\"]\n g = 1 - 2 - 3\n h = 1 - (2 - 3)\n"
      " i = --x\n j = 9223372036854775807\n k = [0.5, 1e-3, 2.5E+4, 7e2]\n l = []\n"
      " m = f(a, b=[1,],)\n}");
  ASSERT_TRUE(file);
  const std::vector<ast::Setting> &s = file->trains[0].settings;
  ASSERT_EQ(s.size(), 13u);
  EXPECT_EQ(s[0].value->text, "+");
  EXPECT_EQ(s[0].value->operands[1]->text, "*");
  EXPECT_EQ(s[1].value->text, "*");
  EXPECT_EQ(s[1].value->operands[0]->text, "+");
  EXPECT_EQ(s[2].value->kind, Expr::Kind::Name); // grouping, not a tuple
  EXPECT_EQ(s[3].value->kind, Expr::Kind::Tuple);
  EXPECT_EQ(s[3].value->operands.size(), 1u);
  EXPECT_EQ(s[4].value->operands.size(), 2u);
  const Expr &list = *s[5].value;
  EXPECT_EQ(list.operands[0]->kind, Expr::Kind::Bool);
  EXPECT_EQ(list.operands[0]->intValue, 1);
  EXPECT_EQ(list.operands[1]->intValue, 0);
  EXPECT_EQ(list.operands[2]->text, "q\"\\\n\t");
  EXPECT_EQ(s[6].value->operands[0]->kind, Expr::Kind::Binary); // left-assoc
  EXPECT_EQ(s[8].value->kind, Expr::Kind::Neg);
  EXPECT_EQ(s[8].value->operands[0]->kind, Expr::Kind::Neg);
  EXPECT_EQ(s[9].value->intValue, INT64_MAX);
  const Expr &floats = *s[10].value;
  for (const ast::ExprPtr &f : floats.operands)
    EXPECT_EQ(f->kind, Expr::Kind::Float);
  EXPECT_DOUBLE_EQ(floats.operands[3]->floatValue, 700.0);
  EXPECT_TRUE(s[11].value->operands.empty());
  EXPECT_EQ(s[12].value->args.size(), 2u);

  std::string dump = dumpOf(*file);
  for (const char *line :
       {"Setting a = 1 + 2 * 3 @", "Setting b = (1 + 2) * 3 @", "Setting d = (x,) @",
        "Setting f = [true, false, \"q\\\"\\\\\\n\\t\"] @", "Setting g = 1 - 2 - 3 @",
        "Setting h = 1 - (2 - 3) @", "Setting i = -(-x) @",
        "Setting k = [0.5, 0.001, 25000.0, 700.0] @", "Setting m = f(a, b=[1]) @"})
    EXPECT_NE(dump.find(line), std::string::npos) << line << "\n" << dump;
}

TEST_F(ParserTest, RangeIsNotAFloat) {
  std::optional<ast::File> file =
      parse("model m { for i in 1..n { for j in 2 .. 3 { f() } } for k in 0..-1 {} }");
  ASSERT_TRUE(file);
  const Stmt &outer = file->models[0].body[0];
  EXPECT_EQ(outer.from->kind, Expr::Kind::Int);
  EXPECT_EQ(outer.to->text, "n");
  EXPECT_EQ(outer.body[0].to->intValue, 3);
  EXPECT_EQ(file->models[0].body[1].to->kind, Expr::Kind::Neg);
}

TEST_F(ParserTest, EmptyAndCommentOnlyFiles) {
  for (const char *text : {"", "   \n\n", "# only a comment", "# c\n\t# d\r\n"}) {
    std::optional<ast::File> file = parse(text, "empty.dl");
    ASSERT_TRUE(file) << text;
    EXPECT_EQ(file->path, "empty.dl");
    EXPECT_TRUE(file->imports.empty() && file->blocks.empty() && file->models.empty() &&
                file->trains.empty());
  }
}

TEST_F(ParserTest, LineEndingsByteOrderMarkAndUtf8) {
  std::optional<ast::File> file =
      parse("\xEF\xBB\xBFmodel m {\r\n  # caf\xC3\xA9\r\n  dense(1, name=\"caf\xC3\xA9\")\r\n}\r\n");
  ASSERT_TRUE(file);
  const Stmt &dense = file->models[0].body[0];
  EXPECT_EQ(lineCol(dense.loc), std::make_pair(3u, 3u));
  EXPECT_EQ(dense.args[1].value->text, "caf\xC3\xA9");
}

TEST_F(ParserTest, NestingLimitIsInclusive) {
  // The model body is level 1 and the call level 2, so 62 parentheses reach 64.
  std::string ok = "model m { f(" + std::string(62, '(') + "1" + std::string(62, ')') + ") }";
  EXPECT_TRUE(parse(ok));
  std::string deep = "model m { f(" + std::string(63, '(') + "1" + std::string(63, ')') + ") }";
  EXPECT_DIAG(parseError(deep), "nesting too deep (more than 64 levels)", 1, 13 + 62);
}

//===----------------------------------------------------------------------===//
// Rejected input: message and position
//===----------------------------------------------------------------------===//

TEST_F(ParserTest, UnterminatedString) {
  EXPECT_DIAG(parseError("model m {\n  dense(name=\"abc\n  )\n}"), "unterminated string", 2,
              14);
  EXPECT_DIAG(parseError("import \"abc\\"), "unterminated string", 1, 8);
}

TEST_F(ParserTest, BadBytes) {
  EXPECT_DIAG(parseError("model m {\n  \xff\n}"), "unexpected byte 0xff", 2, 3);
  EXPECT_DIAG(parseError(llvm::StringRef("model m {\0}", 11)), "unexpected byte 0x00", 1, 10);
  EXPECT_DIAG(parseError(llvm::StringRef("# a\0b\nmodel", 11)), "unexpected byte 0x00", 1, 4);
  EXPECT_DIAG(parseError("model m { $ }"), "unexpected character '$'", 1, 11);
  EXPECT_DIAG(parseError("model m { f(\"a\x01\") }"), "unexpected byte 0x01 in string", 1,
              15);
  EXPECT_DIAG(parseError("model m { f(\"a\xC3(\") }"), "unexpected byte 0xc3 in string", 1,
              15);
  Diag quote = parseError("model m { f('a') }");
  EXPECT_DIAG(quote, "unexpected character '''", 1, 13);
  ASSERT_EQ(quote.notes.size(), 1u);
  EXPECT_EQ(quote.notes[0].message, "strings are written in double quotes");
}

TEST_F(ParserTest, BadEscape) {
  EXPECT_DIAG(parseError("import \"a\\qb\""), "unknown escape sequence '\\q'", 1, 10);
}

TEST_F(ParserTest, DeepNesting) {
  std::string parens = "model m {\n  dense(" + std::string(100000, '(');
  EXPECT_DIAG(parseError(parens), "nesting too deep (more than 64 levels)", 2, 9 + 62);
  std::string lists = "train t { x = " + std::string(100000, '[');
  EXPECT_DIAG(parseError(lists), "nesting too deep (more than 64 levels)", 1, 15 + 63);
  std::string minus = "train t { x = " + std::string(100000, '-') + "1 }";
  EXPECT_DIAG(parseError(minus), "nesting too deep (more than 64 levels)", 1, 15 + 63);
  std::string loops;
  for (int i = 0; i < 100; ++i)
    loops += "for i in 1..2 {\n";
  EXPECT_DIAG(parseError("model m {\n" + loops), "nesting too deep (more than 64 levels)",
              65, 15);
  std::string chain = "train t { x = 1";
  for (int i = 0; i < 100000; ++i)
    chain += " + 1";
  EXPECT_DIAG(parseError(chain + " }"), "expression has too many operators (more than 64)", 1,
              17 + 4 * 64);
}

TEST_F(ParserTest, NumbersOutOfRange) {
  EXPECT_DIAG(parseError("model m {\n  dense(99999999999999999999)\n}"),
              "integer literal '99999999999999999999' is too large", 2, 9);
  EXPECT_DIAG(parseError("train t { x = 9223372036854775808 }"),
              "integer literal '9223372036854775808' is too large", 1, 15);
  EXPECT_DIAG(parseError("train t { x = 1e999 }"), "float literal '1e999' is out of range", 1,
              15);
  EXPECT_DIAG(parseError("train t { x = " + std::string(5000, '7') + " }"),
              "integer literal '7777777777777777777777777777777777777...' is too large", 1, 15);
  EXPECT_DIAG(parseError("train t { x = 3x }"), "invalid number '3x'", 1, 15);
  EXPECT_DIAG(parseError("train t { x = 1e }"), "invalid number '1e'", 1, 15);
  EXPECT_DIAG(parseError("train t { x = .5 }"), "unexpected character '.'", 1, 15);
}

TEST_F(ParserTest, MissingCloser) {
  EXPECT_DIAG(parseError("model m {\n  conv2d(32, 3 foo)\n}"),
              "expected ')' after arguments, found 'foo'", 2, 16);
  EXPECT_DIAG(parseError("model m { f([1, 2) }"), "expected ']' after list elements, found ')'",
              1, 18);
  Diag eof = parseError("model m {\n  dense(1)\n");
  EXPECT_DIAG(eof, "unexpected end of file, expected '}'", 3, 1);
  ASSERT_EQ(eof.notes.size(), 1u);
  EXPECT_EQ(eof.notes[0].message, "to match this '{'");
  EXPECT_EQ(eof.notes[0].line, 1u);
  EXPECT_EQ(eof.notes[0].col, 9u);
}

TEST_F(ParserTest, UnexpectedEndOfFile) {
  EXPECT_DIAG(parseError("model m { dense("), "unexpected end of file, expected an expression",
              1, 17);
  EXPECT_DIAG(parseError("model"), "unexpected end of file, expected a model name after 'model'",
              1, 6);
  EXPECT_DIAG(parseError("train t { loss ="), "unexpected end of file, expected an expression",
              1, 17);
}

TEST_F(ParserTest, KeywordAsName) {
  Diag model = parseError("model input { }");
  EXPECT_DIAG(model, "expected a model name after 'model', found 'input'", 1, 7);
  ASSERT_EQ(model.notes.size(), 1u);
  EXPECT_EQ(model.notes[0].message, "'input' is a keyword and cannot be used as a name");
  Diag stmt = parseError("model m {\n  in = dense(3)\n}");
  EXPECT_DIAG(stmt, "expected a layer, 'input', 'output' or 'for', found 'in'", 2, 3);
  EXPECT_EQ(stmt.notes.size(), 1u);
  EXPECT_DIAG(parseError("model m { for for in 1..2 {} }"),
              "expected a loop variable after 'for', found 'for'", 1, 15);
}

TEST_F(ParserTest, ArgumentOrder) {
  Diag positional = parseError("model m {\n  conv2d(kernel_size=3, 32)\n}");
  EXPECT_DIAG(positional, "positional argument after keyword argument", 2, 25);
  ASSERT_EQ(positional.notes.size(), 1u);
  EXPECT_EQ(positional.notes[0].col, 10u);

  Diag duplicate = parseError("model m { dense(1, activation=relu, activation=tanh) }");
  EXPECT_DIAG(duplicate, "duplicate keyword argument 'activation'", 1, 37);
  ASSERT_EQ(duplicate.notes.size(), 1u);
  EXPECT_EQ(duplicate.notes[0].message, "'activation' was first given here");
  EXPECT_EQ(duplicate.notes[0].col, 20u);
}

TEST_F(ParserTest, InputShapes) {
  Diag colon = parseError("model m {\n  input x [3]\n}");
  EXPECT_DIAG(colon, "expected ':' after input name, found '['", 2, 11);
  EXPECT_EQ(colon.notes.size(), 1u);
  EXPECT_DIAG(parseError("model m { input x = [3] }"),
              "expected ':' after input name, found '='", 1, 19);
  Diag empty = parseError("model m {\n  input x: []\n}");
  EXPECT_DIAG(empty, "expected a dimension, found ']'", 2, 13);
  EXPECT_EQ(empty.notes.size(), 1u);
  EXPECT_DIAG(parseError("model m { input x: int32 3 }"),
              "expected '[' after element type 'int32', found '3'", 1, 26);
  EXPECT_DIAG(parseError("model m { input x: 3 }"), "expected a shape after ':', found '3'", 1,
              20);
}

TEST_F(ParserTest, StrayTokens) {
  EXPECT_DIAG(parseError("model m { }\n}"),
              "expected 'import', 'block', 'model' or 'train', found '}'", 2, 1);
  EXPECT_DIAG(parseError("dense(3)"),
              "expected 'import', 'block', 'model' or 'train', found 'dense'", 1, 1);
  EXPECT_DIAG(parseError("model m {\n  123\n}"),
              "expected a layer, 'input', 'output' or 'for', found '123'", 2, 3);
  std::string longName(100000, 'x');
  EXPECT_DIAG(parseError(longName),
              "expected 'import', 'block', 'model' or 'train', found "
              "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'",
              1, 1);
  Diag missingBrace = parseError("model a {\n  dense(1)\nmodel b { }");
  EXPECT_DIAG(missingBrace, "expected a layer, 'input', 'output' or 'for', found 'model'", 3, 1);
  EXPECT_EQ(missingBrace.notes[0].message, "is a '}' missing before this 'model'?");
}

TEST_F(ParserTest, EqualsVersusColon) {
  Diag setting = parseError("train t {\n  loss: mse\n}");
  EXPECT_DIAG(setting, "expected '=' after 'loss', found ':'", 2, 7);
  ASSERT_EQ(setting.notes.size(), 1u);
  EXPECT_EQ(setting.notes[0].message, "settings are written 'name = value'");
  Diag arg = parseError("model m { conv2d(filters: 32) }");
  EXPECT_DIAG(arg, "expected ')' after arguments, found ':'", 1, 25);
  EXPECT_EQ(arg.notes[0].message, "keyword arguments are written 'name=value'");
}

TEST_F(ParserTest, LayerSyntax) {
  Diag noParens = parseError("model m { flatten dense(3) }");
  EXPECT_DIAG(noParens, "expected '(' after 'flatten', found 'dense'", 1, 19);
  EXPECT_EQ(noParens.notes[0].message, "a layer is applied with parentheses, as in 'flatten()'");
  EXPECT_DIAG(parseError("model m { x = dense(3)(1) }"),
              "expected the name of a value, found '1'", 1, 24);
  EXPECT_DIAG(parseError("model m { f(()) }"), "expected an expression, found ')'", 1, 14);
  EXPECT_DIAG(parseError("model m { for i in 1 to 3 {} }"),
              "expected '..' in the loop range, found 'to'", 1, 22);
}

TEST_F(ParserTest, Duplicates) {
  Diag data = parseError("train t {\n  data { }\n  data { }\n}");
  EXPECT_DIAG(data, "duplicate data section", 3, 3);
  EXPECT_EQ(data.notes[0].line, 2u);
  Diag param = parseError("block b(x, y, x) { }");
  EXPECT_DIAG(param, "duplicate parameter 'x'", 1, 15);
  EXPECT_EQ(param.notes[0].col, 9u);
  EXPECT_DIAG(parseError("block b { }"), "expected '(' after the block name, found '{'", 1, 9);
}

//===----------------------------------------------------------------------===//
// Robustness
//===----------------------------------------------------------------------===//

/// Spans of identifier characters or single other bytes: the "tokens" that the
/// mutations delete and duplicate.
std::vector<std::pair<size_t, size_t>> roughTokens(const std::string &text) {
  std::vector<std::pair<size_t, size_t>> spans;
  for (size_t i = 0; i < text.size();) {
    size_t j = i + 1;
    if (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')
      while (j < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_'))
        ++j;
    if (!std::isspace(static_cast<unsigned char>(text[i])))
      spans.push_back({i, j - i});
    i = j;
  }
  return spans;
}

std::string mutate(std::string text, std::mt19937 &rng) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  static const char kPunct[] = "()[]{},=:+-*/.\"#\\\n0e";
  unsigned count = 1 + pick(4);
  for (unsigned m = 0; m < count && !text.empty(); ++m) {
    switch (pick(6)) {
    case 0: // byte flip, including NUL and non-ASCII
      text[pick(text.size())] = static_cast<char>(pick(256));
      break;
    case 1: // truncation
      text.resize(pick(text.size()));
      break;
    case 2: { // token deletion
      auto spans = roughTokens(text);
      if (!spans.empty()) {
        auto [at, len] = spans[pick(spans.size())];
        text.erase(at, len);
      }
      break;
    }
    case 3: { // token duplication
      auto spans = roughTokens(text);
      if (!spans.empty()) {
        auto [at, len] = spans[pick(spans.size())];
        text.insert(at, text.substr(at, len));
      }
      break;
    }
    case 4: // punctuation insertion
      text.insert(pick(text.size() + 1), 1, kPunct[pick(sizeof(kPunct) - 1)]);
      break;
    default: { // a run of one opener, for nesting
      static const char kOpen[] = "([{-";
      text.insert(pick(text.size() + 1), 1 + pick(100), kOpen[pick(4)]);
      break;
    }
    }
  }
  return text;
}

TEST_F(ParserTest, RandomMutationsNeverCrash) {
  const std::string seeds[] = {kMnist, kTwoTowers, kVggBlock, kTrainData};
  std::mt19937 rng(20240611);
  unsigned parsed = 0, failed = 0;
  for (unsigned i = 0; i < 2000; ++i) {
    std::string text = mutate(seeds[i % 4], rng);
    std::optional<ast::File> file = parse(text);
    if (file) {
      ++parsed;
      (void)dumpOf(*file);
    } else {
      ++failed;
      ASSERT_EQ(diags.size(), 1u) << text;
      EXPECT_FALSE(diags[0].message.empty());
      EXPECT_GT(diags[0].line, 0u);
      EXPECT_GT(diags[0].col, 0u);
      // Messages are printable ASCII whatever the input held.
      for (unsigned char c : diags[0].message)
        EXPECT_TRUE(c >= 0x20 && c < 0x7f) << diags[0].message;
    }
  }
  EXPECT_GT(failed, 1000u);
  EXPECT_GT(parsed, 10u);
}

TEST_F(ParserTest, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  for (unsigned i = 0; i < 500; ++i) {
    std::string text(std::uniform_int_distribution<size_t>(0, 300)(rng), '\0');
    // Half pure noise, half noise drawn from the language's own characters.
    static const char kAlphabet[] = "model m{}()[]=,:x1.e-\"\\# \n";
    for (char &c : text)
      c = i % 2 ? static_cast<char>(rng())
                : kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    if (std::optional<ast::File> file = parse(text))
      (void)dumpOf(*file);
    else
      ASSERT_EQ(diags.size(), 1u);
  }
}

} // namespace
