/*
 * @file smtp_authset.h
 * What the sessions of one process authenticate and scan with, built from
 * the scenario at start: the scanner's spam word list, and when the
 * scenario declares DNS records (prof_scenario_has_records()) the zone
 * (DKIM keys generated or read), the process-wide SPF/DKIM/DMARC part
 * (struct smtp_auth_world; each worker makes its own smtp_auth from it),
 * the private keys written for signers, and the authoritative DNS server
 * over the same zone when dns.listen is set.  Without records the policy
 * keeps using the scenario's declared facts.
 */
#ifndef SMTP_AUTHSET_H
#define SMTP_AUTHSET_H

#include <stdbool.h>
#include <stddef.h>

#include "prof_world.h"

struct auth_zone;
struct dns_server;
struct msg_wordlist;
struct smtp_auth_world;

struct smtp_authset {
	struct msg_wordlist *words;	/* spam words for the scanner */
	struct auth_zone *zone;		/* NULL: no records declared */
	struct smtp_auth_world *aw;	/* NULL: no records declared */
	struct dns_server *dns;		/* NULL: no dns.listen */
	bool		 psl;		/* a Public Suffix List was found */
};

/**
 * Build everything from @p w (zeroed @p as first).  DKIM keys the scenario
 * asks to generate are made now and stored in @p w.
 * @param keys_dir  write every DKIM private key to
 *                  KEYS_DIR/DOMAIN.SELECTOR.pem (mode 0600), or NULL.
 * @param err       on failure: what and where ("DNS server
 *                  198.19.40.1:53: Address already in use").
 * @return 0, or -1; smtp_authset_close() frees what was made either way.
 */
int smtp_authset_open(struct smtp_authset *as, struct prof_world *w,
    const char *keys_dir, char *err, size_t errlen);

/** Stop the DNS server and free everything, after the workers that used
 *  it; a zeroed set is fine. */
void smtp_authset_close(struct smtp_authset *as);

#endif /* SMTP_AUTHSET_H */
