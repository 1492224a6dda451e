/* SPDX-License-Identifier: GPL-2.0 */
/* Capability names and the container's set, with Docker's rules. */
#ifndef UNIONCTR_CAPS_H
#define UNIONCTR_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* CAP_CHOWN... by number, or -1; name as Docker takes it: any case,
 * with or without "CAP_". */
int caps_from_name(const char *name);
/* "CAP_CHOWN" for 0; NULL past the table. */
const char *caps_name(int cap);
/* The running kernel's capabilities. */
uint64_t caps_kernel(void);
/* Docker's "ALL": the kernel's capabilities that the launcher itself has
 * (a container cannot get more). */
uint64_t caps_all(void);
/* Docker's default set (chown, dac_override, ... audit_write). */
uint64_t caps_default(void);

/*
 * Check --cap-add/--cap-drop names (or "ALL") and write them in Docker's
 * form ("CAP_NET_ADMIN") into *out; what is the list called in messages:
 * "CapAdd" or "CapDrop".
 */
int caps_normalize(char *const *names, const char *what, char ***out,
		   uc_error_t *err);
/*
 * The container's capability set from normalized lists (Docker's
 * TweakCapabilities): --privileged: every capability; --cap-add ALL:
 * every one but the dropped; --cap-drop ALL: only the added; else the
 * default set minus the dropped plus the added.
 */
uint64_t caps_compute(char *const *add, char *const *drop, bool privileged);

#endif
