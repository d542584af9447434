"""rpt_out - mxreport's output: data files, gnuplot charts, index.html.

DESCRIPTION
    Turns an rpt_agg.Aggregator into files under one directory:
      data/*.dat     whitespace-separated columns, "# " header line; the
                     numbers every chart is drawn from
      charts/*.gp    the gnuplot scripts (templates/ filled in)
      *.png, *.svg   the charts (pngcairo, else png; and svg)
      index.html     charts, per-provider reply table, first appearance
                     of each throttling reason
    Wall-clock charts share one time axis (seconds, minutes or hours since
    the first event, by the run's length); policy charts use simulated
    time, which is what mxsim's windows and reputation run on.

DIAGNOSTICS
    gnuplot failures are collected in Report.errors (script name and
    gnuplot's stderr); a missing gnuplot raises OutputError.
"""

import datetime
import html
import os
import re
import shutil
import subprocess

TOP_SERIES = 10
TOP_IDENTS = 8
PALETTE = ('#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
           '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#000000')


class OutputError(Exception):
    """The report cannot be drawn at all (no gnuplot, unwritable dir)."""


def iso(ms):
    """iso - a Unix time in ms as ISO 8601 UTC."""
    d = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return d.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (ms % 1000)


def num(v):
    """num - one data-file field."""
    if v is None:
        return 'NaN'
    if isinstance(v, float):
        if v != v:
            return 'NaN'
        return ('%.4f' % v).rstrip('0').rstrip('.') if v != int(v) \
            else '%d' % v
    return str(v)


def slug(s):
    """slug - a file-name-safe form of a provider name."""
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', s) or '_'


def gp_str(s):
    """gp_str - text safe inside a gnuplot double-quoted string."""
    return str(s).replace('\\', '\\\\').replace('"', '\\"')


def axis(first_ms, origin_ms, last_ms, clock):
    """axis - (divisor, label) for seconds since origin."""
    span = (last_ms - origin_ms) / 1000.0
    if span <= 600:
        div, unit = 1, 's'
    elif span <= 600 * 60:
        div, unit = 60, 'min'
    else:
        div, unit = 3600, 'h'
    return div, '%s time since %s (%s)' % (clock, iso(origin_ms), unit)


def gnuplot_terms():
    """gnuplot_terms - (png terminal, svg ok), or None without gnuplot."""
    exe = shutil.which('gnuplot')
    if exe is None:
        return None
    r = subprocess.run([exe, '-e', 'set terminal'], capture_output=True,
                       stdin=subprocess.DEVNULL,
                       text=True, timeout=30)
    names = set(re.findall(r'^\s*(\S+)\s', r.stdout + r.stderr, re.M))
    png = 'pngcairo' if 'pngcairo' in names else \
        'png' if 'png' in names else None
    return exe, png, 'svg' in names


