"""Per-recipient final states as adapters report them from their MTA's log.

outcomes() of an adapter maps each recipient to {"status": the last state,
"sent": how many times it was delivered, "qids": the MTA's queue ids}; once
sent, a later deferral or bounce line does not hide the delivery (a
duplicate delivery shows as sent > 1).
"""


def note(res, rcpt, qid, status):
    """Add one result line (status: sent|deferred|bounced|expired) to RES."""
    r = res.setdefault(rcpt, {"status": None, "sent": 0, "qids": []})
    if qid not in r["qids"]:
        r["qids"].append(qid)
    if status == "sent":
        r["sent"] += 1
    if r["status"] != "sent" or status == "sent":
        r["status"] = status
