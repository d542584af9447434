/*
 * DESCRIPTION
 *	Server side of one SMTP session (RFC 5321), transport-agnostic.  The
 *	backend writes bytes into the session's input buffer; the session
 *	splits them into command lines (zero-copy slices into that buffer),
 *	dispatches them through smtp_cmds[], asks the policy engine at
 *	connect, EHLO, MAIL, RCPT, DATA and end of DATA, and renders replies
 *	into its output buffer with the profile's texts (smtp_reply.c).
 *
 *	States: GREETING (before a successful EHLO/HELO), READY, MAIL (after
 *	MAIL), RCPT (at least one accepted recipient), DATA (receiving the
 *	message), TLS (STARTTLS answered; input dropped until the backend's
 *	handshake completes, then GREETING again), REFUSED (a 554 was sent
 *	instead of the greeting: RFC 5321 section 3.1 has the server wait for
 *	QUIT and answer other commands 503; the idle and session timeouts
 *	and the protocol-error bound end it too), QUIT (closing).
 *	smtp_enter_state() is the only place that assigns the state.
 *
 *	Bounds and their outcomes:
 *	- command line > SMTP_CMD_LINE_MAX octets (with its LF): skipped up
 *	  to the next LF, then "500 5.5.2" (protocol.line_too_long);
 *	- text line > SMTP_TEXT_LINE_MAX octets: remembered, and the message
 *	  is answered protocol.text_line_too_long instead of being accepted;
 *	- recipients: at most SMTP_MAX_RCPTS, and their lower-cased copies
 *	  must fit in the transaction arena (smtp_arena.h: at most
 *	  SMTP_ARENA_TXN_CHUNKS chunks, grown from the pool's growth chunks
 *	  while there are any); beyond any of these bounds RCPT is answered
 *	  with the profile's rcpts.too_many reply (452 4.5.3 by default)
 *	  whether or not that policy kind is enabled, before the policy is
 *	  asked.  RFC 5321 4.5.3.1.10 wants 452 for a server's recipient
 *	  limit, and RFC 3463's X.5.3 asks the client to deliver to the
 *	  recipients taken and send the rest in a later transaction, which
 *	  finds the chunks this one gives back at its end.  A profile's own
 *	  recipients_per_message, below these bounds, answers first;
 *	- world->max_errors protocol errors (kinds protocol.*): the error
 *	  reply is followed by "421 4.7.0" (protocol.too_many_errors), close;
 *	- input is processed only while the output buffer has
 *	  SMTP_REPLY_ROOM bytes free; otherwise it waits in the input buffer
 *	  and the backend stops reading when that is full;
 *	- a reply longer than the output room left is sent as code,
 *	  enhanced code and the kind's name only; when not even that fits
 *	  (a timeout or shutdown while the peer does not read) the reply is
 *	  dropped, still reported as an event, and the session closes.
 *
 *	Addresses in MAIL and RCPT must be printable ASCII (no SMTPUTF8):
 *	NUL, control and 8-bit bytes there are answered protocol.syntax.
 *	Elsewhere they are kept and sanitized when echoed (smtp_reply.c).
 *
 *	DATA is recognised by a resumable state machine whose state lives in
 *	the session, so input may be split anywhere.  Only the bytes after a
 *	line start take single steps ("." and ".\r"); the rest of a line is
 *	one memchr() for its LF.  Every run of message text (dot-unstuffed)
 *	passes through smtp_data_feed(), the DATA sink hook: the DATA
 *	context (struct smtp_dctx: message scanner and DKIM verifier)
 *	attached after the 354 when env->scan or env->auth asks for it.
 *	SPF runs at MAIL when env->auth is set; its result is kept in the
 *	session (two bytes) and given to the policy as facts->auth from MAIL
 *	to end of DATA, where DKIM and DMARC complete it.  Only
 *	CRLF "." CRLF ends the message; a bare LF neither ends it nor starts
 *	a line for dot-unstuffing (no SMTP smuggling).  A bare LF does end a
 *	text line for the line-length limit.  The size counted is the
 *	message after dot-unstuffing, without the final ".\r\n".
 *
 *	Submission profiles (p->submit.mechs != 0): EHLO under TLS lists
 *	AUTH with the profile's mechanisms; AUTH (smtp_sasl.c) before
 *	STARTTLS is answered submit.tls_required, a second AUTH 503, and
 *	the state AUTH takes the client's response lines until the exchange
 *	ends.  Once authenticated, MAIL and RCPT accepted by the policy are
 *	checked against the account's limits.per_user (sim_acct.c), and an
 *	accepted message is counted on the account; MAIL without AUTH is
 *	answered submit.auth_required.
 *
 *	A connect-time refusal whose reply the profile answers at stage ehlo
 *	(Gmail's conn.limit) is decided at connect but sent after the 220,
 *	as the reply to the first EHLO/HELO (SMTP_F_HELD).
 *
 *	Events: one env->on_event call per reply at the connect, ehlo, mail,
 *	rcpt, data and eod stages (except 354), and per 4xx/5xx reply at any
 *	stage.  A reply's stage is the stage of the command it answers;
 *	RSET, NOOP, VRFY, HELP, QUIT, unknown commands, overlong lines,
 *	timeouts and shutdowns are SIM_STAGE_OTHER.
 *
 *	Memory.  smtp_session_new() allocates the struct with private
 *	buffers in one block (tests, fuzzers, the DPDK backend).  A session
 *	from smtp_session_new_pool() borrows from the worker's pool: an
 *	input buffer from smtp_session_inbuf() until its input is used up,
 *	an output buffer from the first queued reply until it is all sent, a
 *	transaction arena from MAIL to the end of the transaction (a first
 *	chunk of its own, then growth chunks shared with the worker's other
 *	transactions as its recipients need them).  The HELO
 *	name lives in the struct.  A pool that runs dry ends the session:
 *	"421 4.3.2" (SIM_RK_SHUTDOWN's text, or SMTP_BUSY_TEXT when no output
 *	buffer is at hand), reported as a SIM_RK_SHUTDOWN event and counted
 *	in the pool.  Pools are fixed at creation (smtp_slab.h,
 *	smtp_arena.h): a free list over objects already used plus a bump
 *	pointer over address space reserved with mmap, so memory is
 *	resident only for the most objects ever in use.  An unpooled
 *	session has a private chunk pool of one transaction's worth.
 *	DATA contexts come from the pool too (as many as arenas), from the
 *	354 to the end of the transaction.  No allocation after
 *	smtp_session_new() / smtp_session_new_pool(), except inside
 *	libspf2 and libopendkim when env->auth is set (per message).
 *
 * DIAGNOSTICS
 *	Panics (abort) on an impossible state or recogniser state, on input
 *	counts larger than the room given by smtp_session_inbuf(), on
 *	consuming more output than is pending, and when a fresh transaction
 *	arena cannot hold the sender domain (its first chunk holds any
 *	command line).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg_scan.h"
#include "sim_fmt.h"
#include "sim_acct.h"
#include "sim_fmt.h"
#include "sim_grey.h"
#include "sim_policy.h"
#include "smtp_arena.h"
#include "smtp_auth.h"
#include "smtp_reply.h"
#include "smtp_sasl.h"
#include "smtp_session.h"
#include "smtp_slab.h"
#include "world_slot.h"

#define SMTP_HELO_SIZE		SMTP_CMD_LINE_MAX /* any HELO name + NUL */
#define SMTP_REPLY_ROOM		1024	/* output room needed to read input */
#define SMTP_BUF_SIZE		SMTP_INBUF_SIZE	/* one pooled buffer */
#define SMTP_BUSY_TEXT		"421 4.3.2 Server busy, try again later\r\n"

_Static_assert(SMTP_ARENA_STR_MAX >= SMTP_CMD_LINE_MAX,
    "an arena chunk must hold any address");
_Static_assert(SMTP_MAX_RCPTS <= SMTP_ARENA_MAX_RCPTS,
    "the arena's recipient list must hold SMTP_MAX_RCPTS");
_Static_assert(SMTP_INBUF_SIZE == SMTP_OUTBUF_SIZE,
    "input and output buffers come from one pool");
_Static_assert(SMTP_OUTBUF_SIZE >= 2 * SMTP_REPLY_ROOM,
    "the output buffer must hold two replies");

enum smtp_state {
	SMTP_STATE_GREETING = 0,	/* connected, no EHLO/HELO yet */
	SMTP_STATE_READY,		/* greeted, no transaction */
	SMTP_STATE_MAIL,		/* MAIL accepted */
	SMTP_STATE_RCPT,		/* >= 1 recipient accepted */
	SMTP_STATE_DATA,		/* receiving the message */
	SMTP_STATE_TLS,			/* STARTTLS answered 220: waits for
					 * the backend's handshake */
	SMTP_STATE_REFUSED,		/* 554 instead of the greeting: QUIT
					 * closes, anything else gets 503 */
	SMTP_STATE_AUTH,		/* AUTH under way: lines are SASL
					 * responses (smtp_sasl.c) */
	SMTP_STATE_QUIT			/* closing */
};

/* DATA recogniser: where in a line the last byte left us. */
enum smtp_dstate {
	SMTP_D_BOL = 0,		/* after CRLF (or the DATA command) */
	SMTP_D_TEXT,		/* inside a line */
	SMTP_D_CR,		/* after a CR inside a line */
	SMTP_D_DOT,		/* after "." at the start of a line */
	SMTP_D_DOT_CR		/* after ".\r" at the start of a line */
};

#define SMTP_F_CONNECTED	0x01	/* connect accepted: release on free */
#define SMTP_F_CLOSING		0x02	/* last reply queued; ignore input */
#define SMTP_F_SHUTDOWN		0x04	/* shut down after this message */
#define SMTP_F_SKIPPING		0x08	/* discarding an overlong command */
#define SMTP_F_LONGLINE		0x10	/* DATA: a text line was too long */
#define SMTP_F_HELO		0x20	/* helo[] holds the EHLO/HELO name */
#define SMTP_F_BUSYOUT		0x40	/* output is SMTP_BUSY_TEXT */
#define SMTP_F_SPF		0x80	/* spf/spf_hard hold this transaction's
					 * computed SPF result */
#define SMTP_F_TLS		0x100	/* the session runs over TLS */
#define SMTP_F_HELD		0x200	/* a connect refusal answers EHLO/HELO
					 * (held_rk, held_limit) */
#define SMTP_F_TXN		0x400	/* a mail transaction is open */
#define SMTP_F_AUTHED		0x800	/* SMTP AUTH succeeded (acct) */
#define SMTP_F_QUIT		0x1000	/* the client said QUIT */

/* The replies a transaction's outcome is decided from (smtp_txn_end()). */
enum smtp_txn_slot {
	SMTP_TXN_EOD = 0,		/* the end-of-DATA reply */
	SMTP_TXN_FIRST_4XX,		/* the first 4xx inside it */
	SMTP_TXN_FIRST_5XX,		/* the first 5xx inside it */
	SMTP_TXN__SLOTS
};

