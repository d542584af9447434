"""The profiles the benchmarks serve, defined once for mxbench and
dp_replay.sh: the gmail profile with every limit raised so that nothing
defers a benchmark's load while every rule still runs.

    gmail_open(root) -> dict    profiles/gmail.yaml, limits raised
"""
import os

import yaml

BIG = 1000000000


def gmail_open(root):
    """profiles/gmail.yaml with its limits raised: no connection cap, 1,000
    recipients, 1 GiB messages, every per-identity window at BIG (still
    counted), no spike penalty, and a bulk threshold nobody reaches (the
    bulk.* authentication rules would defer unauthenticated benchmark mail
    once a sender passes 5,000 messages; the rules still run)."""
    with open(os.path.join(root, "profiles", "gmail.yaml")) as f:
        gmail = yaml.safe_load(f)
    lim = gmail["limits"]
    lim["connections_per_ip"] = 0
    lim["recipients_per_message"] = 1000
    lim["max_message_size"] = 1 << 30
    for key in ("per_ip", "per_domain"):
        lim[key] = {"messages": {"minute": BIG, "hour": BIG, "day": BIG},
                    "recipients": {"minute": BIG, "hour": BIG, "day": BIG}}
    lim["per_recipient"] = {"messages": {"minute": BIG, "hour": BIG, "day": BIG}}
    # every other per-identity window the profile has (netblock, DKIM
    # domain, URL domain, Message-ID...): raised, still counted
    for key, val in list(lim.items()):
        if key.startswith("per_") and key not in ("per_ip", "per_domain", "per_recipient") \
                and isinstance(val, dict):
            lim[key] = {kind: {win: BIG for win in wins} for kind, wins in val.items()
                        if isinstance(wins, dict)}
    gmail["reputation"]["penalties"]["spike"] = 0
    for holder in (gmail, lim):
        if "bulk_threshold" in holder:
            holder["bulk_threshold"] = BIG
    return gmail
