/*
 * @file sim_state.h
 * Rate and reputation state of the policy engine: one entry per tracked
 * identity -- (provider, sending IP), (provider, sender domain) or
 * (provider, recipient) -- holding sliding-window counters, the number of
 * open connections and a reputation score.  Shared by all workers: the
 * table is split into lock stripes, and an entry is used only between
 * sim_state_get() and sim_state_put(), holding exactly one stripe lock.
 * Never hold two entries at once (that is what keeps it deadlock-free).
 *
 * Memory is bounded: entries come from a pool sized at creation; entries
 * idle for longer than the idle time and with no open connection expire;
 * when the pool is full the least recently touched idle entry in the
 * stripe is reused, and failing that sim_state_get() returns NULL (the
 * caller then treats the identity as new and untracked).
 *
 * Windows are sliding-window counters: the current and previous fixed
 * window, the previous weighted by how much of it still overlaps the
 * sliding window.  Exact while the previous window is empty.
 */
#ifndef SIM_STATE_H
#define SIM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_kinds.h"

enum sim_key_kind {
	SIM_KEY_IP = 0,		/* sending IP */
	SIM_KEY_DOMAIN,		/* sender (MAIL FROM) domain */
	SIM_KEY_RCPT,		/* recipient address */
	SIM_KEY_NETBLOCK,	/* sending IP's /24 (ip = network address) */
	SIM_KEY_HELO,		/* EHLO/HELO name */
	SIM_KEY_DKIM,		/* DKIM d= domain */
	SIM_KEY_ORG,		/* header-From organizational domain */
	SIM_KEY_URL,		/* a URL domain in the body */
	SIM_KEY_MSGID,		/* Message-ID */
	SIM_KEY_PAIR,		/* sender domain and recipient address */
	SIM_KEY__COUNT
};

/*
 * Day tallies of one identity, kept by the policy (sim_policy.c owns the
 * meaning): counts for the simulated day `day`, rolled over to the next
 * day by the policy, a clean-history count for warm-up, a complaint
 * status with its clean-day streak, flags such as bulk-sender status, and
 * a block that holds for some days once an escalation ladder reached it,
 * and the refusals of the current simulated hour with the run of hours in
 * a row that reached a ladder's `after` (the sustained-pressure ladders).
 */
struct sim_tally {
	uint32_t	 day;		/* day index (simulated ms / 86400000) */
	uint32_t	 msgs;		/* messages accepted that day */
	uint32_t	 complaints;	/* complaints that day */
	uint32_t	 refused;	/* policy refusals that day */
	uint16_t	 good_days;	/* days with mail and no refusal */
	uint8_t		 streak;	/* days in a row under the block rate */
	uint8_t		 status;	/* complaint status (policy's enum) */
	uint32_t	 flags;		/* policy flags, e.g. bulk sender */
	uint32_t	 hold_day;	/* a block holds before this day */
	uint16_t	 hold_rk;	/* ... answering this reply kind */
	uint16_t	 hr_refused;	/* policy refusals in hour `hr`
					 * (saturating) */
	uint32_t	 rcpts;		/* recipients of the messages accepted
					 * that day (complaint-rate base) */
	uint16_t	 hr;		/* simulated hour index (ms / 3600000)
					 * of hr_refused, modulo 2^16 */
	uint8_t		 hr_run;	/* consecutive hours up to `hr` that
					 * reached a ladder's `after` */
	uint8_t		 hr_met;	/* hour `hr` reached it (in hr_run) */
};

struct sim_win {
	uint32_t	 idx;		/* index of the current fixed window */
	uint32_t	 cur;		/* count in the current window */
	uint32_t	 prev;		/* count in the previous window */
};

/* Counters of one identity.  Fields are the caller's to read and change
 * between get and put. */
struct sim_entry {
	struct sim_entry *next;		/* hash chain (private) */
	uint64_t	 key[2];	/* 128-bit key hash (private) */
	uint64_t	 first_ms;	/* first seen, simulated */
	uint64_t	 last_ms;	/* last touched, simulated */
	uint32_t	 conns;		/* open connections (IP entries) */
	uint16_t	 prof;		/* profile index (private) */
	uint8_t		 kind;		/* enum sim_key_kind (private) */
	uint8_t		 pad;
	double		 rep;		/* reputation score at rep_ms */
	uint64_t	 rep_ms;	/* when rep was last brought forward */
	struct sim_win	 msgs[SIM_WIN__COUNT];
	struct sim_win	 rcpts[SIM_WIN__COUNT];
	struct sim_win	 conn_rate[SIM_WIN__COUNT];
	struct sim_tally tally;		/* the policy's day tallies */
};

struct sim_state;

/* How long mxsim keeps an identity nobody uses (sim_state_new()'s idle_ms):
 * 30 simulated days, so bulk-sender status and week-long holds outlive
 * quiet spells. */
#define SIM_STATE_IDLE_MS	(30ULL * 86400000ULL)

/* Real milliseconds between two sim_state_expire() sweeps in mxsim. */
#define SIM_STATE_EXPIRE_EVERY_MS 10000ULL

/* The greylisting table (sim_grey.h) the state owns holds max_entries /
 * this many triplets: a triplet is 32 bytes, an identity several hundred. */
#define SIM_STATE_GREY_SHARE	4

