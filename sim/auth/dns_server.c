/*
 * DESCRIPTION
 *	Authoritative answers from an auth_zone.  ldns parses each query
 *	and renders each answer; the records are built from the zone's text
 *	forms (TXT strings by hand, so any byte survives).  The socket side
 *	is a poll over one UDP and one listening TCP socket, driven either
 *	by the caller or by a thread of ours.
 *
 * DIAGNOSTICS
 *	None: failures are counted (errors) and the query is dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "dns_server.h"

#define DNS_EDNS_MAX	1232	/* largest UDP answer we send */
#define DNS_TCP_QUERIES	16	/* queries served per TCP connection */
#define DNS_ANSWER_MAX	256	/* records of one type in an answer (the
				 * forward A set of a /24 reverse_dns name) */
#define DNS_UDP_BURST	64	/* datagrams per poll round */
#define DNS_SOA_NEG_TTL	60

struct dns_server {
	const struct auth_zone	*zone;
	int			 udp, tcp;
	uint16_t		 port;
	pthread_t		 thread;
	bool			 running;
	atomic_bool		 stop;
	struct dns_server_stats	 st;
};

static size_t	raw_error(const uint8_t *, size_t, uint8_t *, size_t, int);
static ldns_rr	*rr_from_zone(const ldns_rdf *, const struct auth_rr *);
static ldns_rr	*soa_new(const char *, uint32_t);
static int	add_type(ldns_pkt *, const struct auth_zone *, const char *,
		    const ldns_rdf *, enum auth_rr_type);
static void	add_glue(ldns_pkt *, const struct auth_zone *, const char *);
static size_t	query_check(const uint8_t *, size_t, uint8_t *, size_t,
		    ldns_pkt **, struct dns_server_stats *);
static ldns_pkt	*reply_new(const ldns_pkt *, size_t *);
static int	add_records(ldns_pkt *, const struct auth_zone *,
		    const char *, const char *, const ldns_rdf *,
		    ldns_rr_type);
static void	answer_question(ldns_pkt *, const struct auth_zone *,
		    const ldns_rr *, struct dns_server_stats *);
static size_t	render(ldns_pkt *, uint8_t *, size_t, size_t,
		    struct dns_server_stats *);
static int	serve_udp(struct dns_server *);
static int	serve_tcp(struct dns_server *);
static int	read_full(int, uint8_t *, size_t);
static void	*run(void *);

/* raw_error - header-only error answer for a query ldns cannot parse */
static size_t
raw_error(const uint8_t *q, size_t qlen, uint8_t *out, size_t outmax,
    int rcode)
{
	if (qlen < 12 || outmax < 12 || (q[2] & 0x80) != 0)
		return 0;	/* too short, or itself an answer */
	memset(out, 0, 12);
	out[0] = q[0];
	out[1] = q[1];
	out[2] = (uint8_t)(0x80 | (q[2] & 0x79));	/* QR, opcode, RD */
	out[3] = (uint8_t)rcode;
	return 12;
}

/* rr_from_zone - ldns record of a zone record, owned by @owner */
static ldns_rr *
rr_from_zone(const ldns_rdf *owner, const struct auth_rr *zr)
{
	uint8_t buf[256];
	ldns_rdf *d;
	ldns_rr *rr;
	size_t n, off, k;

	rr = ldns_rr_new();
	if (rr == NULL)
		return NULL;
	ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, zr->ttl);
	switch (zr->type) {
	case AUTH_RR_A:
		ldns_rr_set_type(rr, LDNS_RR_TYPE_A);
		d = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, &zr->addr);
		if (d == NULL || !ldns_rr_push_rdf(rr, d))
			goto fail;
		break;
	case AUTH_RR_AAAA:
		ldns_rr_set_type(rr, LDNS_RR_TYPE_AAAA);
		d = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, zr->addr6);
		if (d == NULL || !ldns_rr_push_rdf(rr, d))
			goto fail;
		break;
	case AUTH_RR_MX:
		ldns_rr_set_type(rr, LDNS_RR_TYPE_MX);
		d = ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, zr->pref);
		if (d == NULL || !ldns_rr_push_rdf(rr, d))
			goto fail;
		d = ldns_dname_new_frm_str(zr->data);
		if (d == NULL || !ldns_rr_push_rdf(rr, d))
			goto fail;
		break;
	case AUTH_RR_PTR:
		ldns_rr_set_type(rr, LDNS_RR_TYPE_PTR);
		d = ldns_dname_new_frm_str(zr->data);
		if (d == NULL || !ldns_rr_push_rdf(rr, d))
			goto fail;
		break;
	case AUTH_RR_TXT:
		ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
		n = strlen(zr->data);
		off = 0;
		do {	/* at least one string, even for "" */
			k = n - off > 255 ? 255 : n - off;
			buf[0] = (uint8_t)k;
			memcpy(buf + 1, zr->data + off, k);
			d = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, k + 1, buf);
			if (d == NULL || !ldns_rr_push_rdf(rr, d))
				goto fail;
			off += k;
		} while (off < n);
		break;
	default:
		goto fail;
	}
	return rr;
