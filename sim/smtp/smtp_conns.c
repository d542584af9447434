/*
 * DESCRIPTION
 *	A worker's connection budget: the session pool's sizes from the
 *	connection limit, and the "protocol.busy" reply for a connection
 *	over it.  The reply has no session behind it: it is rendered here
 *	from the profile (placeholders as for any connect-stage reply, no
 *	sender, no HELO) and reported once through the event hook.
 *
 * DIAGNOSTICS
 *	A reply too long for the caller's buffer falls back to the code,
 *	enhanced code and kind name, as the session does.
 */
#include <stdio.h>
#include <string.h>

#include "sim_clock.h"
#include "smtp_arena.h"
#include "smtp_conns.h"
#include "smtp_reply.h"

/* smtp_conns_pool_new - the session pool for @max_conns sessions */
struct smtp_pool *
smtp_conns_pool_new(uint32_t max_conns)
{
	uint64_t nbufs, ntxns, nchunks;

	if (max_conns == 0)
		return NULL;
	nbufs = 2 * (uint64_t)max_conns;
	if (nbufs > SMTP_CONNS_POOL_BYTES / SMTP_INBUF_SIZE)
		nbufs = SMTP_CONNS_POOL_BYTES / SMTP_INBUF_SIZE;
	ntxns = max_conns;
	if (ntxns > SMTP_CONNS_POOL_BYTES / SMTP_ARENA_CHUNK)
		ntxns = SMTP_CONNS_POOL_BYTES / SMTP_ARENA_CHUNK;
	nchunks = 2 * (uint64_t)max_conns;
	if (nchunks < SMTP_CONNS_GROW_MIN)
		nchunks = SMTP_CONNS_GROW_MIN;
	if (nchunks > SMTP_CONNS_POOL_BYTES / SMTP_ARENA_CHUNK)
		nchunks = SMTP_CONNS_POOL_BYTES / SMTP_ARENA_CHUNK;
	return smtp_pool_new_chunks(max_conns, (uint32_t)nbufs,
	    (uint32_t)ntxns, (uint32_t)nchunks);
}

/* smtp_conns_busy - render and report the busy reply */
size_t
smtp_conns_busy(const struct smtp_env *env, const struct smtp_conn_info *ci,
    char *out, size_t cap)
{
	const struct prof_profile *p = NULL;
	const struct sim_kind_info *ki = sim_kind_info(SIM_RK_BUSY);
	struct smtp_reply_vars v;
	struct sim_event ev;
	const char *enh = ki->enhanced;
	uint16_t code = ki->code;
	int i, len;
	size_t n;

	i = ci->v6 ? prof_world_lookup6(env->world, &ci->mx6) :
	    prof_world_lookup(env->world, ci->mx_ip);
	if (i >= 0) {
		p = env->world->profiles[i];
		code = p->replies[SIM_RK_BUSY].code;
		enh = p->replies[SIM_RK_BUSY].enhanced;
	}
	if (enh == NULL)
		enh = "";
	memset(&v, 0, sizeof(v));
	v.client_ip = ci->client_ip;
	v.mx_ip = ci->mx_ip;
	v.client6 = ci->v6 ? &ci->client6 : NULL;
	v.mx6 = ci->v6 ? &ci->mx6 : NULL;
	v.netblock6 = env->world->ipv6_netblock;
	v.session_id = ci->session_id;
	if ((n = smtp_reply_render(p, SIM_RK_BUSY, &v, out, cap)) == 0) {
		len = snprintf(out, cap, "%03u%s%s %s\r\n", code % 1000u,
		    *enh != '\0' ? " " : "", enh, ki->name);
		if (len <= 0 || (size_t)len >= cap)
			return 0;
		n = (size_t)len;
	}
	if (env->on_event == NULL)
		return n;
	memset(&ev, 0, sizeof(ev));
	ev.wall_ms = sim_clock_wall_ms();
	ev.sim_ms = sim_clock_now(env->clock);
	ev.session_id = ci->session_id;
	ev.prof = i >= 0 ? (uint32_t)i : UINT32_MAX;
	ev.mx_ip = ci->mx_ip;
	ev.client_ip = ci->client_ip;
	ev.client6 = ci->v6 ? &ci->client6 : NULL;
	ev.mx6 = ci->v6 ? &ci->mx6 : NULL;
	ev.stage = SIM_STAGE_CONNECT;
	ev.rk = SIM_RK_BUSY;
	ev.code = code;
	ev.enhanced = enh;
	ev.domain_rep = -1;
	env->on_event(env->event_ctx, &ev);
	return n;
}
