// SPDX-License-Identifier: GPL-2.0
/* A deliberately failing kselftest: the harness self-test expects a failure. */
#include "kselftest_harness.h"

TEST(deliberate_assert_failure)
{
	TH_LOG("this test is broken on purpose: the run must fail");
	ASSERT_EQ(1, 2);
}

TEST_HARNESS_MAIN
