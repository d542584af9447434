/*
 * Tests of dns_server: answers built without sockets (every rcode, TXT
 * splitting, truncation), then a real server on 127.0.0.53 queried over
 * UDP and TCP with ldns's resolver and with dig (bind9-dnsutils).
 */
#include <stdio.h>

#include "test_suites.h"

#ifdef MXSIM_HAVE_AUTH
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <ldns/ldns.h>

#include "auth_dkim.h"
#include "auth_zone.h"
#include "dns_server.h"
#include "test_suites.h"

#define DNS_TEST_ADDR	"127.0.0.53"

static struct auth_zone *zone;
static char dkim_pub[1024];

/* dns_init - a zone with a provider MX, sender TXT records, a long key */
static int
dns_init(void)
{
	char priv[4096];
	int i, rc = 0;
	char txt[64];

	if (auth_dkim_keygen(2048, priv, sizeof(priv), dkim_pub,
	    sizeof(dkim_pub)) != 0)
		return -1;
	zone = auth_zone_create(300);
	if (zone == NULL)
		return -1;
	rc |= auth_zone_add_mx(zone, "gmail.com", 5,
	    "gmail-smtp-in.l.google.com");
	rc |= auth_zone_add_mx(zone, "gmail.com", 10,
	    "alt1.gmail-smtp-in.l.google.com");
	rc |= auth_zone_add_a(zone, "gmail-smtp-in.l.google.com", "127.1.0.1");
	rc |= auth_zone_add_a(zone, "alt1.gmail-smtp-in.l.google.com",
	    "127.1.0.2");
	rc |= auth_zone_add_spf(zone, "example.com",
	    "v=spf1 ip4:127.0.10.0/24 -all");
	rc |= auth_zone_add_dkim(zone, "example.com", "s1", dkim_pub);
	rc |= auth_zone_add_dmarc(zone, "example.com", "v=DMARC1; p=reject");
	rc |= auth_zone_add_a(zone, "example.com", "127.0.10.1");
	rc |= auth_zone_add_ptr(zone, 0x7f005c05, "Mail.Rdns.test.");
	rc |= auth_zone_add_a(zone, "mail.rdns.test", "127.0.92.5");
	/* Enough TXT at one name to overflow 512 bytes. */
	for (i = 0; i < 12; i++) {
		snprintf(txt, sizeof(txt), "filler-%02d-%040d", i, i);
		rc |= auth_zone_add(zone, "big.example.com", AUTH_RR_TXT, txt,
		    0);
	}
	return rc == 0 ? 0 : -1;
}

/* dns_clean - free the zone */
static int
dns_clean(void)
{
	auth_zone_free(zone);
	zone = NULL;
	return 0;
}

/* ask - build a query, answer it, parse the answer */
static ldns_pkt *
ask(const char *name, ldns_rr_type t, bool rd, size_t udp_limit,
    uint16_t edns)
{
	ldns_pkt *q, *a = NULL;
	uint8_t *wire = NULL, out[65535];
	size_t wlen, alen;

	q = ldns_pkt_query_new(ldns_dname_new_frm_str(name), t,
	    LDNS_RR_CLASS_IN, rd ? LDNS_RD : 0);
	if (q == NULL)
		return NULL;
	ldns_pkt_set_id(q, 0x1234);
	if (edns != 0)
		ldns_pkt_set_edns_udp_size(q, edns);
	if (ldns_pkt2wire(&wire, q, &wlen) == LDNS_STATUS_OK) {
		alen = dns_server_answer(zone, wire, wlen, out, sizeof(out),
		    udp_limit, NULL);
		if (alen > 0 && ldns_wire2pkt(&a, out, alen) != LDNS_STATUS_OK)
			a = NULL;
	}
	free(wire);
	ldns_pkt_free(q);
	return a;
}

/* rr_text - rdata of the n-th record of a section as text */
static char *
rr_text(ldns_rr_list *l, size_t n)
{
	ldns_rr *rr = ldns_rr_list_rr(l, n);

	return rr == NULL ? NULL : ldns_rr2str(rr);
}

