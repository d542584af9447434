/*
 * DESCRIPTION
 *	Retry schedules of mxload (grammar in hx_sched.h).  A value is
 *	split at ';' into Exim-like rules when it starts with "F," or
 *	"G,", else at ',' into items: a bare duration adds a LIST delay,
 *	"min=", "max=", "lifetime=" and "run=" set fields.  A preset is
 *	expanded to its text form first, parsed, then every duration is
 *	divided by the factor.
 *
 *	With run=D, retries start at queue scans, every D after the start
 *	of the run; a scan takes each retry due at most HX_SCHED_SLACK
 *	after it, as Postfix's queue manager takes each deferred file whose
 *	whole-second time stamp is at most one second in the future.
 *
 *	The presets are the MTAs' documented defaults: Postfix
 *	minimal_backoff_time 300s, maximal_backoff_time 4000s,
 *	queue_run_delay 300s, maximal_queue_lifetime 5d (postconf(5));
 *	Exim's default retry rule "F,2h,15m; G,16h,1h,1.5; F,4d,6h" (the
 *	retry section of Exim's default configuration).
 *
 * DIAGNOSTICS
 *	Parsers write a one-line reason into the caller's buffer; nothing
 *	is printed here.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hx_opt.h"
#include "hx_sched.h"

#define SCHED_TEXT_MAX	256		/* a --retry value */
#define SCHED_US_MAX	(10ull * 365 * 86400 * 1000000) /* 10 years */

/* One preset: its name and its text form. */
struct sched_preset {
	const char	*name;
	const char	*text;
};

static const struct sched_preset presets[] = {
	{ "postfix", "min=300s,max=4000s,run=300s,lifetime=5d" },
	{ "exim", "F,2h,15m;G,16h,1h,1.5;F,4d,6h" },
};

/* One duration unit. */
struct sched_unit {
	const char	*name;
	uint64_t	 us;
};

/* largest first: hx_sched_format() picks the first that divides */
static const struct sched_unit units[] = {
	{ "d", 86400ull * 1000000 }, { "h", 3600ull * 1000000 },
	{ "m", 60ull * 1000000 }, { "s", 1000000 }, { "ms", 1000 },
};

#define NUNITS	(sizeof(units) / sizeof(units[0]))

static int	parse_rules(char *, struct hx_sched *, char *, size_t);
static int	parse_items(char *, struct hx_sched *, char *, size_t);
static int	parse_text(const char *, struct hx_sched *, char *, size_t);
static int	scale(struct hx_sched *, double, char *, size_t);
static uint64_t	scale_one(uint64_t, double);
static int	put_dur(char *, size_t, uint64_t);

/* hx_duration_parse - "<number><unit>" to microseconds */
int
hx_duration_parse(const char *s, uint64_t *us)
{
	char *end;
	double v, x;
	size_t i;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(v) || v <= 0)
		return -EINVAL;
	for (i = 0; i < NUNITS; i++)
		if (strcmp(end, units[i].name) == 0)
			break;
	if (i == NUNITS)
		return -EINVAL;
	x = v * (double)units[i].us;
	if (x < 1 || x > (double)SCHED_US_MAX)
		return -EINVAL;
	*us = (uint64_t)llround(x);
	return 0;
}

/* parse_rules - "F,CUTOFF,D;G,CUTOFF,D,MULT;..." in place */
static int
parse_rules(char *text, struct hx_sched *s, char *err, size_t errlen)
{
	struct hx_sched_rule *r;
	char *rule, *save, *f[5], *save2, *end;
	size_t nf;
	uint64_t prev = 0;

	s->kind = HX_SCHED_RULES;
	for (rule = strtok_r(text, ";", &save); rule != NULL;
	    rule = strtok_r(NULL, ";", &save)) {
		while (*rule == ' ')
			rule++;
		if (s->n == HX_SCHED_MAX)
			return hx_opt_fail(err, errlen, "more than %d rules",
			    HX_SCHED_MAX);
		nf = 0;
		for (f[nf] = strtok_r(rule, ",", &save2); f[nf] != NULL &&
		    nf < 4; f[nf] = strtok_r(NULL, ",", &save2))
			nf++;
		r = &s->rule[s->n];
		if (nf < 3 || (nf == 4 && f[4] != NULL) ||
		    (f[0][0] != 'F' && f[0][0] != 'G') ||
		    f[0][1] != '\0' || nf != (f[0][0] == 'F' ? 3u : 4u))
			return hx_opt_fail(err, errlen,
			    "rule %zu: want F,CUTOFF,"
			    "INTERVAL or G,CUTOFF,INTERVAL,MULT", s->n + 1);
		if (hx_duration_parse(f[1], &r->cutoff_us) != 0 ||
		    hx_duration_parse(f[2], &r->interval_us) != 0)
			return hx_opt_fail(err, errlen,
			    "rule %zu: bad duration "
			    "(want e.g. 15m; units ms s m h d)", s->n + 1);
		if (r->cutoff_us <= prev)
			return hx_opt_fail(err, errlen,
			    "rule %zu: cutoff %s not "
			    "after the previous one", s->n + 1, f[1]);
		r->mult = 1.0;
		if (nf == 4) {
			r->mult = strtod(f[3], &end);
			if (*end != '\0' || !isfinite(r->mult) ||
			    r->mult < 1.0 || r->mult > 100.0)
				return hx_opt_fail(err, errlen,
				    "rule %zu: multiplier "
				    "\"%s\" not in 1..100", s->n + 1, f[3]);
		}
		prev = r->cutoff_us;
		s->n++;
	}
	if (s->n == 0)
		return hx_opt_fail(err, errlen, "no rule");
	s->lifetime_us = prev;
	return 0;
}

