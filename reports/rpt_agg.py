"""rpt_agg - streaming aggregation of an mxsim event log for mxreport.

DESCRIPTION
    Reads the JSON Lines log one line at a time and folds every event
    into time buckets; nothing per event is kept.  Two timelines: wall
    time (replies per class and per enhanced code, mxload's CSV rows) and
    simulated time (accepted messages and sliding-window counts per
    sending IP, the reputation scores mxsim logs).  A timeline holds at most
    MAX_BUCKETS buckets: when the run grows longer, the bucket width
    doubles and neighbours merge (counts add, window counts keep the
    maximum, scores keep the latest).  Per-identity series are kept for
    the first TRACK_IPS sending IPs and TRACK_DOMAINS sender domains of
    each provider (in order of appearance); totals cover everything.
    Memory is thus bounded by the number of providers, reply kinds and
    identities, not by the log's length.

DIAGNOSTICS
    A line that is not a JSON object with the required keys is counted
    and reported as "file:line: what"; Aggregator.bad_lines keeps the
    first MAX_BAD_KEPT of them.  With strict=True the first one raises
    LogError instead.
"""

import json

import rpt_model

MAX_BUCKETS = 1200
TRACK_IPS = 8
TRACK_DOMAINS = 8
MAX_SERIES = 64         # distinct (provider, enhanced) series per kind
MAX_ROWS = 4096         # distinct summary rows per provider
MAX_BAD_KEPT = 20


class LogError(Exception):
    """A bad line in strict mode, or an unreadable file."""


