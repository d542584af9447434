"""rpt_compare - two mxreport runs side by side (mxreport --compare).

DESCRIPTION
    A RUN is an mxreport output directory (it has summary.json) or an
    mxsim event log (any other file), which mxreport first turns into a
    report under OUT/a or OUT/b with the same --profiles/--scenario.
    compare() writes into OUT:

      index.html     both runs' headline figures side by side per row
                     (the whole log, each provider, each sending IP),
                     with the absolute and relative difference, changes
                     marked; then every chart of either run, A beside B
      compare.json   the same rows: {"a", "b", "rows": [{"row", "figure",
                     "a", "b", "delta", "relative", "changed"}]}
      a/, b/         the charts of each run (copied from a report
                     directory; written there for an event log)

    The rule for "changed": a count or rate changed when it differs by at
    least THRESHOLD (relative, of A's value; any difference when A is 0);
    a share (acceptance, deferral share) when it moves by at least
    SHARE_POINTS percentage points; a time to the first deferral when it
    differs by THRESHOLD and at least MIN_SECONDS.  A figure that exists
    in one run only (a provider, IP or code the other has not) is marked
    "only in A" / "only in B".

DIAGNOSTICS
    CompareError for a RUN that is neither a report directory with a
    readable summary.json of schema SCHEMA nor a readable file.
"""

import html
import json
import os
import shutil

THRESHOLD = 0.05
SHARE_POINTS = 1.0
MIN_SECONDS = 1.0
SCHEMA = 'mxreport-summary/1'

# (label, path in a headline object, kind)
FIGURES = (
    ('offered', ('offered',), 'count'),
    ('accepted', ('accepted',), 'count'),
    ('deferred', ('deferred',), 'count'),
    ('refused', ('refused',), 'count'),
    ('abandoned', ('abandoned',), 'count'),
    ('refused before MAIL', ('refused_before_mail',), 'count'),
    ('offered msg/s (real)', ('offered_rate', 'real_per_s'), 'rate'),
    ('offered msg/min (sim)', ('offered_rate', 'sim_per_min'), 'rate'),
    ('accepted msg/s (real)', ('accepted_rate', 'real_per_s'), 'rate'),
    ('accepted msg/min (sim)', ('accepted_rate', 'sim_per_min'), 'rate'),
    ('acceptance share', ('acceptance_share',), 'share'),
    ('sustained msg/s (real)', ('sustained_accepted_rate', 'real_per_s'),
     'rate'),
    ('sustained msg/min (sim)', ('sustained_accepted_rate', 'sim_per_min'),
     'rate'),
    ('first deferral s (real)', ('first_deferral', 'real_s'), 'seconds'),
    ('first deferral s (sim)', ('first_deferral', 'sim_s'), 'seconds'),
    ('deferral share', ('deferral_share',), 'share'),
    ('refusal share', ('refusal_share',), 'share'),
)


class CompareError(Exception):
    """A RUN that cannot be read."""


def load(run):
    """load - the summary.json object of a report directory."""
    path = os.path.join(run, 'summary.json')
    try:
        with open(path, encoding='utf-8') as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise CompareError('%s: %s' % (path, getattr(e, 'strerror', None)
                                       or e))
    if not isinstance(doc, dict) or doc.get('schema') != SCHEMA:
        raise CompareError('%s: not an mxreport summary (want schema %s)'
                           % (path, SCHEMA))
    return doc


def get(obj, path):
    """get - the value at a key path, or None."""
    for k in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def changed(kind, a, b):
    """changed - the rule above: (delta, relative, changed)."""
    if a is None or b is None:
        return None, None, a is not b
    d = b - a
    rel = d / a if a else None
    if kind == 'share':
        return d, rel, abs(d) * 100.0 >= SHARE_POINTS
    big = abs(d) >= THRESHOLD * abs(a) if a else d != 0
    if kind == 'seconds':
        big = big and abs(d) >= MIN_SECONDS
    return d, rel, big


