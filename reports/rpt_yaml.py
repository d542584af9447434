"""rpt_yaml - the YAML subset that mxsim's profiles and scenarios use.

DESCRIPTION
    Block mappings and sequences by indentation, flow collections
    ({a: 1, b: [x, y]}, possibly over several lines), plain, single- and
    double-quoted scalars, comments, anchors (&name) and aliases (*name),
    literal/folded block scalars (| and >).  Plain scalars become int,
    float, bool or None where YAML 1.2's core schema says so.  The
    standard library has no YAML parser and mxreport may use nothing
    else; mxsim's own loader (libyaml) stays the reference.

DIAGNOSTICS
    rpt_yaml.Error("file:line: what") for what it cannot read.
"""

import re

_INT = re.compile(r'^[-+]?[0-9]+$')
_FLOAT = re.compile(r'^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$')


class Error(Exception):
    """A YAML text mxreport cannot read; str() is "file:line: what"."""


def load_file(path):
    """load_file - parse one YAML file into dicts, lists and scalars."""
    with open(path, encoding='utf-8') as f:
        return loads(f.read(), path)


def loads(text, name='<string>'):
    """loads - parse YAML text; name is used in error messages."""
    p = _Parser(text, name)
    return p.document()


def _strip_comment(s):
    """_strip_comment - drop a '#' comment outside quotes."""
    q = None
    for i, ch in enumerate(s):
        if q:
            if ch == q:
                q = None
        elif ch in '"\'' and (i == 0 or s[i - 1] in ' \t[{,:'):
            q = ch
        elif ch == '#' and (i == 0 or s[i - 1] in ' \t'):
            return s[:i].rstrip()
    return s.rstrip()


def _depth(s):
    """_depth - bracket balance of a flow text, quotes skipped."""
    d, q = 0, None
    for ch in s:
        if q:
            if ch == q:
                q = None
        elif ch in '"\'':
            q = ch
        elif ch in '[{':
            d += 1
        elif ch in ']}':
            d -= 1
    return d


def _split_key(s):
    """_split_key - (key, rest) of "key: rest" or None when s is no pair."""
    q, d = None, 0
    for i, ch in enumerate(s):
        if q:
            if ch == q:
                q = None
        elif ch in '"\'' and i == 0:
            q = ch
        elif ch in '[{':
            d += 1
        elif ch in ']}':
            d -= 1
        elif ch == ':' and d == 0 and (i + 1 == len(s) or s[i + 1] == ' '):
            return s[:i].strip(), s[i + 1:].strip()
    return None


