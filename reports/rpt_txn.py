"""rpt_txn - mail transactions rebuilt from mxsim's reply log.

DESCRIPTION
    mxsim's event log has one line per reply; planners count messages.
    Txns folds the replies of each session back into mail transactions
    with the rule mxsim's own counters use (sim/smtp/smtp_session.h,
    README "transactions"):

      * a MAIL the policy answered opens a transaction (a MAIL refused
        with a protocol.* reason, syntax or sequence, opens none);
      * it ends at the end-of-DATA reply, a refused MAIL, the next MAIL
        or EHLO of the session (an RSET is not logged: a new MAIL stands
        for it), or when the log ends;
      * the end-of-DATA reply decides alone: 2xx accepted, 4xx deferred,
        5xx refused; otherwise the first 4xx inside it makes it deferred,
        else the first 5xx refused; with neither it was abandoned.

    Replies outside a transaction (connect and EHLO refusals, the 503s
    pipelined after a refused MAIL) are not transactions.  Each ended
    transaction goes to the callback as a Txn: its provider, client,
    sender domain, outcome, the deciding reply (code, enhanced, reason)
    and the deciding reply's times (wall_ms, sim_ms); an abandoned one
    takes its last reply's times.

    Memory: only sessions with an open transaction are kept, at most
    MAX_OPEN; beyond, the session idle longest is ended as if the log
    ended there.  A session whose close is not logged (QUIT after a
    refused RCPT) stays open until its next MAIL, EHLO, an eviction or
    the end of the log; its outcome does not depend on which.

DIAGNOSTICS
    None: events without a session id are not part of any transaction.
"""

MAX_OPEN = 65536
OUTCOMES = ('accepted', 'deferred', 'refused', 'abandoned')


class Txn:
    """One ended mail transaction."""

    __slots__ = ('provider', 'client', 'domain', 'outcome', 'code',
                 'enhanced', 'reason', 'wall_ms', 'sim_ms')

    def __init__(self, provider, client, domain, outcome, reply, times):
        self.provider = provider
        self.client = client
        self.domain = domain
        self.outcome = outcome
        self.code, self.enhanced, self.reason = reply
        self.wall_ms, self.sim_ms = times


class Open:
    """A session's open transaction: first 4xx and 5xx, last reply."""

    __slots__ = ('provider', 'client', 'domain', 'soft', 'hard', 'last')

    def __init__(self, ev):
        self.provider = ev['provider']
        self.client = ev.get('client')
        self.domain = ev.get('sender_domain')
        self.soft = None        # ((code, enhanced, reason), (wall, sim))
        self.hard = None
        self.last = (ev['wall_ms'], ev['sim_ms'])


def reply(ev):
    """reply - (code, enhanced, reason) of an event."""
    return ev['code'], ev.get('enhanced') or '-', ev.get('reason') or '-'


class Txns:
    """Sessions folded into transactions; on_txn(Txn) per ended one."""

    def __init__(self, on_txn, max_open=MAX_OPEN):
        self.on_txn = on_txn
        self.max_open = max_open
        self.open = {}          # session id -> Open, least recent first
        self.evicted = 0

    def end(self, o):
        """end - decide an open transaction and report it."""
        if o.soft is not None:
            out, (rep, times) = 'deferred', o.soft
        elif o.hard is not None:
            out, (rep, times) = 'refused', o.hard
        else:
            out, rep, times = 'abandoned', (0, '-', '-'), o.last
        self.on_txn(Txn(o.provider, o.client, o.domain, out, rep, times))

    def event(self, ev):
        """event - fold one valid event (the keys rpt_agg requires)."""
        sid = ev.get('session')
        if not sid:
            return
        stage, code = ev['stage'], ev['code']
        o = self.open.pop(sid, None)
        if stage == 'eod':
            if o is None:
                o = Open(ev)
            cls = code // 100
            out = 'accepted' if cls == 2 else 'deferred' if cls == 4 \
                else 'refused' if cls == 5 else None
            if out is None:
                self.open[sid] = o
                return
            self.on_txn(Txn(o.provider, o.client, o.domain or
                            ev.get('sender_domain'), out, reply(ev),
                            (ev['wall_ms'], ev['sim_ms'])))
            return
        if stage in ('mail', 'ehlo', 'connect') and o is not None:
            if stage != 'mail' or not (ev.get('reason') or '').startswith(
                    'protocol.'):
                self.end(o)             # a new MAIL or EHLO: RSET before
                o = None
        if stage == 'mail' and o is None:
            if (ev.get('reason') or '').startswith('protocol.'):
                return
            o = Open(ev)
            if code >= 400:
                o.soft = (reply(ev), (ev['wall_ms'], ev['sim_ms'])) \
                    if code < 500 else None
                o.hard = (reply(ev), (ev['wall_ms'], ev['sim_ms'])) \
                    if code >= 500 else None
                self.end(o)             # a refused MAIL ends it
                return
        if o is None:
            return
        o.last = (ev['wall_ms'], ev['sim_ms'])
        if 400 <= code < 500 and o.soft is None:
            o.soft = (reply(ev), o.last)
        elif code >= 500 and o.hard is None:
            o.hard = (reply(ev), o.last)
        self.open[sid] = o
        if len(self.open) > self.max_open:
            self.evicted += 1
            self.end(self.open.pop(next(iter(self.open))))

    def finish(self):
        """finish - end every transaction still open (the log ended)."""
        opened, self.open = self.open, {}
        for o in opened.values():
            self.end(o)
