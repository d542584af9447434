/*
 * DESCRIPTION
 *	The Postmaster view's aggregator (see sim_pm.h for what each figure
 *	means).  Rows live in PM_STRIPES lock stripes; a row's stripe and
 *	its slot in the stripe's open-addressing index come from one hash of
 *	its key (kind, provider, day, IP or domain).  Each stripe owns a
 *	fixed array of rows allocated at creation; rows are never removed,
 *	so the bound holds for the life of the run.  An event updates at
 *	most two rows (its domain row and its IP row), one stripe lock at a
 *	time.  Events that change no figure (2xx replies before end of DATA)
 *	take no lock.
 *
 * DIAGNOSTICS
 *	Nothing panics; a full stripe or an over-long domain is counted as
 *	overflow.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sim_pm.h"
#include "sim_policy.h"
#include "sim_rng.h"

#define PM_STRIPES	16
#define PM_DEFAULT_ROWS	65536

struct pm_stripe {
	pthread_mutex_t	 lock;
	struct sim_pm_row *rows;	/* [cap] */
	uint32_t	*index;		/* [mask + 1]: 0 empty, else row + 1 */
	size_t		 nrows;
	size_t		 cap;
	size_t		 mask;
} __attribute__((aligned(64)));

struct sim_pm {
	struct pm_stripe stripes[PM_STRIPES];
	size_t		 max_rows;
	uint64_t	 overflow;	/* atomic */
};

static uint64_t	key_hash(unsigned, uint32_t, uint64_t, uint32_t,
		    const char *);
static struct sim_pm_row *row_get(struct pm_stripe *, uint64_t, unsigned,
		    uint32_t, uint64_t, uint32_t, const char *);
static void	row_add(struct sim_pm_row *, const struct sim_event *,
		    double);
static void	row_error(struct sim_pm_row *, const struct sim_event *);
static bool	row_match(const struct sim_pm_row *,
		    const struct sim_pm_filter *);
static int	row_cmp(const void *, const void *);
static void	count(struct sim_pm *, unsigned, uint32_t, uint64_t,
		    uint32_t, const char *, const struct sim_event *, double);

/* key_hash - FNV-1a over a row's key, then mixed */
static uint64_t
key_hash(unsigned kind, uint32_t prof, uint64_t day, uint32_t ip,
    const char *domain)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const unsigned char *p;

	h = (h ^ kind) * 0x100000001b3ULL;
	h = (h ^ prof) * 0x100000001b3ULL;
	h = (h ^ day) * 0x100000001b3ULL;
	h = (h ^ ip) * 0x100000001b3ULL;
	if (domain != NULL)
		for (p = (const unsigned char *)domain; *p != '\0'; p++)
			h = (h ^ *p) * 0x100000001b3ULL;
	return sim_mix64(h);
}

/* sim_pm_new - stripes with their row arrays and indexes */
struct sim_pm *
sim_pm_new(size_t max_rows)
{
	struct sim_pm *pm;
	struct pm_stripe *st;
	size_t per, slots;
	unsigned i;

	if (max_rows == 0)
		max_rows = PM_DEFAULT_ROWS;
	per = (max_rows + PM_STRIPES - 1) / PM_STRIPES;
	if (per > UINT32_MAX / 4)
		return NULL;
	for (slots = 1; slots < 2 * per; slots <<= 1)
		;
	if ((pm = calloc(1, sizeof(*pm))) == NULL)
		return NULL;
	pm->max_rows = per * PM_STRIPES;
	for (i = 0; i < PM_STRIPES; i++) {
		st = &pm->stripes[i];
		pthread_mutex_init(&st->lock, NULL);
		st->cap = per;
		st->mask = slots - 1;
		/* calloc: pages of rows never used are never touched */
		st->rows = calloc(per, sizeof(*st->rows));
		st->index = calloc(slots, sizeof(*st->index));
		if (st->rows == NULL || st->index == NULL) {
			sim_pm_free(pm);
			return NULL;
		}
	}
	return pm;
}

/* sim_pm_free - free the stripes */
void
sim_pm_free(struct sim_pm *pm)
{
	unsigned i;

	if (pm == NULL)
		return;
	for (i = 0; i < PM_STRIPES; i++) {
		free(pm->stripes[i].rows);
		free(pm->stripes[i].index);
		pthread_mutex_destroy(&pm->stripes[i].lock);
	}
	free(pm);
}

/* row_get - find or create a row of hash @p h in its stripe @p st (locked);
 * NULL when the stripe is full */
static struct sim_pm_row *
row_get(struct pm_stripe *st, uint64_t h, unsigned kind, uint32_t prof,
    uint64_t day, uint32_t ip, const char *domain)
{
	struct sim_pm_row *r;
	size_t slot = (size_t)(h / PM_STRIPES) & st->mask;
	uint32_t ix;

	while ((ix = st->index[slot]) != 0) {
		r = &st->rows[ix - 1];
		if (r->kind == kind && r->prof == prof && r->day == day &&
		    r->ip == ip && (domain == NULL ? r->domain[0] == '\0' :
		    strcmp(r->domain, domain) == 0))
			return r;
		slot = (slot + 1) & st->mask;
	}
	if (st->nrows == st->cap)
		return NULL;
	r = &st->rows[st->nrows];
	r->kind = (uint8_t)kind;
	r->prof = prof;
	r->day = day;
	r->ip = ip;
	if (domain != NULL)
		strcpy(r->domain, domain);	/* length checked by caller */
	r->rep = SIM_PM_NO_REP;
	st->index[slot] = (uint32_t)++st->nrows;
	return r;
}