fail:
	ldns_rr_free(rr);
	return NULL;
}

/* soa_new - the synthesised SOA of an apex */
static ldns_rr *
soa_new(const char *apex, uint32_t ttl)
{
	char txt[3 * AUTH_NAME_MAX + 64];
	ldns_rr *rr = NULL;

	snprintf(txt, sizeof(txt), "%s. %u IN SOA ns.%s. hostmaster.%s. "
	    "1 3600 600 86400 %u", apex, (unsigned)ttl, apex, apex,
	    DNS_SOA_NEG_TTL);
	if (ldns_rr_new_frm_str(&rr, txt, 0, NULL, NULL) != LDNS_STATUS_OK)
		return NULL;
	return rr;
}

/* add_type - answer records of one type; returns how many */
static int
add_type(ldns_pkt *r, const struct auth_zone *z, const char *name,
    const ldns_rdf *owner, enum auth_rr_type t)
{
	const struct auth_rr *rrs[DNS_ANSWER_MAX];
	ldns_rr *rr;
	size_t n, i;
	int added = 0;

	n = auth_zone_lookup(z, name, t, rrs, DNS_ANSWER_MAX);
	if (n > DNS_ANSWER_MAX)
		n = DNS_ANSWER_MAX;
	for (i = 0; i < n; i++) {
		rr = rr_from_zone(owner, rrs[i]);
		if (rr == NULL)
			continue;
		ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, rr);
		added++;
		if (t == AUTH_RR_MX)
			add_glue(r, z, rrs[i]->data);
	}
	return added;
}

/* add_glue - A and AAAA records of an MX target, as additional data */
static void
add_glue(ldns_pkt *r, const struct auth_zone *z, const char *host)
{
	const struct auth_rr *rrs[8];
	ldns_rdf *owner;
	ldns_rr *rr;
	size_t n, m, i;

	if ((n = auth_zone_lookup(z, host, AUTH_RR_A, rrs, 4)) > 4)
		n = 4;
	if ((m = auth_zone_lookup(z, host, AUTH_RR_AAAA, rrs + n, 4)) > 4)
		m = 4;
	n += m;
	if (n == 0 || (owner = ldns_dname_new_frm_str(host)) == NULL)
		return;
	for (i = 0; i < n && i < 8; i++) {
		rr = rr_from_zone(owner, rrs[i]);
		if (rr != NULL)
			ldns_pkt_push_rr(r, LDNS_SECTION_ADDITIONAL, rr);
	}
	ldns_rdf_deep_free(owner);
}

/* render - wire form, truncated for UDP when too large */
static size_t
render(ldns_pkt *r, uint8_t *out, size_t outmax, size_t limit,
    struct dns_server_stats *st)
{
	uint8_t *wire = NULL;
	size_t len = 0;
	ldns_rr_list *l;

