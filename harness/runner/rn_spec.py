"""Runner scenario files: strict loading with file:line:column errors.

The file is composed with yaml.compose so that every error names the node
it is about.  Nothing is started here; load() returns a Spec or raises
SpecError.  The format is documented in harness/runner/README.md.
"""
import os
import re

import yaml

import rn_adapter


class SpecError(Exception):
    """A scenario file error, already formatted as file:line:col: text."""


def fail(node, msg):
    m = node.start_mark
    raise SpecError("%s:%d:%d: %s" % (m.name, m.line + 1, m.column + 1, msg))


def mapping(node, what, allowed, required=()):
    """{key: value node} of a mapping node; unknown/duplicate/missing keys fail."""
    if not isinstance(node, yaml.MappingNode):
        fail(node, "%s must be a mapping" % what)
    out = {}
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            fail(k, "%s: keys must be strings" % what)
        if k.value in out:
            fail(k, "%s: duplicate key '%s'" % (what, k.value))
        if allowed is not None and k.value not in allowed:
            fail(k, "%s: unknown key '%s' (expected one of: %s)" % (
                what, k.value, ", ".join(sorted(allowed))))
        out[k.value] = v
    for r in required:
        if r not in out:
            fail(node, "%s: missing required key '%s'" % (what, r))
    return out


def seq(node, what):
    if not isinstance(node, yaml.SequenceNode):
        fail(node, "%s must be a list" % what)
    return node.value


def scalar(node, what):
    if not isinstance(node, yaml.ScalarNode):
        fail(node, "%s must be a scalar" % what)
    return node.value


def string(node, what):
    v = scalar(node, what)
    if v == "":
        fail(node, "%s must not be empty" % what)
    return v


def integer(node, what, lo=None, hi=None):
    v = scalar(node, what)
    if not re.fullmatch(r"[0-9]+", v):
        fail(node, "%s must be a non-negative integer, not '%s'" % (what, v))
    n = int(v)
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        fail(node, "%s must be in %s..%s, not %d" % (what, lo, hi, n))
    return n


def number(node, what, positive=False):
    v = scalar(node, what)
    try:
        x = float(v)
    except ValueError:
        fail(node, "%s must be a number, not '%s'" % (what, v))
    if x < 0 or (positive and x == 0) or x != x:
        fail(node, "%s must be %s, not %s" % (
            what, "> 0" if positive else ">= 0", v))
    return x


def boolean(node, what):
    v = scalar(node, what)
    if v not in ("true", "false"):
        fail(node, "%s must be true or false, not '%s'" % (what, v))
    return v == "true"


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(node, what):
    """Seconds from "90", "90s", "10m", "1h30m", "1.5h"."""
    v = scalar(node, what).strip()
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", v):
        return float(v)
    parts = re.findall(r"([0-9]+(?:\.[0-9]+)?)([smhd])", v)
    if not parts or "".join(a + b for a, b in parts) != v:
        fail(node, "%s must be a duration like 90s, 10m, 1h30m, not '%s'"
             % (what, v))
    return sum(float(a) * UNITS[b] for a, b in parts)


def ipv4(node, what):
    v = string(node, what)
    p = v.split(".")
    if len(p) != 4 or not all(x.isdigit() and int(x) < 256 for x in p):
        fail(node, "%s must be an IPv4 address, not '%s'" % (what, v))
    return v


def bounds(node, what):
    """{min, max} (either optional) or a bare integer meaning exactly."""
    if isinstance(node, yaml.ScalarNode):
        n = integer(node, what)
        return (n, n)
    m = mapping(node, what, ("min", "max"))
    lo = number(m["min"], what + ".min") if "min" in m else None
    hi = number(m["max"], what + ".max") if "max" in m else None
    if lo is None and hi is None:
        fail(node, "%s needs min or max" % what)
    if lo is not None and hi is not None and lo > hi:
        fail(node, "%s: min %g is above max %g" % (what, lo, hi))
    return (lo, hi)


def plain(node):
    """A node as plain Python data (for pass-through blocks)."""
    return yaml.safe_load(yaml.serialize(node))


class Spec:
    """A validated runner scenario."""

    def __init__(self):
        self.path = None
        self.name = None
        self.description = ""
        self.duration = None          # simulated seconds, upper bound
        self.mxsim = {}
        self.mta = {}
        self.injections = []          # dicts, ordered by at
        self.timeline = []            # dicts, ordered by at
        self.expect = {}