class _Parser:
    """One document: a list of (line number, indent, text) and anchors."""

    def __init__(self, text, name):
        self.name = name
        self.anchors = {}
        self.raw = text.split('\n')
        self.lines = []
        for n, line in enumerate(self.raw, 1):
            if '\t' in line[:len(line) - len(line.lstrip())]:
                raise Error('%s:%d: tab in indentation' % (name, n))
            t = _strip_comment(line)
            if t.strip() in ('', '---', '...'):
                continue
            self.lines.append((n, len(t) - len(t.lstrip(' ')), t.strip()))
        self.i = 0

    def err(self, n, what):
        """err - an Error at line n."""
        return Error('%s:%d: %s' % (self.name, n, what))

    def document(self):
        """document - the top-level value (None when empty)."""
        if not self.lines:
            return None
        v = self.block(self.lines[0][1])
        if self.i < len(self.lines):
            raise self.err(self.lines[self.i][0], 'unexpected indentation')
        return v

    def block(self, indent):
        """block - a mapping or sequence whose lines start at indent."""
        n, ind, text = self.lines[self.i]
        if ind != indent:
            raise self.err(n, 'bad indentation')
        if text == '-' or text.startswith('- '):
            return self.sequence(indent)
        return self.mapping(indent)

    def sequence(self, indent):
        """sequence - "- item" lines at indent."""
        out = []
        while self.i < len(self.lines):
            n, ind, text = self.lines[self.i]
            if ind != indent or not (text == '-' or text.startswith('- ')):
                break
            item = text[1:].strip()
            if item == '':
                self.i += 1
                out.append(self.nested(n, indent))
                continue
            if _split_key(item) is not None and item[0] not in '[{"\'':
                # "- key: v" opens a mapping indented at the item text
                sub = indent + len(text) - len(item)
                self.lines[self.i] = (n, sub, item)
                out.append(self.mapping(sub))
                continue
            self.i += 1
            out.append(self.value(n, indent, item))
        return out

    def mapping(self, indent):
        """mapping - "key: value" lines at indent."""
        out = {}
        while self.i < len(self.lines):
            n, ind, text = self.lines[self.i]
            if ind != indent:
                if ind > indent:
                    raise self.err(n, 'bad indentation')
                break
            if text.startswith('- '):
                break
            kv = _split_key(text)
            if kv is None:
                raise self.err(n, 'expected "key: value"')
            key, rest = kv
            key = self.scalar(n, key)
            self.i += 1
            if key == '<<':
                merged = self.value(n, indent, rest) if rest else \
                    self.nested(n, indent)
                for k, v in (merged or {}).items():
                    out.setdefault(k, v)
                continue
            if rest == '' or (rest[0] == '&' and ' ' not in rest):
                anchor = rest[1:] if rest else None
                v = self.nested(n, indent, seq_same=True)
                if anchor:
                    self.anchors[anchor] = v
            else:
                v = self.value(n, indent, rest)
            out[key] = v
        return out

    def nested(self, n, indent, seq_same=False):
        """nested - the block under a line, or None when there is none."""
        if self.i < len(self.lines):
            _, ind, text = self.lines[self.i]
            if ind > indent:
                return self.block(ind)
            if seq_same and ind == indent and text.startswith('- '):
                return self.sequence(indent)
        return None

    def value(self, n, indent, text):
        """value - an inline value, with continuation lines if any."""
        anchor = None
        if text.startswith('&'):
            parts = text.split(None, 1)
            anchor = parts[0][1:]
            text = parts[1] if len(parts) > 1 else ''
            if text == '':
                v = self.nested(n, indent)
                self.anchors[anchor] = v
                return v
        if text[0] in '|>':
            v = self.block_scalar(indent, text[0] == '>')
        elif text[0] in '[{':
            while _depth(text) > 0 and self.i < len(self.lines):
                text += ' ' + self.lines[self.i][2]
                self.i += 1
            if _depth(text) != 0:
                raise self.err(n, 'unbalanced flow collection')
            v, pos = self.flow(n, text, 0)
            if text[pos:].strip():
                raise self.err(n, 'text after flow collection')
        else:
            while (self.i < len(self.lines) and
                   self.lines[self.i][1] > indent and
                   text[0] not in '"\'*'):
                text += ' ' + self.lines[self.i][2]
                self.i += 1
            if text[0] in '"\'' and text[-1] != text[0]:
                while self.i < len(self.lines):
                    text += ' ' + self.lines[self.i][2]
                    self.i += 1
                    if text[-1] == text[0]:
                        break
            v = self.scalar(n, text)
        if anchor:
            self.anchors[anchor] = v
        return v

    def block_scalar(self, indent, folded):
        """block_scalar - the raw lines of | or > (comments kept)."""
        parts = []
        start = self.lines[self.i - 1][0]
        while self.i < len(self.lines) and self.lines[self.i][1] > indent:
            self.i += 1
        end = self.lines[self.i][0] - 1 if self.i < len(self.lines) \
            else len(self.raw)
        for line in self.raw[start:end]:
            parts.append(line.strip())
        while parts and parts[-1] == '':
            parts.pop()
        return (' ' if folded else '\n').join(parts) + '\n'

    def flow(self, n, s, pos):
        """flow - one flow value at s[pos:]; returns (value, end)."""
        while s[pos] == ' ':
            pos += 1
        ch = s[pos]
        if ch in '[{':
            close = ']' if ch == '[' else '}'
            out = [] if ch == '[' else {}
            pos += 1
            while True:
                while pos < len(s) and s[pos] in ' ,':
                    pos += 1
                if pos >= len(s):
                    raise self.err(n, 'unterminated ' + ch)
                if s[pos] == close:
                    return out, pos + 1
                if ch == '[':
                    v, pos = self.flow(n, s, pos)
                    out.append(v)
                    continue
                k, pos = self.flow_scalar(n, s, pos, key=True)
                while s[pos] == ' ':
                    pos += 1
                if s[pos] != ':':
                    raise self.err(n, 'expected ":" in flow mapping')
                v, pos = self.flow(n, s, pos + 1)
                out[k] = v
        return self.flow_scalar(n, s, pos)

    def flow_scalar(self, n, s, pos, key=False):
        """flow_scalar - a scalar inside a flow collection."""
        if s[pos] in '"\'':
            q = s[pos]
            end = pos + 1
            while end < len(s):
                if s[end] == q:
                    if q == "'" and s[end + 1:end + 2] == "'":
                        end += 2
                        continue
                    break
                if q == '"' and s[end] == '\\':
                    end += 1
                end += 1
            return self.scalar(n, s[pos:end + 1]), end + 1
        m = re.compile(r'[^,\]\}]*' if not key else r'[^,\]\}:]*').match(
            s, pos)
        return self.scalar(n, m.group(0).strip()), m.end()

    def scalar(self, n, t):
        """scalar - typed value of one scalar text."""
        if t.startswith('*'):
            if t[1:] not in self.anchors:
                raise self.err(n, 'unknown alias ' + t)
            return self.anchors[t[1:]]
        if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
            body = t[1:-1]
            return re.sub(r'\\(.)', lambda m: {'n': '\n', 't': '\t'}.get(
                m.group(1), m.group(1)), body)
        if len(t) >= 2 and t[0] == "'" and t[-1] == "'":
            return t[1:-1].replace("''", "'")
        if t in ('', '~', 'null', 'Null', 'NULL'):
            return None
        if t in ('true', 'True', 'TRUE'):
            return True
        if t in ('false', 'False', 'FALSE'):
            return False
        if _INT.match(t):
            return int(t)
        if _FLOAT.match(t):
            return float(t)
        return t