/* parse_items - "D,D,...", "min=D,max=D", ",lifetime=D", ",run=D" */
static int
parse_items(char *text, struct hx_sched *s, char *err, size_t errlen)
{
	char *it, *save, *v;
	uint64_t d, *field;
	int have_min = 0, have_max = 0;

	for (it = strtok_r(text, ",", &save); it != NULL;
	    it = strtok_r(NULL, ",", &save)) {
		v = strchr(it, '=');
		if (v == NULL) {
			if (s->n == HX_SCHED_MAX)
				return hx_opt_fail(err, errlen,
				    "more than %d delays",
				    HX_SCHED_MAX);
			if (hx_duration_parse(it, &s->delay_us[s->n]) != 0)
				return hx_opt_fail(err, errlen, "\"%s\": not a "
				    "duration (want e.g. 5s; units ms s m h d)",
				    it);
			s->n++;
			continue;
		}
		*v++ = '\0';
		if (strcmp(it, "min") == 0) {
			field = &s->min_us;
			have_min = 1;
		} else if (strcmp(it, "max") == 0) {
			field = &s->max_us;
			have_max = 1;
		} else if (strcmp(it, "lifetime") == 0)
			field = &s->lifetime_us;
		else if (strcmp(it, "run") == 0)
			field = &s->run_us;
		else
			return hx_opt_fail(err, errlen,
			    "unknown key \"%s\" (want "
			    "min, max, lifetime or run)", it);
		if (hx_duration_parse(v, &d) != 0)
			return hx_opt_fail(err, errlen,
			    "%s=\"%s\": not a duration "
			    "(want e.g. 5s; units ms s m h d)", it, v);
		*field = d;
	}
	if (have_min != have_max)
		return hx_opt_fail(err, errlen, "min= and max= go together");
	if (have_min && s->n > 0)
		return hx_opt_fail(err, errlen, "either a list of delays or "
		    "min=,max=, not both");
	if (!have_min && s->n == 0)
		return hx_opt_fail(err, errlen, "no delay (want e.g. 5s,10s or "
		    "min=5s,max=40s)");
	if (have_min && s->min_us > s->max_us)
		return hx_opt_fail(err, errlen, "min= is above max=");
	s->kind = have_min ? HX_SCHED_AGE : HX_SCHED_LIST;
	if (s->lifetime_us == 0)
		s->lifetime_us = HX_SCHED_LIFETIME;
	return 0;
}

/* parse_text - a schedule's text form (no preset) */
static int
parse_text(const char *text, struct hx_sched *s, char *err, size_t errlen)
{
	char buf[SCHED_TEXT_MAX];

	memset(s, 0, sizeof(*s));
	if (strlen(text) >= sizeof(buf))
		return hx_opt_fail(err, errlen, "longer than %d characters",
		    SCHED_TEXT_MAX - 1);
	strcpy(buf, text);
	if (buf[0] == '\0' || strchr(",;", buf[0]) != NULL ||
	    strchr(",;", buf[strlen(buf) - 1]) != NULL ||
	    strstr(buf, ",,") != NULL || strstr(buf, ";;") != NULL ||
	    strstr(buf, ",;") != NULL || strstr(buf, ";,") != NULL)
		return hx_opt_fail(err, errlen, "empty item");
	if ((buf[0] == 'F' || buf[0] == 'G') && buf[1] == ',')
		return parse_rules(buf, s, err, errlen);
	return parse_items(buf, s, err, errlen);
}

/* scale_one - a duration divided by the factor, at least 1 us */
static uint64_t
scale_one(uint64_t us, double f)
{
	double x = (double)us / f;

	return x < 1 ? 1 : (uint64_t)llround(x);
}

/* scale - every duration of the schedule divided by @p f */
static int
scale(struct hx_sched *s, double f, char *err, size_t errlen)
{
	size_t i;

	if (!isfinite(f) || f <= 0 || f > 1e6)
		return hx_opt_fail(err, errlen, "factor not in (0, 1000000]");
	for (i = 0; i < s->n; i++) {
		s->delay_us[i] = scale_one(s->delay_us[i], f);
		s->rule[i].cutoff_us = scale_one(s->rule[i].cutoff_us, f);
		s->rule[i].interval_us = scale_one(s->rule[i].interval_us, f);
	}
	s->min_us = s->min_us > 0 ? scale_one(s->min_us, f) : 0;
	s->max_us = s->max_us > 0 ? scale_one(s->max_us, f) : 0;
	s->run_us = s->run_us > 0 ? scale_one(s->run_us, f) : 0;
	s->lifetime_us = scale_one(s->lifetime_us, f);
	return 0;
}