class Report:
    """One output directory being written."""

    def __init__(self, agg, outdir, tmpl_dir, log_name, warnings=()):
        self.a = agg
        self.out = outdir
        self.tmpl_dir = tmpl_dir
        self.log_name = log_name
        self.warnings = list(warnings)
        self.errors = []
        self.charts = []        # (title, base name, caption)
        self.files = []         # data files written
        self.sections = []      # extra HTML before the charts (rpt_pm)
        self.top = []           # HTML above every table (rpt_head)
        self.tmpl = {}
        for n in ('head', 'panel', 'multiplot'):
            with open(os.path.join(tmpl_dir, n + '.gp'),
                      encoding='utf-8') as f:
                self.tmpl[n] = f.read()
        a = agg
        self.wdiv, self.wlabel = axis(a.wall_first, a.wall.origin,
                                      a.wall_last, 'wall-clock')
        self.sdiv, self.slabel = axis(a.sim_first, a.sim.origin,
                                      a.sim_last, 'simulated')
        self.wbw = a.wall.width / 1000.0
        self.sbw = a.sim.width / 1000.0
        self.wrange = ('%g' % (a.wall.lo * self.wbw / self.wdiv),
                       '%g' % ((a.wall.hi + 1) * self.wbw / self.wdiv))
        self.srange = ('%g' % (a.sim.lo * self.sbw / self.sdiv),
                       '%g' % ((a.sim.hi + 1) * self.sbw / self.sdiv))

    # -- helpers --

    def fill(self, name, **kv):
        """fill - a template with @KEY@ replaced; unknown keys are bugs."""
        def sub(m):
            k = m.group(1)
            if k not in kv:
                raise KeyError('template %s: no value for @%s@' % (name, k))
            return str(kv[k])
        return re.sub(r'@([A-Z]+)@', sub, self.tmpl[name])

    def dat(self, name, cols, rows, blocks=False):
        """dat - write data/<name>; rows of values (or blocks of rows)."""
        path = os.path.join(self.out, 'data', name)
        with open(path, 'w', encoding='utf-8') as f:
            f.write('# ' + ' '.join(cols) + '\n')
            if blocks:
                for bi, (label, brows) in enumerate(rows):
                    if bi:
                        f.write('\n\n')
                    f.write('# %s\n' % label)
                    for r in brows:
                        f.write(' '.join(num(v) for v in r) + '\n')
            else:
                for r in rows:
                    f.write(' '.join(num(v) for v in r) + '\n')
        self.files.append('data/' + name)
        return 'data/' + name

    def panel(self, title, xlabel, ylabel, plot, xmin='*', xmax='*',
              extra=''):
        """panel - one filled panel template."""
        return self.fill('panel', TITLE=gp_str(title), XLABEL=gp_str(xlabel),
                         YLABEL=gp_str(ylabel), PLOT=plot, XMIN=xmin,
                         XMAX=xmax, EXTRA=extra)

    def chart(self, base, title, caption, body, w=1100, h=480):
        """chart - write charts/<base>.gp drawing PNG and SVG."""
        self.charts.append((title, base, caption, body, w, h))

    def render(self, exe, png, svg_ok):
        """render - run gnuplot on every chart script."""
        for title, base, caption, body, w, h in self.charts:
            parts = []
            if png:
                term = '%s size %d,%d %s' % (
                    png, w, h, "font 'DejaVu Sans,10'" if png == 'pngcairo'
                    else 'small')
                parts.append(self.fill('head', TERM=term, OUT=base + '.png'))
                parts.append(body)
            if svg_ok:
                parts.append(self.fill(
                    'head', TERM="svg size %d,%d dynamic font 'Sans,10'"
                    % (w, h), OUT=base + '.svg'))
                parts.append(body)
            script = os.path.join(self.out, 'charts', base + '.gp')
            with open(script, 'w', encoding='utf-8') as f:
                f.write('# %s\n# run from the report directory: gnuplot '
                        'charts/%s.gp\n' % (title, base))
                f.write('\n'.join(parts))
            r = subprocess.run([exe, os.path.join('charts', base + '.gp')],
                               cwd=self.out, capture_output=True, text=True,
                               stdin=subprocess.DEVNULL,
                               timeout=120)
            msg = r.stderr.strip()
            if r.returncode != 0:
                self.errors.append('charts/%s.gp: gnuplot exit %d: %s'
                                   % (base, r.returncode, msg))
            elif msg:
                self.warnings.append('charts/%s.gp: %s' % (base, msg))

    # -- the charts --

    def build(self):
        """build - every data file and chart script."""
        os.makedirs(os.path.join(self.out, 'data'), exist_ok=True)
        os.makedirs(os.path.join(self.out, 'charts'), exist_ok=True)
        for prov in sorted(self.a.rows):
            self.replies(prov)
        self.codes('def', 'deferrals', 'Deferrals (4xx) by enhanced code',
                   'deferred replies per second')
        self.codes('rej', 'rejections', 'Rejections (5xx) by enhanced code',
                   'rejected replies per second')
        for prov in sorted(self.a.rows):
            self.windows(prov)
        for prov in sorted(self.a.rows):
            self.reputation(prov)

    def wall_x(self, i):
        """wall_x - seconds since the wall origin at bucket i's start."""
        return i * self.a.wall.width / 1000.0

    def replies(self, prov):
        """replies - stacked replies per second by class, one provider."""
        tl = self.a.wall
        rows = []
        for i in tl.indexes():
            d = tl.b.get(i, {})
            rows.append((self.wall_x(i), d.get(('n.cls', prov, 2), 0),
                         d.get(('n.cls', prov, 4), 0),
                         d.get(('n.cls', prov, 5), 0)))
        if rows:
            rows.append((self.wall_x(tl.hi + 1), 0, 0, 0))
        f = self.dat('replies_%s.dat' % slug(prov),
                     ['t_s', 'n2xx', 'n4xx', 'n5xx'], rows)
        x = '($1/%g)' % self.wdiv
        bw = '%g' % self.wbw
        plot = (
            "'%s' using %s:(($2+$3+$4)/%s) with fillsteps fs solid 0.85 "
            "noborder lc rgb '#d62728' title '5xx rejected', \\\n"
            "     '' using %s:(($2+$3)/%s) with fillsteps fs solid 0.85 "
            "noborder lc rgb '#ff9f1c' title '4xx deferred', \\\n"
            "     '' using %s:($2/%s) with fillsteps fs solid 0.85 "
            "noborder lc rgb '#2ca02c' title '2xx ok'"
            % (f, x, bw, x, bw, x, bw))
        title = '%s: every reply per second by class (stacked, %gs ' \
            'buckets)' % (prov, self.wbw)
        self.chart('replies_' + slug(prov), title,
                   'Counts every logged reply of %s (greeting, EHLO, MAIL, '
                   'RCPT, end of DATA, and every 4xx/5xx), stacked by class: '
                   'several replies per message, so this is not a message '
                   'rate (messages: the messages_%s chart).'
                   % (html.escape(prov), html.escape(slug(prov))),
                   self.panel(title, self.wlabel, 'replies per second', plot,
                              *self.wrange))

    def series_names(self, kind):
        """series_names - {(prov, enh): 'prov enh (reasons)'}."""
        cls = 4 if kind == 'def' else 5
        out = {}
        for prov, enh in self.a.series[kind]:
            rs = sorted({r for (st, c, e, r) in self.a.rows.get(prov, {})
                         if c // 100 == cls and e == enh})
            out[(prov, enh)] = '%s %s (%s)' % (prov, enh, ', '.join(rs))
        return out

    def codes(self, kind, base, title, ylabel):
        """codes - 4xx or 5xx replies per second by (provider, code)."""
        tl = self.a.wall
        tot = {}
        for d in tl.b.values():
            for k, v in d.items():
                if k[0] == 'n.' + kind:
                    tot[(k[1], k[2])] = tot.get((k[1], k[2]), 0) + v
        if not tot:
            return
        order = sorted(tot, key=lambda s: (-tot[s], s))
        top, rest = order[:TOP_SERIES], order[TOP_SERIES:]
        names = self.series_names(kind)
        rows = []
        for i in tl.indexes():
            d = tl.b.get(i, {})
            r = [self.wall_x(i)]
            r += [d.get(('n.' + kind,) + s, 0) for s in top]
            if rest:
                r.append(sum(d.get(('n.' + kind,) + s, 0) for s in rest))
            rows.append(r)
        cols = ['t_s'] + ['%s/%s' % s for s in top] + (['other'] if rest
                                                        else [])
        f = self.dat(base + '.dat', cols, rows)
        labels = [names[s] for s in top] + (['%d other codes' % len(rest)]
                                            if rest else [])
        plot = ', \\\n     '.join(
            "%s using ($1/%g):($%d/%g) with steps lw 2 lc rgb '%s' "
            "title \"%s\"" % ("'%s'" % f if k == 0 else "''", self.wdiv,
                              k + 2, self.wbw, PALETTE[k % len(PALETTE)],
                              gp_str(lab)) for k, lab in enumerate(labels))
        t = '%s, per second (%gs buckets)' % (title, self.wbw)
        self.chart(base, t, '%s, one line per provider and enhanced status '
                   'code, with the reasons mxsim gave.' % title,
                   self.panel(t, self.wlabel, ylabel, plot, *self.wrange),
                   h=520)

    def top_ips(self, prov):
        """top_ips - the charted IPs of prov, most accepted first."""
        ips = list(self.a.track_ip.get(prov, {}))
        acc = {ip: self.a.replay.ips[(prov, ip)].accepted
               for ip in ips if (prov, ip) in self.a.replay.ips}
        return sorted(acc, key=lambda ip: (-acc[ip], ips.index(ip)))[
            :TOP_IDENTS]

    def windows(self, prov):
        """windows - per-IP window counts against the profile's limits."""
        p = self.a.profiles.get(prov)
        ips = [ip for ip in self.top_ips(prov)
               if self.a.replay.ips[(prov, ip)].accepted > 0]
        if not ips:
            return
        tl = self.a.sim
        lims = p.limits if p is not None else []
        seen, panels = set(), []
        for win, what, lim, label in lims:
            if (win, what) in seen or len(panels) >= 3:
                continue
            seen.add((win, what))
            panels.append((win, what, lim, label))
        xs = '($1/%g)' % self.sdiv
        bodies = []
        if not panels:
            rows = [[(i + 1) * tl.width / 1000.0] +
                    [tl.b.get(i, {}).get(('n.acc', prov, ip), 0)
                     for ip in ips] for i in tl.indexes()]
            f = self.dat('accepted_%s.dat' % slug(prov), ['t_s'] + ips, rows)
            plot = ', \\\n     '.join(
                "%s using %s:($%d/%g) with steps lw 2 lc rgb '%s' title '%s'"
                % ("'%s'" % f if k == 0 else "''", xs, k + 2, self.sbw,
                   PALETTE[k], ip) for k, ip in enumerate(ips))
            t = '%s: accepted messages per second per sending IP (no per-IP '\
                'limit in the profile)' % prov
            self.chart('ipwin_' + slug(prov), t, 'Accepted messages (2xx at '
                       'end of DATA) per sending IP.',
                       self.panel(t, self.slabel, 'accepted per second',
                                  plot, *self.srange))
            return
        for pi, (win, what, lim, label) in enumerate(panels):
            rows = []
            for i in tl.indexes():
                d = tl.b.get(i, {})
                rows.append([(i + 1) * tl.width / 1000.0] +
                            [d.get(('x.win', prov, ip, win, what))
                             for ip in ips])
            peak = max((v for r in rows for v in r[1:] if v is not None),
                       default=0)
            if pi > 0 and peak < lim / 10:
                continue        # a longer window the run hardly touched
            f = self.dat('ipwin_%s_%s_%s.dat' % (slug(prov), win, what),
                         ['t_s'] + ips, rows)
            plot = ', \\\n     '.join(
                "%s using %s:%d with lines lw 2 lc rgb '%s' title '%s'"
                % ("'%s'" % f if k == 0 else "''", xs, k + 2, PALETTE[k], ip)
                for k, ip in enumerate(ips))
            plot += (", \\\n     %d with lines dt 2 lw 2 lc rgb '#000000' "
                     "title \"%s\"" % (lim, gp_str(label)))
            bodies.append(self.panel(
                'accepted %s in the sliding simulated %s, per sending IP'
                % (what, win), self.slabel, '%s per %s' % (what, win), plot,
                *self.srange, extra='set yrange [0:%d]' % int(lim * 1.35 + 1)))
        t = '%s: accepted mail per sending IP vs the profile limits ' \
            '(window counts replayed as mxsim keeps them)' % prov
        self.chart('ipwin_' + slug(prov), t,
                   'Accepted messages per sending IP in mxsim\'s sliding '
                   'windows (current fixed window plus the weighted previous '
                   'one, replayed from the log), with the profile\'s per-IP '
                   'limits as dashed lines; the top %d IPs by accepted '
                   'messages are drawn.' % TOP_IDENTS,
                   self.fill('multiplot', ROWS=len(bodies), COLS=1,
                             TITLE=gp_str(t), PANELS='\n'.join(bodies)),
                   h=300 + 260 * len(bodies))

    def rep_blocks(self, key, prov, idents):
        """rep_blocks - [(ident, [(t, score)])] from the logged 'l.*'
        scores (the last of each bucket)."""
        tl = self.a.sim
        out = []
        for ident in idents:
            pts = []
            for i in tl.indexes():
                v = tl.b.get(i, {}).get((key, prov, ident))
                if v is not None:
                    pts.append(((v[0] - tl.origin) / 1000.0, v[1]))
            if pts:
                out.append((ident, pts))
        return out

    def reputation(self, prov):
        """reputation - logged scores per IP and per domain."""
        p = self.a.profiles.get(prov)
        if p is None or not p.has_reputation():
            return
        panels = []
        xs = '($1/%g)' % self.sdiv
        for key, what, idents in (
                ('l.rip', 'sending IP', self.top_ips(prov)),
                ('l.rdom', 'sender domain',
                 list(self.a.track_dom.get(prov, {}))[:TOP_IDENTS])):
            blocks = self.rep_blocks(key, prov, idents)
            if not blocks:
                continue
            f = self.dat('rep_%s_%s.dat' % ('ip' if key == 'l.rip' else
                                            'domain', slug(prov)),
                         ['t_s', 'score'], blocks, blocks=True)
            plot = ', \\\n     '.join(
                "'%s' index %d using %s:2 with lines lw 2 lc rgb '%s' "
                "title '%s'" % (f, k, xs, PALETTE[k], name)
                for k, (name, _) in enumerate(blocks))
            plot += (", \\\n     %g with lines dt 2 lw 2 lc rgb '#ff7f0e' "
                     "title 'temp_below %g (reputation.temp)', \\\n     %g "
                     "with lines dt 2 lw 2 lc rgb '#d62728' title "
                     "'block_below %g (reputation.block)'"
                     % (p.temp_below, p.temp_below, p.block_below,
                        p.block_below))
            panels.append(self.panel(
                'reputation per %s (as logged)' % what, self.slabel,
                'score (0..%g)' % p.rep_max, plot, *self.srange,
                extra='set yrange [0:%g]' % (p.rep_max * 1.05)))
        if not panels:
            return
        t = '%s: reputation as mxsim logged it' % prov
        self.chart('reputation_' + slug(prov), t,
                   'The scores mxsim logs with each accepted message '
                   '(ip_rep, domain_rep: after its decision), the last of '
                   'each time bucket; between accepted messages mxsim\'s '
                   'scores move without a log line.  Profile: start %g, '
                   'recovery %g per simulated hour, ceiling %g.'
                   % (p.rep_initial, p.recover, p.rep_max),
                   self.fill('multiplot', ROWS=len(panels), COLS=1,
                             TITLE=gp_str(t), PANELS='\n'.join(panels)),
                   h=300 + 260 * len(panels))

    # -- index.html --

    def html(self, png, svg_ok):
        """html - write index.html."""
        a = self.a
        e = html.escape
        wall_span = (a.wall_last - a.wall_first) / 1000.0
        sim_span = (a.sim_last - a.sim_first) / 1000.0
        out = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
               '<title>mxsim report</title><style>'
               'body{font-family:sans-serif;max-width:1320px;margin:1em auto;'
               'padding:0 1em;color:#222}'
               'table{border-collapse:collapse;margin:.5em 0 1.5em}'
               'td,th{border:1px solid #ccc;padding:2px 8px;font-size:90%}'
               'td.n{text-align:right}th{background:#f0f0f0}'
               'tr.prov td{background:#f7f7ff;font-weight:bold}'
               'td.codes{white-space:nowrap;font-size:80%}'
               'img{max-width:100%;border:1px solid #eee}'
               '.warn{color:#a40}</style></head><body>',
               '<h1>mxsim report</h1>',
               '<p>Event log <code>%s</code>: %d events (%d lines, %d '
               'unusable).  Wall clock %s .. %s (%.1f s); simulated %s .. %s '
               '(%.1f s, %.3g simulated s per real s).  Buckets: %g s wall, '
               '%g s simulated.</p>'
               % (e(self.log_name), a.events, a.lines, a.nbad,
                  iso(a.wall_first), iso(a.wall_last), wall_span,
                  iso(a.sim_first), iso(a.sim_last), sim_span,
                  sim_span / wall_span if wall_span > 0 else 1,
                  self.wbw, self.sbw)]
        if a.csv_files:
            out.append('<p>mxload CSV: %s (%d rows).</p>' % (
                ', '.join('<code>%s</code>' % e(c) for c in a.csv_files),
                a.csv_rows))
        for w in a.bad_lines + self.warnings + self.errors:
            out.append('<p class="warn">%s</p>' % e(w))
        out.extend(self.top)
        out.append('<h2>First appearance of each throttling reason</h2>')
        out.append('<table><tr><th>provider</th><th>reason</th><th>reply'
                   '</th><th>stage</th><th>first (wall, UTC)</th><th>t+ s'
                   '</th><th>first (simulated)</th><th>client</th>'
                   '<th>sender domain</th><th>count</th></tr>')
        counts = {}
        for prov, rows in a.rows.items():
            for (st, c, en, r), n in rows.items():
                counts[(prov, r)] = counts.get((prov, r), 0) + n
        for (prov, r), f in sorted(a.first.items(),
                                   key=lambda kv: kv[1]['wall_ms']):
            out.append('<tr><td>%s</td><td>%s</td><td>%d %s</td><td>%s</td>'
                       '<td>%s</td><td class="n">%.3f</td><td>%s</td>'
                       '<td>%s</td><td>%s</td><td class="n">%d</td></tr>'
                       % (e(prov), e(r), f['code'], e(f['enhanced']),
                          e(f['stage']), iso(f['wall_ms']),
                          (f['wall_ms'] - a.wall_first) / 1000.0,
                          iso(f['sim_ms']), e(f['client'] or '-'),
                          e(f['domain'] or '-'), counts[(prov, r)]))
        out.append('</table>')
        out.append('<h2>Replies per provider</h2>')
        for prov in sorted(a.rows):
            rows = a.rows[prov]
            tot = sum(rows.values())
            out.append('<h3>%s (%d replies)</h3><table><tr><th>stage</th>'
                       '<th>code</th><th>enhanced</th><th>reason</th>'
                       '<th>count</th><th>share</th></tr>' % (e(prov), tot))
            for (st, c, en, r), n in sorted(rows.items(),
                                            key=lambda kv: (-kv[1], kv[0])):
                out.append('<tr><td>%s</td><td>%d</td><td>%s</td><td>%s</td>'
                           '<td class="n">%d</td><td class="n">%.1f%%</td>'
                           '</tr>' % (e(st), c, e(en), e(r), n,
                                      100.0 * n / tot))
            out.append('</table>')
        out.extend(self.sections)
        out.append('<h2>Charts</h2>')
        for title, base, caption, _, _, _ in self.charts:
            out.append('<h3>%s</h3><p>%s</p>' % (e(title), caption))
            if png:
                img = '<img src="%s.png" alt="%s">' % (base, e(title))
                out.append('<a href="%s.svg">%s</a>' % (base, img)
                           if svg_ok else img)
            out.append('<p><small>gnuplot script <code>charts/%s.gp</code>'
                       '</small></p>' % base)
        out.append('<h2>Data files</h2><ul>%s</ul>' % ''.join(
            '<li><a href="%s">%s</a></li>' % (f, f) for f in self.files))
        out.append('<p><small>Written by reports/mxreport.  Reputation '
                   'charts show the scores mxsim logged with accepted '
                   'messages.</small></p></body></html>\n')
        with open(os.path.join(self.out, 'index.html'), 'w',
                  encoding='utf-8') as f:
            f.write('\n'.join(out))
