/*
 * Tests of sim_addr: parsing IPv4 and IPv6 with and without a prefix,
 * masks, containment, host bits, addition with carry, canonical text and
 * the identity keys IPv6 clients are counted under (issue 16).
 */
#include <errno.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "sim_addr.h"
#include "test_suites.h"

/* test_a6 - parse an IPv6 address the test knows is valid */
struct sim_addr6
test_a6(const char *s)
{
	struct sim_addr6 a;
	unsigned pfx;
	uint32_t v4;
	bool v6;

	memset(&a, 0, sizeof(a));
	CU_ASSERT_FATAL(sim_addr_parse(s, &v6, &v4, &a, &pfx) == 0 && v6);
	return a;
}

/* both families, prefixes, and what is refused */
static void
test_parse(void)
{
	struct sim_addr6 a;
	char t[SIM_ADDR_TEXT_MAX];
	unsigned pfx;
	uint32_t v4 = 0;
	bool v6;

	CU_ASSERT_EQUAL(sim_addr_parse("127.0.10.1", &v6, &v4, &a, &pfx), 0);
	CU_ASSERT(!v6 && v4 == 0x7f000a01u && pfx == 32);
	CU_ASSERT_EQUAL(sim_addr_parse("10.0.0.0/8", &v6, &v4, &a, &pfx), 0);
	CU_ASSERT(!v6 && v4 == 0x0a000000u && pfx == 8);
	CU_ASSERT_EQUAL(sim_addr_parse("::1", &v6, &v4, &a, &pfx), 0);
	CU_ASSERT(v6 && pfx == 128 && a.b[15] == 1 && a.b[0] == 0);
	CU_ASSERT_EQUAL(sim_addr_parse("2001:DB8::/32", &v6, &v4, &a, &pfx), 0);
	CU_ASSERT(v6 && pfx == 32);
	CU_ASSERT_STRING_EQUAL(sim_addr6_fmt(&a, t, sizeof(t)), "2001:db8::");
	CU_ASSERT_EQUAL(sim_addr_parse("::ffff:192.0.2.1/128", &v6, &v4, &a,
	    &pfx), 0);
	CU_ASSERT(v6 && a.b[10] == 0xff && a.b[12] == 192);
	CU_ASSERT_EQUAL(sim_addr_parse("2001:db8::/129", &v6, &v4, &a, &pfx),
	    -EINVAL);
	CU_ASSERT_EQUAL(sim_addr_parse("10.0.0.0/33", &v6, &v4, &a, &pfx),
	    -EINVAL);
	CU_ASSERT_EQUAL(sim_addr_parse("2001:db8::/", &v6, &v4, &a, &pfx),
	    -EINVAL);
	CU_ASSERT_EQUAL(sim_addr_parse("2001:db8:::1", &v6, &v4, &a, &pfx),
	    -EINVAL);
	CU_ASSERT_EQUAL(sim_addr_parse("2001:db8::1/64x", &v6, &v4, &a,
	    &pfx), -EINVAL);
	CU_ASSERT_EQUAL(sim_addr_parse("1:2:3:4:5:6:7:8:9:a:b:c:d:e:f:1:2:3:4:5"
	    ":6:7:8:9", &v6, &v4, &a, &pfx), -EINVAL);
}

