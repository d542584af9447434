/*
 * DESCRIPTION
 *	Counting table, outcome counters and the two
 *	report printers of mxload.  The table is a fixed open-addressing
 *	hash (linear probing, load factor <= 3/4) allocated once; adding a
 *	row copies at most HX_TALLY_TEXT_MAX bytes of text and never
 *	allocates.  Printing sorts a temporary copy of the used rows.
 *
 * DIAGNOSTICS
 *	A full table refuses new keys with -ENOSPC and counts them; the
 *	report prints that count.  Nothing panics.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_rng.h"
#include "hx_tally.h"

static uint64_t		row_hash(uint32_t, unsigned, unsigned, const char *);
static int		row_cmp(const void *, const void *);
static struct hx_row	*rows_sorted(const struct hx_tally *, size_t *);
static void		copy_trunc(char *, size_t, const char *);
static json_t		*json_bytes(const char *);
static double		per_sec(uint64_t, double);

static const char *const stage_names[HX_STAGE_COUNT] = {
	[HX_STAGE_CONNECT] = "connect",
	[HX_STAGE_EHLO] = "ehlo",
	[HX_STAGE_MAIL] = "mail",
	[HX_STAGE_RCPT] = "rcpt",
	[HX_STAGE_DATA] = "data",
	[HX_STAGE_EOD] = "eod",
	[HX_STAGE_RSET] = "rset",
	[HX_STAGE_QUIT] = "quit",
};

static const char *const outcome_names[HX_OUT_COUNT] = {
	[HX_OUT_ACCEPTED] = "accepted",
	[HX_OUT_DEFERRED] = "deferred",
	[HX_OUT_REJECTED] = "rejected",
	[HX_OUT_ERROR] = "error",
};

/* hx_tally_create - allocate an empty tally of fixed capacity */
struct hx_tally *
hx_tally_create(size_t ntargets, size_t cap)
{
	struct hx_tally *t;
	size_t slots;

	if (ntargets == 0 || cap == 0 || cap > ((size_t)1 << 24))
		return NULL;
	for (slots = 16; slots * 3 / 4 < cap; slots <<= 1)
		;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->rows = calloc(slots, sizeof(*t->rows));
	t->outcome = calloc(ntargets, sizeof(*t->outcome));
	if (t->rows == NULL || t->outcome == NULL) {
		hx_tally_free(t);
		return NULL;
	}
	t->cap = slots;
	t->ntargets = ntargets;
	return t;
}

/* hx_tally_free - release a tally */
void
hx_tally_free(struct hx_tally *t)
{
	if (t == NULL)
		return;
	free(t->rows);
	free(t->outcome);
	free(t);
}

/* hx_stage_name - printable stage name */
const char *
hx_stage_name(enum hx_stage s)
{
	if ((unsigned)s >= HX_STAGE_COUNT)
		return "?";
	return stage_names[s];
}

/* row_hash - hash of a row key */
static uint64_t
row_hash(uint32_t target, unsigned stage, unsigned code, const char *enh)
{
	uint64_t h;

	h = sim_mix64(((uint64_t)target << 32) | ((uint64_t)stage << 16) |
	    code);
	for (; *enh != '\0'; enh++)
		h = sim_mix64(h ^ (unsigned char)*enh);
	return h;
}