TOP = ("name", "description", "duration", "mxsim", "mta", "inject",
       "timeline", "expect")
MXSIM = ("scenario", "time_scale", "seed", "args", "profiles")
MTA = ("adapter", "source_ip", "retry", "settings", "routes")
INJECT = ("at", "group", "count", "from", "to", "rcpts", "size")
ACTIONS = ("limits", "outage", "outage_end", "reputation", "wait")
TIMELINE = ("at",) + ACTIONS
EXPECT = ("outcomes", "delivered", "bounced", "replies", "retry_interval",
          "attempts", "concurrency", "accepted_rate", "drain")
OUTCOMES = ("delivered", "bounced", "any")


def _mxsim(spec, node, base):
    m = mapping(node, "mxsim", MXSIM, ("time_scale",))
    d = {"scenario": None, "seed": None, "args": [], "profiles": {}}
    if "scenario" in m:
        p = string(m["scenario"], "mxsim.scenario")
        p = p if os.path.isabs(p) else os.path.join(base, p)
        if not os.path.isfile(p):
            fail(m["scenario"], "mxsim.scenario: no such file: %s" % p)
        d["scenario"] = os.path.normpath(p)
    d["time_scale"] = number(m["time_scale"], "mxsim.time_scale", True)
    if "seed" in m:
        d["seed"] = integer(m["seed"], "mxsim.seed")
    if "args" in m:
        d["args"] = [string(a, "mxsim.args[]") for a in seq(m["args"], "mxsim.args")]
        for a, n in zip(d["args"], m["args"].value):
            if a.split("=")[0] in ("-c", "--config", "-p", "--port", "-e",
                                   "--event-log", "--ready-file", "--control",
                                   "-t", "--time-scale", "-s", "--seed"):
                fail(n, "mxsim.args: %s is set by the runner" % a)
    if "profiles" in m:
        pm = mapping(m["profiles"], "mxsim.profiles", None)
        for k, v in pm.items():
            mapping(v, "mxsim.profiles.%s" % k, None)
            d["profiles"][k] = (plain(v), v)
    spec.mxsim = d


def _mta(spec, node):
    m = mapping(node, "mta", MTA, ("adapter",))
    name = string(m["adapter"], "mta.adapter")
    known = rn_adapter.known_settings()
    if name not in known:
        fail(m["adapter"], "mta.adapter: unknown adapter '%s' (known: %s)"
             % (name, ", ".join(sorted(known))))
    d = {"adapter": name, "source_ip": "127.0.70.1", "settings": {},
         "routes": {}, "retry": {}}
    if "source_ip" in m:
        d["source_ip"] = ipv4(m["source_ip"], "mta.source_ip")
        if not d["source_ip"].startswith("127."):
            fail(m["source_ip"], "mta.source_ip must be in 127.0.0.0/8")
    if "retry" in m:
        r = mapping(m["retry"], "mta.retry", rn_adapter.Schedule.FIELDS)
        for k, v in r.items():
            d["retry"][k] = duration(v, "mta.retry." + k)
            if d["retry"][k] <= 0:
                fail(v, "mta.retry.%s must be > 0" % k)
        sch = rn_adapter.Schedule(**d["retry"])
        if sch.min_backoff > sch.max_backoff:
            fail(m["retry"], "mta.retry: min_backoff %gs is above max_backoff %gs"
                 % (sch.min_backoff, sch.max_backoff))
    if "settings" in m:
        d["settings"] = _settings(m["settings"], name, known)
    if "routes" in m:
        for k, v in mapping(m["routes"], "mta.routes", None).items():
            w = "mta.routes.%s" % k
            ips = ([ipv4(x, w + "[]") for x in seq(v, w)]
                   if isinstance(v, yaml.SequenceNode) else [ipv4(v, w)])
            d["routes"][k.lower()] = (ips, v)
    spec.mta = d


def _native(node, what):
    """{key: value} of adapter-native settings: scalars as strings, lists
    and mappings as plain data."""
    out = {}
    for k, v in mapping(node, what, None).items():
        out[k] = scalar(v, "%s.%s" % (what, k)) if isinstance(v, yaml.ScalarNode) else plain(v)
    return out


