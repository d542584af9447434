#!/usr/bin/env python3
"""Tests of reports/mxreport (and, with --build, of mxload --csv against a
real mxsim, whose transaction counts the report's must equal): report files and exact data points from the committed log
tests/data/rpt_events.jsonl (a real 3-second run of the bundled scenario
at time scale 20, one worker, against gmail: 127.0.10.1 sending
auth.example at 50 msg/s (-r 50 -d 3 -c 2 -m 30 --csv) crossing the
100-per-simulated-minute limit, 127.0.10.2 ten unauth.example messages,
127.0.10.3 five to --rcpt unknown1 on one connection) and its mxload CSV
tests/data/rpt_mxload.csv; diagnostics for
bad input; the headline figures, summary.json, --compare and per-target
latency against a generated log (known_log) and CSVs of known content;
and a synthetic log of --lines lines (default 2,000,000) piped
through mxreport with its peak RSS checked.

Usage: test_report.py [--build BUILD_DIR] [--lines N] [TEST_NAME ...]
Prints one line per test and ends with "report: N passed, N failed".
"""
import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Mxsim, free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MXREPORT = os.path.join(ROOT, 'reports', 'mxreport')
DATA = os.path.join(ROOT, 'tests', 'data')
LOG = os.path.join(DATA, 'rpt_events.jsonl')
CSV = os.path.join(DATA, 'rpt_mxload.csv')
PY = '/usr/bin/python3'
RSS_LIMIT_KB = 100 * 1024

ARGS = None
TMP = None


def run(args, timeout=300, stdin=None):
    """run - mxreport with args; (rc, stdout, stderr)."""
    r = subprocess.run([PY, MXREPORT] + args, capture_output=True,
                       text=True, timeout=timeout, stdin=stdin)
    return r.returncode, r.stdout, r.stderr


def dat(path):
    """dat - (columns, rows of floats) of an mxreport data file."""
    with open(path) as f:
        cols = f.readline()[2:].split()
        rows = [[float(x) for x in line.split()] for line in f
                if line.strip() and not line.startswith('#')]
    return cols, rows


def blocks(path):
    """blocks - {label: [(t, v)]} of a data file with index blocks."""
    out, label = {}, None
    with open(path) as f:
        f.readline()
        for line in f:
            if line.startswith('# '):
                label = line[2:].strip()
                out[label] = []
            elif line.strip():
                t, v = line.split()
                out[label].append((float(t), float(v)))
    return out


def fixture_report():
    """fixture_report - the committed log's report dir (built once)."""
    d = os.path.join(TMP, 'fixture')
    if not os.path.exists(os.path.join(d, 'index.html')):
        rc, out, err = run(['-o', d, '--csv', CSV, LOG])
        assert rc == 0, (rc, out, err)
        assert 'mxreport: 575 events, 9 charts' in out, out
    return d


def events():
    """events - the committed log, parsed (it is small)."""
    with open(LOG) as f:
        return [json.loads(line) for line in f]


# -- tests --

def test_help():
    rc, out, err = run(['--help'])
    assert rc == 0 and 'usage: mxreport' in out and '--csv' in out, out
    assert '--strict' in out and '--scenario' in out


def test_files():
    d = fixture_report()
    for base in ('replies_gmail', 'deferrals', 'rejections', 'ipwin_gmail',
                 'reputation_gmail', 'mxload', 'latency'):
        with open(os.path.join(d, base + '.png'), 'rb') as f:
            head = f.read(8)
        assert head == b'\x89PNG\r\n\x1a\n', base
        assert os.path.getsize(os.path.join(d, base + '.png')) > 10000, base
        with open(os.path.join(d, base + '.svg')) as f:
            assert '<svg' in f.read(2000), base
        assert os.path.exists(os.path.join(d, 'charts', base + '.gp'))
    html = open(os.path.join(d, 'index.html')).read()
    for base in ('replies_gmail.png', 'latency.png', 'ipwin_gmail.svg'):
        assert base in html, base


