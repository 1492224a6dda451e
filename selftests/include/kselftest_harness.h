/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's kselftest_harness.h with one change: SKIP() cannot erase a
 * failure. In 6.1's harness SKIP() sets the test passed, so
 * "EXPECT_...(...); SKIP(...)" reports a skip where an expectation already
 * failed. Here SKIP() in a test that has failed an expectation logs that it
 * refuses to skip and runs its statement (usually "return"): the test fails.
 *
 * Every selftests/<area>/Makefile puts selftests/include before the
 * kernel's selftests directory on the include path, so a plain
 * #include "kselftest_harness.h" gets this one. selftests/harness's
 * fail_expect_skip case proves it (selftests/harness/check-harness).
 */
#ifndef UFS_KSELFTEST_HARNESS_STRICT_H
#define UFS_KSELFTEST_HARNESS_STRICT_H

#include_next "kselftest_harness.h"

#undef SKIP
#define SKIP(statement, fmt, ...) do {					\
	if (!_metadata->passed) {					\
		fprintf(TH_LOG_STREAM,					\
			"#      SKIP refused (an expectation already failed): " \
			fmt "\n", ##__VA_ARGS__);			\
		statement;						\
		break;							\
	}								\
	snprintf(_metadata->results->reason,				\
		 sizeof(_metadata->results->reason), fmt, ##__VA_ARGS__); \
	if (TH_LOG_ENABLED) {						\
		fprintf(TH_LOG_STREAM, "#      SKIP      %s\n",		\
			_metadata->results->reason);			\
	}								\
	_metadata->passed = 1;						\
	_metadata->skip = 1;						\
	_metadata->trigger = 0;						\
	statement;							\
} while (0)

#endif
