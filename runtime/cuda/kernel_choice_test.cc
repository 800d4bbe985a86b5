//===- kernel_choice_test.cc - The cache of measured kernel choices -------===//
#include "runtime/cuda/kernel_choice.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace dlc::rt::cuda {
namespace {

std::string tempDir() {
  char pattern[] = "/tmp/dlc_choice_test_XXXXXX";
  const char *dir = ::mkdtemp(pattern);
  return dir ? dir : "";
}

const std::string kKey(64, 'a');

TEST(ChoiceCache, StoresAndLoadsAVerdict) {
  ChoiceCache cache(tempDir() + "/nested/dir");
  EXPECT_FALSE(cache.load(kKey));
  ASSERT_TRUE(cache.store(kKey, {KernelChoice::kAlternative, 2.5e-3, 1.25e-4}).ok());
  std::optional<ChoiceVerdict> v = cache.load(kKey);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->choice, KernelChoice::kAlternative);
  EXPECT_DOUBLE_EQ(v->compiledSeconds, 2.5e-3);
  EXPECT_DOUBLE_EQ(v->alternativeSeconds, 1.25e-4);
  ASSERT_TRUE(cache.store(kKey, {KernelChoice::kCompiled, 1e-6, 2e-6}).ok());
  EXPECT_EQ(cache.load(kKey)->choice, KernelChoice::kCompiled);
}

TEST(ChoiceCache, IgnoresFilesThatDoNotParse) {
  const std::string dir = tempDir();
  ChoiceCache cache(dir);
  const std::string path = cache.entryPath(kKey);
  auto write = [&](const std::string &text) { std::ofstream(path, std::ios::binary) << text; };
  const std::string good = "DLCCHOICE1 " + kKey + " alternative 0.5 0.25\n";
  write(good);
  ASSERT_TRUE(cache.load(kKey));
  for (const std::string &bad : {
           std::string(""),                                           // empty
           good.substr(0, good.size() / 2),                           // truncated
           "DLCCHOICE2 " + kKey + " alternative 0.5 0.25\n",           // another format
           "DLCCHOICE1 " + std::string(64, 'b') + " alternative 0.5 0.25\n", // another key's
           "DLCCHOICE1 " + kKey + " faster 0.5 0.25\n",                // no such choice
           "DLCCHOICE1 " + kKey + " compiled nan 0.25\n",              // not a time
           "DLCCHOICE1 " + kKey + " compiled -1 0.25\n",
           "DLCCHOICE1 " + kKey + " compiled 0.5 0.25x\n",
           "DLCCHOICE1 " + kKey + " compiled 0.5 0.25 extra\n",
           std::string(5000, 'x'),                                    // larger than any entry
       }) {
    write(bad);
    EXPECT_FALSE(cache.load(kKey)) << bad;
  }
  // A directory where the file should be is a miss, not a hang or a crash.
  ::unlink(path.c_str());
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
  EXPECT_FALSE(cache.load(kKey));
  EXPECT_FALSE(cache.store(kKey, {}).ok());
}

TEST(ChoiceCache, EmptyDirectoryDisablesIt) {
  ChoiceCache cache("");
  EXPECT_TRUE(cache.store(kKey, {KernelChoice::kAlternative, 1, 0.5}).ok());
  EXPECT_FALSE(cache.load(kKey));
}

TEST(ChoicePolicy, ReadsTheEnvironment) {
  ChoicePolicy p = ChoicePolicy::kAlternative;
  ::unsetenv("DLC_KERNEL_CHOICE");
  ASSERT_TRUE(choicePolicyFromEnvironment(ChoicePolicy::kMeasured, &p).ok());
  EXPECT_EQ(p, ChoicePolicy::kMeasured);
  ::setenv("DLC_KERNEL_CHOICE", "compiled", 1);
  ASSERT_TRUE(choicePolicyFromEnvironment(ChoicePolicy::kMeasured, &p).ok());
  EXPECT_EQ(p, ChoicePolicy::kCompiled);
  ::setenv("DLC_KERNEL_CHOICE", "alternative", 1);
  ASSERT_TRUE(choicePolicyFromEnvironment(ChoicePolicy::kMeasured, &p).ok());
  EXPECT_EQ(p, ChoicePolicy::kAlternative);
  ::setenv("DLC_KERNEL_CHOICE", "measured", 1);
  ASSERT_TRUE(choicePolicyFromEnvironment(ChoicePolicy::kCompiled, &p).ok());
  EXPECT_EQ(p, ChoicePolicy::kMeasured);
  ::setenv("DLC_KERNEL_CHOICE", "fastest", 1);
  Status bad = choicePolicyFromEnvironment(ChoicePolicy::kCompiled, &p);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("'fastest'"), std::string::npos) << bad.message();
  ::unsetenv("DLC_KERNEL_CHOICE");
}

} // namespace
} // namespace dlc::rt::cuda