	if (ldns_pkt2wire(&wire, r, &len) != LDNS_STATUS_OK)
		return 0;
	if (limit != 0 && len > limit) {
		/* Keep the question only, set TC. */
		free(wire);
		wire = NULL;
		l = ldns_pkt_answer(r);
		ldns_rr_list_deep_free(l);
		ldns_pkt_set_answer(r, ldns_rr_list_new());
		l = ldns_pkt_authority(r);
		ldns_rr_list_deep_free(l);
		ldns_pkt_set_authority(r, ldns_rr_list_new());
		l = ldns_pkt_additional(r);
		ldns_rr_list_deep_free(l);
		ldns_pkt_set_additional(r, ldns_rr_list_new());
		ldns_pkt_set_ancount(r, 0);
		ldns_pkt_set_nscount(r, 0);
		ldns_pkt_set_arcount(r, 0);
		ldns_pkt_set_tc(r, true);
		if (st != NULL)
			st->truncated++;
		if (ldns_pkt2wire(&wire, r, &len) != LDNS_STATUS_OK)
			return 0;
	}
	if (len > outmax) {
		free(wire);
		return 0;
	}
	memcpy(out, wire, len);
	free(wire);
	return len;
}

/*
 * query_check - parse and vet a query: 0 and *qp when it is one question
 * of the QUERY opcode; otherwise the length of the error answer in @out
 * (0: drop), with *qp NULL
 */
static size_t
query_check(const uint8_t *q, size_t qlen, uint8_t *out, size_t outmax,
    ldns_pkt **qp, struct dns_server_stats *st)
{
	ldns_pkt *p = NULL;
	int rcode;

	*qp = NULL;
	if (ldns_wire2pkt(&p, q, qlen) != LDNS_STATUS_OK) {
		if (st != NULL)
			st->errors++;
		return raw_error(q, qlen, out, outmax, LDNS_RCODE_FORMERR);
	}
	if (ldns_pkt_qr(p)) {
		ldns_pkt_free(p);
		if (st != NULL)
			st->errors++;
		return 0;
	}
	if (ldns_pkt_get_opcode(p) != LDNS_PACKET_QUERY ||
	    ldns_pkt_qdcount(p) != 1) {
		rcode = ldns_pkt_get_opcode(p) != LDNS_PACKET_QUERY ?
		    LDNS_RCODE_NOTIMPL : LDNS_RCODE_FORMERR;
		ldns_pkt_free(p);
		if (st != NULL)
			st->errors++;
		return raw_error(q, qlen, out, outmax, rcode);
	}
	*qp = p;
	return 0;
}

/*
 * reply_new - the answer's header and question, copied from the query;
 * *limit becomes the client's EDNS size (512..DNS_EDNS_MAX) over UDP
 */
static ldns_pkt *
reply_new(const ldns_pkt *qp, size_t *limit)
{
	ldns_pkt *r;
	size_t n;

	r = ldns_pkt_new();
	if (r == NULL)
		return NULL;
	ldns_pkt_set_id(r, ldns_pkt_id(qp));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, LDNS_PACKET_QUERY);
	ldns_pkt_set_rd(r, ldns_pkt_rd(qp));
	ldns_pkt_set_ra(r, false);
	ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION,
	    ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(qp), 0)));
	if (*limit != 0 && ldns_pkt_edns(qp)) {
		n = ldns_pkt_edns_udp_size(qp);
		*limit = n > DNS_EDNS_MAX ? DNS_EDNS_MAX : n < 512 ? 512 : n;
		ldns_pkt_set_edns_udp_size(r, DNS_EDNS_MAX);
	}
	return r;
}

/* add_records - the records of an existing name asked for; returns how
 * many */
static int
add_records(ldns_pkt *r, const struct auth_zone *z, const char *name,
    const char *apex, const ldns_rdf *qname, ldns_rr_type qtype)
{
	static const struct {
		ldns_rr_type		 wire;
		enum auth_rr_type	 zone;
	} types[] = {
		{ LDNS_RR_TYPE_A, AUTH_RR_A },
		{ LDNS_RR_TYPE_AAAA, AUTH_RR_AAAA },
		{ LDNS_RR_TYPE_MX, AUTH_RR_MX },
		{ LDNS_RR_TYPE_TXT, AUTH_RR_TXT },
		{ LDNS_RR_TYPE_PTR, AUTH_RR_PTR },
	};
	ldns_rr *soa;
	size_t i;
	int added = 0;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (qtype == types[i].wire || qtype == LDNS_RR_TYPE_ANY)
			added += add_type(r, z, name, qname, types[i].zone);
	if ((qtype == LDNS_RR_TYPE_SOA || qtype == LDNS_RR_TYPE_ANY) &&
	    strlen(name) == strlen(apex) + 1 &&
	    strncasecmp(name, apex, strlen(apex)) == 0 &&
	    (soa = soa_new(apex, 300)) != NULL) {
		ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, soa);
		added++;
	}
	return added;
}