/* masks at byte and bit boundaries, containment, host bits */
static void
test_mask_in(void)
{
	struct sim_addr6 a = test_a6("2001:db8:1:2:3:4:5:6"), n;
	char t[SIM_ADDR_TEXT_MAX];

	n = a;
	sim_addr6_mask(&n, 64);
	CU_ASSERT_STRING_EQUAL(sim_addr6_fmt(&n, t, sizeof(t)),
	    "2001:db8:1:2::");
	n = test_a6("2001:db8:ffff::1");
	sim_addr6_mask(&n, 36);		/* inside a byte: the high nibble */
	CU_ASSERT_STRING_EQUAL(sim_addr6_fmt(&n, t, sizeof(t)),
	    "2001:db8:f000::");
	n = a;
	sim_addr6_mask(&n, 0);
	CU_ASSERT_STRING_EQUAL(sim_addr6_fmt(&n, t, sizeof(t)), "::");
	n = test_a6("2001:db8:1:2::");
	CU_ASSERT(sim_addr6_in(&a, &n, 64));
	CU_ASSERT(sim_addr6_in(&a, &n, 78));	/* :3: is 0x0003 */
	CU_ASSERT(!sim_addr6_in(&a, &n, 79));
	CU_ASSERT(!sim_addr6_in(&a, &n, 128));
	n = test_a6("2001:db8:1:3::");
	CU_ASSERT(!sim_addr6_in(&a, &n, 64));
	CU_ASSERT(sim_addr6_in(&a, &n, 46));	/* :2 and :3 differ in bit 63 */
	CU_ASSERT(sim_addr6_host_bits(&a, 64));
	CU_ASSERT(!sim_addr6_host_bits(&n, 64));
	CU_ASSERT(!sim_addr6_host_bits(&a, 128));
}

/* addition carries across bytes and the 64-bit middle */
static void
test_add(void)
{
	struct sim_addr6 a = test_a6("2001:db8::ff");
	char t[SIM_ADDR_TEXT_MAX];

	sim_addr6_add(&a, 1);
	CU_ASSERT_STRING_EQUAL(sim_addr6_fmt(&a, t, sizeof(t)),
	    "2001:db8::100");
	a = test_a6("2001:db8:0:1:ffff:ffff:ffff:ffff");
	sim_addr6_add(&a, 2);
	CU_ASSERT_STRING_EQUAL(sim_addr6_fmt(&a, t, sizeof(t)),
	    "2001:db8:0:2::1");
}

/* keys: one text per network, whatever the host part */
static void
test_key(void)
{
	struct sim_addr6 a = test_a6("2001:db8:16:1::a"), b = test_a6("2001:db8:16:1::b");
	struct sim_addr6 c = test_a6("2001:db8:16:2::1");
	char ka[SIM_ADDR_TEXT_MAX], kb[SIM_ADDR_TEXT_MAX], kc[SIM_ADDR_TEXT_MAX];

	CU_ASSERT_STRING_EQUAL(sim_addr6_key(&a, 64, ka, sizeof(ka)),
	    "2001:db8:16:1::/64");
	CU_ASSERT_STRING_EQUAL(sim_addr6_key(&b, 64, kb, sizeof(kb)), ka);
	CU_ASSERT_STRING_NOT_EQUAL(sim_addr6_key(&c, 64, kc, sizeof(kc)), ka);
	CU_ASSERT_STRING_EQUAL(sim_addr6_key(&c, 48, kc, sizeof(kc)),
	    "2001:db8:16::/48");
	CU_ASSERT_STRING_EQUAL(sim_addr6_key(&a, 48, ka, sizeof(ka)), kc);
	CU_ASSERT_STRING_EQUAL(sim_addr6_key(&a, 128, ka, sizeof(ka)),
	    "2001:db8:16:1::a/128");
	CU_ASSERT_STRING_EQUAL(sim_addr6_key(&a, 200, kb, sizeof(kb)), ka);
	/* the longest text fits SIM_ADDR_TEXT_MAX */
	a = test_a6("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	CU_ASSERT(strlen(sim_addr6_key(&a, 128, ka, sizeof(ka))) <
	    SIM_ADDR_TEXT_MAX - 1);
	CU_ASSERT_STRING_EQUAL(ka,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

int
test_sim_addr_register(void)
{
	CU_pSuite s = CU_add_suite("sim_addr", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "parse", test_parse) == NULL ||
	    CU_add_test(s, "mask and containment", test_mask_in) == NULL ||
	    CU_add_test(s, "addition", test_add) == NULL ||
	    CU_add_test(s, "identity keys", test_key) == NULL)
		return -1;
	return 0;
}