def _settings(node, adapter, known):
    """{adapter name: {native key: value}} from mta.settings, which is either
    per adapter ({postfix: {...}, exim: {...}}: each applied only when that
    adapter runs) or flat (the native settings of mta.adapter)."""
    m = mapping(node, "mta.settings", None)
    named = [k for k in m if k in known]
    if named and len(named) != len(m):
        other = next(k for k in m if k not in known)
        fail(node, "mta.settings mixes adapter names (%s) and settings ('%s'): "
             "use {ADAPTER: {SETTING: VALUE}} for every entry" % (", ".join(named), other))
    if not named:
        return {adapter: _native(node, "mta.settings")}
    return {k: _native(v, "mta.settings." + k) for k, v in m.items()}


def _inject(spec, node):
    groups = set()
    last = 0.0
    for i, n in enumerate(seq(node, "inject")):
        w = "inject[%d]" % i
        m = mapping(n, w, INJECT, ("count", "to"))
        d = {"node": n}
        d["at"] = duration(m["at"], w + ".at") if "at" in m else 0.0
        if d["at"] < last:
            fail(m["at"], "%s.at: %gs is before the previous injection (%gs)"
                 % (w, d["at"], last))
        last = d["at"]
        d["group"] = string(m["group"], w + ".group") if "group" in m else "g%d" % i
        if not re.fullmatch(r"[a-z0-9][a-z0-9_]*", d["group"]):
            fail(m.get("group", n), "%s.group must match [a-z0-9][a-z0-9_]*" % w)
        if d["group"] in groups:
            fail(m.get("group", n), "%s.group: '%s' is used twice" % (w, d["group"]))
        groups.add(d["group"])
        d["count"] = integer(m["count"], w + ".count", 1, 100000)
        d["rcpts"] = integer(m["rcpts"], w + ".rcpts", 1, 1000) if "rcpts" in m else 1
        d["size"] = integer(m["size"], w + ".size", 1, 50000000) if "size" in m else 1000
        d["from"] = string(m["from"], w + ".from") if "from" in m else "{id}@auth.example"
        d["to"] = string(m["to"], w + ".to")
        for key in ("from", "to"):
            t = d[key]
            if "{id}" not in t or t.count("@") != 1:
                fail(m[key], "%s.%s must contain {id} and one @ (unique "
                     "addresses identify messages in mxsim's event log)" % (w, key))
            try:
                t.format(id="x", r=0)
            except (KeyError, IndexError, ValueError):
                fail(m[key], "%s.%s: only {id} and {r} may be used" % (w, key))
        if d["rcpts"] > 1 and "{r}" not in d["to"]:
            fail(m["to"], "%s.to needs {r} when rcpts > 1" % w)
        spec.injections.append(d)


def _action(m, key, w):
    n = m[key]
    if key == "limits":
        a = mapping(n, w + ".limits", ("provider", "set"), ("provider", "set"))
        mapping(a["set"], w + ".limits.set", None)
        return {"provider": string(a["provider"], w + ".limits.provider"),
                "set": plain(a["set"])}
    if key == "outage":
        a = mapping(n, w + ".outage", ("provider", "for"), ("provider", "for"))
        return {"provider": string(a["provider"], w + ".outage.provider"),
                "for": duration(a["for"], w + ".outage.for")}
    if key == "wait":
        a = mapping(n, w + ".wait", ("queue_empty", "attempted"))
        if not a:
            fail(n, w + ".wait needs queue_empty or attempted")
        d = {}
        if "queue_empty" in a:
            if not boolean(a["queue_empty"], w + ".wait.queue_empty"):
                fail(a["queue_empty"], w + ".wait.queue_empty: only true makes sense")
            d["queue_empty"] = True
        if "attempted" in a:
            d["attempted"] = [string(x, w + ".wait.attempted[]")
                              for x in seq(a["attempted"], w + ".wait.attempted")]
            d["attempted_nodes"] = a["attempted"].value
        return d
    if key == "outage_end":
        a = mapping(n, w + ".outage_end", ("provider",), ("provider",))
        return {"provider": string(a["provider"], w + ".outage_end.provider")}
    a = mapping(n, w + ".reputation", ("provider", "ip", "domain", "score"),
                ("provider", "score"))
    if ("ip" in a) == ("domain" in a):
        fail(n, w + ".reputation needs exactly one of ip, domain")
    d = {"provider": string(a["provider"], w + ".reputation.provider"),
         "score": number(a["score"], w + ".reputation.score")}
    if "ip" in a:
        v = scalar(a["ip"], w + ".reputation.ip")
        d["ip"] = v if v == "source" else ipv4(a["ip"], w + ".reputation.ip")
    else:
        d["domain"] = string(a["domain"], w + ".reputation.domain")
    return d


