/*
 * DESCRIPTION
 *	Per-worker reply counters and the summary table printed at exit.
 *
 * DIAGNOSTICS
 *	None; allocation failure is returned as NULL.
 */
#include <stdlib.h>

#include "sim_stats.h"

#define ADD(p, n)	__atomic_fetch_add((p), (n), __ATOMIC_RELAXED)
#define LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)

/* sim_stats_new - zeroed counters */
struct sim_stats *
sim_stats_new(size_t nprof)
{
	struct sim_stats *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->nprof = nprof;
	s->replies = calloc((nprof + 1) * SIM_RK__COUNT, sizeof(uint64_t));
	if (s->replies == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

/* sim_stats_free - free counters */
void
sim_stats_free(struct sim_stats *s)
{
	if (s == NULL)
		return;
	free(s->replies);
	free(s);
}

/* sim_stats_event - count one reply */
void
sim_stats_event(struct sim_stats *s, const struct sim_event *ev)
{
	size_t row = ev->prof < s->nprof ? ev->prof : s->nprof;

	ADD(&s->replies[row * SIM_RK__COUNT + ev->rk], 1);
	if (ev->rk == SIM_RK_DATA_OK) {
		ADD(&s->messages, 1);
		ADD(&s->recipients, ev->nrcpts);
	}
	if (ev->code >= 400 && ev->code < 500)
		ADD(&s->deferred, 1);
	else if (ev->code >= 500)
		ADD(&s->rejected, 1);
}

/* sim_stats_connection - count a session start */
void
sim_stats_connection(struct sim_stats *s)
{
	ADD(&s->connections, 1);
}

/* sim_stats_merge - dst += src */
void
sim_stats_merge(struct sim_stats *dst, const struct sim_stats *src)
{
	size_t i, n = (src->nprof + 1) * SIM_RK__COUNT;

	for (i = 0; i < n; i++)
		dst->replies[i] += LOAD(&src->replies[i]);
	dst->connections += LOAD(&src->connections);
	dst->messages += LOAD(&src->messages);
	dst->recipients += LOAD(&src->recipients);
	dst->deferred += LOAD(&src->deferred);
	dst->rejected += LOAD(&src->rejected);
}

/* sim_stats_get - one counter */
uint64_t
sim_stats_get(const struct sim_stats *s, size_t prof, enum sim_rk rk)
{
	if (prof > s->nprof || (unsigned)rk >= SIM_RK__COUNT)
		return 0;
	return LOAD(&s->replies[prof * SIM_RK__COUNT + rk]);
}

/* sim_stats_print - per-provider table and totals */
void
sim_stats_print(const struct sim_stats *s, const struct prof_world *w,
    FILE *fp)
{
	const struct prof_reply *r;
	const char *name;
	uint64_t n;
	size_t p;
	int rk;

	fprintf(fp, "%-10s %-24s %4s %-8s %10s\n", "provider", "reason",
	    "code", "enhanced", "replies");
	for (p = 0; p <= s->nprof; p++) {
		name = p < s->nprof ? w->profiles[p]->name : "(no MX)";
		for (rk = 0; rk < SIM_RK__COUNT; rk++) {
			if ((n = sim_stats_get(s, p, rk)) == 0)
				continue;
			if (p < s->nprof) {
				r = &w->profiles[p]->replies[rk];
				fprintf(fp, "%-10s %-24s %4u %-8s %10llu\n",
				    name, sim_kind_info(rk)->name, r->code,
				    r->enhanced[0] ? r->enhanced : "-",
				    (unsigned long long)n);
			} else
				fprintf(fp, "%-10s %-24s %4u %-8s %10llu\n",
				    name, sim_kind_info(rk)->name,
				    sim_kind_info(rk)->code,
				    sim_kind_info(rk)->enhanced,
				    (unsigned long long)n);
		}
	}
	fprintf(fp, "connections %llu, messages accepted %llu (%llu "
	    "recipients), 4xx replies %llu, 5xx replies %llu\n",
	    (unsigned long long)s->connections,
	    (unsigned long long)s->messages,
	    (unsigned long long)s->recipients,
	    (unsigned long long)s->deferred, (unsigned long long)s->rejected);
}
