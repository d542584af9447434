/*
 * DESCRIPTION
 *	mxload's retry queue (a binary min-heap in one array sized at
 *	start) and the per-message outcome counts of --retry, with their
 *	text and JSON printers.  The reply tables of bounces and expiries
 *	are hx_tally tables (target, stage, code, enhanced code).
 *
 * DIAGNOSTICS
 *	A full queue refuses a push with -ENOSPC (the engine sizes it so
 *	that this cannot happen); nothing is printed here but the reports.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hx_retry.h"

static int	msg_before(const struct hx_retry_msg *,
		    const struct hx_retry_msg *);
static void	msg_swap(struct hx_retry_msg *, struct hx_retry_msg *);
static double	attempts_mean(const struct hx_retry_stats *);
static double	drain_s(const struct hx_retry_stats *);
static double	delivered_rate(const struct hx_retry_stats *);

static const char *const final_names[HX_FIN_COUNT] = {
	[HX_FIN_DELIVERED] = "delivered",
	[HX_FIN_BOUNCED] = "bounced",
	[HX_FIN_EXPIRED] = "expired",
	[HX_FIN_DEFERRED] = "deferred",
	[HX_FIN_ABORTED] = "aborted",
};

/* hx_retry_queue_init - the heap array, once */
int
hx_retry_queue_init(struct hx_retry_queue *q, size_t cap)
{
	if (cap == 0)
		return -EINVAL;
	q->v = calloc(cap, sizeof(*q->v));
	if (q->v == NULL)
		return -ENOMEM;
	q->len = 0;
	q->cap = cap;
	return 0;
}

/* hx_retry_queue_free - release the array */
void
hx_retry_queue_free(struct hx_retry_queue *q)
{
	free(q->v);
	q->v = NULL;
	q->len = q->cap = 0;
}

/* msg_before - heap order: due time, then message number */
static int
msg_before(const struct hx_retry_msg *a, const struct hx_retry_msg *b)
{
	if (a->due_us != b->due_us)
		return a->due_us < b->due_us;
	return a->seq < b->seq;
}

/* msg_swap - exchange two heap entries */
static void
msg_swap(struct hx_retry_msg *a, struct hx_retry_msg *b)
{
	struct hx_retry_msg t = *a;

	*a = *b;
	*b = t;
}

/* hx_retry_queue_push - add a message, sift up */
int
hx_retry_queue_push(struct hx_retry_queue *q, const struct hx_retry_msg *m)
{
	size_t i, p;

	if (q->len == q->cap)
		return -ENOSPC;
	i = q->len++;
	q->v[i] = *m;
	while (i > 0) {
		p = (i - 1) / 2;
		if (!msg_before(&q->v[i], &q->v[p]))
			break;
		msg_swap(&q->v[i], &q->v[p]);
		i = p;
	}
	return 0;
}

/* hx_retry_queue_top - the message due first */
const struct hx_retry_msg *
hx_retry_queue_top(const struct hx_retry_queue *q)
{
	return q->len > 0 ? &q->v[0] : NULL;
}

/* hx_retry_queue_pop - take the message due first, sift down */
int
hx_retry_queue_pop(struct hx_retry_queue *q, struct hx_retry_msg *out)
{
	size_t i, l, m;

	if (q->len == 0)
		return -ENOENT;
	*out = q->v[0];
	q->v[0] = q->v[--q->len];
	for (i = 0;; i = m) {
		l = 2 * i + 1;
		m = i;
		if (l < q->len && msg_before(&q->v[l], &q->v[m]))
			m = l;
		if (l + 1 < q->len && msg_before(&q->v[l + 1], &q->v[m]))
			m = l + 1;
		if (m == i)
			break;
		msg_swap(&q->v[i], &q->v[m]);
	}
	return 0;
}

/* hx_retry_stats_init - zero counts, two reply tables */
int
hx_retry_stats_init(struct hx_retry_stats *st, size_t ntargets)
{
	memset(st, 0, sizeof(*st));
	st->bounced = hx_tally_create(ntargets, HX_RETRY_ROWS);
	st->expired = hx_tally_create(ntargets, HX_RETRY_ROWS);
	if (st->bounced == NULL || st->expired == NULL) {
		hx_retry_stats_free(st);
		return -ENOMEM;
	}
	return 0;
}

/* hx_retry_stats_free - release the reply tables */
void
hx_retry_stats_free(struct hx_retry_stats *st)
{
	hx_tally_free(st->bounced);
	hx_tally_free(st->expired);
	st->bounced = st->expired = NULL;
}

