/* SPDX-License-Identifier: GPL-2.0 */
/*
 * JSON on json-c, for the state records and image archives: reading with a
 * size limit, atomic saving, and typed access that validates instead of
 * trusting.  json-c asserts (aborts) when an array call meets something
 * else: every access to a document someone else may have written goes
 * through a reader here, which turns a wrong type into an error.
 */
#ifndef UNIONCTR_UCJSON_H
#define UNIONCTR_UCJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "error.h"

/* No record or image document comes near this; /dev/zero does. */
#define UC_JSON_MAX (16u << 20)

/* Parse the document in fd: a regular file of at most UC_JSON_MAX bytes.
 * what names it in errors. */
int uc_json_read_fd(int fd, const char *what, struct json_object **out,
		    uc_error_t *err);
/* The same for path (a state record, a file the user names). */
int uc_json_load(const char *path, struct json_object **out, uc_error_t *err);
/* Write via a temporary file and rename; durable: fsync first. */
int uc_json_save(const char *path, struct json_object *o, bool durable,
		 uc_error_t *err);

/*
 * A reader of one document: the first member of the wrong type sets *err
 * ("what: `Key` is not a string") and bad; later reads return nothing.
 * Absent (or null) members read as NULL, 0, false.
 */
struct uc_json_reader {
	const char *what;
	uc_error_t *err;
	bool bad;
};

struct json_object *uc_json_object(struct uc_json_reader *r, struct json_object *o,
				   const char *key);
struct json_object *uc_json_array(struct uc_json_reader *r, struct json_object *o,
				  const char *key);
const char *uc_json_string(struct uc_json_reader *r, struct json_object *o,
			   const char *key);
/* An array of strings, copied; NULL when absent. */
char **uc_json_strv(struct uc_json_reader *r, struct json_object *o, const char *key);
int64_t uc_json_int(struct uc_json_reader *r, struct json_object *o, const char *key);
bool uc_json_bool(struct uc_json_reader *r, struct json_object *o, const char *key);
/* Element i of array a, which must be an object (or a string). */
struct json_object *uc_json_object_at(struct uc_json_reader *r, struct json_object *a,
				      size_t i);
const char *uc_json_string_at(struct uc_json_reader *r, struct json_object *a, size_t i);
/* Length of array a (0 for NULL). */
size_t uc_json_length(struct json_object *a);
/* Report a value that has the right type but is not valid. */
void uc_json_invalid(struct uc_json_reader *r, const char *key, const char *why);

/* Building: strings (NULL as ""), string arrays (NULL as []). */
struct json_object *uc_json_new_string(const char *s);
struct json_object *uc_json_new_strv(char *const *v);

#endif
