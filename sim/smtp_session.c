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
 *	message), QUIT (closing).  smtp_enter_state() is the only place that
 *	assigns the state.
 *
 *	Bounds and their outcomes:
 *	- command line > SMTP_CMD_LINE_MAX octets (with its LF): skipped up
 *	  to the next LF, then "500 5.5.2" (protocol.line_too_long);
 *	- text line > SMTP_TEXT_LINE_MAX octets: remembered, and the message
 *	  is answered protocol.text_line_too_long instead of being accepted;
 *	- recipients: at most SMTP_MAX_RCPTS, and their lower-cased copies
 *	  must fit in the session arena (SMTP_ARENA_SIZE bytes, shared with
 *	  the HELO name and the sender domain); beyond either bound RCPT is
 *	  answered with the profile's rcpts.too_many reply (452 4.5.3 by
 *	  default) whether or not that policy kind is enabled;
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
 *	DATA is recognised byte by byte by a resumable state machine whose
 *	state lives in the session, so input may be split anywhere.  Only
 *	CRLF "." CRLF ends the message; a bare LF neither ends it nor starts
 *	a line for dot-unstuffing (no SMTP smuggling).  A bare LF does end a
 *	text line for the line-length limit.  The size counted is the
 *	message after dot-unstuffing, without the final ".\r\n".
 *
 *	Events: one env->on_event call per reply at the connect, ehlo, mail,
 *	rcpt, data and eod stages (except 354), and per 4xx/5xx reply at any
 *	stage.  A reply's stage is the stage of the command it answers;
 *	RSET, NOOP, VRFY, HELP, QUIT, unknown commands, overlong lines,
 *	timeouts and shutdowns are SIM_STAGE_OTHER.
 *
 *	No allocation after smtp_session_new().
 *
 * DIAGNOSTICS
 *	Panics (abort) on an impossible state or recogniser state, on input
 *	counts larger than the room given by smtp_session_inbuf(), and on
 *	consuming more output than is pending.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim_policy.h"
#include "smtp_reply.h"
#include "smtp_session.h"

#define SMTP_ARENA_SIZE		8192	/* helo, sender domain, recipients */
#define SMTP_REPLY_ROOM		1024	/* output room needed to read input */

_Static_assert(SMTP_ARENA_SIZE >= 2 * SMTP_CMD_LINE_MAX,
    "the arena must hold a HELO name and a sender domain");
_Static_assert(SMTP_OUTBUF_SIZE >= 2 * SMTP_REPLY_ROOM,
    "the output buffer must hold two replies");

enum smtp_state {
	SMTP_STATE_GREETING = 0,	/* connected, no EHLO/HELO yet */
	SMTP_STATE_READY,		/* greeted, no transaction */
	SMTP_STATE_MAIL,		/* MAIL accepted */
	SMTP_STATE_RCPT,		/* >= 1 recipient accepted */
	SMTP_STATE_DATA,		/* receiving the message */
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

/* A slice of the input buffer, valid until the buffer is compacted at the
 * end of smtp_process(). */
struct smtp_str {
	const char	*p;
	size_t		 len;
};

struct smtp_session {
	const struct smtp_env *env;
	const struct prof_profile *p;	/* NULL: no MX at this address */
	struct smtp_conn_info ci;
	uint32_t	 prof;		/* profile index or UINT32_MAX */
	enum smtp_state	 state;
	unsigned	 flags;		/* SMTP_F_* */
	uint32_t	 nerrors;	/* protocol errors so far */
	uint32_t	 msgs_in_conn;	/* messages accepted */

	/* Envelope; strings live in the arena. */
	const char	*helo;		/* EHLO/HELO argument */
	const char	*sender_domain;	/* lower case; NULL for <> or none */
	const char	*cur_rcpt;	/* recipient being answered */
	uint64_t	 size;		/* MAIL SIZE=, then bytes at EOD */
	uint32_t	 nrcpts;	/* accepted recipients */
	size_t		 arena_used;
	size_t		 arena_txn;	/* transaction data starts here */

