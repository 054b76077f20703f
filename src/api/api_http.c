// SPDX-License-Identifier: GPL-2.0-only
#include "api/api_http.h"

#include <stdlib.h>

void api_response_set(struct api_response *r, unsigned int status, char *body)
{
	free(r->body);
	r->status = status;
	r->body = body;
	r->content_type = "application/json";
}

void api_response_free(struct api_response *r)
{
	free(r->body);
	r->body = NULL;
}
