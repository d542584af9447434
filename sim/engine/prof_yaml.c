/*
 * DESCRIPTION
 *	The YAML side of the profile loader: reads one file with libyaml's
 *	document API and gives the profile and scenario readers typed
 *	access to its nodes.  Every mapping is walked through a key table
 *	(struct ld_key: name, setter, offset, nested table), so unknown and
 *	duplicate keys and missing required keys are rejected in one place;
 *	the generic setters store integers and numbers through those tables.
 *
 *	Every error names the file, the 1-based line and column of the
 *	offending node (libyaml marks are 0-based) and what was expected.
 *
 * DIAGNOSTICS
 *	Aborts when out of memory (control plane: see STYLE section 7) and
 *	when libyaml hands back a node index that is not in the document.
 *	Every other failure is returned as -EINVAL plus a struct prof_error.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "prof_limits.h"
#include "prof_load_priv.h"

static const char *ld_what(const struct ld *, const char *);
static bool	 ld_scalar_uint(const yaml_node_t *, uint64_t *);
static bool	 ld_scalar_num(const yaml_node_t *, double *);
static int	 ld_double(struct ld *, yaml_node_t *, double, bool, double *);
static int	 ld_unknown(struct ld *, yaml_node_pair_t *, const char *,
		    const char *, const char *);
static int	 ld_lim_leaf(struct ld *, yaml_node_t *,
		    const struct prof_lim_key *, void *);
static int	 ld_lim_map(struct ld *, yaml_node_t *, const char *,
		    const struct prof_lim_key *, void *);

/* xrealloc - realloc that aborts when out of memory */
void *
ld_xrealloc(void *p, size_t n)
{
	void *q;

	if ((q = realloc(p, n == 0 ? 1 : n)) == NULL)
		abort();
	return q;
}

/* xstrdup - strdup that aborts when out of memory */
char *
ld_xstrdup(const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL)
		abort();
	return d;
}

/* prof_error_str - "file:line:column: message" */
char *
prof_error_str(const struct prof_error *e, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (e->line != 0)
		snprintf(buf, len, "%s:%u:%u: %s", e->file, e->line, e->column,
		    e->msg);
	else
		snprintf(buf, len, "%s: %s", e->file, e->msg);
	return buf;
}

/* ld_err - record an error at a node (NULL: about the whole file) */
int
ld_err(struct ld *ld, const yaml_node_t *n, const char *fmt, ...)
{
	struct prof_error *e = ld->err;
	va_list ap;

	snprintf(e->file, sizeof(e->file), "%s", ld->file);
	e->line = n == NULL ? 0 : (unsigned)n->start_mark.line + 1;
	e->column = n == NULL ? 0 : (unsigned)n->start_mark.column + 1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ld_got - describe a node for "got ..." (one use per message) */
const char *
ld_got(struct ld *ld, const yaml_node_t *n)
{
	const char *s;

	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_SCALAR_NODE:
		if (ld_is_null(n))
			return "null";
		s = (const char *)n->data.scalar.value;
		snprintf(ld->got, sizeof(ld->got), "\"%.60s%s\"", s,
		    strlen(s) > 60 ? "..." : "");
		return ld->got;
	default:
		return "nothing";
	}
}

/* ld_what - human name of a key path ("" is the whole file) */
static const char *
ld_what(const struct ld *ld, const char *path)
{
	return *path == '\0' ? ld->top : path;
}

