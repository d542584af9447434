/*
 * @file utcp_priv.h
 * Inside the userspace TCP: control blocks, the stack, and the functions
 * the three parts (utcp_tcb.c table and timers, utcp_in.c input,
 * utcp_out.c output) share.  Never included outside dpdk/ and its tests.
 */
#ifndef UTCP_PRIV_H
#define UTCP_PRIV_H

#include <sys/queue.h>

#include "utcp.h"

#define UTCP_NIL		UINT32_MAX	/* no control block */
#define UTCP_WHEEL_SLOTS	512		/* timer wheel, power of two */
#define UTCP_TICK_MS		10		/* wheel resolution */
#define UTCP_LIMIT_CHECK_MS	100		/* idle/session limit scan */
#define UTCP_TX_BURST		8		/* new-data segments per call */

#define SEQ_LT(a, b)	((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b)	((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b)	SEQ_LT(b, a)
#define SEQ_GEQ(a, b)	SEQ_LEQ(b, a)

/* TCP flag bits as on the wire. */
#define UTCP_FIN	0x01
#define UTCP_SYN	0x02
#define UTCP_RST	0x04
#define UTCP_PSH	0x08
#define UTCP_ACK	0x10

/* Per-connection flags. */
#define UTCP_F_FIN_SENT		0x01	/* our FIN has a sequence number */
#define UTCP_F_PEER_FIN		0x02	/* the peer's FIN was accepted */
#define UTCP_F_ACK_NOW		0x04	/* an ACK is owed */
#define UTCP_F_TIMED_OUT	0x08	/* the session limit fired once */
#define UTCP_F_ON_LISTS		0x10	/* on the idle and age lists */
#define UTCP_F_APP_CLOSE	0x20	/* the layer above ended it */
#define UTCP_F_EOF_TOLD		0x40	/* the peer's FIN went upwards */

struct utcp_tcb {
	/* identity */
	uint32_t	 cip;		/* client (peer) address */
	uint32_t	 mip;		/* MX (local) address */
	uint16_t	 cport;
	uint16_t	 mport;
	uint32_t	 hnext;		/* next in the hash chain / free list */
	enum utcp_state	 state;
	uint8_t		 flags;		/* UTCP_F_* */
	uint8_t		 retries;	/* consecutive timer firings */
	uint16_t	 mss;		/* send segment size */
	/* sequence space */
	uint32_t	 iss;
	uint32_t	 snd_una;	/* oldest unacknowledged */
	uint32_t	 snd_nxt;	/* next to send */
	uint32_t	 snd_wnd;	/* peer's window */
	uint32_t	 rcv_nxt;
	uint32_t	 rcv_adv;	/* window we advertised last */
	uint32_t	 rto_ms;
	/* timers */
	uint64_t	 tmo;		/* wheel deadline; 0 = none */
	TAILQ_ENTRY(utcp_tcb) wlink;	/* wheel slot */
	TAILQ_ENTRY(utcp_tcb) idle_link; /* by last input */
	TAILQ_ENTRY(utcp_tcb) age_link;	/* by start */
	uint64_t	 last_ms;	/* last input accepted */
	uint64_t	 start_ms;	/* established */
	/* peer and the layer above */
	struct rte_ether_addr peer_mac;	/* where our segments go */
	void		*app;		/* ops->accept()'s state; NULL before
					 * ESTABLISHED and after closed() */
};

TAILQ_HEAD(utcp_tcb_list, utcp_tcb);

struct utcp_stack {
	struct utcp_conf conf;
	struct utcp_tcb	*tcbs;		/* [max_conns] */
	uint32_t	 free;		/* free list head (hnext links) */
	uint32_t	*buckets;	/* [nbuckets] chain heads */
	uint32_t	 bmask;		/* nbuckets - 1 */
	uint32_t	 nconns;	/* in use */
	uint32_t	 nhalf;		/* in SYN_RCVD */
	uint32_t	 napp;		/* with upper-layer state */
	bool		 draining;
	struct utcp_tcb_list wheel[UTCP_WHEEL_SLOTS];
	uint64_t	 wheel_tick;	/* last tick processed */
	uint64_t	 last_limits;	/* last idle/session scan */
	struct utcp_tcb_list idle;	/* sessions by last input */
	struct utcp_tcb_list age;	/* sessions by start */
	struct utcp_counters cnt;
};

/* Table and timers (utcp_tcb.c). */
struct utcp_tcb *utcp_tcb_find(const struct utcp_stack *st, uint32_t cip,
    uint16_t cport, uint32_t mip, uint16_t mport);
struct utcp_tcb *utcp_tcb_alloc(struct utcp_stack *st, uint32_t cip,
    uint16_t cport, uint32_t mip, uint16_t mport);
void utcp_tcb_release(struct utcp_stack *st, struct utcp_tcb *t);
void utcp_enter_state(struct utcp_stack *st, struct utcp_tcb *t,
    enum utcp_state ns);
void utcp_timer_set(struct utcp_stack *st, struct utcp_tcb *t, uint64_t at);
void utcp_timer_stop(struct utcp_stack *st, struct utcp_tcb *t);
void utcp_app_open(struct utcp_stack *st, struct utcp_tcb *t, uint64_t now);
void utcp_app_close(struct utcp_stack *st, struct utcp_tcb *t, bool reset);
void utcp_touch(struct utcp_stack *st, struct utcp_tcb *t, uint64_t now);

/* Output (utcp_out.c). */
void utcp_output(struct utcp_stack *st, struct utcp_tcb *t, uint64_t now);
void utcp_send_synack(struct utcp_stack *st, struct utcp_tcb *t);
void utcp_send_ctl(struct utcp_stack *st, struct utcp_tcb *t, uint8_t flags,
    uint32_t seq);
void utcp_send_reset(struct utcp_stack *st, const struct rte_ether_addr *dst,
    uint32_t cip, uint16_t cport, uint32_t mip, uint16_t mport, uint32_t seq,
    uint32_t ack, uint8_t flags);
void utcp_retransmit(struct utcp_stack *st, struct utcp_tcb *t, uint64_t now);
void utcp_abort(struct utcp_stack *st, struct utcp_tcb *t);
uint32_t utcp_rcv_window(const struct utcp_stack *st, struct utcp_tcb *t);

/* Input (utcp_in.c) helpers used by the timers. */
void utcp_service(struct utcp_stack *st, struct utcp_tcb *t, uint64_t now);

#endif /* UTCP_PRIV_H */
