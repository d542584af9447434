/*
 * Tests of auth_zone, auth_spf (libspf2), auth_dkim (libopendkim, keys
 * generated here with OpenSSL) and auth_dmarc (libopendmarc), and of the
 * chain msg_scan -> DKIM -> DMARC on one signed message.
 */
#include <stdio.h>

#include "test_suites.h"

#ifdef MXSIM_HAVE_AUTH
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "auth_dkim.h"
#include "auth_dmarc.h"
#include "auth_spf.h"
#include "auth_zone.h"
#include "msg_scan.h"
#include "test_suites.h"

/* Fixtures, made once by the suite's init. */
static char key1[4096], pub1[1024];	/* example.com s1 */
static char key2[4096], pub2[1024];	/* esp.net k2 */
static char key3[4096], pub3[1024];	/* never published */
static struct auth_zone *zone;

static const char plain_msg[] =
    "From: Alice <alice@example.com>\r\n"
    "To: bob@gmail.com\r\n"
    "Subject: Your order\r\n"
    "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <order-1@example.com>\r\n"
    "List-Unsubscribe: <https://example.com/u/1>\r\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "your order has shipped: https://example.com/track/1\r\n"
    "\r\n";

/* auth_init - keys and the zone of the simulated world */
static int
auth_init(void)
{
	if (auth_dkim_keygen(2048, key1, sizeof(key1), pub1, sizeof(pub1)) ||
	    auth_dkim_keygen(2048, key2, sizeof(key2), pub2, sizeof(pub2)) ||
	    auth_dkim_keygen(1024, key3, sizeof(key3), pub3, sizeof(pub3)))
		return -1;
	zone = auth_zone_create(300);
	if (zone == NULL ||
	    auth_zone_add_spf(zone, "example.com",
	    "v=spf1 ip4:127.0.10.0/24 ip4:198.18.10.0/24 -all") ||
	    auth_zone_add_spf(zone, "soft.example",
	    "v=spf1 ip4:127.0.11.0/24 ~all") ||
	    auth_zone_add_spf(zone, "neutral.example", "v=spf1 ?all") ||
	    auth_zone_add_spf(zone, "broken.example",
	    "v=spf1 ip4:127.0.12.0/24 bogus:x -all") ||
	    auth_zone_add_spf(zone, "mx.example",
	    "v=spf1 mx a:out.mx.example include:esp.net -all") ||
	    auth_zone_add_mx(zone, "mx.example", 10, "in.mx.example") ||
	    auth_zone_add_a(zone, "in.mx.example", "127.0.13.1") ||
	    auth_zone_add_a(zone, "out.mx.example", "127.0.13.2") ||
	    auth_zone_add_spf(zone, "esp.net", "v=spf1 ip4:127.0.14.0/24 -all")
	    || auth_zone_add_spf(zone, "mta.esp.net", "v=spf1 a -all") ||
	    auth_zone_add_a(zone, "mta.esp.net", "127.0.14.7") ||
	    auth_zone_add_dkim(zone, "example.com", "s1", pub1) ||
	    auth_zone_add_dkim(zone, "esp.net", "k2", pub2) ||
	    auth_zone_add_dmarc(zone, "example.com", "v=DMARC1; p=reject") ||
	    auth_zone_add_dmarc(zone, "strict.example",
	    "v=DMARC1; p=quarantine; adkim=s; aspf=s; pct=50") ||
	    auth_zone_add_spf(zone, "strict.example",
	    "v=spf1 ip4:127.0.15.0/24 -all") ||
	    auth_zone_add_spf(zone, "bounce.strict.example",
	    "v=spf1 ip4:127.0.15.0/24 -all") ||
	    auth_zone_add_dmarc(zone, "sub.example",
	    "v=DMARC1; p=none; sp=reject") ||
	    auth_zone_add_dmarc(zone, "shop.co.uk", "v=DMARC1; p=reject") ||
	    auth_zone_add_dmarc(zone, "bad.example", "v=DMARC1; p=maybe") ||
	    auth_zone_add_mx(zone, "gmail.com", 5, "gmail-smtp-in.l.google.com")
	    || auth_zone_add_a(zone, "gmail-smtp-in.l.google.com", "127.1.0.1"))
		return -1;
	return 0;
}

