/*
 * @file dp_backend.h
 * The DPDK kernel-bypass backend: the same SMTP sessions, policy, event
 * log and counters as the socket backend (ev_server.h), over a DPDK port
 * and our own minimal TCP (utcp.h).  Every MX address of the scenario is
 * answered on one port: ARP, ICMP echo and TCP on the scenario's port.
 *
 * The shape follows ev_server.h so that mxsim can pick either:
 *
 *   be = dp_backend_new(&conf, eal_argc, eal_argv, err, sizeof(err));
 *   ... start the monitor thread, write the ready file ...
 *   dp_backend_run(be);            blocks until stopped and drained
 *   dp_backend_stats(be, total);   merged sim_stats of every lcore
 *   dp_backend_print(be, stderr);  pipeline counters (packets, drops)
 *   dp_backend_free(be);
 *
 * dp_backend_stop() may be called from any thread or a signal handler;
 * dp_backend_publish_world(), dp_backend_stats(), dp_backend_open_conns()
 * and dp_backend_lcore_load() from any thread while it runs (the control
 * API does).
 *
 * EAL: dp_backend_new() calls rte_eal_init() with the caller's EAL
 * arguments (argv[0] is the program name), so it may be called once per
 * process; dp_backend_free() calls rte_eal_cleanup().  Every lcore of the
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

#include "prof_world.h"
#include "sim_clock.h"
#include "sim_evlog.h"
#include "sim_state.h"
#include "sim_stats.h"

struct dp_backend_conf {
	const struct prof_world *world;	/* MX ranges, port, seed, timeouts */
	struct sim_state *state;
	const struct sim_clock *clock;
	struct sim_evlog *evlog;	/* NULL = no event log */
	struct sim_pm	*pm;		/* Postmaster view (sim_pm.h), or NULL */
	uint16_t	 port;		/* ethdev port id (0 = first) */
	unsigned	 max_conns;	/* TCP connections per lcore (>= 1) */
	unsigned	 mbufs;		/* mbufs per lcore; 0 = 8191 */
	unsigned	 time_wait_ms;	/* 0 = utcp default (1 s) */
	unsigned	 grace_s;	/* at stop: seconds for sessions to end */
	unsigned	 idle_sleep_us;	/* sleep this long after 1024 empty
					 * polls; 0 = pure busy polling */
	bool		 scan;		/* scan each message (msg_scan), as
					 * the socket backend does */
	const struct msg_wordlist *words; /* spam words for the scan, or NULL */
	struct smtp_auth_world *auth_world; /* SPF/DKIM/DMARC over the
					 * scenario's records, or NULL (the
					 * declared facts): each lcore gets
					 * its own struct smtp_auth */
	bool		 notices;	/* print the first of each reply kind */
	FILE		*notice_fp;	/* where notices go (stderr) */
};

struct dp_backend;
struct msg_wordlist;
struct smtp_auth_world;

/**
 * Start EAL, configure and start the port, set up every lcore.
 * @param eal_argc  EAL arguments, argv[0] first (e.g. "mxsim", "-l",
 *                  "0", "--no-huge", "--vdev=net_tap0,iface=dtap0").
 * @param err       message on failure (EAL, port or memory).
 * @return the backend, or NULL.
 */
struct dp_backend *dp_backend_new(const struct dp_backend_conf *conf,
    int eal_argc, char **eal_argv, char *err, size_t errlen);

/** @return a one-line description: driver, queues, MAC, offloads. */
const char *dp_backend_describe(const struct dp_backend *be);

/**
 * Poll on every lcore until dp_backend_stop(); then refuse new
 * connections (RST), end sessions (421 4.3.2 at the next command; a
 * message in DATA is finished), wait at most grace_s seconds, reset what
 * is left.
 * @return 0, or -errno when the lcores could not be launched.
 */
int dp_backend_run(struct dp_backend *be);

/** Ask the backend to stop; async-signal-safe. */
void dp_backend_stop(struct dp_backend *be);

/** Add every lcore's reply counters into @p out (exact after run). */
void dp_backend_stats(const struct dp_backend *be, struct sim_stats *out);

/** @return open SMTP sessions now, over all lcores (approximate). */
uint64_t dp_backend_open_conns(const struct dp_backend *be);

/**
 * Publish a new world; every lcore switches to it at its next poll-loop
 * iteration (one atomic load per iteration, no lock per command), for
 * the sessions it has and the ones it starts.  It must have the same
 * profiles, in the same order, and the same MX ranges as conf->world (ARP
 * and IPv4 lookups keep using conf->world).  The backend takes over the
 * caller's reference to @p w; the world it replaces is freed once no lcore
 * or session holds it (world_slot.h).  Any thread.
 */
void dp_backend_publish_world(struct dp_backend *be,
    const struct prof_world *w);

/** @return a reference to the world published last (conf->world until
 *  then); release it with world_drop().  Any thread. */
const struct prof_world *dp_backend_world(struct dp_backend *be);

/** @return packet lcores (lcores with a queue pair). */
unsigned dp_backend_nlcores(const struct dp_backend *be);

/**
 * Load of one packet lcore, read live (approximate while it runs).
 * @param open      SMTP sessions open now.
 * @param sessions  TCP handshakes completed so far (one session each).
 */
void dp_backend_lcore_load(const struct dp_backend *be, unsigned idx,
    uint64_t *open, uint64_t *sessions);

/** Print the pipeline and TCP counters summed over the lcores. */
void dp_backend_print(const struct dp_backend *be, FILE *fp);

/** Stop the port, free everything, rte_eal_cleanup(); NULL accepted. */
void dp_backend_free(struct dp_backend *be);

#endif /* DP_BACKEND_H */
