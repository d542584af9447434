/*
 * DESCRIPTION
 *	The limits: schema.  One key table describes every key of a
 *	profile's limits: block: its type, its place in struct prof_limits
 *	and, for a mapping, its keys and the rule that ties them together.
 *	The YAML loader and the control API walk this table and store
 *	values through prof_lim_set_int()/prof_lim_set_num(), which hold
 *	the bounds; neither keeps a key list of its own.
 *
 * DIAGNOSTICS
 *	Nothing panics.  A value out of bounds or of the wrong kind is
 *	refused with -EINVAL and leaves the object as it was.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "prof_limits.h"

#define U32_EXPECT	"an integer 0..4294967295"
#define U64_EXPECT	"an integer 0..9223372036854775807"
#define GROWTH_EXPECT	"0 or a number 1..1000000"

static prof_lim_check_fn check_warmup;

#define WIN(w)	offsetof(struct prof_windows, max[w])
#define LIM(f)	offsetof(struct prof_limits, f)

/* {second, minute, hour, day}: a struct prof_windows */
static const struct prof_lim_key windows_keys[] = {
	{ "second", PROF_LIM_U32, WIN(SIM_WIN_SECOND), NULL, NULL },
	{ "minute", PROF_LIM_U32, WIN(SIM_WIN_MINUTE), NULL, NULL },
	{ "hour", PROF_LIM_U32, WIN(SIM_WIN_HOUR), NULL, NULL },
	{ "day", PROF_LIM_U32, WIN(SIM_WIN_DAY), NULL, NULL },
	{ NULL, PROF_LIM_MAP, 0, NULL, NULL }
};

/* {messages, recipients}: a struct prof_rate */
static const struct prof_lim_key rate_keys[] = {
	{ "messages", PROF_LIM_MAP, offsetof(struct prof_rate, messages),
	    windows_keys, NULL },
	{ "recipients", PROF_LIM_MAP, offsetof(struct prof_rate, recipients),
	    windows_keys, NULL },
	{ NULL, PROF_LIM_MAP, 0, NULL, NULL }
};

/* {messages}: a struct prof_windows counting messages only */
static const struct prof_lim_key messages_keys[] = {
	{ "messages", PROF_LIM_MAP, 0, windows_keys, NULL },
	{ NULL, PROF_LIM_MAP, 0, NULL, NULL }
};

/* {days, first_day, growth}: a struct prof_warmup */
static const struct prof_lim_key warmup_keys[] = {
	{ "days", PROF_LIM_U32, offsetof(struct prof_warmup, days), NULL,
	    NULL },
	{ "first_day", PROF_LIM_U32, offsetof(struct prof_warmup, first_day),
	    NULL, NULL },
	{ "growth", PROF_LIM_GROWTH, offsetof(struct prof_warmup, growth),
	    NULL, NULL },
	{ NULL, PROF_LIM_MAP, 0, NULL, NULL }
};

/* {spam_score, max_links}: a struct prof_content */
static const struct prof_lim_key content_keys[] = {
	{ "spam_score", PROF_LIM_U32, offsetof(struct prof_content, spam_score),
	    NULL, NULL },
	{ "max_links", PROF_LIM_U32, offsetof(struct prof_content, max_links),
	    NULL, NULL },
	{ NULL, PROF_LIM_MAP, 0, NULL, NULL }
};

const struct prof_lim_key prof_limits_keys[] = {
	{ "connections_per_ip", PROF_LIM_U32, LIM(conns_per_ip), NULL, NULL },
	{ "connection_rate_per_ip", PROF_LIM_MAP, LIM(conn_rate), windows_keys,
	    NULL },
	{ "messages_per_connection", PROF_LIM_U32, LIM(msgs_per_conn), NULL,
	    NULL },
	{ "recipients_per_message", PROF_LIM_U32, LIM(rcpts_per_msg), NULL,
	    NULL },
	{ "max_message_size", PROF_LIM_U64, LIM(max_size), NULL, NULL },
	{ "per_ip", PROF_LIM_MAP, LIM(per_ip), rate_keys, NULL },
	{ "per_domain", PROF_LIM_MAP, LIM(per_domain), rate_keys, NULL },
	{ "per_recipient", PROF_LIM_MAP, LIM(per_recipient), messages_keys,
	    NULL },
	{ "warmup", PROF_LIM_MAP, LIM(warmup), warmup_keys, check_warmup },
	{ "warmup_domain", PROF_LIM_MAP, LIM(warmup_domain), warmup_keys,
	    check_warmup },
	{ "bulk_threshold", PROF_LIM_U32, LIM(bulk_threshold), NULL, NULL },
	{ "recipient_domains_per_transaction", PROF_LIM_U32, LIM(rcpt_domains),
	    NULL, NULL },
	{ "max_hops", PROF_LIM_U32, LIM(max_hops), NULL, NULL },
	{ "max_header_bytes", PROF_LIM_U32, LIM(max_header_bytes), NULL,
	    NULL },
	{ "content", PROF_LIM_MAP, LIM(content), content_keys, NULL },
	{ "per_netblock", PROF_LIM_MAP, LIM(per_netblock), rate_keys, NULL },
	{ "per_helo", PROF_LIM_MAP, LIM(per_helo), rate_keys, NULL },
	{ "per_dkim_domain", PROF_LIM_MAP, LIM(per_dkim), rate_keys, NULL },
	{ "per_url_domain", PROF_LIM_MAP, LIM(per_url), messages_keys, NULL },
	{ "per_message_id", PROF_LIM_MAP, LIM(per_msgid), messages_keys,
	    NULL },
	{ "per_user", PROF_LIM_MAP, LIM(per_user), rate_keys, NULL },
	{ "per_pair", PROF_LIM_MAP, LIM(per_pair), messages_keys, NULL },
	{ "max_attachments", PROF_LIM_U32, LIM(max_attachments), NULL, NULL },
	{ "count_refused", PROF_LIM_U32, LIM(count_refused), NULL, NULL },
	{ "helo_names_per_ip", PROF_LIM_MAP, LIM(helo_names), windows_keys,
	    NULL },
	{ NULL, PROF_LIM_MAP, 0, NULL, NULL }
};