/* auth_clean - free the zone */
static int
auth_clean(void)
{
	auth_zone_free(zone);
	zone = NULL;
	return 0;
}

/* zone: names, ancestors, apexes, validation */
static void
test_zone(void)
{
	const struct auth_rr *rr[4];
	const char *apex;
	struct auth_zone *z;

	CU_ASSERT_EQUAL(auth_zone_lookup(zone, "GMAIL.com.", AUTH_RR_MX, rr,
	    4), 1);
	CU_ASSERT_STRING_EQUAL(rr[0]->data, "gmail-smtp-in.l.google.com");
	CU_ASSERT_EQUAL(rr[0]->pref, 5);
	CU_ASSERT_EQUAL(auth_zone_lookup(zone, "gmail-smtp-in.l.google.com",
	    AUTH_RR_A, rr, 4), 1);
	CU_ASSERT_EQUAL(rr[0]->addr, htonl(0x7f010001));
	CU_ASSERT_EQUAL(rr[0]->ttl, 300);
	CU_ASSERT_EQUAL(auth_zone_name(zone, "s1._domainkey.example.com",
	    &apex), AUTH_ZONE_EXISTS);
	CU_ASSERT_STRING_EQUAL(apex, "example.com");
	CU_ASSERT_EQUAL(auth_zone_name(zone, "_domainkey.example.com", NULL),
	    AUTH_ZONE_EXISTS);		/* empty non-terminal */
	CU_ASSERT_EQUAL(auth_zone_name(zone, "l.google.com", NULL),
	    AUTH_ZONE_EXISTS);
	CU_ASSERT_EQUAL(auth_zone_name(zone, "nope.example.com", NULL),
	    AUTH_ZONE_NXDOMAIN);
	CU_ASSERT_EQUAL(auth_zone_name(zone, "example.org", &apex),
	    AUTH_ZONE_OUTSIDE);
	CU_ASSERT_PTR_NULL(apex);
	CU_ASSERT_EQUAL(auth_zone_name(zone, "com", NULL), AUTH_ZONE_OUTSIDE);
	CU_ASSERT_PTR_NOT_NULL(auth_zone_txt(zone, "_dmarc.example.com",
	    "v=dmarc1"));
	CU_ASSERT_PTR_NULL(auth_zone_txt(zone, "example.com", "v=DMARC1"));

	z = auth_zone_create(60);
	CU_ASSERT_EQUAL(auth_zone_add_a(z, "bad name.example", "127.0.0.1"),
	    -EINVAL);
	CU_ASSERT_EQUAL(auth_zone_add_a(z, "a..example", "127.0.0.1"),
	    -EINVAL);
	CU_ASSERT_EQUAL(auth_zone_add_a(z, "host.example", "300.0.0.1"),
	    -EINVAL);
	CU_ASSERT_EQUAL(auth_zone_add_spf(z, "x.example", "v=spf10 -all"),
	    -EINVAL);
	CU_ASSERT_EQUAL(auth_zone_add_dmarc(z, "x.example", "p=reject"),
	    -EINVAL);
	CU_ASSERT_EQUAL(auth_zone_add_mx(z, "x.example", 70000, "mx.x"),
	    -EINVAL);
	CU_ASSERT_EQUAL(auth_zone_count(z), 0);
	/* Enough names to make the table grow several times. */
	{
		char n[64];
		int i, bad = 0;

		for (i = 0; i < 2000; i++) {
			snprintf(n, sizeof(n), "h%d.d%d.example", i, i % 50);
			bad += auth_zone_add_a(z, n, "127.0.0.9") != 0;
		}
		CU_ASSERT_EQUAL(bad, 0);
		CU_ASSERT_EQUAL(auth_zone_count(z), 2000);
		CU_ASSERT_EQUAL(auth_zone_lookup(z, "h1999.d49.example",
		    AUTH_RR_A, rr, 4), 1);
		CU_ASSERT_EQUAL(auth_zone_name(z, "d7.example", NULL),
		    AUTH_ZONE_EXISTS);
	}
	auth_zone_free(z);
}

