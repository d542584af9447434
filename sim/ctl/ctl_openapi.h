/*
 * @file ctl_openapi.h
 * The control API's OpenAPI document (sim/ctl/openapi.json), embedded at
 * build time by sim/ctl/embed.py; served at GET /v1/openapi.json.
 */
#ifndef CTL_OPENAPI_H
#define CTL_OPENAPI_H

#include <stddef.h>

extern const char ctl_openapi_json[];	/* the document, NUL-terminated */
extern const size_t ctl_openapi_json_len; /* its bytes, without the NUL */

#endif /* CTL_OPENAPI_H */
