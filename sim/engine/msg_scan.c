/*
 * DESCRIPTION
 *	Scanner of a message received in DATA.  Headers, byte at a time, are
 *	unfolded into one inline buffer, only for the fields we parse, and
 *	parsed when the next field (or the empty line) starts.  The body goes
 *	through an optional quoted-printable decoder, then through a URL
 *	recogniser (all bytes), an HTML tag skipper and a word tokenizer that
 *	looks each word, and the phrases of two and three words ending with
 *	it, up in a hash-sorted word list.  Every state lives in struct
 *	msg_scan, so any chunking of the input gives the same result.
 *
 *	Plain text takes a fast path (issue 19: under 10 instructions per
 *	body byte): lines are found with memchr; a line's prefix is kept only
 *	when it can matter (a part header or boundary: it starts with "-" or
 *	"c", or part headers are being read); outside tags, quoted-printable
 *	and URL hosts, a run of word characters is spanned with a class
 *	table and, when it ends inside the chunk, judged from the input
 *	itself: a word whose length, first and last letter match no word of
 *	the list (wordlist.pre) is neither copied nor hashed.  The URL
 *	recogniser's last 8 bytes are brought up to date only before a byte
 *	the byte-at-a-time path takes, and at the end of the chunk.
 *
 * DIAGNOSTICS
 *	None: malformed input is counted or flagged, never fatal.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "msg_scan.h"

enum {
	HS_LINE_START = 0,	/* at the start of a header line */
	HS_NAME,		/* reading a field name */
	HS_VALUE,		/* reading a field value */
	HS_SKIPLINE,		/* skipping a malformed line */
	HS_CR,			/* CR at the start of a line */
	HS_BODY			/* past the empty line */
};

enum {
	HF_NONE = 0, HF_OTHER, HF_FROM, HF_MSGID, HF_SUBJECT, HF_DATE,
	HF_DKIM, HF_LU, HF_LUP, HF_RECEIVED, HF_CTYPE, HF_CTE
};

struct hf_name {
	const char	*name;
	uint8_t		 id;
};

static const struct hf_name hf_names[] = {
	{ "from", HF_FROM },
	{ "message-id", HF_MSGID },
	{ "subject", HF_SUBJECT },
	{ "date", HF_DATE },
	{ "dkim-signature", HF_DKIM },
	{ "list-unsubscribe", HF_LU },
	{ "list-unsubscribe-post", HF_LUP },
	{ "received", HF_RECEIVED },
	{ "content-type", HF_CTYPE },
	{ "content-transfer-encoding", HF_CTE },
};

/* Second-level labels under which registrations sit one level deeper. */
static const char *const sld_suffixes[] = {
	"co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk",
	"net.uk", "sch.uk", "nhs.uk", "com.au", "net.au", "org.au", "edu.au",
	"gov.au", "id.au", "co.nz", "net.nz", "org.nz", "govt.nz", "ac.nz",
	"co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "co.kr", "or.kr",
	"com.br", "net.br", "org.br", "gov.br", "com.cn", "net.cn", "org.cn",
	"gov.cn", "com.mx", "org.mx", "co.in", "net.in", "org.in", "gov.in",
	"co.za", "org.za", "com.tr", "com.sg", "com.hk", "com.tw", "com.ar",
	"co.il", "com.my", "com.ph", "com.vn", "co.id", "co.th", "com.ua",
	"com.pl", "com.es", "co.at", "or.at", "com.ru",
};

static const char *const default_words[] = {
	"free", "winner", "viagra", "casino", "lottery", "prize", "urgent",
	"guaranteed", "cash", "bonus", "cheap", "discount", "offer",
	"act now", "click here", "limited time", "buy now", "order now",
	"risk free", "no obligation", "earn money", "work from home",
	"double your income", "100 free", "special promotion",
};

static int	lc(int);
static bool	is_wsp(int);
static bool	is_word(int);
static bool	is_host(int);
static uint64_t	fnv(const char *, size_t);
static void	copy_trim(char *, size_t, const char *, size_t, unsigned *);
static const char *ci_find(const char *, size_t, const char *);
static void	hdr_start(struct msg_scan *);
static void	hdr_finish(struct msg_scan *);
static void	hdr_boundary(struct msg_scan *, const char *, size_t);
static void	part_filename(struct msg_scan *, size_t);
static bool	hdr_once(struct msg_info *, unsigned, unsigned);
static void	hdr_from(struct msg_scan *, const char *, size_t);
static void	hdr_dkim(struct msg_scan *, const char *, size_t);
static void	hdr_lu(struct msg_scan *, const char *, size_t);
static void	hdr_lup(struct msg_scan *, const char *, size_t);
static void	hdr_byte(struct msg_scan *, int);
static void	body_feed(struct msg_scan *, const uint8_t *, size_t);
static void	line_keep(struct msg_scan *, const uint8_t *, size_t);
static const uint8_t *text_span(struct msg_scan *, const uint8_t *,
		    const uint8_t *, const uint8_t *, bool);
static void	tail_catchup(struct msg_scan *, const uint8_t *,
		    const uint8_t *);
static void	word_direct(struct msg_scan *, const uint8_t *, size_t);
static void	word_append(struct msg_scan *, const uint8_t *, size_t);
static void	body_line(struct msg_scan *);
static int	hexval(int);
static void	qp_byte(struct msg_scan *, int);
static void	text_byte(struct msg_scan *, int);
static void	url_byte(struct msg_scan *, int);
static void	url_finish(struct msg_scan *);
static void	word_end(struct msg_scan *);
static void	word_lookup(struct msg_scan *, const char *, size_t, uint64_t);
static void	filter_set(uint64_t *, uint64_t);
static bool	filter_has(const uint64_t *, uint64_t);