/* hx_sched_parse - a --retry value */
int
hx_sched_parse(const char *text, struct hx_sched *s, char *err,
    size_t errlen)
{
	const char *slash;
	char *end;
	size_t i, len;
	double f;
	int rc;

	slash = strchr(text, '/');
	len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (strlen(presets[i].name) == len &&
		    strncmp(text, presets[i].name, len) == 0)
			break;
	if (i == sizeof(presets) / sizeof(presets[0])) {
		if (slash != NULL)
			return hx_opt_fail(err, errlen, "\"/FACTOR\" follows a "
			    "preset (postfix or exim)");
		return parse_text(text, s, err, errlen);
	}
	rc = parse_text(presets[i].text, s, err, errlen);
	if (rc != 0 || slash == NULL)
		return rc;
	f = strtod(slash + 1, &end);
	if (end == slash + 1 || *end != '\0')
		return hx_opt_fail(err, errlen,
		    "\"%s\": not a factor", slash + 1);
	return scale(s, f, err, errlen);
}

/* hx_sched_delay - the wait before the next attempt */
uint64_t
hx_sched_delay(const struct hx_sched *s, uint32_t failures, uint64_t age_us,
    uint64_t last_us)
{
	const struct hx_sched_rule *r;
	double x;
	size_t i;

	switch (s->kind) {
	case HX_SCHED_LIST:
		i = failures > 0 ? failures - 1 : 0;
		return s->delay_us[i < s->n ? i : s->n - 1];
	case HX_SCHED_AGE:
		if (age_us < s->min_us)
			return s->min_us;
		return age_us > s->max_us ? s->max_us : age_us;
	case HX_SCHED_RULES:
		for (i = 0; i + 1 < s->n && age_us >= s->rule[i].cutoff_us;
		    i++)
			;
		r = &s->rule[i];
		if (r->mult <= 1.0 || last_us < r->interval_us)
			return r->interval_us;
		x = (double)last_us * r->mult;
		return x > (double)SCHED_US_MAX ? SCHED_US_MAX :
		    (uint64_t)llround(x);
	default:
		abort();
	}
}

/* hx_sched_due - the first queue scan that takes a retry due then */
uint64_t
hx_sched_due(const struct hx_sched *s, uint64_t due_us)
{
	uint64_t k;

	if (s->run_us == 0)
		return due_us;
	k = due_us > HX_SCHED_SLACK ?
	    (due_us - HX_SCHED_SLACK + s->run_us - 1) / s->run_us : 1;
	return (k > 0 ? k : 1) * s->run_us;
}

/* hx_sched_expired - does a temporary failure at this age expire it? */
int
hx_sched_expired(const struct hx_sched *s, uint64_t age_us)
{
	return age_us >= s->lifetime_us;
}

/* put_dur - one duration in its largest exact unit, else seconds */
static int
put_dur(char *buf, size_t len, uint64_t us)
{
	size_t i;

	for (i = 0; i < NUNITS; i++)
		if (us % units[i].us == 0)
			return snprintf(buf, len, "%llu%s",
			    (unsigned long long)(us / units[i].us),
			    units[i].name);
	return snprintf(buf, len, "%.3fs", (double)us / 1e6);
}

/* hx_sched_format - the schedule in its grammar */
int
hx_sched_format(const struct hx_sched *s, char *buf, size_t len)
{
	size_t i, o = 0;
	int n;

#define PUT(...) do {							\
	n = snprintf(buf + o, o < len ? len - o : 0, __VA_ARGS__);	\
	o += n > 0 ? (size_t)n : 0;					\
} while (0)
#define PUTD(us) do {							\
	n = put_dur(buf + o, o < len ? len - o : 0, (us));		\
	o += n > 0 ? (size_t)n : 0;					\
} while (0)
	if (len > 0)
		buf[0] = '\0';
	switch (s->kind) {
	case HX_SCHED_LIST:
		for (i = 0; i < s->n; i++) {
			PUT("%s", i > 0 ? "," : "");
			PUTD(s->delay_us[i]);
		}
		break;
	case HX_SCHED_AGE:
		PUT("min=");
		PUTD(s->min_us);
		PUT(",max=");
		PUTD(s->max_us);
		break;
	case HX_SCHED_RULES:
		for (i = 0; i < s->n; i++) {
			PUT("%s%c,", i > 0 ? ";" : "",
			    s->rule[i].mult > 1.0 ? 'G' : 'F');
			PUTD(s->rule[i].cutoff_us);
			PUT(",");
			PUTD(s->rule[i].interval_us);
			if (s->rule[i].mult > 1.0)
				PUT(",%g", s->rule[i].mult);
		}
		return (int)(o < len ? o : len > 0 ? len - 1 : 0);
	default:
		abort();
	}
	if (s->run_us > 0) {
		PUT(",run=");
		PUTD(s->run_us);
	}
	PUT(",lifetime=");
	PUTD(s->lifetime_us);
#undef PUT
#undef PUTD
	return (int)(o < len ? o : len > 0 ? len - 1 : 0);
}
