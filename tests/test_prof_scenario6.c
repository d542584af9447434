/*
 * Tests of the IPv6 parts of a scenario (prof_scenario6.c) and of the
 * world they fill (issue 16): IPv6 MX blocks beside IPv4 ones, IPv6
 * reverse DNS and blocklist entries, ipv6_prefix / ipv6_netblock,
 * recipients.ipv4_only, copies
 * of all of them in a cloned world, AAAA records of the MX hosts, and the
 * loader's errors for a block with host bits, too large or overlapping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "auth_zone.h"
#include "prof_load.h"
#include "prof_world.h"
#include "test_suites.h"

#define PDIR	MXSIM_PROFILES_DIR

static const char scn_ok[] =
    "ipv6_prefix: 56\n"
    "servers:\n"
    "  - profile: gmail\n"
    "    addresses: [\"2001:db8:16::/126\", 127.0.218.0/30]\n"
    "  - profile: generic\n"
    "    addresses: [\"::1\"]\n"
    "senders:\n"
    "  reverse_dns:\n"
    "    - {addresses: \"2001:db8:17::/64\", ptr: none}\n"
    "    - {addresses: \"2001:db8:18::/64\", ptr: mx.v6.example,\n"
    "       forward: mismatch}\n"
    "recipients:\n"
    "  ipv4_only: [\"*@V4only.example\"]\n"
    "blocklist: [127.0.66.0/24, \"2001:db8:66::/48\"]\n";

/* load - scenario text through a temporary file; NULL with @err filled */
static struct prof_world *
load(const char *text, struct prof_error *err)
{
	char path[] = "/tmp/mxsim-scn6-XXXXXX.yaml";
	struct prof_world *w;
	FILE *fp;
	int fd;

	fd = mkstemps(path, 5);
	CU_ASSERT_FATAL(fd >= 0);
	fp = fdopen(fd, "w");
	CU_ASSERT_FATAL(fp != NULL);
	fputs(text, fp);
	fclose(fp);
	w = prof_load_scenario(path, PDIR, err);
	unlink(path);
	return w;
}

/* check_world - what scn_ok declares (a loaded world or its clone) */
static void
check_world(const struct prof_world *w)
{
	const struct prof_rdns6 *rd;
	struct sim_addr6 a;

	CU_ASSERT_EQUAL(w->nblocks, 1);
	CU_ASSERT_EQUAL(w->nblocks6, 2);
	CU_ASSERT_EQUAL(w->ipv6_prefix, 56);
	CU_ASSERT_EQUAL(w->ipv6_netblock, PROF_IPV6_NETBLOCK_DEFAULT);
	CU_ASSERT_EQUAL(prof_world_naddrs(w), 4 + 4 + 1);
	a = test_a6("2001:db8:16::3");
	CU_ASSERT_EQUAL(prof_world_lookup6(w, &a), 0);
	a = test_a6("2001:db8:16::4");
	CU_ASSERT_EQUAL(prof_world_lookup6(w, &a), -1);
	a = test_a6("::1");
	CU_ASSERT_EQUAL(prof_world_lookup6(w, &a), 1);
	CU_ASSERT_EQUAL(prof_world_lookup(w, 0x7f00da02u), 0);
	a = test_a6("2001:db8:17::99");
	CU_ASSERT_EQUAL(prof_world_rdns6(w, &a, &rd), PROF_RDNS_NONE);
	a = test_a6("2001:db8:18::5");
	CU_ASSERT_EQUAL(prof_world_rdns6(w, &a, &rd), PROF_RDNS_MISMATCH);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	CU_ASSERT_STRING_EQUAL(rd->ptr, "mx.v6.example");
	a = test_a6("2001:db8:19::1");
	CU_ASSERT_EQUAL(prof_world_rdns6(w, &a, &rd), PROF_RDNS_VALID);
	CU_ASSERT_PTR_NULL(rd);
	a = test_a6("2001:db8:66:1::9");
	CU_ASSERT(prof_world_blocklisted6(w, &a));
	a = test_a6("2001:db8:67::9");
	CU_ASSERT(!prof_world_blocklisted6(w, &a));
	CU_ASSERT(prof_world_blocklisted(w, 0x7f004201u));
	CU_ASSERT(prof_world_ipv4_only(w, "bob@v4only.example"));
	CU_ASSERT(!prof_world_ipv4_only(w, "bob@gmail.com"));
}

