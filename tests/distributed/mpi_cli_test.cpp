// placeholder, filled below
#include <gtest/gtest.h>
TEST(MpiCli, Placeholder) { GTEST_SKIP() << "not written yet"; }
