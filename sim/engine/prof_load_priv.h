/*
 * @file prof_load_priv.h
 * Private to the profile loader (prof_yaml.c, prof_load.c,
 * prof_scenario.c); never included elsewhere.  The loader state, the
 * key-table types and the YAML access, typed getters and generic
 * setters that the profile and scenario readers share.  Every getter
 * and setter returns 0 or -EINVAL with ld->err filled in (file, 1-based
 * line and column, message); out of memory aborts.
 */
#ifndef PROF_LOAD_PRIV_H
#define PROF_LOAD_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "prof_load.h"

#define LD_REQUIRED	0x01u	/* key must be present */
#define LD_NONZERO	0x02u	/* integer >= 1; list: at least one entry */
#define LD_LIST_HOST	0x04u	/* string list: host-name characters */
#define LD_LIST_LOWER	0x08u	/* string list: lower-case the copies */

#define LD_NAME_MAX	64	/* bytes of a provider name */

struct ld_blk;

/* Loader state for one YAML file. */
struct ld {
	const char	*file;		/* path as named in errors */
	const char	*top;		/* "profile" or "scenario" */
	struct prof_error *err;
	yaml_document_t	 doc;
	bool		 have_doc;
	char		 got[96];	/* ld_got() scratch */
	char		*lines;		/* a multi-line reply text, joined
					 * (prof_load.c), freed by ld_close() */

	/* scenario only (prof_scenario.c) */
	struct prof_world *w;
	char		*dir;		/* scenario directory, NULL = cwd */
	const char	*datadir;	/* bundled profiles, or NULL */
	char		**loaded;	/* realpath of w->profiles[i] */
	struct ld_blk	*blk;		/* where each w->blocks[i] came from */
};

struct ld_key;
typedef int (*ld_set_fn)(struct ld *, yaml_node_t *, void *,
    const struct ld_key *, const char *);

/* One key of a mapping: how to store its value into the object. */
struct ld_key {
	const char		*name;
	ld_set_fn		 set;
	size_t			 off;	/* field offset in the object */
	const struct ld_key	*sub;	/* keys of a nested mapping */
	unsigned		 flags;	/* LD_* */
	size_t			 cnt;	/* ld_set_strlist: offset of the
					 * size_t count in the object */
};

/* A key whose value is a list of strings, kept in the char **arr and
 * size_t cnt fields of type T (flags: LD_NONZERO, LD_LIST_*); a field
 * of another type does not compile. */
#define LD_STRLIST(name, T, arr, cnt, flags) \
	{ (name), ld_set_strlist, \
	    offsetof(T, arr) + _Generic(((T *)0)->arr, char **: 0), NULL, \
	    (flags), offsetof(T, cnt) + _Generic(((T *)0)->cnt, size_t: 0) }

/* memory */
void		*ld_xrealloc(void *, size_t);
char		*ld_xstrdup(const char *);

/* errors and YAML access */
int		 ld_err(struct ld *, const yaml_node_t *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
const char	*ld_got(struct ld *, const yaml_node_t *);
int		 ld_open(struct ld *, const char *, struct prof_error *,
		    const char *, yaml_node_t **);
void		 ld_close(struct ld *);
yaml_node_t	*ld_node(struct ld *, int);
bool		 ld_is_null(const yaml_node_t *);
int		 ld_string(struct ld *, yaml_node_t *, const char **);
int		 ld_uint(struct ld *, yaml_node_t *, uint64_t, uint64_t,
		    uint64_t *);
int		 ld_bool(struct ld *, yaml_node_t *, bool *);
int		 ld_seq(struct ld *, yaml_node_t *, const char *, size_t);
int		 ld_pair_key(struct ld *, yaml_node_t *, yaml_node_pair_t *,
		    const char *, const char **);
int		 ld_next_pair(struct ld *, yaml_node_t *, const char *,
		    yaml_node_pair_t **, const char **);
int		 ld_map(struct ld *, yaml_node_t *, const char *,
		    const struct ld_key *, void *);

/* generic setters, for key tables */
int		 ld_set_map(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
int		 ld_set_limits(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
int		 ld_set_node(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
int		 ld_set_u32(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
int		 ld_set_u64(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
int		 ld_set_nonneg(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
int		 ld_set_positive(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
int		 ld_set_atleast1(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
int		 ld_set_fraction(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
int		 ld_set_strlist(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);

/* submission services (prof_submit.c) */
int		 prof_ld_set_submission(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
int		 prof_ld_accounts(struct ld *, yaml_node_t *, const char *,
		    uint32_t);
/* IPv6 parts of a scenario (prof_scenario6.c) */
bool		 ld_is_ipv6(const yaml_node_t *);
int		 ld_add_block6(struct ld *, yaml_node_t *, size_t, uint32_t);
int		 ld_rdns6(struct ld *, yaml_node_t *, const char *, const char *,
		    bool);
void		 ld_rdns_name(const char *, bool, enum prof_rdns_state *,
		    char **);
int		 ld_blocklist6(struct ld *, yaml_node_t *);
int		 ld_set_prefix6(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);

/* shared value checks */
bool		 ld_name_ok(const char *);
bool		 ld_domain_ok(const char *);

#endif /* PROF_LOAD_PRIV_H */
