/*
 * @file dns_server.h
 * A small authoritative DNS server for the simulated world, answering
 * from an auth_zone over UDP and TCP on one address and port, with ldns
 * for the wire format.
 *
 * Answers: A, MX (with the targets' A records as additional data), TXT
 * (texts longer than 255 bytes split into several strings), SOA at a zone
 * apex (synthesised: ns.<apex>, hostmaster.<apex>, negative TTL 60 s) and
 * ANY (A, MX and TXT).  A name that exists without the asked type gets
 * NODATA, a missing name in a zone NXDOMAIN, both with the SOA in the
 * authority section and AA set.  A name outside every zone, a class other
 * than IN, or any query for which recursion would be needed gets REFUSED
 * (RA is never set).  Other opcodes get NOTIMP, malformed queries FORMERR.
 * UDP answers larger than 512 bytes (or the client's EDNS size, at most
 * 1232) are truncated (TC) so the client retries over TCP.
 *
 * Two ways to run it:
 *  - dns_server_start(): a thread polls both sockets until
 *    dns_server_stop() (it wakes every 100 ms to check);
 *  - the caller polls dns_server_fds() for POLLIN and calls
 *    dns_server_poll_once().
 * A TCP connection is served inline, at most 16 queries and 1 s per read,
 * so a slow TCP client delays UDP by at most that much.
 *
 * The zone must outlive the server and must not change while it runs.
 */
#ifndef DNS_SERVER_H
#define DNS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "auth_zone.h"

/** Counters, updated by the serving thread; read them after stop. */
struct dns_server_stats {
	uint64_t	 queries;	/* requests received, UDP and TCP */
	uint64_t	 answers;	/* NOERROR with data */
	uint64_t	 nodata;	/* NOERROR without data */
	uint64_t	 nxdomain;
	uint64_t	 refused;
	uint64_t	 errors;	/* FORMERR, NOTIMP, dropped */
	uint64_t	 truncated;	/* UDP answers with TC */
	uint64_t	 tcp;		/* TCP queries */
};

struct dns_server;

/**
 * Build the answer to one query (no sockets; used by the server and by
 * tests).
 * @param udp_limit  largest UDP answer before EDNS, 512; 0 for TCP (no
 *		     limit but 65535).
 * @param st         counters to update, or NULL.
 * @return the answer length in @p out, or 0 to drop the query (too short
 *	to answer, or @p out too small).
 */
size_t dns_server_answer(const struct auth_zone *z, const uint8_t *q,
    size_t qlen, uint8_t *out, size_t outmax, size_t udp_limit,
    struct dns_server_stats *st);

/**
 * Bind UDP and TCP sockets on @p addr (IPv4 text) and @p port.
 * @param port  0 picks a free port common to UDP and TCP (see
 *		dns_server_port()).
 * @return 0 and *@p out; -EINVAL for a bad address; -EADDRINUSE; another
 *	-errno from socket(2), bind(2), listen(2); -ENOMEM.
 */
int dns_server_open(struct dns_server **out, const struct auth_zone *z,
    const char *addr, uint16_t port);

/** @return the bound port. */
uint16_t dns_server_port(const struct dns_server *ds);

/** Store the UDP and TCP descriptors, for the caller's poll loop. */
void dns_server_fds(const struct dns_server *ds, int *udp_fd, int *tcp_fd);

/**
 * Wait up to @p timeout_ms for queries and answer those that arrived.
 * @return the number of queries answered; -errno from poll(2).
 */
int dns_server_poll_once(struct dns_server *ds, int timeout_ms);

/** Start the serving thread.  @return 0; -EALREADY; -errno of
 *  pthread_create(). */
int dns_server_start(struct dns_server *ds);

/** Stop and join the serving thread (no-op when not started). */
void dns_server_stop(struct dns_server *ds);

/** @return the counters (stable after dns_server_stop()). */
const struct dns_server_stats *dns_server_stats(const struct dns_server *ds);

/** Stop if needed, close the sockets and free; NULL is a no-op. */
void dns_server_close(struct dns_server *ds);

#endif /* DNS_SERVER_H */