	/* DATA recogniser, resumable at any byte. */
	enum smtp_dstate dstate;
	uint32_t	 dline;		/* octets in the current text line */
	uint64_t	 dsize;		/* message bytes after unstuffing */

	size_t		 inpos;		/* first unprocessed input byte */
	size_t		 inlen;		/* input bytes buffered */
	size_t		 outpos;	/* first unsent output byte */
	size_t		 outlen;	/* output bytes pending */

	const char	*rcpts[SMTP_MAX_RCPTS];
	char		 arena[SMTP_ARENA_SIZE];
	uint8_t		 inbuf[SMTP_INBUF_SIZE];
	uint8_t		 outbuf[SMTP_OUTBUF_SIZE];
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
static void	smtp_txn_reset(struct smtp_session *);
static const char *smtp_arena_copy(struct smtp_session *, const char *,
		    size_t, int);

/* replies, events, policy */
static size_t	smtp_outroom(struct smtp_session *);
static void	smtp_reply(struct smtp_session *, enum sim_rk, enum sim_stage,
		    uint64_t);
static size_t	smtp_reply_ehlo_ext(const struct smtp_session *, char *,
		    size_t, size_t);
static void	smtp_error(struct smtp_session *, enum sim_rk, enum sim_stage);
static void	smtp_event(const struct smtp_session *, enum sim_stage,
		    enum sim_rk, uint16_t, const char *);
static void	smtp_facts(const struct smtp_session *, struct sim_facts *);
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
static void	smtp_cmd_rcpt(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_data(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_rset(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_noop(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_quit(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_vrfy(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_help(struct smtp_session *, struct smtp_str);
static void	smtp_cmd_unimpl(struct smtp_session *, struct smtp_str);

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
	CMD("AUTH", smtp_cmd_unimpl, 0, SIM_STAGE_OTHER),
	CMD("BDAT", smtp_cmd_unimpl, 0, SIM_STAGE_OTHER),
	CMD("STARTTLS", smtp_cmd_unimpl, 0, SIM_STAGE_OTHER),
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
	CASE(QUIT);
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
	smtp_enter_state(s, SMTP_STATE_QUIT);
	s->flags |= SMTP_F_CLOSING;
}

/* smtp_txn_reset - forget the mail transaction (RSET, end of DATA) */
static void
smtp_txn_reset(struct smtp_session *s)
{
	s->sender_domain = NULL;
	s->cur_rcpt = NULL;
	s->size = 0;
	s->nrcpts = 0;
	s->arena_used = s->arena_txn;
	s->flags &= ~SMTP_F_LONGLINE;
}

/* smtp_arena_copy - NUL-terminated (optionally lower-cased) copy, or NULL
 * when the arena is full */
static const char *
smtp_arena_copy(struct smtp_session *s, const char *p, size_t len, int lower)
{
	char *d;
	size_t i;

	if (len + 1 > SMTP_ARENA_SIZE - s->arena_used)
		return NULL;
	d = s->arena + s->arena_used;
	for (i = 0; i < len; i++)
		d[i] = lower && p[i] >= 'A' && p[i] <= 'Z' ?
		    (char)(p[i] - 'A' + 'a') : p[i];
	d[len] = '\0';
	s->arena_used += len + 1;
	return d;
}

/* smtp_outroom - free output bytes, after moving pending output forward */
static size_t
smtp_outroom(struct smtp_session *s)
{
	if (s->outpos > 0) {
		memmove(s->outbuf, s->outbuf + s->outpos, s->outlen);
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
	char size[32];
	size_t i, need, last, nlines;
	int len;

	nlines = s->p->next;
	size[0] = '\0';
	if (s->p->limits.max_size > 0) {
		len = snprintf(size, sizeof(size), "SIZE %llu",
		    (unsigned long long)s->p->limits.max_size);
		if (len < 0 || (size_t)len >= sizeof(size))
			size[0] = '\0';
		else
			nlines++;
	}
	if (nlines == 0 || n < 6)
		return n;
	need = 0;
	for (i = 0; i < s->p->next; i++)
		need += 4 + strlen(s->p->ext[i]) + 2;
	if (size[0] != '\0')
		need += 4 + strlen(size) + 2;
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
		if (i < s->p->next) {
			memcpy(out + n, s->p->ext[i], strlen(s->p->ext[i]));
			n += strlen(s->p->ext[i]);
		} else {
			memcpy(out + n, size, strlen(size));
			n += strlen(size);
		}
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
	case SIM_RK_TOO_MANY_ERRORS:
	case SIM_RK_SHUTDOWN:
	case SIM_RK_NO_MX:
		close = 1;
		break;
	default:
		if (stage == SIM_STAGE_CONNECT && rk != SIM_RK_GREETING)
			close = 1;
		break;
	}

	v.client_ip = s->ci.client_ip;
	v.mx_ip = s->ci.mx_ip;
	v.session_id = s->ci.session_id;
	v.helo = s->helo;
	v.domain = s->sender_domain;
	v.addr = s->cur_rcpt;
	v.size = s->size;
	v.limit = limit;

	cap = smtp_outroom(s);
	out = (char *)s->outbuf + s->outlen;
	n = smtp_reply_render(s->p, rk, &v, out, cap);
	if (n == 0) {
		/* Text too long for the room left: code and kind name only. */
		len = snprintf(out, cap, "%03u%s%s %s\r\n", code % 1000,
		    *enh != '\0' ? " " : "", enh, ki->name);
		n = len > 0 && (size_t)len < cap ? (size_t)len : 0;
	}
	if (n > 0 && rk == SIM_RK_EHLO && s->p != NULL)
		n = smtp_reply_ehlo_ext(s, out, n, cap);
	s->outlen += n;

	if (code >= 400 || (stage != SIM_STAGE_OTHER && rk != SIM_RK_DATA_GO))
		smtp_event(s, stage, rk, code, enh);
	if (close)
		smtp_close(s);
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
	ev.sender_domain = s->sender_domain;
	ev.rcpt = stage == SIM_STAGE_RCPT ? s->cur_rcpt : NULL;
	ev.stage = stage;
	ev.rk = rk;
	ev.code = code;
	ev.enhanced = enh;
	ev.nrcpts = stage == SIM_STAGE_EOD ? s->nrcpts : 0;
	s->env->on_event(s->env->event_ctx, &ev);
}

/* smtp_facts - what the session knows, for the policy */
static void
smtp_facts(const struct smtp_session *s, struct sim_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->prof = s->prof;
	f->mx_ip = s->ci.mx_ip;
	f->client_ip = s->ci.client_ip;
	f->helo = s->helo;
	f->sender_domain = s->sender_domain;
	f->msgs_in_conn = s->msgs_in_conn;
	f->rcpts_in_txn = s->nrcpts;
}

/* smtp_decide - ask the policy at a stage */
static void
smtp_decide(struct smtp_session *s, enum sim_stage stage, struct sim_facts *f,
    struct sim_verdict *v)
{
	sim_policy_decide(s->env->world, s->env->state, stage, f,
	    sim_clock_now(s->env->clock), v);
}

/* smtp_process - handle buffered input while replies have room */
static void
smtp_process(struct smtp_session *s)
{
	while ((s->flags & SMTP_F_CLOSING) == 0 && s->inpos < s->inlen &&
	    smtp_outroom(s) >= SMTP_REPLY_ROOM) {
		if (s->state == SMTP_STATE_DATA)
			smtp_data(s);
		else if (smtp_line(s) == 0)
			break;
	}
	if (s->flags & SMTP_F_CLOSING) {
		s->inpos = s->inlen = 0;	/* nothing more is read */
		return;
	}
	if (s->inpos > 0) {
		memmove(s->inbuf, s->inbuf + s->inpos, s->inlen - s->inpos);
		s->inlen -= s->inpos;
		s->inpos = 0;
	}
}

/* smtp_line - take one command line; @return 0 when more input is needed */
static int
smtp_line(struct smtp_session *s)
{
	const char *start, *lf, *end;
	size_t avail, len;

	start = (const char *)s->inbuf + s->inpos;
	avail = s->inlen - s->inpos;
	lf = memchr(start, '\n', avail);
	if (s->flags & SMTP_F_SKIPPING) {
		if (lf == NULL) {
			s->inpos = s->inlen;
			return 0;
		}
		s->inpos += (size_t)(lf - start) + 1;
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
	s->inpos += len;
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
	if (i == sizeof(smtp_cmds) / sizeof(smtp_cmds[0])) {
		smtp_error(s, SIM_RK_UNKNOWN_CMD, SIM_STAGE_OTHER);
		return;
	}
	if (((c->flags & SMTP_CMD_NOARG) && arg.len > 0) ||
	    ((c->flags & SMTP_CMD_NEEDARG) && arg.len == 0)) {
		smtp_error(s, SIM_RK_SYNTAX, c->stage);
		return;
	}
	c->fn(s, arg);
}

/*
 * smtp_data - run the DATA recogniser over buffered input; stops after the
 * final CRLF.CRLF (and answers it) or when the input is used up
 */
static void
smtp_data(struct smtp_session *s)
{
	enum smtp_dstate d = s->dstate;
	uint64_t size = s->dsize;
	uint32_t line = s->dline;
	size_t i;
	uint8_t c;
	int end = 0;

	for (i = s->inpos; i < s->inlen && !end; i++) {
		c = s->inbuf[i];
		switch (d) {
		case SMTP_D_BOL:
			if (c == '.') {
				d = SMTP_D_DOT;		/* not counted: */
				line++;			/* stuffing or end */
				continue;
			}
			break;
		case SMTP_D_DOT:
			if (c == '\r') {
				d = SMTP_D_DOT_CR;
				line++;
				continue;
			}
			break;			/* the dot was stuffing */
		case SMTP_D_DOT_CR:
			if (c == '\n') {
				end = 1;
				continue;
			}
			size++;			/* ".\r" + other: CR is text */
			d = SMTP_D_CR;
			break;
		case SMTP_D_TEXT:
		case SMTP_D_CR:
			break;
		default:
			abort();
		}
		/* @c is message text. */
		size++;
		if (++line > SMTP_TEXT_LINE_MAX) {
			s->flags |= SMTP_F_LONGLINE;
			line = SMTP_TEXT_LINE_MAX + 1;
		}
		if (c == '\n') {
			d = d == SMTP_D_CR ? SMTP_D_BOL : SMTP_D_TEXT;
			line = 0;
		} else if (c == '\r')
			d = SMTP_D_CR;
		else
			d = SMTP_D_TEXT;
	}
	s->inpos = i;
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
	struct sim_facts f;
	struct sim_verdict v;

	s->size = s->dsize;
	smtp_enter_state(s, SMTP_STATE_READY);
	if (s->flags & SMTP_F_LONGLINE) {
		smtp_error(s, SIM_RK_DATA_LINE_TOO_LONG, SIM_STAGE_EOD);
	} else {
		smtp_facts(s, &f);
		f.rcpts = (const char *const *)s->rcpts;
		f.nrcpts = s->nrcpts;
		f.size = s->dsize;
		smtp_decide(s, SIM_STAGE_EOD, &f, &v);
		if (v.rk == SIM_RK_ACCEPT) {
			s->msgs_in_conn++;
			smtp_reply(s, SIM_RK_DATA_OK, SIM_STAGE_EOD, 0);
		} else
			smtp_reply(s, v.rk, SIM_STAGE_EOD, v.limit);
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

	s->arena_txn = 0;
	smtp_txn_reset(s);
	s->helo = smtp_arena_copy(s, arg.p, arg.len, 0);
	s->arena_txn = s->arena_used;

	smtp_facts(s, &f);
	smtp_decide(s, SIM_STAGE_EHLO, &f, &v);
	if (v.rk == SIM_RK_ACCEPT) {
		smtp_enter_state(s, SMTP_STATE_READY);
		smtp_reply(s, ok, SIM_STAGE_EHLO, 0);
	} else {
		smtp_enter_state(s, SMTP_STATE_GREETING);
		smtp_reply(s, v.rk, SIM_STAGE_EHLO, v.limit);
	}
}

/* smtp_cmd_mail - MAIL FROM:<addr> [SIZE=n] [BODY=7BIT|8BITMIME] */
static void
smtp_cmd_mail(struct smtp_session *s, struct smtp_str arg)
{
	struct smtp_str addr, rest, key, val;
	struct sim_facts f;
	struct sim_verdict v;
	uint64_t size = 0;
	size_t i, dom = 0;

	if (s->state != SMTP_STATE_READY) {
		smtp_error(s, SIM_RK_BAD_SEQ, SIM_STAGE_MAIL);
		return;
	}
	if (smtp_parse_path(arg, "FROM:", &addr, &rest) != 0 ||
	    (addr.len > 0 && (dom = smtp_addr_domain(addr)) == 0)) {
		smtp_error(s, SIM_RK_SYNTAX, SIM_STAGE_MAIL);
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

	/* Fits: the arena holds the HELO name plus one command line. */
	s->sender_domain = addr.len == 0 ? NULL :
	    smtp_arena_copy(s, addr.p + dom, addr.len - dom, 1);
	s->size = size;
	smtp_facts(s, &f);
	f.size = size;
	smtp_decide(s, SIM_STAGE_MAIL, &f, &v);
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
	struct smtp_str addr, rest, key, val;
	struct sim_facts f;
	struct sim_verdict v;
	const char *rcpt;
	size_t mark;

	if (s->state != SMTP_STATE_MAIL && s->state != SMTP_STATE_RCPT) {
		smtp_error(s, SIM_RK_BAD_SEQ, SIM_STAGE_RCPT);
		return;
	}
	if (smtp_parse_path(arg, "TO:", &addr, &rest) != 0 ||
	    (smtp_addr_domain(addr) == 0 && !(addr.len == 10 &&
	    strncasecmp(addr.p, "postmaster", 10) == 0))) {
		smtp_error(s, SIM_RK_SYNTAX, SIM_STAGE_RCPT);
		return;
	}
	if (smtp_next_param(&rest, &key, &val)) {
		smtp_error(s, SIM_RK_BAD_PARAM, SIM_STAGE_RCPT);
		return;
	}
	mark = s->arena_used;
	if (s->nrcpts == SMTP_MAX_RCPTS ||
	    (rcpt = smtp_arena_copy(s, addr.p, addr.len, 1)) == NULL) {
		smtp_reply(s, SIM_RK_RCPTS_TOO_MANY, SIM_STAGE_RCPT,
		    s->nrcpts);
		return;
	}
	s->cur_rcpt = rcpt;
	smtp_facts(s, &f);
	f.rcpt = rcpt;
	smtp_decide(s, SIM_STAGE_RCPT, &f, &v);
	if (v.rk == SIM_RK_ACCEPT) {
		s->rcpts[s->nrcpts++] = rcpt;
		smtp_enter_state(s, SMTP_STATE_RCPT);
		smtp_reply(s, SIM_RK_RCPT_OK, SIM_STAGE_RCPT, 0);
	} else {
		smtp_reply(s, v.rk, SIM_STAGE_RCPT, v.limit);
		s->arena_used = mark;
	}
	s->cur_rcpt = NULL;
}

/* smtp_cmd_data - DATA: ask the policy, then 354 and the recogniser */
static void
smtp_cmd_data(struct smtp_session *s, struct smtp_str arg)
{
	struct sim_facts f;
	struct sim_verdict v;

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
	smtp_facts(s, &f);
	f.rcpts = (const char *const *)s->rcpts;
	f.nrcpts = s->nrcpts;
	smtp_decide(s, SIM_STAGE_DATA, &f, &v);
	if (v.rk != SIM_RK_ACCEPT) {
		smtp_reply(s, v.rk, SIM_STAGE_DATA, v.limit);
		return;
	}
	s->dstate = SMTP_D_BOL;
	s->dline = 0;
	s->dsize = 0;
	s->flags &= ~SMTP_F_LONGLINE;
	smtp_enter_state(s, SMTP_STATE_DATA);
	smtp_reply(s, SIM_RK_DATA_GO, SIM_STAGE_DATA, 0);
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

/* smtp_session_new - allocate a session and find its profile */
struct smtp_session *
smtp_session_new(const struct smtp_env *env, const struct smtp_conn_info *ci)
{
	struct smtp_session *s;
	int prof;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->env = env;
	s->ci = *ci;
	prof = prof_world_lookup(env->world, ci->mx_ip);
	if (prof < 0) {
		s->prof = UINT32_MAX;
		s->p = NULL;
	} else {
		s->prof = (uint32_t)prof;
		s->p = env->world->profiles[prof];
	}
	s->state = SMTP_STATE_GREETING;
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
	smtp_facts(s, &f);
	smtp_decide(s, SIM_STAGE_CONNECT, &f, &v);
	if (v.rk == SIM_RK_ACCEPT) {
		s->flags |= SMTP_F_CONNECTED;
		smtp_reply(s, SIM_RK_GREETING, SIM_STAGE_CONNECT, 0);
	} else
		smtp_reply(s, v.rk, SIM_STAGE_CONNECT, v.limit);
}

/* smtp_session_inbuf - where the backend writes input */
void
smtp_session_inbuf(struct smtp_session *s, uint8_t **p, size_t *room)
{
	*p = s->inbuf + s->inlen;
	*room = SMTP_INBUF_SIZE - s->inlen;
}

/* smtp_session_input - @n bytes arrived at the inbuf pointer */
void
smtp_session_input(struct smtp_session *s, size_t n)
{
	if (n > SMTP_INBUF_SIZE - s->inlen)
		abort();
	s->inlen += n;
	smtp_process(s);
}

/* smtp_session_outbuf - pending output */
void
smtp_session_outbuf(const struct smtp_session *s, const uint8_t **p,
    size_t *len)
{
	*p = s->outbuf + s->outpos;
	*len = s->outlen;
}

/* smtp_session_consume - @n bytes of output were sent */
void
smtp_session_consume(struct smtp_session *s, size_t n)
{
	if (n > s->outlen)
		abort();
	s->outpos += n;
	s->outlen -= n;
	if (s->outlen == 0)
		s->outpos = 0;
}

/* smtp_session_timeout - idle or session time limit: 421 4.4.2, close */
void
smtp_session_timeout(struct smtp_session *s)
{
	if ((s->flags & SMTP_F_CLOSING) == 0)
		smtp_reply(s, SIM_RK_TIMEOUT, SIM_STAGE_OTHER, 0);
}

/* smtp_session_shutdown - 421 4.3.2 now, or after the message in DATA */
void
smtp_session_shutdown(struct smtp_session *s)
{
	if (s->flags & SMTP_F_CLOSING)
		return;
	if (s->state == SMTP_STATE_DATA)
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

/* smtp_session_wants_input - can input be accepted now */
bool
smtp_session_wants_input(const struct smtp_session *s)
{
	return (s->flags & SMTP_F_CLOSING) == 0 &&
	    s->inlen < SMTP_INBUF_SIZE &&
	    SMTP_OUTBUF_SIZE - s->outlen >= SMTP_REPLY_ROOM;
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
		smtp_facts(s, &f);
		sim_policy_release(s->env->world, s->env->state, &f,
		    sim_clock_now(s->env->clock));
	}
	free(s);
}