/* hx_retry_final - count one message's final outcome */
void
hx_retry_final(struct hx_retry_stats *st, const struct hx_retry_msg *m,
    enum hx_final fin, uint64_t now_us)
{
	uint32_t k;

	if ((unsigned)fin >= HX_FIN_COUNT)
		return;
	st->final[fin]++;
	st->attempts += m->attempts;
	if (m->attempts > st->attempts_max)
		st->attempts_max = m->attempts;
	k = m->attempts > 0 ? m->attempts - 1 : 0;
	st->hist[k < HX_RETRY_HIST ? k : HX_RETRY_HIST - 1]++;
	if (fin != HX_FIN_DEFERRED && now_us > st->last_us)
		st->last_us = now_us;
}

/* hx_final_name - printable outcome */
const char *
hx_final_name(enum hx_final fin)
{
	if ((unsigned)fin >= HX_FIN_COUNT)
		return "?";
	return final_names[fin];
}

/* attempts_mean - attempts per message */
static double
attempts_mean(const struct hx_retry_stats *st)
{
	uint64_t n = 0;
	int k;

	for (k = 0; k < HX_FIN_COUNT; k++)
		n += st->final[k];
	return n > 0 ? (double)st->attempts / (double)n : 0.0;
}

/* drain_s - first attempt to last final outcome, seconds */
static double
drain_s(const struct hx_retry_stats *st)
{
	if (!st->started || st->last_us < st->first_us)
		return 0.0;
	return (double)(st->last_us - st->first_us) / 1e6;
}

/* delivered_rate - delivered messages per second of the drain */
static double
delivered_rate(const struct hx_retry_stats *st)
{
	double d = drain_s(st);

	return d > 0 ? (double)st->final[HX_FIN_DELIVERED] / d : 0.0;
}

/* hx_retry_print - the per-message report */
int
hx_retry_print(const struct hx_retry_stats *st, const char *const *names,
    FILE *fp)
{
	int k, rc;

	fprintf(fp, "messages ");
	for (k = 0; k < HX_FIN_COUNT; k++)
		fprintf(fp, " %s %llu", final_names[k],
		    (unsigned long long)st->final[k]);
	fprintf(fp, "\nattempts  %llu  mean %.2f  max %u  per message:",
	    (unsigned long long)st->attempts, attempts_mean(st),
	    st->attempts_max);
	for (k = 0; k < HX_RETRY_HIST; k++)
		if (st->hist[k] > 0)
			fprintf(fp, " %d%s:%llu", k + 1,
			    k == HX_RETRY_HIST - 1 ? "+" : "",
			    (unsigned long long)st->hist[k]);
	fprintf(fp, "\ndrain     %.2f s (first attempt to last final "
	    "outcome), %.1f delivered/s%s\n", drain_s(st), delivered_rate(st),
	    st->final[HX_FIN_DEFERRED] > 0 ?
	    ", not drained: messages still deferred" : "");
	if (st->bounced->nrows > 0) {
		fprintf(fp, "bounced by:\n");
		if ((rc = hx_tally_print_rows(st->bounced, names, fp)) != 0)
			return rc;
	}
	if (st->expired->nrows > 0) {
		fprintf(fp, "expired after (last temporary reply):\n");
		if ((rc = hx_tally_print_rows(st->expired, names, fp)) != 0)
			return rc;
	}
	return ferror(fp) ? -EIO : 0;
}

/* hx_retry_json - the per-message report as one JSON object */
json_t *
hx_retry_json(const struct hx_retry_stats *st, const char *const *names)
{
	json_t *o, *hist;
	int k;

	if ((o = json_object()) == NULL)
		return NULL;
	for (k = 0; k < HX_FIN_COUNT; k++)
		json_object_set_new(o, final_names[k],
		    json_integer((json_int_t)st->final[k]));
	hist = json_array();
	for (k = 0; hist != NULL && k < HX_RETRY_HIST; k++)
		json_array_append_new(hist,
		    json_integer((json_int_t)st->hist[k]));
	json_object_set_new(o, "attempts", json_integer((json_int_t)
	    st->attempts));
	json_object_set_new(o, "attempts_mean",
	    hx_json_fixed(attempts_mean(st), 3));
	json_object_set_new(o, "attempts_max", json_integer(st->attempts_max));
	json_object_set_new(o, "attempts_hist", hist);
	json_object_set_new(o, "drain_s", hx_json_fixed(drain_s(st), 3));
	json_object_set_new(o, "delivered_per_s",
	    hx_json_fixed(delivered_rate(st), 3));
	json_object_set_new(o, "bounced_by",
	    hx_tally_json_rows(st->bounced, names));
	json_object_set_new(o, "expired_after",
	    hx_tally_json_rows(st->expired, names));
	return o;
}