/* SPF: each result, loopback clients judged, HELO identity */
static void
test_spf(void)
{
	static const struct {
		const char		*ip, *helo, *from;
		enum auth_spf_result	 want;
	} t[] = {
		{ "127.0.10.5", "mta.example.com", "a@example.com",
		    AUTH_SPF_PASS },
		{ "198.18.10.200", "x", "a@example.com", AUTH_SPF_PASS },
		{ "127.0.99.5", "mta.example.com", "a@example.com",
		    AUTH_SPF_FAIL },
		{ "127.0.11.1", "x", "b@soft.example", AUTH_SPF_PASS },
		{ "127.0.10.1", "x", "b@soft.example", AUTH_SPF_SOFTFAIL },
		{ "127.0.10.1", "x", "b@neutral.example", AUTH_SPF_NEUTRAL },
		{ "127.0.10.1", "x", "b@unknown.example", AUTH_SPF_NONE },
		{ "127.0.12.1", "x", "b@broken.example", AUTH_SPF_PERMERROR },
		{ "127.0.13.1", "x", "b@mx.example", AUTH_SPF_PASS },
		{ "127.0.13.2", "x", "b@mx.example", AUTH_SPF_PASS },
		{ "127.0.14.9", "x", "b@mx.example", AUTH_SPF_PASS },
		{ "127.0.13.3", "x", "b@mx.example", AUTH_SPF_FAIL },
		{ "127.0.14.7", "mta.esp.net", "", AUTH_SPF_PASS },
		{ "127.0.14.8", "mta.esp.net", "", AUTH_SPF_FAIL },
		{ "::1", "x", "a@example.com", AUTH_SPF_FAIL },
	};
	struct auth_spf *sp;
	enum auth_spf_result r;
	size_t i;
	int rc;

	sp = auth_spf_create(zone);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = AUTH_SPF_NONE;
		rc = auth_spf_check(sp, t[i].ip, t[i].helo, t[i].from, &r);
		CU_ASSERT_EQUAL(rc, 0);
		if (r != t[i].want)
			fprintf(stderr, "\nspf %s %s: %s, want %s\n", t[i].ip,
			    t[i].from, auth_spf_result_str(r),
			    auth_spf_result_str(t[i].want));
		CU_ASSERT_EQUAL(r, t[i].want);
	}
	CU_ASSERT_EQUAL(auth_spf_check(sp, "not-an-ip", "x", "a@example.com",
	    &r), -EINVAL);
	CU_ASSERT_EQUAL(auth_spf_check(sp, "127.0.0.1", "", "a@example.com",
	    &r), -EINVAL);
	CU_ASSERT_STRING_EQUAL(auth_spf_result_str(AUTH_SPF_SOFTFAIL),
	    "softfail");
	auth_spf_free(sp);
}

/* sign - DKIM-Signature header + message into buf */
static size_t
sign(struct auth_dkim *adk, const char *key, const char *d, const char *s,
    const char *msg, char *buf, size_t max)
{
	char hdr[2048];
	int rc;

	rc = auth_dkim_sign(adk, key, d, s, msg, strlen(msg), hdr,
	    sizeof(hdr));
	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0)
		return 0;
	return (size_t)snprintf(buf, max, "%s%s", hdr, msg);
}