/* answer_question - rcode, flags and records for the one question */
static void
answer_question(ldns_pkt *r, const struct auth_zone *z, const ldns_rr *qrr,
    struct dns_server_stats *st)
{
	const ldns_rdf *qname = ldns_rr_owner(qrr);
	enum auth_zone_where where = AUTH_ZONE_OUTSIDE;
	const char *apex = NULL;
	char *name;
	ldns_rr *soa;
	int added = 0;

	name = ldns_rdf2str(qname);
	if (name != NULL && ldns_rr_get_class(qrr) == LDNS_RR_CLASS_IN)
		where = auth_zone_name(z, name, &apex);
	switch (where) {
	case AUTH_ZONE_OUTSIDE:
		ldns_pkt_set_rcode(r, LDNS_RCODE_REFUSED);
		if (st != NULL)
			st->refused++;
		free(name);
		return;
	case AUTH_ZONE_NXDOMAIN:
		ldns_pkt_set_aa(r, true);
		ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
		if (st != NULL)
			st->nxdomain++;
		break;
	case AUTH_ZONE_EXISTS:
		ldns_pkt_set_aa(r, true);
		ldns_pkt_set_rcode(r, LDNS_RCODE_NOERROR);
		added = add_records(r, z, name, apex, qname,
		    ldns_rr_get_type(qrr));
		if (st != NULL) {
			if (added > 0)
				st->answers++;
			else
				st->nodata++;
		}
		break;
	default:
		break;
	}
	if (added == 0 && (soa = soa_new(apex, DNS_SOA_NEG_TTL)) != NULL)
		ldns_pkt_push_rr(r, LDNS_SECTION_AUTHORITY, soa);
	free(name);
}

/* dns_server_answer - one query in, one answer out */
size_t
dns_server_answer(const struct auth_zone *z, const uint8_t *q, size_t qlen,
    uint8_t *out, size_t outmax, size_t udp_limit,
    struct dns_server_stats *st)
{
	ldns_pkt *qp, *r;
	size_t len, limit = udp_limit;

	if (st != NULL)
		st->queries++;
	len = query_check(q, qlen, out, outmax, &qp, st);
	if (qp == NULL)
		return len;
	r = reply_new(qp, &limit);
	if (r == NULL) {
		ldns_pkt_free(qp);
		return 0;
	}
	answer_question(r, z, ldns_rr_list_rr(ldns_pkt_question(qp), 0), st);
	len = render(r, out, outmax, limit, st);
	ldns_pkt_free(r);
	ldns_pkt_free(qp);
	return len;
}