class Timeline:
    """Buckets of one clock: index -> {key: value}, bounded in count.

    The first character of a key's first element says how buckets merge:
    'n' adds, 'x' keeps the maximum, 'l' keeps the (time, value) pair with
    the latest time.
    """

    def __init__(self, origin_ms, width_ms, max_buckets=MAX_BUCKETS):
        self.origin = origin_ms
        self.width = width_ms
        self.maxb = max_buckets
        self.b = {}
        self.lo = None
        self.hi = None
        self.next = None            # next sampling boundary

    def index(self, t):
        """index - bucket of time t (ms)."""
        return (t - self.origin) // self.width

    def slot(self, i):
        """slot - the dict of bucket i, coalescing when the span is full."""
        d = self.b.get(i)
        if d is not None:
            return d
        while True:
            lo = i if self.lo is None else min(self.lo, i)
            hi = i if self.hi is None else max(self.hi, i)
            if hi - lo < self.maxb:
                break
            self.coalesce()
            i //= 2
        self.lo, self.hi = lo, hi
        d = self.b.get(i)
        if d is None:
            d = self.b[i] = {}
        return d

    def coalesce(self):
        """coalesce - double the width, merging bucket pairs."""
        old = self.b
        self.b = {}
        self.width *= 2
        for i in sorted(old):
            d = self.b.setdefault(i // 2, {})
            for k, v in old[i].items():
                merge(d, k, v)
        self.lo = None if self.lo is None else self.lo // 2
        self.hi = None if self.hi is None else self.hi // 2
        if self.next is not None:
            n = -(-(self.next - self.origin) // self.width)
            self.next = self.origin + n * self.width

    def add(self, t, key, n=1):
        """add - count n at time t."""
        d = self.b.get((t - self.origin) // self.width)
        if d is None:
            d = self.slot(self.index(t))
        d[key] = d.get(key, 0) + n

    def put(self, i, key, v):
        """put - merge value v into bucket i under key's rule."""
        merge(self.slot(i), key, v)

    def advance(self, t, sample):
        """advance - call sample(bucket, boundary) for boundaries <= t."""
        if self.next is None:
            self.next = self.origin + (self.index(t) + 1) * self.width
            return
        if t < self.next:
            return
        n = (t - self.next) // self.width + 1
        if n > 64:                  # a long pause: its two ends suffice
            sample(self.index(self.next - 1), self.next)
            self.next += (n - 1) * self.width
        while t >= self.next:       # sample() may coalesce: re-read width
            sample(self.index(self.next - 1), self.next)
            self.next += self.width

    def indexes(self):
        """indexes - every bucket index from the first to the last."""
        if self.lo is None:
            return range(0)
        return range(self.lo, self.hi + 1)


def merge(d, k, v):
    """merge - fold v into d[k] by the key's merge rule."""
    op = k[0][0]
    if k not in d:
        d[k] = v
    elif op == 'n':
        d[k] += v
    elif op == 'x':
        if v > d[k]:
            d[k] = v
    elif op == 'l':
        if v[0] >= d[k][0]:
            d[k] = v
    else:
        raise AssertionError('merge rule of %r' % (k,))


class Aggregator:
    """Everything mxreport draws, folded from the log and the CSVs."""

    REQUIRED = (('wall_ms', int), ('sim_ms', int), ('provider', str),
                ('stage', str), ('code', int))

    def __init__(self, profiles, bucket_ms=1000, strict=False):
        self.profiles = profiles
        self.bucket_ms = bucket_ms
        self.strict = strict
        self.replay = rpt_model.Replay(profiles)
        self.wall = None
        self.sim = None
        self.events = 0
        self.lines = 0
        self.nbad = 0
        self.bad_lines = []
        self.wall_first = self.wall_last = None
        self.sim_first = self.sim_last = None
        self.rows = {}          # provider -> {(stage,code,enh,reason): n}
        self.first = {}         # (provider, reason) -> first event facts
        self.track_ip = {}      # provider -> {ip: True}, in order
        self.track_dom = {}     # provider -> {domain: True}, in order
        self.series = {'def': set(), 'rej': set()}
        self.csv_rows = 0       # mxload CSV rows (rpt_lat folds them)
        self.csv_files = []
        self.taps = []          # more folds: fn(ev) per valid event

    # -- the event log --

    def bad(self, where, what):
        """bad - count (or, strict, raise) one unusable line."""
        self.nbad += 1
        msg = '%s: %s' % (where, what)
        if self.strict:
            raise LogError(msg)
        if len(self.bad_lines) < MAX_BAD_KEPT:
            self.bad_lines.append(msg)

    def read_log(self, f, name):
        """read_log - fold every line of an open text file."""
        decode = json.JSONDecoder().decode
        req = self.REQUIRED
        n = 0
        for n, line in enumerate(f, 1):
            try:
                ev = decode(line)
            except ValueError as e:
                if line.strip():
                    self.bad(f'{name}:{n}', 'bad JSON: %s' % e)
                continue
            if type(ev) is not dict:
                self.bad(f'{name}:{n}', 'not a JSON object')
                continue
            for k, t in req:
                if type(ev.get(k)) is not t:
                    self.bad(f'{name}:{n}', 'key "%s" missing or not %s'
                             % (k, 'a number' if t is int else 'a string'))
                    break
            else:
                self.event(ev)
                for tap in self.taps:
                    tap(ev)
        self.lines += n

    def event(self, ev):
        """event - fold one valid event."""
        wm, sm = ev['wall_ms'], ev['sim_ms']
        prov, stage, code = ev['provider'], ev['stage'], ev['code']
        enh = ev.get('enhanced') or '-'
        reason = ev.get('reason') or '-'
        ip = ev.get('client')
        dom = ev.get('sender_domain')
        nrcpts = ev.get('nrcpts') if isinstance(ev.get('nrcpts'), int) \
            else 1
        if self.wall is None:
            self.wall = Timeline(wm - wm % 1000, self.bucket_ms)
            self.sim = Timeline(sm - sm % 1000, self.bucket_ms)
            self.wall_first = self.wall_last = wm
            self.sim_first = self.sim_last = sm
        self.events += 1
        if wm < self.wall_first:
            self.wall_first = wm
        elif wm > self.wall_last:
            self.wall_last = wm
        if sm < self.sim_first:
            self.sim_first = sm
        elif sm > self.sim_last:
            self.sim_last = sm
        cls = code // 100
        self.wall.add(wm, ('n.cls', prov, cls))
        if cls in (4, 5):
            kind = 'def' if cls == 4 else 'rej'
            key = (prov, enh)
            if key not in self.series[kind]:
                if len(self.series[kind]) >= MAX_SERIES:
                    key = (prov, 'other')
                self.series[kind].add(key)
            self.wall.add(wm, ('n.' + kind, key[0], key[1]))
        rows = self.rows.setdefault(prov, {})
        rk = (stage, code, enh, reason)
        if rk not in rows and len(rows) >= MAX_ROWS:
            rk = (stage, code, enh, 'other')
        rows[rk] = rows.get(rk, 0) + 1
        if code >= 400:
            fk = (prov, reason)
            f = self.first.get(fk)
            if f is None or wm < f['wall_ms']:
                self.first[fk] = {'wall_ms': wm, 'sim_ms': sm,
                                  'client': ip, 'code': code,
                                  'enhanced': enh, 'stage': stage,
                                  'domain': dom}
        self.sim.advance(sm, self.sample)
        eip, edom = self.replay.event(prov, ip, dom, stage, code, nrcpts,
                                      sm, ev.get('ip_rep'),
                                      ev.get('domain_rep'))
        p = self.profiles.get(prov)
        scored = p is not None and p.has_reputation() and stage == 'eod' \
            and cls == 2
        if eip is not None:
            tr = self.track(self.track_ip, prov, ip, TRACK_IPS)
            if tr and stage == 'eod':
                if cls == 2:
                    self.sim.add(sm, ('n.acc', prov, ip))
                if p is not None:
                    self.sample_win(self.sim.index(sm), p, prov, ip, eip, sm)
            if tr and scored:
                self.score(sm, 'l.rip', prov, ip, ev.get('ip_rep'))
        if edom is not None:
            if self.track(self.track_dom, prov, dom, TRACK_DOMAINS) and \
                    scored:
                self.score(sm, 'l.rdom', prov, dom, ev.get('domain_rep'))

    def score(self, sm, key, prov, ident, value):
        """score - a score the log gives at sm, charted in its bucket."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.sim.put(self.sim.index(sm), (key, prov, ident),
                         (sm, float(value)))

    @staticmethod
    def track(table, prov, ident, cap):
        """track - is ident charted (the first cap of the provider)."""
        d = table.get(prov)
        if d is None:
            d = table[prov] = {}
        if ident in d:
            return True
        if len(d) < cap:
            d[ident] = True
            return True
        return False

    def sample_win(self, i, p, prov, ip, e, t):
        """sample_win - window counts of a tracked IP into bucket i."""
        for win, what in p.sample_keys:
            self.sim.put(i, ('x.win', prov, ip, win, what),
                         e.window(win, t, what))

    def sample(self, i, t):
        """sample - every tracked IP's windows at a bucket's end."""
        for prov, ips in self.track_ip.items():
            p = self.profiles.get(prov)
            if p is None:
                continue
            for ip in ips:
                e = self.replay.ips.get((prov, ip))
                if e is not None:
                    self.sample_win(i, p, prov, ip, e, t)

    def finish(self):
        """finish - sample every tracked identity at the last event."""
        if self.sim is not None:
            self.sample(self.sim.index(self.sim_last), self.sim_last)