/* check_warmup - days > 0 needs first_day >= 1; growth 0 means 1 */
static int
check_warmup(void *obj, char *msg, size_t len)
{
	struct prof_warmup *wu = obj;

	if (wu->days == 0)
		return 0;
	if (wu->first_day == 0) {
		snprintf(msg, len, "first_day: must be at least 1 when days > "
		    "0");
		return -EINVAL;
	}
	if (wu->growth < 1.0)
		wu->growth = 1.0;
	return 0;
}

/* prof_lim_find - a key of a table by name */
const struct prof_lim_key *
prof_lim_find(const struct prof_lim_key *keys, const char *name)
{
	const struct prof_lim_key *k;

	for (k = keys; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* prof_lim_names - "a, b, c" */
char *
prof_lim_names(const struct prof_lim_key *keys, char *buf, size_t len)
{
	const struct prof_lim_key *k;
	size_t n = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (k = keys; k->name != NULL && n < len; k++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s",
		    k == keys ? "" : ", ", k->name);
	return buf;
}

/* prof_lim_expect - what a leaf takes */
const char *
prof_lim_expect(const struct prof_lim_key *k)
{
	switch (k->type) {
	case PROF_LIM_U32:
		return U32_EXPECT;
	case PROF_LIM_U64:
		return U64_EXPECT;
	case PROF_LIM_GROWTH:
		return GROWTH_EXPECT;
	case PROF_LIM_MAP:
		return "a mapping";
	}
	return "nothing";
}

/* prof_lim_set_int - store an integer within the key's bounds */
int
prof_lim_set_int(const struct prof_lim_key *k, void *obj, uint64_t v)
{
	char *field = (char *)obj + k->off;

	switch (k->type) {
	case PROF_LIM_U32:
		if (v > UINT32_MAX)
			return -EINVAL;
		*(uint32_t *)(void *)field = (uint32_t)v;
		return 0;
	case PROF_LIM_U64:
		if (v > INT64_MAX)
			return -EINVAL;
		*(uint64_t *)(void *)field = v;
		return 0;
	case PROF_LIM_GROWTH:
		return prof_lim_set_num(k, obj, (double)v);
	case PROF_LIM_MAP:
		break;
	}
	return -EINVAL;
}

/* prof_lim_set_num - store a number within the key's bounds */
int
prof_lim_set_num(const struct prof_lim_key *k, void *obj, double v)
{
	char *field = (char *)obj + k->off;

	if (k->type != PROF_LIM_GROWTH ||
	    !(v == 0.0 || (v >= 1.0 && v <= PROF_LIM_GROWTH_MAX)))
		return -EINVAL;
	*(double *)(void *)field = v;
	return 0;
}

/* prof_lim_get_int - an integer leaf's value */
uint64_t
prof_lim_get_int(const struct prof_lim_key *k, const void *obj)
{
	const char *field = (const char *)obj + k->off;

	switch (k->type) {
	case PROF_LIM_U32:
		return *(const uint32_t *)(const void *)field;
	case PROF_LIM_U64:
		return *(const uint64_t *)(const void *)field;
	case PROF_LIM_GROWTH:
	case PROF_LIM_MAP:
		break;
	}
	return 0;
}

/* prof_lim_get_num - a leaf's value as a number */
double
prof_lim_get_num(const struct prof_lim_key *k, const void *obj)
{
	if (k->type == PROF_LIM_GROWTH)
		return *(const double *)(const void *)((const char *)obj +
		    k->off);
	return (double)prof_lim_get_int(k, obj);
}

/* prof_lim_check - a mapping's rule */
int
prof_lim_check(const struct prof_lim_key *k, void *field, char *msg,
    size_t len)
{
	if (k->type != PROF_LIM_MAP || k->check == NULL)
		return 0;
	return k->check(field, msg, len);
}
