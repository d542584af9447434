/*
 * @file sim_event.h
 * One reply sent to a client, as the session reports it to the backend's
 * event hook (event log, counters).  Pointers are valid only during the
 * hook call.
 */
#ifndef SIM_EVENT_H
#define SIM_EVENT_H

#include <stdint.h>

#include "sim_kinds.h"

struct sim_event {
	uint64_t	 wall_ms;	/* real Unix ms */
	uint64_t	 sim_ms;	/* simulated Unix ms */
	uint64_t	 session_id;
	uint32_t	 prof;		/* profile index; UINT32_MAX = no MX */
	uint32_t	 mx_ip;		/* local address (host order) */
	uint32_t	 client_ip;	/* peer address (host order) */
	const char	*sender_domain;	/* NULL before MAIL or for <> */
	const char	*rcpt;		/* RCPT stage only, else NULL */
	enum sim_stage	 stage;
	enum sim_rk	 rk;		/* reason: sim_kind_info(rk)->name */
	uint16_t	 code;
	const char	*enhanced;	/* "" when the reply has none */
	uint32_t	 nrcpts;	/* EOD: recipients of the message */
};

/* Called once per reply the session sends (see smtp_session.h). */
typedef void smtp_event_fn(void *ctx, const struct sim_event *ev);

#endif /* SIM_EVENT_H */