def headline_rows(doc):
    """headline_rows - {row name: headline object} of a summary."""
    out = {}
    if doc.get('total'):
        out['all'] = doc['total']
    for p, f in (doc.get('providers') or {}).items():
        out[p] = f
        for ip, g in ((doc.get('ips') or {}).get(p) or {}).items():
            out['%s %s' % (p, ip)] = g
    return out


def code_shares(f):
    """code_shares - {'deferred 421 4.7.28': share, ...} of a row."""
    out = {}
    for kind in ('deferred', 'refused'):
        for c in f.get(kind + '_by_code') or []:
            out['%s share %d %s' % (kind, c['code'], c['enhanced'])] = \
                c['share']
    return out


def diff(da, db):
    """diff - the comparison rows of two summaries."""
    ra, rb = headline_rows(da), headline_rows(db)
    names = list(ra) + [n for n in rb if n not in ra]
    rows = []
    for n in names:
        fa, fb = ra.get(n), rb.get(n)
        if fa is None or fb is None:
            rows.append({'row': n, 'figure': 'offered',
                         'a': get(fa, ('offered',)),
                         'b': get(fb, ('offered',)), 'delta': None,
                         'relative': None, 'changed': True,
                         'only': 'A' if fb is None else 'B'})
            continue
        for label, path, kind in FIGURES:
            a, b = get(fa, path), get(fb, path)
            if a is None and b is None:
                continue
            d, rel, ch = changed(kind, a, b)
            rows.append({'row': n, 'figure': label, 'kind': kind, 'a': a,
                         'b': b, 'delta': d, 'relative': rel,
                         'changed': ch})
        ca, cb = code_shares(fa), code_shares(fb)
        for k in list(ca) + [k for k in cb if k not in ca]:
            a, b = ca.get(k), cb.get(k)
            d, rel, ch = changed('share', a or 0.0, b or 0.0)
            rows.append({'row': n, 'figure': k, 'kind': 'share', 'a': a,
                         'b': b, 'delta': d, 'relative': rel,
                         'changed': ch})
    return rows


def fmt(v, kind):
    """fmt - one value for the page."""
    if v is None:
        return '-'
    if kind == 'share':
        return '%.1f%%' % (100.0 * v)
    if kind == 'count':
        return '%d' % v
    return '%.3g' % v if abs(v) < 1000 else '%.0f' % v


def fmt_delta(r):
    """fmt_delta - the absolute and relative difference."""
    if r['delta'] is None:
        return '-', '-'
    kind = r.get('kind', 'count')
    if kind == 'share':
        d = '%+.1f pt' % (100.0 * r['delta'])
    elif kind == 'count':
        d = '%+d' % r['delta']
    else:
        d = '%+.3g' % r['delta']
    rel = '-' if r['relative'] is None else '%+.1f%%' % (
        100.0 * r['relative'])
    return d, rel


def copy_charts(run, doc, dest):
    """copy_charts - the PNG and SVG of every chart of a report dir into
    dest; [(name, title)] of those found."""
    os.makedirs(dest, exist_ok=True)
    out = []
    for c in doc.get('charts') or []:
        found = False
        for ext in ('.png', '.svg'):
            src = os.path.join(run, c['name'] + ext)
            if os.path.exists(src):
                if os.path.realpath(src) != os.path.realpath(
                        os.path.join(dest, c['name'] + ext)):
                    shutil.copyfile(src, os.path.join(dest,
                                                      c['name'] + ext))
                found = True
        if found:
            out.append((c['name'], c['title']))
    return out


def run_line(side, run, doc):
    """run_line - 'A: <dir> (log, first .. last, N events)'."""
    e = html.escape
    return '%s: <code>%s</code> (log <code>%s</code>, %s .. %s, %d events)' \
        % (side, e(run), e(str(doc.get('log'))),
           e(get(doc, ('wall', 'first')) or '?'),
           e(get(doc, ('wall', 'last')) or '?'), doc.get('events', 0))


