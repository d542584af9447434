"""Route values the runner hands an adapter, as MX host lists.

A route maps a recipient domain (or "*") to its MX hosts in preference
order: one "IP:PORT" string, several separated by commas or blanks
("127.9.0.1:2600, 127.1.0.5:2600": the first is the primary MX, the next
the fallback), or a list of such strings.
"""


def hosts(value):
    """[(ip, port int), ...] of a route value, in preference order."""
    items = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for item in items:
        for hp in str(item).replace(",", " ").split():
            ip, _, port = hp.rpartition(":")
            if not ip or not port.isdigit():
                raise ValueError("route '%s': expected IP:PORT" % hp)
            out.append((ip, int(port)))
    if not out:
        raise ValueError("route '%s': no host" % (value,))
    return out