/* ld_open - read a single-document YAML file; root is a mapping */
int
ld_open(struct ld *ld, const char *path, struct prof_error *err,
    const char *top, yaml_node_t **root)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	yaml_node_t *n;
	FILE *fp;
	int rc = 0;

	memset(ld, 0, sizeof(*ld));
	ld->file = path;
	ld->top = top;
	ld->err = err;
	memset(err, 0, sizeof(*err));
	if ((fp = fopen(path, "rb")) == NULL)
		return ld_err(ld, NULL, "cannot open: %s", strerror(errno));
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_file(&parser, fp);
	if (!yaml_parser_load(&parser, &ld->doc))
		goto syntax;
	ld->have_doc = true;
	if ((*root = yaml_document_get_root_node(&ld->doc)) == NULL) {
		rc = ld_err(ld, NULL, "empty file (expected a %s mapping)",
		    top);
		goto out;
	}
	if (!yaml_parser_load(&parser, &extra))
		goto syntax;
	n = yaml_document_get_root_node(&extra);
	if (n != NULL)
		rc = ld_err(ld, n, "expected a single YAML document");
	yaml_document_delete(&extra);
	if (rc == 0 && (*root)->type != YAML_MAPPING_NODE)
		rc = ld_err(ld, *root, "expected a %s mapping, got %s", top,
		    ld_got(ld, *root));
	goto out;
syntax:
	err->line = 0;
	if (parser.error == YAML_MEMORY_ERROR)
		abort();
	snprintf(err->file, sizeof(err->file), "%s", path);
	if (parser.error == YAML_READER_ERROR) {
		snprintf(err->msg, sizeof(err->msg),
		    "YAML error: %s at byte %zu", parser.problem,
		    parser.problem_offset);
	} else {
		err->line = (unsigned)parser.problem_mark.line + 1;
		err->column = (unsigned)parser.problem_mark.column + 1;
		snprintf(err->msg, sizeof(err->msg),
		    "YAML syntax error: %s%s%s",
		    parser.problem != NULL ? parser.problem : "unknown",
		    parser.context != NULL ? " " : "",
		    parser.context != NULL ? parser.context : "");
	}
	rc = -EINVAL;
out:
	yaml_parser_delete(&parser);
	fclose(fp);
	return rc;
}

/* ld_close - release the document */
void
ld_close(struct ld *ld)
{
	if (ld->have_doc)
		yaml_document_delete(&ld->doc);
	ld->have_doc = false;
	free(ld->lines);
	ld->lines = NULL;
}

/* ld_node - node by index */
yaml_node_t *
ld_node(struct ld *ld, int idx)
{
	yaml_node_t *n;

	if ((n = yaml_document_get_node(&ld->doc, idx)) == NULL)
		abort();
	return n;
}

/* ld_is_null - plain "", "~" or "null" */
bool
ld_is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = (const char *)n->data.scalar.value;
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* ld_string - a non-null scalar without NUL bytes */
int
ld_string(struct ld *ld, yaml_node_t *n, const char **out)
{
	if (n->type != YAML_SCALAR_NODE || ld_is_null(n))
		return ld_err(ld, n, "expected a string, got %s",
		    ld_got(ld, n));
	*out = (const char *)n->data.scalar.value;
	if (strlen(*out) != n->data.scalar.length)
		return ld_err(ld, n, "string contains a NUL byte");
	return 0;
}

