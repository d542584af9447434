"""rpt_lat - mxload's per-second CSVs in mxreport, one target per file.

DESCRIPTION
    An mxload --csv file has one row per second of the sender's clock:
    time, elapsed, sent, accepted, deferred, rejected, errors, and per
    SMTP stage (connect, ehlo, mail, rcpt, data, eod) the replies timed
    in that second (<stage>_n) and their p50/p90/p99/p99.9 in ms.  Each
    file is one mxload run: one "target" here, named after the file
    (mxload-gmail.csv is "gmail").  Targets are never merged: percentiles
    of different runs cannot be added.

    Latency.read(f, name) folds a file into the aggregator's wall
    timeline (keys per target; when a bucket grows past a second on long
    runs it keeps each target's highest percentile) and into per-target
    totals.  draw(report) writes the "mxload" chart (messages started and
    outcomes per second, every file added: counts do add), the "latency"
    chart (per stage: p50 solid and p99 dashed, one colour per target)
    and the per-target table; figures() is its summary.json object:

      seconds, sent, accepted, ... the file's rows and column sums
      sent_per_s, accepted_per_s   sums / seconds (real time only)
      stages.<stage>.n             replies timed
      stages.<stage>.p50_mean_ms   per-second p50s weighted by their n
      stages.<stage>.p90/p99/p999_max_ms  the worst second's value

DIAGNOSTICS
    rpt_agg.LogError for a file that is not an mxload CSV; bad rows are
    the aggregator's bad lines.
"""

import csv
import html
import os

import rpt_agg
import rpt_out

STAGES = ('connect', 'ehlo', 'mail', 'rcpt', 'data', 'eod')
QS = ('p50', 'p90', 'p99', 'p999')
MX_COLS = ('sent', 'accepted', 'deferred', 'rejected', 'errors')
DASH = ('p50', 'p99')          # percentiles drawn per target


def target_name(path):
    """target_name - a CSV's target label: its base name without
    "mxload-" and ".csv"."""
    b = os.path.basename(path)
    if b.endswith('.csv'):
        b = b[:-4]
    if b.startswith('mxload-'):
        b = b[7:]
    return b or path


class Target:
    """Totals of one CSV."""

    def __init__(self, name, path):
        self.name = name
        self.path = path
        self.rows = 0
        self.sums = dict.fromkeys(MX_COLS, 0)
        self.st = {s: {'n': 0, 'p50w': 0.0, 'max': dict.fromkeys(
            QS[1:])} for s in STAGES}
        self.stages = []        # stages the file has

    def figures(self):
        """figures - the summary.json object of the target."""
        f = {'file': self.path, 'seconds': self.rows}
        f.update(self.sums)
        for c in ('sent', 'accepted'):
            f[c + '_per_s'] = self.sums[c] / self.rows if self.rows \
                else None
        f['stages'] = {}
        for s in self.stages:
            d = self.st[s]
            o = {'n': d['n'], 'p50_mean_ms': d['p50w'] / d['n']
                 if d['n'] else None}
            for q in QS[1:]:
                o[q + '_max_ms'] = d['max'][q]
            f['stages'][s] = o
        return f