def test_replies_exact():
    """per-second class counts equal an independent count of the log"""
    d = fixture_report()
    evs = events()
    origin = min(e['wall_ms'] for e in evs) // 1000 * 1000
    want = {}
    for e in evs:
        b = (e['wall_ms'] - origin) // 1000
        want.setdefault(b, [0, 0, 0])
        cls = e['code'] // 100
        if cls in (2, 4, 5):
            want[b][(2, 4, 5).index(cls)] += 1
    cols, rows = dat(os.path.join(d, 'data', 'replies_gmail.dat'))
    assert cols == ['t_s', 'n2xx', 'n4xx', 'n5xx'], cols
    got = {int(r[0]): [int(x) for x in r[1:]] for r in rows}
    last = max(want)
    for b in range(0, last + 1):
        assert got[b] == want.get(b, [0, 0, 0]), (b, got[b], want.get(b))
    assert got[last + 1] == [0, 0, 0]           # closing step
    tot = [sum(r[k] for r in got.values()) for k in range(3)]
    assert tot == [529, 36, 10], tot            # mxsim's own summary


def test_codes_exact():
    d = fixture_report()
    cols, rows = dat(os.path.join(d, 'data', 'deferrals.dat'))
    sums = {c: sum(r[k] for r in rows) for k, c in enumerate(cols)}
    assert sums['gmail/4.7.28'] == 26, sums     # rate.ip
    assert sums['gmail/4.7.26'] == 10, sums     # auth.missing
    assert len(cols) == 3, cols
    cols, rows = dat(os.path.join(d, 'data', 'rejections.dat'))
    sums = {c: sum(r[k] for r in rows) for k, c in enumerate(cols)}
    assert sums == {'t_s': sums['t_s'], 'gmail/5.1.1': 5,
                    'gmail/5.5.1': 5}, sums


def test_window_limit():
    """the replayed per-IP minute window peaks at the profile limit (100)
    and reaches it before the first rate.ip reply"""
    d = fixture_report()
    cols, rows = dat(os.path.join(d, 'data',
                                  'ipwin_gmail_minute_messages.dat'))
    k = cols.index('127.0.10.1')
    vals = [(r[0], r[k]) for r in rows if r[k] == r[k]]
    assert max(v for _, v in vals) == 100, vals
    first100 = min(t for t, v in vals if v >= 100)
    evs = events()
    sim0 = min(e['sim_ms'] for e in evs) // 1000 * 1000
    first_rate = min(e['sim_ms'] for e in evs if e['reason'] == 'rate.ip')
    assert first100 <= (first_rate - sim0) / 1000.0 + 1, (first100,
                                                          first_rate)
    # accepted messages of that IP: 124 in all, every one in the window
    acc = sum(1 for e in evs if e['client'] == '127.0.10.1' and
              e['stage'] == 'eod' and e['code'] == 250)
    assert acc == 124, acc


