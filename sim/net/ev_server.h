/*
 * @file ev_server.h
 * The kernel-socket backend: one listening socket per MX address of the
 * scenario, and worker threads each running an epoll loop that accepts
 * from every listener (EPOLLEXCLUSIVE) and drives SMTP sessions.  The fake
 * MX is the connection's local address, the sender its peer address.
 * A backend never decides a reply: sessions and the policy do.
 *
 * The world can be replaced while serving (ev_server_publish_world()):
 * each worker picks up the current world at every loop iteration, before
 * it handles events, and hands it to its sessions' policy decisions.
 * Sessions keep the profile they started with for their texts.  Worlds
 * are reference-counted (world_slot.h): one nobody reaches is freed.
 */
#ifndef EV_SERVER_H
#define EV_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prof_world.h"
#include "sim_clock.h"
#include "sim_evlog.h"
#include "sim_state.h"
#include "sim_stats.h"
#include "smtp_session.h"
#include "world_slot.h"

struct sim_pm;

struct ev_server_conf {
	const struct prof_world *world;	/* the first world; names, blocks and
					 * timeouts are read from it; the
					 * caller keeps it until
					 * ev_server_free() */
	struct sim_state *state;
	const struct sim_clock *clock;
	struct sim_evlog *evlog;	/* NULL = no event log */
	unsigned	 workers;	/* >= 1 */
	unsigned	 max_conns;	/* per worker; beyond: accept and close */
	unsigned	 grace_s;	/* at stop: seconds for sessions to end */
	bool		 notices;	/* print the first of each reply kind */
	FILE		*notice_fp;	/* where notices go (stderr) */
	/* issue 5 (see smtp_env) */
	bool		 scan;		/* scan messages: facts->msg */
	const struct msg_wordlist *words; /* spam words, or NULL */
	struct smtp_auth_world *auth_world; /* each worker makes its own
					 * smtp_auth from it; NULL = the
					 * scenario's declared facts */
	struct tls_srv	*tls;		/* STARTTLS context (tls_srv.h), or
					 * NULL: STARTTLS is never advertised */
	struct sim_pm	*pm;		/* Postmaster view (sim_pm.h), or NULL */
};

struct ev_server;
struct smtp_auth_world;
struct tls_srv;

/**
 * Bind every MX address of the world on its port.
 * @param err  message on failure ("bind 127.1.0.7:2525: Address in use").
 * @return the server, or NULL.
 */
struct ev_server *ev_server_new(const struct ev_server_conf *conf, char *err,
    size_t errlen);

/** @return listening sockets bound. */
size_t ev_server_nlisteners(const struct ev_server *srv);

/**
 * Start the workers and serve until ev_server_stop(); then stop accepting,
 * end sessions (421 4.3.2 at the next command; a message in DATA is
 * finished), wait at most grace_s seconds, close what is left.
 * @return 0, or -errno when workers could not start.
 */
int ev_server_run(struct ev_server *srv);

/** Ask the server to stop; async-signal-safe. */
void ev_server_stop(struct ev_server *srv);

/** Add every worker's counters into @p out (any time; exact after run). */
void ev_server_stats(const struct ev_server *srv, struct sim_stats *out);

/** Sum of the workers' session pools (struct smtp_pool_stats); exact
 *  after ev_server_run() returned, approximate while it runs. */
void ev_server_pool_stats(const struct ev_server *srv,
    struct smtp_pool_stats *out);

/**
 * TLS handshakes over all workers (any time; exact after run).
 * @param done    handshakes completed (sessions now under TLS).
 * @param failed  handshakes that failed; each closed its connection.
 */
void ev_server_tls_stats(const struct ev_server *srv, uint64_t *done,
    uint64_t *failed);

/** @return open connections now, over all workers. */
uint64_t ev_server_open_conns(const struct ev_server *srv);

/**
 * Publish a new world; workers use it from their next loop iteration.  It
 * must have the same profiles, in the same order, as the first world.  The
 * server takes over the caller's reference to @p w; the world it replaces
 * is freed once no worker or session holds it.  Any thread.
 */
void ev_server_publish_world(struct ev_server *srv,
    const struct prof_world *w);

/** @return a reference to the world published last (the first world until
 *  then); release it with world_drop().  Any thread. */
const struct prof_world *ev_server_world(struct ev_server *srv);

/** @return worker threads (conf.workers). */
unsigned ev_server_nworkers(const struct ev_server *srv);

/**
 * Load of one worker, read live.
 * @param open      connections open now.
 * @param accepted  sessions the worker started so far.
 * Both are 0 before ev_server_run() started the workers.
 */
void ev_server_worker_load(const struct ev_server *srv, unsigned worker,
    uint64_t *open, uint64_t *accepted);

/** Close listeners and free the server (after ev_server_run returned). */
void ev_server_free(struct ev_server *srv);

#endif /* EV_SERVER_H */