/* verify - feed in chunks of @chunk, return message result */
static enum auth_dkim_result
verify(struct auth_dkim *adk, const char *m, size_t len, size_t chunk,
    struct auth_dkim_sig *sigs, size_t *n)
{
	struct auth_dkim_verify *v;
	enum auth_dkim_result r;
	size_t i;

	v = auth_dkim_verify_begin(adk, "test");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	for (i = 0; i < len; i += chunk)
		(void)auth_dkim_verify_feed(v, m + i,
		    len - i < chunk ? len - i : chunk);
	r = auth_dkim_verify_end(v, sigs, AUTH_DKIM_SIGS_MAX, n);
	auth_dkim_verify_free(v);
	return r;
}

/* DKIM: sign then verify, tampering, unknown key, unsigned, two sigs */
static void
test_dkim(void)
{
	struct auth_dkim *adk;
	struct auth_dkim_sig sigs[AUTH_DKIM_SIGS_MAX];
	char m[8192], m2[16384], *p;
	size_t len, len2, n = 0;

	adk = auth_dkim_create(zone);
	CU_ASSERT_PTR_NOT_NULL_FATAL(adk);
	len = sign(adk, key1, "example.com", "s1", plain_msg, m, sizeof(m));
	CU_ASSERT_FATAL(len > 0);
	CU_ASSERT(strncmp(m, "DKIM-Signature: v=1; a=rsa-sha256;", 34) == 0);
	for (p = m; (p = strchr(p + 1, '\n')) != NULL; )
		if (p[-1] != '\r')
			break;
	CU_ASSERT_PTR_NULL(p);		/* every line ends in CRLF */

	CU_ASSERT_EQUAL(verify(adk, m, len, len, sigs, &n), AUTH_DKIM_PASS);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(sigs[0].result, AUTH_DKIM_PASS);
	CU_ASSERT_STRING_EQUAL(sigs[0].domain, "example.com");
	CU_ASSERT_STRING_EQUAL(sigs[0].selector, "s1");
	CU_ASSERT_EQUAL(verify(adk, m, len, 1, sigs, &n), AUTH_DKIM_PASS);
	CU_ASSERT_EQUAL(verify(adk, m, len, 13, sigs, &n), AUTH_DKIM_PASS);

	/* A tampered body: body hash mismatch. */
	p = strstr(m, "shipped");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	*p = 'S';
	CU_ASSERT_EQUAL(verify(adk, m, len, 64, sigs, &n), AUTH_DKIM_FAIL);
	CU_ASSERT_EQUAL(sigs[0].result, AUTH_DKIM_FAIL);
	*p = 's';
	/* A tampered signed header. */
	p = strstr(m, "Your order");
	*p = 'M';
	CU_ASSERT_EQUAL(verify(adk, m, len, len, sigs, &n), AUTH_DKIM_FAIL);
	*p = 'Y';
	CU_ASSERT_EQUAL(verify(adk, m, len, len, sigs, &n), AUTH_DKIM_PASS);

	/* Signed with a key that is not the published one. */
	len = sign(adk, key3, "example.com", "s1", plain_msg, m, sizeof(m));
	CU_ASSERT_EQUAL(verify(adk, m, len, len, sigs, &n), AUTH_DKIM_FAIL);
	/* A selector with no key record. */
	len = sign(adk, key1, "example.com", "nokey", plain_msg, m, sizeof(m));
	CU_ASSERT_EQUAL(verify(adk, m, len, len, sigs, &n),
	    AUTH_DKIM_PERMERROR);
	CU_ASSERT_STRING_EQUAL(sigs[0].selector, "nokey");
	/* Unsigned. */
	CU_ASSERT_EQUAL(verify(adk, plain_msg, strlen(plain_msg), 5, sigs,
	    &n), AUTH_DKIM_NONE);
	CU_ASSERT_EQUAL(n, 0);

	/* Author signature, then the ESP's signature on top: both pass. */
	len = sign(adk, key1, "example.com", "s1", plain_msg, m, sizeof(m));
	len2 = sign(adk, key2, "esp.net", "k2", m, m2, sizeof(m2));
	CU_ASSERT_EQUAL(verify(adk, m2, len2, 100, sigs, &n),
	    AUTH_DKIM_PASS);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(sigs[0].result, AUTH_DKIM_PASS);
	CU_ASSERT_EQUAL(sigs[1].result, AUTH_DKIM_PASS);
	CU_ASSERT(strcmp(sigs[0].domain, "esp.net") == 0 ||
	    strcmp(sigs[1].domain, "esp.net") == 0);

	/* A signing-only context has no keys to verify with. */
	{
		struct auth_dkim *so = auth_dkim_create(NULL);

		CU_ASSERT_EQUAL(verify(so, m, len, len, sigs, &n),
		    AUTH_DKIM_PERMERROR);
		auth_dkim_free(so);
	}
	{
		char pub[1024];

		CU_ASSERT_EQUAL(auth_dkim_pubkey(key1, pub, sizeof(pub)), 0);
		CU_ASSERT_STRING_EQUAL(pub, pub1);
		CU_ASSERT_EQUAL(auth_dkim_pubkey("not a key", pub,
		    sizeof(pub)), -EINVAL);
		CU_ASSERT_EQUAL(auth_dkim_pubkey(key1, pub, 16), -ENOSPC);
	}
	CU_ASSERT_EQUAL(auth_dkim_keygen(512, key3, sizeof(key3), pub3,
	    sizeof(pub3)), -EINVAL);
	CU_ASSERT_EQUAL(auth_dkim_keygen(2048, key3, 100, pub3,
	    sizeof(pub3)), -ENOSPC);
	auth_dkim_free(adk);
}

