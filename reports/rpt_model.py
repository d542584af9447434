"""rpt_model - profiles and the reputation/window replay of mxreport.

DESCRIPTION
    Finds the profile each provider of the log used (every *.yaml of a
    profiles directory keyed by its "provider", or the servers of an
    mxsim scenario resolved as mxsim does: a bare name is NAME.yaml
    beside the scenario, else in the bundled directory; a path is
    relative to the scenario) and replays mxsim's model over the log:

      * sliding windows (second, minute, hour, day) of accepted messages
        and recipients per (provider, IP) and (provider, sender domain),
        computed as sim/engine/sim_state.c does: the current fixed window plus
        the previous one weighted by its remaining overlap;
      * reputation per (provider, IP) and (provider, sender domain) as
        sim/engine/sim_policy.c changes it: initial score, linear recovery per
        simulated hour up to max, and penalties for the replies that
        carry one (user.unknown: IP and domain; rate.ip, warmup,
        rate.recipient: IP; daily_cap: the IP when its day window is
        full, else the domain; rate.domain, auth.missing, auth.block:
        domain; a spike of accepted volume: the identity that spiked).

    mxsim does not log scores, so this is a model replay: exact for one
    worker, approximate when workers decided concurrently (the log's
    order is the writer's, not the decisions').

DIAGNOSTICS
    rpt_yaml.Error for unreadable profiles; missing ones are reported by
    the caller (charts fall back to no limit lines).
"""

import glob
import os

import rpt_yaml

WINDOWS = (('second', 1000), ('minute', 60000), ('hour', 3600000),
           ('day', 86400000))
WIN_MS = dict(WINDOWS)
WIN_INDEX = {name: i for i, (name, _) in enumerate(WINDOWS)}
HOUR_MS = 3600000.0
IDLE_MS = 2 * 86400000          # mxsim forgets identities idle this long

# reply reason -> (penalized identity, penalty key); 'ipcap' = daily_cap
PENALTY = {
    'user.unknown': ('both', 'user_unknown'),
    'rate.ip': ('ip', 'rate_limited'),
    'warmup': ('ip', 'rate_limited'),
    'rate.recipient': ('ip', 'rate_limited'),
    'daily_cap': ('ipcap', 'rate_limited'),
    'rate.domain': ('domain', 'rate_limited'),
    'auth.missing': ('domain', 'auth_fail'),
    'auth.block': ('domain', 'auth_fail'),
}


class Profile:
    """What the report needs of one profile: limits and reputation."""

    def __init__(self, doc, path):
        self.path = path
        self.provider = doc.get('provider')
        lim = doc.get('limits') or {}
        self.per_ip = lim.get('per_ip') or {}
        self.per_domain = lim.get('per_domain') or {}
        self.warmup = lim.get('warmup') or {}
        rep = doc.get('reputation') or {}
        pen = rep.get('penalties') or {}
        spk = rep.get('spike') or {}
        self.rep_initial = float(rep.get('initial', 100))
        self.rep_max = float(rep.get('max', 100))
        self.recover = float(rep.get('recover_per_hour', 0))
        self.temp_below = float(rep.get('temp_below', 0))
        self.block_below = float(rep.get('block_below', 0))
        self.pen = {k: float(pen.get(k, 0)) for k in
                    ('user_unknown', 'auth_fail', 'spike', 'rate_limited')}
        self.spike_factor = float(spk.get('factor', 0))
        self.spike_min = float(spk.get('min_per_minute', 0))
        # recipients windows are kept only when a per-IP limit uses them
        self.rcpt_windows = bool(self.per_ip.get('recipients'))
        self.limits = self.ip_limits()
        self.sample_keys = sorted({(w, what) for w, what, _, _ in
                                   self.limits[:3]})

    def ip_limits(self):
        """ip_limits - [(window, what, limit, label)], shortest first."""
        out = []
        for name, _ in WINDOWS:
            for what in ('messages', 'recipients'):
                w = self.per_ip.get(what) or {}
                if w.get(name):
                    out.append((name, what, int(w[name]),
                                'per-IP %s/%s limit %d' % (what, name,
                                                           int(w[name]))))
        if self.warmup.get('days') and self.warmup.get('first_day'):
            out.append(('day', 'messages', int(self.warmup['first_day']),
                        'warm-up day-1 limit %d' %
                        int(self.warmup['first_day'])))
        return out

    def has_reputation(self):
        """has_reputation - does the profile run the reputation model."""
        return self.temp_below > 0 or self.block_below > 0 or \
            any(v > 0 for v in self.pen.values())


def load_profiles(profiles_dir=None, scenario=None):
    """load_profiles - {provider: Profile}, and a list of warnings."""
    out, warn = {}, []
    paths = []
    if scenario is not None:
        doc = rpt_yaml.load_file(scenario) or {}
        base = os.path.dirname(os.path.abspath(scenario))
        for s in doc.get('servers') or []:
            name = str((s or {}).get('profile', ''))
            if '/' in name or name.endswith('.yaml'):
                paths.append(os.path.join(base, name))
                continue
            cand = os.path.join(base, name + '.yaml')
            if not os.path.exists(cand) and profiles_dir:
                cand = os.path.join(profiles_dir, name + '.yaml')
            paths.append(cand)
    else:
        paths = sorted(glob.glob(os.path.join(profiles_dir, '*.yaml')))
    for p in paths:
        if not os.path.exists(p):
            warn.append('%s: no such profile' % p)
            continue
        doc = rpt_yaml.load_file(p)
        if isinstance(doc, dict) and doc.get('provider'):
            prof = Profile(doc, p)
            out.setdefault(prof.provider, prof)
    return out, warn


