"""Expectations: compare what mxsim saw and the MTA logged with the spec.

Every run checks, whatever the spec says: the processes survived, the MTA's
queue is empty, no message is lost (each recipient is delivered or bounced),
none is delivered twice, every bounce produced a DSN that reached mxsim, and
the MTA's log agrees with mxsim on deliveries.  The spec adds outcome per
group, count bounds, reply counts, retry intervals, attempts, concurrency.
"""


class Row:
    def __init__(self, what, expected, observed, ok):
        self.what, self.expected, self.observed, self.ok = what, expected, observed, ok


def _within(x, b):
    lo, hi = b
    return (lo is None or x >= lo) and (hi is None or x <= hi)


def _fmt(b, unit=""):
    lo, hi = b
    if lo is not None and hi is not None:
        return "%g%s" % (lo, unit) if lo == hi else "%g..%g%s" % (lo, hi, unit)
    if lo is not None:
        return ">= %g%s" % (lo, unit)
    return "<= %g%s" % (hi, unit)


def _short(items, n=3):
    items = sorted(items)
    s = ", ".join(items[:n])
    return s + (" +%d more" % (len(items) - n) if len(items) > n else "")


def session_attempts(log):
    """{rcpt: [epoch seconds]}: one attempt per mxsim session with an RCPT of
    the recipient (the fallback for adapters without attempts())."""
    out = {}
    for rcpt, atts in log.attempts.items():
        seen = set()
        for a in atts:
            if a.session not in seen:
                seen.add(a.session)
                out.setdefault(rcpt, []).append(a.wall_ms / 1000.0)
    return out


def shift_at(run, at):
    """Simulated seconds the timeline was held back (by waits) before AT."""
    return sum(s for w_at, s in run.get("shifts", []) if w_at <= at)


