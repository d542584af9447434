/*
 * @file ctl_json.h
 * The control API's JSON text: jansson's compact output with every real
 * in the shortest form that reads back as the same double (29.966, not
 * 29.966000000000001; 1/3 as 0.3333333333333333), as Python's repr and
 * JavaScript's Number.toString print them.
 */
#ifndef CTL_JSON_H
#define CTL_JSON_H

#include <jansson.h>

/**
 * Render @p v compactly (jansson), reals shortest.
 * @return a malloc()ed NUL-terminated text, or NULL when out of memory.
 */
char *ctl_json_dumps(const json_t *v);

/**
 * Rewrite every real of a JSON text in its shortest exact form; strings
 * are left as they are.
 * @return a malloc()ed NUL-terminated text, or NULL when out of memory.
 */
char *ctl_json_short_reals(const char *text);

#endif /* CTL_JSON_H */