class Latency:
    """Every CSV of a report, one Target each."""

    def __init__(self, agg):
        self.agg = agg
        self.targets = []

    def read(self, f, path):
        """read - fold one open mxload CSV."""
        agg = self.agg
        if agg.wall is None:
            raise rpt_agg.LogError('%s: no events to align the CSV with'
                                   % path)
        rd = csv.reader(f)
        head = next(rd, None)
        if not head or head[0] != 'time' or 'sent' not in head:
            raise rpt_agg.LogError('%s:1: not an mxload --csv file (want a '
                                   '"time,elapsed,sent,..." header)' % path)
        col = {h: k for k, h in enumerate(head)}
        name = target_name(path)
        if any(t.name == name for t in self.targets):
            name = '%s#%d' % (name, len(self.targets) + 1)
        t = Target(name, path)
        t.stages = [s for s in STAGES if s + '_n' in col]
        ti = len(self.targets)
        self.targets.append(t)
        agg.csv_files.append(path)
        for n, row in enumerate(rd, 2):
            if len(row) != len(head):
                agg.bad(f'{path}:{n}', 'expected %d fields, got %d'
                        % (len(head), len(row)))
                continue
            try:
                i = agg.wall.index(int(round(float(row[0]) * 1000)))
                vals = {c: int(row[col[c]]) for c in MX_COLS}
                lat = []
                for s in t.stages:
                    k = int(row[col[s + '_n']])
                    if k:
                        lat.append((s, k, [float(row[col['%s_%s_ms' % (
                            s, q)]]) for q in QS]))
            except (ValueError, KeyError) as e:
                agg.bad(f'{path}:{n}', 'bad field: %s' % e)
                continue
            for c, v in vals.items():
                agg.wall.put(i, ('n.mx', c), v)
                t.sums[c] += v
            for s, k, qv in lat:
                agg.wall.put(i, ('n.latn', ti, s), k)
                d = t.st[s]
                d['n'] += k
                d['p50w'] += k * qv[0]
                for q, v in zip(QS, qv):
                    agg.wall.put(i, ('x.lat', ti, s, q), v)
                    if q != 'p50' and (d['max'][q] is None or
                                       v > d['max'][q]):
                        d['max'][q] = v
            t.rows += 1
            agg.csv_rows += 1

    def figures(self):
        """figures - {target: object} for summary.json."""
        return {t.name: t.figures() for t in self.targets}

    def draw(self, rep):
        """draw - the mxload and latency charts and the table."""
        if not self.targets:
            return
        self.draw_mxload(rep)
        self.draw_latency(rep)
        rep.sections.append(self.html())

    @staticmethod
    def draw_mxload(rep):
        """draw_mxload - messages started and outcomes per second."""
        tl = rep.a.wall
        rows = [[rep.wall_x(i)] + [tl.b.get(i, {}).get(('n.mx', c), 0)
                                   for c in MX_COLS]
                for i in tl.indexes()]
        f = rep.dat('mxload.dat', ['t_s'] + list(MX_COLS), rows)
        colors = ('#7f7f7f', '#2ca02c', '#ff9f1c', '#d62728', '#000000')
        plot = ', \\\n     '.join(
            "%s using ($1/%g):($%d/%g) with steps lw 2 lc rgb '%s' "
            "title '%s'" % ("'%s'" % f if k == 0 else "''", rep.wdiv, k + 2,
                            rep.wbw, colors[k], c)
            for k, c in enumerate(MX_COLS))
        t = 'mxload: messages started and outcomes per second (sender view)'
        rep.chart('mxload', t, 'From mxload --csv: messages started and '
                  'their outcomes per second of the sender\'s clock, every '
                  'CSV added (per target: the table below).',
                  rep.panel(t, rep.wlabel, 'messages per second', plot,
                            *rep.wrange))

    def draw_latency(self, rep):
        """draw_latency - per stage, p50 and p99 of every target."""
        tl = rep.a.wall
        panels = []
        for s in STAGES:
            tis = [ti for ti, t in enumerate(self.targets) if t.st[s]['n']]
            if not tis:
                continue
            rows = []
            for i in tl.indexes():
                d = tl.b.get(i, {})
                rows.append([rep.wall_x(i)] + [
                    d.get(('x.lat', ti, s, q)) for ti in tis for q in QS])
            cols = ['t_s'] + ['%s/%s_ms' % (self.targets[ti].name, q)
                              for ti in tis for q in QS]
            f = rep.dat('latency_%s.dat' % s, cols, rows)
            plot = []
            for k, ti in enumerate(tis):
                color = rpt_out.PALETTE[ti % len(rpt_out.PALETTE)]
                label = self.targets[ti].name.replace("'", '')
                for q in DASH:
                    c = 2 + k * len(QS) + QS.index(q)
                    plot.append(
                        "%s using ($1/%g):%d with lines lw 1.5 dt %d lc rgb "
                        "'%s' title '%s %s'" % (
                            "'%s'" % f if not plot else "''", rep.wdiv, c,
                            1 if q == 'p50' else 2,
                            color, label, q))
            panels.append(rep.panel(
                '%s reply latency per target' % s, rep.wlabel,
                'ms (log scale)', ', \\\n     '.join(plot), *rep.wrange,
                extra='set logscale y 10\nset yrange [*:*]'))
        if not panels:
            return
        ncol = 2 if len(panels) > 1 else 1
        nrow = (len(panels) + ncol - 1) // ncol
        t = 'mxload latency per target and SMTP stage (p50 solid, p99 ' \
            'dashed; one colour per target in every panel)'
        rep.chart('latency', t, 'From each mxload --csv file (one target '
                  'each, never merged): p50 and p99 of the reply latency '
                  'per stage and second (connect: connect() to greeting; '
                  'MAIL/RCPT/DATA: from the command\'s write, pipelined ones '
                  'from the group\'s; eod: final dot to reply), log-linear '
                  'histogram within 1.6%; data/latency_STAGE.dat also has '
                  'p90 and p99.9.  Buckets over 1 s keep each target\'s '
                  'highest value.',
                  rep.fill('multiplot', ROWS=nrow, COLS=ncol,
                           TITLE=t, PANELS='\n'.join(panels)),
                  w=1300, h=120 + 330 * nrow)

    def html(self):
        """html - the per-target table."""
        e = html.escape
        out = ['<h2>mxload targets (one per CSV)</h2>',
               '<p>Per file: its seconds, messages started and outcomes '
               '(mxload\'s view), rates over its seconds (real time), and '
               'per stage the replies timed, the mean of the per-second '
               'p50s weighted by their replies, and the worst second\'s '
               'p99 and p99.9 (ms).</p>',
               '<table><tr><th>target</th><th>seconds</th><th>sent</th>'
               '<th>accepted</th><th>deferred</th><th>rejected</th>'
               '<th>errors</th><th>sent/s</th><th>accepted/s</th>'
               '<th>stage</th><th>n</th><th>p50 mean</th><th>p99 max</th>'
               '<th>p99.9 max</th></tr>']
        for t in self.targets:
            f = t.figures()
            sts = list(f['stages'].items()) or [('-', None)]
            for k, (s, o) in enumerate(sts):
                head = ''
                if k == 0:
                    head = '<td rowspan="%d">%s</td>' % (len(sts),
                                                         e(t.name))
                    head += ''.join('<td rowspan="%d" class="n">%s</td>' % (
                        len(sts), v) for v in (
                            [f['seconds']] + [f[c] for c in MX_COLS] +
                            ['-' if f[c] is None else '%.1f' % f[c]
                             for c in ('sent_per_s', 'accepted_per_s')]))
                vals = ['-'] * 4 if o is None else [
                    o['n']] + ['-' if o[k2] is None else '%.2f' % o[k2]
                               for k2 in ('p50_mean_ms', 'p99_max_ms',
                                          'p999_max_ms')]
                out.append('<tr>%s<td>%s</td>%s</tr>' % (head, e(s), ''.join(
                    '<td class="n">%s</td>' % v for v in vals)))
        out.append('</table>')
        return '\n'.join(out)

