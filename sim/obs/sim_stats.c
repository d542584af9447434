/*
 * DESCRIPTION
 *	Per-worker reply and transaction counters and the summary tables
 *	printed at exit.
 *
 * DIAGNOSTICS
 *	None; allocation failure is returned as NULL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim_clock.h"
#include "sim_stats.h"

#define ADD(p, n)	__atomic_fetch_add((p), (n), __ATOMIC_RELAXED)
#define LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define NREASONS(n)	(((n) + 1) * 2 * SIM_RK__COUNT)

static size_t	reason_slot(const struct sim_stats *, size_t,
		    enum sim_txn_outcome, enum sim_rk);
static void	print_txns(const struct sim_stats *, const struct prof_world *,
		    FILE *);

static const char *const outcome_names[SIM_TXN__COUNT] = {
	[SIM_TXN_ACCEPTED] = "accepted",
	[SIM_TXN_DEFERRED] = "deferred",
	[SIM_TXN_REFUSED] = "refused",
	[SIM_TXN_ABANDONED] = "abandoned",
};

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
	s->txn_reasons = calloc(NREASONS(nprof), sizeof(uint64_t));
	if (s->replies == NULL || s->rows == NULL || s->txn_reasons == NULL) {
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
	free(s->txn_reasons);
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

/* reason_slot - index of the counter of (row, deferred or refused,
 * reason) in txn_reasons, or SIZE_MAX for another outcome or kind */
static size_t
reason_slot(const struct sim_stats *s, size_t row, enum sim_txn_outcome o,
    enum sim_rk rk)
{
	size_t d;

	if (o == SIM_TXN_DEFERRED)
		d = 0;
	else if (o == SIM_TXN_REFUSED)
		d = 1;
	else
		return SIZE_MAX;
	if (row > s->nprof || (unsigned)rk >= SIM_RK__COUNT)
		return SIZE_MAX;
	return (row * 2 + d) * SIM_RK__COUNT + rk;
}

/* sim_stats_txn - count one ended transaction */
void
sim_stats_txn(struct sim_stats *s, const struct sim_txn *t)
{
	size_t row = t->prof < s->nprof ? t->prof : s->nprof;
	size_t i;

	if ((unsigned)t->outcome >= SIM_TXN__COUNT)
		return;
	ADD(&s->txn[t->outcome], 1);
	ADD(&s->rows[row].txn[t->outcome], 1);
	if ((i = reason_slot(s, row, t->outcome, t->rk)) != SIZE_MAX)
		ADD(&s->txn_reasons[i], 1);
}

/* sim_stats_txn_get - one transaction counter */
uint64_t
sim_stats_txn_get(const struct sim_stats *s, size_t prof,
    enum sim_txn_outcome o, enum sim_rk rk)
{
	size_t i = reason_slot(s, prof, o, rk);

	return i != SIZE_MAX ? LOAD(&s->txn_reasons[i]) : 0;
}

/* sim_stats_txn_reasons - non-zero deferred, then refused, reasons */
size_t
sim_stats_txn_reasons(const struct sim_stats *s, size_t prof,
    struct sim_stats_reason *out)
{
	static const enum sim_txn_outcome by_reason[] = { SIM_TXN_DEFERRED,
	    SIM_TXN_REFUSED };
	size_t i, n = 0;
	uint64_t c;
	int rk;

	for (i = 0; i < 2; i++)
		for (rk = 0; rk < SIM_RK__COUNT; rk++) {
			if ((c = sim_stats_txn_get(s, prof, by_reason[i],
			    rk)) == 0)
				continue;
			out[n].outcome = by_reason[i];
			out[n].rk = rk;
			out[n++].n = c;
		}
	return n;
}

/* sim_stats_outcome_name - name of an outcome */
const char *
sim_stats_outcome_name(enum sim_txn_outcome o)
{
	if ((unsigned)o >= SIM_TXN__COUNT)
		abort();
	return outcome_names[o];
}

