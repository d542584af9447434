/*
 * DESCRIPTION
 *	The backend contract's shared part: the current world (a
 *	reference-counted slot, world_slot.h), the session-id counter and the first-notice flags, and the
 *	nb_*() entry points that dispatch to the backend's operations table.
 *
 * DIAGNOSTICS
 *	nb_backend_init() returns -EINVAL without a world, -ENOMEM without
 *	memory.  A backend without a tls operation answers nb_tls() false.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nb_backend.h"

/* nb_backend_init - the shared part over @p conf */
int
nb_backend_init(struct nb_backend *b, const struct nb_ops *ops,
    const struct nb_conf *conf)
{
	memset(b, 0, sizeof(*b));
	if (conf->world == NULL)
		return -EINVAL;
	b->ops = ops;
	b->conf = *conf;
	if (b->conf.notice_fp == NULL)
		b->conf.notice_fp = stderr;
	world_slot_init(&b->worlds, conf->world);
	b->have_worlds = true;
	if (conf->notices && (b->seen = calloc((conf->world->nprofiles + 1) *
	    SIM_RK__COUNT, 1)) == NULL)
		return -ENOMEM;
	if ((b->first_ms = calloc((conf->world->nprofiles + 1) *
	    SIM_RK__COUNT, sizeof(*b->first_ms))) == NULL)
		return -ENOMEM;
	return 0;
}

/* nb_first_ms - when a (profile, kind) first answered 4xx/5xx */
uint64_t
nb_first_ms(const struct nb_backend *b, size_t prof, enum sim_rk rk)
{
	if (b->first_ms == NULL || prof > b->conf.world->nprofiles ||
	    (unsigned)rk >= SIM_RK__COUNT)
		return 0;
	return __atomic_load_n(&b->first_ms[prof * SIM_RK__COUNT + rk],
	    __ATOMIC_RELAXED);
}

/* nb_backend_fini - release the shared part */
void
nb_backend_fini(struct nb_backend *b)
{
	free(b->seen);
	b->seen = NULL;
	free(b->first_ms);
	b->first_ms = NULL;
	if (b->have_worlds)
		world_slot_fini(&b->worlds);
	b->have_worlds = false;
}

/* nb_run - serve until stopped */
int
nb_run(struct nb_backend *b)
{
	return b->ops->run(b);
}

/* nb_stop - ask to stop (signal-safe) */
void
nb_stop(struct nb_backend *b)
{
	b->ops->stop(b);
}

/* nb_free - free the backend */
void
nb_free(struct nb_backend *b)
{
	if (b != NULL)
		b->ops->free(b);
}

/* nb_describe - how it serves */
void
nb_describe(const struct nb_backend *b, char *buf, size_t len)
{
	b->ops->describe(b, buf, len);
}

/* nb_banner - the backend's banner lines */
void
nb_banner(const struct nb_backend *b, FILE *fp)
{
	b->ops->banner(b, fp);
}

/* nb_summary - the backend's exit-summary lines */
void
nb_summary(const struct nb_backend *b, FILE *out, FILE *diag)
{
	b->ops->summary(b, out, diag);
}

/* nb_publish - make a new world current */
void
nb_publish(struct nb_backend *b, const struct prof_world *w)
{
	world_slot_publish(&b->worlds, w);
}

/* nb_world - a reference to the current world */
const struct prof_world *
nb_world(struct nb_backend *b)
{
	return world_slot_take(&b->worlds);
}

/* nb_stats - merged reply counters */
void
nb_stats(const struct nb_backend *b, struct sim_stats *out)
{
	b->ops->stats(b, out);
}

/* nb_open_conns - open connections now */
uint64_t
nb_open_conns(const struct nb_backend *b)
{
	return b->ops->open_conns(b);
}

/* nb_nworkers - workers shown by /metrics */
unsigned
nb_nworkers(const struct nb_backend *b)
{
	return b->ops->nworkers(b);
}

/* nb_worker_load - one worker's open and started sessions */
void
nb_worker_load(const struct nb_backend *b, unsigned worker, uint64_t *open,
    uint64_t *sessions)
{
	*open = *sessions = 0;
	b->ops->worker_load(b, worker, open, sessions);
}

/* nb_tls - STARTTLS handshakes; false when the backend has no TLS */
bool
nb_tls(const struct nb_backend *b, uint64_t *done, uint64_t *failed)
{
	*done = *failed = 0;
	if (b->ops->tls == NULL)
		return false;
	b->ops->tls(b, done, failed);
	return true;
}