def _timeline(spec, node):
    last = 0.0
    for i, n in enumerate(seq(node, "timeline")):
        w = "timeline[%d]" % i
        m = mapping(n, w, TIMELINE, ("at",))
        acts = [k for k in ACTIONS if k in m]
        if len(acts) != 1:
            fail(n, "%s needs exactly one action (%s)" % (w, ", ".join(ACTIONS)))
        at = duration(m["at"], w + ".at")
        if at < last:
            fail(m["at"], "%s.at: %gs is before the previous entry (%gs); "
                 "times must be in order" % (w, at, last))
        last = at
        spec.timeline.append({"at": at, "action": acts[0], "node": n,
                              "args": _action(m, acts[0], w)})


def _groups(node, what, groups):
    gs = [string(x, what + "[]") for x in seq(node, what)]
    for x, n in zip(gs, node.value):
        if x not in groups:
            fail(n, "%s: no group '%s'" % (what, x))
    return gs


def _expect(spec, node):
    m = mapping(node, "expect", EXPECT)
    e = {"node": node}
    groups = {d["group"] for d in spec.injections}
    e["outcomes"] = {g: "delivered" for g in groups}
    if "outcomes" in m:
        for g, v in mapping(m["outcomes"], "expect.outcomes", None).items():
            if g not in groups:
                fail(v, "expect.outcomes: no injection group '%s'" % g)
            o = scalar(v, "expect.outcomes." + g)
            if o not in OUTCOMES:
                fail(v, "expect.outcomes.%s must be one of %s" % (g, ", ".join(OUTCOMES)))
            e["outcomes"][g] = o
    for k in ("delivered", "bounced"):
        if k in m:
            e[k] = bounds(m[k], "expect." + k)
    if "attempts" in m:
        a = m["attempts"]
        gs = sorted(groups)
        if isinstance(a, yaml.MappingNode) and any(k.value == "groups" for k, _ in a.value):
            am = mapping(a, "expect.attempts", ("min", "max", "groups"))
            gs = _groups(am["groups"], "expect.attempts.groups", groups)
            a = yaml.MappingNode(a.tag, [(k, v) for k, v in a.value if k.value != "groups"],
                                 start_mark=a.start_mark)
        e["attempts"] = {"bounds": bounds(a, "expect.attempts"), "groups": gs}
    if "replies" in m:
        e["replies"] = []
        for k, v in mapping(m["replies"], "expect.replies", None).items():
            parts = k.split()
            if not ((1 <= len(parts) <= 3 and re.fullmatch(r"[2-5][0-9][0-9]", parts[0])) or
                    (len(parts) == 1 and re.fullmatch(r"[45]xx", parts[0]))):
                fail(v, "expect.replies: key '%s' must be 'CODE [ENHANCED [reason]]' "
                     "or a class, 4xx or 5xx" % k)
            e["replies"].append((k, parts, bounds(v, "expect.replies." + k)))
    if "retry_interval" in m:
        r = mapping(m["retry_interval"], "expect.retry_interval",
                    ("min", "max", "unit", "groups"))
        unit = scalar(r["unit"], "expect.retry_interval.unit") if "unit" in r else "real"
        if unit not in ("real", "sim"):
            fail(r["unit"], "expect.retry_interval.unit must be real or sim")
        gs = sorted(groups)
        if "groups" in r:
            gs = _groups(r["groups"], "expect.retry_interval.groups", groups)
        lo = None
        if "min" in r and scalar(r["min"], "expect.retry_interval.min") == "schedule":
            if unit != "real":
                fail(r["min"], "expect.retry_interval.min: schedule needs unit real")
            lo = "schedule"
        elif "min" in r:
            lo = duration(r["min"], "expect.retry_interval.min")
        hi = duration(r["max"], "expect.retry_interval.max") if "max" in r else None
        if lo is None and hi is None:
            fail(m["retry_interval"], "expect.retry_interval needs min or max")
        e["retry_interval"] = {"min": lo, "max": hi, "unit": unit, "groups": gs}
    if "concurrency" in m:
        e["concurrency"] = []
        for i, n in enumerate(seq(m["concurrency"], "expect.concurrency")):
            w = "expect.concurrency[%d]" % i
            c = mapping(n, w, ("provider", "from", "to", "max_sessions",
                               "connections", "adapters"), ("provider", "from", "to"))
            d = {"provider": string(c["provider"], w + ".provider"),
                 "from": duration(c["from"], w + ".from"),
                 "to": duration(c["to"], w + ".to"), "node": n, "adapters": None}
            if "adapters" in c:
                known = rn_adapter.known_settings()
                d["adapters"] = [string(x, w + ".adapters[]")
                                 for x in seq(c["adapters"], w + ".adapters")]
                for x, xn in zip(d["adapters"], c["adapters"].value):
                    if x not in known:
                        fail(xn, "%s.adapters: unknown adapter '%s' (known: %s)"
                             % (w, x, ", ".join(sorted(known))))
            if d["to"] <= d["from"]:
                fail(c["to"], "%s: to must be after from" % w)
            if spec.duration is not None and d["to"] > spec.duration:
                fail(c["to"], "%s.to is beyond the run's duration" % w)
            if "max_sessions" not in c and "connections" not in c:
                fail(n, "%s needs max_sessions or connections" % w)
            if "max_sessions" in c:
                d["max_sessions"] = bounds(c["max_sessions"], w + ".max_sessions")
            if "connections" in c:
                d["connections"] = bounds(c["connections"], w + ".connections")
            e["concurrency"].append(d)
    if "accepted_rate" in m:
        e["accepted_rate"] = []
        for i, n in enumerate(seq(m["accepted_rate"], "expect.accepted_rate")):
            w = "expect.accepted_rate[%d]" % i
            c = mapping(n, w, ("provider", "window", "max"), ("provider", "window", "max"))
            win = duration(c["window"], w + ".window")
            if win <= 0:
                fail(c["window"], "%s.window must be longer than 0" % w)
            e["accepted_rate"].append({"provider": string(c["provider"], w + ".provider"),
                                       "window": win, "node": n,
                                       "max": integer(c["max"], w + ".max", 0)})
    if "drain" in m:
        d = mapping(m["drain"], "expect.drain", ("min", "max", "groups"))
        gs = sorted(groups)
        if "groups" in d:
            gs = _groups(d["groups"], "expect.drain.groups", groups)
        lo = duration(d["min"], "expect.drain.min") if "min" in d else None
        hi = duration(d["max"], "expect.drain.max") if "max" in d else None
        if lo is None and hi is None:
            fail(m["drain"], "expect.drain needs min or max")
        e["drain"] = {"min": lo, "max": hi, "groups": gs}
    spec.expect = e


