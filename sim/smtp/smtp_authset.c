/*
 * DESCRIPTION
 *	The process's authentication set, built once at start: word list,
 *	then (with declared records) zone, smtp_auth_world, key files and
 *	the DNS server, in that order.  The Public Suffix List is used when
 *	the system has one (AUTH_DMARC_PSL_DEFAULT).
 *
 * DIAGNOSTICS
 *	Every failure returns -1 with a message naming the file, key path
 *	or address.  A scenario with records in a build without the
 *	authentication libraries fails and says so.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth_zone.h"
#include "msg_scan.h"
#include "prof_load.h"
#include "smtp_auth.h"
#include "smtp_authset.h"
#ifdef MXSIM_HAVE_AUTH
#include "auth_dkim.h"
#include "auth_dmarc.h"
#include "dns_server.h"

static int	write_keys(const struct prof_world *, const char *, char *,
		    size_t);
static int	start_dns(struct smtp_authset *, const struct prof_world *,
		    char *, size_t);

/* write_keys - every DKIM private key to DIR/DOMAIN.SELECTOR.pem (0600) */
static int
write_keys(const struct prof_world *w, const char *dir, char *err,
    size_t errlen)
{
	const struct prof_sender *sd;
	const struct prof_dkim_key *k;
	char path[4096];
	size_t i, j, len;
	ssize_t n;
	int fd;

	for (i = 0; i < w->nsenders; i++) {
		sd = &w->senders[i];
		for (j = 0; j < sd->ndkim_keys; j++) {
			k = &sd->dkim_keys[j];
			if (k->key_pem == NULL)
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s.%s.pem",
			    dir, sd->domain, k->selector) >= sizeof(path)) {
				snprintf(err, errlen, "--dkim-keys-dir: path "
				    "too long");
				return -1;
			}
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
			    O_CLOEXEC, 0600);
			if (fd < 0) {
				snprintf(err, errlen, "%s: %s", path,
				    strerror(errno));
				return -1;
			}
			len = strlen(k->key_pem);
			n = write(fd, k->key_pem, len);
			if (close(fd) != 0 || n != (ssize_t)len) {
				snprintf(err, errlen, "%s: short write", path);
				return -1;
			}
		}
	}
	return 0;
}

/* start_dns - the authoritative DNS server on dns.listen */
static int
start_dns(struct smtp_authset *as, const struct prof_world *w, char *err,
    size_t errlen)
{
	struct in_addr ia;
	char addr[INET_ADDRSTRLEN];
	int rc;

	ia.s_addr = htonl(w->dns_addr);
	inet_ntop(AF_INET, &ia, addr, sizeof(addr));
	if ((rc = dns_server_open(&as->dns, as->zone, addr, w->dns_port)) !=
	    0 || (rc = dns_server_start(as->dns)) != 0) {
		snprintf(err, errlen, "DNS server %s: %s", w->dns_listen,
		    strerror(-rc));
		return -1;
	}
	return 0;
}
#endif /* MXSIM_HAVE_AUTH */

/* smtp_authset_open - word list; with records zone, auth, keys, DNS */
int
smtp_authset_open(struct smtp_authset *as, struct prof_world *w,
    const char *keys_dir, char *err, size_t errlen)
{
#ifdef MXSIM_HAVE_AUTH
	char why[256], aerr[300];
	int rc;
#endif

	memset(as, 0, sizeof(*as));
	if ((as->words = malloc(sizeof(*as->words))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	msg_wordlist_init(as->words);
	(void)msg_wordlist_add_defaults(as->words);
	if (!prof_scenario_has_records(w))
		return 0;	/* keys_dir has nothing to receive */
#ifdef MXSIM_HAVE_AUTH
	if ((as->zone = auth_zone_create(300)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	why[0] = '\0';
	if ((rc = prof_world_build_zone(w, as->zone, auth_dkim_keygen,
	    auth_dkim_pubkey, why, sizeof(why))) != 0) {
		snprintf(err, errlen, "%s: DNS records: %s%s%s", w->file,
		    strerror(-rc), why[0] != '\0' ? ": " : "", why);
		return -1;
	}
	if (keys_dir != NULL && write_keys(w, keys_dir, err, errlen) != 0)
		return -1;
	as->psl = access(AUTH_DMARC_PSL_DEFAULT, R_OK) == 0;
	if (smtp_auth_world_new(&as->aw, as->zone, as->psl ?
	    AUTH_DMARC_PSL_DEFAULT : NULL, aerr, sizeof(aerr)) != 0) {
		snprintf(err, errlen, "authentication: %s", aerr);
		return -1;
	}
	if (w->dns_listen != NULL && start_dns(as, w, err, errlen) != 0)
		return -1;
	return 0;
#else
	(void)keys_dir;
	snprintf(err, errlen, "%s declares DNS records but mxsim was built "
	    "without libspf2/libopendkim/libopendmarc/ldns", w->file);
	return -1;
#endif
}

/* smtp_authset_close - stop the DNS server, free the contexts */
void
smtp_authset_close(struct smtp_authset *as)
{
#ifdef MXSIM_HAVE_AUTH
	dns_server_close(as->dns);
#endif
	as->dns = NULL;
	smtp_auth_world_free(as->aw);
	as->aw = NULL;
	auth_zone_free(as->zone);
	as->zone = NULL;
	free(as->words);
	as->words = NULL;
}
