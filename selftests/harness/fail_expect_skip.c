// SPDX-License-Identifier: GPL-2.0
/*
 * A failed expectation followed by SKIP(): the test must fail, not skip
 * (selftests/include/kselftest_harness.h). The harness self-test expects
 * this program's run to fail.
 */
#include "kselftest_harness.h"

TEST(failed_expect_then_skip)
{
	EXPECT_EQ(1, 2);
	SKIP(return, "a skip after a failed expectation must not erase it");
}

TEST_HARNESS_MAIN