/* ld_scalar_uint - a plain decimal integer that fits 64 bits */
static bool
ld_scalar_uint(const yaml_node_t *n, uint64_t *out)
{
	const char *s;
	uint64_t v = 0;
	unsigned d;

	if (n->type != YAML_SCALAR_NODE || ld_is_null(n))
		return false;
	s = (const char *)n->data.scalar.value;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* ld_scalar_num - a finite decimal number */
static bool
ld_scalar_num(const yaml_node_t *n, double *out)
{
	const char *s;
	char *end;
	double v;

	if (n->type != YAML_SCALAR_NODE || ld_is_null(n))
		return false;
	s = (const char *)n->data.scalar.value;
	if (*s != '-' && *s != '+' && *s != '.' && (*s < '0' || *s > '9'))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || errno != 0 || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/* ld_uint - decimal integer in min..max */
int
ld_uint(struct ld *ld, yaml_node_t *n, uint64_t min, uint64_t max,
    uint64_t *out)
{
	uint64_t v;

	if (ld_scalar_uint(n, &v) && v >= min && v <= max) {
		*out = v;
		return 0;
	}
	return ld_err(ld, n, "expected an integer %ju..%ju, got %s",
	    (uintmax_t)min, (uintmax_t)max, ld_got(ld, n));
}

/* ld_double - finite number >= lo (> lo when strict) */
static int
ld_double(struct ld *ld, yaml_node_t *n, double lo, bool strict, double *out)
{
	double v;

	if (ld_scalar_num(n, &v) && (strict ? v > lo : v >= lo)) {
		*out = v;
		return 0;
	}
	return ld_err(ld, n, "expected a number %s %g, got %s",
	    strict ? ">" : ">=", lo, ld_got(ld, n));
}

/* ld_bool - true or false */
int
ld_bool(struct ld *ld, yaml_node_t *n, bool *out)
{
	const char *s;

	if (n->type == YAML_SCALAR_NODE && !ld_is_null(n)) {
		s = (const char *)n->data.scalar.value;
		if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
		    strcmp(s, "TRUE") == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
		    strcmp(s, "FALSE") == 0) {
			*out = false;
			return 0;
		}
	}
	return ld_err(ld, n, "expected true or false, got %s", ld_got(ld, n));
}

/* ld_seq - a sequence with at least min items */
int
ld_seq(struct ld *ld, yaml_node_t *n, const char *path, size_t min)
{
	size_t cnt;

	if (n->type != YAML_SEQUENCE_NODE)
		return ld_err(ld, n, "expected a sequence for %s, got %s", path,
		    ld_got(ld, n));
	cnt = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (cnt < min)
		return ld_err(ld, n, "%s needs at least %zu entr%s", path, min,
		    min == 1 ? "y" : "ies");
	return 0;
}

/* ld_pair_key - key of a mapping pair: a string, not seen before */
int
ld_pair_key(struct ld *ld, yaml_node_t *map, yaml_node_pair_t *pr,
    const char *path, const char **out)
{
	yaml_node_pair_t *prev;
	yaml_node_t *kn, *pn;

	kn = ld_node(ld, pr->key);
	if (kn->type != YAML_SCALAR_NODE || ld_is_null(kn))
		return ld_err(ld, kn, "expected a key name in %s, got %s",
		    ld_what(ld, path), ld_got(ld, kn));
	*out = (const char *)kn->data.scalar.value;
	for (prev = map->data.mapping.pairs.start; prev < pr; prev++) {
		pn = ld_node(ld, prev->key);
		if (pn->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)pn->data.scalar.value, *out) == 0)
			return ld_err(ld, kn,
			    "duplicate key \"%s\" in %s (first at line %u)",
			    *out, ld_what(ld, path),
			    (unsigned)pn->start_mark.line + 1);
	}
	return 0;
}

/* ld_next_pair - walk a mapping: *pr NULL starts (n must be a mapping);
 * gives the next pair and its key (a string, not seen before), or *pr
 * NULL at the end */
int
ld_next_pair(struct ld *ld, yaml_node_t *n, const char *path,
    yaml_node_pair_t **pr, const char **name)
{
	if (*pr == NULL) {
		if (n->type != YAML_MAPPING_NODE)
			return ld_err(ld, n, "expected a mapping for %s, got %s",
			    ld_what(ld, path), ld_got(ld, n));
		*pr = n->data.mapping.pairs.start;
	} else
		(*pr)++;
	if (*pr >= n->data.mapping.pairs.top) {
		*pr = NULL;
		return 0;
	}
	return ld_pair_key(ld, n, *pr, path, name);
}