def compare(run_a, run_b, da, db, out):
    """compare - write OUT/index.html and OUT/compare.json; returns the
    number of changed figures."""
    rows = diff(da, db)
    ca = copy_charts(run_a, da, os.path.join(out, 'a'))
    cb = copy_charts(run_b, db, os.path.join(out, 'b'))
    nchanged = sum(1 for r in rows if r['changed'])
    with open(os.path.join(out, 'compare.json'), 'w', encoding='utf-8') as f:
        json.dump({'a': run_a, 'b': run_b, 'rule': RULE, 'rows': rows,
                   'changed': nchanged}, f, indent=1, sort_keys=True)
        f.write('\n')
    e = html.escape
    h = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
         '<title>mxreport comparison</title><style>'
         'body{font-family:sans-serif;max-width:1500px;margin:1em auto;'
         'padding:0 1em;color:#222}table{border-collapse:collapse}'
         'td,th{border:1px solid #ccc;padding:2px 8px;font-size:90%}'
         'td.n{text-align:right}th{background:#f0f0f0}'
         'tr.changed td{background:#fff3cd}tr.changed td.mark{color:#a40;'
         'font-weight:bold}.pair{display:flex;gap:1em}.pair div{flex:1}'
         'img{max-width:100%;border:1px solid #eee}</style></head><body>',
         '<h1>mxreport comparison</h1>',
         '<p>%s<br>%s</p>' % (run_line('A', run_a, da),
                              run_line('B', run_b, db)),
         '<p>%s %d figure(s) changed, marked &#9650;/&#9660;.</p>'
         % (e(RULE), nchanged),
         '<h2>Headline figures</h2><table><tr><th>row</th><th>figure</th>'
         '<th>A</th><th>B</th><th>B - A</th><th>relative</th><th></th>'
         '</tr>']
    for r in rows:
        kind = r.get('kind', 'count')
        d, rel = fmt_delta(r)
        if r.get('only'):
            mark = 'only in ' + r['only']
        elif r['changed']:
            mark = '&#9650;' if (r['delta'] or 0) > 0 else '&#9660;' \
                if (r['delta'] or 0) < 0 else 'changed'
        else:
            mark = ''
        h.append('<tr%s><td>%s</td><td>%s</td><td class="n">%s</td>'
                 '<td class="n">%s</td><td class="n">%s</td>'
                 '<td class="n">%s</td><td class="mark">%s</td></tr>' % (
                     ' class="changed"' if r['changed'] else '',
                     e(r['row']), e(r['figure']), fmt(r['a'], kind),
                     fmt(r['b'], kind), d, rel, mark))
    h.append('</table><h2>Charts (A left, B right)</h2>')
    titles = dict(ca)
    titles.update({n: t for n, t in cb if n not in titles})
    have_a, have_b = {n for n, _ in ca}, {n for n, _ in cb}
    for name in [n for n, _ in ca] + [n for n, _ in cb if n not in have_a]:
        h.append('<h3>%s</h3><div class="pair">' % e(titles[name]))
        for side, have in (('a', have_a), ('b', have_b)):
            if name in have:
                h.append('<div><a href="%s/%s.svg"><img src="%s/%s.png" '
                         'alt="%s %s"></a></div>' % (side, name, side, name,
                                                     side.upper(), e(name)))
            else:
                h.append('<div><p>not in %s</p></div>' % side.upper())
        h.append('</div>')
    h.append('<p><small>Written by reports/mxreport --compare '
             '(reports/rpt_compare.py).</small></p></body></html>\n')
    with open(os.path.join(out, 'index.html'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(h))
    return nchanged


RULE = ('Changed: a count, rate or time differs by at least %d%% of A '
        '(any difference from 0; times also by at least %g s), a share '
        'moves by at least %g percentage point(s); a row or code in one '
        'run only.' % (THRESHOLD * 100, MIN_SECONDS, SHARE_POINTS))
