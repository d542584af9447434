/*
 * @file ev_server.h
 * The kernel-socket backend (a struct nb_backend, nb_backend.h): one
 * listening socket per MX address of the scenario, and worker threads each
 * running an epoll loop that accepts from every listener (EPOLLEXCLUSIVE)
 * and drives SMTP sessions.  The fake MX is the connection's local address,
 * the sender its peer address.  A backend never decides a reply: sessions
 * and the policy do.
 *
 *   b = ev_server_new(&conf, err, sizeof(err));   binds every address
 *   nb_run(b); ... nb_stats(b, total); nb_free(b);
 *
 * Each worker picks up the current world (nb_publish()) at every loop
 * iteration, before it handles events.  Sessions keep the profile they
 * started with for their texts.
 */
#ifndef EV_SERVER_H
#define EV_SERVER_H

#include <stddef.h>

#include "nb_backend.h"
#include "smtp_session.h"

struct tls_srv;

struct ev_server_conf {
	struct nb_conf	 nb;		/* what every backend is given */
	unsigned	 workers;	/* threads, >= 1 */
	struct tls_srv	*tls;		/* STARTTLS context (tls_srv.h), or
					 * NULL: never advertised; the server
					 * owns it from ev_server_new() on,
					 * even when that fails */
};

/**
 * Bind every MX address of conf->nb.world on its port.
 * @param err  message on failure ("listen on 127.1.0.7:2525: Address
 *             already in use").
 * @return the backend, or NULL.
 */
struct nb_backend *ev_server_new(const struct ev_server_conf *conf, char *err,
    size_t errlen);

/** Sum of the workers' session pools (struct smtp_pool_stats) of a socket
 *  backend (zeros for another); exact after nb_run() returned. */
void ev_server_pool_stats(const struct nb_backend *b,
    struct smtp_pool_stats *out);

#endif /* EV_SERVER_H */
