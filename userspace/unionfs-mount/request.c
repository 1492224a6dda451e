// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

static int um_request_grow(struct um_request *req, struct um_error *err)
{
	size_t cap = req->cap_params ? req->cap_params * 2 : 16;
	struct um_param *n;

	n = realloc(req->params, cap * sizeof(*n));
	if (!n)
		return um_fail_errno(err, errno, "cannot grow the parameter list");
	req->params = n;
	req->cap_params = cap;
	return 0;
}

int um_request_add(struct um_request *req, const char *key, const char *value,
		   struct um_error *err)
{
	struct um_param p = { NULL, NULL };

	if (req->nr_params == req->cap_params && um_request_grow(req, err))
		return -1;
	p.key = strdup(key);
	if (value)
		p.value = strdup(value);
	if (!p.key || (value && !p.value)) {
		free(p.key);
		free(p.value);
		return um_fail_errno(err, ENOMEM, "cannot store option '%s'", key);
	}
	req->params[req->nr_params++] = p;
	return 0;
}

const struct um_param *um_request_find(const struct um_request *req,
				       const char *key)
{
	size_t i;

	for (i = 0; i < req->nr_params; i++)
		if (!strcmp(req->params[i].key, key))
			return &req->params[i];
	return NULL;
}

void um_request_release(struct um_request *req)
{
	size_t i;

	for (i = 0; i < req->nr_params; i++) {
		free(req->params[i].key);
		free(req->params[i].value);
	}
	free(req->params);
	free(req->target);
	memset(req, 0, sizeof(*req));
}
