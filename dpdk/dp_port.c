/*
 * DESCRIPTION
 *	Port setup for the DPDK backend: queue count bounded by what the
 *	device offers, RSS (IPv4 and TCP/IPv4 hash types the device knows)
 *	when more than one queue pair is used, IPv4+TCP checksum offloads in
 *	each direction only when the device has both, descriptor counts
 *	adjusted to the device's limits, promiscuous mode (a failure to set
 *	it is not fatal: the port's own MAC still arrives).
 *
 * DIAGNOSTICS
 *	Every failing ethdev call is reported with its name, the port and
 *	the error text.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dp_port.h"

/* dp_port_setup - configure, set up queues, start */
int
dp_port_setup(uint16_t port, uint16_t nq, struct rte_mempool **pools,
    struct dp_port_info *info, char *err, size_t errlen)
{
	struct rte_eth_dev_info di;
	struct rte_eth_conf pc;
	struct rte_eth_txconf txc;
	uint16_t q, nrx = DP_RX_DESC, ntx = DP_TX_DESC, mtu = 1500;
	uint64_t want;
	const char *what;
	int rc;

	memset(info, 0, sizeof(*info));
	if (!rte_eth_dev_is_valid_port(port) || nq == 0) {
		snprintf(err, errlen, "port %u: no such port", port);
		return -EINVAL;
	}
	if ((rc = rte_eth_dev_info_get(port, &di)) != 0) {
		what = "rte_eth_dev_info_get";
		goto fail;
	}
	snprintf(info->driver, sizeof(info->driver), "%s",
	    di.driver_name != NULL ? di.driver_name : "?");
	if (nq > di.max_rx_queues)
		nq = di.max_rx_queues;
	if (nq > di.max_tx_queues)
		nq = di.max_tx_queues;
	if (nq == 0)
		nq = 1;
	memset(&pc, 0, sizeof(pc));
	want = (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP) &
	    di.flow_type_rss_offloads;
	if (nq > 1 && (want & RTE_ETH_RSS_NONFRAG_IPV4_TCP)) {
		pc.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		pc.rx_adv_conf.rss_conf.rss_key = NULL;	/* driver default */
		pc.rx_adv_conf.rss_conf.rss_hf = want;
		info->rss = true;
	}
	want = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	if ((di.rx_offload_capa & want) == want) {
		pc.rxmode.offloads |= want;
		info->rx_csum = true;
	}
	want = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	if ((di.tx_offload_capa & want) == want) {
		pc.txmode.offloads |= want;
		info->tx_csum = true;
	}
	if ((rc = rte_eth_dev_configure(port, nq, nq, &pc)) != 0) {
		what = "rte_eth_dev_configure";
		goto fail;
	}
	if ((rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx)) != 0) {
		what = "rte_eth_dev_adjust_nb_rx_tx_desc";
		goto fail;
	}
	txc = di.default_txconf;
	txc.offloads = pc.txmode.offloads;
	for (q = 0; q < nq; q++) {
		if ((rc = rte_eth_rx_queue_setup(port, q, nrx,
		    rte_eth_dev_socket_id(port), NULL, pools[q])) != 0) {
			what = "rte_eth_rx_queue_setup";
			goto fail;
		}
		if ((rc = rte_eth_tx_queue_setup(port, q, ntx,
		    rte_eth_dev_socket_id(port), &txc)) != 0) {
			what = "rte_eth_tx_queue_setup";
			goto fail;
		}
	}
	if ((rc = rte_eth_dev_start(port)) != 0) {
		what = "rte_eth_dev_start";
		goto fail;
	}
	rte_eth_promiscuous_enable(port);
	if ((rc = rte_eth_macaddr_get(port, &info->mac)) != 0) {
		what = "rte_eth_macaddr_get";
		goto fail;
	}
	if (rte_eth_dev_get_mtu(port, &mtu) != 0 || mtu < 576)
		mtu = 1500;
	info->mtu = mtu;
	info->nq = nq;
	return 0;
fail:
	snprintf(err, errlen, "port %u: %s: %s", port, what,
	    strerror(rc < 0 ? -rc : rc));
	return rc < 0 ? rc : -rc;
}

/* dp_port_close - stop and close */
void
dp_port_close(uint16_t port)
{
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
}