/* a scenario with IPv6 blocks loads, and a clone keeps all of it */
static void
test_load_and_clone(void)
{
	struct prof_error err;
	struct prof_world *w, *c;
	char buf[1200];

	w = load(scn_ok, &err);
	if (w == NULL)
		fprintf(stderr, "\n  %s\n", prof_error_str(&err, buf,
		    sizeof(buf)));
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	check_world(w);
	c = prof_world_clone(w);
	prof_world_free(w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	check_world(c);
	prof_world_free(c);
}

/* MX hosts of a profile on an IPv6 block get AAAA records, on the
 * (j+1)-th address as the A records; the MX records name them */
static void
test_zone_aaaa(void)
{
	const struct auth_rr *rr[4];
	struct prof_error err;
	struct prof_world *w;
	struct auth_zone *z;

	w = load(scn_ok, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	z = auth_zone_create(300);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL_FATAL(prof_world_build_zone(w, z, NULL, NULL, NULL,
	    0), 0);
	CU_ASSERT_EQUAL(auth_zone_lookup(z, "gmail-smtp-in.l.google.com",
	    AUTH_RR_AAAA, rr, 4), 1);
	CU_ASSERT_STRING_EQUAL(rr[0]->data, "2001:db8:16::1");
	CU_ASSERT_EQUAL(rr[0]->addr6[15], 1);
	CU_ASSERT_EQUAL(auth_zone_lookup(z, "alt2.gmail-smtp-in.l.google.com",
	    AUTH_RR_AAAA, rr, 4), 1);
	CU_ASSERT_STRING_EQUAL(rr[0]->data, "2001:db8:16::3");
	CU_ASSERT_EQUAL(auth_zone_lookup(z, "gmail-smtp-in.l.google.com",
	    AUTH_RR_A, rr, 4), 1);
	CU_ASSERT_STRING_EQUAL(rr[0]->data, "127.0.218.1");
	CU_ASSERT(auth_zone_lookup(z, "gmail.com", AUTH_RR_MX, rr, 4) >= 3);
	auth_zone_free(z);
	prof_world_free(w);
}

/* each bad IPv6 scenario is refused naming the reason */
static void
test_errors(void)
{
	static const struct {
		const char	*text;
		const char	*phrase;
	} bad[] = {
		{ "servers:\n  - {profile: generic, addresses: "
		    "[\"2001:db8::1/64\"]}\n", "has host bits set (the block "
		    "starts at 2001:db8::/64)" },
		{ "servers:\n  - {profile: generic, addresses: "
		    "[\"2001:db8::/100\"]}\n", "is too large" },
		{ "servers:\n  - {profile: generic, addresses: "
		    "[\"2001:db8::/120\"]}\n  - {profile: sink, addresses: "
		    "[\"2001:db8::80/121\"]}\n", "overlaps 2001:db8::/120" },
		{ "servers:\n  - {profile: generic, addresses: "
		    "[\"2001:db8::g\"]}\n", "expected an IPv6 address" },
		{ "ipv6_prefix: 0\nservers:\n  - {profile: generic, "
		    "addresses: [\"::1\"]}\n", "expected an integer 1..128" },
		{ "servers:\n  - {profile: generic, addresses: [\"::1\"]}\n"
		    "senders:\n  reverse_dns:\n    - {addresses: "
		    "\"2001:db8::/48\", ptr: none}\n    - {addresses: "
		    "\"2001:db8:0:1::/64\", ptr: none}\n",
		    "overlaps an earlier reverse_dns block" },
	};
	struct prof_error err;
	struct prof_world *w;
	char buf[1200];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		w = load(bad[i].text, &err);
		CU_ASSERT_PTR_NULL(w);
		prof_world_free(w);
		if (w == NULL && strstr(err.msg, bad[i].phrase) == NULL)
			fprintf(stderr, "\n  case %zu: %s\n", i,
			    prof_error_str(&err, buf, sizeof(buf)));
		CU_ASSERT(w == NULL && strstr(err.msg, bad[i].phrase) != NULL);
	}
}

int
test_prof_scenario6_register(void)
{
	CU_pSuite s = CU_add_suite("prof_scenario6", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "load and clone", test_load_and_clone) == NULL ||
	    CU_add_test(s, "AAAA of the MX hosts", test_zone_aaaa) == NULL ||
	    CU_add_test(s, "errors", test_errors) == NULL)
		return -1;
	return 0;
}
