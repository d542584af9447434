/*
 * @file prof_limits.h
 * The schema of a profile's limits: block, the one table both the YAML
 * loader (prof_load.c) and the control API (ctl_api.c) walk, so that a
 * file and a PATCH take the same keys, types and bounds and GET shows
 * every key.  A key has a name, a type, where its value lives and, for a
 * mapping, a nested table (NULL name ends a table) and a rule checked
 * once the mapping is read.  Values are checked and stored here; the
 * formats only find the keys and read the numbers.
 * profiles/README.md documents the same keys (tests/test_ctl_api.c
 * compares the two).
 */
#ifndef PROF_LIMITS_H
#define PROF_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "prof_world.h"

enum prof_lim_type {
	PROF_LIM_MAP,			/* nested keys: sub */
	PROF_LIM_U32,			/* integer 0..UINT32_MAX */
	PROF_LIM_U64,			/* integer 0..INT64_MAX (JSON's range) */
	PROF_LIM_GROWTH			/* number, 0 or 1..PROF_LIM_GROWTH_MAX */
};

#define PROF_LIM_GROWTH_MAX	1e6

struct prof_lim_key;

/* A rule over a whole mapping, run once it is read (may normalise the
 * object); 0, or -EINVAL with "key: what is wrong" in msg. */
typedef int prof_lim_check_fn(void *obj, char *msg, size_t len);

/* One key of the limits: block or of a mapping inside it. */
struct prof_lim_key {
	const char		*name;
	enum prof_lim_type	 type;
	size_t			 off;	/* in the enclosing object */
	const struct prof_lim_key *sub;	/* PROF_LIM_MAP: its keys */
	prof_lim_check_fn	*check;	/* PROF_LIM_MAP: its rule, or NULL */
};

/* The keys of limits: (the object is a struct prof_limits). */
extern const struct prof_lim_key prof_limits_keys[];

/**
 * Find a key by name in a table.
 * @return the key, or NULL when the table has no such key.
 */
const struct prof_lim_key *prof_lim_find(const struct prof_lim_key *keys,
    const char *name);

/**
 * The names of a table, ", "-separated, into @p buf (truncated to fit).
 * @return @p buf.
 */
char *prof_lim_names(const struct prof_lim_key *keys, char *buf, size_t len);

/**
 * What a leaf key takes, for messages: "an integer 0..4294967295".
 * @return a constant string.
 */
const char *prof_lim_expect(const struct prof_lim_key *k);

/**
 * Store an integer into a leaf key of @p obj (the enclosing object).
 * @return 0; -EINVAL when the key does not take integers (a map) or
 *         @p v is out of its bounds (@p obj unchanged).
 */
int prof_lim_set_int(const struct prof_lim_key *k, void *obj, uint64_t v);

/**
 * Store a number into a number leaf key (PROF_LIM_GROWTH) of @p obj.
 * @return 0; -EINVAL when the key takes integers or is a map, or @p v
 *         is out of its bounds (@p obj unchanged).
 */
int prof_lim_set_num(const struct prof_lim_key *k, void *obj, double v);

/** The value of an integer leaf key of @p obj (0 for any other key). */
uint64_t prof_lim_get_int(const struct prof_lim_key *k, const void *obj);

/** The value of a leaf key of @p obj as a number. */
double prof_lim_get_num(const struct prof_lim_key *k, const void *obj);

/**
 * Run a mapping key's rule on its object (the struct at @p k's offset,
 * filled).  "first_day: must be at least 1 when days > 0".
 * @return 0 (no rule, or it holds), or -EINVAL with msg filled.
 */
int prof_lim_check(const struct prof_lim_key *k, void *field, char *msg,
    size_t len);

#endif /* PROF_LIMITS_H */