/* A slice of the input buffer, valid until the buffer is compacted at the
 * end of smtp_process(). */
struct smtp_str {
	const char	*p;
	size_t		 len;
};

struct smtp_pool {
	struct smtp_slab sess;
	struct smtp_slab bufs;		/* input and output buffers */
	struct smtp_arena_pool arenas;	/* transaction arenas' chunks */
	struct smtp_slab dctxs;		/* DATA contexts */
	uint64_t	 exhausted;
};

struct smtp_session {
	const struct smtp_env *env;
	const struct prof_world *world;	/* held from open to free: p and
					 * its reply texts point into it */
	const struct prof_profile *p;	/* NULL: no MX at this address */
	struct smtp_pool *pool;		/* NULL: private buffers follow */
	uint8_t		*in;		/* input buffer, or NULL (pooled) */
	uint8_t		*out;		/* output buffer, or NULL (pooled) */
	struct smtp_arena arena;	/* the transaction's strings and
					 * recipient list (open from MAIL) */
	/* DATA sink: the per-transaction consumer of message text (a
	 * scanner and DKIM verifier taken from a pool at DATA, returned at
	 * the end of the transaction); NULL while none is attached. */
	struct smtp_dctx *dsink;
	struct smtp_dctx *dprivate;	/* unpooled session's own, or NULL */
	const struct sim_verdict *eodv;	/* end of DATA: the verdict being
					 * answered (for the event), or NULL */
	double		 vrep[2];	/* the last verdict's ip_rep and
					 * domain_rep, for the event of ... */
	uint16_t	 vrk;		/* ... its reply kind */

	/* Envelope; strings live in the arena. */
	const char	*sender_domain;	/* lower case; NULL for <> or none */
	uint64_t	 sender_key;	/* sim_grey_hash() of the MAIL FROM
					 * address (greylisting triplets) */
	const char	*cur_rcpt;	/* recipient being answered */
	uint64_t	 size;		/* MAIL SIZE=, then bytes at EOD */
	uint64_t	 dsize;		/* DATA: message bytes after unstuffing */
	struct smtp_conn_info ci;
	/* the client in text for SPF/DMARC, and an IPv6 client's identity
	 * keys at the world's ipv6_prefix and ipv6_netblock ("" for IPv4) */
	char		 ip_text[SIM_ADDR_TEXT_MAX];
	char		 v6_key[SIM_ADDR_TEXT_MAX];
	char		 v6_net[SIM_ADDR_TEXT_MAX];
	uint32_t	 prof;		/* profile index or UINT32_MAX */
	enum smtp_state	 state;
	unsigned	 flags;		/* SMTP_F_* */
	uint32_t	 nerrors;	/* protocol errors so far */
	uint32_t	 msgs_in_conn;	/* messages accepted */
	uint8_t		 spf;		/* enum sim_auth_res, at MAIL */
	uint8_t		 spf_hard;	/* ... from a hard fail (-all) */
	uint8_t		 sasl;		/* enum smtp_sasl_state */
	int32_t		 acct;		/* account (world.accounts) once
					 * authenticated, or LOGIN's user
					 * during AUTH; -1 = none */
	uint16_t	 held_rk;	/* SMTP_F_HELD: the refusal ... */
	uint64_t	 held_limit;	/* ... and its limit */
	/* Open transaction (SMTP_F_TXN): the replies that decide its
	 * outcome, by enum smtp_txn_slot; code 0 = none yet. */
	enum sim_rk	 txn_rk[SMTP_TXN__SLOTS];
	uint16_t	 txn_code[SMTP_TXN__SLOTS];

	/* DATA recogniser, resumable at any byte. */
	enum smtp_dstate dstate;
	uint32_t	 dline;		/* octets in the current text line */

	uint32_t	 inpos;		/* first unprocessed input byte */
	uint32_t	 inlen;		/* input bytes buffered */
	uint32_t	 outpos;	/* first unsent output byte */
	uint32_t	 outlen;	/* output bytes pending */

	char		 helo[SMTP_HELO_SIZE];	/* last, not cleared at new */
};

/* What a message needs while it is received (DATA to end of DATA). */
struct smtp_dctx {
	struct msg_scan	 scan;		/* valid when scanning */
	bool		 scanning;	/* this message is scanned (the
					 * profile's rules or authentication
					 * read it: smtp_scan_mode()) */
	struct smtp_auth_msg am;	/* valid with env->auth */
	struct sim_auth	 res;		/* end of DATA: computed results */
	bool		 have_res;
};

typedef void smtp_cmd_fn(struct smtp_session *, struct smtp_str);

#define SMTP_CMD_NOARG		0x01	/* an argument is a syntax error */
#define SMTP_CMD_NEEDARG	0x02	/* no argument is a syntax error */

struct smtp_cmd {
	const char	*name;
	size_t		 len;
	smtp_cmd_fn	*fn;
	unsigned	 flags;		/* SMTP_CMD_* */
	enum sim_stage	 stage;		/* stage of its replies */
};

/* state */
static void	smtp_enter_state(struct smtp_session *, enum smtp_state);
static const char *smtp_strstate(enum smtp_state);
static void	smtp_close(struct smtp_session *);
static void	smtp_session_addr_text(struct smtp_session *);
static void	smtp_txn_reset(struct smtp_session *);
static void	smtp_txn_open(struct smtp_session *);
static void	smtp_txn_note(struct smtp_session *, enum sim_stage,
		    enum sim_rk, uint16_t);
static void	smtp_txn_end(struct smtp_session *);
static uint32_t	smtp_rcpt_list(const struct smtp_session *,
		    const char *const **);

/* pools and buffers */
static int	smtp_buf_get(struct smtp_session *, uint8_t **);
static void	smtp_bufs_trim(struct smtp_session *);
static void	smtp_busy(struct smtp_session *);
static void	smtp_data_feed(struct smtp_session *, const uint8_t *,
		    size_t);

/* replies, events, policy */
static size_t	smtp_outroom(struct smtp_session *);
static void	smtp_reply(struct smtp_session *, enum sim_rk, enum sim_stage,
		    uint64_t);
static size_t	smtp_reply_ehlo_ext(const struct smtp_session *, char *,
		    size_t, size_t);
static void	smtp_error(struct smtp_session *, enum sim_rk, enum sim_stage);
static void	smtp_event(const struct smtp_session *, enum sim_stage,
		    enum sim_rk, uint16_t, const char *);
static void	smtp_facts(const struct smtp_session *, struct sim_facts *,
		    struct sim_auth *);
static void	smtp_dctx_put(struct smtp_session *);
static void	smtp_decide(struct smtp_session *, enum sim_stage,
		    struct sim_facts *, struct sim_verdict *);

/* input */
static void	smtp_process(struct smtp_session *);
static int	smtp_line(struct smtp_session *);
static void	smtp_command(struct smtp_session *, const char *, size_t);
static void	smtp_data(struct smtp_session *);
static void	smtp_eod(struct smtp_session *);
static int	smtp_parse_path(struct smtp_str, const char *,
		    struct smtp_str *, struct smtp_str *);
static int	smtp_next_param(struct smtp_str *, struct smtp_str *,
		    struct smtp_str *);
static size_t	smtp_addr_domain(struct smtp_str);

