#!/usr/bin/python3
"""rpt_pm - the Postmaster view from an mxsim event log (mxreport's
Postmaster charts and seed-placement table, and a tool on its own).

DESCRIPTION
    Folds events into the figures mxsim's GET /postmaster serves
    (sim/obs/sim_pm.h), with the same definitions, per provider x sender domain
    x simulated UTC day and per provider x client IP x day:

      messages, recipients, complaints   end-of-DATA 2xx: count, sum of
                                         nrcpts, sum of complaints
      spam_rate                          complaints / recipients
      eod, spf/dkim/dmarc_pass, tls      every end-of-DATA event (accepted
                                         or refused); those whose result
                                         is pass; those over TLS
      *_rate, tls_share                  those counts / eod
      placement, seeds                   accepted events with a folder:
                                         count and sum of "seeds" per folder
      errors                             every 4xx/5xx at any stage, per
                                         (code, enhanced)
      reputation, band                   ip_rep (IP rows) or domain_rep
                                         (domain rows): the lowest of the
                                         day's folder-carrying events (the
                                         worst standing); band from
                                         the profile: Bad < block_below <=
                                         Low < temp_below <= Medium <
                                         (temp_below + max) / 2 <= High

    Domain rows need a sender domain; events without a provider are left
    out.  At most MAX_KEYS (domain or IP) identities per provider are kept;
    events of others are counted in .overflow.

    In mxreport: Postmaster(profiles).attach(aggregator) before the log is
    read, draw(report) after Report.build(): one chart per provider
    (pm_<provider>) and an HTML section with the seed-placement table.

    On its own: rpt_pm.py [--json] [--scenario FILE] LOG prints the
    seed-placement table, or (--json) the same object GET /postmaster
    serves, without "bands", "rows", "max_rows" and "overflow".

DIAGNOSTICS
    Lines that are not JSON objects are skipped and counted; a missing log
    exits 1.
"""

import datetime
import html
import json
import os
import sys

DAY_MS = 86400 * 1000
HOUR_MS = 3600 * 1000
# buckets under a day for the charts of short runs, finest first: (bucket,
# used while the log spans under this); the rows are kept in one of them,
# merged into the next when the span or MAX_FINE_ROWS is passed; draw()
# merges further to the coarsest giving MIN_BUCKETS buckets
FINE = ((10 * 1000, 1800 * 1000), (60 * 1000, 6 * HOUR_MS), (HOUR_MS, DAY_MS))
MIN_BUCKETS = 6
MAX_FINE_ROWS = 4000
PART_MS = DAY_MS // 4   # spam placement is drawn per quarter of a day
MAX_KEYS = 5000         # identities per provider and kind
TOP_LINES = 6           # IPs, domains or codes drawn per panel
FOLDERS = ('inbox', 'spam', 'promotions')
AUTH = ('spf', 'dkim', 'dmarc')
BANDS = ('Bad', 'Low', 'Medium', 'High')


def day_str(day):
    """day_str - a day number (days since 1970) as YYYY-MM-DD."""
    return (datetime.date(1970, 1, 1) +
            datetime.timedelta(days=day)).isoformat()


def time_str(ms):
    """time_str - a simulated time (ms since 1970) as ISO 8601 UTC."""
    return (datetime.datetime(1970, 1, 1) + datetime.timedelta(
        milliseconds=ms)).strftime('%Y-%m-%dT%H:%M:%SZ')


