/**
 * @file hx_load.h
 * The mxload engine: a single-threaded epoll loop driving a fixed pool of
 * client SMTP connections against a set of target ranges.  Every
 * deciding reply is counted in a struct hx_tally and every attempt gets
 * exactly one outcome.  Without conf->retry it never retries; with it, a
 * message whose attempt fails temporarily (4xx, or a connection error)
 * waits in a retry queue (hx_retry.h) for its next attempt on the
 * schedule (hx_sched.h) until it is delivered, bounced (5xx) or expired,
 * and each message's final outcome goes to conf->rstats.  All memory
 * (connection slots with fixed input/output buffers, the start queue,
 * the retry queue) is allocated before the loop starts; nothing is
 * allocated per message.
 *
 * Client aborts (conf->abort_prob) are planned and counted by hx_abort.h.
 *
 * SIGINT and SIGTERM are taken through a signalfd: the first stops
 * starting new messages and lets the ones in flight finish, the second
 * abandons them.  The caller must block both signals (see
 * hx_load_block_signals()) before creating any thread.
 */
#ifndef HX_LOAD_H
#define HX_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hx_abort.h"
#include "hx_opt.h"
#include "hx_retry.h"
#include "hx_sched.h"
#include "hx_series.h"
#include "hx_tally.h"

/** STARTTLS counts of a run (conf->starttls). */
struct hx_tls_stats {
	uint64_t	 done;		/* handshakes completed */
	uint64_t	 failed;	/* handshakes failed (errors) */
	uint64_t	 refused;	/* STARTTLS not answered 220 */
	uint64_t	 not_offered;	/* EHLO replies without STARTTLS */
};

/** Everything that shapes one run; read-only to the engine. */
struct hx_load_conf {
	const struct hx_target	*targets;	/* ntargets >= 1 */
	size_t			 ntargets;
	const struct hx_cidr	*sources;	/* nsources >= 1 */
	size_t			 nsources;
	const char *const	*from;		/* sender domains, nfrom >= 1 */
	size_t			 nfrom;
	const char		*rcpt_local;	/* NULL: user<N>, seeded PRNG */
	const char		*helo;		/* EHLO/HELO name */
	uint64_t		 messages;	/* 0: no limit */
	uint64_t		 users;		/* >= 1 */
	uint64_t		 size;		/* message size, bytes */
	uint64_t		 seed;
	double			 duration;	/* seconds; 0: no limit */
	double			 rate;		/* starts per second; 0: max */
	double			 timeout;	/* per reply, seconds, > 0 */
	unsigned		 concurrency;	/* >= 1 */
	unsigned		 per_conn;	/* messages per connection */
	unsigned		 rcpts;		/* recipients per message */
	int			 pipelining;	/* use PIPELINING if offered */
	int			 progress;	/* progress line on stderr */
	int			 verbose;	/* trace state changes */
	struct hx_series	*series;	/* per-second CSV or NULL;
						   started and finished by
						   the engine */
	double			 abort_prob;	/* per message, 0..1 */
	struct hx_aborts	*aborts;	/* out: abort counts, or NULL */
	int			 tag_rcpt;	/* recipients m<seq>[.<i>] */
	FILE			*msg_log;	/* one line per message, or
						   NULL (hx_msg_log_line()) */
	const char		*from_header;	/* header From domain, NULL:
						   the envelope's */
	int			 list_unsub;	/* List-Unsubscribe headers */
	struct auth_dkim	*dkim;		/* sign with it, or NULL */
	const char		*dkim_key;	/* private key, PEM */
	const char		*dkim_selector;	/* s=; d= is the From domain */
	int			 starttls;	/* STARTTLS when offered */
	struct hx_tls_stats	*tls;		/* out: STARTTLS counts, or
						   NULL */
	const struct hx_sched	*retry;		/* retry schedule, or NULL:
						   never retry; needs
						   messages > 0 */
	double			 retry_until;	/* seconds: no attempt
						   starts later; 0: none */
	struct hx_retry_stats	*rstats;	/* out: per-message outcomes
						   (with retry) */
};

struct auth_dkim;

/**
 * Block SIGINT and SIGTERM in the calling thread so that hx_load_run()
 * can take them through a signalfd.
 * @return 0; -errno from sigprocmask()
 */
int hx_load_block_signals(void);

/**
 * Run the load until the message limit, the duration or a signal ends
 * it and every open connection has finished.
 * @param conf  run parameters (validated by the caller)
 * @param tally out: counts; created with conf->ntargets targets
 * @param sum   out: elapsed time, connection counts, aborted messages
 * @return 0 when the run took place (whatever the replies); -ENOMEM when
 *         the connection pool cannot be allocated; -errno from
 *         epoll_create1() or signalfd()
 */
int hx_load_run(const struct hx_load_conf *conf, struct hx_tally *tally,
    struct hx_summary *sum);

#endif /* HX_LOAD_H */