/* ld_map - walk a mapping through a key table */
int
ld_map(struct ld *ld, yaml_node_t *n, const char *path,
    const struct ld_key *keys, void *obj)
{
	yaml_node_pair_t *pr;
	const struct ld_key *k;
	const char *name;
	char sub[160], list[400];
	uint64_t seen = 0;
	size_t i, len;
	int rc;

	for (pr = NULL; (rc = ld_next_pair(ld, n, path, &pr, &name)) == 0 &&
	    pr != NULL;) {
		for (i = 0, k = keys; k->name != NULL; k++, i++)
			if (strcmp(k->name, name) == 0)
				break;
		if (k->name == NULL) {
			list[0] = '\0';
			for (len = 0, k = keys; k->name != NULL; k++)
				len += (size_t)snprintf(list + len,
				    len < sizeof(list) ? sizeof(list) - len : 0,
				    "%s%s", len == 0 ? "" : ", ", k->name);
			return ld_unknown(ld, pr, name, path, list);
		}
		seen |= 1ull << i;
		if (*path == '\0')
			snprintf(sub, sizeof(sub), "%s", k->name);
		else
			snprintf(sub, sizeof(sub), "%s.%s", path, k->name);
		rc = k->set(ld, ld_node(ld, pr->value), (char *)obj + k->off, k,
		    sub);
		if (rc != 0)
			return rc;
	}
	if (rc != 0)
		return rc;
	for (i = 0, k = keys; k->name != NULL; k++, i++)
		if ((k->flags & LD_REQUIRED) && !(seen & (1ull << i)))
			return ld_err(ld, n,
			    "missing required key \"%s\" in %s", k->name,
			    ld_what(ld, path));
	return 0;
}

/* ld_unknown - error at the key of a pair no table knows */
static int
ld_unknown(struct ld *ld, yaml_node_pair_t *pr, const char *name,
    const char *path, const char *list)
{
	return ld_err(ld, ld_node(ld, pr->key), "unknown key \"%s\" in %s "
	    "(expected one of: %s)", name, ld_what(ld, path), list);
}

/* ld_lim_leaf - one value of the limits schema, its bounds the schema's */
static int
ld_lim_leaf(struct ld *ld, yaml_node_t *n, const struct prof_lim_key *k,
    void *obj)
{
	uint64_t u;
	double d;

	if (k->type == PROF_LIM_GROWTH) {
		if (ld_scalar_num(n, &d) && prof_lim_set_num(k, obj, d) == 0)
			return 0;
	} else if (ld_scalar_uint(n, &u) && prof_lim_set_int(k, obj, u) == 0)
		return 0;
	return ld_err(ld, n, "expected %s, got %s", prof_lim_expect(k),
	    ld_got(ld, n));
}

/* ld_lim_map - a mapping of the limits schema (prof_limits.h); a nested
 * mapping's rule runs once it is read and reports at its node */
static int
ld_lim_map(struct ld *ld, yaml_node_t *n, const char *path,
    const struct prof_lim_key *keys, void *obj)
{
	const struct prof_lim_key *k;
	yaml_node_pair_t *pr;
	yaml_node_t *vn;
	const char *name;
	char sub[160], list[480], msg[160];
	int rc;

	for (pr = NULL; (rc = ld_next_pair(ld, n, path, &pr, &name)) == 0 &&
	    pr != NULL;) {
		if ((k = prof_lim_find(keys, name)) == NULL)
			return ld_unknown(ld, pr, name, path,
			    prof_lim_names(keys, list, sizeof(list)));
		snprintf(sub, sizeof(sub), "%s.%s", path, name);
		vn = ld_node(ld, pr->value);
		if (k->type != PROF_LIM_MAP)
			rc = ld_lim_leaf(ld, vn, k, obj);
		else if ((rc = ld_lim_map(ld, vn, sub, k->sub,
		    (char *)obj + k->off)) == 0 &&
		    prof_lim_check(k, (char *)obj + k->off, msg,
		    sizeof(msg)) != 0)
			rc = ld_err(ld, vn, "%s.%s", sub, msg);
		if (rc != 0)
			return rc;
	}
	return rc;
}

/* ld_set_limits - the limits: block, walked through its schema */
int
ld_set_limits(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	(void)k;
	return ld_lim_map(ld, n, path, prof_limits_keys, field);
}

/* ld_set_map - nested mapping described by k->sub */
int
ld_set_map(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	return ld_map(ld, n, path, k->sub, field);
}