/* dmarc - one DMARC check with one SPF and up to one DKIM result */
static struct auth_dmarc_res
dmarc(struct auth_dmarc *dm, const char *from, enum auth_spf_result spf,
    const char *spfd, enum auth_dkim_result dk, const char *dkd)
{
	struct auth_dkim_sig sig;
	struct auth_dmarc_in in;
	struct auth_dmarc_res res;

	memset(&sig, 0, sizeof(sig));
	memset(&in, 0, sizeof(in));
	in.client_ip = "127.0.10.1";
	in.from_domain = from;
	in.spf = spf;
	in.spf_domain = spfd;
	if (dkd != NULL) {
		sig.result = dk;
		snprintf(sig.domain, sizeof(sig.domain), "%s", dkd);
		snprintf(sig.selector, sizeof(sig.selector), "s1");
		in.dkim = &sig;
		in.ndkim = 1;
	}
	CU_ASSERT_EQUAL(auth_dmarc_check(dm, &in, &res), 0);
	return res;
}

/* DMARC: alignment, p/sp, strict, discovery, absent and bad records */
static void
test_dmarc(void)
{
	struct auth_dmarc *dm;
	struct auth_dmarc_res r;

	dm = auth_dmarc_create(zone, AUTH_DMARC_PSL_DEFAULT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dm);
	/* p=reject, SPF aligned. */
	r = dmarc(dm, "example.com", AUTH_SPF_PASS, "example.com",
	    AUTH_DKIM_NONE, NULL);
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_PASS);
	CU_ASSERT(r.spf_aligned);
	CU_ASSERT_EQUAL(r.policy, AUTH_DMARC_P_REJECT);
	CU_ASSERT_EQUAL(r.disposition, AUTH_DMARC_P_NONE);
	/* p=reject, SPF passes for another domain, no DKIM: reject. */
	r = dmarc(dm, "example.com", AUTH_SPF_PASS, "esp.net",
	    AUTH_DKIM_NONE, NULL);
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_FAIL);
	CU_ASSERT_FALSE(r.spf_aligned);
	CU_ASSERT_EQUAL(r.disposition, AUTH_DMARC_P_REJECT);
	/* ... rescued by an aligned DKIM pass. */
	r = dmarc(dm, "example.com", AUTH_SPF_PASS, "esp.net",
	    AUTH_DKIM_PASS, "example.com");
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_PASS);
	CU_ASSERT(r.dkim_aligned);
	/* ... but not by a failing one, nor by an unaligned pass. */
	r = dmarc(dm, "example.com", AUTH_SPF_FAIL, "example.com",
	    AUTH_DKIM_FAIL, "example.com");
	CU_ASSERT_EQUAL(r.disposition, AUTH_DMARC_P_REJECT);
	r = dmarc(dm, "example.com", AUTH_SPF_SOFTFAIL, "example.com",
	    AUTH_DKIM_PASS, "esp.net");
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_FAIL);
	/* Relaxed: a subdomain From finds the org record and aligns. */
	r = dmarc(dm, "news.example.com", AUTH_SPF_PASS,
	    "bounce.example.com", AUTH_DKIM_NONE, NULL);
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_PASS);
	CU_ASSERT(r.org_record);
	r = dmarc(dm, "news.shop.co.uk", AUTH_SPF_PASS, "mail.shop.co.uk",
	    AUTH_DKIM_NONE, NULL);
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_PASS);
	r = dmarc(dm, "news.shop.co.uk", AUTH_SPF_PASS, "other.co.uk",
	    AUTH_DKIM_NONE, NULL);
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_FAIL);
	CU_ASSERT_EQUAL(r.disposition, AUTH_DMARC_P_REJECT);
	/* Strict: only the very same name aligns. */
	r = dmarc(dm, "strict.example", AUTH_SPF_PASS,
	    "bounce.strict.example", AUTH_DKIM_PASS, "mail.strict.example");
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_FAIL);
	CU_ASSERT_EQUAL(r.aspf, 's');
	CU_ASSERT_EQUAL(r.adkim, 's');
	CU_ASSERT_EQUAL(r.pct, 50);
	CU_ASSERT_EQUAL(r.disposition, AUTH_DMARC_P_QUARANTINE);
	r = dmarc(dm, "strict.example", AUTH_SPF_PASS, "strict.example",
	    AUTH_DKIM_NONE, NULL);
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_PASS);
	/* sp= applies to subdomains, p= to the domain itself. */
	r = dmarc(dm, "a.sub.example", AUTH_SPF_FAIL, "a.sub.example",
	    AUTH_DKIM_NONE, NULL);
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_FAIL);
	CU_ASSERT(r.sp_used);
	CU_ASSERT_EQUAL(r.disposition, AUTH_DMARC_P_REJECT);
	r = dmarc(dm, "sub.example", AUTH_SPF_FAIL, "sub.example",
	    AUTH_DKIM_NONE, NULL);
	CU_ASSERT_EQUAL(r.disposition, AUTH_DMARC_P_NONE);
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_FAIL);
	/* No record; a record that does not parse; no From. */
	r = dmarc(dm, "esp.net", AUTH_SPF_FAIL, "esp.net", AUTH_DKIM_NONE,
	    NULL);
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_NONE);
	CU_ASSERT_EQUAL(r.policy, AUTH_DMARC_P_ABSENT);
	r = dmarc(dm, "bad.example", AUTH_SPF_PASS, "bad.example",
	    AUTH_DKIM_NONE, NULL);
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_PERMERROR);
	r = dmarc(dm, "", AUTH_SPF_PASS, "example.com", AUTH_DKIM_NONE, NULL);
	CU_ASSERT_EQUAL(r.result, AUTH_DMARC_NONE);
	CU_ASSERT_EQUAL(auth_dmarc_check(dm, NULL, &r), -EINVAL);
	CU_ASSERT_STRING_EQUAL(auth_dmarc_policy_str(AUTH_DMARC_P_REJECT),
	    "reject");
	auth_dmarc_free(dm);
}