class Win:
    """sim_win: the current fixed window and the previous one."""

    __slots__ = ('idx', 'cur', 'prev')

    def __init__(self):
        self.idx = 0
        self.cur = 0
        self.prev = 0

    def count(self, length, now):
        """count - the sliding estimate at now (sim_win_count)."""
        idx = now // length
        frac = (now % length) / length
        if self.idx == idx:
            return self.cur + int(self.prev * (1.0 - frac))
        if self.idx + 1 == idx:
            return int(self.cur * (1.0 - frac))
        return 0

    def add(self, length, now, n):
        """add - count n at now (sim_win_add); late events go back."""
        idx = now // length
        if idx == self.idx:
            self.cur += n
        elif idx > self.idx:
            self.prev = self.cur if self.idx + 1 == idx else 0
            self.cur = n
            self.idx = idx
        elif idx + 1 == self.idx:       # written after a later event
            self.prev += n


class Ident:
    """One (provider, IP) or (provider, domain): windows and score."""

    __slots__ = ('msgs', 'rcpts', 'rep', 'rep_ms', 'seen_ms', 'accepted')

    def __init__(self):
        self.msgs = [Win() for _ in WINDOWS]
        self.rcpts = [Win() for _ in WINDOWS]
        self.rep = None                 # None: never penalized (initial)
        self.rep_ms = 0
        self.seen_ms = 0
        self.accepted = 0

    def window(self, name, now, what='messages'):
        """window - sliding count of one window at now."""
        i = WIN_INDEX[name]
        ws = self.msgs if what == 'messages' else self.rcpts
        return ws[i].count(WINDOWS[i][1], now)

    def score(self, prof, now):
        """score - reputation at now (rep_now)."""
        if self.rep is None:
            return prof.rep_initial
        s = self.rep
        if now > self.rep_ms:
            s += prof.recover * (now - self.rep_ms) / HOUR_MS
        return min(s, prof.rep_max)

    def penalize(self, prof, now, amount):
        """penalize - rep_penalize."""
        if amount <= 0:
            return
        self.rep = max(0.0, self.score(prof, now) - amount)
        self.rep_ms = now

    def count_message(self, now, nrcpts, rcpts):
        """count_message - one accepted message in every window."""
        for w, (_, length) in zip(self.msgs, WINDOWS):
            w.add(length, now, 1)
        if rcpts:
            for w, (_, length) in zip(self.rcpts, WINDOWS):
                w.add(length, now, nrcpts)
        self.accepted += 1

    def spiked(self, prof, now):
        """spiked - did this message cross the spike line (spike())."""
        if prof.pen['spike'] <= 0 or prof.spike_factor <= 0:
            return False
        minute = self.msgs[1].count(60000, now)
        line = max(prof.spike_factor * self.msgs[2].count(3600000, now) /
                   60.0, prof.spike_min)
        return minute > line and minute - 1 <= line


class Replay:
    """The identities of every provider and the event -> model step."""

    def __init__(self, profiles):
        self.profiles = profiles
        self.ips = {}                   # (provider, ip) -> Ident
        self.domains = {}               # (provider, domain) -> Ident

    def ident(self, table, key, now):
        """ident - the entry of key, fresh if mxsim would have expired it."""
        e = table.get(key)
        if e is None or now - e.seen_ms > IDLE_MS:
            e = table[key] = Ident()
        e.seen_ms = max(e.seen_ms, now)
        return e

    def event(self, prov, ip, domain, stage, code, reason, nrcpts, now):
        """event - apply one logged reply; returns (ip Ident, dom Ident)."""
        p = self.profiles.get(prov)
        eip = self.ident(self.ips, (prov, ip), now) if ip else None
        edom = self.ident(self.domains, (prov, domain), now) \
            if domain else None
        if p is None:
            return eip, edom
        if stage == 'eod' and 200 <= code < 300:
            for e in (eip, edom):
                if e is not None:
                    e.count_message(now, max(nrcpts, 1),
                                    p.rcpt_windows)
                    if e.spiked(p, now):
                        e.penalize(p, now, p.pen['spike'])
            return eip, edom
        rule = PENALTY.get(reason)
        if rule is None or code < 400:
            return eip, edom
        who, key = rule
        amount = p.pen[key]
        if who == 'ipcap':
            who = 'ip' if eip is not None and self.ip_day_full(p, eip, now) \
                else 'domain'
        if who in ('ip', 'both') and eip is not None:
            eip.penalize(p, now, amount)
        if who in ('domain', 'both') and edom is not None:
            edom.penalize(p, now, amount)
        return eip, edom

    @staticmethod
    def ip_day_full(p, e, now):
        """ip_day_full - is the IP's day window at its per-IP limit."""
        for what in ('messages', 'recipients'):
            lim = (p.per_ip.get(what) or {}).get('day')
            if lim and e.window('day', now, what) >= lim:
                return True
        return False
