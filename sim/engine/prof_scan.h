/*
 * @file prof_scan.h
 * How much of a message a profile's rules read (issue 19): the message
 * scanner (msg_scan.h) runs for a message only as far as that provider's
 * rules, placement, complaint draws and reply texts need what it
 * extracts.  Decided once per world, when it is loaded or changed
 * (prof_scan_decide()), and kept in each profile (prof_profile.scan).
 * The default, PROF_SCAN_ALL, scans everything: a profile built without
 * prof_scan_decide() loses nothing.
 */
#ifndef PROF_SCAN_H
#define PROF_SCAN_H

#include "prof_world.h"

/** What the profile @p p of world @p w reads of a message: PROF_SCAN_ALL
 *  (body facts: spam words, links, URL domains, attachments, MIME),
 *  PROF_SCAN_HEADERS (From, Message-ID, DKIM d=, List-Unsubscribe,
 *  Received, header size) or PROF_SCAN_NONE. */
enum prof_scan prof_scan_need(const struct prof_world *w,
    const struct prof_profile *p);

/** Set prof_profile.scan of every profile of @p w (after loading it, and
 *  after a change to a clone, before it is published). */
void prof_scan_decide(struct prof_world *w);

#endif /* PROF_SCAN_H */