def load(path):
    """Parse and validate PATH; raise SpecError."""
    try:
        with open(path) as f:
            root = yaml.compose(f)
    except OSError as e:
        raise SpecError("%s: %s" % (path, e.strerror))
    except yaml.YAMLError as e:
        raise SpecError("%s: YAML error: %s" % (path, str(e).replace("\n", " ")))
    if root is None:
        raise SpecError("%s: empty file" % path)
    spec = Spec()
    spec.path = os.path.abspath(path)
    base = os.path.dirname(spec.path)
    m = mapping(root, "scenario", TOP, ("name", "duration", "mxsim", "mta",
                                        "inject"))
    spec.name = string(m["name"], "name")
    if "description" in m:
        spec.description = scalar(m["description"], "description")
    spec.duration = duration(m["duration"], "duration")
    if spec.duration <= 0:
        fail(m["duration"], "duration must be > 0")
    _mxsim(spec, m["mxsim"], base)
    _mta(spec, m["mta"])
    _inject(spec, m["inject"])
    if not spec.injections:
        fail(m["inject"], "inject: at least one injection is needed")
    if "timeline" in m:
        _timeline(spec, m["timeline"])
    groups = {d["group"] for d in spec.injections}
    for act in spec.timeline:
        for g, n in zip(act["args"].get("attempted", []),
                        act["args"].get("attempted_nodes", [])):
            if g not in groups:
                fail(n, "wait.attempted: no injection group '%s'" % g)
    for lst, key in ((spec.injections, "inject"), (spec.timeline, "timeline")):
        for d in lst:
            if d["at"] > spec.duration:
                fail(d["node"], "%s: at %gs is beyond the run's duration (%gs)"
                     % (key, d["at"], spec.duration))
    _expect(spec, m["expect"] if "expect" in m else
            yaml.MappingNode("tag:yaml.org,2002:map", [],
                             start_mark=root.start_mark))
    return spec