/* lc - ASCII lower case */
static int
lc(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* is_wsp - space or tab */
static bool
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* is_word - letter, digit or a byte of a multi-byte character */
static bool
is_word(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80;
}

/* is_host - a character of a host name (lower case already) */
static bool
is_host(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '-' || c == '_';
}

/* ASCII lower case (lc()) as a table, for the fast path. */
#define LC4(c)	(c), (c) + 1, (c) + 2, (c) + 3
#define LC16(c)	LC4(c), LC4((c) + 4), LC4((c) + 8), LC4((c) + 12)
static const uint8_t lc_tab[256] = {
	LC16(0x00), LC16(0x10), LC16(0x20), LC16(0x30),
	0x40, LC4(0x61), LC4(0x65), LC4(0x69), LC4(0x6d), LC4(0x71),
	LC4(0x75), 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	LC16(0x60), LC16(0x70), LC16(0x80), LC16(0x90), LC16(0xa0),
	LC16(0xb0), LC16(0xc0), LC16(0xd0), LC16(0xe0), LC16(0xf0)
};

/* Body bytes for the fast path: word characters (is_word()), CR and LF
 * (not text bytes), '<' and '/' (taken byte at a time), the others. */
enum { BC_SEP = 0, BC_WORD, BC_EOL, BC_SLOW };
static const uint8_t word_cls[256] = {
	['0' ... '9'] = BC_WORD, ['A' ... 'Z'] = BC_WORD,
	['a' ... 'z'] = BC_WORD, [0x80 ... 0xff] = BC_WORD,
	['\r'] = BC_EOL, ['\n'] = BC_EOL, ['<'] = BC_SLOW, ['/'] = BC_SLOW
};

/* pre_bit - the wordlist.pre bit of a word of @n bytes whose first and
 * last bytes, lower-cased, are @f and @l */
static unsigned
pre_bit(size_t n, int f, int l)
{
	return (uint32_t)(((uint32_t)n << 16 | (uint32_t)f << 8 | (uint32_t)l) *
	    0x9e3779b1u) >> 22;
}

/* pre_has - may a word be in some entry of the list */
static bool
pre_has(const struct msg_wordlist *wl, size_t n, int f, int l)
{
	unsigned b = pre_bit(n, f, l);

	return (wl->pre[b >> 6] & (1ULL << (b & 63))) != 0;
}

/* fnv - FNV-1a 64 of a byte string */
static uint64_t
fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (uint8_t)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* filter_set - set the 1024-bit filter bit of a hash */
static void
filter_set(uint64_t *f, uint64_t h)
{
	unsigned b = (unsigned)(h >> 40) & 1023;

	f[b >> 6] |= 1ULL << (b & 63);
}

/* filter_has - is the filter bit of a hash set? */
static bool
filter_has(const uint64_t *f, uint64_t h)
{
	unsigned b = (unsigned)(h >> 40) & 1023;

	return (f[b >> 6] & (1ULL << (b & 63))) != 0;
}

/* copy_trim - copy a slice without surrounding blanks, flag truncation */
static void
copy_trim(char *dst, size_t max, const char *p, size_t n, unsigned *flags)
{
	while (n > 0 && is_wsp((uint8_t)*p)) {
		p++;
		n--;
	}
	while (n > 0 && is_wsp((uint8_t)p[n - 1]))
		n--;
	if (n >= max) {
		n = max - 1;
		*flags |= MSG_F_TRUNCATED;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/* ci_find - case-insensitive search of a lower-case needle in a slice */
static const char *
ci_find(const char *p, size_t n, const char *needle)
{
	size_t m = strlen(needle), i, j;

	for (i = 0; i + m <= n; i++) {
		for (j = 0; j < m; j++)
			if (lc((uint8_t)p[i + j]) != needle[j])
				break;
		if (j == m)
			return p + i;
	}
	return NULL;
}

/* msg_org_domain - organizational domain by the short suffix list */
const char *
msg_org_domain(const char *dom)
{
	const char *dots[3] = { NULL, NULL, NULL };	/* last three dots */
	const char *p, *last2;
	size_t i, n;

	for (p = dom; *p != '\0'; p++)
		if (*p == '.' && p[1] != '\0') {
			dots[2] = dots[1];
			dots[1] = dots[0];
			dots[0] = p;
		}
	if (dots[1] == NULL)
		return dom;
	last2 = dots[1] + 1;
	n = strlen(last2);
	if (n > 0 && last2[n - 1] == '.')
		n--;
	for (i = 0; i < sizeof(sld_suffixes) / sizeof(sld_suffixes[0]); i++)
		if (strlen(sld_suffixes[i]) == n &&
		    strncasecmp(sld_suffixes[i], last2, n) == 0)
			return dots[2] == NULL ? dom : dots[2] + 1;
	return last2;
}

/* msg_wordlist_init - empty list */
void
msg_wordlist_init(struct msg_wordlist *wl)
{
	wl->n = 0;
	wl->maxwords = 0;
	memset(wl->filter, 0, sizeof(wl->filter));
	memset(wl->head, 0, sizeof(wl->head));
	memset(wl->pre, 0, sizeof(wl->pre));
}

/* msg_wordlist_add - add a normalised word or phrase, keep hash order */
int
msg_wordlist_add(struct msg_wordlist *wl, const char *phrase, unsigned weight)
{
	char buf[MSG_WORD_MAX];
	size_t n = 0, i;
	unsigned words = 0, b;
	bool sep = false;
	uint64_t h;
	const char *p;

	for (p = phrase; *p != '\0'; p++) {
		int c = (uint8_t)*p;

		if (is_wsp(c)) {
			sep = n > 0;
			continue;
		}
		if (!is_word(c))
			return -EINVAL;
		if (sep || n == 0) {
			if (++words > 3)
				return -EINVAL;
			if (sep)
				buf[n++] = ' ';
			sep = false;
		}
		if (n >= sizeof(buf) - 1)
			return -EINVAL;
		buf[n++] = (char)lc(c);
	}
	if (n == 0)
		return -EINVAL;
	buf[n] = '\0';
	h = fnv(buf, n);
	for (i = 0; i < wl->n; i++)
		if (wl->e[i].hash == h && strcmp(wl->e[i].w, buf) == 0)
			return -EEXIST;
	if (wl->n == MSG_WORDLIST_MAX)
		return -ENOSPC;
	for (i = wl->n; i > 0 && wl->e[i - 1].hash > h; i--)
		wl->e[i] = wl->e[i - 1];
	wl->e[i].hash = h;
	wl->e[i].weight = weight > UINT16_MAX ? UINT16_MAX : (uint16_t)weight;
	memcpy(wl->e[i].w, buf, n + 1);
	wl->n++;
	if (words > wl->maxwords)
		wl->maxwords = words;
	filter_set(wl->filter, h);
	if (words > 1)
		filter_set(wl->head, fnv(buf, strcspn(buf, " ")));
	for (p = buf; *p != '\0'; p += i + (p[i] == ' ')) {
		i = strcspn(p, " ");
		b = pre_bit(i, (uint8_t)p[0], (uint8_t)p[i - 1]);
		wl->pre[b >> 6] |= 1ULL << (b & 63);
	}
	return 0;
}

/* msg_wordlist_add_defaults - the built-in list */
int
msg_wordlist_add_defaults(struct msg_wordlist *wl)
{
	size_t i;
	int rc;

	for (i = 0; i < sizeof(default_words) / sizeof(default_words[0]); i++) {
		rc = msg_wordlist_add(wl, default_words[i], 1);
		if (rc != 0 && rc != -EEXIST)
			return rc;
	}
	return 0;
}

/* msg_scan_init - reset for a new message */
void
msg_scan_init(struct msg_scan *sc, const struct msg_wordlist *words)
{
	memset(sc, 0, sizeof(*sc));
	sc->words = words;
	sc->hstate = HS_LINE_START;
}

/* msg_scan_headers_only - stop at the end of the headers */
void
msg_scan_headers_only(struct msg_scan *sc)
{
	sc->hdr_only = 1;
}

/* msg_scan_feed - scan more message bytes */
void
msg_scan_feed(struct msg_scan *sc, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i = 0;

	/* Headers byte by byte, then the body. */
	for (; i < n && sc->hstate != HS_BODY; i++) {
		sc->info.header_bytes++;
		hdr_byte(sc, b[i]);
	}
	if (sc->hdr_only)
		sc->info.body_bytes += n - i;
	else if (i < n)
		body_feed(sc, b + i, n - i);
}

/* msg_scan_end - flush what is pending */
void
msg_scan_end(struct msg_scan *sc)
{
	if (sc->hstate != HS_BODY)
		hdr_finish(sc);
	else if (!sc->hdr_only) {
		if (sc->qpstate != 0) {
			/* A dangling "=" or "=X": emit as is. */
			uint8_t st = sc->qpstate;

			sc->qpstate = 0;
			if (st == 1 || st == 2)
				text_byte(sc, '=');
			if (st == 2)
				text_byte(sc, sc->qpc1);
		}
		if (sc->inhost)
			url_finish(sc);
		word_end(sc);
	}
	if ((sc->info.flags & MSG_F_LISTUNSUB_POST) != 0 &&
	    (sc->info.flags & MSG_F_LISTUNSUB_HTTPS) != 0)
		sc->info.flags |= MSG_F_ONECLICK;
	if (sc->multipart && !sc->hdr_only && (sc->blen == 0 || !sc->bclosed))
		sc->info.flags |= MSG_F_MIME_BAD;
}

/* hdr_start - a new field name begins */
static void
hdr_start(struct msg_scan *sc)
{
	sc->namelen = 0;
	sc->vallen = 0;
	sc->hfield = HF_NONE;
}

/* hdr_byte - one byte of the header section */
static void
hdr_byte(struct msg_scan *sc, int c)
{
	size_t i;

again:
	switch (sc->hstate) {
	case HS_LINE_START:
		if (c == '\r') {
			sc->hstate = HS_CR;
			return;
		}
		if (c == '\n') {
			hdr_finish(sc);
			goto eoh;
		}
		if (is_wsp(c)) {
			if (sc->hfield == HF_NONE) {
				/* Continuation of nothing. */
				sc->info.flags |= MSG_F_BADHEADER;
				sc->hstate = HS_SKIPLINE;
				return;
			}
			sc->hstate = HS_VALUE;
			goto value;
		}
		hdr_finish(sc);
		hdr_start(sc);
		sc->hstate = HS_NAME;
		/* FALLTHROUGH */
	case HS_NAME:
		if (c == ':') {
			while (sc->namelen > 0 &&
			    is_wsp((uint8_t)sc->name[sc->namelen - 1]))
				sc->namelen--;
			sc->hfield = HF_OTHER;
			for (i = 0; i < sizeof(hf_names) / sizeof(hf_names[0]);
			    i++)
				if (strlen(hf_names[i].name) == sc->namelen &&
				    memcmp(hf_names[i].name, sc->name,
				    sc->namelen) == 0)
					sc->hfield = hf_names[i].id;
			sc->info.nheaders++;
			sc->hstate = HS_VALUE;
			return;
		}
		if (c == '\r' || c == '\n') {
			sc->info.flags |= MSG_F_BADHEADER;
			sc->hfield = HF_NONE;
			sc->hstate = c == '\n' ? HS_LINE_START : HS_SKIPLINE;
			return;
		}
		if (sc->namelen < MSG_HDRNAME_MAX)
			sc->name[sc->namelen++] = (char)lc(c);
		else
			sc->namelen = MSG_HDRNAME_MAX;	/* never matches */
		return;
	case HS_VALUE:
	value:
		if (c == '\n') {
			sc->hstate = HS_LINE_START;
			return;
		}
		if (c == '\r' || sc->hfield == HF_OTHER ||
		    sc->hfield == HF_RECEIVED || sc->hfield == HF_DATE)
			return;
		if (sc->vallen < sizeof(sc->val))
			sc->val[sc->vallen++] = (char)c;
		else
			sc->info.flags |= MSG_F_TRUNCATED;
		return;
	case HS_SKIPLINE:
		if (c == '\n')
			sc->hstate = HS_LINE_START;
		return;
	case HS_CR:
		if (c == '\n') {
			hdr_finish(sc);
			goto eoh;
		}
		/* A stray CR at the start of a line: drop it. */
		sc->hstate = HS_LINE_START;
		goto again;
	default:
		return;
	}
eoh:
	sc->hstate = HS_BODY;
	sc->info.flags |= MSG_F_EOH;
	sc->qp = sc->qp_top;
}

/* hdr_finish - parse the field just read, if it is one we parse */
static void
hdr_finish(struct msg_scan *sc)
{
	struct msg_info *in = &sc->info;
	const char *v = sc->val;
	size_t n = sc->vallen;

	switch (sc->hfield) {
	case HF_FROM:
		if (hdr_once(in, MSG_F_FROM, MSG_DUP_FROM))
			hdr_from(sc, v, n);
		break;
	case HF_MSGID:
		if (hdr_once(in, MSG_F_MSGID, MSG_DUP_MSGID))
			copy_trim(in->message_id, sizeof(in->message_id), v, n,
			    &in->flags);
		break;
	case HF_SUBJECT:
		if (hdr_once(in, MSG_F_SUBJECT, MSG_DUP_SUBJECT))
			copy_trim(in->subject, sizeof(in->subject), v, n,
			    &in->flags);
		break;
	case HF_DATE:
		in->flags |= MSG_F_DATE;
		break;
	case HF_DKIM:
		hdr_dkim(sc, v, n);
		break;
	case HF_LU:
		hdr_lu(sc, v, n);
		break;
	case HF_LUP:
		hdr_lup(sc, v, n);
		break;
	case HF_RECEIVED:
		in->received++;
		break;
	case HF_CTYPE:
		sc->multipart = ci_find(v, n, "multipart/") != NULL;
		if (sc->multipart)
			hdr_boundary(sc, v, n);
		break;
	case HF_CTE:
		sc->qp_top = ci_find(v, n, "quoted-printable") != NULL;
		break;
	default:
		break;
	}
	sc->hfield = HF_NONE;
	sc->vallen = 0;
}

/* hdr_boundary - the boundary= parameter of a multipart Content-Type,
 * lower-cased; none, empty or over 70 characters leaves blen 0 */
static void
hdr_boundary(struct msg_scan *sc, const char *v, size_t n)
{
	const char *b = ci_find(v, n, "boundary=");
	size_t left, len = 0;
	bool quoted;

	sc->blen = 0;
	if (b == NULL)
		return;
	b += sizeof("boundary=") - 1;
	left = n - (size_t)(b - v);
	quoted = left > 0 && *b == '"';
	if (quoted) {
		b++;
		left--;
	}
	while (len < left && (quoted ? b[len] != '"' :
	    b[len] != ';' && !is_wsp((uint8_t)b[len])))
		len++;
	if (len == 0 || len > MSG_BOUNDARY_MAX - 2)
		return;
	for (left = 0; left < len; left++)
		sc->boundary[left] = (char)lc((uint8_t)b[left]);
	sc->boundary[len] = '\0';
	sc->blen = (uint8_t)len;
}

/* hdr_once - the first of a once-only header?  Flag the others. */
static bool
hdr_once(struct msg_info *in, unsigned seen, unsigned dup)
{
	if ((in->flags & seen) != 0) {
		in->dup |= dup;
		return false;
	}
	in->flags |= seen;
	return true;
}

/* hdr_from - the addr-spec of the first mailbox, its domain and org */
static void
hdr_from(struct msg_scan *sc, const char *v, size_t n)
{
	struct msg_info *in = &sc->info;
	size_t i, s = 0, e = 0, at, k;
	int depth = 0;
	bool quote = false, angle = false;

	/* An angle-addr outside quotes and comments wins. */
	for (i = 0; i < n; i++) {
		char c = v[i];

		if (quote) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quote = false;
		} else if (depth > 0) {
			if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} else if (c == '"')
			quote = true;
		else if (c == '(')
			depth = 1;
		else if (c == '<' && !angle) {
			angle = true;
			s = i + 1;
		} else if (c == '>' && angle) {
			e = i;
			break;
		}
	}
	if (!angle || e <= s) {
		/* Bare addr-spec: the token around the first '@'. */
		for (i = 0; i < n && v[i] != '@'; i++)
			;
		if (i == n) {
			in->flags |= MSG_F_FROM_NOADDR;
			return;
		}
		for (s = i; s > 0 && v[s - 1] != ' ' && v[s - 1] != '\t' &&
		    v[s - 1] != ',' && v[s - 1] != ')' && v[s - 1] != '<'; s--)
			;
		for (e = i; e < n && v[e] != ' ' && v[e] != '\t' &&
		    v[e] != ',' && v[e] != '(' && v[e] != '>'; e++)
			;
	}
	copy_trim(in->from_addr, sizeof(in->from_addr), v + s, e - s,
	    &in->flags);
	for (at = 0, i = 0; in->from_addr[i] != '\0'; i++)
		if (in->from_addr[i] == '@')
			at = i + 1;
	if (at == 0 || in->from_addr[at] == '\0') {
		in->flags |= MSG_F_FROM_NOADDR;
		return;
	}
	for (k = 0; in->from_addr[at + k] != '\0'; k++) {
		if (k == sizeof(in->from_domain) - 1) {
			in->flags |= MSG_F_TRUNCATED;
			break;
		}
		in->from_domain[k] = (char)lc((uint8_t)in->from_addr[at + k]);
	}
	while (k > 0 && in->from_domain[k - 1] == '.')
		k--;
	in->from_domain[k] = '\0';
	strcpy(in->from_org, msg_org_domain(in->from_domain));
}

/* hdr_dkim - d= and s= of one DKIM-Signature */
static void
hdr_dkim(struct msg_scan *sc, const char *v, size_t n)
{
	struct msg_info *in = &sc->info;
	char d[MSG_DOMAIN_MAX] = "", s[MSG_SELECTOR_MAX] = "";
	size_t i = 0, j, k;
	char tag;

	in->ndkim_seen++;
	if (in->ndkim == MSG_DKIM_MAX)
		return;
	while (i < n) {
		/* tag-spec: WSP name WSP "=" value ";" */
		while (i < n && (is_wsp((uint8_t)v[i]) || v[i] == ';'))
			i++;
		tag = i < n ? v[i] : '\0';
		for (j = i; j < n && v[j] != '=' && v[j] != ';'; j++)
			;
		/* one-letter tag names only matter here */
		for (k = i + 1; k < j && is_wsp((uint8_t)v[k]); k++)
			;
		if (j == n || v[j] != '=' || k != j ||
		    (tag != 'd' && tag != 's')) {
			while (j < n && v[j] != ';')
				j++;
			i = j;
			continue;
		}
		for (i = j + 1, k = 0; i < n && v[i] != ';'; i++) {
			char c = v[i];

			if (is_wsp((uint8_t)c))
				continue;
			if (tag == 'd' && k < sizeof(d) - 1)
				d[k++] = (char)lc((uint8_t)c);
			else if (tag == 's' && k < sizeof(s) - 1)
				s[k++] = c;
			else
				in->flags |= MSG_F_TRUNCATED;
		}
		if (tag == 'd')
			d[k] = '\0';
		else
			s[k] = '\0';
	}
	if (d[0] == '\0')
		return;
	strcpy(in->dkim[in->ndkim].d, d);
	strcpy(in->dkim[in->ndkim].s, s);
	in->ndkim++;
}

/* hdr_lu - List-Unsubscribe: which URI schemes it offers */
static void
hdr_lu(struct msg_scan *sc, const char *v, size_t n)
{
	sc->info.flags |= MSG_F_LISTUNSUB;
	if (ci_find(v, n, "<https:") != NULL)
		sc->info.flags |= MSG_F_LISTUNSUB_HTTPS;
	if (ci_find(v, n, "<mailto:") != NULL)
		sc->info.flags |= MSG_F_LISTUNSUB_MAILTO;
}

/* hdr_lup - List-Unsubscribe-Post must be exactly the one-click key */
static void
hdr_lup(struct msg_scan *sc, const char *v, size_t n)
{
	static const char key[] = "List-Unsubscribe=One-Click";

	while (n > 0 && is_wsp((uint8_t)*v)) {
		v++;
		n--;
	}
	while (n > 0 && is_wsp((uint8_t)v[n - 1]))
		n--;
	if (n == sizeof(key) - 1 && memcmp(v, key, n) == 0)
		sc->info.flags |= MSG_F_LISTUNSUB_POST;
}

/* body_feed - raw body bytes, a line (segment) at a time: its prefix
 * when it can matter, its text, then at its LF the line's MIME meaning
 * (which may switch quoted-printable on for the LF itself and on) */
static void
body_feed(struct msg_scan *sc, const uint8_t *b, size_t n)
{
	const uint8_t *p = b, *e = b + n, *lf, *valid = b;
	size_t seg;

	sc->info.body_bytes += n;
	while (p < e) {
		lf = memchr(p, '\n', (size_t)(e - p));
		seg = lf != NULL ? (size_t)(lf - p) : (size_t)(e - p);
		line_keep(sc, p, seg);
		valid = text_span(sc, p, p + seg, valid, lf != NULL);
		p += seg;
		if (lf == NULL)
			break;
		if (sc->lineskip) {
			sc->lineskip = 0;	/* body_line() would do nothing */
			sc->linelen = 0;
		} else
			body_line(sc);
		if (sc->qp || sc->tag || sc->inhost)
			valid = text_span(sc, p, p + 1, valid, false);
		else if (sc->wlen[sc->cur] != 0)
			word_end(sc);	/* LF: a separator, not text */
		p++;
	}
	tail_catchup(sc, valid, e);
}

/* line_keep - keep the first MSG_LINEPFX_MAX bytes but CR of a line,
 * lower-cased, as body_line() reads them; a line that starts otherwise
 * than "-" or "c" outside part headers cannot matter (lineskip) */
static void
line_keep(struct msg_scan *sc, const uint8_t *p, size_t n)
{
	size_t i = 0;

	if (sc->lineskip)
		return;
	if (sc->linelen == 0) {
		while (i < n && p[i] == '\r')
			i++;
		if (i == n)
			return;
		if (!sc->parthdr && p[i] != '-' && lc(p[i]) != 'c') {
			sc->lineskip = 1;
			return;
		}
	}
	for (; i < n && sc->linelen < MSG_LINEPFX_MAX; i++)
		if (p[i] != '\r')
			sc->line[sc->linelen++] = (char)lc(p[i]);
}

/* tail_catchup - bring the URL recogniser's last bytes (tail, tail_out)
 * up to @q from @valid (up to where they are right), both in one chunk:
 * at most the last 9 bytes matter; 9 or more are read at once */
static void
tail_catchup(struct msg_scan *sc, const uint8_t *valid, const uint8_t *q)
{
	const uint8_t *p;
	uint64_t v, hi, ge, gt;

	if (q - valid >= 9) {
		memcpy(&v, q - 8, 8);
		v = __builtin_bswap64(v);	/* oldest byte highest */
		/* ASCII upper case to lower, 8 bytes at a time */
		hi = v & 0x8080808080808080ULL;
		ge = (v & 0x7f7f7f7f7f7f7f7fULL) + 0x3f3f3f3f3f3f3f3fULL;
		gt = (v & 0x7f7f7f7f7f7f7f7fULL) + 0x2525252525252525ULL;
		sc->tail = v | (((ge ^ gt) & ~hi & 0x8080808080808080ULL) >> 2);
		sc->tail_out = (uint8_t)lc(q[-9]);
		return;
	}
	for (p = valid; p < q; p++) {
		sc->tail_out = (uint8_t)(sc->tail >> 56);
		sc->tail = sc->tail << 8 | (uint8_t)lc(*p);
	}
}

/* text_span - decoded-as-is body bytes [p, e): the fast path for plain
 * text, byte at a time (qp_byte(), text_byte()) in quoted-printable, in
 * tags, in URL hosts and for '<' and '/'.  @stop: *e is readable and not
 * a word byte (the segment's LF), so a word run needs no bound check.
 * The tail is right up to @valid; @return up to where it is right now */
static const uint8_t *
text_span(struct msg_scan *sc, const uint8_t *p, const uint8_t *e,
    const uint8_t *valid, bool stop)
{
	const struct msg_wordlist *wl = sc->words;
	bool list = wl != NULL && wl->n > 0, partial;
	const uint8_t *s, *w;
	uint64_t text = 0;
	int c, k;

	while (p < e) {
		if (sc->qp || sc->tag || sc->inhost) {
			c = *p;
slow:
			tail_catchup(sc, valid, p);
			if (sc->qp)
				qp_byte(sc, c);
			else
				text_byte(sc, c);
			valid = ++p;
			continue;
		}
		/* plain text until a '<' or '/'; a word begun before (a
		 * previous chunk, the byte-at-a-time path) is partial.  Every
		 * byte of it is a text byte but CR and LF. */
		partial = sc->wlen[sc->cur] != 0;
		s = p;
		while (p < e) {
			k = word_cls[*p];
			if (k == BC_WORD) {
				w = p++;
				if (stop)
					while (word_cls[*p] == BC_WORD)
						p++;
				else
					while (p < e && word_cls[*p] == BC_WORD)
						p++;
				if (p == e || partial) {
					word_append(sc, w, (size_t)(p - w));
					partial = true;
				} else if (list)
					word_direct(sc, w, (size_t)(p - w));
				continue;
			}
			if (k == BC_SLOW)
				break;
			/* another separator: no tag, no URL host to end */
			text -= k == BC_EOL;
			if (partial) {
				word_end(sc);
				partial = false;
			}
			p++;
		}
		text += (uint64_t)(p - s);
		if (p < e) {
			c = *p;
			sc->info.text_bytes += text;
			text = 0;
			goto slow;
		}
	}
	sc->info.text_bytes += text;
	return valid;
}

/* word_append - word bytes into the current word (it goes on past the
 * chunk, or began in the byte-at-a-time path) */
static void
word_append(struct msg_scan *sc, const uint8_t *s, size_t n)
{
	size_t i;
	uint8_t *len = &sc->wlen[sc->cur];

	for (i = 0; i < n; i++) {
		if (*len < MSG_WORD_MAX - 1)
			sc->wbuf[sc->cur][(*len)++] = (char)lc_tab[s[i]];
		else
			sc->wordlong = 1;
	}
}

/* word_direct - a whole word of the chunk, ended inside it, with a word
 * list: judged from the input; copied and looked up only when the list
 * may hold it.  A word in no entry (wordlist.pre) can neither match nor
 * be part of a phrase that matches: like a word too long to match, it
 * breaks phrases (word_end()) */
static void
word_direct(struct msg_scan *sc, const uint8_t *s, size_t n)
{
	if (n > MSG_WORD_MAX - 1 ||
	    !pre_has(sc->words, n, lc_tab[s[0]], lc_tab[s[n - 1]])) {
		sc->wlen[0] = sc->wlen[1] = sc->wlen[2] = 0;
		return;
	}
	word_append(sc, s, n);
	word_end(sc);
}

/* body_line - a raw body line ended: MIME boundary or part header? */
static void
body_line(struct msg_scan *sc)
{
	static const char cte[] = "content-transfer-encoding:";
	static const char cdisp[] = "content-disposition:";
	size_t n = sc->linelen;

	sc->linelen = 0;
	if (n == 0)
		sc->parthdr = 0;
	else if (sc->parthdr)
		part_filename(sc, n);
	if (sc->multipart && n >= 2 && sc->line[0] == '-' &&
	    sc->line[1] == '-') {
		if (sc->blen != 0 && n >= sc->blen + 4u &&
		    memcmp(sc->line + 2, sc->boundary, sc->blen) == 0 &&
		    sc->line[sc->blen + 2] == '-' &&
		    sc->line[sc->blen + 3] == '-')
			sc->bclosed = 1;
		sc->qp = 0;
		sc->parthdr = 1;
		return;
	}
	if (n >= sizeof(cte) - 1 && memcmp(sc->line, cte, sizeof(cte) - 1) == 0)
		sc->qp = ci_find(sc->line, n, "quoted-printable") != NULL;
	if (sc->multipart && n >= sizeof(cdisp) - 1 &&
	    memcmp(sc->line, cdisp, sizeof(cdisp) - 1) == 0 &&
	    ci_find(sc->line, n, "attachment") != NULL)
		sc->info.attachments++;
}

/* part_filename - keep the extension of a name= or filename= parameter
 * of a part header line (lower-cased already) */
static void
part_filename(struct msg_scan *sc, size_t n)
{
	struct msg_info *in = &sc->info;
	const char *v = ci_find(sc->line, n, "name="), *e, *dot = NULL;
	size_t len, i;

	if (v == NULL)
		return;
	v += sizeof("name=") - 1;
	e = sc->line + n;
	if (v < e && *v == '"')
		v++;
	for (; v < e && *v != '"' && *v != ';' && !is_wsp((uint8_t)*v); v++)
		if (*v == '.')
			dot = v;
	if (dot == NULL || (len = (size_t)(v - dot - 1)) == 0 ||
	    len >= MSG_FILEEXT_MAX)
		return;
	for (i = 0; i < in->nfile_ext; i++)
		if (strlen(in->file_ext[i]) == len &&
		    memcmp(in->file_ext[i], dot + 1, len) == 0)
			return;
	if (in->nfile_ext == MSG_FILEEXTS_MAX)
		return;
	memcpy(in->file_ext[in->nfile_ext], dot + 1, len);
	in->file_ext[in->nfile_ext++][len] = '\0';
}

/* hexval - value of a hex digit or -1 */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lc(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* qp_byte - quoted-printable decoder in front of text_byte() */
static void
qp_byte(struct msg_scan *sc, int c)
{
again:
	switch (sc->qpstate) {
	case 0:
		if (c == '=')
			sc->qpstate = 1;
		else
			text_byte(sc, c);
		return;
	case 1:			/* "=" */
		if (c == '\r') {
			sc->qpstate = 3;
			return;
		}
		if (c == '\n') {
			sc->qpstate = 0;	/* soft line break */
			return;
		}
		if (hexval(c) >= 0) {
			sc->qpc1 = (char)c;
			sc->qpstate = 2;
			return;
		}
		text_byte(sc, '=');
		sc->qpstate = 0;
		goto again;
	case 2:			/* "=X" */
		sc->qpstate = 0;
		if (hexval(c) >= 0) {
			text_byte(sc, hexval(sc->qpc1) * 16 + hexval(c));
			return;
		}
		text_byte(sc, '=');
		text_byte(sc, (uint8_t)sc->qpc1);
		goto again;
	case 3:			/* "=\r" */
		sc->qpstate = 0;
		if (c == '\n')
			return;
		goto again;
	default:
		sc->qpstate = 0;
		goto again;
	}
}

/* text_byte - one decoded body byte: URLs, tags, words */
static void
text_byte(struct msg_scan *sc, int c)
{
	url_byte(sc, c);
	switch (sc->tag) {
	case 1:				/* after '<' */
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '/' || c == '!') {
			sc->tag = 2;
			return;
		}
		sc->tag = 0;
		sc->info.text_bytes++;	/* the '<' was text */
		break;
	case 2:				/* inside a tag */
		if (c == '>')
			sc->tag = 0;
		return;
	default:
		break;
	}
	if (c == '<') {
		word_end(sc);
		sc->tag = 1;
		return;
	}
	if (c != '\r' && c != '\n')
		sc->info.text_bytes++;
	if (is_word(c)) {
		if (sc->wlen[sc->cur] < MSG_WORD_MAX - 1)
			sc->wbuf[sc->cur][sc->wlen[sc->cur]++] = (char)lc(c);
		else
			sc->wordlong = 1;
	} else
		word_end(sc);
}

/* url_byte - recognise "http://" and "https://" and collect the host */
static void
url_byte(struct msg_scan *sc, int c)
{
	/* "http://" and "https://" as big-endian byte strings */
	static const uint64_t http = 0x00687474703a2f2fULL;
	static const uint64_t https = 0x68747470733a2f2fULL;

	c = lc(c);
	if (sc->inhost == 1) {			/* host */
		if (is_host(c)) {
			if (sc->hostlen < MSG_DOMAIN_MAX - 1)
				sc->host[sc->hostlen++] = (char)c;
			else
				sc->info.flags |= MSG_F_TRUNCATED;
		} else if (c == '@')
			sc->hostlen = 0;	/* that was userinfo */
		else if (c == ':')
			sc->inhost = 2;
		else
			url_finish(sc);
	} else if (sc->inhost == 2) {		/* port, or a password */
		if (c == '@') {
			sc->hostlen = 0;
			sc->inhost = 1;
		} else if (!is_host(c))
			url_finish(sc);
	}
	sc->tail_out = (uint8_t)(sc->tail >> 56);
	sc->tail = sc->tail << 8 | (uint8_t)c;
	if (c != '/' || sc->inhost)
		return;
	if ((sc->tail & 0x00ffffffffffffffULL) == http &&
	    !is_word((uint8_t)(sc->tail >> 56)))
		sc->inhost = 1;
	else if (sc->tail == https && !is_word(sc->tail_out))
		sc->inhost = 1;
	sc->hostlen = 0;
}

/* url_finish - a host ended: count the link, keep a new domain */
static void
url_finish(struct msg_scan *sc)
{
	struct msg_info *in = &sc->info;
	size_t n = sc->hostlen, i;

	sc->inhost = 0;
	while (n > 0 && sc->host[n - 1] == '.')
		n--;
	if (n == 0)
		return;
	sc->host[n] = '\0';
	in->links++;
	for (i = 0; i < in->nurl_domains; i++)
		if (strcmp(in->url_domains[i], sc->host) == 0)
			return;
	if (in->nurl_domains == MSG_URL_MAX) {
		in->flags |= MSG_F_URL_OVERFLOW;
		return;
	}
	memcpy(in->url_domains[in->nurl_domains++], sc->host, n + 1);
}

/* word_end - a word ended: look it and its phrases up */
static void
word_end(struct msg_scan *sc)
{
	const struct msg_wordlist *wl = sc->words;
	char buf[3 * MSG_WORD_MAX];
	unsigned c = sc->cur, p1 = (c + 2) % 3, p2 = (c + 1) % 3;
	size_t n = sc->wlen[c], n1 = sc->wlen[p1], n2 = sc->wlen[p2];
	uint64_t h;

	if (n == 0)
		return;
	if (sc->wordlong) {
		/* A word too long to match also breaks phrases. */
		sc->wordlong = 0;
		sc->wlen[0] = sc->wlen[1] = sc->wlen[2] = 0;
		return;
	}
	if (wl == NULL || wl->n == 0) {
		sc->wlen[c] = 0;	/* nothing to look up, ever */
		return;
	}
	if (!pre_has(wl, n, (uint8_t)sc->wbuf[c][0],
	    (uint8_t)sc->wbuf[c][n - 1])) {
		/* in no entry (wordlist.pre): it breaks phrases, as a word
		 * too long to match does */
		sc->wlen[0] = sc->wlen[1] = sc->wlen[2] = 0;
		return;
	}
	{
		h = fnv(sc->wbuf[c], n);
		sc->whash[c] = h;
		if (filter_has(wl->filter, h))
			word_lookup(sc, sc->wbuf[c], n, h);
		/* "p1 c" and "p2 p1 c", when a phrase starts so */
		if (wl->maxwords >= 2 && n1 > 0 && n1 + 1 + n < MSG_WORD_MAX &&
		    filter_has(wl->head, sc->whash[p1])) {
			memcpy(buf, sc->wbuf[p1], n1);
			buf[n1] = ' ';
			memcpy(buf + n1 + 1, sc->wbuf[c], n);
			word_lookup(sc, buf, n1 + 1 + n, fnv(buf, n1 + 1 + n));
		}
		if (wl->maxwords >= 3 && n1 > 0 && n2 > 0 &&
		    n2 + n1 + n + 2 < MSG_WORD_MAX &&
		    filter_has(wl->head, sc->whash[p2])) {
			memcpy(buf, sc->wbuf[p2], n2);
			buf[n2] = ' ';
			memcpy(buf + n2 + 1, sc->wbuf[p1], n1);
			buf[n2 + 1 + n1] = ' ';
			memcpy(buf + n2 + n1 + 2, sc->wbuf[c], n);
			word_lookup(sc, buf, n2 + n1 + n + 2,
			    fnv(buf, n2 + n1 + n + 2));
		}
	}
	/* The oldest slot becomes the next word. */
	sc->cur = (uint8_t)p2;
	sc->wlen[p2] = 0;
}

/* word_lookup - binary search by hash, then compare */
static void
word_lookup(struct msg_scan *sc, const char *w, size_t n, uint64_t h)
{
	const struct msg_wordlist *wl = sc->words;
	size_t lo = 0, hi = wl->n, mid;

	if (!filter_has(wl->filter, h))
		return;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (wl->e[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < wl->n && wl->e[lo].hash == h; lo++)
		if (strlen(wl->e[lo].w) == n && memcmp(wl->e[lo].w, w, n) == 0) {
			sc->info.spam_hits++;
			sc->info.spam_score += wl->e[lo].weight;
			return;
		}
}
