"""mxsim event-log analysis: who got what, when, in which session.

mxsim logs one JSON object per reply.  RCPT events carry the recipient; end-
of-DATA events carry only nrcpts, so a transaction's recipients are the
RCPT events with a 250 since the session's last MAIL event.  Events of one
session come from one worker, in order, so file order within a session is
protocol order.  Times are kept as wall_ms (real) and sim_ms (simulated).
"""
import json


class Attempt:
    """One RCPT of a recipient: when, in which session, and the outcome."""

    __slots__ = ("wall_ms", "sim_ms", "session", "code", "enhanced", "reason",
                 "final")

    def __init__(self, ev):
        self.wall_ms = ev["wall_ms"]
        self.sim_ms = ev["sim_ms"]
        self.session = ev["session"]
        self.code = ev["code"]
        self.enhanced = ev["enhanced"]
        self.reason = ev["reason"]
        self.final = None       # deciding code: RCPT reject, EOD reply


class Session:
    __slots__ = ("id", "provider", "client", "start", "end", "events")

    def __init__(self, ev):
        self.id = ev["session"]
        self.provider = ev["provider"]
        self.client = ev["client"]
        self.start = ev["wall_ms"]
        self.end = ev["wall_ms"]
        self.events = 0


class Log:
    """The analysed event log."""

    def __init__(self):
        self.events = 0
        self.bad_lines = 0
        self.replies = []          # (code, enhanced, reason, provider, stage)
        self.attempts = {}         # rcpt -> [Attempt] in order
        self.delivered = {}        # rcpt -> number of 250s at end of DATA
        self.delivered_ms = {}     # rcpt -> wall_ms of its first delivery
        self.accepted = []         # (provider, sim_ms) of each message accepted
        self.dsn = {}              # rcpt of a null-sender message -> count
        self.sessions = {}         # id -> Session
        self.nrcpt_mismatch = 0    # EOD nrcpts != RCPT 250s of the transaction

    def count(self, parts):
        """Replies matching 'CODE [ENHANCED [reason]]' split in PARTS, or
        the class ['4xx'] / ['5xx']: the replies of that class that refuse
        something (protocol.* replies left out: a 503 to a command pipelined
        after a refused MAIL is no second refusal)."""
        n = 0
        for code, enh, reason, _p, _s in self.replies:
            if parts[0].endswith("xx"):
                if str(code)[0] != parts[0][0] or (reason or "").startswith("protocol."):
                    continue
            elif str(code) != parts[0]:
                continue
            if len(parts) > 1 and (enh or "") != parts[1]:
                continue
            if len(parts) > 2 and reason != parts[2]:
                continue
            n += 1
        return n

    def max_sessions(self, provider, lo_ms, hi_ms):
        """Most sessions of PROVIDER open at once within [lo_ms, hi_ms]."""
        edges = []
        for s in self.sessions.values():
            if s.provider != provider or s.end < lo_ms or s.start > hi_ms:
                continue
            edges.append((max(s.start, lo_ms), 1))
            edges.append((min(s.end, hi_ms), -1))
        edges.sort(key=lambda e: (e[0], -e[1]))
        cur = best = 0
        for _t, d in edges:
            cur += d
            best = max(best, cur)
        return best

    def connections(self, provider, lo_ms, hi_ms):
        return sum(1 for s in self.sessions.values()
                   if s.provider == provider and lo_ms <= s.start <= hi_ms)


def load(path):
    """Analyse the JSON Lines file at PATH."""
    log = Log()
    txn = {}                       # session -> (null sender, [Attempt])
    with open(path, errors="replace") as f:
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                log.bad_lines += 1
                continue
            log.events += 1
            sid = ev["session"]
            s = log.sessions.get(sid)
            if s is None:
                s = log.sessions[sid] = Session(ev)
            s.end = max(s.end, ev["wall_ms"])
            s.events += 1
            code, stage = ev["code"], ev["stage"]
            log.replies.append((code, ev["enhanced"], ev["reason"],
                                ev["provider"], stage))
            if stage == "mail":
                txn[sid] = (ev["sender_domain"] is None, [])
            elif stage == "rcpt" and ev["rcpt"]:
                rcpt = ev["rcpt"].lower()
                a = Attempt(ev)
                log.attempts.setdefault(rcpt, []).append(a)
                if code == 250 and sid in txn:
                    txn[sid][1].append((rcpt, a))
                else:
                    a.final = code
            elif stage == "eod":
                null, acc = txn.pop(sid, (False, []))
                if ev["nrcpts"] != len(acc) and code == 250:
                    log.nrcpt_mismatch += 1
                if code == 250 and not null:
                    log.accepted.append((ev["provider"], ev["sim_ms"]))
                for rcpt, a in acc:
                    a.final = code
                    if code == 250:
                        if null:
                            log.dsn[rcpt] = log.dsn.get(rcpt, 0) + 1
                        else:
                            log.delivered[rcpt] = log.delivered.get(rcpt, 0) + 1
                            log.delivered_ms.setdefault(rcpt, ev["wall_ms"])
            elif code >= 400 and sid in txn and stage in ("data", "connect", "ehlo"):
                # transaction ended before end of DATA (or session refused)
                for _rcpt, a in txn.pop(sid)[1]:
                    a.final = code
    return log