/* dns_server_open - bind UDP and TCP on one port */
int
dns_server_open(struct dns_server **out, const struct auth_zone *z,
    const char *addr, uint16_t port)
{
	struct dns_server *ds;
	struct sockaddr_in sin;
	socklen_t sl;
	int one = 1, tries, rc;

	*out = NULL;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -EINVAL;
	ds = calloc(1, sizeof(*ds));
	if (ds == NULL)
		return -ENOMEM;
	ds->zone = z;
	ds->udp = ds->tcp = -1;
	atomic_init(&ds->stop, false);
	for (tries = 0; tries < 8; tries++) {
		rc = 0;
		sin.sin_port = htons(port);
		ds->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		ds->tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (ds->udp < 0 || ds->tcp < 0) {
			rc = -errno;
			break;
		}
		(void)setsockopt(ds->tcp, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (bind(ds->udp, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
			rc = -errno;
			break;
		}
		sl = sizeof(sin);
		if (getsockname(ds->udp, (struct sockaddr *)&sin, &sl) != 0) {
			rc = -errno;
			break;
		}
		if (bind(ds->tcp, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
		    listen(ds->tcp, 16) == 0) {
			ds->port = ntohs(sin.sin_port);
			*out = ds;
			return 0;
		}
		rc = -errno;
		close(ds->udp);
		close(ds->tcp);
		ds->udp = ds->tcp = -1;
		if (port != 0 || rc != -EADDRINUSE)
			break;	/* only a picked port may be retried */
	}
	if (ds->udp >= 0)
		close(ds->udp);
	if (ds->tcp >= 0)
		close(ds->tcp);
	free(ds);
	return rc;
}

/* dns_server_port - the bound port */
uint16_t
dns_server_port(const struct dns_server *ds)
{
	return ds->port;
}

/* dns_server_fds - the descriptors to poll */
void
dns_server_fds(const struct dns_server *ds, int *udp_fd, int *tcp_fd)
{
	*udp_fd = ds->udp;
	*tcp_fd = ds->tcp;
}

/* serve_udp - answer the datagrams waiting */
static int
serve_udp(struct dns_server *ds)
{
	uint8_t q[4096], a[DNS_EDNS_MAX];
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t n;
	size_t len;
	int done = 0, i;

	for (i = 0; i < DNS_UDP_BURST; i++) {
		fl = sizeof(from);
		n = recvfrom(ds->udp, q, sizeof(q), 0,
		    (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		len = dns_server_answer(ds->zone, q, (size_t)n, a, sizeof(a),
		    512, &ds->st);
		if (len > 0 && sendto(ds->udp, a, len, 0,
		    (struct sockaddr *)&from, fl) == (ssize_t)len)
			done++;
	}
	return done;
}

/* read_full - read exactly n bytes (the socket has a timeout) */
static int
read_full(int fd, uint8_t *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = read(fd, p, n);
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* serve_tcp - accept one connection and answer its queries */
static int
serve_tcp(struct dns_server *ds)
{
	static const struct timeval tv = { 1, 0 };
	uint8_t hdr[2], q[65535], *a;
	size_t qlen, len;
	int fd, i, done = 0;

	fd = accept4(ds->tcp, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	a = malloc(65537);
	for (i = 0; a != NULL && i < DNS_TCP_QUERIES; i++) {
		if (read_full(fd, hdr, 2) != 0)
			break;
		qlen = (size_t)hdr[0] << 8 | hdr[1];
		if (qlen == 0 || read_full(fd, q, qlen) != 0)
			break;
		ds->st.tcp++;
		len = dns_server_answer(ds->zone, q, qlen, a + 2, 65535, 0,
		    &ds->st);
		if (len == 0)
			break;
		a[0] = (uint8_t)(len >> 8);
		a[1] = (uint8_t)len;
		if (write(fd, a, len + 2) != (ssize_t)(len + 2))
			break;
		done++;
	}
	free(a);
	close(fd);
	return done;
}

/* dns_server_poll_once - one round of the event loop */
int
dns_server_poll_once(struct dns_server *ds, int timeout_ms)
{
	struct pollfd pfd[2];
	int n, done = 0;

	pfd[0].fd = ds->udp;
	pfd[0].events = POLLIN;
	pfd[1].fd = ds->tcp;
	pfd[1].events = POLLIN;
	n = poll(pfd, 2, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if ((pfd[0].revents & POLLIN) != 0)
		done += serve_udp(ds);
	if ((pfd[1].revents & POLLIN) != 0)
		done += serve_tcp(ds);
	return done;
}

/* run - the serving thread */
static void *
run(void *arg)
{
	struct dns_server *ds = arg;

	while (!atomic_load(&ds->stop))
		if (dns_server_poll_once(ds, 100) < 0)
			break;
	return NULL;
}

/* dns_server_start - serve from a thread */
int
dns_server_start(struct dns_server *ds)
{
	int rc;

	if (ds->running)
		return -EALREADY;
	atomic_store(&ds->stop, false);
	rc = pthread_create(&ds->thread, NULL, run, ds);
	if (rc != 0)
		return -rc;
	ds->running = true;
	return 0;
}

/* dns_server_stop - ask the thread to stop and join it */
void
dns_server_stop(struct dns_server *ds)
{
	if (!ds->running)
		return;
	atomic_store(&ds->stop, true);
	(void)pthread_join(ds->thread, NULL);
	ds->running = false;
}

/* dns_server_stats - counters */
const struct dns_server_stats *
dns_server_stats(const struct dns_server *ds)
{
	return &ds->st;
}

/* dns_server_close - stop, close, free */
void
dns_server_close(struct dns_server *ds)
{
	if (ds == NULL)
		return;
	dns_server_stop(ds);
	close(ds->udp);
	close(ds->tcp);
	free(ds);
}
