// SPDX-License-Identifier: GPL-2.0
/* A plain SKIP() still skips (and passes) with the strict harness header. */
#include "kselftest_harness.h"

TEST(plain_skip)
{
	EXPECT_EQ(1, 1);
	SKIP(return, "skipping on purpose");
}

TEST_HARNESS_MAIN
