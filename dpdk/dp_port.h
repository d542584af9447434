/*
 * @file dp_port.h
 * Configuring one ethdev port for the backend: one RX/TX queue pair per
 * packet lcore, RSS on the TCP 4-tuple when the port has several queues
 * and supports it, checksum offloads when offered, promiscuous mode, then
 * start.  Internal to dpdk/ and its tests.
 */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#define DP_RX_DESC	1024
#define DP_TX_DESC	1024

/* What the port turned out to offer. */
struct dp_port_info {
	struct rte_ether_addr mac;
	uint16_t	 nq;		/* queue pairs configured */
	uint16_t	 mtu;
	bool		 rss;		/* RSS on TCP/IPv4 enabled */
	bool		 rx_csum;	/* RX IPv4+TCP checksum offload */
	bool		 tx_csum;	/* TX IPv4+TCP checksum offload */
	char		 driver[64];
};

/**
 * Configure and start @p port with @p nq queue pairs; queue i takes its
 * RX buffers from @p pools[i].  Fewer queues are configured when the port
 * has fewer (info->nq says how many).
 * @param err  message on failure.
 * @return 0, or -errno (-EINVAL bad port, or the ethdev call's error).
 */
int dp_port_setup(uint16_t port, uint16_t nq, struct rte_mempool **pools,
    struct dp_port_info *info, char *err, size_t errlen);

/** Stop and close the port. */
void dp_port_close(uint16_t port);

#endif /* DP_PORT_H */
