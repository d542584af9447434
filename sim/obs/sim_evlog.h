/*
 * @file sim_evlog.h
 * The event log: one JSON object per line (JSON Lines) for each reply the
 * session reports: every reply at connect, EHLO, MAIL, RCPT and end of
 * DATA, and every 4xx/5xx reply anywhere; not 354 nor the 2xx replies to
 * RSET, NOOP, VRFY, HELP and QUIT.  Workers
 * format events into their own buffer (struct sim_evlog_local) and hand
 * full buffers to one writer thread; a worker never waits for the disk.
 * When every buffer of the fixed pool is in flight, the event is dropped
 * and counted (never silently).  sim_evlog_close() writes everything
 * handed over, so nothing is lost on a clean shutdown.
 *
 * Line format (keys always present; null when unknown):
 *   {"wall":"2026-11-23T18:31:09.123Z","sim":"2026-01-01T00:00:00.000Z",
 *    "wall_ms":...,"sim_ms":...,"session":"00000000000000a1",
 *    "provider":"gmail","mx":"127.1.0.5","client":"127.0.10.1",
 *    "sender_domain":"auth.example","rcpt":null,"stage":"eod",
 *    "code":250,"enhanced":"2.0.0","reason":"ok.message","nrcpts":1,
 *    "tls":false,"spf":"pass","dkim":"pass","dmarc":null,
 *    "placement":"spam","category":null,
 *    "place_rules":["complaints.rate"],"complaints":0,"seeds":1,
 *    "ip_rep":97.50,"domain_rep":100.00}
 *
 * "tls" is whether the session runs over TLS.  "spf", "dkim" and "dmarc"
 * are pass, fail, softfail, neutral, temperror or permerror, and null when
 * not checked or when there was no record (the event cannot tell those
 * apart).  The next five keys describe an accepted message at end of
 * DATA and are null on every other line: "placement" (inbox, spam,
 * promotions), "category" (a name from the profile's placement
 * categories, or null), "place_rules" (names of the profile's placement
 * rules that applied, [] when none), "complaints" (recipients who marked
 * it as spam), "seeds" (seed-list recipients).  "ip_rep" and "domain_rep"
 * are the scores after the decision, on the line of an accepted message
 * at end of DATA and on every line of a policy refusal (any stage);
 * null elsewhere, and domain_rep null without a sender domain.
 */
#ifndef SIM_EVLOG_H
#define SIM_EVLOG_H

#include <stdint.h>

#include "prof_world.h"
#include "sim_event.h"

#define SIM_EVLOG_BUF_SIZE	(64 * 1024)
#define SIM_EVLOG_NBUFS		64

struct sim_evlog;
struct sim_evlog_local;

/**
 * Open (create or truncate) the log file and start the writer thread.
 * @param err  set to -errno on failure.
 * @return the log, or NULL.
 */
struct sim_evlog *sim_evlog_open(const char *path, int *err);

/**
 * Open the log's path again (created if missing, appended to if present:
 * after logrotate renamed the file) and have the writer continue there;
 * buffers handed over before are written to the old file.  Any thread.
 * @return 0, or -errno of open (the writer keeps the old file).
 */
int sim_evlog_reopen(struct sim_evlog *log);

/** A worker's buffer; one per thread.  @return it, or NULL (no memory). */
struct sim_evlog_local *sim_evlog_local_new(struct sim_evlog *log,
    const struct prof_world *w);

/** Format one event into the worker's buffer. */
void sim_evlog_write(struct sim_evlog_local *l, const struct sim_event *ev);

/** Hand the worker's buffer to the writer if it holds events older than
 *  @p max_age_ms (0: whatever it holds). */
void sim_evlog_flush(struct sim_evlog_local *l, uint64_t max_age_ms);

/** Flush and free a worker's buffer. */
void sim_evlog_local_free(struct sim_evlog_local *l);

/**
 * Write all handed-over buffers, stop the writer, close the file, free.
 * @param written  if not NULL: events written in all.
 * @param dropped  if not NULL: events dropped in all.
 * @return 0, or -errno of the first write error.
 */
int sim_evlog_close(struct sim_evlog *log, uint64_t *written,
    uint64_t *dropped);

/** @return events written to the file so far. */
uint64_t sim_evlog_written(const struct sim_evlog *log);

/** @return events dropped because every buffer was in flight. */
uint64_t sim_evlog_dropped(const struct sim_evlog *log);

#endif /* SIM_EVLOG_H */
