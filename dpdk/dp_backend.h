/*
 * @file dp_backend.h
 * The DPDK kernel-bypass backend: the same SMTP sessions, policy, event
 * log and counters as the socket backend (ev_server.h), over a DPDK port
 * and our own minimal TCP (utcp.h).  Every MX address of the scenario is
 * answered on one port: ARP, ICMP echo and TCP on the scenario's port.
 *
 * It is a struct nb_backend (nb_backend.h), like the socket backend
 * (ev_server.h), so that mxsim, the control API and /metrics use either:
 *
 *   b = dp_backend_new(&conf, eal_argc, eal_argv, err, sizeof(err));
 *   ... start the monitor thread, write the ready file ...
 *   nb_run(b);                     blocks until stopped and drained
 *   nb_stats(b, total);            merged sim_stats of every lcore
 *   nb_summary(b, out, stderr);    pipeline counters (packets, drops)
 *   nb_free(b);
 *
 * Its workers are the packet lcores (lcores with a queue pair); each
 * switches to a world published with nb_publish() at its next poll-loop
 * iteration (one atomic load per iteration, no lock).  ARP and IPv4
 * lookups keep using conf->nb.world.
 *
 * EAL: dp_backend_new() calls rte_eal_init() with the caller's EAL
 * arguments (argv[0] is the program name), so it may be called once per
 * process; nb_free() calls rte_eal_cleanup().  Every lcore of the
 * EAL core list, the main one included, polls one queue pair of the first
 * port (or conf->port).  The calling thread is pinned to the main lcore
 * by EAL; threads it creates afterwards inherit that CPU set.
 */
#ifndef DP_BACKEND_H
#define DP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nb_backend.h"

struct dp_backend_conf {
	struct nb_conf	 nb;		/* what every backend is given;
					 * max_conns: TCP connections per
					 * lcore */
	uint16_t	 port;		/* ethdev port id (0 = first) */
	unsigned	 mbufs;		/* mbufs per lcore; 0 = 8191 */
	unsigned	 time_wait_ms;	/* 0 = utcp default (1 s) */
	unsigned	 idle_sleep_us;	/* sleep this long after 1024 empty
					 * polls; 0 = pure busy polling */
};

/**
 * Start EAL, configure and start the port, set up every lcore.
 * @param eal_argc  EAL arguments, argv[0] first (e.g. "mxsim", "-l",
 *                  "0", "--no-huge", "--vdev=net_tap0,iface=dtap0").
 * @param err       message on failure (EAL, port or memory).
 * @return the backend, or NULL.  nb_free() stops the port, frees
 *         everything and calls rte_eal_cleanup().
 */
struct nb_backend *dp_backend_new(const struct dp_backend_conf *conf,
    int eal_argc, char **eal_argv, char *err, size_t errlen);

#endif /* DP_BACKEND_H */
