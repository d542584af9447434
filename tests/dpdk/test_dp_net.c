/*
 * DESCRIPTION
 *	Tier-1 tests of the lcore's L2/L3: ARP replies for MX addresses
 *	only, ICMP echo, IPv4 validation, fragments and bad checksums
 *	dropped and counted, frames for other MACs or addresses ignored.
 *	Frames are built by hand and go through the ring port.
 */
#include <string.h>

#include <CUnit/CUnit.h>
#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "dp_test_helper.h"
#include "test_dpdk_suites.h"

static struct dpt T;	/* the fixture of the running test */

/* net_setup - fresh lcore */
static void
net_setup(void)
{
	CU_ASSERT_FATAL(dpt_setup(&T, 64, 0) == 0);
}

/* net_teardown - nothing leaked from the lcore's pool */
static void
net_teardown(void)
{
	dpt_teardown(&T);
	CU_ASSERT_EQUAL(dpt_pool_in_use(), 0);
}

/* arp_request - inject who-has @p tip */
static void
arp_request(uint32_t tip)
{
	uint8_t f[64];
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);

	memset(f, 0, sizeof(f));
	memset(eh->dst_addr.addr_bytes, 0xff, 6);
	eh->src_addr = T.client_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	ah->arp_data.arp_sha = T.client_mac;
	ah->arp_data.arp_sip = rte_cpu_to_be_32(DPT_CLIENT_IP);
	ah->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	dpt_inject(&T, f, 60);
}

/* test_arp_mx - who-has an MX address gets our MAC */
static void
test_arp_mx(void)
{
	struct dpt_frame f;
	uint32_t tips[] = { DPT_GMAIL_MX, 0xc6120200u, 0xc61204ffu,
	    DPT_SINK_MX };
	size_t i;

	for (i = 0; i < sizeof(tips) / sizeof(tips[0]); i++) {
		arp_request(tips[i]);
		dpt_poll(&T, 0);
		CU_ASSERT_FATAL(dpt_recv(&T, &f) == 0);
		CU_ASSERT_EQUAL(f.ethertype, RTE_ETHER_TYPE_ARP);
		CU_ASSERT_EQUAL(f.arp_op, RTE_ARP_OP_REPLY);
		CU_ASSERT_EQUAL(f.arp_sip, tips[i]);
		CU_ASSERT_EQUAL(f.arp_tip, DPT_CLIENT_IP);
		CU_ASSERT(rte_is_same_ether_addr(&f.arp_sha, &T.port_mac));
		CU_ASSERT(rte_is_same_ether_addr(&f.src, &T.port_mac));
		CU_ASSERT(rte_is_same_ether_addr(&f.dst, &T.client_mac));
	}
	CU_ASSERT_EQUAL(dp_lcore_counters(T.lc)->arp_replies, 4);
}

/* test_arp_outside - who-has for other addresses is ignored */
static void
test_arp_outside(void)
{
	struct dpt_frame f;

	arp_request(DPT_OUTSIDE_IP);
	arp_request(DPT_CLIENT_IP);
	arp_request(0xc6120502u);	/* beside the sink's /32 */
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(dpt_recv(&T, &f), -1);
	CU_ASSERT_EQUAL(dp_lcore_counters(T.lc)->arp_ignored, 3);
}

/* icmp_frame - build an echo request to @p dip into @p f */
static uint32_t
icmp_frame(uint8_t *f, uint32_t dip, uint16_t frag)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);
	uint32_t len = sizeof(*ic) + 8;

	memset(f, 0, 128);
	eh->dst_addr = T.port_mac;
	eh->src_addr = T.client_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + len));
	ip->fragment_offset = rte_cpu_to_be_16(frag);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = rte_cpu_to_be_32(DPT_CLIENT_IP);
	ip->dst_addr = rte_cpu_to_be_32(dip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_ident = rte_cpu_to_be_16(0x1234);
	ic->icmp_seq_nb = rte_cpu_to_be_16(7);
	memcpy(ic + 1, "pingpong", 8);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, len);
	return (uint32_t)(sizeof(*eh) + sizeof(*ip) + len);
}

