#include "runtime/status.h"

#include <gtest/gtest.h>

using namespace dlc::rt;

namespace {
Status failsWithNotFound() { return DLC_MAKE_STATUS(StatusCode::kNotFound, "no such bundle"); }
Status propagates() {
  DLC_RETURN_IF_ERROR(failsWithNotFound(), "loading model.dlcb");
  return okStatus();
}
} // namespace

TEST(StatusTest, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.toString(), "ok");
}

TEST(StatusTest, ReturnIfErrorAddsContextAndKeepsCode) {
  Status status = propagates();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "loading model.dlcb: no such bundle");
  EXPECT_NE(status.toString().find("not_found: loading model.dlcb"), std::string::npos);
}
