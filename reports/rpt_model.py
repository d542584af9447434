"""rpt_model - profiles, window counts and logged scores for mxreport.

DESCRIPTION
    Finds the profile each provider of the log used (every *.yaml of a
    profiles directory keyed by its "provider", or the servers of an
    mxsim scenario resolved as mxsim does: a bare name is NAME.yaml
    beside the scenario, else in the bundled directory; a path is
    relative to the scenario) and follows each (provider, IP) and
    (provider, sender domain) of the log:

      * sliding windows (second, minute, hour, day) of accepted messages
        and recipients, the current fixed window plus the previous one
        weighted by its remaining overlap (the estimate mxsim's limits
        compare with, sim/engine/sim_state.h);
      * reputation: the scores mxsim logs with each accepted message at
        end of DATA ("ip_rep", "domain_rep", after the decision).  No
        score is computed here; an identity without an accepted message
        has none to show.

    Exact for one worker; with several, the log's order is the writer's,
    not the decisions', so window counts may differ by the messages
    decided concurrently.

    Profiles and scenarios are read with PyYAML (yaml.safe_load, its C
    loader when present).

DIAGNOSTICS
    YamlError("file:line:col: what", from PyYAML's marks) for unreadable
    profiles; missing ones are reported by the caller (charts fall back
    to no limit lines).
"""

import glob
import os

import yaml

_Loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


class YamlError(Exception):
    """A YAML file mxreport cannot read; str() is "file:line:col: what"."""


def load_yaml(path):
    """load_yaml - one YAML document of a file, as yaml.safe_load reads it;
    a syntax error raises YamlError naming the line and column."""
    with open(path, encoding='utf-8') as f:
        try:
            return yaml.load(f, Loader=_Loader)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            what = ': '.join(x for x in (e.context, e.problem) if x)
            if mark is None:
                raise YamlError('%s: %s' % (path, what)) from None
            raise YamlError('%s:%d:%d: %s' % (path, mark.line + 1,
                                              mark.column + 1, what)) from None
        except yaml.YAMLError as e:
            raise YamlError('%s: %s' % (path, e)) from None

WINDOWS = (('second', 1000), ('minute', 60000), ('hour', 3600000),
           ('day', 86400000))
WIN_MS = dict(WINDOWS)
WIN_INDEX = {name: i for i, (name, _) in enumerate(WINDOWS)}

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
        self.rep_initial = float(rep.get('initial', 100))
        self.rep_max = float(rep.get('max', 100))
        self.recover = float(rep.get('recover_per_hour', 0))
        self.temp_below = float(rep.get('temp_below', 0))
        self.block_below = float(rep.get('block_below', 0))
        self.pen = {str(k): float(v) for k, v in pen.items()
                    if isinstance(v, (int, float))}
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
        doc = load_yaml(scenario) or {}
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
        doc = load_yaml(p)
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
    """One (provider, IP) or (provider, domain): windows and last score."""

    __slots__ = ('msgs', 'rcpts', 'rep', 'rep_ms', 'accepted')

    def __init__(self):
        self.msgs = [Win() for _ in WINDOWS]
        self.rcpts = [Win() for _ in WINDOWS]
        self.rep = None                 # the last logged score, or None
        self.rep_ms = 0                 # its sim_ms
        self.accepted = 0

    def window(self, name, now, what='messages'):
        """window - sliding count of one window at now."""
        i = WIN_INDEX[name]
        ws = self.msgs if what == 'messages' else self.rcpts
        return ws[i].count(WINDOWS[i][1], now)

    def count_message(self, now, nrcpts, rcpts):
        """count_message - one accepted message in every window."""
        for w, (_, length) in zip(self.msgs, WINDOWS):
            w.add(length, now, 1)
        if rcpts:
            for w, (_, length) in zip(self.rcpts, WINDOWS):
                w.add(length, now, nrcpts)
        self.accepted += 1

    def logged(self, now, score):
        """logged - a score the log gives (a number), kept if newest."""
        if isinstance(score, (int, float)) and not isinstance(score, bool) \
                and (self.rep is None or now >= self.rep_ms):
            self.rep = float(score)
            self.rep_ms = now


class Replay:
    """The identities of every provider, folded from the log's events."""

    def __init__(self, profiles):
        self.profiles = profiles
        self.ips = {}                   # (provider, ip) -> Ident
        self.domains = {}               # (provider, domain) -> Ident

    @staticmethod
    def ident(table, key):
        """ident - the entry of key, created on first sight."""
        e = table.get(key)
        if e is None:
            e = table[key] = Ident()
        return e

    def event(self, prov, ip, domain, stage, code, nrcpts, now,
              ip_rep=None, domain_rep=None):
        """event - fold one logged reply: an accepted message counts in
        the windows, its logged scores are kept; returns (ip Ident, dom
        Ident)."""
        eip = self.ident(self.ips, (prov, ip)) if ip else None
        edom = self.ident(self.domains, (prov, domain)) if domain else None
        p = self.profiles.get(prov)
        if p is None or stage != 'eod' or not 200 <= code < 300:
            return eip, edom
        for e, score in ((eip, ip_rep), (edom, domain_rep)):
            if e is not None:
                e.count_message(now, max(nrcpts, 1), p.rcpt_windows)
                e.logged(now, score)
        return eip, edom