/* test_icmp_echo - echo request to an MX address is answered */
static void
test_icmp_echo(void)
{
	struct dpt_frame f;
	uint8_t buf[128];

	dpt_inject(&T, buf, icmp_frame(buf, DPT_GMAIL_MX, 0));
	dpt_poll(&T, 0);
	CU_ASSERT_FATAL(dpt_recv(&T, &f) == 0);
	CU_ASSERT_EQUAL(f.proto, IPPROTO_ICMP);
	CU_ASSERT_EQUAL(f.icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	CU_ASSERT_EQUAL(f.sip, DPT_GMAIL_MX);
	CU_ASSERT_EQUAL(f.dip, DPT_CLIENT_IP);
	CU_ASSERT_EQUAL(f.icmp_id, 0x1234);
	CU_ASSERT_EQUAL(f.icmp_seq, 7);
	CU_ASSERT_EQUAL(f.len, 8);
	CU_ASSERT(memcmp(f.data, "pingpong", 8) == 0);
	CU_ASSERT(f.csum_ok);
	CU_ASSERT(rte_is_same_ether_addr(&f.dst, &T.client_mac));
	/* to an address outside the ranges: nothing */
	dpt_inject(&T, buf, icmp_frame(buf, DPT_OUTSIDE_IP, 0));
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(dpt_recv(&T, &f), -1);
	CU_ASSERT_EQUAL(dp_lcore_counters(T.lc)->not_ours, 1);
}

/* test_fragments - first, middle and last fragments are dropped */
static void
test_fragments(void)
{
	struct dpt_frame f;
	uint8_t buf[128];

	dpt_inject(&T, buf, icmp_frame(buf, DPT_GMAIL_MX,
	    RTE_IPV4_HDR_MF_FLAG));
	dpt_inject(&T, buf, icmp_frame(buf, DPT_GMAIL_MX,
	    RTE_IPV4_HDR_MF_FLAG | 100));
	dpt_inject(&T, buf, icmp_frame(buf, DPT_GMAIL_MX, 200));
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(dpt_recv(&T, &f), -1);
	CU_ASSERT_EQUAL(dp_lcore_counters(T.lc)->ip_frag, 3);
	/* DF alone is no fragment */
	dpt_inject(&T, buf, icmp_frame(buf, DPT_GMAIL_MX,
	    RTE_IPV4_HDR_DF_FLAG));
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(dpt_recv(&T, &f), 0);
}

/* test_bad_checksums - IPv4, ICMP and TCP checksums are verified */
static void
test_bad_checksums(void)
{
	struct dpt_frame f;
	uint8_t buf[128], big[2048];
	uint32_t len;

	len = icmp_frame(buf, DPT_GMAIL_MX, 0);
	buf[sizeof(struct rte_ether_hdr) + 10] ^= 0x40;	/* ip cksum */
	dpt_inject(&T, buf, len);
	len = icmp_frame(buf, DPT_GMAIL_MX, 0);
	buf[len - 1] ^= 0x01;				/* icmp data */
	dpt_inject(&T, buf, len);
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(dpt_recv(&T, &f), -1);
	CU_ASSERT_EQUAL(dp_lcore_counters(T.lc)->csum_bad, 2);
	/* a SYN whose TCP checksum is wrong gets no SYN-ACK */
	len = dpt_tcp_build(&T, big, DPT_CLIENT_IP, 40000, DPT_GMAIL_MX, 25, 1,
	    0, 0x02, 1000, NULL, 0, 1460);
	big[len - 1] ^= 0x10;				/* MSS option */
	dpt_inject(&T, big, len);
	dpt_tcp(&T, DPT_CLIENT_IP, 40001, DPT_GMAIL_MX, 25, 1, 0, 0x02, 1000,
	    NULL, 0, 1460);
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(dpt_recv(&T, &f), 0);		/* the good one */
	CU_ASSERT_EQUAL(f.flags, 0x12);
	CU_ASSERT_EQUAL(f.dport, 40001);
	CU_ASSERT_EQUAL(dpt_recv(&T, &f), -1);
	CU_ASSERT_EQUAL(dp_lcore_counters(T.lc)->csum_bad, 3);
}

/* test_bad_ip - short header, wrong version, length beyond frame */
static void
test_bad_ip(void)
{
	struct dpt_frame f;
	uint8_t buf[128];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf +
	    sizeof(struct rte_ether_hdr));
	uint32_t len;

	len = icmp_frame(buf, DPT_GMAIL_MX, 0);
	ip->version_ihl = 0x44;			/* ihl 16 bytes */
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	dpt_inject(&T, buf, len);
	len = icmp_frame(buf, DPT_GMAIL_MX, 0);
	ip->version_ihl = 0x65;			/* version 6 */
	dpt_inject(&T, buf, len);
	len = icmp_frame(buf, DPT_GMAIL_MX, 0);
	ip->total_length = rte_cpu_to_be_16(1000);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	dpt_inject(&T, buf, len);
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(dpt_recv(&T, &f), -1);
	CU_ASSERT_EQUAL(dp_lcore_counters(T.lc)->ip_bad, 3);
}

/* test_other_frames - other MACs and protocols are ignored, counted */
static void
test_other_frames(void)
{
	struct dpt_frame f;
	uint8_t buf[128];
	uint32_t len;

	len = icmp_frame(buf, DPT_GMAIL_MX, 0);
	buf[0] ^= 0x02;				/* another MAC */
	dpt_inject(&T, buf, len);
	len = icmp_frame(buf, DPT_GMAIL_MX, 0);
	buf[12] = 0x86;				/* IPv6 ethertype */
	buf[13] = 0xdd;
	dpt_inject(&T, buf, len);
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(dpt_recv(&T, &f), -1);
	CU_ASSERT_EQUAL(dp_lcore_counters(T.lc)->not_ours, 1);
	CU_ASSERT_EQUAL(dp_lcore_counters(T.lc)->other, 1);
	CU_ASSERT_EQUAL(dp_lcore_counters(T.lc)->rx, 2);
}

/* test_dp_net_register - the suite */
int
test_dp_net_register(void)
{
	CU_pSuite s;

	s = CU_add_suite_with_setup_and_teardown("dp_net", NULL, NULL,
	    net_setup, net_teardown);
	if (s == NULL ||
	    CU_add_test(s, "ARP for MX addresses", test_arp_mx) == NULL ||
	    CU_add_test(s, "ARP for others ignored", test_arp_outside) ==
	    NULL ||
	    CU_add_test(s, "ICMP echo", test_icmp_echo) == NULL ||
	    CU_add_test(s, "fragments dropped", test_fragments) == NULL ||
	    CU_add_test(s, "bad checksums dropped", test_bad_checksums) ==
	    NULL ||
	    CU_add_test(s, "bad IPv4 dropped", test_bad_ip) == NULL ||
	    CU_add_test(s, "other frames ignored", test_other_frames) == NULL)
		return -1;
	return 0;
}
