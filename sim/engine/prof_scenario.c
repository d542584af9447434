/*
 * DESCRIPTION
 *	Loads a scenario from YAML into a prof_world: run settings, the
 *	servers (each a profile and the address blocks it serves), senders'
 *	authentication results, complaint rates and DNS records (SPF, DMARC,
 *	DKIM keys from PEM files or generated at start, extra records), the
 *	client blocklist, the clients' reverse DNS (senders.reverse_dns:
 *	address blocks that must not overlap, default valid), unknown
 *	recipients and spam traps, and where the scenario's DNS server
 *	listens.  IPv6 blocks and prefixes: prof_scenario6.c.  A servers[].profile is resolved beside the scenario or
 *	in the bundled profiles directory and loaded once with
 *	prof_load_profile(); address blocks must not overlap.
 *
 *	Every error names the file, the 1-based line and column of the
 *	offending node and what was expected.  An error inside a profile
 *	named by a scenario names the profile's own file.
 *
 * DIAGNOSTICS
 *	Aborts when out of memory (control plane: see STYLE section 7).
 *	Every other failure is returned as NULL plus a struct prof_error.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "prof_load_priv.h"
#include "prof_scan.h"

/* Origin of one MX address block, for overlap messages. */
struct ld_blk {
	size_t		 server;	/* index in servers */
	unsigned	 line;		/* 1-based */
	char		 cidr[24];
};

/* Value nodes of one servers entry. */
struct ld_server {
	yaml_node_t	*profile;
	yaml_node_t	*addresses;
	yaml_node_t	*accounts;	/* submission profiles only */
};

/* Value nodes of one senders.reverse_dns entry. */
struct ld_rdns {
	yaml_node_t	*addresses;
	yaml_node_t	*ptr;
	yaml_node_t	*forward;
};

/* paths */
static char	*xjoin(const char *, const char *, const char *);
static char	*ld_path(const char *, const char *, const char *);