/* row_error - count a 4xx/5xx under its (code, enhanced) */
static void
row_error(struct sim_pm_row *r, const struct sim_event *ev)
{
	const char *enh = ev->enhanced != NULL ? ev->enhanced : "";
	unsigned i;

	for (i = 0; i < r->nerrors; i++)
		if (r->errors[i].code == ev->code &&
		    strcmp(r->errors[i].enhanced, enh) == 0) {
			r->errors[i].count++;
			return;
		}
	if (r->nerrors == SIM_PM_MAX_ERRORS || strlen(enh) >= SIM_PM_ENH_MAX) {
		r->errors_other++;
		return;
	}
	r->errors[i].code = ev->code;
	strcpy(r->errors[i].enhanced, enh);
	r->errors[i].count = 1;
	r->nerrors++;
}

/* row_add - add one event to a row; rep is the score this row keeps
 * (ip_rep or domain_rep), negative for none */
static void
row_add(struct sim_pm_row *r, const struct sim_event *ev, double rep)
{
	uint64_t c;

	if (ev->code >= 400)
		row_error(r, ev);
	if (ev->stage != SIM_STAGE_EOD)
		return;
	r->eod++;
	r->spf_pass += ev->spf == SIM_AUTH_PASS;
	r->dkim_pass += ev->dkim == SIM_AUTH_PASS;
	r->dmarc_pass += ev->dmarc == SIM_AUTH_PASS;
	r->tls += ev->tls;
	if (ev->code < 200 || ev->code >= 300)
		return;
	r->messages++;
	r->recipients += ev->nrcpts;
	r->complaints += ev->complaints;
	if (ev->placement == SIM_PLACE_NONE ||
	    ev->placement >= SIM_PLACE_COUNT)
		return;
	r->placement[ev->placement]++;
	r->seeds[ev->placement] += ev->nseeds;
	/* the event log's rounding (sim_evlog.c put_rep) */
	if (!(rep >= 0) || rep > 1e9)
		return;
	c = (uint64_t)(rep * 100 + 0.5);
	if (r->rep == SIM_PM_NO_REP || c < r->rep ||
	    (c == r->rep && ev->sim_ms < r->rep_ms)) {
		r->rep = c;
		r->rep_ms = ev->sim_ms;
	}
}

/* count - add an event to the row of one key, under its stripe lock */
static void
count(struct sim_pm *pm, unsigned kind, uint32_t prof, uint64_t day,
    uint32_t ip, const char *domain, const struct sim_event *ev,
    double rep)
{
	struct pm_stripe *st;
	struct sim_pm_row *r;
	uint64_t h;

	h = key_hash(kind, prof, day, ip, domain);
	st = &pm->stripes[h % PM_STRIPES];
	pthread_mutex_lock(&st->lock);
	r = row_get(st, h, kind, prof, day, ip, domain);
	if (r != NULL)
		row_add(r, ev, rep);
	pthread_mutex_unlock(&st->lock);
	if (r == NULL)
		__atomic_fetch_add(&pm->overflow, 1, __ATOMIC_RELAXED);
}

/* sim_pm_event - count one reply in its domain row and its IP row */
void
sim_pm_event(struct sim_pm *pm, const struct sim_event *ev)
{
	char a6[SIM_ADDR_TEXT_MAX];
	uint64_t day;

	if (ev->prof == UINT32_MAX)
		return;
	if (ev->stage != SIM_STAGE_EOD && ev->code < 400)
		return;
	day = ev->sim_ms / SIM_PM_DAY_MS;
	if (ev->sender_domain != NULL && ev->sender_domain[0] != '\0') {
		if (strlen(ev->sender_domain) >= SIM_PM_DOMAIN_MAX)
			__atomic_fetch_add(&pm->overflow, 1, __ATOMIC_RELAXED);
		else
			count(pm, SIM_PM_DOMAIN, ev->prof, day, 0,
			    ev->sender_domain, ev, ev->domain_rep);
	}
	if (ev->client6 != NULL) {	/* IPv6: its text in the domain key */
		sim_addr6_fmt(ev->client6, a6, sizeof(a6));
		count(pm, SIM_PM_IP, ev->prof, day, 0, a6, ev, ev->ip_rep);
	} else
		count(pm, SIM_PM_IP, ev->prof, day, ev->client_ip, NULL, ev,
		    ev->ip_rep);
}

/* sim_pm_overflow - events that found no row */
uint64_t
sim_pm_overflow(const struct sim_pm *pm)
{
	return __atomic_load_n(&pm->overflow, __ATOMIC_RELAXED);
}

