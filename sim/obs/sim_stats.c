/*
 * DESCRIPTION
 *	Per-worker reply counters and the summary table printed at exit.
 *
 * DIAGNOSTICS
 *	None; allocation failure is returned as NULL.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_clock.h"
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
	s->rows = calloc(nprof + 1, sizeof(*s->rows));
	if (s->replies == NULL || s->rows == NULL) {
		sim_stats_free(s);
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
	free(s->rows);
	free(s);
}

/* sim_stats_event - count one reply */
void
sim_stats_event(struct sim_stats *s, const struct sim_event *ev)
{
	size_t row = ev->prof < s->nprof ? ev->prof : s->nprof;

	struct sim_stats_row *r = &s->rows[row];

	ADD(&s->replies[row * SIM_RK__COUNT + ev->rk], 1);
	if (ev->stage == SIM_STAGE_CONNECT)
		ADD(&r->connections, 1);
	if (ev->rk == SIM_RK_DATA_OK) {
		ADD(&s->messages, 1);
		ADD(&s->recipients, ev->nrcpts);
		ADD(&r->messages, 1);
		ADD(&r->recipients, ev->nrcpts);
	}
	if (ev->code >= 400 && ev->code < 500) {
		ADD(&s->deferred, 1);
		ADD(&r->deferred, 1);
	} else if (ev->code >= 500) {
		ADD(&s->rejected, 1);
		ADD(&r->rejected, 1);
	}
}

/* sim_stats_connection - count a session start */
void
sim_stats_connection(struct sim_stats *s)
{
	ADD(&s->connections, 1);
}

/* sim_stats_reset - zero every counter */
void
sim_stats_reset(struct sim_stats *s)
{
	memset(s->replies, 0, (s->nprof + 1) * SIM_RK__COUNT *
	    sizeof(*s->replies));
	memset(s->rows, 0, (s->nprof + 1) * sizeof(*s->rows));
	s->connections = s->messages = s->recipients = 0;
	s->deferred = s->rejected = 0;
}

/* sim_stats_merge - dst += src */
void
sim_stats_merge(struct sim_stats *dst, const struct sim_stats *src)
{
	size_t i, n = (src->nprof + 1) * SIM_RK__COUNT;

	for (i = 0; i < n; i++)
		dst->replies[i] += LOAD(&src->replies[i]);
	for (i = 0; i <= src->nprof; i++) {
		dst->rows[i].connections += LOAD(&src->rows[i].connections);
		dst->rows[i].messages += LOAD(&src->rows[i].messages);
		dst->rows[i].recipients += LOAD(&src->rows[i].recipients);
		dst->rows[i].deferred += LOAD(&src->rows[i].deferred);
		dst->rows[i].rejected += LOAD(&src->rows[i].rejected);
	}
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

/* sim_stats_notice - the first 4xx/5xx of each (profile, kind), once */
void
sim_stats_notice(unsigned char *seen, const struct prof_world *w,
    const struct sim_event *ev, FILE *fp)
{
	const struct prof_profile *p;
	size_t row;
	char iso[32];

	if (ev->code < 400)
		return;
	row = ev->prof < w->nprofiles ? ev->prof : w->nprofiles;
	if (__atomic_exchange_n(&seen[row * SIM_RK__COUNT + ev->rk], 1,
	    __ATOMIC_RELAXED))
		return;
	p = ev->prof < w->nprofiles ? w->profiles[ev->prof] : NULL;
	fprintf(fp, "mxsim: [sim %s] %s: first %u%s%s %s (stage %s, client "
	    "%u.%u.%u.%u)\n", sim_clock_iso(ev->sim_ms, iso, sizeof(iso)),
	    p != NULL ? p->name : "(no MX)", ev->code,
	    ev->enhanced[0] ? " " : "", ev->enhanced,
	    sim_kind_info(ev->rk)->name, sim_stage_name(ev->stage),
	    ev->client_ip >> 24, (ev->client_ip >> 16) & 255,
	    (ev->client_ip >> 8) & 255, ev->client_ip & 255);
	fflush(fp);
}
