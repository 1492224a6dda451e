// SPDX-License-Identifier: GPL-2.0
/* The smallest passing kselftest: the harness self-test expects a pass. */
#include "kselftest_harness.h"

TEST(trivial_pass)
{
	ASSERT_EQ(1, 1);
}

TEST_HARNESS_MAIN
