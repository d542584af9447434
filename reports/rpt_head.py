"""rpt_head - the planner's headline figures of an mxsim event log.

DESCRIPTION
    Per provider, per (provider, sending IP) and over the whole log,
    from the mail transactions rpt_txn rebuilds (messages, not replies):

      offered        transactions the senders opened: accepted + deferred
                     + refused + abandoned (refusals at connect or EHLO
                     are no transaction: "refused before MAIL" counts
                     those replies)
      span           from the row's first logged reply to its last, in
                     real (wall) and simulated time
      offered rate   offered / span; accepted rate accepted / span
      acceptance     accepted / offered
      first deferral the first deferred transaction (its deciding reply):
                     time since the row's first reply, real and
                     simulated, and its code
      sustained      accepted transactions from the start of the bucket
                     (BUCKET_MS, doubled on long runs) holding the first
                     deferral to the row's last transaction, divided by
                     that time: what the provider lets through once it
                     throttles.  Without a deferral: the accepted rate.
                     Simulated: the same count over the same time times
                     the row's time scale (its simulated span / real
                     span)
      deferral share deferred / offered, and per (code, enhanced code)
                     deferred with it / offered; refusal share likewise

    Rates are per second of real time and per minute of simulated time
    (the unit most profile limits use).  Headline(agg) taps an
    rpt_agg.Aggregator; after the log: finish(), then figures() (the
    summary.json object), draw(report) (the messages-per-second chart per
    provider and the HTML table) and markdown().

    Memory: IP rows for the first MAX_IPS IPs of each provider (the rest
    count in the provider row and as "other"); per row at most
    MAX_ROW_BUCKETS buckets of accepted counts.

DIAGNOSTICS
    None (figures that need a span or a deferral are null without one).
"""

import html

import rpt_out
import rpt_txn

BUCKET_MS = 1000
MAX_ROW_BUCKETS = 128
MAX_IPS = 256
TOP_CODES = 4           # codes shown per table cell (all in summary.json)
SHOW_IPS = 32           # IP rows in index.html per provider
OUT_COLORS = (('accepted', '#2ca02c'), ('deferred', '#ff9f1c'),
              ('refused', '#d62728'), ('abandoned', '#7f7f7f'))

DEFINITIONS = {
    'offered': 'mail transactions opened (MAIL answered by the policy): '
               'accepted + deferred + refused + abandoned',
    'span': "from the row's first logged reply to its last",
    'offered_rate': 'offered / span (per real second; per simulated '
                    'minute)',
    'accepted_rate': 'accepted / span',
    'acceptance_share': 'accepted / offered',
    'sustained_accepted_rate': 'accepted transactions from the start of '
        'the 1 s bucket (coarser on long runs) holding the first deferred '
        "transaction to the row's last transaction, over that time; the "
        'simulated rate uses the row\'s time scale; without a deferral the '
        'accepted rate',
    'first_deferral': "time from the row's first reply to the deciding "
                      'reply of its first deferred transaction',
    'deferral_share': 'deferred / offered; per code: deferred with that '
                      '(code, enhanced code) / offered',
    'refused_before_mail': '4xx/5xx replies at connect or EHLO (no '
                           'transaction)',
}