/* sim_stats_code - code and enhanced code of a kind on a row */
void
sim_stats_code(const struct prof_world *w, size_t prof, enum sim_rk rk,
    unsigned *code, const char **enh)
{
	const struct sim_kind_info *ki = sim_kind_info(rk);
	const struct prof_reply *r;

	*code = ki->code;
	*enh = ki->enhanced;
	if (prof < w->nprofiles) {
		r = &w->profiles[prof]->replies[rk];
		*code = r->code;
		*enh = r->enhanced != NULL ? r->enhanced : "";
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
	memset(s->txn_reasons, 0, NREASONS(s->nprof) * sizeof(uint64_t));
	memset(s->txn, 0, sizeof(s->txn));
	s->connections = s->messages = s->recipients = 0;
	s->deferred = s->rejected = 0;
}

/* sim_stats_merge - dst += src */
void
sim_stats_merge(struct sim_stats *dst, const struct sim_stats *src)
{
	size_t i, n = (src->nprof + 1) * SIM_RK__COUNT;
	int o;

	for (i = 0; i < n; i++)
		dst->replies[i] += LOAD(&src->replies[i]);
	for (i = 0; i < NREASONS(src->nprof); i++)
		dst->txn_reasons[i] += LOAD(&src->txn_reasons[i]);
	for (o = 0; o < SIM_TXN__COUNT; o++)
		dst->txn[o] += LOAD(&src->txn[o]);
	for (i = 0; i <= src->nprof; i++) {
		for (o = 0; o < SIM_TXN__COUNT; o++)
			dst->rows[i].txn[o] += LOAD(&src->rows[i].txn[o]);
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

/* print_txns - transactions per provider: accepted, deferred and refused
 * per reason, abandoned */
static void
print_txns(const struct sim_stats *s, const struct prof_world *w, FILE *fp)
{
	struct sim_stats_reason rs[SIM_STATS_MAX_REASONS];
	const char *name, *enh;
	unsigned code;
	uint64_t n;
	size_t p, i, nr;

	fprintf(fp, "%-10s %-9s %-24s %4s %-8s %12s\n", "provider", "outcome",
	    "reason", "code", "enhanced", "transactions");
	for (p = 0; p <= s->nprof; p++) {
		name = p < s->nprof ? w->profiles[p]->name : "(no MX)";
		if ((n = LOAD(&s->rows[p].txn[SIM_TXN_ACCEPTED])) > 0) {
			sim_stats_code(w, p, SIM_RK_DATA_OK, &code, &enh);
			fprintf(fp, "%-10s %-9s %-24s %4u %-8s %12llu\n", name,
			    "accepted", sim_kind_info(SIM_RK_DATA_OK)->name,
			    code, enh[0] ? enh : "-", (unsigned long long)n);
		}
		nr = sim_stats_txn_reasons(s, p, rs);
		for (i = 0; i < nr; i++) {
			sim_stats_code(w, p, rs[i].rk, &code, &enh);
			fprintf(fp, "%-10s %-9s %-24s %4u %-8s %12llu\n", name,
			    outcome_names[rs[i].outcome],
			    sim_kind_info(rs[i].rk)->name, code,
			    enh[0] ? enh : "-", (unsigned long long)rs[i].n);
		}
		if ((n = LOAD(&s->rows[p].txn[SIM_TXN_ABANDONED])) > 0)
			fprintf(fp, "%-10s %-9s %-24s %4s %-8s %12llu\n", name,
			    "abandoned", "-", "-", "-", (unsigned long long)n);
	}
}

/* sim_stats_print - the replies and transactions tables, and totals */
void
sim_stats_print(const struct sim_stats *s, const struct prof_world *w,
    FILE *fp)
{
	const char *name, *enh;
	unsigned code;
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
			sim_stats_code(w, p, rk, &code, &enh);
			fprintf(fp, "%-10s %-24s %4u %-8s %10llu\n", name,
			    sim_kind_info(rk)->name, code, enh[0] ? enh : "-",
			    (unsigned long long)n);
		}
	}
	print_txns(s, w, fp);
	fprintf(fp, "connections %llu, messages accepted %llu (%llu "
	    "recipients), 4xx replies %llu, 5xx replies %llu\n",
	    (unsigned long long)s->connections,
	    (unsigned long long)s->messages,
	    (unsigned long long)s->recipients,
	    (unsigned long long)s->deferred, (unsigned long long)s->rejected);
	fprintf(fp, "transactions: %llu accepted, %llu deferred (4xx), %llu "
	    "refused (5xx), %llu abandoned\n",
	    (unsigned long long)s->txn[SIM_TXN_ACCEPTED],
	    (unsigned long long)s->txn[SIM_TXN_DEFERRED],
	    (unsigned long long)s->txn[SIM_TXN_REFUSED],
	    (unsigned long long)s->txn[SIM_TXN_ABANDONED]);
}

/* sim_stats_notice - the first 4xx/5xx of each (profile, kind), once */
void
sim_stats_notice(unsigned char *seen, const struct prof_world *w,
    const struct sim_event *ev, FILE *fp)
{
	const struct prof_profile *p;
	size_t row;
	char iso[32], ip[SIM_ADDR_TEXT_MAX];

	if (ev->code < 400)
		return;
	row = ev->prof < w->nprofiles ? ev->prof : w->nprofiles;
	if (__atomic_exchange_n(&seen[row * SIM_RK__COUNT + ev->rk], 1,
	    __ATOMIC_RELAXED))
		return;
	p = ev->prof < w->nprofiles ? w->profiles[ev->prof] : NULL;
	if (ev->client6 != NULL)
		sim_addr6_fmt(ev->client6, ip, sizeof(ip));
	else
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", ev->client_ip >> 24,
		    (ev->client_ip >> 16) & 255, (ev->client_ip >> 8) & 255,
		    ev->client_ip & 255);
	fprintf(fp, "mxsim: [sim %s] %s: first %u%s%s %s (stage %s, client "
	    "%s)\n", sim_clock_iso(ev->sim_ms, iso, sizeof(iso)),
	    p != NULL ? p->name : "(no MX)", ev->code,
	    ev->enhanced[0] ? " " : "", ev->enhanced,
	    sim_kind_info(ev->rk)->name, sim_stage_name(ev->stage), ip);
	fflush(fp);
}

/* sim_stats_first - the simulated ms of the first 4xx/5xx of each
 * (profile, kind) */
void
sim_stats_first(uint64_t *first_ms, const struct prof_world *w,
    const struct sim_event *ev)
{
	uint64_t *slot, zero = 0;
	size_t row;

	if (ev->code < 400)
		return;
	row = ev->prof < w->nprofiles ? ev->prof : w->nprofiles;
	slot = &first_ms[row * SIM_RK__COUNT + ev->rk];
	if (__atomic_load_n(slot, __ATOMIC_RELAXED) != 0)
		return;
	__atomic_compare_exchange_n(slot, &zero, ev->sim_ms != 0 ?
	    ev->sim_ms : 1, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}
