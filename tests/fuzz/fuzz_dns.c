/*
 * DESCRIPTION
 *	libFuzzer harness for the DNS server's query handling
 *	(dns_server_answer(): ldns parsing, zone lookup, answer rendering
 *	and truncation).  The zone is built once from fuzz_dns.yaml through
 *	prof_world_build_zone(), as mxsim builds it.  Input layout:
 *	  byte 0: transport: bit 0 set is TCP (no size limit), clear is UDP
 *	          (512 bytes, or the query's EDNS size);
 *	  rest:   the query's wire bytes.
 *
 *	Invariants checked (abort on violation):
 *	- an answer is never longer than the output buffer, nor than the
 *	  UDP limit (DNS_EDNS_MAX, 1232, with EDNS; 512 without) over UDP;
 *	- an answer is at least a header, echoes the query's id, has QR set
 *	  and RA clear;
 *	- an answer with TC has empty answer, authority and additional
 *	  sections; only UDP answers are truncated;
 *	- every answer ldns can render parses back (ldns_wire2pkt);
 *	- the counters add up: one query counted per call, and one outcome
 *	  (answer, nodata, nxdomain, refused, error) at most.
 *
 * DIAGNOSTICS
 *	Aborts (so libFuzzer keeps the input) on any invariant violation,
 *	and at start-up when fuzz_dns.yaml does not load or its zone cannot
 *	be built.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#ifdef MXSIM_HAVE_AUTH
#include <ldns/ldns.h>

#include "auth_dkim.h"
#include "auth_zone.h"
#include "dns_server.h"
#include "prof_load.h"
#include "prof_world.h"

#define FZ_OUT_MAX	65535	/* a TCP answer's bound */
#define FZ_UDP_MAX	1232	/* dns_server.h: largest EDNS answer */

static struct prof_world *fz_world;
static struct auth_zone *fz_zone;
static uint8_t fz_out[FZ_OUT_MAX];

/* fz_check_answer - the invariants of one rendered answer */
static void
fz_check_answer(const uint8_t *q, size_t qlen, const uint8_t *a, size_t alen,
    bool tcp)
{
	ldns_pkt *p = NULL;

	FUZZ_CHECK(alen >= 12, "answer of %zu bytes", alen);
	FUZZ_CHECK(tcp || alen <= FZ_UDP_MAX, "UDP answer of %zu bytes",
	    alen);
	FUZZ_CHECK(qlen >= 2 && a[0] == q[0] && a[1] == q[1],
	    "id %02x%02x answered as %02x%02x", q[0], q[1], a[0], a[1]);
	FUZZ_CHECK((a[2] & 0x80) != 0, "QR clear (flags %02x)", a[2]);
	FUZZ_CHECK((a[3] & 0x80) == 0, "RA set (flags %02x)", a[3]);
	if ((a[2] & 0x02) != 0) {
		FUZZ_CHECK(!tcp, "TC over TCP (%zu bytes)", alen);
		FUZZ_CHECK(a[6] == 0 && a[7] == 0 && a[8] == 0 &&
		    a[9] == 0, "TC answer with records");
	}
	if (alen == 12)
		return;		/* header-only error answer */
	FUZZ_CHECK(ldns_wire2pkt(&p, a, alen) == LDNS_STATUS_OK,
	    "answer of %zu bytes does not parse", alen);
	ldns_pkt_free(p);
}

/* LLVMFuzzerInitialize - load the scenario and build its zone once */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct prof_error err;
	char buf[1200], why[256];
	int rc;

	(void)argc;
	(void)argv;
	fz_world = prof_load_scenario(FUZZ_DIR "/fuzz_dns.yaml",
	    MXSIM_PROFILES_DIR, &err);
	if (fz_world == NULL) {
		fprintf(stderr, "fuzz_dns: %s\n",
		    prof_error_str(&err, buf, sizeof(buf)));
		abort();
	}
	fz_zone = auth_zone_create(300);
	why[0] = '\0';
	if (fz_zone == NULL || (rc = prof_world_build_zone(fz_world, fz_zone,
	    auth_dkim_keygen, auth_dkim_pubkey, why, sizeof(why))) != 0) {
		fprintf(stderr, "fuzz_dns: zone: %s\n", why);
		abort();
	}
	return 0;
}

/* LLVMFuzzerTestOneInput - one query, one answer */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_server_stats st;
	uint64_t outcomes;
	size_t alen;
	bool tcp;

	if (size < 1)
		return 0;
	tcp = (data[0] & 1) != 0;
	memset(&st, 0, sizeof(st));
	alen = dns_server_answer(fz_zone, data + 1, size - 1, fz_out,
	    sizeof(fz_out), tcp ? 0 : 512, &st);
	FUZZ_CHECK(alen <= sizeof(fz_out), "answer of %zu bytes", alen);
	FUZZ_CHECK(st.queries == 1, "%llu queries counted",
	    (unsigned long long)st.queries);
	outcomes = st.answers + st.nodata + st.nxdomain + st.refused +
	    st.errors;
	FUZZ_CHECK(outcomes <= 1, "%llu outcomes counted",
	    (unsigned long long)outcomes);
	FUZZ_CHECK(tcp ? st.truncated == 0 : st.truncated <= 1,
	    "%llu truncations", (unsigned long long)st.truncated);
	if (alen > 0)
		fz_check_answer(data + 1, size - 1, fz_out, alen, tcp);
	return 0;
}
#else /* !MXSIM_HAVE_AUTH */
/* LLVMFuzzerInitialize - no DNS server in this build: say so, fail */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_CHECK(0, "built without the authentication libraries (ldns)");
	return 0;
}

/* LLVMFuzzerTestOneInput - never reached */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}
#endif /* MXSIM_HAVE_AUTH */