/* copy_trunc - bounded string copy that always terminates */
static void
copy_trunc(char *dst, size_t cap, const char *src)
{
	size_t n;

	n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* hx_tally_add - count one reply or error under its key */
int
hx_tally_add(struct hx_tally *t, uint32_t target, enum hx_stage stage,
    unsigned code, const char *enh, const char *text)
{
	char key[HX_TALLY_ENH_MAX];
	struct hx_row *r;
	size_t i, mask;

	if (target >= t->ntargets || (unsigned)stage >= HX_STAGE_COUNT ||
	    code > 999)
		return -EINVAL;
	copy_trunc(key, sizeof(key), enh != NULL ? enh : "");
	if (code == 0)
		t->errors++;
	mask = t->cap - 1;
	i = row_hash(target, stage, code, key) & mask;
	for (;; i = (i + 1) & mask) {
		r = &t->rows[i];
		if (!r->used)
			break;
		if (r->target == target && r->stage == stage &&
		    r->code == code && strcmp(r->enh, key) == 0) {
			r->count++;
			return 0;
		}
	}
	if (t->nrows + 1 > t->cap * 3 / 4) {
		t->dropped++;
		return -ENOSPC;
	}
	r->used = 1;
	r->target = target;
	r->stage = (uint8_t)stage;
	r->code = (uint16_t)code;
	r->count = 1;
	memcpy(r->enh, key, sizeof(r->enh));
	copy_trunc(r->text, sizeof(r->text), text != NULL ? text : "");
	t->nrows++;
	return 0;
}

/* hx_tally_outcome - count one message outcome */
void
hx_tally_outcome(struct hx_tally *t, uint32_t target,
    enum hx_outcome outcome)
{
	if ((unsigned)outcome >= HX_OUT_COUNT)
		return;
	t->total[outcome]++;
	if (target < t->ntargets)
		t->outcome[target][outcome]++;
}

/* hx_tally_messages - total message outcomes */
uint64_t
hx_tally_messages(const struct hx_tally *t)
{
	uint64_t n;
	int i;

	n = 0;
	for (i = 0; i < HX_OUT_COUNT; i++)
		n += t->total[i];
	return n;
}

/* row_cmp - print order: target, stage, code, enhanced code */
static int
row_cmp(const void *a, const void *b)
{
	const struct hx_row *x = a, *y = b;

	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	if (x->stage != y->stage)
		return x->stage < y->stage ? -1 : 1;
	if (x->code != y->code)
		return x->code < y->code ? -1 : 1;
	return strcmp(x->enh, y->enh);
}

/* rows_sorted - malloc'ed sorted copy of the used rows */
static struct hx_row *
rows_sorted(const struct hx_tally *t, size_t *n)
{
	struct hx_row *v;
	size_t i, k;

	v = malloc((t->nrows > 0 ? t->nrows : 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	for (i = 0, k = 0; i < t->cap; i++)
		if (t->rows[i].used)
			v[k++] = t->rows[i];
	qsort(v, k, sizeof(*v), row_cmp);
	*n = k;
	return v;
}

/* per_sec - rate, 0 when no time passed */
static double
per_sec(uint64_t n, double secs)
{
	return secs > 0 ? (double)n / secs : 0.0;
}

/* hx_tally_print - the human-readable report */
int
hx_tally_print(const struct hx_tally *t, const struct hx_summary *s,
    const char *const *names, FILE *fp)
{
	uint64_t msgs;

	msgs = hx_tally_messages(t);
	fprintf(fp, "mxload: %llu messages in %.2f s (%.1f msg/s), "
	    "%llu connections, %llu errors%s\n", (unsigned long long)msgs,
	    s->elapsed, per_sec(msgs, s->elapsed),
	    (unsigned long long)s->connections,
	    (unsigned long long)t->errors,
	    s->interrupted ? " (interrupted)" : "");
	fprintf(fp, "outcome   accepted %llu  deferred %llu  rejected %llu  "
	    "error %llu", (unsigned long long)t->total[HX_OUT_ACCEPTED],
	    (unsigned long long)t->total[HX_OUT_DEFERRED],
	    (unsigned long long)t->total[HX_OUT_REJECTED],
	    (unsigned long long)t->total[HX_OUT_ERROR]);
	if (s->aborted > 0)
		fprintf(fp, "  aborted %llu", (unsigned long long)s->aborted);
	fputc('\n', fp);
	fprintf(fp, "eod latency ms  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  "
	    "(%llu replies)\n", hx_hist_quantile(&t->eod_lat, 0.50) / 1e3,
	    hx_hist_quantile(&t->eod_lat, 0.90) / 1e3,
	    hx_hist_quantile(&t->eod_lat, 0.99) / 1e3,
	    (double)t->eod_lat.max / 1e3,
	    (unsigned long long)t->eod_lat.count);
	if (t->dropped > 0)
		fprintf(fp, "warning: %llu replies not tabled (more than %zu "
		    "distinct rows)\n", (unsigned long long)t->dropped,
		    t->cap * 3 / 4);
	return hx_tally_print_rows(t, names, fp);
}

/* hx_tally_print_rows - the table alone */
int
hx_tally_print_rows(const struct hx_tally *t, const char *const *names,
    FILE *fp)
{
	struct hx_row *v;
	size_t n, i, w, tl;
	const char *name;

	v = rows_sorted(t, &n);
	if (v == NULL)
		return -ENOMEM;
	w = strlen("target");
	for (i = 0; i < n; i++)
		if (strlen(names[v[i].target]) > w)
			w = strlen(names[v[i].target]);
	fprintf(fp, "%-*s  stage   code enhanced      count  text\n", (int)w,
	    "target");
	for (i = 0; i < n; i++) {
		name = names[v[i].target];
		tl = strlen(v[i].text);
		fprintf(fp, "%-*s  %-7s %3u  %-9s %9llu  ", (int)w, name,
		    hx_stage_name((enum hx_stage)v[i].stage), v[i].code,
		    v[i].enh[0] != '\0' ? v[i].enh : "-",
		    (unsigned long long)v[i].count);
		if (tl > HX_TALLY_SHOW_TEXT)
			fprintf(fp, "%.*s...\n", HX_TALLY_SHOW_TEXT - 3,
			    v[i].text);
		else
			fprintf(fp, "%s\n", v[i].text);
	}
	free(v);
	return ferror(fp) ? -EIO : 0;
}

/* json_bytes - a JSON string of a C string's bytes, each byte one
 * character (a byte above 0x7f is U+0080..U+00FF, Latin-1), so that a
 * server's reply that is not UTF-8 survives; NULL: no memory */
static json_t *
json_bytes(const char *p)
{
	size_t n = strlen(p), k = 0;
	unsigned char c;
	json_t *j;
	char *u;

	if ((u = malloc(2 * n + 1)) == NULL)
		return NULL;
	for (; *p != '\0'; p++) {
		c = (unsigned char)*p;
		if (c < 0x80)
			u[k++] = (char)c;
		else {
			u[k++] = (char)(0xc0 | c >> 6);
			u[k++] = (char)(0x80 | (c & 0x3f));
		}
	}
	j = json_stringn(u, k);
	free(u);
	return j;
}

/* hx_json_fixed - a number rounded to @p places decimals, as the text
 * report shows it; null when not finite */
json_t *
hx_json_fixed(double v, int places)
{
	double scale = pow(10, places);

	if (!isfinite(v))
		return json_null();
	return json_real(round(v * scale) / scale);
}

/* hx_tally_json - the machine-readable report */
json_t *
hx_tally_json(const struct hx_tally *t, const struct hx_summary *s,
    const char *const *names)
{
	json_t *o, *outcome, *lat, *targets, *tg;
	uint64_t msgs;
	size_t i;
	int k;

	msgs = hx_tally_messages(t);
	outcome = json_object();
	for (k = 0; outcome != NULL && k < HX_OUT_COUNT; k++)
		json_object_set_new(outcome, outcome_names[k],
		    json_integer((json_int_t)t->total[k]));
	lat = json_pack("{s:I,s:o,s:o,s:o,s:o}",
	    "count", (json_int_t)t->eod_lat.count,
	    "p50", hx_json_fixed(hx_hist_quantile(&t->eod_lat, 0.50) / 1e3, 3),
	    "p90", hx_json_fixed(hx_hist_quantile(&t->eod_lat, 0.90) / 1e3, 3),
	    "p99", hx_json_fixed(hx_hist_quantile(&t->eod_lat, 0.99) / 1e3, 3),
	    "max", hx_json_fixed((double)t->eod_lat.max / 1e3, 3));
	targets = json_array();
	for (i = 0; targets != NULL && i < t->ntargets; i++) {
		tg = json_pack("{s:o}", "name", json_bytes(names[i]));
		for (k = 0; tg != NULL && k < HX_OUT_COUNT; k++)
			json_object_set_new(tg, outcome_names[k],
			    json_integer((json_int_t)t->outcome[i][k]));
		json_array_append_new(targets, tg);
	}
	o = json_pack("{s:I,s:o,s:o,s:I,s:I,s:I,s:I,s:b,s:I,s:o*,s:o*,s:o*,"
	    "s:o*}",
	    "messages", (json_int_t)msgs,
	    "elapsed_s", hx_json_fixed(s->elapsed, 3),
	    "msg_per_s", hx_json_fixed(per_sec(msgs, s->elapsed), 1),
	    "connections", (json_int_t)s->connections,
	    "established", (json_int_t)s->established,
	    "errors", (json_int_t)t->errors,
	    "aborted", (json_int_t)s->aborted,
	    "interrupted", (int)s->interrupted,
	    "dropped_rows", (json_int_t)t->dropped,
	    "outcome", outcome, "eod_latency_ms", lat, "targets", targets,
	    "rows", hx_tally_json_rows(t, names));
	return o;
}

/* hx_tally_json_rows - the rows as a JSON array */
json_t *
hx_tally_json_rows(const struct hx_tally *t, const char *const *names)
{
	struct hx_row *v;
	json_t *a;
	size_t n, i;

	if ((v = rows_sorted(t, &n)) == NULL)
		return NULL;
	a = json_array();
	for (i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_pack(
		    "{s:o,s:s,s:i,s:o,s:I,s:o}",
		    "target", json_bytes(names[v[i].target]),
		    "stage", hx_stage_name((enum hx_stage)v[i].stage),
		    "code", (int)v[i].code, "enhanced", json_bytes(v[i].enh),
		    "count", (json_int_t)v[i].count,
		    "text", json_bytes(v[i].text)));
	free(v);
	return a;
}