def unit_str(ms):
    """unit_str - a FINE bucket's name."""
    return {HOUR_MS: '1 h', 60000: '1 min'}.get(ms, '%d s' % (ms // 1000))


def band(prof, score):
    """band - the band index (0 Bad .. 3 High) of a score under a profile
    (an rpt_model.Profile); High when the profile is unknown."""
    if prof is None:
        return 3
    if score < prof.block_below:
        return 0
    if score < prof.temp_below:
        return 1
    if score < prof.temp_below + (prof.rep_max - prof.temp_below) / 2:
        return 2
    return 3


def gaps(rows):
    """gaps - rows whose second value is None become one empty row per
    run (a single blank line: gnuplot breaks the line there without
    starting a new index); none at either end."""
    out = []
    for row in rows:
        if row[1] is not None:
            out.append(row)
        elif out and out[-1]:
            out.append(())
    while out and not out[-1]:
        out.pop()
    return out


def new_row():
    """new_row - the counters of one (key, day)."""
    return {'messages': 0, 'recipients': 0, 'complaints': 0, 'eod': 0,
            'spf_pass': 0, 'dkim_pass': 0, 'dmarc_pass': 0, 'tls': 0,
            'placement': dict.fromkeys(FOLDERS, 0),
            'seeds': dict.fromkeys(FOLDERS, 0), 'errors': {},
            'rep': None, 'rep_ms': -1}


def coarsen(rows, unit, to):
    """coarsen - rows of unit-ms buckets merged into to-ms buckets (a
    multiple): counts add, the reputation kept is the lowest."""
    if to == unit:
        return rows
    out = {}
    for (kind, prov, key, i), r in rows.items():
        k = (kind, prov, key, i * unit // to)
        o = out.get(k)
        if o is None:
            o = out[k] = new_row()
        for f in ('messages', 'recipients', 'complaints', 'eod', 'spf_pass',
                  'dkim_pass', 'dmarc_pass', 'tls'):
            o[f] += r[f]
        for f in FOLDERS:
            o['placement'][f] += r['placement'][f]
            o['seeds'][f] += r['seeds'][f]
        for c, n in r['errors'].items():
            o['errors'][c] = o['errors'].get(c, 0) + n
        if r['rep'] is not None and (o['rep'] is None or
                                     (r['rep'], r['rep_ms']) <
                                     (o['rep'], o['rep_ms'])):
            o['rep'], o['rep_ms'] = r['rep'], r['rep_ms']
    return out


def rate(n, d):
    """rate - n / d, None when d is 0."""
    return n / d if d else None


class Postmaster:
    """The Postmaster figures of a log."""

    def __init__(self, profiles=None):
        self.profiles = profiles or {}
        self.rows = {}          # (kind 'domain'|'ip', prov, key, day) -> row
        self.keys = {}          # (kind, prov) -> set of keys
        self.parts = {}         # (prov, domain, quarter) -> [filed, spam]
        self.overflow = 0
        self.nbad = 0
        self.fields = False     # the log has the issue 9 keys ("tls")
        # the same rows in FINE[self.fine_k] buckets (None: a day or more,
        # only the daily rows): the charts of a short run use them
        self.fine = {}
        self.fine_k = 0
        self.sim_lo = self.sim_hi = None
        self.view = self.rows   # the rows the charts read
        self.unit_ms = DAY_MS   # and their bucket

    def frow(self, kind, prov, key, i):
        """frow - a fine row of a key the daily rows keep (or None)."""
        if key not in self.keys.get((kind, prov), ()):
            return None
        r = self.fine.get((kind, prov, key, i))
        if r is None:
            r = self.fine[(kind, prov, key, i)] = new_row()
        return r

    def fine_view(self):
        """fine_view - (rows, bucket) the charts use: the fine rows merged
        into the coarsest FINE bucket giving MIN_BUCKETS over the log's
        span; the daily rows for a log of a day or more."""
        if self.fine_k is None or not self.fine:
            return self.rows, DAY_MS
        span = self.sim_hi - self.sim_lo
        k = self.fine_k
        while k + 1 < len(FINE) and span // FINE[k + 1][0] + 1 >= \
                MIN_BUCKETS:
            k += 1
        return coarsen(self.fine, FINE[self.fine_k][0], FINE[k][0]), \
            FINE[k][0]

    def row(self, kind, prov, key, day):
        """row - the row of a key and day, made on first use (or None)."""
        r = self.rows.get((kind, prov, key, day))
        if r is not None:
            return r
        ks = self.keys.setdefault((kind, prov), set())
        if key not in ks:
            if len(ks) >= MAX_KEYS:
                self.overflow += 1
                return None
            ks.add(key)
        r = self.rows[(kind, prov, key, day)] = new_row()
        return r

    def event(self, ev):
        """event - fold one decoded event (a dict from the log)."""
        prov, code, stage = ev.get('provider'), ev.get('code'), \
            ev.get('stage')
        sm = ev.get('sim_ms')
        if not prov or type(code) is not int or type(sm) is not int:
            return
        if 'tls' in ev:
            self.fields = True
        if self.sim_lo is None:
            self.sim_lo = self.sim_hi = sm
        self.sim_lo, self.sim_hi = min(self.sim_lo, sm), max(self.sim_hi, sm)
        k = self.fine_k
        while k is not None and (self.sim_hi - self.sim_lo >= FINE[k][1] or
                                 len(self.fine) > MAX_FINE_ROWS):
            if k + 1 == len(FINE):
                k, self.fine = None, {}
            else:
                self.fine = coarsen(self.fine, FINE[k][0], FINE[k + 1][0])
                k += 1
        self.fine_k = k
        unit = None if k is None else FINE[k][0]
        if stage != 'eod' and code < 400:
            return
        day = sm // DAY_MS
        dom = ev.get('sender_domain')
        if dom and stage == 'eod' and code // 100 == 2 and \
                ev.get('placement') in FOLDERS:
            c = self.parts.setdefault((prov, dom, sm // PART_MS), [0, 0])
            c[0] += 1
            c[1] += ev['placement'] == 'spam'
        if dom:
            self.add(self.row('domain', prov, dom, day), ev,
                     ev.get('domain_rep'))
            if unit:
                self.add(self.frow('domain', prov, dom, sm // unit), ev,
                         ev.get('domain_rep'))
        if ev.get('client'):
            self.add(self.row('ip', prov, ev['client'], day), ev,
                     ev.get('ip_rep'))
            if unit:
                self.add(self.frow('ip', prov, ev['client'], sm // unit), ev,
                         ev.get('ip_rep'))

    @staticmethod
    def add(r, ev, rep):
        """add - one event into a row; rep is the score this row keeps."""
        if r is None:
            return
        code = ev['code']
        if code >= 400:
            k = (code, ev.get('enhanced') or '')
            r['errors'][k] = r['errors'].get(k, 0) + 1
        if ev['stage'] != 'eod':
            return
        r['eod'] += 1
        for a in AUTH:
            r[a + '_pass'] += ev.get(a) == 'pass'
        r['tls'] += ev.get('tls') is True
        if code // 100 != 2:
            return
        r['messages'] += 1
        r['recipients'] += ev.get('nrcpts') or 0
        r['complaints'] += ev.get('complaints') or 0
        f = ev.get('placement')
        if f not in FOLDERS:
            return
        r['placement'][f] += 1
        r['seeds'][f] += ev.get('seeds') or 0
        if not isinstance(rep, (int, float)) or rep < 0:
            return
        sm = ev['sim_ms']
        if r['rep'] is None or rep < r['rep'] or \
                (rep == r['rep'] and sm < r['rep_ms']):
            r['rep'], r['rep_ms'] = float(rep), sm

    def attach(self, agg):
        """attach - fold every event an rpt_agg.Aggregator folds."""
        agg.taps.append(self.event)

    # -- output --

    def day_json(self, prov, day, r):
        """day_json - one row as GET /postmaster shows it (errors sorted
        by code and enhanced code)."""
        o = {'day': day_str(day)}
        for k in ('messages', 'recipients', 'complaints'):
            o[k] = r[k]
        o['spam_rate'] = rate(r['complaints'], r['recipients'])
        o['eod'] = r['eod']
        for a in AUTH:
            o[a + '_pass'] = r[a + '_pass']
        for a in AUTH:
            o[a + '_rate'] = rate(r[a + '_pass'], r['eod'])
        o['tls'] = r['tls']
        o['tls_share'] = rate(r['tls'], r['eod'])
        o['reputation'] = r['rep']
        o['band'] = None if r['rep'] is None else \
            BANDS[band(self.profiles.get(prov), r['rep'])]
        o['placement'] = dict(r['placement'])
        o['seeds'] = dict(r['seeds'])
        o['errors'] = [{'code': c, 'enhanced': e, 'count': n}
                       for (c, e), n in sorted(r['errors'].items())]
        o['errors_other'] = 0
        return o

    def json(self):
        """json - {"providers": {prov: {"domains": {..}, "ips": {..}}}},
        each key a list of day objects sorted by day."""
        provs = {}
        for (kind, prov, key, day) in sorted(self.rows):
            p = provs.setdefault(prov, {'domains': {}, 'ips': {}})
            p[kind + 's'].setdefault(key, []).append(
                self.day_json(prov, day, self.rows[(kind, prov, key, day)]))
        return {'providers': provs}

    def seed_table(self):
        """seed_table - [(provider, domain, seeds, {folder: seeds})] over
        all days, for domains with seeds."""
        tot = {}
        for (kind, prov, key, _), r in self.rows.items():
            if kind != 'domain':
                continue
            t = tot.setdefault((prov, key), dict.fromkeys(FOLDERS, 0))
            for f in FOLDERS:
                t[f] += r['seeds'][f]
        return [(p, d, sum(t.values()), t) for (p, d), t in sorted(
            tot.items()) if sum(t.values())]

    def days(self, prov):
        """days - the first and last day with rows of a provider."""
        ds = [k[3] for k in self.view if k[1] == prov]
        return (min(ds), max(ds)) if ds else (0, -1)

    def top(self, kind, prov, n=TOP_LINES):
        """top - the n keys of a kind with most end-of-DATA events."""
        tot = {}
        for (k, p, key, _), r in self.view.items():
            if k == kind and p == prov:
                tot[key] = tot.get(key, 0) + r['eod'] + sum(
                    r['errors'].values())
        return sorted(tot, key=lambda k: (-tot[k], k))[:n]

    def sums(self, prov, day):
        """sums - a provider's domain rows of one day added up."""
        s = new_row()
        for (k, p, _, d), r in self.view.items():
            if k != 'domain' or p != prov or d != day:
                continue
            for f in ('messages', 'recipients', 'complaints', 'eod', 'tls',
                      'spf_pass', 'dkim_pass', 'dmarc_pass'):
                s[f] += r[f]
            for f in FOLDERS:
                s['placement'][f] += r['placement'][f]
        return s

    def ip_errors(self, prov, day):
        """ip_errors - a provider's refusals of one day (IP rows: every
        refusal has a client), per (code, enhanced)."""
        e = {}
        for (k, p, _, d), r in self.view.items():
            if k == 'ip' and p == prov and d == day:
                for c, n in r['errors'].items():
                    e[c] = e.get(c, 0) + n
        return e

    def draw(self, rep):
        """draw - data/pm_<provider>.dat files, one chart per provider
        and the HTML section of an rpt_out.Report (before render());
        nothing for a log written before mxsim logged these keys."""
        if not self.fields:
            return
        self.view, self.unit_ms = self.fine_view()
        for prov in sorted({k[1] for k in self.rows}):
            self.draw_prov(rep, prov)
        self.view, self.unit_ms = self.rows, DAY_MS
        rep.sections.append(self.html())

    def draw_prov(self, rep, prov):
        """draw_prov - the eight Postmaster panels of one provider."""
        lo, hi = self.days(prov)
        days = range(lo, hi + 1)
        base = 'pm_' + ''.join(c if c.isalnum() else '_' for c in prov)
        panels = []
        fine = self.unit_ms != DAY_MS     # any bucket under a day
        if fine:
            unit = unit_str(self.unit_ms)
            xl = 'simulated time in %s buckets, 0 = %s (the run spans ' \
                'under a simulated day)' % (unit, time_str(lo * self.unit_ms))
        else:
            xl = 'simulated day (UTC), day 0 = %s' % day_str(lo)
        xmin, xmax = '-0.5', '%g' % (hi - lo + 0.5)
        pts = 'with linespoints pt 7 ps 0.8'
        xt = 'set xtics %d out\n' % (1 if hi - lo < 20 else 7 if not fine
                                      else 2)

        def lines(path, keys, busiest_on_top=False):
            """lines - one plot line per block of path, key i in line type
            i + 1 (its colour in every panel); busiest_on_top draws the
            first key last."""
            items = list(enumerate(keys))
            if busiest_on_top:
                items.reverse()
            return ', \\\n     '.join(
                "'%s' index %d using 1:2 %s lt %d title '%s'"
                % (path, i, pts, i + 1, k.replace("'", '')) for i, k in items)

        def ident_blocks(kind, col):
            keys = self.top(kind, prov)
            blocks = []
            for key in keys:
                # days without a value break the line (see gaps())
                rows = []
                for d in days:
                    r = self.view.get((kind, prov, key, d)) or new_row()
                    if col == 'band':
                        rows.append((d - lo, None, None) if r['rep'] is None
                                    else (d - lo, band(self.profiles.get(
                                        prov), r['rep']), r['rep']))
                    else:
                        rows.append((d - lo, rate(
                            100.0 * r['complaints'], r['recipients']),
                            r['complaints'], r['recipients']))
                if any(row[1] is not None for row in rows):
                    blocks.append((key, gaps(rows)))
            return [k for k, _ in blocks], blocks

        band_extra = (xt + "set yrange [-0.3:3.3]\nset ytics ('Bad' 0, "
                      "'Low' 1, 'Medium' 2, 'High' 3)")
        for kind, what in (('ip', 'IP'), ('domain', 'domain')):
            keys, blocks = ident_blocks(kind, 'band')
            if not keys:
                continue
            path = rep.dat('%s_%s_rep.dat' % (base, kind),
                           ['day', 'band', 'score'], blocks, blocks=True)
            plot = lines(path, keys)
            panels.append(rep.panel('%s reputation (%s)' % (what, prov), xl,
                                    'band', plot, xmin, xmax,
                                    extra=band_extra))
        keys, blocks = ident_blocks('domain', 'spam')
        if keys:
            path = rep.dat(base + '_spam.dat', ['day', 'spam_rate_pct',
                                                'complaints', 'recipients'],
                           blocks, blocks=True)
            plot = lines(path, keys)
            plot += (", \\\n     0.1 with lines dt 2 lc rgb '#ff9f1c' "
                     "title '0.1%', \\\n     0.3 with lines dt 2 lc rgb "
                     "'#d62728' title '0.3%'")
            panels.append(rep.panel(
                'spam rate (user-reported complaints / recipients)', xl,
                'percent', plot, xmin, xmax,
                extra=xt + 'set ytics autofreq\nset yrange [0:0.5<*]'))
        keys = [k for k in self.top('domain', prov)
                if any(p[0] == prov and p[1] == k for p in self.parts)]
        if keys:
            blocks = []
            for key in keys:
                if fine:        # per fine bucket: the view's own placement
                    rows = []
                    for d in days:
                        r = self.view.get(('domain', prov, key, d)) or \
                            new_row()
                        m = sum(r['placement'].values())
                        sp = r['placement']['spam']
                        rows.append((d - lo, rate(100.0 * sp, m), sp, m))
                else:           # per quarter of a day
                    rows = []
                    for q in range(lo * 4, (hi + 1) * 4):
                        c = self.parts.get((prov, key, q), (0, 0))
                        rows.append(((q - lo * 4) / 4.0 + 0.125,
                                     rate(100.0 * c[1], c[0]), c[1], c[0]))
                blocks.append((key, gaps(rows)))
            path = rep.dat(base + '_spam_place.dat',
                           ['bucket' if fine else 'day', 'spam_pct', 'spam',
                            'filed'], blocks, blocks=True)
            panels.append(rep.panel(
                'accepted messages filed as spam, per sender domain and '
                '%s' % ('%s bucket' % unit if fine else 'quarter of a day'),
                xl, 'percent', lines(path, keys, busiest_on_top=True), xmin,
                xmax, extra=xt + 'set ytics autofreq\nset yrange [0:105]'))
        agg = []
        for d in days:
            s = self.sums(prov, d)
            e = s['eod']
            m = sum(s['placement'].values())
            agg.append((d - lo,) + tuple(
                rate(100.0 * s[a + '_pass'], e) for a in AUTH) +
                (rate(100.0 * s['tls'], e),) + tuple(
                rate(100.0 * s['placement'][f], m) for f in FOLDERS))
        path = rep.dat(base + '_daily.dat', ['day', 'spf_pct', 'dkim_pct',
                                             'dmarc_pct', 'tls_pct',
                                             'inbox_pct', 'spam_pct',
                                             'promotions_pct'], agg)
        pct = xt + 'set ytics autofreq\nset yrange [0:105]'
        panels.append(rep.panel(
            'authentication success (end-of-DATA messages)', xl, 'percent',
            ", \\\n     ".join("'%s' using 1:%d %s title '%s'" % (
                path, i + 2, pts, a.upper()) for i, a in enumerate(AUTH)),
            xmin, xmax, extra=pct))
        panels.append(rep.panel(
            'encryption: share of messages over TLS', xl, 'percent',
            "'%s' using 1:5 %s lc rgb '#1f77b4' title 'TLS'" % (path, pts),
            xmin, xmax, extra=pct))
        panels.append(rep.panel(
            'placement of accepted messages', xl, 'percent',
            "'%s' using 1:($6+$7+$8) with boxes lc rgb '#9467bd' title "
            "'promotions', \\\n     '' using 1:($6+$7) with boxes lc rgb "
            "'#d62728' title 'spam', \\\n     '' using 1:6 with boxes lc "
            "rgb '#2ca02c' title 'inbox'" % path, xmin, xmax,
            extra=pct + '\nset style fill solid 0.85 noborder\n'
            'set boxwidth 0.8'))
        codes = {}
        for d in days:
            for c, n in self.ip_errors(prov, d).items():
                codes[c] = codes.get(c, 0) + n
        top = sorted(codes, key=lambda c: (-codes[c], c))[:TOP_LINES]
        if top:
            rows = []
            for d in days:
                e = self.ip_errors(prov, d)
                rows.append((d - lo,) + tuple(e.get(c, 0) for c in top))
            path = rep.dat(base + '_errors.dat', ['day'] + [
                '%d_%s' % c for c in top], rows)
            panels.append(rep.panel(
                'delivery errors by code', xl, 'replies',
                ", \\\n     ".join("'%s' using 1:%d %s title '%d %s'" % (
                    path, i + 2, pts, c[0], c[1]) for i, c in
                    enumerate(top)), xmin, xmax,
                extra=xt + 'set ytics autofreq'))
        t = 'Postmaster view: %s%s' % (prov, ' (%s buckets of simulated time: '
                                        'the run spans under a day)' % unit
                                        if fine else '')
        rep.chart(base, t,
                  '%s as a Postmaster tool shows it '
                  % ('Per %s of simulated time (the run spans under a '
                     'simulated day, so daily buckets would be single dots),'
                     % unit
                     if fine else 'Per simulated UTC day,') +
                  '(definitions: reports/rpt_pm.py, README "Placement and '
                  'the Postmaster view"): reputation band of the busiest '
                  'IPs and sender domains (lowest score of the bucket), spam '
                  'rate per domain against the 0.1%% and 0.3%% lines, '
                  'SPF/DKIM/DMARC success and TLS share of end-of-DATA '
                  'messages, placement of accepted messages (per sender '
                  'domain and quarter day for spam, per day in all) and '
                  'refusals by code, over every domain of %s.' % html.escape(prov),
                  rep.fill('multiplot', ROWS=len(panels), COLS=1, TITLE=t,
                           PANELS='\n'.join(panels)),
                  h=60 + 280 * len(panels))

    def html(self):
        """html - the Postmaster section of index.html."""
        e = html.escape
        out = ['<h2>Postmaster view</h2>',
               '<p>Per provider and simulated day: see the <code>pm_'
               '</code> charts below; <code>curl $C/postmaster</code> serves '
               'the same figures while mxsim runs.</p>']
        seeds = self.seed_table()
        out.append('<h3>Seed-list placement</h3>')
        if not seeds:
            out.append('<p>No seed recipients in this log.</p>')
            return '\n'.join(out)
        out.append('<table><tr><th>provider</th><th>sender domain</th>'
                   '<th>seeds</th>' + ''.join('<th>%s</th>' % f
                                              for f in FOLDERS) + '</tr>')
        for prov, dom, n, t in seeds:
            out.append('<tr><td>%s</td><td>%s</td><td class="n">%d</td>%s'
                       '</tr>' % (e(prov), e(dom), n, ''.join(
                           '<td class="n">%.1f%%</td>' % (100.0 * t[f] / n)
                           for f in FOLDERS)))
        out.append('</table>')
        return '\n'.join(out)


def main(argv):
    """main - the seed table (or --json) of one log."""
    import argparse
    here = os.path.dirname(os.path.realpath(__file__))
    sys.path.insert(0, here)
    import rpt_model
    ap = argparse.ArgumentParser(prog='rpt_pm.py', description='Postmaster '
                                 'figures of an mxsim event log')
    ap.add_argument('log')
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--scenario', help='take the profiles (reputation '
                    'bands) from this scenario')
    a = ap.parse_args(argv)
    profiles, _ = rpt_model.load_profiles(
        os.path.join(os.path.dirname(here), 'profiles'), a.scenario)
    pm = Postmaster(profiles)
    try:
        with open(a.log, encoding='utf-8', errors='replace') as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    ev = None
                if type(ev) is dict:
                    pm.event(ev)
                else:
                    pm.nbad += 1
    except OSError as e:
        print('rpt_pm: %s: %s' % (a.log, e.strerror), file=sys.stderr)
        return 1
    if pm.nbad:
        print('rpt_pm: %d unusable line(s)' % pm.nbad, file=sys.stderr)
    if a.json:
        print(json.dumps(pm.json(), sort_keys=True))
        return 0
    print('  %-12s %-28s %8s %8s %8s %11s' % ('provider', 'sender domain',
                                              'seeds', 'inbox', 'spam',
                                              'promotions'))
    for prov, dom, n, t in pm.seed_table():
        print('  %-12s %-28s %8d %7.1f%% %7.1f%% %10.1f%%' % (
            prov, dom, n, 100.0 * t['inbox'] / n, 100.0 * t['spam'] / n,
            100.0 * t['promotions'] / n))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