def evaluate(spec, msgs, log, mta_out, run, attempts=None, floor=None):
    """Rows for one run.  MSGS: injected Messages; RUN: facts from the runner
    (adapter, crash, queue, ended, t0_ms, time_scale, control errors, waits,
    shifts);
    ATTEMPTS: the adapter's {rcpt: [epoch s]} or None (count mxsim sessions);
    FLOOR: the adapter's retry_floor() in real seconds."""
    rows = []
    e = spec.expect
    rows.append(Row("processes ran to the end", "no crash",
                    run["crash"] or "no crash", not run["crash"]))
    for err in run["control_errors"]:
        rows.append(Row("timeline " + err[0], "HTTP 2xx", err[1], False))
    for what, ok, obs in run.get("waits", []):
        rows.append(Row("timeline " + what, "reached", obs, ok))
    rows.append(Row("MTA queue empty at end", "0", "%d (%s)" % (
        run["queue"], run["ended"]), run["queue"] == 0))

    by_rcpt = {}
    for m in msgs:
        for r in m.rcpts:
            by_rcpt[r.lower()] = m
    delivered, bounced, lost, dup, no_dsn, disagree = set(), set(), set(), set(), set(), set()
    for rcpt, m in by_rcpt.items():
        n = log.delivered.get(rcpt, 0)
        st = mta_out.get(rcpt, {}).get("status")
        if n > 1:
            dup.add(rcpt)
        if n >= 1:
            delivered.add(rcpt)
            if st != "sent":
                disagree.add(rcpt)
        elif st in ("bounced", "expired"):
            bounced.add(rcpt)
            if not log.dsn.get(m.sender.lower()):
                no_dsn.add(m.sender.lower())
        else:
            lost.add(rcpt)
            if st == "sent":
                disagree.add(rcpt)
    total = len(by_rcpt)
    rows.append(Row("recipients lost (neither delivered nor bounced)", "0",
                    "%d of %d%s" % (len(lost), total,
                                    (": " + _short(lost)) if lost else ""),
                    not lost))
    rows.append(Row("recipients delivered twice", "0", "%d%s" % (
        len(dup), (": " + _short(dup)) if dup else ""), not dup))
    rows.append(Row("bounces with a DSN seen by mxsim", "%d" % len({
        by_rcpt[r].sender for r in bounced}), "%d%s" % (
        len({by_rcpt[r].sender for r in bounced}) - len(no_dsn),
        ("; missing for " + _short(no_dsn)) if no_dsn else ""), not no_dsn))
    rows.append(Row("MTA log agrees with mxsim", "0 disagreements",
                    "%d%s" % (len(disagree), (": " + _short(disagree)) if disagree else ""),
                    not disagree))
    if log.nrcpt_mismatch:
        rows.append(Row("event log: EOD nrcpts = accepted RCPTs", "0 mismatches",
                        str(log.nrcpt_mismatch), False))

    groups = {}
    for rcpt, m in by_rcpt.items():
        groups.setdefault(m.group, []).append(rcpt)
    for g in sorted(groups):
        rs = groups[g]
        want = e["outcomes"].get(g, "delivered")
        nd = sum(1 for r in rs if r in delivered)
        nb = sum(1 for r in rs if r in bounced)
        obs = "%d delivered, %d bounced" % (nd, nb)
        if want == "delivered":
            ok, exp = nd == len(rs), "%d delivered" % len(rs)
        elif want == "bounced":
            ok, exp = nb == len(rs), "%d bounced" % len(rs)
        else:
            ok, exp = nd + nb == len(rs), "%d delivered or bounced" % len(rs)
        rows.append(Row("group %s outcome" % g, exp, obs, ok))
    for k, s in (("delivered", delivered), ("bounced", bounced)):
        if k in e:
            rows.append(Row("recipients %s" % k, _fmt(e[k]), str(len(s)),
                            _within(len(s), e[k])))

    for key, parts, b in e.get("replies", []):
        n = log.count(parts)
        rows.append(Row("replies '%s'" % key, _fmt(b), str(n), _within(n, b)))

    src = "MTA log"
    if attempts is None:
        attempts, src = session_attempts(log), "mxsim sessions"
    if "attempts" in e:
        ea = e["attempts"]
        ns = [len(attempts.get(r, [])) for r, m in by_rcpt.items() if m.group in ea["groups"]]
        lo, hi = min(ns, default=0), max(ns, default=0)
        obs = "%d" % lo if lo == hi else "%d..%d" % (lo, hi)
        rows.append(Row("delivery attempts per recipient (%s; %s)" % (
            ",".join(ea["groups"]), src), _fmt(ea["bounds"]), obs,
            bool(ns) and _within(lo, ea["bounds"]) and _within(hi, ea["bounds"])))

    ri = e.get("retry_interval")
    if ri:
        iv = []
        mult = 1.0 if ri["unit"] == "real" else run["time_scale"]
        for rcpt, m in by_rcpt.items():
            if m.group in ri["groups"]:
                ts = attempts.get(rcpt, [])
                iv += [(b - a) * mult for a, b in zip(ts, ts[1:])]
        lo = ri["min"]
        if lo == "schedule":
            lo = floor if floor is not None else 0.0
        b = (lo, ri["max"])
        if iv:
            obs = "%.2f..%.2fs (%d retries)" % (min(iv), max(iv), len(iv))
            ok = _within(min(iv), b) and _within(max(iv), b)
        else:
            obs, ok = "no retries seen", False
        rows.append(Row("retry interval (%s s, %s; %s)" % (
            ri["unit"], ",".join(ri["groups"]), src),
                        _fmt(b, "s"), obs, ok))

    for c in e.get("accepted_rate", []):
        # windows aligned on the simulated clock, as mxsim's own counters
        win_ms = c["window"] * 1000.0
        per = {}
        for prov, sim_ms in log.accepted:
            if prov == c["provider"]:
                k = int(sim_ms // win_ms)
                per[k] = per.get(k, 0) + 1
        n = max(per.values(), default=0)
        rows.append(Row("accepted by %s per %gs sim window" % (c["provider"], c["window"]),
                        "<= %d" % c["max"], "%d (busiest of %d)" % (n, len(per)),
                        n <= c["max"]))

    dr = e.get("drain")
    if dr:
        # from the groups' first delivery to their last, in simulated time:
        # how long the provider's limits spread the burst, whatever the
        # MTA took to take the messages in
        ts = [log.delivered_ms[r] for r, m in by_rcpt.items()
              if m.group in dr["groups"] and r in log.delivered_ms]
        if ts:
            t = (max(ts) - min(ts)) / 1000.0 * run["time_scale"]
            obs, ok = "%gs (%d delivered)" % (round(t, 1), len(ts)), \
                _within(t, (dr["min"], dr["max"]))
        else:
            obs, ok = "nothing delivered", False
        rows.append(Row("drain: first to last delivery of %s (sim)" % ",".join(
            dr["groups"]), _fmt((dr["min"], dr["max"]), "s"), obs, ok))

    for c in e.get("concurrency", []):
        if c["adapters"] is not None and run.get("adapter") not in c["adapters"]:
            continue        # a behaviour of those MTAs, not of this one
        scale, t0 = run["time_scale"], run["t0_ms"]
        lo = t0 + (c["from"] + shift_at(run, c["from"])) / scale * 1000.0
        hi = t0 + (c["to"] + shift_at(run, c["to"])) / scale * 1000.0
        win = "%s %gs..%gs sim" % (c["provider"], c["from"], c["to"])
        if "max_sessions" in c:
            n = log.max_sessions(c["provider"], lo, hi)
            rows.append(Row("concurrent sessions " + win, _fmt(c["max_sessions"]),
                            str(n), _within(n, c["max_sessions"])))
        if "connections" in c:
            n = log.connections(c["provider"], lo, hi)
            rows.append(Row("connections " + win, _fmt(c["connections"]),
                            str(n), _within(n, c["connections"])))
    return rows


def table(rows, out):
    """Print ROWS as an aligned table to OUT."""
    head = ("expectation", "expected", "observed", "result")
    cells = [head] + [(r.what, r.expected, r.observed, "PASS" if r.ok else "FAIL")
                      for r in rows]
    w = [min(60, max(len(c[i]) for c in cells)) for i in range(3)]
    for i, c in enumerate(cells):
        out.write("  %-*s  %-*s  %-*s  %s\n" % (w[0], c[0], w[1], c[1], w[2], c[2], c[3]))
        if i == 0:
            out.write("  " + "  ".join("-" * x for x in w) + "  ------\n")