/* sim_pm_max_rows - the bound on rows */
size_t
sim_pm_max_rows(const struct sim_pm *pm)
{
	return pm->max_rows;
}

/* row_match - does a row pass the filter */
static bool
row_match(const struct sim_pm_row *r, const struct sim_pm_filter *f)
{
	if (f == NULL)
		return true;
	if (f->by_prof && r->prof != f->prof)
		return false;
	if (f->by_day && r->day != f->day)
		return false;
	if (f->domain == NULL && !f->by_ip)
		return true;
	if (r->kind == SIM_PM_DOMAIN)
		return f->domain != NULL && strcmp(r->domain, f->domain) == 0;
	return f->by_ip && r->ip == f->ip && r->domain[0] == '\0';
}

/* row_cmp - kind, provider, domain or IP, day */
static int
row_cmp(const void *a, const void *b)
{
	const struct sim_pm_row *x = a, *y = b;
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->prof != y->prof)
		return x->prof < y->prof ? -1 : 1;
	if ((c = strcmp(x->domain, y->domain)) != 0)
		return c;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	return 0;
}

/* sim_pm_rows - copy matching rows out, sorted */
long
sim_pm_rows(struct sim_pm *pm, const struct sim_pm_filter *f,
    struct sim_pm_row **out)
{
	struct sim_pm_row *v = NULL, *nv;
	struct pm_stripe *st;
	size_t n = 0, cap = 0, i;
	unsigned s;

	*out = NULL;
	for (s = 0; s < PM_STRIPES; s++) {
		st = &pm->stripes[s];
		pthread_mutex_lock(&st->lock);
		for (i = 0; i < st->nrows; i++) {
			if (!row_match(&st->rows[i], f))
				continue;
			if (n == cap) {
				cap = cap == 0 ? 64 : 2 * cap;
				if ((nv = realloc(v, cap * sizeof(*v))) ==
				    NULL) {
					pthread_mutex_unlock(&st->lock);
					free(v);
					return -ENOMEM;
				}
				v = nv;
			}
			v[n++] = st->rows[i];
		}
		pthread_mutex_unlock(&st->lock);
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), row_cmp);
	*out = v;
	return (long)n;
}

/* sim_pm_high_from - where the High band starts */
double
sim_pm_high_from(const struct prof_reputation *r)
{
	return r->temp_below + (r->max - r->temp_below) / 2;
}

/* sim_pm_band - a score's band under a profile's thresholds */
enum sim_pm_band
sim_pm_band(const struct prof_reputation *r, double score)
{
	if (score < r->block_below)
		return SIM_PM_BAND_BAD;
	if (score < r->temp_below)
		return SIM_PM_BAND_LOW;
	if (score < sim_pm_high_from(r))
		return SIM_PM_BAND_MEDIUM;
	return SIM_PM_BAND_HIGH;
}

/* sim_pm_band_name - a band's display name */
const char *
sim_pm_band_name(enum sim_pm_band b)
{
	static const char *const names[] = { "Bad", "Low", "Medium", "High" };

	return (unsigned)b < sizeof(names) / sizeof(names[0]) ? names[b] :
	    "?";
}

/* sim_pm_print_seeds - the seed-placement table over all days */
long
sim_pm_print_seeds(struct sim_pm *pm, const struct prof_world *w, FILE *fp)
{
	struct sim_pm_row *rows, sum;
	long n, i, j, printed = 0;
	uint64_t total;
	unsigned f;

	if ((n = sim_pm_rows(pm, NULL, &rows)) < 0)
		return n;
	for (i = 0; i < n; i = j) {
		memset(&sum, 0, sizeof(sum));
		for (j = i; j < n && rows[j].kind == SIM_PM_DOMAIN &&
		    rows[j].prof == rows[i].prof &&
		    strcmp(rows[j].domain, rows[i].domain) == 0; j++)
			for (f = 1; f < SIM_PLACE_COUNT; f++)
				sum.seeds[f] += rows[j].seeds[f];
		if (j == i) {		/* an IP row: the domain rows are done */
			break;
		}
		total = 0;
		for (f = 1; f < SIM_PLACE_COUNT; f++)
			total += sum.seeds[f];
		if (total == 0)
			continue;
		if (printed++ == 0)
			fprintf(fp, "seed placement (seed recipients of "
			    "accepted messages):\n  %-12s %-28s %8s %8s %8s "
			    "%11s\n", "provider", "sender domain", "seeds",
			    "inbox", "spam", "promotions");
		fprintf(fp, "  %-12s %-28s %8" PRIu64 " %7.1f%% %7.1f%% "
		    "%10.1f%%\n", rows[i].prof < w->nprofiles ?
		    w->profiles[rows[i].prof]->name : "?", rows[i].domain,
		    total, 100.0 * (double)sum.seeds[SIM_PLACE_INBOX] /
		    (double)total, 100.0 * (double)sum.seeds[SIM_PLACE_SPAM] /
		    (double)total,
		    100.0 * (double)sum.seeds[SIM_PLACE_PROMOTIONS] /
		    (double)total);
	}
	free(rows);
	return printed;
}
