#!/usr/bin/python3
"""rpt_daily - accepted and refused messages per simulated day, per sender
domain (mxreport's "daily" chart, and a table on its own).

DESCRIPTION
    Folds mxsim events into counts keyed by (sender domain, simulated UTC
    day): accepted (2xx at end of DATA), deferred (4xx) and rejected (5xx)
    replies at MAIL, RCPT, DATA or end of DATA that carry a sender domain.
    Replies before MAIL (connect, EHLO) have no sender domain and are not
    counted.  This is what shows a warm-up ramp: a patient sender's accepted
    bars climb day by day, a sender that starts at full volume stays flat at
    its first-day allowance and turns red.

    In mxreport: Daily().attach(aggregator) before the log is read (every
    event the aggregator folds is also counted here), then draw(report)
    after Report.build(); the chart is added only when the log spans at
    least two simulated days.  At most MAX_DOMAINS domains are tracked (the
    rest count as "other") and the TOP_DOMAINS busiest are drawn.

    On its own: rpt_daily.py LOG... prints the per-day table.

DIAGNOSTICS
    Lines that are not JSON objects with the needed keys are skipped and
    counted ("rpt_daily: N unusable line(s)").  A missing log exits 1.
"""

import datetime
import json
import sys

DAY_MS = 86400 * 1000
MAX_DOMAINS = 1000
TOP_DOMAINS = 4
STAGES = ('mail', 'rcpt', 'data', 'eod')


class Daily:
    """Counts per (sender domain, simulated day)."""

    def __init__(self):
        self.n = {}             # (domain, day) -> [accepted, 4xx, 5xx]
        self.domains = {}       # domain -> total counted
        self.day_lo = None
        self.day_hi = None

    def event(self, ev):
        """event - count one decoded event (a dict from the log)."""
        dom = ev.get('sender_domain')
        code = ev.get('code')
        sm = ev.get('sim_ms')
        if not dom or ev.get('stage') not in STAGES or \
                type(code) is not int or type(sm) is not int:
            return
        cls = code // 100
        if cls == 2:
            if ev['stage'] != 'eod':
                return
            col = 0
        elif cls in (4, 5):
            col = cls - 3
        else:
            return
        if dom not in self.domains and len(self.domains) >= MAX_DOMAINS:
            dom = 'other'
        day = sm // DAY_MS
        if self.day_lo is None or day < self.day_lo:
            self.day_lo = day
        if self.day_hi is None or day > self.day_hi:
            self.day_hi = day
        self.domains[dom] = self.domains.get(dom, 0) + 1
        self.n.setdefault((dom, day), [0, 0, 0])[col] += 1

    def attach(self, agg):
        """attach - count every event an rpt_agg.Aggregator folds."""
        fold = agg.event

        def both(ev):
            fold(ev)
            self.event(ev)
        agg.event = both

    def top(self):
        """top - the TOP_DOMAINS domains with most counted replies."""
        return sorted(self.domains, key=lambda d: (-self.domains[d], d))[
            :TOP_DOMAINS]

    def days(self):
        """days - every simulated day from the first to the last."""
        if self.day_lo is None:
            return range(0)
        return range(self.day_lo, self.day_hi + 1)

    def rows(self, dom):
        """rows - [(day index, date, accepted, deferred, rejected)]."""
        return [(d - self.day_lo, day_str(d)) +
                tuple(self.n.get((dom, d), (0, 0, 0))) for d in self.days()]

    def draw(self, rep):
        """draw - data/daily.dat and the "daily" chart of an rpt_out.Report
        (before its render()); nothing when under two days are logged."""
        if len(self.days()) < 2:
            return
        doms = self.top()
        blocks = [(dom, [(i, a, f, r) for i, _, a, f, r in self.rows(dom)])
                  for dom in doms]
        path = rep.dat('daily.dat', ['day', 'accepted', 'deferred_4xx',
                                     'rejected_5xx'], blocks, blocks=True)
        ndays = len(self.days())
        extra = ('set style fill solid 0.85 noborder\nset boxwidth 0.8\n'
                 'set xtics 1 out')
        if ndays > 20:
            extra = extra.replace('set xtics 1', 'set xtics 7')
        panels = []
        for k, dom in enumerate(doms):
            plot = (
                "'%s' index %d using 1:($2+$3+$4) with boxes lc rgb "
                "'#d62728' title '5xx rejected', \\\n"
                "     '' index %d using 1:($2+$3) with boxes lc rgb "
                "'#ff9f1c' title '4xx deferred', \\\n"
                "     '' index %d using 1:2 with boxes lc rgb '#2ca02c' "
                "title 'accepted'" % (path, k, k, k))
            panels.append(rep.panel(
                '%s: messages per simulated day' % dom,
                'simulated day (UTC), day 0 = %s' % day_str(self.day_lo),
                'messages', plot, '-0.6', '%g' % (ndays - 0.4), extra=extra))
        t = 'accepted and refused per simulated day, per sender domain'
        rep.chart('daily', t,
                  'Per simulated UTC day and sender domain (the %d with the '
                  'most replies): messages accepted at end of DATA, and '
                  'refusals (4xx deferred, 5xx rejected) at MAIL, RCPT, DATA '
                  'or end of DATA, stacked.' % len(doms),
                  rep.fill('multiplot', ROWS=len(panels), COLS=1,
                           TITLE=t, PANELS='\n'.join(panels)),
                  h=120 + 300 * len(panels))


def day_str(day):
    """day_str - a day number (days since 1970) as YYYY-MM-DD."""
    return (datetime.date(1970, 1, 1) +
            datetime.timedelta(days=day)).isoformat()


def main(argv):
    """main - print the per-day table of the logs named in argv."""
    if not argv or argv[0] in ('-h', '--help'):
        print('usage: rpt_daily.py LOG...  (accepted, deferred and rejected '
              'per simulated day and sender domain)', file=sys.stderr)
        return 2
    d = Daily()
    bad = 0
    for name in argv:
        try:
            with open(name, encoding='utf-8', errors='replace') as f:
                for line in f:
                    try:
                        ev = json.loads(line)
                    except ValueError:
                        bad += 1
                        continue
                    if type(ev) is dict:
                        d.event(ev)
                    else:
                        bad += 1
        except OSError as e:
            print('rpt_daily: %s: %s' % (name, e.strerror), file=sys.stderr)
            return 1
    if bad:
        print('rpt_daily: %d unusable line(s)' % bad, file=sys.stderr)
    doms = d.top()
    print('%-4s %-10s' % ('day', 'date') + ''.join(
        '  %28s' % ('%s acc/4xx/5xx' % dom)[-28:] for dom in doms))
    for d_ in d.days():
        print('%-4d %-10s' % (d_ - d.day_lo, day_str(d_)) + ''.join(
            '  %28s' % ('%d/%d/%d' % tuple(d.n.get((dom, d_), (0, 0, 0))))
            for dom in doms))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