/* commands */
static void	smtp_cmd_ehlo(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_helo(struct smtp_session *, struct smtp_str);
static void	smtp_hello(struct smtp_session *, struct smtp_str,
		    enum sim_rk);
static void	smtp_cmd_mail(struct smtp_session *, struct smtp_str);
static void	smtp_mail_spf(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_rcpt(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_data(struct smtp_session *, struct smtp_str);
static int	smtp_dctx_get(struct smtp_session *);
static enum prof_scan smtp_scan_mode(const struct smtp_session *);
static void	smtp_cmd_rset(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_noop(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_quit(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_vrfy(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_help(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_unimpl(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_starttls(struct smtp_session *, struct smtp_str);
static bool	smtp_tls_offered(const struct smtp_session *);
static void	smtp_cmd_auth(struct smtp_session *, struct smtp_str);
static void	smtp_auth_result(struct smtp_session *, enum smtp_sasl_res,
		    const struct smtp_sasl_out *);
static void	smtp_auth_login(struct smtp_session *, const char *, size_t);
static void	smtp_challenge(struct smtp_session *, const char *);
static void	smtp_submit_gate(struct smtp_session *, enum sim_stage,
		    struct sim_verdict *);

#define CMD(n, fn, fl, st)	{ n, sizeof(n) - 1, fn, fl, st }

static const struct smtp_cmd smtp_cmds[] = {
	CMD("EHLO", smtp_cmd_ehlo, SMTP_CMD_NEEDARG, SIM_STAGE_EHLO),
	CMD("HELO", smtp_cmd_helo, SMTP_CMD_NEEDARG, SIM_STAGE_EHLO),
	CMD("MAIL", smtp_cmd_mail, 0, SIM_STAGE_MAIL),
	CMD("RCPT", smtp_cmd_rcpt, 0, SIM_STAGE_RCPT),
	CMD("DATA", smtp_cmd_data, SMTP_CMD_NOARG, SIM_STAGE_DATA),
	CMD("RSET", smtp_cmd_rset, SMTP_CMD_NOARG, SIM_STAGE_OTHER),
	CMD("NOOP", smtp_cmd_noop, 0, SIM_STAGE_OTHER),
	CMD("QUIT", smtp_cmd_quit, SMTP_CMD_NOARG, SIM_STAGE_OTHER),
	CMD("VRFY", smtp_cmd_vrfy, SMTP_CMD_NEEDARG, SIM_STAGE_OTHER),
	CMD("HELP", smtp_cmd_help, 0, SIM_STAGE_OTHER),
	CMD("EXPN", smtp_cmd_unimpl, 0, SIM_STAGE_OTHER),
	CMD("TURN", smtp_cmd_unimpl, 0, SIM_STAGE_OTHER),
	CMD("ETRN", smtp_cmd_unimpl, 0, SIM_STAGE_OTHER),
	CMD("AUTH", smtp_cmd_auth, 0, SIM_STAGE_AUTH),
	CMD("BDAT", smtp_cmd_unimpl, 0, SIM_STAGE_OTHER),
	CMD("STARTTLS", smtp_cmd_starttls, SMTP_CMD_NOARG, SIM_STAGE_OTHER),
};

/* smtp_strstate - name of a state */
static const char *
smtp_strstate(enum smtp_state st)
{
#define CASE(x) case SMTP_STATE_ ## x: return #x
	switch (st) {
	CASE(GREETING);
	CASE(READY);
	CASE(MAIL);
	CASE(RCPT);
	CASE(DATA);
	CASE(TLS);
	CASE(REFUSED);
	CASE(QUIT);
	CASE(AUTH);
	default:
		abort();
	}
#undef CASE
}

/* smtp_enter_state - the only place that changes a session's state */
static void
smtp_enter_state(struct smtp_session *s, enum smtp_state st)
{
#ifdef SMTP_DEBUG
	fprintf(stderr, "%016llx smtp: %s -> %s\n",
	    (unsigned long long)s->ci.session_id, smtp_strstate(s->state),
	    smtp_strstate(st));
#else
	(void)smtp_strstate(st);
#endif
	s->state = st;
}

/* smtp_close - the last reply is queued: stop reading, close once sent */
static void
smtp_close(struct smtp_session *s)
{
	smtp_txn_end(s);		/* its last reply, if any, is noted */
	smtp_enter_state(s, SMTP_STATE_QUIT);
	s->flags |= SMTP_F_CLOSING;
}

/* smtp_txn_open - MAIL is put to the policy: a transaction opens */
static void
smtp_txn_open(struct smtp_session *s)
{
	smtp_txn_end(s);		/* cannot be open: MAIL needs READY */
	memset(s->txn_code, 0, sizeof(s->txn_code));
	s->flags |= SMTP_F_TXN;
}

/* smtp_txn_note - a reported reply: keep it if it may decide the open
 * transaction's outcome */
static void
smtp_txn_note(struct smtp_session *s, enum sim_stage stage, enum sim_rk rk,
    uint16_t code)
{
	enum smtp_txn_slot slot;

	if ((s->flags & SMTP_F_TXN) == 0)
		return;
	if (stage == SIM_STAGE_EOD && s->txn_code[SMTP_TXN_EOD] == 0)
		slot = SMTP_TXN_EOD;
	else if (code >= 400 && code < 500)
		slot = SMTP_TXN_FIRST_4XX;
	else if (code >= 500)
		slot = SMTP_TXN_FIRST_5XX;
	else
		return;
	if (s->txn_code[slot] != 0)
		return;
	s->txn_rk[slot] = rk;
	s->txn_code[slot] = code;
}

/*
 * smtp_txn_end - the one place a transaction's outcome is decided (rules
 * in smtp_session.h): the end-of-DATA reply alone, else the first 4xx,
 * else the first 5xx, else abandoned; reported to env->on_txn
 */
static void
smtp_txn_end(struct smtp_session *s)
{
	struct sim_txn t;
	enum smtp_txn_slot slot;

	if ((s->flags & SMTP_F_TXN) == 0)
		return;
	s->flags &= ~SMTP_F_TXN;
	if (s->env->on_txn == NULL)
		return;
	memset(&t, 0, sizeof(t));
	t.session_id = s->ci.session_id;
	t.prof = s->prof;
	t.outcome = SIM_TXN_ABANDONED;
	t.rk = SIM_RK__COUNT;
	for (slot = 0; slot < SMTP_TXN__SLOTS; slot++) {
		if (s->txn_code[slot] == 0)
			continue;
		t.rk = s->txn_rk[slot];
		t.code = s->txn_code[slot];
		t.outcome = t.code < 400 ? SIM_TXN_ACCEPTED : t.code < 500 ?
		    SIM_TXN_DEFERRED : SIM_TXN_REFUSED;
		break;
	}
	s->env->on_txn(s->env->event_ctx, &t);
}

/* smtp_txn_reset - end and forget the mail transaction (RSET, end of
 * DATA, refused MAIL, EHLO/HELO, STARTTLS, free); smtp_close() ends it
 * too, keeping the envelope for the last reply's text */
static void
smtp_txn_reset(struct smtp_session *s)
{
	smtp_txn_end(s);
	s->sender_domain = NULL;
	s->cur_rcpt = NULL;
	s->size = 0;
	s->spf = SIM_AUTH_NONE;
	s->spf_hard = 0;
	s->flags &= ~(SMTP_F_LONGLINE | SMTP_F_SPF);
	smtp_dctx_put(s);
	smtp_arena_close(&s->arena);
}

/* smtp_dctx_put - detach the DATA context (DKIM state freed; a pooled
 * one goes back to the pool) */
static void
smtp_dctx_put(struct smtp_session *s)
{
	if (s->dsink == NULL)
		return;
	smtp_auth_msg_free(&s->dsink->am);
	if (s->pool != NULL)
		smtp_slab_put(&s->pool->dctxs, s->dsink);
	s->dsink = NULL;
}

/* smtp_rcpt_list - the accepted recipients (the arena's list) in *@v;
 * @return how many */
static uint32_t
smtp_rcpt_list(const struct smtp_session *s, const char *const **v)
{
	uint32_t n;

	*v = smtp_arena_rcpts(&s->arena, &n);
	return n;
}

/* smtp_buf_get - attach a pooled buffer at @bp; @return 0, or -1 when
 * the pool has none left */
static int
smtp_buf_get(struct smtp_session *s, uint8_t **bp)
{
	if (*bp != NULL)
		return 0;
	if (s->pool == NULL || (*bp = smtp_slab_get(&s->pool->bufs)) == NULL)
		return -1;
	return 0;
}

/* smtp_bufs_trim - return empty pooled buffers */
static void
smtp_bufs_trim(struct smtp_session *s)
{
	if (s->pool == NULL)
		return;
	if (s->in != NULL && s->inlen == 0) {
		smtp_slab_put(&s->pool->bufs, s->in);
		s->in = NULL;
		s->inpos = 0;
	}
	if (s->out != NULL && s->outlen == 0) {
		smtp_slab_put(&s->pool->bufs, s->out);
		s->out = NULL;
		s->outpos = 0;
	}
}

/*
 * smtp_busy - the pool ran dry: answer "421 4.3.2" and close.  With an
 * output buffer at hand this is the profile's shutdown reply; without,
 * the fixed SMTP_BUSY_TEXT.
 */
static void
smtp_busy(struct smtp_session *s)
{
	if (s->flags & SMTP_F_CLOSING)
		return;
	s->pool->exhausted++;
	if (s->out != NULL) {
		if (smtp_outroom(s) >= SMTP_REPLY_ROOM)
			smtp_reply(s, SIM_RK_SHUTDOWN, SIM_STAGE_OTHER, 0);
		else
			smtp_close(s);
		return;
	}
	s->flags |= SMTP_F_BUSYOUT;
	s->outpos = 0;
	s->outlen = sizeof(SMTP_BUSY_TEXT) - 1;
	smtp_txn_note(s, SIM_STAGE_OTHER, SIM_RK_SHUTDOWN, 421);
	smtp_event(s, SIM_STAGE_OTHER, SIM_RK_SHUTDOWN, 421, "4.3.2");
	smtp_close(s);
}

/* smtp_outroom - free output bytes, after moving pending output forward */
static size_t
smtp_outroom(struct smtp_session *s)
{
	if (s->flags & SMTP_F_BUSYOUT)
		return 0;
	if (s->out == NULL)
		return SMTP_OUTBUF_SIZE;
	if (s->outpos > 0) {
		memmove(s->out, s->out + s->outpos, s->outlen);
		s->outpos = 0;
	}
	return SMTP_OUTBUF_SIZE - s->outlen;
}

/* smtp_reply_ehlo_ext - append the EHLO keyword lines to a rendered
 * first line (@n bytes at @out); @return the new length */
static size_t
smtp_reply_ehlo_ext(const struct smtp_session *s, char *out, size_t n,
    size_t cap)
{
	const char *ext[PROF_MAX_EXT + 2];
	char size[32], auth[32];
	size_t i, need, last, nlines;
	int len;

	/* STARTTLS only where the backend can do it and not under TLS */
	for (nlines = 0, i = 0; i < s->p->next; i++)
		if (strcmp(s->p->ext[i], "STARTTLS") != 0 ||
		    smtp_tls_offered(s))
			ext[nlines++] = s->p->ext[i];
	size[0] = '\0';
	if (s->p->limits.max_size > 0) {
		/* no printf per EHLO: "SIZE " and at most 20 digits */
		memcpy(size, "SIZE ", 5);
		len = 5 + (int)sim_fmt_u64(size + 5, s->p->limits.max_size);
		size[len] = '\0';
		ext[nlines++] = size;
	}
	/* AUTH only under TLS (RFC 4954 section 4, as the services do) */
	if (s->p->submit.mechs != 0 && (s->flags & SMTP_F_TLS)) {
		snprintf(auth, sizeof(auth), "AUTH%s%s",
		    s->p->submit.mechs & PROF_MECH_PLAIN ? " PLAIN" : "",
		    s->p->submit.mechs & PROF_MECH_LOGIN ? " LOGIN" : "");
		ext[nlines++] = auth;
	}
	if (nlines == 0 || n < 6)
		return n;
	need = 0;
	for (i = 0; i < nlines; i++)
		need += 4 + strlen(ext[i]) + 2;
	if (need > cap - n)
		return n;		/* keep the single-line reply */

	/* The rendered reply's last line becomes a continuation line. */
	for (last = n - 2; last > 0 && out[last - 1] != '\n'; last--)
		;
	out[last + 3] = '-';
	for (i = 0; i < nlines; i++) {
		memcpy(out + n, out + last, 3);
		out[n + 3] = i + 1 < nlines ? '-' : ' ';
		n += 4;
		memcpy(out + n, ext[i], strlen(ext[i]));
		n += strlen(ext[i]);
		memcpy(out + n, "\r\n", 2);
		n += 2;
	}
	return n;
}

/*
 * smtp_reply - render reply kind @rk into the output, report the event
 * and close when the reply says so
 */
static void
smtp_reply(struct smtp_session *s, enum sim_rk rk, enum sim_stage stage,
    uint64_t limit)
{
	const struct sim_kind_info *ki;
	struct smtp_reply_vars v;
	const char *enh;
	char *out;
	size_t cap, n;
	uint16_t code;
	int len, close;

	ki = sim_kind_info(rk);
	if (s->p != NULL) {
		code = s->p->replies[rk].code;
		enh = s->p->replies[rk].enhanced;
		close = s->p->replies[rk].close;
	} else {
		code = ki->code;
		enh = ki->enhanced;
		close = code == 421;
	}
	if (enh == NULL)
		enh = "";
	switch (rk) {
	case SIM_RK_QUIT:
	case SIM_RK_TIMEOUT:
	case SIM_RK_EXPIRED:
	case SIM_RK_TOO_MANY_ERRORS:
	case SIM_RK_SHUTDOWN:
		close = 1;
		break;
	default:
		/* a refusal instead of the greeting closes at once, but a
		 * 554 waits for QUIT (RFC 5321 section 3.1) */
		if (stage == SIM_STAGE_CONNECT && rk != SIM_RK_GREETING)
			close = code != 554;
		break;
	}

	if (s->flags & SMTP_F_BUSYOUT)
		return;			/* closing; the busy text is queued */
	if (smtp_buf_get(s, &s->out) != 0) {
		smtp_busy(s);
		return;
	}
	v.client_ip = s->ci.client_ip;
	v.mx_ip = s->ci.mx_ip;
	v.client6 = s->ci.v6 ? &s->ci.client6 : NULL;
	v.mx6 = s->ci.v6 ? &s->ci.mx6 : NULL;
	v.netblock6 = s->world->ipv6_netblock;
	v.session_id = s->ci.session_id;
	v.helo = s->flags & SMTP_F_HELO ? s->helo : NULL;
	v.domain = s->sender_domain;
	v.addr = s->cur_rcpt;
	v.size = s->size;
	v.limit = limit;
	v.from_domain = NULL;
	v.dkim_domain = NULL;
	if (s->dsink != NULL && stage == SIM_STAGE_EOD) {
		if (s->dsink->scanning &&
		    s->dsink->scan.info.from_domain[0] != '\0')
			v.from_domain = s->dsink->scan.info.from_domain;
		if (s->dsink->have_res && s->dsink->res.dkim_domain != NULL)
			v.dkim_domain = s->dsink->res.dkim_domain;
		else if (s->dsink->scanning && s->dsink->scan.info.ndkim > 0)
			v.dkim_domain = s->dsink->scan.info.dkim[0].d;
	}

	cap = smtp_outroom(s);
	out = (char *)s->out + s->outlen;
	n = smtp_reply_render(s->p, rk, &v, out, cap);
	if (n == 0) {
		/* Text too long for the room left: code and kind name only. */
		len = snprintf(out, cap, "%03u%s%s %s\r\n", code % 1000,
		    *enh != '\0' ? " " : "", enh, ki->name);
		n = len > 0 && (size_t)len < cap ? (size_t)len : 0;
	}
	if (n > 0 && rk == SIM_RK_EHLO && s->p != NULL)
		n = smtp_reply_ehlo_ext(s, out, n, cap);
	s->outlen += (uint32_t)n;

	if (code >= 400 || (stage != SIM_STAGE_OTHER && rk != SIM_RK_DATA_GO)) {
		smtp_txn_note(s, stage, rk, code);
		smtp_event(s, stage, rk, code, enh);
	}
	if (close)
		smtp_close(s);
	else if (stage == SIM_STAGE_CONNECT && rk != SIM_RK_GREETING)
		smtp_enter_state(s, SMTP_STATE_REFUSED);
}

/* smtp_error - protocol error reply; too many of them end the session */
static void
smtp_error(struct smtp_session *s, enum sim_rk rk, enum sim_stage stage)
{
	uint32_t max = s->env->world->max_errors;

	smtp_reply(s, rk, stage, 0);
	if (s->flags & SMTP_F_CLOSING)
		return;
	s->nerrors++;
	if (max > 0 && s->nerrors >= max)
		smtp_reply(s, SIM_RK_TOO_MANY_ERRORS, SIM_STAGE_OTHER, max);
}

/* smtp_event - report one reply to the backend's hook */
static void
smtp_event(const struct smtp_session *s, enum sim_stage stage,
    enum sim_rk rk, uint16_t code, const char *enh)
{
	struct sim_event ev;

	if (s->env->on_event == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.wall_ms = sim_clock_wall_ms();
	ev.sim_ms = sim_clock_now(s->env->clock);
	ev.session_id = s->ci.session_id;
	ev.prof = s->prof;
	ev.mx_ip = s->ci.mx_ip;
	ev.client_ip = s->ci.client_ip;
	ev.client6 = s->ci.v6 ? &s->ci.client6 : NULL;
	ev.mx6 = s->ci.v6 ? &s->ci.mx6 : NULL;
	ev.sender_domain = s->sender_domain;
	ev.rcpt = stage == SIM_STAGE_RCPT ? s->cur_rcpt : NULL;
	ev.stage = stage;
	ev.rk = rk;
	ev.code = code;
	ev.enhanced = enh;
	ev.nrcpts = stage == SIM_STAGE_EOD ? s->arena.nrcpts : 0;
	ev.tls = (s->flags & SMTP_F_TLS) != 0;
	ev.domain_rep = -1;
	if (stage == SIM_STAGE_EOD && s->eodv != NULL &&
	    s->sender_domain != NULL) {
		/* what the policy used: computed, else declared */
		ev.spf = s->eodv->spf;
		ev.dkim = s->eodv->dkim;
		ev.dmarc = s->eodv->dmarc;
	} else if (stage == SIM_STAGE_EOD && s->dsink != NULL &&
	    s->dsink->have_res) {
		ev.spf = (uint8_t)s->dsink->res.spf;
		ev.dkim = (uint8_t)s->dsink->res.dkim;
		ev.dmarc = (uint8_t)s->dsink->res.dmarc;
	} else if (s->flags & SMTP_F_SPF)
		ev.spf = s->spf;
	if (stage == SIM_STAGE_EOD && s->eodv != NULL) {
		ev.placement = s->eodv->placement;
		ev.category = s->eodv->category;
		ev.place_rules = s->eodv->place_rules;
		ev.complaints = s->eodv->complaints;
		ev.nseeds = s->eodv->nseeds;
		ev.rep_set = true;
		ev.ip_rep = s->eodv->ip_rep;
		ev.domain_rep = s->eodv->domain_rep;
	} else if (rk == s->vrk && rk >= SIM_RK__POLICY_FIRST &&
	    rk <= SIM_RK__POLICY_LAST) {
		/* a refusal: the scores the policy had after deciding it */
		ev.rep_set = true;
		ev.ip_rep = s->vrep[0];
		ev.domain_rep = s->vrep[1];
	}
	s->env->on_event(s->env->event_ctx, &ev);
}

/* smtp_facts - what the session knows, for the policy; @a receives the
 * computed SPF result of the transaction when there is one */
static void
smtp_facts(const struct smtp_session *s, struct sim_facts *f,
    struct sim_auth *a)
{
	memset(f, 0, sizeof(*f));
	if (a != NULL && (s->flags & SMTP_F_SPF)) {
		memset(a, 0, sizeof(*a));
		a->spf = (enum sim_auth_res)s->spf;
		a->spf_hardfail = s->spf_hard != 0;
		f->auth = a;
	}
	f->prof = s->prof;
	f->mx_ip = s->ci.mx_ip;
	f->client_ip = s->ci.client_ip;
	if (s->ci.v6) {
		f->client6 = &s->ci.client6;
		f->client_key = s->v6_key;
		f->netblock_key = s->v6_net;
	}
	f->helo = s->flags & SMTP_F_HELO ? s->helo : NULL;
	f->sender_domain = s->sender_domain;
	f->sender_key = s->sender_key;
	f->msgs_in_conn = s->msgs_in_conn;
	f->rcpts_in_txn = s->arena.nrcpts;
	f->tls = (s->flags & SMTP_F_TLS) != 0;
	f->no_tls = !s->env->tls_ok;
}

/* smtp_decide - ask the policy at a stage */
static void
smtp_decide(struct smtp_session *s, enum sim_stage stage, struct sim_facts *f,
    struct sim_verdict *v)
{
	sim_policy_decide(s->env->world, s->env->state, stage, f,
	    sim_clock_now(s->env->clock), v);
	s->vrk = (uint16_t)v->rk;
	s->vrep[0] = v->ip_rep;
	s->vrep[1] = v->domain_rep;
}

/* smtp_process - handle buffered input while replies have room */
static void
smtp_process(struct smtp_session *s)
{
	if (s->state == SMTP_STATE_TLS)
		s->inpos = s->inlen;	/* clear text after STARTTLS */
	while ((s->flags & SMTP_F_CLOSING) == 0 && s->inpos < s->inlen &&
	    smtp_outroom(s) >= SMTP_REPLY_ROOM) {
		if (s->state == SMTP_STATE_DATA)
			smtp_data(s);
		else if (smtp_line(s) == 0)
			break;
	}
	if (s->flags & SMTP_F_CLOSING)
		s->inpos = s->inlen = 0;	/* nothing more is read */
	if (s->inpos > 0) {
		if (s->inpos < s->inlen)
			memmove(s->in, s->in + s->inpos, s->inlen - s->inpos);
		s->inlen -= s->inpos;
		s->inpos = 0;
	}
	smtp_bufs_trim(s);
}

/* smtp_line - take one command line; @return 0 when more input is needed */
static int
smtp_line(struct smtp_session *s)
{
	const char *start, *lf, *end;
	size_t avail, len;

	start = (const char *)s->in + s->inpos;
	avail = s->inlen - s->inpos;
	lf = memchr(start, '\n', avail);
	if (s->flags & SMTP_F_SKIPPING) {
		if (lf == NULL) {
			s->inpos = s->inlen;
			return 0;
		}
		s->inpos += (uint32_t)(lf - start) + 1;
		s->flags &= ~SMTP_F_SKIPPING;
		smtp_error(s, SIM_RK_LINE_TOO_LONG, SIM_STAGE_OTHER);
		return 1;
	}
	if (lf == NULL) {
		if (avail < SMTP_CMD_LINE_MAX)
			return 0;
		/* Even the LF still to come would not fit: skip to it. */
		s->flags |= SMTP_F_SKIPPING;
		s->inpos = s->inlen;
		return 0;
	}
	len = (size_t)(lf - start) + 1;
	s->inpos += (uint32_t)len;
	if (len > SMTP_CMD_LINE_MAX) {
		smtp_error(s, SIM_RK_LINE_TOO_LONG, SIM_STAGE_OTHER);
		return 1;
	}
	end = lf;
	if (end > start && end[-1] == '\r')
		end--;
	smtp_command(s, start, (size_t)(end - start));
	return 1;
}

/* smtp_command - split verb and argument, dispatch through smtp_cmds[] */
static void
smtp_command(struct smtp_session *s, const char *line, size_t len)
{
	const struct smtp_cmd *c;
	struct smtp_str arg;
	size_t i, vlen;

	if (s->state == SMTP_STATE_AUTH) {
		smtp_auth_login(s, line, len);
		return;
	}
	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		;
	arg.p = line + vlen;
	arg.len = len - vlen;
	while (arg.len > 0 && *arg.p == ' ') {
		arg.p++;
		arg.len--;
	}
	while (arg.len > 0 && arg.p[arg.len - 1] == ' ')
		arg.len--;

	for (i = 0; i < sizeof(smtp_cmds) / sizeof(smtp_cmds[0]); i++) {
		c = &smtp_cmds[i];
		if (c->len == vlen && strncasecmp(c->name, line, vlen) == 0)
			break;
	}
	if (s->state == SMTP_STATE_REFUSED &&
	    (i == sizeof(smtp_cmds) / sizeof(smtp_cmds[0]) ||
	    c->fn != smtp_cmd_quit)) {
		smtp_error(s, SIM_RK_BAD_SEQ, SIM_STAGE_OTHER);
		return;
	}
	if (i == sizeof(smtp_cmds) / sizeof(smtp_cmds[0])) {
		smtp_error(s, SIM_RK_UNKNOWN_CMD, SIM_STAGE_OTHER);
		return;
	}
	if (((c->flags & SMTP_CMD_NOARG) && arg.len > 0) ||
	    ((c->flags & SMTP_CMD_NEEDARG) && arg.len == 0)) {
		smtp_error(s, c->stage == SIM_STAGE_EHLO ? SIM_RK_BAD_HELO :
		    SIM_RK_SYNTAX, c->stage);
		return;
	}
	c->fn(s, arg);
}

/* smtp_data_feed - DATA sink hook: @n bytes of message text at @p, after
 * dot-unstuffing, in order, cut anywhere.  A per-transaction consumer
 * (the message scanner, through s->dsink) is fed here. */
static inline void
smtp_data_feed(struct smtp_session *s, const uint8_t *p, size_t n)
{
	struct smtp_dctx *d = s->dsink;

	if (d == NULL)
		return;
	if (d->scanning)
		msg_scan_feed(&d->scan, p, n);
	if (d->am.dv != NULL)
		smtp_auth_msg_feed(&d->am, p, n);
}

/*
 * smtp_data - run the DATA recogniser over buffered input; stops after the
 * final CRLF.CRLF (and answers it) or when the input is used up.  At a
 * line start it steps over "." and ".\r" one byte at a time; from the
 * first text byte it takes the line up to its LF (or the end of the
 * input) in one memchr() step.
 */
static void
smtp_data(struct smtp_session *s)
{
	const uint8_t *buf = s->in, *p, *lf;
	enum smtp_dstate d = s->dstate;
	uint64_t size = s->dsize;
	uint32_t line = s->dline;
	size_t i = s->inpos, n = s->inlen, run;
	int end = 0;

	while (i < n && !end) {
		switch (d) {
		case SMTP_D_BOL:
			if (buf[i] == '.') {
				d = SMTP_D_DOT;		/* not counted: */
				line++;			/* stuffing or end */
				i++;
				continue;
			}
			break;
		case SMTP_D_DOT:
			if (buf[i] == '\r') {
				d = SMTP_D_DOT_CR;
				line++;
				i++;
				continue;
			}
			break;			/* the dot was stuffing */
		case SMTP_D_DOT_CR:
			if (buf[i] == '\n') {
				end = 1;
				i++;
				continue;
			}
			size++;			/* ".\r" + other: CR is text */
			smtp_data_feed(s, (const uint8_t *)"\r", 1);
			d = SMTP_D_CR;
			break;
		case SMTP_D_TEXT:
		case SMTP_D_CR:
			break;
		default:
			abort();
		}
		/* Message text from buf[i] to its LF or the end of input. */
		p = buf + i;
		lf = memchr(p, '\n', n - i);
		if (lf == NULL) {
			run = n - i;
			d = buf[n - 1] == '\r' ? SMTP_D_CR : SMTP_D_TEXT;
		} else {
			run = (size_t)(lf - p) + 1;
			/* CRLF starts a line; a bare LF does not */
			if (run > 1 ? lf[-1] == '\r' : d == SMTP_D_CR)
				d = SMTP_D_BOL;
			else
				d = SMTP_D_TEXT;
		}
		size += run;
		line += (uint32_t)run;
		if (line > SMTP_TEXT_LINE_MAX) {
			s->flags |= SMTP_F_LONGLINE;
			line = SMTP_TEXT_LINE_MAX + 1;
		}
		if (lf != NULL)
			line = 0;
		smtp_data_feed(s, p, run);
		i += run;
	}
	s->inpos = (uint32_t)i;
	s->dstate = d;
	s->dsize = size;
	s->dline = line;
	if (end)
		smtp_eod(s);
}

/* smtp_eod - the message is complete: ask the policy, answer, reset */
static void
smtp_eod(struct smtp_session *s)
{
	const char *const *rv;
	struct smtp_dctx *d = s->dsink;
	struct sim_facts f;
	struct sim_verdict v;
	struct sim_auth a;

	s->size = s->dsize;
	smtp_enter_state(s, SMTP_STATE_READY);
	if (s->flags & SMTP_F_LONGLINE) {
		smtp_error(s, SIM_RK_DATA_LINE_TOO_LONG, SIM_STAGE_EOD);
	} else {
		smtp_facts(s, &f, &a);
		if (d != NULL && d->scanning) {
			msg_scan_end(&d->scan);
			f.msg = &d->scan.info;
		}
		if (d != NULL && s->env->auth != NULL &&
		    (s->flags & SMTP_F_SPF)) {
			d->res = a;
			smtp_auth_msg_end(s->env->auth, &d->am, s->ip_text,
			    s->sender_domain != NULL ? s->sender_domain :
			    (s->flags & SMTP_F_HELO ? s->helo : NULL),
			    s->sender_domain == NULL, d->scanning ?
			    &d->scan.info : NULL, &d->res);
			d->have_res = true;
			f.auth = &d->res;
		}
		f.nrcpts = smtp_rcpt_list(s, &rv);
		f.rcpts = rv;
		f.size = s->dsize;
		smtp_decide(s, SIM_STAGE_EOD, &f, &v);
		s->eodv = &v;
		if (v.rk == SIM_RK_ACCEPT) {
			s->msgs_in_conn++;
			if (s->flags & SMTP_F_AUTHED)
				sim_acct_commit(s->env->acct, s->acct,
				    s->arena.nrcpts, sim_clock_now(s->env->clock));
			smtp_reply(s, SIM_RK_DATA_OK, SIM_STAGE_EOD, 0);
		} else
			smtp_reply(s, v.rk, SIM_STAGE_EOD, v.limit);
		s->eodv = NULL;
	}
	smtp_txn_reset(s);
	if ((s->flags & (SMTP_F_SHUTDOWN | SMTP_F_CLOSING)) == SMTP_F_SHUTDOWN)
		smtp_reply(s, SIM_RK_SHUTDOWN, SIM_STAGE_OTHER, 0);
}

/*
 * smtp_parse_path - "FROM:<addr> params" (keyword @kw): the address
 * between the brackets (source route removed) and the rest.
 * @return 0, or -1 on a syntax error.
 */
static int
smtp_parse_path(struct smtp_str arg, const char *kw, struct smtp_str *addr,
    struct smtp_str *rest)
{
	size_t kwlen = strlen(kw), i, close;

	if (arg.len < kwlen || strncasecmp(arg.p, kw, kwlen) != 0)
		return -1;
	for (i = kwlen; i < arg.len && arg.p[i] == ' '; i++)
		;			/* tolerated: "MAIL FROM: <a@b>" */
	if (i == arg.len || arg.p[i] != '<')
		return -1;
	/* No SMTPUTF8: an address is printable ASCII without '<' or space;
	 * NUL, controls and 8-bit bytes are syntax errors. */
	for (close = ++i; close < arg.len && arg.p[close] != '>'; close++)
		if (arg.p[close] == '<' || (unsigned char)arg.p[close] <= ' ' ||
		    (unsigned char)arg.p[close] >= 0x7f)
			return -1;
	if (close == arg.len)
		return -1;
	addr->p = arg.p + i;
	addr->len = close - i;
	if (addr->len > 0 && addr->p[0] == '@') {
		/* Source route "@a,@b:user@dom": keep what follows ':'. */
		for (i = 0; i < addr->len && addr->p[i] != ':'; i++)
			;
		if (i == addr->len)
			return -1;
		addr->p += i + 1;
		addr->len -= i + 1;
	}
	rest->p = arg.p + close + 1;
	rest->len = arg.len - close - 1;
	if (rest->len > 0 && rest->p[0] != ' ')
		return -1;
	return 0;
}

/*
 * smtp_next_param - next "KEY[=VALUE]" of a MAIL/RCPT parameter list.
 * @return 1 with @key and @val (len 0 when absent), 0 at the end.
 */
static int
smtp_next_param(struct smtp_str *rest, struct smtp_str *key,
    struct smtp_str *val)
{
	size_t i, n;

	while (rest->len > 0 && rest->p[0] == ' ') {
		rest->p++;
		rest->len--;
	}
	if (rest->len == 0)
		return 0;
	for (n = 0; n < rest->len && rest->p[n] != ' '; n++)
		;
	for (i = 0; i < n && rest->p[i] != '='; i++)
		;
	key->p = rest->p;
	key->len = i;
	val->p = rest->p + (i < n ? i + 1 : n);
	val->len = i < n ? n - i - 1 : 0;
	rest->p += n;
	rest->len -= n;
	return 1;
}

/* smtp_addr_domain - offset of the domain of "local@domain", or 0 when
 * malformed (no '@', empty local part or domain) */
static size_t
smtp_addr_domain(struct smtp_str a)
{
	size_t at;

	for (at = a.len; at > 0 && a.p[at - 1] != '@'; at--)
		;
	if (at < 2 || at == a.len)
		return 0;
	return at;
}

/* smtp_cmd_ehlo - EHLO: multi-line reply with extensions */
static void
smtp_cmd_ehlo(struct smtp_session *s, struct smtp_str arg)
{
	smtp_hello(s, arg, SIM_RK_EHLO);
}

/* smtp_cmd_helo - HELO: single-line reply */
static void
smtp_cmd_helo(struct smtp_session *s, struct smtp_str arg)
{
	smtp_hello(s, arg, SIM_RK_HELO);
}

/* smtp_hello - EHLO/HELO: reset everything, ask the policy, greet */
static void
smtp_hello(struct smtp_session *s, struct smtp_str arg, enum sim_rk ok)
{
	struct sim_facts f;
	struct sim_verdict v;

	smtp_txn_reset(s);
	if (arg.len >= SMTP_HELO_SIZE)
		arg.len = SMTP_HELO_SIZE - 1;	/* cannot happen: line max */
	memcpy(s->helo, arg.p, arg.len);
	s->helo[arg.len] = '\0';
	s->flags |= SMTP_F_HELO;
	if (s->flags & SMTP_F_HELD) {
		/* refused at connect, answered here (Gmail's conn.limit) */
		s->flags &= ~SMTP_F_HELD;
		smtp_reply(s, (enum sim_rk)s->held_rk, SIM_STAGE_EHLO,
		    s->held_limit);
		return;
	}

	smtp_facts(s, &f, NULL);
	smtp_decide(s, SIM_STAGE_EHLO, &f, &v);
	if (v.rk == SIM_RK_ACCEPT) {
		smtp_enter_state(s, SMTP_STATE_READY);
		smtp_reply(s, ok, SIM_STAGE_EHLO, 0);
	} else {
		smtp_enter_state(s, SMTP_STATE_GREETING);
		smtp_reply(s, v.rk, SIM_STAGE_EHLO, v.limit);
	}
}

/* smtp_mail_spf - SPF of the transaction (client IP, HELO, MAIL FROM) */
static void
smtp_mail_spf(struct smtp_session *s, struct smtp_str addr)
{
	char from[SMTP_CMD_LINE_MAX];
	struct sim_auth a;
	size_t n = addr.len < sizeof(from) ? addr.len : sizeof(from) - 1;

	memcpy(from, addr.p, n);
	from[n] = '\0';
	memset(&a, 0, sizeof(a));
	smtp_auth_spf(s->env->auth, s->ip_text,
	    s->flags & SMTP_F_HELO ? s->helo : NULL, from, &a);
	s->spf = (uint8_t)a.spf;
	s->spf_hard = a.spf_hardfail;
	s->flags |= SMTP_F_SPF;
}

/* smtp_cmd_mail - MAIL FROM:<addr> [SIZE=n] [BODY=7BIT|8BITMIME] */
static void
smtp_cmd_mail(struct smtp_session *s, struct smtp_str arg)
{
	struct smtp_str addr, rest, key, val;
	struct sim_facts f;
	struct sim_verdict v;
	struct sim_auth a;
	uint64_t size = 0;
	size_t i, dom = 0;

	if (s->state != SMTP_STATE_READY) {
		smtp_error(s, SIM_RK_BAD_SEQ, SIM_STAGE_MAIL);
		return;
	}
	if (smtp_parse_path(arg, "FROM:", &addr, &rest) != 0 ||
	    (addr.len > 0 && (dom = smtp_addr_domain(addr)) == 0)) {
		smtp_error(s, SIM_RK_BAD_SENDER, SIM_STAGE_MAIL);
		return;
	}
	while (smtp_next_param(&rest, &key, &val)) {
		if (key.len == 4 && strncasecmp(key.p, "SIZE", 4) == 0) {
			if (val.len == 0 || val.len > 19) {
				smtp_error(s, SIM_RK_SYNTAX, SIM_STAGE_MAIL);
				return;
			}
			for (size = 0, i = 0; i < val.len; i++) {
				if (val.p[i] < '0' || val.p[i] > '9') {
					smtp_error(s, SIM_RK_SYNTAX,
					    SIM_STAGE_MAIL);
					return;
				}
				size = size * 10 + (uint64_t)(val.p[i] - '0');
			}
		} else if (key.len == 4 && strncasecmp(key.p, "BODY", 4) == 0) {
			if (!(val.len == 4 && strncasecmp(val.p, "7BIT", 4) ==
			    0) && !(val.len == 8 && strncasecmp(val.p,
			    "8BITMIME", 8) == 0)) {
				smtp_error(s, SIM_RK_BAD_PARAM, SIM_STAGE_MAIL);
				return;
			}
		} else {
			smtp_error(s, SIM_RK_BAD_PARAM, SIM_STAGE_MAIL);
			return;
		}
	}

	/* The transaction's arena: its first chunk holds any sender. */
	if (smtp_arena_open(&s->arena) != 0) {
		smtp_busy(s);
		return;
	}
	s->sender_domain = NULL;
	if (addr.len > 0 && smtp_arena_copy(&s->arena, addr.p + dom,
	    addr.len - dom, true, &s->sender_domain) != 0)
		abort();
	s->sender_key = sim_grey_hash(addr.p, addr.len);
	s->size = size;
	if (s->env->auth != NULL)
		smtp_mail_spf(s, addr);
	smtp_txn_open(s);
	smtp_facts(s, &f, &a);
	f.size = size;
	smtp_decide(s, SIM_STAGE_MAIL, &f, &v);
	smtp_submit_gate(s, SIM_STAGE_MAIL, &v);
	if (v.rk == SIM_RK_ACCEPT) {
		smtp_enter_state(s, SMTP_STATE_MAIL);
		smtp_reply(s, SIM_RK_MAIL_OK, SIM_STAGE_MAIL, 0);
		return;
	}
	smtp_reply(s, v.rk, SIM_STAGE_MAIL, v.limit);
	smtp_txn_reset(s);
}

/* smtp_cmd_rcpt - RCPT TO:<addr> (or <postmaster>) */
static void
smtp_cmd_rcpt(struct smtp_session *s, struct smtp_str arg)
{
	const char *const *rv;
	struct smtp_str addr, rest, key, val;
	struct sim_facts f;
	struct sim_verdict v;
	struct sim_auth a;
	const char *rcpt;

	if (s->state != SMTP_STATE_MAIL && s->state != SMTP_STATE_RCPT) {
		smtp_error(s, SIM_RK_BAD_SEQ, SIM_STAGE_RCPT);
		return;
	}
	if (smtp_parse_path(arg, "TO:", &addr, &rest) != 0 ||
	    (smtp_addr_domain(addr) == 0 && !(addr.len == 10 &&
	    strncasecmp(addr.p, "postmaster", 10) == 0))) {
		smtp_error(s, SIM_RK_BAD_RCPT, SIM_STAGE_RCPT);
		return;
	}
	if (smtp_next_param(&rest, &key, &val)) {
		smtp_error(s, SIM_RK_BAD_PARAM, SIM_STAGE_RCPT);
		return;
	}
	/* The session's bounds (RFC 5321 4.5.3.1.10: 452): the most
	 * recipients kept, the transaction's arena bound, and the pool's
	 * growth chunks; profile limits below them answer first, from the
	 * policy. */
	if (s->arena.nrcpts >= SMTP_MAX_RCPTS || smtp_arena_rcpt_copy(&s->arena,
	    addr.p, addr.len, &rcpt) != 0) {
		smtp_reply(s, SIM_RK_RCPTS_TOO_MANY, SIM_STAGE_RCPT,
		    s->arena.nrcpts);
		return;
	}
	s->cur_rcpt = rcpt;
	smtp_facts(s, &f, &a);
	f.rcpt = rcpt;
	f.nrcpts = smtp_rcpt_list(s, &rv);
	f.rcpts = rv;
	smtp_decide(s, SIM_STAGE_RCPT, &f, &v);
	smtp_submit_gate(s, SIM_STAGE_RCPT, &v);
	if (v.rk == SIM_RK_ACCEPT) {
		smtp_arena_rcpt_keep(&s->arena, rcpt);
		smtp_enter_state(s, SMTP_STATE_RCPT);
		smtp_reply(s, SIM_RK_RCPT_OK, SIM_STAGE_RCPT, 0);
	} else {
		smtp_reply(s, v.rk, SIM_STAGE_RCPT, v.limit);
		smtp_arena_unwind(&s->arena, rcpt);
	}
	s->cur_rcpt = NULL;
}

/* smtp_cmd_data - DATA: ask the policy, then 354 and the recogniser */
static void
smtp_cmd_data(struct smtp_session *s, struct smtp_str arg)
{
	const char *const *rv;
	struct sim_facts f;
	struct sim_verdict v;
	struct sim_auth a;

	(void)arg;
	switch (s->state) {
	case SMTP_STATE_GREETING:
	case SMTP_STATE_READY:
		smtp_error(s, SIM_RK_BAD_SEQ, SIM_STAGE_DATA);
		return;
	case SMTP_STATE_MAIL:
		smtp_error(s, SIM_RK_NO_VALID_RCPT, SIM_STAGE_DATA);
		return;
	case SMTP_STATE_RCPT:
		break;
	default:
		abort();
	}
	smtp_facts(s, &f, &a);
	f.nrcpts = smtp_rcpt_list(s, &rv);
	f.rcpts = rv;
	smtp_decide(s, SIM_STAGE_DATA, &f, &v);
	if (v.rk != SIM_RK_ACCEPT) {
		smtp_reply(s, v.rk, SIM_STAGE_DATA, v.limit);
		return;
	}
	if (smtp_dctx_get(s) != 0) {
		smtp_busy(s);
		return;
	}
	s->dstate = SMTP_D_BOL;
	s->dline = 0;
	s->dsize = 0;
	s->flags &= ~SMTP_F_LONGLINE;
	smtp_enter_state(s, SMTP_STATE_DATA);
	smtp_reply(s, SIM_RK_DATA_GO, SIM_STAGE_DATA, 0);
}

/* smtp_scan_mode - how much of this message the scanner reads: what the
 * profile's rules read (prof_profile.scan, decided at load), the header
 * From at least when DMARC is computed; nothing without env->scan */
static enum prof_scan
smtp_scan_mode(const struct smtp_session *s)
{
	enum prof_scan m;

	if (!s->env->scan)
		return PROF_SCAN_NONE;
	m = s->p != NULL ? s->p->scan : PROF_SCAN_ALL;
	if (m == PROF_SCAN_NONE && s->env->auth != NULL)
		m = PROF_SCAN_HEADERS;
	return m;
}

/* smtp_dctx_get - attach a DATA context when the message is to be
 * scanned or authenticated; @return 0, or -1 when the pool has none */
static int
smtp_dctx_get(struct smtp_session *s)
{
	struct smtp_dctx *d;
	enum prof_scan mode;

	mode = smtp_scan_mode(s);
	if (mode == PROF_SCAN_NONE && s->env->auth == NULL)
		return 0;
	smtp_dctx_put(s);
	if (s->pool == NULL)
		d = s->dprivate;
	else
		d = smtp_slab_get(&s->pool->dctxs);
	if (d == NULL)
		return s->pool == NULL ? 0 : -1;
	d->have_res = false;
	d->scanning = mode != PROF_SCAN_NONE;
	if (d->scanning)
		msg_scan_init(&d->scan, s->env->words);
	if (mode == PROF_SCAN_HEADERS)
		msg_scan_headers_only(&d->scan);
	memset(&d->am, 0, sizeof(d->am));
	if (s->env->auth != NULL)
		smtp_auth_msg_begin(s->env->auth, &d->am, s->ci.session_id);
	s->dsink = d;
	return 0;
}

/* smtp_cmd_rset - RSET: drop the transaction */
static void
smtp_cmd_rset(struct smtp_session *s, struct smtp_str arg)
{
	(void)arg;
	smtp_txn_reset(s);
	if (s->state == SMTP_STATE_MAIL || s->state == SMTP_STATE_RCPT)
		smtp_enter_state(s, SMTP_STATE_READY);
	smtp_reply(s, SIM_RK_RSET, SIM_STAGE_OTHER, 0);
}

/* smtp_cmd_noop - NOOP */
static void
smtp_cmd_noop(struct smtp_session *s, struct smtp_str arg)
{
	(void)arg;
	smtp_reply(s, SIM_RK_NOOP, SIM_STAGE_OTHER, 0);
}

/* smtp_cmd_quit - QUIT: 221 and close */
static void
smtp_cmd_quit(struct smtp_session *s, struct smtp_str arg)
{
	(void)arg;
	s->flags |= SMTP_F_QUIT;
	smtp_reply(s, SIM_RK_QUIT, SIM_STAGE_OTHER, 0);
}

/* smtp_cmd_vrfy - VRFY: 252, never verifies */
static void
smtp_cmd_vrfy(struct smtp_session *s, struct smtp_str arg)
{
	(void)arg;
	smtp_reply(s, SIM_RK_VRFY, SIM_STAGE_OTHER, 0);
}

/* smtp_cmd_help - HELP */
static void
smtp_cmd_help(struct smtp_session *s, struct smtp_str arg)
{
	(void)arg;
	smtp_reply(s, SIM_RK_HELP, SIM_STAGE_OTHER, 0);
}

/* smtp_cmd_unimpl - known commands we do not offer: 502 */
static void
smtp_cmd_unimpl(struct smtp_session *s, struct smtp_str arg)
{
	(void)arg;
	smtp_error(s, SIM_RK_UNIMPL_CMD, SIM_STAGE_OTHER);
}

/* smtp_tls_offered - is STARTTLS advertised now: the profile lists it,
 * the backend can do TLS and the session is not under TLS yet */
static bool
smtp_tls_offered(const struct smtp_session *s)
{
	size_t i;

	if (!s->env->tls_ok || (s->flags & SMTP_F_TLS) || s->p == NULL)
		return false;
	for (i = 0; i < s->p->next; i++)
		if (strcmp(s->p->ext[i], "STARTTLS") == 0)
			return true;
	return false;
}

/*
 * smtp_cmd_starttls - STARTTLS (RFC 3207): 220, then drop whatever the
 * client pipelined after the command (it was sent in clear and must not
 * be executed under TLS) and wait for the backend's handshake.  Where the
 * profile has protocol.starttls_pipelined, pipelined input is refused
 * with it instead: the input is dropped and the session stays in clear.
 */
static void
smtp_cmd_starttls(struct smtp_session *s, struct smtp_str arg)
{
	(void)arg;
	if (s->flags & SMTP_F_TLS) {
		smtp_error(s, SIM_RK_BAD_SEQ, SIM_STAGE_OTHER);
		return;
	}
	if (!smtp_tls_offered(s)) {
		smtp_error(s, SIM_RK_UNIMPL_CMD, SIM_STAGE_OTHER);
		return;
	}
	if (s->state != SMTP_STATE_READY) {
		smtp_error(s, SIM_RK_BAD_SEQ, SIM_STAGE_OTHER);
		return;
	}
	if (s->inpos < s->inlen &&
	    s->p->replies[SIM_RK_STARTTLS_PIPELINED].enabled) {
		s->inpos = s->inlen;
		smtp_error(s, SIM_RK_STARTTLS_PIPELINED, SIM_STAGE_OTHER);
		return;
	}
	smtp_reply(s, SIM_RK_STARTTLS, SIM_STAGE_OTHER, 0);
	if (s->flags & SMTP_F_CLOSING)
		return;
	s->inpos = s->inlen;
	smtp_enter_state(s, SMTP_STATE_TLS);
}

/* smtp_cmd_auth - AUTH (RFC 4954) on a submission profile */
static void
smtp_cmd_auth(struct smtp_session *s, struct smtp_str arg)
{
	struct smtp_sasl_out o;
	char buf[SMTP_SASL_BUF];

	if (s->p == NULL || s->p->submit.mechs == 0) {
		smtp_error(s, SIM_RK_UNIMPL_CMD, SIM_STAGE_OTHER);
		return;
	}
	if (s->state != SMTP_STATE_READY || (s->flags & SMTP_F_AUTHED)) {
		smtp_error(s, SIM_RK_BAD_SEQ, SIM_STAGE_AUTH);
		return;
	}
	if ((s->flags & SMTP_F_TLS) == 0) {
		smtp_reply(s, SIM_RK_SUBMIT_TLS, SIM_STAGE_AUTH, 0);
		return;
	}
	s->acct = -1;
	smtp_auth_result(s, smtp_sasl_start(&s->sasl, s->p->submit.mechs,
	    arg.p, arg.len, buf, &o), &o);
}

/* smtp_auth_login - a response line while AUTH is under way */
static void
smtp_auth_login(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_sasl_out o;
	char buf[SMTP_SASL_BUF];

	smtp_auth_result(s, smtp_sasl_step(&s->sasl, line, len, buf, &o), &o);
}

/* smtp_auth_result - answer one step of the SASL exchange */
static void
smtp_auth_result(struct smtp_session *s, enum smtp_sasl_res res,
    const struct smtp_sasl_out *o)
{
	if (o->user != NULL)
		s->acct = prof_world_account(s->world, s->prof, o->user,
		    o->ulen);
	if (res == SMTP_SASL_CHALLENGE) {
		smtp_enter_state(s, SMTP_STATE_AUTH);
		smtp_challenge(s, o->challenge);
		return;
	}
	smtp_enter_state(s, SMTP_STATE_READY);
	switch (res) {
	case SMTP_SASL_CREDS:
		switch (sim_acct_login(s->env->acct, s->world, s->acct, o->pass,
		    o->plen, sim_clock_now(s->env->clock))) {
		case SIM_ACCT_OK:
			s->flags |= SMTP_F_AUTHED;
			smtp_reply(s, SIM_RK_AUTH_OK, SIM_STAGE_AUTH, 0);
			return;
		case SIM_ACCT_LOCKED:
			smtp_reply(s, SIM_RK_SUBMIT_LOCKED, SIM_STAGE_AUTH, 0);
			break;
		case SIM_ACCT_BAD:
		default:
			smtp_reply(s, SIM_RK_SUBMIT_BAD_CRED, SIM_STAGE_AUTH, 0);
			break;
		}
		break;
	case SMTP_SASL_CANCEL:
		smtp_error(s, SIM_RK_SUBMIT_CANCEL, SIM_STAGE_AUTH);
		break;
	case SMTP_SASL_BASE64:
		smtp_error(s, SIM_RK_SUBMIT_BASE64, SIM_STAGE_AUTH);
		break;
	case SMTP_SASL_MECH:
		smtp_error(s, SIM_RK_SUBMIT_MECH, SIM_STAGE_AUTH);
		break;
	case SMTP_SASL_SYNTAX:
	default:
		smtp_error(s, SIM_RK_SYNTAX, SIM_STAGE_AUTH);
		break;
	}
	s->acct = -1;
}

/* smtp_challenge - "334 text": a SASL challenge (no reply kind, no event) */
static void
smtp_challenge(struct smtp_session *s, const char *b64)
{
	size_t cap;
	int n;

	if (smtp_buf_get(s, &s->out) != 0) {
		smtp_busy(s);
		return;
	}
	cap = smtp_outroom(s);
	n = snprintf((char *)s->out + s->outlen, cap, "334 %s\r\n", b64);
	if (n > 0 && (size_t)n < cap)
		s->outlen += (uint32_t)n;
}

/* smtp_submit_gate - a submission profile's account rules on a MAIL or
 * RCPT the policy accepted: AUTH first, then limits.per_user */
static void
smtp_submit_gate(struct smtp_session *s, enum sim_stage stage,
    struct sim_verdict *v)
{
	uint64_t now, limit = 0;
	enum sim_rk rk = SIM_RK_ACCEPT;

	if (v->rk != SIM_RK_ACCEPT || s->p == NULL || s->p->submit.mechs == 0)
		return;
	if ((s->flags & SMTP_F_AUTHED) == 0) {
		v->rk = SIM_RK_SUBMIT_AUTH_REQ;
		v->limit = 0;
		return;
	}
	now = sim_clock_now(s->env->clock);
	if (stage == SIM_STAGE_MAIL ? !sim_acct_may_send(s->env->acct, s->acct,
	    &s->p->limits, now, &rk, &limit) : !sim_acct_may_rcpt(s->env->acct,
	    s->acct, &s->p->limits, s->arena.nrcpts, now, &limit)) {
		v->rk = stage == SIM_STAGE_MAIL ? rk : SIM_RK_SUBMIT_RCPTS;
		v->limit = limit;
	}
}

/* smtp_pool_new - fixed pools for one worker, every transaction able
 * to grow to its bound */
struct smtp_pool *
smtp_pool_new(uint32_t nsessions, uint32_t nbufs, uint32_t ntxns)
{
	uint64_t ngrow = (uint64_t)ntxns * (SMTP_ARENA_TXN_CHUNKS - 1);

	if (ngrow > UINT32_MAX / 2)
		return NULL;
	return smtp_pool_new_chunks(nsessions, nbufs, ntxns, (uint32_t)ngrow);
}

/* smtp_pool_new_chunks - fixed pools for one worker */
struct smtp_pool *
smtp_pool_new_chunks(uint32_t nsessions, uint32_t nbufs, uint32_t ntxns,
    uint32_t nchunks)
{
	struct smtp_pool *pool;

	if (nsessions == 0 || nbufs == 0 || ntxns == 0)
		return NULL;
	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return NULL;
	if (smtp_slab_init(&pool->sess, sizeof(struct smtp_session),
	    nsessions) != 0 ||
	    smtp_slab_init(&pool->bufs, SMTP_BUF_SIZE, nbufs) != 0 ||
	    smtp_arena_pool_init(&pool->arenas, ntxns, nchunks) != 0 ||
	    smtp_slab_init(&pool->dctxs, sizeof(struct smtp_dctx), ntxns) !=
	    0) {
		smtp_pool_free(pool);
		return NULL;
	}
	return pool;
}

/* smtp_pool_free - unmap a worker's pools */
void
smtp_pool_free(struct smtp_pool *pool)
{
	if (pool == NULL)
		return;
	smtp_slab_fini(&pool->sess);
	smtp_slab_fini(&pool->bufs);
	smtp_arena_pool_fini(&pool->arenas);
	smtp_slab_fini(&pool->dctxs);
	free(pool);
}

/* smtp_pool_stats - counters of a pool */
void
smtp_pool_stats(const struct smtp_pool *pool, struct smtp_pool_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->sessions = pool->sess.used;
	out->sessions_peak = pool->sess.peak;
	out->bufs = pool->bufs.used;
	out->bufs_peak = pool->bufs.peak;
	out->txns = pool->arenas.first_used;
	out->txns_peak = pool->arenas.first_peak;
	out->chunks = pool->arenas.grow_used;
	out->chunks_peak = pool->arenas.grow_peak;
	out->arena_exhausted = pool->arenas.exhausted;
	out->arena_full = pool->arenas.full;
	out->dctxs = pool->dctxs.used;
	out->dctxs_peak = pool->dctxs.peak;
	out->exhausted = pool->exhausted;
}

/* smtp_session_size - bytes of a pooled session struct */
size_t
smtp_session_size(void)
{
	return sizeof(struct smtp_session);
}

/* smtp_session_addr_text - the client in text, and an IPv6 client's
 * identity keys (sim_addr.h) */
static void
smtp_session_addr_text(struct smtp_session *s)
{
	const struct smtp_conn_info *ci = &s->ci;

	if (!ci->v6) {
		s->ip_text[sim_fmt_ipv4(s->ip_text, ci->client_ip)] = '\0';
		s->v6_key[0] = s->v6_net[0] = '\0';
		return;
	}
	sim_addr6_fmt(&ci->client6, s->ip_text, sizeof(s->ip_text));
	sim_addr6_key(&ci->client6, s->world->ipv6_prefix, s->v6_key,
	    sizeof(s->v6_key));
	sim_addr6_key(&ci->client6, s->world->ipv6_netblock, s->v6_net,
	    sizeof(s->v6_net));
}

/* smtp_session_init - fill a fresh struct (the HELO buffer is left as
 * it is: it is read only once SMTP_F_HELO says it was written) */
static void
smtp_session_init(struct smtp_session *s, const struct smtp_env *env,
    const struct smtp_conn_info *ci)
{
	int prof;

	memset(s, 0, offsetof(struct smtp_session, helo));
	s->env = env;
	s->ci = *ci;
	s->world = world_hold(env->world);
	smtp_session_addr_text(s);
	prof = ci->v6 ? prof_world_lookup6(s->world, &ci->mx6) :
	    prof_world_lookup(s->world, ci->mx_ip);
	if (prof < 0) {
		s->prof = UINT32_MAX;
		s->p = NULL;
	} else {
		s->prof = (uint32_t)prof;
		s->p = s->world->profiles[prof];
	}
	s->state = SMTP_STATE_GREETING;
	s->dstate = SMTP_D_BOL;
	s->acct = -1;
}

/* smtp_session_new - a session with private buffers, in one block */
struct smtp_session *
smtp_session_new(const struct smtp_env *env, const struct smtp_conn_info *ci)
{
	struct smtp_arena_pool *ap;
	struct smtp_session *s;
	uint8_t *m;
	size_t head, apsz, dsz;

	/* the arena's chunk pool and the DATA context first (aligned),
	 * then the byte buffers; the chunks are one transaction's worth */
	head = (sizeof(*s) + 15) & ~(size_t)15;
	apsz = (sizeof(*ap) + 15) & ~(size_t)15;
	dsz = env->scan || env->auth != NULL ?
	    (sizeof(struct smtp_dctx) + 15) & ~(size_t)15 : 0;
	m = malloc(head + apsz + dsz + SMTP_INBUF_SIZE + SMTP_OUTBUF_SIZE);
	if (m == NULL)
		return NULL;
	ap = (struct smtp_arena_pool *)(void *)(m + head);
	if (smtp_arena_pool_init(ap, 1, SMTP_ARENA_TXN_CHUNKS - 1) != 0) {
		free(m);
		return NULL;
	}
	s = (struct smtp_session *)m;
	smtp_session_init(s, env, ci);
	smtp_arena_init(&s->arena, ap);
	s->dprivate = dsz > 0 ? (struct smtp_dctx *)(m + head + apsz) : NULL;
	s->in = m + head + apsz + dsz;
	s->out = s->in + SMTP_INBUF_SIZE;
	return s;
}

/* smtp_session_new_pool - a small session borrowing from @pool */
struct smtp_session *
smtp_session_new_pool(const struct smtp_env *env, struct smtp_pool *pool,
    const struct smtp_conn_info *ci)
{
	struct smtp_session *s;

	if ((s = smtp_slab_get(&pool->sess)) == NULL)
		return NULL;
	smtp_session_init(s, env, ci);
	smtp_arena_init(&s->arena, &pool->arenas);
	s->pool = pool;
	return s;
}

/* smtp_session_start - ask the policy at connect; greet or refuse */
void
smtp_session_start(struct smtp_session *s)
{
	struct sim_facts f;
	struct sim_verdict v;

	if (s->p == NULL) {
		smtp_reply(s, SIM_RK_NO_MX, SIM_STAGE_CONNECT, 0);
		return;
	}
	smtp_facts(s, &f, NULL);
	smtp_decide(s, SIM_STAGE_CONNECT, &f, &v);
	if (v.rk == SIM_RK_ACCEPT) {
		s->flags |= SMTP_F_CONNECTED;
		smtp_reply(s, SIM_RK_GREETING, SIM_STAGE_CONNECT, 0);
	} else if (s->p->replies[v.rk].stage == SIM_STAGE_EHLO) {
		/* decided at connect (the connection is not counted), but
		 * the profile answers it to EHLO/HELO after the greeting */
		s->flags |= SMTP_F_HELD;
		s->held_rk = (uint16_t)v.rk;
		s->held_limit = v.limit;
		smtp_reply(s, SIM_RK_GREETING, SIM_STAGE_CONNECT, 0);
	} else
		smtp_reply(s, v.rk, SIM_STAGE_CONNECT, v.limit);
}

/* smtp_session_inbuf - where the backend writes input */
void
smtp_session_inbuf(struct smtp_session *s, uint8_t **p, size_t *room)
{
	if (s->in == NULL && smtp_buf_get(s, &s->in) != 0) {
		smtp_busy(s);
		*p = NULL;
		*room = 0;
		return;
	}
	*p = s->in + s->inlen;
	*room = SMTP_INBUF_SIZE - s->inlen;
}

/* smtp_session_input - @n bytes arrived at the inbuf pointer */
void
smtp_session_input(struct smtp_session *s, size_t n)
{
	if (n > 0 && (s->in == NULL || n > SMTP_INBUF_SIZE - s->inlen))
		abort();
	s->inlen += (uint32_t)n;
	smtp_process(s);
}

/* smtp_session_outbuf - pending output */
void
smtp_session_outbuf(const struct smtp_session *s, const uint8_t **p,
    size_t *len)
{
	if (s->flags & SMTP_F_BUSYOUT)
		*p = (const uint8_t *)SMTP_BUSY_TEXT + s->outpos;
	else if (s->out != NULL)
		*p = s->out + s->outpos;
	else
		*p = (const uint8_t *)"";
	*len = s->outlen;
}

/* smtp_session_consume - @n bytes of output were sent */
void
smtp_session_consume(struct smtp_session *s, size_t n)
{
	if (n > s->outlen)
		abort();
	s->outpos += (uint32_t)n;
	s->outlen -= (uint32_t)n;
	if (s->outlen == 0) {
		s->outpos = 0;
		smtp_bufs_trim(s);
	}
}

/* smtp_time_limit - a time limit passed: reply rk and close */
static void
smtp_time_limit(struct smtp_session *s, enum sim_rk rk)
{
	if (s->flags & SMTP_F_CLOSING)
		return;
	if (s->state == SMTP_STATE_TLS)
		smtp_close(s);		/* no clear-text reply mid-handshake */
	else
		smtp_reply(s, rk, SIM_STAGE_OTHER, 0);
}

/* smtp_session_timeout - idle time limit: 421 4.4.2, close */
void
smtp_session_timeout(struct smtp_session *s)
{
	smtp_time_limit(s, SIM_RK_TIMEOUT);
}

/* smtp_session_expired - session time limit: protocol.expired, close */
void
smtp_session_expired(struct smtp_session *s)
{
	smtp_time_limit(s, SIM_RK_EXPIRED);
}

/* smtp_session_shutdown - 421 4.3.2 now, or after the message in DATA */
void
smtp_session_shutdown(struct smtp_session *s)
{
	if (s->flags & SMTP_F_CLOSING)
		return;
	if (s->state == SMTP_STATE_TLS)
		smtp_close(s);		/* no clear-text reply mid-handshake */
	else if (s->state == SMTP_STATE_DATA)
		s->flags |= SMTP_F_SHUTDOWN;
	else
		smtp_reply(s, SIM_RK_SHUTDOWN, SIM_STAGE_OTHER, 0);
}

/* smtp_session_eof - the peer is gone: nothing more is sent or counted */
void
smtp_session_eof(struct smtp_session *s)
{
	smtp_close(s);
	s->outpos = s->outlen = 0;
	s->inpos = s->inlen = 0;
	s->flags &= ~SMTP_F_BUSYOUT;
	smtp_bufs_trim(s);
}

/* smtp_session_closing - has the session decided to close */
bool
smtp_session_closing(const struct smtp_session *s)
{
	return (s->flags & SMTP_F_CLOSING) != 0;
}

/* smtp_session_done - closing and all output sent */
bool
smtp_session_done(const struct smtp_session *s)
{
	return (s->flags & SMTP_F_CLOSING) != 0 && s->outlen == 0;
}

/* smtp_session_quit - the session ended on the client's QUIT */
bool
smtp_session_quit(const struct smtp_session *s)
{
	return (s->flags & SMTP_F_QUIT) != 0;
}

/* smtp_session_wants_input - can input be accepted now */
bool
smtp_session_wants_input(const struct smtp_session *s)
{
	return (s->flags & SMTP_F_CLOSING) == 0 &&
	    s->state != SMTP_STATE_TLS && s->inlen < SMTP_INBUF_SIZE &&
	    (s->out == NULL || SMTP_OUTBUF_SIZE - s->outlen >= SMTP_REPLY_ROOM);
}

/* smtp_session_tls_wanted - STARTTLS answered, handshake awaited */
bool
smtp_session_tls_wanted(const struct smtp_session *s)
{
	return s->state == SMTP_STATE_TLS && (s->flags & SMTP_F_CLOSING) == 0;
}

/* smtp_session_tls_started - the handshake completed: back to the state
 * before EHLO, under TLS (RFC 3207 4.2) */
void
smtp_session_tls_started(struct smtp_session *s)
{
	if (s->state != SMTP_STATE_TLS || s->outlen != 0)
		abort();
	smtp_txn_reset(s);
	s->flags &= ~SMTP_F_HELO;
	s->flags |= SMTP_F_TLS;
	s->inpos = s->inlen = 0;
	smtp_enter_state(s, SMTP_STATE_GREETING);
	smtp_bufs_trim(s);
}

/* smtp_session_tls - does the session run over TLS */
bool
smtp_session_tls(const struct smtp_session *s)
{
	return (s->flags & SMTP_F_TLS) != 0;
}

/* smtp_session_profile - profile index, UINT32_MAX when no MX */
uint32_t
smtp_session_profile(const struct smtp_session *s)
{
	return s->prof;
}

/* smtp_session_strstate - state name */
const char *
smtp_session_strstate(const struct smtp_session *s)
{
	return smtp_strstate(s->state);
}

/* smtp_session_free - release the connection in the policy, free */
void
smtp_session_free(struct smtp_session *s)
{
	struct sim_facts f;

	if (s == NULL)
		return;
	if (s->flags & SMTP_F_CONNECTED) {
		smtp_facts(s, &f, NULL);
		sim_policy_release(s->env->world, s->env->state, &f,
		    sim_clock_now(s->env->clock));
	}
	smtp_txn_end(s);
	world_drop(s->world);
	s->world = NULL;
	if (s->pool == NULL) {
		smtp_dctx_put(s);
		smtp_arena_close(&s->arena);
		smtp_arena_pool_fini(s->arena.pool);
		free(s);
		return;
	}
	smtp_txn_reset(s);
	s->inlen = s->outlen = 0;
	s->flags &= ~SMTP_F_BUSYOUT;
	smtp_bufs_trim(s);
	smtp_slab_put(&s->pool->sess, s);
}