def test_reputation_logged():
    """the reputation charts show the scores mxsim logged (ip_rep,
    domain_rep of accepted messages): each point is one logged score, the
    last of its bucket, and every bucket with one has its point"""
    d = fixture_report()
    evs = [e for e in events() if e['stage'] == 'eod' and e['code'] == 250]
    sim0 = min(e['sim_ms'] for e in events()) // 1000 * 1000
    for path, key, who in (('rep_ip_gmail.dat', 'ip_rep', 'client'),
                           ('rep_domain_gmail.dat', 'domain_rep',
                            'sender_domain')):
        got = blocks(os.path.join(d, 'data', path))
        want = {}
        for e in evs:
            want.setdefault(e[who], {})[(e['sim_ms'] - sim0) // 1000] = \
                ((e['sim_ms'] - sim0) / 1000.0, e[key])
        assert set(got) == set(want), (path, sorted(got), sorted(want))
        for ident, pts in got.items():
            exp = [want[ident][b] for b in sorted(want[ident])]
            assert [(round(t, 3), v) for t, v in pts] == \
                [(round(t, 3), v) for t, v in exp], (ident, pts, exp)
    # the recorded run's IP score fell (its penalties): the plot keeps the
    # first and the last logged score
    ip = blocks(os.path.join(d, 'data', 'rep_ip_gmail.dat'))['127.0.10.1']
    assert ip[-1][1] == 74.57 and ip[0][1] == 80.0, ip


def test_latency_csv():
    d = fixture_report()
    cols, rows = dat(os.path.join(d, 'data', 'latency_eod.dat'))
    assert cols == ['t_s'] + ['rpt_mxload/%s_ms' % q for q in
                              ('p50', 'p90', 'p99', 'p999')], cols
    with open(CSV) as f:
        want = [r for r in csv.DictReader(f)]
    p99 = sorted(r[3] for r in rows if r[3] == r[3])
    assert p99 == sorted(float(r['eod_p99_ms']) for r in want
                         if r['eod_p99_ms'] and int(r['eod_n'])), p99
    with open(os.path.join(d, 'summary.json')) as f:
        lat = json.load(f)['latency']['rpt_mxload']
    assert lat['stages']['eod']['n'] == sum(int(r['eod_n']) for r in want)
    cols, rows = dat(os.path.join(d, 'data', 'mxload.dat'))
    assert cols == ['t_s', 'sent', 'accepted', 'deferred', 'rejected',
                    'errors']
    assert [sum(r[k] for r in rows) for k in range(1, 6)] == \
        [150, 124, 26, 0, 0]
    assert [lat[k] for k in ('sent', 'accepted', 'deferred')] == \
        [150, 124, 26]


def test_summary_html():
    d = fixture_report()
    html = open(os.path.join(d, 'index.html')).read()
    m = re.search(r'<tr><td>gmail</td><td>rate\.ip</td><td>421 4\.7\.28'
                  r'</td><td>eod</td><td>([^<]+)</td><td class="n">'
                  r'([0-9.]+)</td>', html)
    assert m, 'no first rate.ip row'
    evs = events()
    first = min(e['wall_ms'] for e in evs if e['reason'] == 'rate.ip')
    t0 = min(e['wall_ms'] for e in evs)
    assert abs(float(m.group(2)) - (first - t0) / 1000.0) < 0.0005
    assert '>26</td></tr>' in html


def test_gnuplot_exit():
    d = fixture_report()
    for base in ('replies_gmail', 'ipwin_gmail', 'latency'):
        r = subprocess.run(['gnuplot', os.path.join('charts', base + '.gp')],
                           cwd=d, capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0 and r.stderr == '', (base, r.stderr)


def test_scenario_profiles():
    d = os.path.join(TMP, 'scenario')
    rc, out, err = run(['-o', d, '--no-plots', '--scenario',
                        os.path.join(ROOT, 'profiles', 'default.yaml'), LOG])
    assert rc == 0, err
    cols, rows = dat(os.path.join(d, 'data',
                                  'ipwin_gmail_minute_messages.dat'))
    k = cols.index('127.0.10.1')
    assert max(r[k] for r in rows if r[k] == r[k]) == 100      # not NaN


def test_bad_lines():
    log = os.path.join(TMP, 'bad.jsonl')
    with open(LOG) as f:
        lines = f.readlines()[:40]
    lines[2] = '{"wall_ms": 1, broken\n'
    lines[6] = '[1, 2]\n'
    lines[9] = lines[9].replace('"code":', '"kode":')
    with open(log, 'w') as f:
        f.writelines(lines)
    rc, out, err = run(['-o', os.path.join(TMP, 'bad'), '--no-plots', log])
    assert rc == 0, err
    assert '%s:3: bad JSON' % log in err, err
    assert '%s:7: not a JSON object' % log in err, err
    assert '%s:10: key "code" missing' % log in err, err
    assert '3 unusable line(s) skipped' in err, err
    assert 'mxreport: 37 events' in out, out
    rc, out, err = run(['-o', os.path.join(TMP, 'bad2'), '--strict',
                        '--no-plots', log])
    assert rc == 1 and '%s:3: bad JSON' % log in err, (rc, err)
    assert ':7:' not in err


def test_missing_and_empty():
    rc, out, err = run(['-o', os.path.join(TMP, 'x'), '/nonexistent.jsonl'])
    assert rc == 1 and '/nonexistent.jsonl: No such file' in err, err
    empty = os.path.join(TMP, 'empty.jsonl')
    open(empty, 'w').close()
    rc, out, err = run(['-o', os.path.join(TMP, 'x'), empty])
    assert rc == 1 and 'no events' in err, err
    notcsv = os.path.join(TMP, 'not.csv')
    with open(notcsv, 'w') as f:
        f.write('a,b\n1,2\n')
    rc, out, err = run(['-o', os.path.join(TMP, 'x'), '--csv', notcsv, LOG])
    assert rc == 1 and 'not.csv:1: not an mxload --csv file' in err, err
    rc, out, err = run(['--bucket', '0', LOG])
    assert rc == 2, err


# -- a generated log of known content: the headline figures --

W0 = 1796600000000          # wall origin, a whole second
S0 = 1796700000000          # simulated origin
SCALE = 60                  # simulated ms per wall ms


def ev(wall, session, prov, client, stage, code, enh=None, reason='-',
       dom='known.example'):
    """ev - one event line of the generated log (wall ms from W0)."""
    return json.dumps({
        'wall_ms': W0 + wall, 'sim_ms': S0 + wall * SCALE,
        'session': session, 'provider': prov, 'mx': '127.1.0.1',
        'client': client, 'sender_domain': dom if stage in
        ('mail', 'rcpt', 'data', 'eod') else None, 'stage': stage,
        'code': code, 'enhanced': enh, 'reason': reason, 'nrcpts': 1}) + \
        '\n'


def known_log(path, defer=True):
    """known_log - write the generated log; its content, by construction:

    gmail 127.0.20.1: 50 sessions k = 0..49 at k*100 ms, each greeting,
      EHLO, MAIL, RCPT, end of DATA 1 ms apart; k < 30 accepted, from
      k = 30 even k deferred 421 4.7.28 (with defer), odd accepted:
      50 offered, 40 accepted, 10 deferred, first deferral 3.004 s after
      the first reply (3004 ms), last reply 4904 ms.
    gmail 127.0.20.2: 3 sessions at 6000 + j*100 ms: MAIL, RCPT 550 5.1.1,
      DATA 554, then MAIL, RCPT, end of DATA 250 (the second MAIL ends the
      first transaction: refused): 3 refused, 3 accepted.
    gmail 127.0.20.3: 4 MAIL refused 451 4.7.500 (deferred transactions),
      one MAIL + RCPT left open (abandoned), 2 greetings 554 5.7.1 (refused
      before MAIL, no transaction).
    yahoo 127.0.30.1: 5 accepted, one MAIL 501 protocol.syntax (none)."""
    out = []
    for k in range(50):
        t, sid, ip = k * 100, 'a%03d' % k, '127.0.20.1'
        out += [ev(t, sid, 'gmail', ip, 'connect', 220),
                ev(t + 1, sid, 'gmail', ip, 'ehlo', 250),
                ev(t + 2, sid, 'gmail', ip, 'mail', 250, '2.1.0', 'ok.mail'),
                ev(t + 3, sid, 'gmail', ip, 'rcpt', 250, '2.1.5', 'ok.rcpt')]
        if defer and k >= 30 and k % 2 == 0:
            out.append(ev(t + 4, sid, 'gmail', ip, 'eod', 421, '4.7.28',
                          'rate.ip'))
        else:
            out.append(ev(t + 4, sid, 'gmail', ip, 'eod', 250, '2.0.0',
                          'ok.message'))
    for j in range(3):
        t, sid, ip = 6000 + j * 100, 'b%d' % j, '127.0.20.2'
        out += [ev(t, sid, 'gmail', ip, 'connect', 220),
                ev(t + 1, sid, 'gmail', ip, 'mail', 250, '2.1.0', 'ok.mail'),
                ev(t + 2, sid, 'gmail', ip, 'rcpt', 550, '5.1.1',
                   'user.unknown'),
                ev(t + 3, sid, 'gmail', ip, 'data', 554, '5.5.1',
                   'protocol.no_valid_recipients'),
                ev(t + 4, sid, 'gmail', ip, 'mail', 250, '2.1.0', 'ok.mail'),
                ev(t + 5, sid, 'gmail', ip, 'rcpt', 250, '2.1.5', 'ok.rcpt'),
                ev(t + 6, sid, 'gmail', ip, 'eod', 250, '2.0.0',
                   'ok.message')]
    ip = '127.0.20.3'
    for j in range(4):
        out.append(ev(7000 + j * 10, 'c%d' % j, 'gmail', ip, 'mail', 451,
                      '4.7.500', 'warmup'))
    out += [ev(7100, 'c9', 'gmail', ip, 'mail', 250, '2.1.0', 'ok.mail'),
            ev(7101, 'c9', 'gmail', ip, 'rcpt', 250, '2.1.5', 'ok.rcpt'),
            ev(7200, 'd1', 'gmail', ip, 'connect', 554, '5.7.1', 'blocklist'),
            ev(7210, 'd2', 'gmail', ip, 'connect', 554, '5.7.1',
               'blocklist')]
    ip = '127.0.30.1'
    for j in range(5):
        t, sid = 8000 + j * 200, 'e%d' % j
        out += [ev(t, sid, 'yahoo', ip, 'mail', 250, '2.1.0', 'ok.mail'),
                ev(t + 1, sid, 'yahoo', ip, 'rcpt', 250, '2.1.5', 'ok.rcpt'),
                ev(t + 2, sid, 'yahoo', ip, 'eod', 250, '2.0.0',
                   'ok.message')]
    out.append(ev(9000, 'e9', 'yahoo', ip, 'mail', 501, '5.5.4',
                  'protocol.syntax'))
    with open(path, 'w') as f:
        f.writelines(sorted(out, key=lambda line: json.loads(line)[
            'wall_ms']))


def known_report(name='known', defer=True, plots=False):
    """known_report - (report dir, summary) of the generated log."""
    log = os.path.join(TMP, name + '.jsonl')
    d = os.path.join(TMP, name)
    if not os.path.exists(os.path.join(d, 'summary.json')):
        known_log(log, defer)
        rc, out, err = run(['-o', d] + ([] if plots else ['--no-plots']) +
                           [log])
        assert rc == 0, (rc, out, err)
    with open(os.path.join(d, 'summary.json')) as f:
        return d, json.load(f)


def near(a, b):
    """near - equal within float rounding."""
    return a is not None and abs(a - b) < 1e-9 * max(1.0, abs(b))


def test_headline_known():
    """the headline figures of the generated log equal the counts its
    construction gives (known_log's docstring)"""
    d, s = known_report()
    ip1 = s['ips']['gmail']['127.0.20.1']
    assert [ip1[k] for k in ('offered', 'accepted', 'deferred', 'refused',
                             'abandoned')] == [50, 40, 10, 0, 0], ip1
    assert near(ip1['span']['real_s'], 4.904)
    assert near(ip1['offered_rate']['real_per_s'], 50 / 4.904)
    assert near(ip1['accepted_rate']['real_per_s'], 40 / 4.904)
    # simulated: 60x slower per simulated second, per minute x60 again
    assert near(ip1['accepted_rate']['sim_per_min'], 40 / 4.904)
    assert near(ip1['acceptance_share'], 0.8)
    fd = ip1['first_deferral']
    assert near(fd['real_s'], 3.004) and near(fd['sim_s'], 3.004 * 60)
    assert (fd['code'], fd['enhanced']) == (421, '4.7.28'), fd
    # accepted from the 3.000 s bucket start: odd k 31..49 = 10, until the
    # last transaction at 4.904 s
    sus = ip1['sustained_accepted_rate']
    assert sus['accepted'] == 10 and near(sus['window_real_s'], 1.904), sus
    assert near(sus['real_per_s'], 10 / 1.904)
    assert near(ip1['deferral_share'], 0.2)
    assert [(c['code'], c['enhanced'], c['count']) for c in
            ip1['deferred_by_code']] == [(421, '4.7.28', 10)]
    ip2 = s['ips']['gmail']['127.0.20.2']
    assert [ip2[k] for k in ('offered', 'accepted', 'refused')] == \
        [6, 3, 3], ip2
    assert [(c['code'], c['enhanced'], c['count'], c['reasons']) for c in
            ip2['refused_by_code']] == [(550, '5.1.1', 3, ['user.unknown'])]
    assert ip2['first_deferral'] is None
    ip3 = s['ips']['gmail']['127.0.20.3']
    assert [ip3[k] for k in ('offered', 'deferred', 'abandoned',
                             'refused_before_mail')] == [5, 4, 1, 2], ip3
    assert near(ip3['first_deferral']['real_s'], 0.0)
    gm = s['providers']['gmail']
    assert [gm[k] for k in ('offered', 'accepted', 'deferred', 'refused',
                            'abandoned')] == [61, 43, 14, 3, 1], gm
    assert near(gm['deferral_share'], 14 / 61)
    assert {(c['enhanced'], c['count']) for c in gm['deferred_by_code']} \
        == {('4.7.28', 10), ('4.7.500', 4)}
    ya = s['providers']['yahoo']
    assert (ya['offered'], ya['accepted'], ya['first_deferral']) == \
        (5, 5, None), ya
    assert s['total']['offered'] == 66 and s['total']['accepted'] == 48
    # the messages chart counts transactions, the replies chart replies
    cols, rows = dat(os.path.join(d, 'data', 'messages_gmail.dat'))
    assert cols == ['t_s', 'accepted', 'deferred', 'refused', 'abandoned']
    assert [sum(r[k] for r in rows) for k in range(1, 5)] == [43, 14, 3, 1]
    assert [sum(r[k] for r in rows if r[0] == 3.0) for k in (1, 2)] == \
        [5, 5]                      # k = 30..39: 5 accepted, 5 deferred
    md = open(os.path.join(d, 'headline.md')).read()
    assert '| gmail | 127.0.20.1 | 50 | 40 | 10 | 0 | 0 | 0 |' in md, md
    html = open(os.path.join(d, 'index.html')).read()
    assert 'Headline: messages per provider and sending IP' in html


def test_summary_keys():
    d = fixture_report()
    with open(os.path.join(d, 'summary.json')) as f:
        s = json.load(f)
    for k in ('schema', 'log', 'events', 'wall', 'sim', 'time_scale',
              'total', 'providers', 'ips', 'latency', 'charts',
              'definitions'):
        assert k in s, k
    assert s['schema'] == 'mxreport-summary/1' and s['events'] == 575
    g = s['providers']['gmail']
    for k in ('offered', 'accepted', 'deferred', 'refused', 'abandoned',
              'refused_before_mail', 'span', 'offered_rate',
              'accepted_rate', 'acceptance_share',
              'sustained_accepted_rate', 'first_deferral',
              'deferral_share', 'deferred_by_code', 'refused_by_code'):
        assert k in g, k
    # mxsim's own summary of the recorded run: 124 accepted, 26 rate.ip,
    # 10 auth.missing, 5 user.unknown transactions
    assert (g['accepted'], g['deferred'], g['refused']) == (124, 36, 5), g
    assert {c['name'] for c in s['charts']} >= {'messages_gmail',
                                                 'replies_gmail', 'latency'}


def test_compare():
    """B has no deferrals: --compare marks the changed figures only"""
    da, _ = known_report('known', plots=True)
    known_log(os.path.join(TMP, 'nodefer.jsonl'), defer=False)
    out = os.path.join(TMP, 'cmp')
    rc, o, err = run(['--compare', da, os.path.join(TMP, 'nodefer.jsonl'),
                      '-o', out])
    assert rc == 0, err
    assert os.path.exists(os.path.join(out, 'b', 'summary.json'))
    with open(os.path.join(out, 'compare.json')) as f:
        c = json.load(f)
    rows = {(r['row'], r['figure']): r for r in c['rows']}
    r = rows[('gmail 127.0.20.1', 'deferred')]
    assert (r['a'], r['b'], r['delta'], r['changed']) == (10, 0, -10, True)
    r = rows[('gmail 127.0.20.1', 'accepted')]
    assert (r['a'], r['b'], r['changed']) == (40, 50, True)
    assert near(r['relative'], 0.25)
    r = rows[('gmail 127.0.20.1', 'offered')]
    assert (r['a'], r['b'], r['changed']) == (50, 50, False)
    assert rows[('gmail 127.0.20.1', 'deferred share 421 4.7.28')][
        'changed']
    assert not any(r['changed'] for (row, _), r in rows.items()
                   if row in ('yahoo', 'yahoo 127.0.30.1',
                              'gmail 127.0.20.2'))
    html = open(os.path.join(out, 'index.html')).read()
    assert '<tr class="changed"><td>gmail 127.0.20.1</td><td>deferred</td>' \
        '<td class="n">10</td><td class="n">0</td><td class="n">-10</td>' \
        '<td class="n">-100.0%</td><td class="mark">&#9660;</td>' in html
    assert '<img src="a/messages_gmail.png"' in html
    assert '<img src="b/messages_gmail.png"' in html
    assert os.path.getsize(os.path.join(out, 'a', 'messages_gmail.png')) > 0
    rc, o, err = run(['--compare', da])
    assert rc == 2, err


def test_latency_two_csvs():
    """two mxload CSVs are two targets: each keeps its own percentiles"""
    evs = events()
    t0 = min(e['wall_ms'] for e in evs) // 1000
    head = ('time,elapsed,sent,accepted,deferred,rejected,errors,' +
            ','.join('eod_%s' % k for k in ('n', 'p50_ms', 'p90_ms',
                                            'p99_ms', 'p999_ms')) + '\n')
    paths = []
    for name, rows in (('fast', [(10, 1.0, 2.0, 3.0, 4.0),
                                 (30, 2.0, 3.0, 5.0, 6.0)]),
                       ('slow', [(20, 10.0, 20.0, 30.0, 40.0),
                                 (20, 20.0, 30.0, 50.0, 60.0)])):
        p = os.path.join(TMP, 'mxload-%s.csv' % name)
        with open(p, 'w') as f:
            f.write(head)
            for k, (n, a, b, c, dd) in enumerate(rows):
                f.write('%d.000,%d.000,%d,%d,0,0,0,%d,%g,%g,%g,%g\n' % (
                    t0 + k, k, n, n, n, a, b, c, dd))
        paths.append(p)
    d = os.path.join(TMP, 'twocsv')
    rc, out, err = run(['-o', d, '--no-plots', '--csv', paths[0], '--csv',
                        paths[1], LOG])
    assert rc == 0, err
    cols, rows = dat(os.path.join(d, 'data', 'latency_eod.dat'))
    assert cols == ['t_s'] + ['%s/%s_ms' % (t, q) for t in ('fast', 'slow')
                              for q in ('p50', 'p90', 'p99', 'p999')], cols
    got = [r[1:] for r in rows if r[1] == r[1]]
    assert got == [[1, 2, 3, 4, 10, 20, 30, 40], [2, 3, 5, 6, 20, 30, 50,
                                                  60]], got
    with open(os.path.join(d, 'summary.json')) as f:
        lat = json.load(f)['latency']
    f_, s_ = lat['fast']['stages']['eod'], lat['slow']['stages']['eod']
    assert f_['n'] == 40 and s_['n'] == 40
    assert near(f_['p50_mean_ms'], (10 * 1.0 + 30 * 2.0) / 40)
    assert near(s_['p50_mean_ms'], 15.0)
    assert (f_['p99_max_ms'], s_['p99_max_ms']) == (5.0, 50.0)
    assert lat['fast']['sent'] == 40 and lat['fast']['seconds'] == 2


def test_pm_short_run():
    """a one-minute log: Postmaster panels in 10 s buckets, said so"""
    d = fixture_report()
    cols, rows = dat(os.path.join(d, 'data', 'pm_gmail_daily.dat'))
    assert len(rows) == 7, rows             # 60 simulated s: 0..6
    gp = open(os.path.join(d, 'charts', 'pm_gmail.gp')).read()
    assert gp.count('10 s buckets, 0 = ') >= 8, gp[:500]


def test_big_log_bounded_memory():
    """--lines synthetic events through a pipe: peak RSS < 100 MB"""
    n = ARGS.lines
    out_dir = os.path.join(TMP, 'big')
    p = subprocess.Popen([PY, MXREPORT, '-o', out_dir, '-'],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    t0, w0, s0 = time.time(), 1795459403377, 1795459403377
    provs = ('gmail', 'yahoo', 'microsoft', 'generic')
    kinds = (('eod', 250, '2.0.0', 'ok.message'),
             ('eod', 250, '2.0.0', 'ok.message'),
             ('eod', 250, '2.0.0', 'ok.message'),
             ('mail', 250, '2.1.0', 'ok.mail'),
             ('eod', 421, '4.7.28', 'rate.ip'),
             ('rcpt', 550, '5.1.1', 'user.unknown'),
             ('eod', 421, '4.7.26', 'auth.missing'))
    fmt = ('{"wall":"x","sim":"x","wall_ms":%d,"sim_ms":%d,'
           '"session":"%016x","provider":"%s","mx":"127.1.0.1",'
           '"client":"127.0.%d.%d","sender_domain":"d%d.example",'
           '"rcpt":null,"stage":"%s","code":%d,"enhanced":"%s",'
           '"reason":"%s","nrcpts":1}\n')
    sent = 0
    try:
        buf = []
        for i in range(n):
            st, code, enh, reason = kinds[i % 7]
            # 2 ms wall, 6 ms simulated apart: a long run, buckets merge
            buf.append(fmt % (w0 + 2 * i, s0 + 6 * i, i, provs[i % 4],
                              10 + i % 4, i % 251, i % 40, st, code, enh,
                              reason))
            if len(buf) == 20000:
                data = ''.join(buf).encode()
                p.stdin.write(data)
                sent += len(data)
                buf = []
        data = ''.join(buf).encode()
        p.stdin.write(data)
        sent += len(data)
        p.stdin.close()
    except BrokenPipeError:
        pass
    out = p.stdout.read().decode()
    err = p.stderr.read().decode()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    secs = time.time() - t0
    print('   %d lines, %.0f MB piped in %.1f s; mxreport peak RSS %.1f MB'
          % (n, sent / 1e6, secs, ru.ru_maxrss / 1024))
    assert p.returncode == 0, (p.returncode, err)
    assert 'mxreport: %d events' % n in out, (out, err[-2000:])
    assert ru.ru_maxrss < RSS_LIMIT_KB, ru.ru_maxrss
    cols, rows = dat(os.path.join(out_dir, 'data', 'replies_gmail.dat'))
    assert sum(r[1] + r[2] + r[3] for r in rows) == len(range(0, n, 4))
    assert len(rows) <= 2401, len(rows)


def test_mxload_csv_live():
    """mxload --csv against a real mxsim: one row per second, sums match
    the final table, percentiles in order; then a report of that run"""
    if ARGS.build is None:
        print('   (skipped: no --build)')
        return
    port = free_port()
    sim = Mxsim(os.path.join(ARGS.build, 'sim', 'mxsim'),
                ['-q', '--time-scale', '20', '-w', '1'], port)
    try:
        csvf = os.path.join(TMP, 'live.csv')
        r = subprocess.run(
            [os.path.join(ARGS.build, 'harness', 'mxload'), '-q', '-t',
             'gmail=127.1.0.0/24:%d@gmail.com' % port, '-s',
             '127.0.10.1/32', '-f', 'auth.example', '-r', '50', '-n',
             '150', '-c', '2', '-m', '30', '--csv', csvf],
            capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    finally:
        _, sim_out, _ = sim.stop()
    with open(csvf) as f:
        rows = list(csv.DictReader(f))
    # 150 messages at 50 a second: at least 3 one-second rows, more on a
    # loaded machine (a count, not a duration, so every run sends 150)
    assert len(rows) >= 3, len(rows)
    el = [float(x['elapsed']) for x in rows]
    assert el == [float(k) for k in range(len(rows))], el
    t = [float(x['time']) for x in rows]
    assert all(abs(b - a - 1.0) < 0.0015 for a, b in zip(t, t[1:])), t
    assert sum(int(x['sent']) for x in rows) == 150
    acc = sum(int(x['accepted']) for x in rows)
    dfr = sum(int(x['deferred']) for x in rows)
    m = re.search(r'accepted (\d+)\s+deferred (\d+)', r.stdout)
    assert m and (acc, dfr) == (int(m.group(1)), int(m.group(2))), r.stdout
    assert dfr > 0                      # crossed 100 per simulated minute
    assert sum(int(x['eod_n']) for x in rows) == 150
    for x in rows:
        if int(x['eod_n']):
            q = [float(x['eod_p%s_ms' % k]) for k in ('50', '90', '99',
                                                       '999')]
            assert q == sorted(q) and q[0] > 0, q
    d = os.path.join(TMP, 'live')
    rc, out, err = run(['-o', d, '--csv', csvf, sim.events])
    assert rc == 0, err
    # the transactions mxreport rebuilds from the replies are the ones
    # mxsim counted itself (its exit summary)
    m = re.search(r'transactions: (\d+) accepted, (\d+) deferred \(4xx\), '
                  r'(\d+) refused \(5xx\), (\d+) abandoned', sim_out)
    assert m, sim_out
    with open(os.path.join(d, 'summary.json')) as f:
        tot = json.load(f)['total']
    assert [tot[k] for k in ('accepted', 'deferred', 'refused',
                             'abandoned')] == [int(x) for x in m.groups()], \
        (tot, m.group(0))
    assert tot['accepted'] == acc and tot['deferred'] == dfr
    shutil.rmtree(sim.dir, ignore_errors=True)


TESTS = [(n[5:], f) for n, f in sorted(globals().items())
         if n.startswith('test_') and callable(f)]


def main():
    global ARGS, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', help='build dir (mxsim, mxload) for the '
                    'live mxload --csv test')
    ap.add_argument('--lines', type=int, default=2000000)
    ap.add_argument('names', nargs='*')
    ARGS = ap.parse_args()
    TMP = tempfile.mkdtemp(prefix='mxreport-test-')
    passed = failed = 0
    for name, fn in TESTS:
        if ARGS.names and name not in ARGS.names:
            continue
        try:
            fn()
            print('ok   %s' % name)
            passed += 1
        except Exception:
            print('FAIL %s' % name)
            traceback.print_exc()
            failed += 1
    shutil.rmtree(TMP, ignore_errors=True)
    print('report: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
