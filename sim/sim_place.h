/*
 * @file sim_place.h
 * Where a simulated provider files an accepted message.  The decision is
 * made at end of DATA from the profile's placement rules and reaches the
 * event log and the Postmaster view, never the SMTP reply.
 */
#ifndef SIM_PLACE_H
#define SIM_PLACE_H

/* The folder of an accepted message (event log "placement"). */
enum sim_place {
	SIM_PLACE_NONE = 0,	/* not accepted, or no decision */
	SIM_PLACE_INBOX,	/* "inbox" */
	SIM_PLACE_SPAM,		/* "spam" (junk, bulk folder) */
	SIM_PLACE_PROMOTIONS,	/* "promotions" (a tab beside the inbox) */
	SIM_PLACE_COUNT
};

#endif /* SIM_PLACE_H */
