#!/usr/bin/env python3
"""Tests of reports/mxreport (and, with --build, of mxload --csv against a
real mxsim): report files and exact data points from the committed log
tests/data/rpt_events.jsonl (a real 3-second run of the bundled scenario
at time scale 20, one worker, against gmail: 127.0.10.1 sending
auth.example at 50 msg/s (-r 50 -d 3 -c 2 -m 30 --csv) crossing the
100-per-simulated-minute limit, 127.0.10.2 ten unauth.example messages,
127.0.10.3 five to --rcpt unknown1 on one connection) and its mxload CSV
tests/data/rpt_mxload.csv; diagnostics for
bad input; and a synthetic log of --lines lines (default 2,000,000) piped
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
    with open(CSV) as f:
        want = [r for r in csv.DictReader(f)]
    assert sum(r[5] for r in rows) == sum(int(r['eod_n']) for r in want)
    p99 = sorted(r[3] for r in rows if r[3] == r[3])
    assert p99 == sorted(float(r['eod_p99_ms']) for r in want
                         if r['eod_p99_ms']), p99
    cols, rows = dat(os.path.join(d, 'data', 'mxload.dat'))
    assert cols == ['t_s', 'sent', 'accepted', 'deferred', 'rejected',
                    'errors']
    assert [sum(r[k] for r in rows) for k in range(1, 6)] == \
        [150, 124, 26, 0, 0]


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
        sim.stop()
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