/* ld_set_node - keep the value node for a later combined check */
int
ld_set_node(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	(void)ld;
	(void)k;
	(void)path;
	*(yaml_node_t **)field = n;
	return 0;
}

/* ld_set_u32 - integer 0..UINT32_MAX (1.. with LD_NONZERO) */
int
ld_set_u32(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	uint64_t v;
	int rc;

	(void)path;
	rc = ld_uint(ld, n, (k->flags & LD_NONZERO) ? 1 : 0, UINT32_MAX, &v);
	if (rc == 0)
		*(uint32_t *)field = (uint32_t)v;
	return rc;
}

/* ld_set_u64 - integer 0..UINT64_MAX */
int
ld_set_u64(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	uint64_t v;
	int rc;

	(void)k;
	(void)path;
	if ((rc = ld_uint(ld, n, 0, UINT64_MAX, &v)) == 0)
		*(uint64_t *)field = v;
	return rc;
}

/* ld_set_nonneg - number >= 0 */
int
ld_set_nonneg(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	(void)k;
	(void)path;
	return ld_double(ld, n, 0.0, false, field);
}

/* ld_set_positive - number > 0 */
int
ld_set_positive(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	(void)k;
	(void)path;
	return ld_double(ld, n, 0.0, true, field);
}

/* ld_set_fraction - number 0..1 (rates and probabilities) */
int
ld_set_fraction(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	int rc;

	(void)k;
	(void)path;
	if ((rc = ld_double(ld, n, 0.0, false, field)) != 0)
		return rc;
	if (*(double *)field > 1.0)
		return ld_err(ld, n, "expected a fraction from 0 to 1 (0.003 "
		    "is 0.3 %%), got %s", ld_got(ld, n));
	return 0;
}

/* ld_set_atleast1 - number >= 1 (growth and spike factors) */
int
ld_set_atleast1(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	(void)k;
	(void)path;
	return ld_double(ld, n, 1.0, false, field);
}

/* ld_name_ok - provider name: [a-z0-9_-]+ */
bool
ld_name_ok(const char *s)
{
	size_t len;

	len = strlen(s);
	if (len == 0 || len > LD_NAME_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '-'))
			return false;
	return true;
}

/* ld_domain_ok - host or domain name characters, 1..253 bytes */
bool
ld_domain_ok(const char *s)
{
	size_t len;

	len = strlen(s);
	if (len == 0 || len > 253 || *s == '.' || *s == '-')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' &&
		    *s != '_')
			return false;
	return true;
}

/*
 * ld_set_strlist - sequence of strings into the object's array at k->off
 * and its count at k->cnt (counted as they are added, so a failure
 * leaves nothing unowned); k->flags: LD_NONZERO, LD_LIST_*.
 */
int
ld_set_strlist(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	char ***arr = field;
	size_t *cnt = (size_t *)(void *)((char *)field - k->off + k->cnt);
	unsigned how = k->flags;
	yaml_node_item_t *it;
	yaml_node_t *in;
	const char *s;
	char *d, *c;
	size_t i;
	int rc;

	if ((rc = ld_seq(ld, n, path, (how & LD_NONZERO) ? 1 : 0)) != 0)
		return rc;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		in = ld_node(ld, *it);
		if ((rc = ld_string(ld, in, &s)) != 0)
			return rc;
		if (*s == '\0')
			return ld_err(ld, in, "empty string in %s", path);
		if ((how & LD_LIST_HOST) && !ld_domain_ok(s))
			return ld_err(ld, in, "expected a host or domain name "
			    "in %s, got %s", path, ld_got(ld, in));
		d = ld_xstrdup(s);
		for (c = d; (how & LD_LIST_LOWER) && *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		for (i = 0; i < *cnt; i++)
			if (strcasecmp((*arr)[i], d) == 0) {
				free(d);
				return ld_err(ld, in, "\"%s\" is listed twice "
				    "in %s", s, path);
			}
		*arr = ld_xrealloc(*arr, (*cnt + 1) * sizeof(**arr));
		(*arr)[(*cnt)++] = d;
	}
	return 0;
}