/* A, MX with glue, TXT, PTR: answers are authoritative, RA clear */
static void
test_answers(void)
{
	ldns_pkt *a;
	char *s;
	size_t i, len = 0;
	ldns_rr *rr;

	a = ask("GMAIL.com.", LDNS_RR_TYPE_MX, true, 512, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ldns_pkt_id(a), 0x1234);
	CU_ASSERT(ldns_pkt_qr(a) && ldns_pkt_aa(a) && !ldns_pkt_ra(a));
	CU_ASSERT(ldns_pkt_rd(a));
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(a), 2);
	CU_ASSERT_EQUAL(ldns_pkt_arcount(a), 2);
	s = rr_text(ldns_pkt_answer(a), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "MX\t5 gmail-smtp-in.l.google.com."));
	free(s);
	s = rr_text(ldns_pkt_additional(a), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "127.1.0.1"));
	free(s);
	ldns_pkt_free(a);

	a = ask("gmail-smtp-in.l.google.com", LDNS_RR_TYPE_A, false, 512, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(a), 1);
	s = rr_text(ldns_pkt_answer(a), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\t300\tIN\tA\t127.1.0.1"));
	free(s);
	ldns_pkt_free(a);

	/* The DKIM key is longer than 255: several strings, same text. */
	a = ask("s1._domainkey.example.com", LDNS_RR_TYPE_TXT, false, 512,
	    1232);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(a), 1);
	CU_ASSERT_FALSE(ldns_pkt_tc(a));
	rr = ldns_rr_list_rr(ldns_pkt_answer(a), 0);
	CU_ASSERT_FATAL(rr != NULL && ldns_rr_rd_count(rr) >= 2);
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		CU_ASSERT(ldns_rdf_size(ldns_rr_rdf(rr, i)) <= 256);
		len += ldns_rdf_size(ldns_rr_rdf(rr, i)) - 1;
	}
	CU_ASSERT_EQUAL(len, strlen("v=DKIM1; k=rsa; p=") + strlen(dkim_pub));
	ldns_pkt_free(a);

	a = ask("_dmarc.example.com", LDNS_RR_TYPE_TXT, false, 512, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	s = rr_text(ldns_pkt_answer(a), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"v=DMARC1; p=reject\""));
	free(s);
	ldns_pkt_free(a);

	a = ask("example.com", LDNS_RR_TYPE_SOA, false, 512, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(a), 1);
	ldns_pkt_free(a);

	/* reverse DNS: PTR at the in-addr.arpa name; its neighbour does
	 * not exist inside the same reverse zone */
	a = ask("5.92.0.127.in-addr.arpa.", LDNS_RR_TYPE_PTR, false, 512, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(a), 1);
	s = rr_text(ldns_pkt_answer(a), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\tPTR\tmail.rdns.test."));
	free(s);
	ldns_pkt_free(a);
	a = ask("6.92.0.127.in-addr.arpa.", LDNS_RR_TYPE_PTR, false, 512, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(a), LDNS_RCODE_NXDOMAIN);
	CU_ASSERT(ldns_pkt_aa(a));
	ldns_pkt_free(a);
}

/* NXDOMAIN, NODATA (also at an empty non-terminal), REFUSED */
static void
test_negative(void)
{
	ldns_pkt *a;
	char *s;

	a = ask("nope.example.com", LDNS_RR_TYPE_A, false, 512, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(a), LDNS_RCODE_NXDOMAIN);
	CU_ASSERT(ldns_pkt_aa(a));
	CU_ASSERT_EQUAL(ldns_pkt_ancount(a), 0);
	CU_ASSERT_EQUAL(ldns_pkt_nscount(a), 1);
	s = rr_text(ldns_pkt_authority(a), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "example.com.\t60\tIN\tSOA\t"));
	free(s);
	ldns_pkt_free(a);

	a = ask("gmail.com", LDNS_RR_TYPE_AAAA, false, 512, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(a), 0);
	CU_ASSERT_EQUAL(ldns_pkt_nscount(a), 1);
	ldns_pkt_free(a);

	a = ask("_domainkey.example.com", LDNS_RR_TYPE_TXT, false, 512, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(a), 0);
	ldns_pkt_free(a);

	/* Not ours, with or without RD: we never recurse. */
	a = ask("www.example.org", LDNS_RR_TYPE_A, true, 512, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(a), LDNS_RCODE_REFUSED);
	CU_ASSERT_FALSE(ldns_pkt_aa(a));
	CU_ASSERT_FALSE(ldns_pkt_ra(a));
	CU_ASSERT_EQUAL(ldns_pkt_ancount(a), 0);
	ldns_pkt_free(a);
}