/* scenario */
static int	 ld_cidr(struct ld *, yaml_node_t *, uint32_t *, unsigned *);
static int	 set_start(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_port(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_event_log(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_auth(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_sender_domains(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_bool(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_dmarc_policy(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_spf_record(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_dmarc_record(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_dkim_keys(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_records(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_schedule(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static bool	 sender_complains(const struct prof_sender *);
static int	 set_dns_listen(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 ld_txt(struct ld *, yaml_node_t *, const char *, char **);
static char	*ld_read_pem(struct ld *, yaml_node_t *, const char *);
static int	 set_reverse_dns(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 ld_rdns_entry(struct ld *, yaml_node_t *, const char *);
static int	 set_blocklist(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_servers(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 ld_cidrs(struct ld *, yaml_node_t *, const char *,
		    struct prof_cidr **, size_t *);
static int	 ld_clients(struct ld *, yaml_node_t *, struct prof_world *,
		    enum prof_client_fact, const char *);
static int	 set_dialup(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_norep(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 ld_profile_ref(struct ld *, yaml_node_t *, uint32_t *);
static int	 ld_add_block(struct ld *, yaml_node_t *, size_t, uint32_t);
static void	 ld_release(struct ld *);

/*
 * Key tables.  Offsets are relative to the object the enclosing mapping
 * fills; a nested mapping (ld_set_map) moves the object by its own offset.
 */
static const struct ld_key timeouts_keys[] = {
	{ "idle", ld_set_u32, offsetof(struct prof_world, idle_timeout_s), NULL,
	    LD_NONZERO },
	{ "session", ld_set_u32, offsetof(struct prof_world, session_timeout_s),
	    NULL, LD_NONZERO },
	{ NULL }
};

#define SENDER_FACT_KEYS \
	{ "spf", set_auth, offsetof(struct prof_sender, spf) }, \
	{ "dkim", set_auth, offsetof(struct prof_sender, dkim) }, \
	{ "dmarc", set_auth, offsetof(struct prof_sender, dmarc) }, \
	{ "dmarc_policy", set_dmarc_policy, \
	    offsetof(struct prof_sender, dmarc_policy) }, \
	{ "spf_hardfail", set_bool, \
	    offsetof(struct prof_sender, spf_hardfail) }, \
	{ "spf_suspicious", set_bool, \
	    offsetof(struct prof_sender, spf_suspicious) }, \
	{ "complaint_rate", ld_set_fraction, \
	    offsetof(struct prof_sender, complaint_rate) }, \
	{ "complaint_schedule", set_schedule, 0 }

/* Value nodes of one complaint schedule step. */
struct ld_step {
	yaml_node_t	*day;
	yaml_node_t	*rate;
};

static const struct ld_key step_keys[] = {
	{ "day", ld_set_node, offsetof(struct ld_step, day), NULL,
	    LD_REQUIRED },
	{ "rate", ld_set_node, offsetof(struct ld_step, rate), NULL,
	    LD_REQUIRED },
	{ NULL }
};

/* Value nodes of one dkim entry. */
struct ld_dkim {
	yaml_node_t	*selector;
	yaml_node_t	*key;
	yaml_node_t	*generate;
};

/* Value nodes of one records entry. */
struct ld_rec {
	yaml_node_t	*name;
	yaml_node_t	*type;
	yaml_node_t	*data;
	yaml_node_t	*pref;
};

static const struct ld_key sender_keys[] = {
	SENDER_FACT_KEYS,
	{ NULL }
};

static const struct ld_key sender_dns_keys[] = {
	{ "spf", set_spf_record, 0 },
	{ "dmarc", set_dmarc_record, 0 },
	{ "dkim", set_dkim_keys, 0 },
	{ "records", set_records, 0 },
	{ NULL }
};

static const struct ld_key sender_domain_keys[] = {
	SENDER_FACT_KEYS,
	{ "dns", ld_set_map, 0, sender_dns_keys },
	{ NULL }
};

static const struct ld_key dkim_keys[] = {
	{ "selector", ld_set_node, offsetof(struct ld_dkim, selector), NULL,
	    LD_REQUIRED },
	{ "key", ld_set_node, offsetof(struct ld_dkim, key) },
	{ "generate", ld_set_node, offsetof(struct ld_dkim, generate) },
	{ NULL }
};

static const struct ld_key rec_keys[] = {
	{ "name", ld_set_node, offsetof(struct ld_rec, name), NULL,
	    LD_REQUIRED },
	{ "type", ld_set_node, offsetof(struct ld_rec, type), NULL,
	    LD_REQUIRED },
	{ "data", ld_set_node, offsetof(struct ld_rec, data), NULL,
	    LD_REQUIRED },
	{ "pref", ld_set_node, offsetof(struct ld_rec, pref) },
	{ NULL }
};

static const struct ld_key dns_keys[] = {
	{ "listen", set_dns_listen, 0 },
	{ NULL }
};

static const struct ld_key rdns_keys[] = {
	{ "addresses", ld_set_node, offsetof(struct ld_rdns, addresses), NULL,
	    LD_REQUIRED },
	{ "ptr", ld_set_node, offsetof(struct ld_rdns, ptr), NULL,
	    LD_REQUIRED },
	{ "forward", ld_set_node, offsetof(struct ld_rdns, forward) },
	{ NULL }
};

static const struct ld_key senders_keys[] = {
	{ "default", ld_set_map, offsetof(struct prof_world, default_sender),
	    sender_keys },
	{ "domains", set_sender_domains, 0, sender_domain_keys },
	{ "reverse_dns", set_reverse_dns, 0 },
	LD_STRLIST("unresolvable", struct prof_world, unresolvable,
	    nunresolvable, LD_LIST_LOWER),
	{ NULL }
};

static const struct ld_key recipients_keys[] = {
	LD_STRLIST("unknown", struct prof_world, unknown_rcpts, nunknown_rcpts,
	    LD_LIST_LOWER),
	LD_STRLIST("spam_traps", struct prof_world, spam_traps, nspam_traps,
	    LD_LIST_LOWER),
	LD_STRLIST("seeds", struct prof_world, seeds, nseeds, LD_LIST_LOWER),
	LD_STRLIST("inactive", struct prof_world, inactive_rcpts,
	    ninactive_rcpts, LD_LIST_LOWER),
	LD_STRLIST("over_quota", struct prof_world, full_rcpts, nfull_rcpts,
	    LD_LIST_LOWER),
	LD_STRLIST("moved", struct prof_world, moved_rcpts, nmoved_rcpts,
	    LD_LIST_LOWER),
	LD_STRLIST("ipv4_only", struct prof_world, ipv4_only, nipv4_only,
	    LD_LIST_LOWER),
	LD_STRLIST("tls_required", struct prof_world, tls_rcpts, ntls_rcpts,
	    LD_LIST_LOWER),
	{ NULL }
};

static const struct ld_key server_keys[] = {
	{ "profile", ld_set_node, offsetof(struct ld_server, profile), NULL,
	    LD_REQUIRED },
	{ "addresses", ld_set_node, offsetof(struct ld_server, addresses), NULL,
	    LD_REQUIRED },
	{ "accounts", ld_set_node, offsetof(struct ld_server, accounts) },
	{ NULL }
};

/* clients: facts a receiver knows about client address blocks */
static const struct ld_key clients_keys[] = {
	{ "dialup", set_dialup, 0 },
	{ "no_reputation", set_norep, 0 },
	{ NULL }
};

static const struct ld_key scenario_keys[] = {
	{ "seed", ld_set_u64, offsetof(struct prof_world, seed) },
	{ "time_scale", ld_set_positive, offsetof(struct prof_world, time_scale) },
	{ "start", set_start, offsetof(struct prof_world, start_ms) },
	{ "port", set_port, offsetof(struct prof_world, port) },
	{ "submission_port", set_port,
	    offsetof(struct prof_world, submission_port) },
	{ "workers", ld_set_u32, offsetof(struct prof_world, workers) },
	{ "timeouts", ld_set_map, 0, timeouts_keys },
	{ "max_errors", ld_set_u32, offsetof(struct prof_world, max_errors), NULL,
	    LD_NONZERO },
	{ "event_log", set_event_log, 0 },
	{ "servers", set_servers, 0, NULL, LD_REQUIRED },
	{ "senders", ld_set_map, 0, senders_keys },
	{ "blocklist", set_blocklist, 0 },
	{ "clients", ld_set_map, 0, clients_keys },
	LD_STRLIST("blocklist_domains", struct prof_world, dbl, ndbl,
	    LD_LIST_LOWER),
	{ "recipients", ld_set_map, 0, recipients_keys },
	{ "dns", ld_set_map, 0, dns_keys },
	{ "ipv6_prefix", ld_set_prefix6, offsetof(struct prof_world,
	    ipv6_prefix) },
	{ "ipv6_netblock", ld_set_prefix6, offsetof(struct prof_world,
	    ipv6_netblock) },
	{ NULL }
};

/* ld_path - dir/name+ext; dir NULL is the current directory */
static char *
ld_path(const char *dir, const char *name, const char *ext)
{
	char *a, *b;

	if (*name == '/' || dir == NULL)
		return xjoin(name, ext, "");
	a = xjoin(dir, "/", name);
	b = xjoin(a, ext, "");
	free(a);
	return b;
}

/* xjoin - concatenate three strings into a new one */
static char *
xjoin(const char *a, const char *b, const char *c)
{
	size_t la, lb, lc;
	char *d;

	la = strlen(a);
	lb = strlen(b);
	lc = strlen(c);
	d = ld_xrealloc(NULL, la + lb + lc + 1);
	memcpy(d, a, la);
	memcpy(d + la, b, lb);
	memcpy(d + la + lb, c, lc + 1);
	return d;
}

/* ld_release - release the document and the scenario scratch state */
static void
ld_release(struct ld *ld)
{
	size_t i;

	ld_close(ld);
	if (ld->w != NULL && ld->loaded != NULL)
		for (i = 0; i < ld->w->nprofiles; i++)
			free(ld->loaded[i]);
	free(ld->loaded);
	free(ld->blk);
	free(ld->dir);
}

/* ld_cidr - address block, host bits clear */
static int
ld_cidr(struct ld *ld, yaml_node_t *n, uint32_t *addr, unsigned *prefix)
{
	const char *s;
	uint32_t mask;
	int rc;

	if ((rc = ld_string(ld, n, &s)) != 0)
		return rc;
	if (prof_parse_cidr(s, addr, prefix) != 0)
		return ld_err(ld, n, "expected an IPv4 address or CIDR block "
		    "like 127.1.0.0/24, got %s", ld_got(ld, n));
	mask = *prefix == 0 ? 0 : 0xffffffffu << (32 - *prefix);
	if ((*addr & mask) != *addr)
		return ld_err(ld, n, "%s has host bits set (the block starts "
		    "at %u.%u.%u.%u/%u)", s, (*addr & mask) >> 24,
		    (*addr & mask) >> 16 & 0xff, (*addr & mask) >> 8 & 0xff,
		    *addr & mask & 0xff, *prefix);
	return 0;
}

/* set_start - ISO 8601 UTC time "YYYY-MM-DDTHH:MM:SS[.fff]Z", or null */
static int
set_start(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	const char *s;
	int64_t y, mo, d, h, mi, sec, ms = 0, days, era, yoe, doy;
	int i, scale;

	(void)k;
	(void)path;
	if (ld_is_null(n)) {
		*(uint64_t *)field = 0;
		return 0;
	}
	if (n->type != YAML_SCALAR_NODE)
		goto bad;
	s = (const char *)n->data.scalar.value;
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) :
		    s[i] != shape[i])
			goto bad;
	y = atoi(s);
	mo = atoi(s + 5);
	d = atoi(s + 8);
	h = atoi(s + 11);
	mi = atoi(s + 14);
	sec = atoi(s + 17);
	s += 19;
	if (*s == '.') {
		for (s++, scale = 100, i = 0; isdigit((unsigned char)*s); s++,
		    i++, scale /= 10)
			ms += (*s - '0') * scale;
		if (i == 0)
			goto bad;
	}
	if (strcmp(s, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    h > 23 || mi > 59 || sec > 59)
		goto bad;
	if (d > mdays[mo - 1] + (mo == 2 && (y % 4 == 0 &&
	    (y % 100 != 0 || y % 400 == 0))))
		goto bad;
	/* days since 1970-01-01 (proleptic Gregorian, March-based years) */
	y -= mo <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
	*(uint64_t *)field = (uint64_t)(((days * 24 + h) * 60 + mi) * 60 +
	    sec) * 1000 + (uint64_t)ms;
	return 0;
bad:
	return ld_err(ld, n, "expected an ISO 8601 UTC time like "
	    "\"2026-01-01T00:00:00Z\", got %s", ld_got(ld, n));
}

/* set_port - TCP port 1..65535 */
static int
set_port(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	uint64_t v;
	int rc;

	(void)k;
	(void)path;
	if ((rc = ld_uint(ld, n, 1, 65535, &v)) == 0)
		*(uint16_t *)field = (uint16_t)v;
	return rc;
}

/* set_event_log - JSON Lines path, or null for none */
static int
set_event_log(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_world *w = field;
	const char *s;
	int rc;

	(void)k;
	(void)path;
	free(w->event_log);
	w->event_log = NULL;
	if (ld_is_null(n))
		return 0;
	if ((rc = ld_string(ld, n, &s)) != 0)
		return rc;
	if (*s == '\0')
		return ld_err(ld, n, "event_log must be a path or null");
	w->event_log = ld_xstrdup(s);
	return 0;
}

/* set_auth - pass | fail | none | temperror */
static int
set_auth(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	const char *s = "";

	(void)k;
	(void)path;
	if (n->type == YAML_SCALAR_NODE && !ld_is_null(n))
		s = (const char *)n->data.scalar.value;
	if (strcmp(s, "pass") == 0)
		*(enum prof_auth *)field = PROF_AUTH_PASS;
	else if (strcmp(s, "fail") == 0)
		*(enum prof_auth *)field = PROF_AUTH_FAIL;
	else if (strcmp(s, "none") == 0)
		*(enum prof_auth *)field = PROF_AUTH_NONE;
	else if (strcmp(s, "temperror") == 0)
		*(enum prof_auth *)field = PROF_AUTH_TEMPERROR;
	else
		return ld_err(ld, n, "expected pass, fail, none or temperror, got %s",
		    ld_got(ld, n));
	return 0;
}

/*
 * set_sender_domains - domain -> {spf, dkim, dmarc}; omitted fields take
 * the built-in default (pass, pass, none), whatever senders.default says.
 */
static int
set_sender_domains(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_world *w = field;
	struct prof_sender *sd;
	yaml_node_pair_t *pr;
	yaml_node_t *kn;
	const char *name;
	char sub[300], *c;
	size_t i;
	int rc;

	for (pr = NULL; (rc = ld_next_pair(ld, n, path, &pr, &name)) == 0 &&
	    pr != NULL;) {
		kn = ld_node(ld, pr->key);
		if (!ld_domain_ok(name))
			return ld_err(ld, kn, "expected a domain name in %s, "
			    "got %s", path, ld_got(ld, kn));
		for (i = 0; i < w->nsenders; i++)
			if (strcasecmp(w->senders[i].domain, name) == 0)
				return ld_err(ld, kn, "sender domain \"%s\" is "
				    "listed twice", name);
		w->senders = ld_xrealloc(w->senders,
		    (w->nsenders + 1) * sizeof(*w->senders));
		sd = &w->senders[w->nsenders++];
		memset(sd, 0, sizeof(*sd));
		sd->domain = ld_xstrdup(name);
		for (c = sd->domain; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		sd->spf = PROF_AUTH_PASS;
		sd->dkim = PROF_AUTH_PASS;
		sd->dmarc = PROF_AUTH_NONE;
		snprintf(sub, sizeof(sub), "%s.%s", path, sd->domain);
		if ((rc = ld_map(ld, ld_node(ld, pr->value), sub, k->sub,
		    sd)) != 0)
			return rc;
		/* record texts, when given, decide -all and p= */
		if (sd->spf_record != NULL) {
			sd->spf_hardfail = strstr(sd->spf_record, " -all") !=
			    NULL;
			sd->spf_suspicious = strstr(sd->spf_record, " +all") !=
			    NULL;
		}
		if (sd->dmarc_record != NULL)
			sd->dmarc_policy = strstr(sd->dmarc_record, "p=reject") !=
			    NULL ? PROF_DMARC_REJECT : strstr(sd->dmarc_record,
			    "p=quarantine") != NULL ? PROF_DMARC_QUARANTINE :
			    PROF_DMARC_NONE;
	}
	return rc;
}

/* set_bool - true | false */
static int
set_bool(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	(void)k;
	(void)path;
	return ld_bool(ld, n, field);
}

/* set_dmarc_policy - none | quarantine | reject */
static int
set_dmarc_policy(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	const char *s = "";

	(void)k;
	(void)path;
	if (n->type == YAML_SCALAR_NODE && !ld_is_null(n))
		s = (const char *)n->data.scalar.value;
	if (strcmp(s, "none") == 0)
		*(enum prof_dmarc_policy *)field = PROF_DMARC_NONE;
	else if (strcmp(s, "quarantine") == 0)
		*(enum prof_dmarc_policy *)field = PROF_DMARC_QUARANTINE;
	else if (strcmp(s, "reject") == 0)
		*(enum prof_dmarc_policy *)field = PROF_DMARC_REJECT;
	else
		return ld_err(ld, n, "expected none, quarantine or reject, "
		    "got %s", ld_got(ld, n));
	return 0;
}

/* ld_txt - a TXT record text: one line, printable, "prefix..." */
static int
ld_txt(struct ld *ld, yaml_node_t *n, const char *prefix, char **out)
{
	const char *s, *p;
	int rc;

	if ((rc = ld_string(ld, n, &s)) != 0)
		return rc;
	if (strncasecmp(s, prefix, strlen(prefix)) != 0)
		return ld_err(ld, n, "expected a record starting with \"%s\", "
		    "got %s", prefix, ld_got(ld, n));
	if (strlen(s) > 2000)
		return ld_err(ld, n, "record is longer than 2000 characters");
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ld_err(ld, n, "record contains a control "
			    "character");
	free(*out);
	*out = ld_xstrdup(s);
	return 0;
}

/* set_spf_record - "v=spf1 ..." */
static int
set_spf_record(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_sender *sd = field;

	(void)k;
	(void)path;
	return ld_txt(ld, n, "v=spf1", &sd->spf_record);
}

/* set_dmarc_record - "v=DMARC1; ..." */
static int
set_dmarc_record(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_sender *sd = field;

	(void)k;
	(void)path;
	return ld_txt(ld, n, "v=DMARC1", &sd->dmarc_record);
}

/* ld_read_pem - a private key file (relative to the scenario), read whole */
static char *
ld_read_pem(struct ld *ld, yaml_node_t *n, const char *name)
{
	char *path, *buf;
	size_t len;
	FILE *fp;

	path = ld_path(ld->dir, name, "");
	if ((fp = fopen(path, "r")) == NULL) {
		ld_err(ld, n, "cannot open DKIM key %s: %s", path,
		    strerror(errno));
		free(path);
		return NULL;
	}
	buf = ld_xrealloc(NULL, 8192);
	len = fread(buf, 1, 8191, fp);
	buf[len] = '\0';
	if (len == 8191 && fgetc(fp) != EOF) {
		ld_err(ld, n, "DKIM key %s is larger than 8 KiB", path);
		len = 0;
	} else if (strstr(buf, "-----BEGIN ") == NULL ||
	    strstr(buf, "PRIVATE KEY-----") == NULL) {
		ld_err(ld, n, "DKIM key %s is not a PEM private key", path);
		len = 0;
	}
	fclose(fp);
	free(path);
	if (len == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* set_dkim_keys - [{selector, key: PEM path | generate: bits}] */
static int
set_dkim_keys(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_sender *sd = field;
	struct prof_dkim_key *dk;
	yaml_node_item_t *it;
	struct ld_dkim dn;
	const char *sel, *key;
	char sub[64];
	uint64_t bits;
	size_t i, j;
	int rc;

	(void)k;
	if ((rc = ld_seq(ld, n, path, 1)) != 0)
		return rc;
	for (i = 0, it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++, i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		memset(&dn, 0, sizeof(dn));
		if ((rc = ld_map(ld, ld_node(ld, *it), sub, dkim_keys,
		    &dn)) != 0)
			return rc;
		if ((rc = ld_string(ld, dn.selector, &sel)) != 0)
			return rc;
		if (!ld_domain_ok(sel) || strlen(sel) > 63)
			return ld_err(ld, dn.selector, "expected a DKIM "
			    "selector (DNS labels), got %s",
			    ld_got(ld, dn.selector));
		for (j = 0; j < sd->ndkim_keys; j++)
			if (strcasecmp(sd->dkim_keys[j].selector, sel) == 0)
				return ld_err(ld, dn.selector, "selector \"%s\" "
				    "is listed twice", sel);
		if ((dn.key == NULL) == (dn.generate == NULL))
			return ld_err(ld, ld_node(ld, *it), "%s needs exactly "
			    "one of \"key\" (a PEM file) or \"generate\" "
			    "(RSA bits)", sub);
		bits = 0;
		if (dn.generate != NULL &&
		    (rc = ld_uint(ld, dn.generate, 1024, 4096, &bits)) != 0)
			return rc;
		key = NULL;
		if (dn.key != NULL && (rc = ld_string(ld, dn.key, &key)) != 0)
			return rc;
		sd->dkim_keys = ld_xrealloc(sd->dkim_keys,
		    (sd->ndkim_keys + 1) * sizeof(*sd->dkim_keys));
		dk = &sd->dkim_keys[sd->ndkim_keys++];
		memset(dk, 0, sizeof(*dk));
		dk->selector = ld_xstrdup(sel);
		dk->generate = (unsigned)bits;
		if (key != NULL) {
			dk->key_path = ld_xstrdup(key);
			if ((dk->key_pem = ld_read_pem(ld, dn.key, key)) ==
			    NULL)
				return -EINVAL;
		}
	}
	return 0;
}

/* set_records - extra records [{name, type: A|MX|TXT, data, pref}] */
static int
set_records(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_sender *sd = field;
	struct prof_record *r;
	yaml_node_item_t *it;
	struct ld_rec rn;
	const char *name, *type, *data;
	char sub[64];
	uint32_t a;
	unsigned pfx, rtype;
	uint64_t pref = 0;
	size_t i;
	int rc;

	(void)k;
	if ((rc = ld_seq(ld, n, path, 1)) != 0)
		return rc;
	for (i = 0, it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++, i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		memset(&rn, 0, sizeof(rn));
		if ((rc = ld_map(ld, ld_node(ld, *it), sub, rec_keys,
		    &rn)) != 0)
			return rc;
		if ((rc = ld_string(ld, rn.name, &name)) != 0 ||
		    (rc = ld_string(ld, rn.type, &type)) != 0 ||
		    (rc = ld_string(ld, rn.data, &data)) != 0)
			return rc;
		if (!ld_domain_ok(name))
			return ld_err(ld, rn.name, "expected a domain name, "
			    "got %s", ld_got(ld, rn.name));
		if (strcasecmp(type, "A") == 0) {
			rtype = 1;
			if (strchr(data, '/') != NULL ||
			    prof_parse_cidr(data, &a, &pfx) != 0)
				return ld_err(ld, rn.data, "expected an IPv4 "
				    "address, got %s", ld_got(ld, rn.data));
		} else if (strcasecmp(type, "MX") == 0) {
			rtype = 15;
			if (!ld_domain_ok(data))
				return ld_err(ld, rn.data, "expected a host "
				    "name, got %s", ld_got(ld, rn.data));
		} else if (strcasecmp(type, "TXT") == 0) {
			rtype = 16;
			if (*data == '\0' || strlen(data) > 2000)
				return ld_err(ld, rn.data, "expected a TXT "
				    "text of 1..2000 characters");
		} else
			return ld_err(ld, rn.type, "expected a record type A, "
			    "MX or TXT, got %s", ld_got(ld, rn.type));
		pref = 10;
		if (rn.pref != NULL) {
			if (rtype != 15)
				return ld_err(ld, rn.pref, "pref is for MX "
				    "records only");
			if ((rc = ld_uint(ld, rn.pref, 0, 65535, &pref)) != 0)
				return rc;
		}
		sd->records = ld_xrealloc(sd->records,
		    (sd->nrecords + 1) * sizeof(*sd->records));
		r = &sd->records[sd->nrecords++];
		r->name = ld_xstrdup(name);
		r->type = rtype;
		r->data = ld_xstrdup(data);
		r->pref = (unsigned)pref;
	}
	return 0;
}

/* set_schedule - [{day, rate}, ...]: complaint rate by simulated day */
static int
set_schedule(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_sender *sd = field;
	struct prof_complaint_step *st;
	struct ld_step sn;
	yaml_node_item_t *it;
	uint64_t day;
	int rc;

	(void)k;
	if ((rc = ld_seq(ld, n, path, 1)) != 0)
		return rc;
	sd->ncomplaint_steps = 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		if (sd->ncomplaint_steps == PROF_MAX_STEPS)
			return ld_err(ld, ld_node(ld, *it), "%s has more than "
			    "%d steps", path, PROF_MAX_STEPS);
		memset(&sn, 0, sizeof(sn));
		if ((rc = ld_map(ld, ld_node(ld, *it), path, step_keys,
		    &sn)) != 0)
			return rc;
		st = &sd->complaint_steps[sd->ncomplaint_steps];
		if ((rc = ld_uint(ld, sn.day, 0, 100000, &day)) != 0 ||
		    (rc = ld_set_fraction(ld, sn.rate, &st->rate, NULL,
		    "rate")) != 0)
			return rc;
		if (sd->ncomplaint_steps > 0 &&
		    day <= st[-1].day)
			return ld_err(ld, sn.day, "%s: day %ju must come after "
			    "day %u (steps in ascending order)", path,
			    (uintmax_t)day, st[-1].day);
		st->day = (uint32_t)day;
		sd->ncomplaint_steps++;
	}
	return 0;
}

/* sender_complains - can a recipient of this sender ever complain */
static bool
sender_complains(const struct prof_sender *s)
{
	size_t i;

	if (s->complaint_rate > 0)
		return true;
	for (i = 0; i < s->ncomplaint_steps; i++)
		if (s->complaint_steps[i].rate > 0)
			return true;
	return false;
}

/* set_dns_listen - "ADDR:PORT" of the scenario's DNS server, or null */
static int
set_dns_listen(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_world *w = field;
	char buf[32], *colon, *end;
	const char *s;
	unsigned long port;
	unsigned pfx;
	uint32_t a;
	int rc;

	(void)k;
	(void)path;
	free(w->dns_listen);
	w->dns_listen = NULL;
	if (ld_is_null(n))
		return 0;
	if ((rc = ld_string(ld, n, &s)) != 0)
		return rc;
	if (strlen(s) >= sizeof(buf) || (colon = strrchr(strcpy(buf, s),
	    ':')) == NULL)
		goto bad;
	*colon++ = '\0';
	if (*colon < '0' || *colon > '9')
		goto bad;
	port = strtoul(colon, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535 ||
	    strchr(buf, '/') != NULL || prof_parse_cidr(buf, &a, &pfx) != 0)
		goto bad;
	w->dns_listen = ld_xstrdup(s);
	w->dns_addr = a;
	w->dns_port = (uint16_t)port;
	return 0;
bad:
	return ld_err(ld, n, "expected ADDR:PORT like \"127.0.0.53:5353\", "
	    "got %s", ld_got(ld, n));
}

/* ld_rdns_entry - {addresses, ptr: none | NAME, forward: match |
 * mismatch}: one client block's reverse DNS */
static int
ld_rdns_entry(struct ld *ld, yaml_node_t *n, const char *path)
{
	struct prof_world *w = ld->w;
	struct prof_rdns *rd;
	struct ld_rdns e;
	const char *ptr, *fwd = NULL;
	uint32_t addr, mask;
	unsigned prefix;
	size_t i;
	int rc;

	memset(&e, 0, sizeof(e));
	if ((rc = ld_map(ld, n, path, rdns_keys, &e)) != 0)
		return rc;
	if ((rc = ld_string(ld, e.ptr, &ptr)) != 0 ||
	    (e.forward != NULL && (rc = ld_string(ld, e.forward, &fwd)) != 0))
		return rc;
	if (strcmp(ptr, "none") != 0 && (!ld_domain_ok(ptr) ||
	    strchr(ptr, '.') == NULL))
		return ld_err(ld, e.ptr, "expected none or a host name like "
		    "mail.example.net for %s.ptr, got %s", path,
		    ld_got(ld, e.ptr));
	if (fwd != NULL && strcmp(ptr, "none") == 0)
		return ld_err(ld, e.forward, "%s.forward needs a ptr name "
		    "(ptr: none has no forward entry)", path);
	if (fwd != NULL && strcmp(fwd, "match") != 0 &&
	    strcmp(fwd, "mismatch") != 0)
		return ld_err(ld, e.forward, "expected match or mismatch for "
		    "%s.forward, got %s", path, ld_got(ld, e.forward));
	if (ld_is_ipv6(e.addresses))
		return ld_rdns6(ld, e.addresses, path, ptr, fwd != NULL &&
		    strcmp(fwd, "mismatch") == 0);
	if ((rc = ld_cidr(ld, e.addresses, &addr, &prefix)) != 0)
		return rc;
	mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
	for (i = 0; i < w->nrdns; i++)
		if ((addr & w->rdns[i].mask & mask) ==
		    (w->rdns[i].addr & mask))
			return ld_err(ld, e.addresses, "%s.addresses %s "
			    "overlaps an earlier reverse_dns block (each "
			    "client address has one reverse DNS)", path,
			    ld_got(ld, e.addresses));
	if (strcmp(ptr, "none") != 0 && prefix < 24)
		return ld_err(ld, e.addresses, "%s.addresses %s: a block with "
		    "a ptr name covers at most 256 addresses (/24; one PTR "
		    "and one A record each)", path, ld_got(ld, e.addresses));
	w->rdns = ld_xrealloc(w->rdns, (w->nrdns + 1) * sizeof(*w->rdns));
	rd = &w->rdns[w->nrdns++];
	memset(rd, 0, sizeof(*rd));
	rd->addr = addr;
	rd->mask = mask;
	ld_rdns_name(ptr, fwd != NULL && strcmp(fwd, "mismatch") == 0,
	    &rd->state, &rd->ptr);
	return 0;
}

/* set_reverse_dns - the reverse DNS of client address blocks */
static int
set_reverse_dns(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	yaml_node_item_t *it;
	char sub[64];
	size_t i;
	int rc;

	(void)field;
	(void)k;
	if ((rc = ld_seq(ld, n, path, 0)) != 0)
		return rc;
	for (i = 0, it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++, i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if ((rc = ld_rdns_entry(ld, ld_node(ld, *it), sub)) != 0)
			return rc;
	}
	return 0;
}

/* ld_cidrs - a sequence of client CIDRs appended to *v (*n of them) */
static int
ld_cidrs(struct ld *ld, yaml_node_t *n, const char *path,
    struct prof_cidr **v, size_t *cnt)
{
	yaml_node_item_t *it;
	unsigned prefix;
	uint32_t addr;
	int rc;

	if ((rc = ld_seq(ld, n, path, 0)) != 0)
		return rc;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		if (ld_is_ipv6(ld_node(ld, *it))) {
			if ((rc = ld_blocklist6(ld, ld_node(ld, *it))) != 0)
				return rc;
			continue;
		}
		if ((rc = ld_cidr(ld, ld_node(ld, *it), &addr, &prefix)) != 0)
			return rc;
		*v = ld_xrealloc(*v, (*cnt + 1) * sizeof(**v));
		(*v)[*cnt].addr = addr;
		(*v)[*cnt].mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
		(*cnt)++;
	}
	return 0;
}

/* set_blocklist - client CIDRs */
static int
set_blocklist(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_world *w = field;

	(void)k;
	return ld_cidrs(ld, n, path, &w->blocklist, &w->nblocklist);
}

/* ld_clients - client CIDRs declared with one fact */
static int
ld_clients(struct ld *ld, yaml_node_t *n, struct prof_world *w,
    enum prof_client_fact fact, const char *path)
{
	struct prof_cidr *v = NULL;
	size_t i, cnt = 0;
	int rc;

	if ((rc = ld_cidrs(ld, n, path, &v, &cnt)) == 0 && cnt > 0) {
		w->clients = ld_xrealloc(w->clients,
		    (w->nclients + cnt) * sizeof(*w->clients));
		for (i = 0; i < cnt; i++)
			w->clients[w->nclients++] = (struct prof_client){
			    v[i].addr, v[i].mask, fact };
	}
	free(v);
	return rc;
}

/* set_dialup - clients.dialup: dial-up / residential client CIDRs */
static int
set_dialup(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	(void)k;
	return ld_clients(ld, n, field, PROF_CLIENT_DIALUP, path);
}

/* set_norep - clients.no_reputation: client CIDRs the receiver does not
 * know (not on its allowlist) */
static int
set_norep(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	(void)k;
	return ld_clients(ld, n, field, PROF_CLIENT_NOREP, path);
}

/* ld_profile_ref - resolve, load (once) and index a servers[].profile */
static int
ld_profile_ref(struct ld *ld, yaml_node_t *n, uint32_t *idx)
{
	struct prof_world *w = ld->w;
	struct prof_profile *p;
	char *path = NULL, *real;
	const char *s;
	size_t i, len;
	int rc;

	if ((rc = ld_string(ld, n, &s)) != 0)
		return rc;
	len = strlen(s);
	if (strchr(s, '/') != NULL ||
	    (len > 5 && strcmp(s + len - 5, ".yaml") == 0)) {
		path = ld_path(ld->dir, s, "");
		if (access(path, R_OK) != 0) {
			rc = ld_err(ld, n, "cannot open profile %s: %s", path,
			    strerror(errno));
			free(path);
			return rc;
		}
	} else {
		if (!ld_name_ok(s))
			return ld_err(ld, n, "expected a profile name "
			    "[a-z0-9_-] or a path ending in .yaml, got %s",
			    ld_got(ld, n));
		path = ld_path(ld->dir, s, ".yaml");
		if (access(path, R_OK) != 0 && ld->datadir != NULL) {
			free(path);
			path = ld_path(ld->datadir, s, ".yaml");
		}
		if (access(path, R_OK) != 0) {
			free(path);
			return ld_err(ld, n, "unknown profile \"%s\" (no "
			    "%s.yaml beside the scenario%s%s)", s, s,
			    ld->datadir != NULL ? " or in " : "",
			    ld->datadir != NULL ? ld->datadir : "");
		}
	}
	if ((real = realpath(path, NULL)) == NULL)
		real = ld_xstrdup(path);
	for (i = 0; i < w->nprofiles; i++)
		if (strcmp(ld->loaded[i], real) == 0) {
			free(real);
			free(path);
			*idx = (uint32_t)i;
			return 0;
		}
	if (w->nprofiles >= PROF_MAX_PROFILES) {
		free(real);
		free(path);
		return ld_err(ld, n, "too many profiles (at most %d)",
		    PROF_MAX_PROFILES);
	}
	/* the profile's own errors name its file, line and column */
	if ((p = prof_load_profile(path, ld->err)) == NULL) {
		free(real);
		free(path);
		return -EINVAL;
	}
	for (i = 0; i < w->nprofiles; i++)
		if (strcmp(w->profiles[i]->name, p->name) == 0) {
			rc = ld_err(ld, n, "provider \"%s\" of %s is already "
			    "defined by %s", p->name, path,
			    w->profiles[i]->file);
			prof_profile_free(p);
			free(real);
			free(path);
			return rc;
		}
	free(path);
	ld->loaded = ld_xrealloc(ld->loaded,
	    (w->nprofiles + 1) * sizeof(*ld->loaded));
	ld->loaded[w->nprofiles] = real;
	if ((rc = prof_world_add_profile(w, p)) < 0)
		abort();	/* room was checked above */
	*idx = (uint32_t)rc;
	return 0;
}

/* ld_add_block - serve one CIDR with a profile; blocks must not overlap */
static int
ld_add_block(struct ld *ld, yaml_node_t *n, size_t server, uint32_t profile)
{
	struct prof_world *w = ld->w;
	const struct prof_block *b;
	struct ld_blk *o;
	uint32_t addr, mask;
	unsigned prefix;
	size_t i;
	int rc;

	if (ld_is_ipv6(n))
		return ld_add_block6(ld, n, server, profile);
	if ((rc = ld_cidr(ld, n, &addr, &prefix)) != 0)
		return rc;
	mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
	for (i = 0; i < w->nblocks; i++) {
		b = &w->blocks[i];
		if ((addr & b->mask & mask) != (b->addr & b->mask & mask))
			continue;
		o = &ld->blk[i];
		return ld_err(ld, n, "address block %s of servers[%zu] (%s) "
		    "overlaps %s of servers[%zu] (%s, line %u)",
		    (const char *)n->data.scalar.value, server,
		    w->profiles[profile]->name, o->cidr, o->server,
		    w->profiles[b->profile]->name, o->line);
	}
	if (prof_world_add_block(w, addr, prefix, profile) != 0)
		abort();	/* prefix and index were checked */
	ld->blk = ld_xrealloc(ld->blk, w->nblocks * sizeof(*ld->blk));
	o = &ld->blk[w->nblocks - 1];
	o->server = server;
	o->line = (unsigned)n->start_mark.line + 1;
	snprintf(o->cidr, sizeof(o->cidr), "%s",
	    (const char *)n->data.scalar.value);
	return 0;
}

/* set_servers - profiles and the address blocks they serve */
static int
set_servers(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct ld_server srv;
	yaml_node_item_t *it, *ai;
	char sub[32], apath[48];
	uint32_t idx = 0;
	size_t i;
	int rc;

	(void)field;
	(void)k;
	if ((rc = ld_seq(ld, n, path, 1)) != 0)
		return rc;
	for (i = 0, it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++, i++) {
		snprintf(sub, sizeof(sub), "servers[%zu]", i);
		memset(&srv, 0, sizeof(srv));
		if ((rc = ld_map(ld, ld_node(ld, *it), sub, server_keys,
		    &srv)) != 0)
			return rc;
		snprintf(apath, sizeof(apath), "%s.addresses", sub);
		if ((rc = ld_seq(ld, srv.addresses, apath, 1)) != 0)
			return rc;
		if ((rc = ld_profile_ref(ld, srv.profile, &idx)) != 0)
			return rc;
		snprintf(apath, sizeof(apath), "%s.accounts", sub);
		if (srv.accounts != NULL &&
		    (rc = prof_ld_accounts(ld, srv.accounts, apath, idx)) != 0)
			return rc;
		for (ai = srv.addresses->data.sequence.items.start;
		    ai < srv.addresses->data.sequence.items.top; ai++)
			if ((rc = ld_add_block(ld, ld_node(ld, *ai), i,
			    idx)) != 0)
				return rc;
	}
	return 0;
}

/* prof_load_scenario - load a scenario and every profile it names */
struct prof_world *
prof_load_scenario(const char *path, const char *datadir,
    struct prof_error *err)
{
	struct prof_world *w = NULL;
	yaml_node_t *root;
	struct ld ld;
	char *slash;
	size_t i;

	if (ld_open(&ld, path, err, "scenario", &root) != 0)
		goto out;
	if ((w = prof_world_new()) == NULL)
		abort();
	w->file = ld_xstrdup(path);
	ld.w = w;
	ld.datadir = datadir;
	/* profiles are relative to the scenario's directory (NULL: cwd) */
	if ((slash = strrchr(path, '/')) != NULL) {
		ld.dir = ld_xstrdup(path);
		ld.dir[slash == path ? 1 : slash - path] = '\0';
	}
	if (ld_map(&ld, root, "", scenario_keys, w) != 0) {
		ld_release(&ld);
		prof_world_free(w);
		return NULL;
	}
	w->no_complaints = !sender_complains(&w->default_sender);
	for (i = 0; i < w->nsenders && w->no_complaints; i++)
		w->no_complaints = !sender_complains(&w->senders[i]);
	prof_scan_decide(w);
out:
	ld_release(&ld);
	return w;
}

/* prof_file_is_profile - does the file's top level name a provider */
bool
prof_file_is_profile(const char *path)
{
	char line[512];
	FILE *fp;
	bool yes = false;

	if ((fp = fopen(path, "r")) == NULL)
		return false;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "provider:", 9) == 0) {
			yes = true;
			break;
		}
	fclose(fp);
	return yes;
}

/* prof_scenario_has_records - does the scenario declare a DNS world */
bool
prof_scenario_has_records(const struct prof_world *w)
{
	const struct prof_sender *sd;
	size_t i;

	if (w->dns_listen != NULL)
		return true;
	for (i = 0; i <= w->nsenders; i++) {
		sd = i < w->nsenders ? &w->senders[i] : &w->default_sender;
		if (sd->spf_record != NULL || sd->dmarc_record != NULL ||
		    sd->ndkim_keys > 0 || sd->nrecords > 0)
			return true;
	}
	return false;
}
