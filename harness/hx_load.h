/**
 * @file hx_load.h
 * The mxload engine: a single-threaded epoll loop driving a fixed pool of
 * client SMTP connections against a set of target ranges.  It never
 * retries; every deciding reply is counted in a struct hx_tally and every
 * attempted message gets exactly one outcome.  All memory (connection
 * slots with fixed input/output buffers, the start queue) is allocated
 * before the loop starts; nothing is allocated per message.
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

#include "hx_opt.h"
#include "hx_series.h"
#include "hx_tally.h"

/**
 * Where a client abort (--abort-prob) cuts a message.  Each stage has a
 * defined meaning on the server side (see docs/hostile.md, "Exact
 * accounting"); only HX_AB_AFTER_DOT leaves the outcome unknown.
 */
enum hx_abort_stage {
	HX_AB_NONE = 0,
	HX_AB_PRE_MAIL,		/* session up (EHLO answered), no MAIL sent */
	HX_AB_MID_RCPT,		/* MAIL written alone and its 2xx read,
				   then the first RCPT written, its reply
				   not read */
	HX_AB_MID_DATA,		/* 354 read, half the message text written,
				   never the final dot */
	HX_AB_AFTER_DOT,	/* the final dot written, its reply not read:
				   outcome unknown */
	HX_AB__COUNT
};

/** How the connection is dropped. */
enum hx_abort_mode {
	HX_AB_RST = 0,		/* SO_LINGER 0, then close(): a TCP RST */
	HX_AB_CLOSE,		/* plain close(): FIN */
	HX_AB__MODES
};

/** One message's abort plan, a pure function of (seed, seq, prob). */
struct hx_abort_plan {
	enum hx_abort_stage	 stage;		/* HX_AB_NONE: no abort */
	enum hx_abort_mode	 mode;
};

/** Aborts carried out, by stage and mode. */
struct hx_aborts {
	uint64_t	 planned;			/* plans != NONE */
	uint64_t	 n[HX_AB__COUNT][HX_AB__MODES];	/* carried out */
};

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
};

struct auth_dkim;

/**
 * The abort plan of message @p seq: with probability @p prob (seeded
 * PRNG, its own stream, independent of the recipients' draws) an abort
 * at one of the four stages, each equally likely, by RST or close,
 * equally likely.
 * @param seed run seed
 * @param seq  message number
 * @param prob 0..1
 * @param p    out: the plan
 */
void hx_abort_plan(uint64_t seed, uint64_t seq, double prob,
    struct hx_abort_plan *p);

/**
 * Count one abort carried out.
 * @param a counts
 * @param p the plan carried out (HX_AB_NONE is ignored)
 */
void hx_aborts_add(struct hx_aborts *a, const struct hx_abort_plan *p);

/**
 * @param a     counts
 * @param stage a stage, or HX_AB_NONE for every stage
 * @return aborts carried out at @p stage (both modes)
 */
uint64_t hx_aborts_total(const struct hx_aborts *a,
    enum hx_abort_stage stage);

/**
 * @param s stage
 * @return "pre_mail", "mid_rcpt", "mid_data", "after_dot", "none", "?"
 */
const char *hx_abort_stage_name(enum hx_abort_stage s);

/**
 * @param m mode
 * @return "rst", "close", "?"
 */
const char *hx_abort_mode_name(enum hx_abort_mode m);

/**
 * Format one line of the --msg-log file (tab-separated, LF-terminated):
 * seq, target name, outcome (accepted, deferred, rejected, error, abort,
 * unknown), stage of the deciding reply or event, its code (0: none),
 * abort ("-" or "stage/mode"), 1 when the final dot had been written,
 * the first recipient's local part.
 * @param buf  out: the line, NUL-terminated
 * @param cap  size of @p buf
 * @return the length; -ENOSPC when it does not fit
 */
int hx_msg_log_line(char *buf, size_t cap, uint64_t seq, const char *target,
    const char *outcome, enum hx_stage stage, unsigned code,
    const struct hx_abort_plan *ab, int dot, const char *rcpt);

/**
 * Print the abort counts: one line per stage with rst and close, and how
 * many messages are of unknown outcome.
 * @param a        counts
 * @param messages messages attempted
 * @param fp       output
 */
void hx_aborts_print(const struct hx_aborts *a, uint64_t messages, FILE *fp);

/**
 * The abort counts as a JSON object (no trailing newline):
 * {"planned":N,"pre_mail":{"rst":N,"close":N},...,"unknown":N}.
 * @param a  counts
 * @param fp output
 */
void hx_aborts_json(const struct hx_aborts *a, FILE *fp);

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
