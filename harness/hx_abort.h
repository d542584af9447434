/**
 * @file hx_abort.h
 * mxload's client aborts (--abort-prob): each message's plan, a pure
 * function of (seed, seq, prob) drawn from its own PRNG stream; the counts
 * of aborts carried out, printed as a table or JSON; and the --msg-log
 * line, which names a message's abort.  No state of its own.
 */
#ifndef HX_ABORT_H
#define HX_ABORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
 * The abort counts as a JSON object:
 * {"planned":N,"pre_mail":{"rst":N,"close":N},...,"unknown":N}.
 * @param a  counts
 * @return the object, or NULL (no memory)
 */
json_t *hx_aborts_json(const struct hx_aborts *a);

#endif /* HX_ABORT_H */