/* malformed queries, other opcodes, truncation over UDP only */
static void
test_errors_tc(void)
{
	static const uint8_t junk[] = {
		0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x07, 'e', 'x'	/* cut name */
	};
	uint8_t notify[12] = { 0x11, 0x22, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t out[512];
	struct dns_server_stats st;
	ldns_pkt *a;
	size_t n;

	memset(&st, 0, sizeof(st));
	n = dns_server_answer(zone, junk, sizeof(junk), out, sizeof(out), 512,
	    &st);
	CU_ASSERT_EQUAL(n, 12);
	CU_ASSERT(out[0] == 0xab && out[1] == 0xcd && (out[2] & 0x80));
	CU_ASSERT_EQUAL(out[3] & 0x0f, LDNS_RCODE_FORMERR);
	CU_ASSERT_EQUAL(dns_server_answer(zone, junk, 5, out, sizeof(out), 512,
	    &st), 0);
	n = dns_server_answer(zone, notify, sizeof(notify), out, sizeof(out),
	    512, &st);	/* opcode 4, no question */
	CU_ASSERT_EQUAL(n, 12);
	CU_ASSERT_EQUAL(out[3] & 0x0f, LDNS_RCODE_NOTIMPL);
	CU_ASSERT_EQUAL(st.queries, 3);
	CU_ASSERT_EQUAL(st.errors, 3);

	a = ask("big.example.com", LDNS_RR_TYPE_TXT, false, 512, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT(ldns_pkt_tc(a));
	CU_ASSERT_EQUAL(ldns_pkt_ancount(a), 0);
	ldns_pkt_free(a);
	a = ask("big.example.com", LDNS_RR_TYPE_TXT, false, 512, 1232);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_FALSE(ldns_pkt_tc(a));	/* EDNS makes room */
	CU_ASSERT_EQUAL(ldns_pkt_ancount(a), 12);
	ldns_pkt_free(a);
	a = ask("big.example.com", LDNS_RR_TYPE_TXT, false, 0, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_FALSE(ldns_pkt_tc(a));	/* TCP: no limit */
	CU_ASSERT_EQUAL(ldns_pkt_ancount(a), 12);
	ldns_pkt_free(a);
}

/* resolve - one query through ldns's stub resolver */
static ldns_pkt *
resolve(uint16_t port, bool tcp, const char *name, ldns_rr_type t)
{
	ldns_resolver *res;
	ldns_rdf *ns, *dn;
	ldns_pkt *p = NULL;
	struct timeval tv = { 2, 0 };

	res = ldns_resolver_new();
	ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, DNS_TEST_ADDR);
	dn = ldns_dname_new_frm_str(name);
	if (res != NULL && ns != NULL && dn != NULL &&
	    ldns_resolver_push_nameserver(res, ns) == LDNS_STATUS_OK) {
		ldns_resolver_set_port(res, port);
		ldns_resolver_set_usevc(res, tcp);
		ldns_resolver_set_fallback(res, false);
		ldns_resolver_set_retry(res, 1);
		ldns_resolver_set_timeout(res, tv);
		ldns_resolver_set_recursive(res, false);
		(void)ldns_resolver_send(&p, res, dn, t, LDNS_RR_CLASS_IN, 0);
	}
	ldns_rdf_deep_free(dn);
	ldns_rdf_deep_free(ns);
	if (res != NULL)
		ldns_resolver_deep_free(res);
	return p;
}

/* dig - run dig against the server, return its first output line */
static int
dig(uint16_t port, const char *args, char *line, size_t max)
{
	char cmd[256];
	FILE *f;
	int ok;

	snprintf(cmd, sizeof(cmd), "dig @%s -p %u +short +time=2 +tries=1 %s"
	    " 2>&1", DNS_TEST_ADDR, (unsigned)port, args);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	ok = fgets(line, (int)max, f) != NULL;
	while (fgetc(f) != EOF)
		;
	return pclose(f) == 0 && ok ? 0 : -1;
}

/* a real server on 127.0.0.53: UDP and TCP, thread and caller polling */
static void
test_server(void)
{
	struct dns_server *ds;
	const struct dns_server_stats *st;
	ldns_pkt *p;
	char line[2048];
	uint16_t port;
	int rc;

	rc = dns_server_open(&ds, zone, DNS_TEST_ADDR, 0);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	port = dns_server_port(ds);
	CU_ASSERT(port != 0);
	CU_ASSERT_EQUAL(dns_server_open(&(struct dns_server *){ NULL }, zone,
	    "not-an-ip", 0), -EINVAL);
	CU_ASSERT_EQUAL(dns_server_start(ds), 0);
	CU_ASSERT_EQUAL(dns_server_start(ds), -EALREADY);

	p = resolve(port, false, "gmail.com", LDNS_RR_TYPE_MX);
	CU_ASSERT_PTR_NOT_NULL(p);
	if (p != NULL) {
		CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 2);
		CU_ASSERT(ldns_pkt_aa(p));
		ldns_pkt_free(p);
	}
	p = resolve(port, true, "s1._domainkey.example.com",
	    LDNS_RR_TYPE_TXT);
	CU_ASSERT_PTR_NOT_NULL(p);
	if (p != NULL) {
		CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 1);
		ldns_pkt_free(p);
	}

	if (access("/usr/bin/dig", X_OK) == 0) {
		CU_ASSERT_EQUAL(dig(port, "TXT example.com", line,
		    sizeof(line)), 0);
		CU_ASSERT_STRING_EQUAL(line,
		    "\"v=spf1 ip4:127.0.10.0/24 -all\"\n");
		CU_ASSERT_EQUAL(dig(port, "+tcp MX gmail.com", line,
		    sizeof(line)), 0);
		CU_ASSERT(strcmp(line, "5 gmail-smtp-in.l.google.com.\n") == 0 ||
		    strcmp(line, "10 alt1.gmail-smtp-in.l.google.com.\n") == 0);
		/* dig retries a truncated UDP answer over TCP by itself */
		CU_ASSERT_EQUAL(dig(port, "+noedns TXT big.example.com", line,
		    sizeof(line)), 0);
		CU_ASSERT(strncmp(line, "\"filler-", 8) == 0);
	} else
		fprintf(stderr, "\n  NOT RUN: dig checks (install "
		    "bind9-dnsutils)\n");
	dns_server_stop(ds);
	st = dns_server_stats(ds);
	CU_ASSERT(st->queries >= 2);
	CU_ASSERT(st->tcp >= 1);
	CU_ASSERT_EQUAL(st->refused, 0);

	/* Caller-driven: poll once while a query waits. */
	{
		int udp, tcp, fd, n;
		struct sockaddr_in sin;
		uint8_t *wire = NULL, buf[512];
		size_t wlen;
		ldns_pkt *q;

		dns_server_fds(ds, &udp, &tcp);
		CU_ASSERT(udp >= 0 && tcp >= 0);
		q = ldns_pkt_query_new(ldns_dname_new_frm_str("example.com"),
		    LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0);
		CU_ASSERT_FATAL(ldns_pkt2wire(&wire, q, &wlen) ==
		    LDNS_STATUS_OK);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		inet_pton(AF_INET, DNS_TEST_ADDR, &sin.sin_addr);
		CU_ASSERT(sendto(fd, wire, wlen, 0, (struct sockaddr *)&sin,
		    sizeof(sin)) == (ssize_t)wlen);
		CU_ASSERT_EQUAL(dns_server_poll_once(ds, 1000), 1);
		n = (int)recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		CU_ASSERT(n > 12);
		close(fd);
		free(wire);
		ldns_pkt_free(q);
		CU_ASSERT_EQUAL(dns_server_poll_once(ds, 10), 0);
	}
	dns_server_close(ds);
}

int
test_dns_server_register(void)
{
	CU_pSuite s = CU_add_suite("dns_server", dns_init, dns_clean);

	if (s == NULL ||
	    CU_add_test(s, "answers", test_answers) == NULL ||
	    CU_add_test(s, "negative answers", test_negative) == NULL ||
	    CU_add_test(s, "errors and truncation", test_errors_tc) == NULL ||
	    CU_add_test(s, "server over UDP and TCP", test_server) == NULL)
		return -1;
	return 0;
}

#else /* !MXSIM_HAVE_AUTH */

int
test_dns_server_register(void)
{
	fprintf(stderr, "NOT RUN: suite dns_server (built without libspf2, "
	    "libopendkim, libopendmarc or ldns)\n");
	return 0;
}

#endif /* MXSIM_HAVE_AUTH */