class Row:
    """The counters of one row (provider, IP or the whole log)."""

    def __init__(self, w, s):
        self.first_w = self.last_w = w
        self.first_s = self.last_s = s
        self.n = dict.fromkeys(rpt_txn.OUTCOMES, 0)
        self.codes = {}         # (outcome, code, enhanced) -> [n, reasons]
        self.fd = None          # (wall, sim, code, enhanced, reason)
        self.txn_w = self.txn_s = None
        self.pre_mail = 0
        self.width = BUCKET_MS
        self.acc = {}           # wall bucket -> accepted

    def seen(self, w, s):
        """seen - a reply of the row at (wall, sim)."""
        if w < self.first_w:
            self.first_w = w
        elif w > self.last_w:
            self.last_w = w
        if s < self.first_s:
            self.first_s = s
        elif s > self.last_s:
            self.last_s = s

    def txn(self, t):
        """txn - one ended transaction."""
        self.n[t.outcome] += 1
        if self.txn_w is None or t.wall_ms > self.txn_w:
            self.txn_w, self.txn_s = t.wall_ms, t.sim_ms
        if t.outcome in ('deferred', 'refused'):
            k = (t.outcome, t.code, t.enhanced)
            c = self.codes.get(k)
            if c is None:
                c = self.codes[k] = [0, set()]
            c[0] += 1
            if len(c[1]) < 8:
                c[1].add(t.reason)
        if t.outcome == 'deferred' and (self.fd is None or
                                        t.wall_ms < self.fd[0]):
            self.fd = (t.wall_ms, t.sim_ms, t.code, t.enhanced, t.reason)
        if t.outcome == 'accepted':
            b = t.wall_ms // self.width
            self.acc[b] = self.acc.get(b, 0) + 1
            if len(self.acc) > MAX_ROW_BUCKETS:
                self.width *= 2
                old, self.acc = self.acc, {}
                for k, v in old.items():
                    self.acc[k // 2] = self.acc.get(k // 2, 0) + v

    def figures(self):
        """figures - the headline object of the row."""
        n = self.n
        off = sum(n.values())
        wspan = (self.last_w - self.first_w) / 1000.0
        sspan = (self.last_s - self.first_s) / 1000.0
        scale = sspan / wspan if wspan > 0 else None

        def rate(k, w_s):
            if not w_s or w_s <= 0:
                return None
            r = {'real_per_s': k / w_s, 'sim_per_min': None}
            if scale:
                r['sim_per_min'] = 60.0 * k / (w_s * scale)
            return r

        def share(k):
            return k / off if off else None
        f = {'offered': off, 'refused_before_mail': self.pre_mail,
             'span': {'real_s': wspan, 'sim_s': sspan},
             'time_scale': scale,
             'offered_rate': rate(off, wspan),
             'accepted_rate': rate(n['accepted'], wspan),
             'acceptance_share': share(n['accepted']),
             'deferral_share': share(n['deferred']),
             'refusal_share': share(n['refused'])}
        f.update(n)
        if self.fd is None:
            f['first_deferral'] = None
            f['sustained_accepted_rate'] = dict(
                rate(n['accepted'], wspan) or {}, basis='no deferral',
                accepted=n['accepted'], window_real_s=wspan)
            if not wspan or not off:
                f['sustained_accepted_rate'] = None
        else:
            w, s, code, enh, reason = self.fd
            f['first_deferral'] = {
                'real_s': (w - self.first_w) / 1000.0,
                'sim_s': (s - self.first_s) / 1000.0,
                'code': code, 'enhanced': enh, 'reason': reason}
            b0 = w // self.width
            k = sum(v for b, v in self.acc.items() if b >= b0)
            win = (self.txn_w - b0 * self.width) / 1000.0
            f['sustained_accepted_rate'] = dict(
                rate(k, win) or {'real_per_s': None, 'sim_per_min': None},
                basis='after first deferral', accepted=k,
                window_real_s=win)
        for kind in ('deferred', 'refused'):
            f[kind + '_by_code'] = [
                {'code': c, 'enhanced': e, 'count': v[0],
                 'share': share(v[0]), 'reasons': sorted(v[1])}
                for (o, c, e), v in sorted(self.codes.items(),
                                           key=lambda kv: (-kv[1][0],
                                                           kv[0]))
                if o == kind]
        return f


class Headline:
    """Headline rows folded from an Aggregator's events."""

    def __init__(self, agg):
        self.agg = agg
        self.total = None
        self.prov = {}          # provider -> Row
        self.ips = {}           # provider -> {ip: Row}, in order
        self.other_ips = {}     # provider -> count of untracked IPs
        self.txns = rpt_txn.Txns(self.on_txn)
        agg.taps.append(self.event)

    def rows_of(self, prov, ip, w, s, make=True):
        """rows_of - the rows an event of (prov, ip) counts in."""
        if self.total is None:
            self.total = Row(w, s)
        out = [self.total]
        r = self.prov.get(prov)
        if r is None:
            r = self.prov[prov] = Row(w, s)
            self.ips[prov] = {}
        out.append(r)
        if ip:
            d = self.ips[prov]
            r = d.get(ip)
            if r is None and len(d) < MAX_IPS:
                r = d[ip] = Row(w, s)
            elif r is None:
                self.other_ips[prov] = self.other_ips.get(prov, 0) + 1
            if r is not None:
                out.append(r)
        return out

    def event(self, ev):
        """event - one valid event (an Aggregator tap)."""
        w, s = ev['wall_ms'], ev['sim_ms']
        rows = self.rows_of(ev['provider'], ev.get('client'), w, s)
        for r in rows:
            r.seen(w, s)
        if ev['code'] >= 400 and ev['stage'] in ('connect', 'ehlo'):
            for r in rows:
                r.pre_mail += 1
        self.txns.event(ev)

    def on_txn(self, t):
        """on_txn - one ended transaction into its rows and the chart."""
        for r in self.rows_of(t.provider, t.client, t.wall_ms, t.sim_ms):
            r.txn(t)
        self.agg.wall.add(t.wall_ms, ('n.txn', t.provider, t.outcome))

    def finish(self):
        """finish - end the transactions still open."""
        self.txns.finish()

    def figures(self):
        """figures - {"total", "providers", "ips"} headline objects."""
        return {
            'total': self.total.figures() if self.total else None,
            'providers': {p: r.figures() for p, r in sorted(
                self.prov.items())},
            'ips': {p: {ip: r.figures() for ip, r in d.items()}
                    for p, d in sorted(self.ips.items())},
            'untracked_ip_events': dict(self.other_ips),
            'evicted_sessions': self.txns.evicted,
            'definitions': DEFINITIONS}


def table_rows(figs):
    """table_rows - [(provider, ip or '', figures)] of a figures() object:
    the whole log, then each provider and its busiest IPs."""
    out = [('all', '', figs['total'])]
    for p, f in figs['providers'].items():
        out.append((p, '', f))
        ips = sorted(figs['ips'][p].items(),
                     key=lambda kv: (-kv[1]['offered'], kv[0]))
        out += [(p, ip, g) for ip, g in ips[:SHOW_IPS]
                if g['offered'] or g['refused_before_mail']]
    return out


COLUMNS = ('provider', 'sending IP', 'offered', 'accepted', 'deferred',
           'refused', 'abandoned', 'refused before MAIL',
           'offered msg/s (real)', 'offered msg/min (sim)',
           'accepted msg/s (real)', 'accepted msg/min (sim)', 'acceptance',
           'sustained msg/s (real)', 'sustained msg/min (sim)',
           'first deferral s (real)', 'first deferral s (sim)',
           'deferral share by code', 'refusal share by code')


def fmt_rate(r, k):
    """fmt_rate - one rate of a rate object, or '-'."""
    if not r or r.get(k) is None:
        return '-'
    return '%.3g' % r[k] if r[k] < 100 else '%.0f' % r[k]


def fmt_share(v):
    """fmt_share - a share as a percentage, or '-'."""
    return '-' if v is None else '%.1f%%' % (100.0 * v)


def fmt_codes(lst, total_share):
    """fmt_codes - 'all 12.0%: 421 4.7.28 10.0%, ...' (TOP_CODES)."""
    if not lst:
        return '-'
    parts = ['%d %s %s' % (c['code'], c['enhanced'], fmt_share(c['share']))
             for c in lst[:TOP_CODES]]
    if len(lst) > TOP_CODES:
        parts.append('+%d more' % (len(lst) - TOP_CODES))
    return '%s: %s' % (fmt_share(total_share), ', '.join(parts))


def cells(prov, ip, f):
    """cells - the COLUMNS of one row as text."""
    fd = f['first_deferral']
    sus = f['sustained_accepted_rate']
    return [prov, ip or '(all)', str(f['offered']), str(f['accepted']),
            str(f['deferred']), str(f['refused']), str(f['abandoned']),
            str(f['refused_before_mail']),
            fmt_rate(f['offered_rate'], 'real_per_s'),
            fmt_rate(f['offered_rate'], 'sim_per_min'),
            fmt_rate(f['accepted_rate'], 'real_per_s'),
            fmt_rate(f['accepted_rate'], 'sim_per_min'),
            fmt_share(f['acceptance_share']),
            fmt_rate(sus, 'real_per_s') + ('' if fd or not sus else '*'),
            fmt_rate(sus, 'sim_per_min') + ('' if fd or not sus else '*'),
            '-' if fd is None else '%.1f' % fd['real_s'],
            '-' if fd is None else '%.1f' % fd['sim_s'],
            fmt_codes(f['deferred_by_code'], f['deferral_share']),
            fmt_codes(f['refused_by_code'], f['refusal_share'])]


NOTE = ('Messages are mail transactions rebuilt from the reply log '
        '(reports/rpt_txn.py). Rates over the row\'s span (first to last '
        'reply). Sustained: accepted transactions from the 1 s bucket of '
        'the first deferral to the row\'s last transaction, over that time '
        '(* no deferral: the accepted rate). First deferral: time from the '
        'row\'s first reply. Shares by code: of offered transactions.')


def markdown(figs):
    """markdown - the headline table as GitHub markdown."""
    out = ['| ' + ' | '.join(COLUMNS) + ' |',
           '|' + '---|' * len(COLUMNS)]
    for prov, ip, f in table_rows(figs):
        out.append('| ' + ' | '.join(c.replace('|', '/') for c in
                                     cells(prov, ip, f)) + ' |')
    out.append('')
    out.append(NOTE)
    return '\n'.join(out) + '\n'


def html_table(figs):
    """html_table - the headline section of index.html."""
    e = html.escape
    out = ['<h2>Headline: messages per provider and sending IP</h2>',
           '<p>%s Also in <a href="summary.json">summary.json</a> and '
           '<a href="headline.md">headline.md</a>.</p>' % e(NOTE),
           '<table class="head"><tr>%s</tr>' % ''.join(
               '<th>%s</th>' % e(c) for c in COLUMNS)]
    for prov, ip, f in table_rows(figs):
        cs = cells(prov, ip, f)
        out.append('<tr%s>%s</tr>' % (
            '' if ip else ' class="prov"',
            ''.join('<td%s>%s</td>' % (
                ' class="n"' if 2 <= k < 17 else ' class="codes"' if k >= 17
                else '', e(c).replace(': ', ':<br>').replace(', ', '<br>')
                if k >= 17 else e(c)) for k, c in enumerate(cs))))
    out.append('</table>')
    return '\n'.join(out)


def draw(rep, figs):
    """draw - messages per second by outcome per provider, and the table
    (before the report's render())."""
    tl = rep.a.wall
    for prov in figs['providers']:
        rows = []
        for i in tl.indexes():
            d = tl.b.get(i, {})
            rows.append([rep.wall_x(i)] + [d.get(('n.txn', prov, o), 0)
                                           for o, _ in OUT_COLORS])
        if rows:
            rows.append([rep.wall_x(tl.hi + 1), 0, 0, 0, 0])
        base = 'messages_' + rpt_out.slug(prov)
        f = rep.dat(base + '.dat', ['t_s'] + [o for o, _ in OUT_COLORS],
                    rows)
        plot = []
        for k in range(len(OUT_COLORS), 0, -1):
            o, col = OUT_COLORS[k - 1]
            plot.append("%s using ($1/%g):((%s)/%g) with fillsteps fs solid "
                        "0.85 noborder lc rgb '%s' title '%s'" % (
                            "'%s'" % f if not plot else "''", rep.wdiv,
                            '+'.join('$%d' % (j + 2) for j in range(k)),
                            rep.wbw, col, o))
        title = '%s: messages per second by outcome (transactions, ' \
            'stacked, %gs buckets)' % (prov, rep.wbw)
        rep.chart(base, title,
                  'Mail transactions of %s per second of real time by how '
                  'they ended (accepted, deferred, refused, abandoned), at '
                  'their deciding reply: one count per message attempt, '
                  'not per reply.' % html.escape(prov),
                  rep.panel(title, rep.wlabel, 'messages per second',
                            ', \\\n     '.join(plot), *rep.wrange))
    rep.top.append(html_table(figs))

