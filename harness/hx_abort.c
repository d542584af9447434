/*
 * DESCRIPTION
 *	Client abort plans and their counts, and the --msg-log line.  A
 *	plan comes from sim_rng seeded with (seed ^ HX_AB_STREAM, seq), a
 *	stream of its own, so planning aborts changes no other draw of the
 *	run (recipients use (seed, seq)).
 *
 * DIAGNOSTICS
 *	None.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "hx_abort.h"
#include "sim_rng.h"

#define HX_AB_STREAM	UINT64_C(0xab0f7ab0f7ab0f7a) /* abort PRNG stream */

/* hx_abort_plan - a message's abort plan from its own PRNG stream */
void
hx_abort_plan(uint64_t seed, uint64_t seq, double prob,
    struct hx_abort_plan *p)
{
	struct sim_rng rng;

	p->stage = HX_AB_NONE;
	p->mode = HX_AB_RST;
	if (!(prob > 0))
		return;
	sim_rng_seed(&rng, seed ^ HX_AB_STREAM, seq);
	if (sim_rng_double(&rng) >= prob)
		return;
	p->stage = (enum hx_abort_stage)(HX_AB_PRE_MAIL +
	    sim_rng_below(&rng, HX_AB__COUNT - 1));
	p->mode = (enum hx_abort_mode)sim_rng_below(&rng, HX_AB__MODES);
}

/* hx_aborts_add - count one abort carried out */
void
hx_aborts_add(struct hx_aborts *a, const struct hx_abort_plan *p)
{
	if (p->stage <= HX_AB_NONE || p->stage >= HX_AB__COUNT ||
	    p->mode >= HX_AB__MODES)
		return;
	a->n[p->stage][p->mode]++;
}

/* hx_aborts_total - aborts at one stage, or at every stage */
uint64_t
hx_aborts_total(const struct hx_aborts *a, enum hx_abort_stage stage)
{
	uint64_t n = 0;
	int s, m;

	for (s = HX_AB_PRE_MAIL; s < HX_AB__COUNT; s++)
		if (stage == HX_AB_NONE || stage == (enum hx_abort_stage)s)
			for (m = 0; m < HX_AB__MODES; m++)
				n += a->n[s][m];
	return n;
}

/* hx_abort_stage_name - stage name for tables and logs */
const char *
hx_abort_stage_name(enum hx_abort_stage s)
{
	static const char *const names[HX_AB__COUNT] = {
		"none", "pre_mail", "mid_rcpt", "mid_data", "after_dot"
	};

	return (unsigned)s < HX_AB__COUNT ? names[s] : "?";
}

/* hx_abort_mode_name - mode name */
const char *
hx_abort_mode_name(enum hx_abort_mode m)
{
	return m == HX_AB_RST ? "rst" : m == HX_AB_CLOSE ? "close" : "?";
}

/* hx_msg_log_line - one tab-separated --msg-log line */
int
hx_msg_log_line(char *buf, size_t cap, uint64_t seq, const char *target,
    const char *outcome, enum hx_stage stage, unsigned code,
    const struct hx_abort_plan *ab, int dot, const char *rcpt)
{
	char abuf[32];
	int n;

	if (ab->stage == HX_AB_NONE)
		snprintf(abuf, sizeof(abuf), "-");
	else
		snprintf(abuf, sizeof(abuf), "%s/%s",
		    hx_abort_stage_name(ab->stage),
		    hx_abort_mode_name(ab->mode));
	n = snprintf(buf, cap, "%" PRIu64 "\t%s\t%s\t%s\t%u\t%s\t%d\t%s\n",
	    seq, target, outcome, hx_stage_name(stage), code, abuf, dot != 0,
	    rcpt);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

/* hx_aborts_print - the abort table */
void
hx_aborts_print(const struct hx_aborts *a, uint64_t messages, FILE *fp)
{
	uint64_t total = hx_aborts_total(a, HX_AB_NONE);
	int s;

	fprintf(fp, "client aborts: %" PRIu64 " of %" PRIu64 " messages "
	    "(%" PRIu64 " planned)\n", total, messages, a->planned);
	for (s = HX_AB_PRE_MAIL; s < HX_AB__COUNT; s++)
		fprintf(fp, "  %-10s rst %8" PRIu64 "  close %8" PRIu64 "%s\n",
		    hx_abort_stage_name((enum hx_abort_stage)s),
		    a->n[s][HX_AB_RST], a->n[s][HX_AB_CLOSE],
		    s == HX_AB_AFTER_DOT ? "  (outcome unknown)" : "");
}

/* hx_aborts_json - the abort counts as one JSON object */
json_t *
hx_aborts_json(const struct hx_aborts *a)
{
	json_t *o;
	int s;

	if ((o = json_pack("{s:I}", "planned", (json_int_t)a->planned)) == NULL)
		return NULL;
	for (s = HX_AB_PRE_MAIL; s < HX_AB__COUNT; s++)
		json_object_set_new(o,
		    hx_abort_stage_name((enum hx_abort_stage)s),
		    json_pack("{s:I,s:I}", "rst", (json_int_t)a->n[s][HX_AB_RST],
		    "close", (json_int_t)a->n[s][HX_AB_CLOSE]));
	json_object_set_new(o, "unknown", json_integer((json_int_t)
	    hx_aborts_total(a, HX_AB_AFTER_DOT)));
	return o;
}