struct sim_grey;

/**
 * Create a state table.
 * @param max_entries  pool size (entries are never allocated later).
 * @param idle_ms      simulated ms after which an unused entry expires.
 * @return the table, or NULL when out of memory.
 */
struct sim_state *sim_state_new(size_t max_entries, uint64_t idle_ms);

/** Free the table; NULL is accepted. */
void sim_state_free(struct sim_state *st);

/** @return the greylisting table the state owns (sim_grey.h). */
struct sim_grey *sim_state_grey(struct sim_state *st);

/**
 * Find (and lock) the entry of an identity, creating it when absent.
 * A new entry is zeroed, with first_ms = last_ms = @p now and rep < 0
 * (meaning "not set": the policy puts the profile's initial score in).
 * @param prof  profile index.
 * @param ip    the IP for SIM_KEY_IP and SIM_KEY_NETBLOCK, else ignored.
 * @param str   the domain or recipient (lower case); for SIM_KEY_IP and
 *	        SIM_KEY_NETBLOCK NULL, or an IPv6 client's network key
 *	        (sim_addr6_key(), with @p ip 0).
 * @return a locked entry, or NULL when the pool is exhausted (counted).
 */
struct sim_entry *sim_state_get(struct sim_state *st, enum sim_key_kind kind,
    uint32_t prof, uint32_t ip, const char *str, uint64_t now);

/**
 * Like sim_state_get() but never creates: @return NULL when absent.
 */
struct sim_entry *sim_state_find(struct sim_state *st, enum sim_key_kind kind,
    uint32_t prof, uint32_t ip, const char *str, uint64_t now);

/*
 * A reference to one identity for the length of a policy decision: its
 * key hashed once, and the entry it last resolved to as a hint.  A hint
 * is trusted only when, under the stripe lock, the entry still holds the
 * key (a freed entry loses its key), so a stale hint costs a chain walk,
 * never a wrong entry.
 */
struct sim_ref {
	uint64_t	 key[2];	/* (private) */
	struct sim_entry *hint;		/* (private) */
	uint16_t	 prof;		/* (private) */
	uint8_t		 kind;		/* (private) */
};

/**
 * Hash an identity into @p r (arguments as sim_state_get()) and prefetch
 * its hash bucket, so the lookups that follow find it in cache.
 */
void sim_state_ref(struct sim_state *st, struct sim_ref *r,
    enum sim_key_kind kind, uint32_t prof, uint32_t ip, const char *str);

/**
 * sim_state_get() (@p create true) or sim_state_find() of a reference;
 * remembers the entry as the reference's hint.
 */
struct sim_entry *sim_state_get_ref(struct sim_state *st, struct sim_ref *r,
    uint64_t now, bool create);

/** Unlock an entry from sim_state_get() or sim_state_find(). */
void sim_state_put(struct sim_state *st, struct sim_entry *e);

/**
 * Expire entries idle since before now - idle_ms that hold no connection.
 * @return the number of entries freed.
 */
size_t sim_state_expire(struct sim_state *st, uint64_t now);

/**
 * Visitor of sim_state_foreach(): one tracked identity, with its kind and
 * profile index.  Runs under the entry's stripe lock: it must not call
 * into the table, and should be quick (workers wait for the stripe).
 */
typedef void sim_state_visit_fn(void *ctx, enum sim_key_kind kind,
    uint32_t prof, const struct sim_entry *e);

/**
 * Call @p fn for every entry in use, one stripe at a time (each stripe is
 * locked only while its entries are visited, so the walk is consistent per
 * stripe, not across the table).  For metrics: reputation histograms,
 * identities by kind.
 */
void sim_state_foreach(struct sim_state *st, sim_state_visit_fn *fn,
    void *ctx);

/** @return entries in use. */
size_t sim_state_count(const struct sim_state *st);

/** @return times sim_state_get() found the pool exhausted. */
uint64_t sim_state_exhausted(const struct sim_state *st);

/** @return bytes of one entry (for memory reports). */
size_t sim_state_entry_size(void);

/* -- sliding windows (pure) -- */

/* "Now" broken down once per decision for every window, so counting in
 * several windows costs no further divisions. */
struct sim_wnow {
	uint64_t	 ms;			/* simulated ms */
	uint32_t	 idx[SIM_WIN__COUNT];	/* current fixed window */
	double		 keep[SIM_WIN__COUNT];	/* weight of the previous one */
};

/** Break @p now down for every window. */
void sim_wnow_init(struct sim_wnow *wn, uint64_t now);

/** @return the sliding-window estimate of @p w for window @p win. */
uint32_t sim_win_count_at(const struct sim_win *w, enum sim_window win,
    const struct sim_wnow *wn);

/** Add @p n (may be negative for a roll-back) to @p w. */
void sim_win_add_at(struct sim_win *w, enum sim_window win,
    const struct sim_wnow *wn, int32_t n);

/** @return the sliding-window estimate of @p w for window @p win at @p now. */
uint32_t sim_win_count(const struct sim_win *w, enum sim_window win,
    uint64_t now);

/** Add @p n (may be negative for a roll-back) at @p now. */
void sim_win_add(struct sim_win *w, enum sim_window win, uint64_t now,
    int32_t n);

#endif /* SIM_STATE_H */