/* the whole chain on one signed message, as the session would run it */
static void
test_chain(void)
{
	struct auth_dkim *adk;
	struct auth_spf *sp;
	struct auth_dmarc *dm;
	struct auth_dkim_verify *v;
	struct auth_dkim_sig sigs[AUTH_DKIM_SIGS_MAX];
	struct auth_dmarc_in in;
	struct auth_dmarc_res res;
	struct msg_scan *sc = malloc(sizeof(*sc));
	enum auth_spf_result spf;
	char m[8192];
	size_t len, i, n;

	adk = auth_dkim_create(zone);
	sp = auth_spf_create(zone);
	dm = auth_dmarc_create(zone, AUTH_DMARC_PSL_DEFAULT);
	CU_ASSERT_FATAL(adk != NULL && sp != NULL && dm != NULL);
	len = sign(adk, key1, "example.com", "s1", plain_msg, m, sizeof(m));

	/* DATA: the same chunks go to the scanner and the verifier. */
	msg_scan_init(sc, NULL);
	v = auth_dkim_verify_begin(adk, "chain");
	for (i = 0; i < len; i += 512) {
		n = len - i < 512 ? len - i : 512;
		msg_scan_feed(sc, m + i, n);
		CU_ASSERT_EQUAL(auth_dkim_verify_feed(v, m + i, n), 0);
	}
	msg_scan_end(sc);
	CU_ASSERT_EQUAL(auth_dkim_verify_end(v, sigs, AUTH_DKIM_SIGS_MAX,
	    &n), AUTH_DKIM_PASS);
	auth_dkim_verify_free(v);
	CU_ASSERT_EQUAL(sc->info.ndkim, 1);
	CU_ASSERT_STRING_EQUAL(sc->info.dkim[0].d, sigs[0].domain);
	CU_ASSERT(sc->info.flags & MSG_F_ONECLICK);

	/* SPF from an IP outside the record: DMARC passes on DKIM alone. */
	CU_ASSERT_EQUAL(auth_spf_check(sp, "127.0.77.1", "mta.example.com",
	    "bounce@example.com", &spf), 0);
	CU_ASSERT_EQUAL(spf, AUTH_SPF_FAIL);
	memset(&in, 0, sizeof(in));
	in.client_ip = "127.0.77.1";
	in.from_domain = sc->info.from_domain;
	in.spf = spf;
	in.spf_domain = "example.com";
	in.dkim = sigs;
	in.ndkim = n;
	CU_ASSERT_EQUAL(auth_dmarc_check(dm, &in, &res), 0);
	CU_ASSERT_EQUAL(res.result, AUTH_DMARC_PASS);
	CU_ASSERT(res.dkim_aligned);
	CU_ASSERT_FALSE(res.spf_aligned);

	auth_dmarc_free(dm);
	auth_spf_free(sp);
	auth_dkim_free(adk);
	free(sc);
}

int
test_auth_register(void)
{
	CU_pSuite s = CU_add_suite("auth", auth_init, auth_clean);

	if (s == NULL ||
	    CU_add_test(s, "zone", test_zone) == NULL ||
	    CU_add_test(s, "spf results", test_spf) == NULL ||
	    CU_add_test(s, "dkim sign and verify", test_dkim) == NULL ||
	    CU_add_test(s, "dmarc policy and alignment", test_dmarc) == NULL ||
	    CU_add_test(s, "scan, dkim, spf, dmarc chain", test_chain) == NULL)
		return -1;
	return 0;
}

#else /* !MXSIM_HAVE_AUTH */

int
test_auth_register(void)
{
	fprintf(stderr, "NOT RUN: suite auth (built without libspf2, "
	    "libopendkim, libopendmarc or ldns)\n");
	return 0;
}

#endif /* MXSIM_HAVE_AUTH */
