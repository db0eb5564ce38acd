#!/usr/bin/env python3
"""Validate tests/data/risk/{utterances,conversations}.jsonl and print label distributions.

Usage: python3 tests/data/risk/check.py [DIR]     (stdlib only; exit status 1 on any error)
"""
import collections
import json
import os
import sys
import unicodedata

DOMAINS = {"telecom", "ecommerce", "banking", "delivery", "utilities", "airline"}
SENTIMENTS = {"negative", "neutral", "positive"}
CATEGORIES = {"service_attitude", "process", "product_quality", "price", "other"}
PRIORITIES = {"A", "B", "C"}
REASONS = {"regulator_threat", "media_threat", "legal_threat", "churn_threat", "safety",
           "supervisor_demand", "repeat_contact", "strong_anger", "service_outage"}
B_ESCALATORS = {"strong_anger", "supervisor_demand", "churn_threat", "repeat_contact"}
A_REASONS = {"regulator_threat", "media_threat", "legal_threat", "safety", "service_outage"}
SPEAKERS = {"customer", "agent"}

errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def norm(text):
    """Key for duplicate detection: NFKC, drop punctuation and whitespace."""
    t = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in t if not (unicodedata.category(ch)[0] in "PZ" or ch.isspace()))


def load(path):
    rows = []
    if not os.path.exists(path):
        err(path, "missing file")
        return rows
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                err(f"{path}:{n}", "blank line")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                err(f"{path}:{n}", f"bad JSON: {e}")
                continue
            if not isinstance(obj, dict):
                err(f"{path}:{n}", "not an object")
                continue
            rows.append((n, obj))
    return rows


def check_labels(where, obj, utter):
    ok = True
    if obj.get("domain") not in DOMAINS:
        err(where, f"domain {obj.get('domain')!r}"); ok = False
    if not isinstance(obj.get("escalate"), bool):
        err(where, "escalate must be bool"); ok = False
    if obj.get("priority") not in PRIORITIES:
        err(where, f"priority {obj.get('priority')!r}"); ok = False
    if not utter:
        return ok
    if obj.get("sentiment") not in SENTIMENTS:
        err(where, f"sentiment {obj.get('sentiment')!r}"); ok = False
    for field, allowed in (("categories", CATEGORIES), ("reasons", REASONS)):
        v = obj.get(field)
        if not isinstance(v, list) or any(x not in allowed for x in v) or len(set(v)) != len(v):
            err(where, f"{field} {v!r}"); ok = False
    if not ok:
        return False
    # consistency with the README rules
    p, e, s, r = obj["priority"], obj["escalate"], obj["sentiment"], set(obj["reasons"])
    if p == "A" and not e:
        err(where, "priority A must escalate")
    if p == "C" and e:
        err(where, "priority C must not escalate")
    if p == "B" and e and not (r & B_ESCALATORS):
        err(where, "escalated B needs one of " + ",".join(sorted(B_ESCALATORS)))
    if p == "B" and not e and r & B_ESCALATORS:
        err(where, "B with an escalating reason must escalate")
    if r & A_REASONS and p != "A":
        err(where, f"reasons {sorted(r & A_REASONS)} imply priority A")
    if p == "B" and s != "negative":
        err(where, "priority B is a complaint: sentiment must be negative")
    if s != "negative" and obj["categories"]:
        err(where, "categories are complaint topics: only for negative rows")
    if p == "C" and r:
        err(where, "priority C rows carry no reasons")
    return True


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    ids, texts = set(), {}

    def seen(where, obj_id, text):
        if not isinstance(obj_id, str) or not obj_id:
            err(where, "missing id")
        elif obj_id in ids:
            err(where, f"duplicate id {obj_id}")
        ids.add(obj_id)
        if not isinstance(text, str) or not text.strip():
            err(where, "empty text"); return
        k = norm(text)
        if k in texts:
            err(where, f"duplicate text (also {texts[k]}): {text}")
        texts[k] = obj_id

    # utterances
    up = os.path.join(d, "utterances.jsonl")
    utts = load(up)
    c = {k: collections.Counter() for k in ("domain", "sentiment", "priority", "escalate", "cat", "reason",
                                            "ncat", "prio_by_domain")}
    for n, o in utts:
        where = f"utterances:{n} {o.get('id')}"
        extra = set(o) - {"id", "domain", "text", "sentiment", "categories", "escalate", "priority", "reasons"}
        if extra:
            err(where, f"unknown fields {sorted(extra)}")
        seen(where, o.get("id"), o.get("text"))
        if not check_labels(where, o, True):
            continue
        c["domain"][o["domain"]] += 1
        c["sentiment"][o["sentiment"]] += 1
        c["priority"][o["priority"]] += 1
        c["escalate"][o["escalate"]] += 1
        c["ncat"][len(o["categories"])] += 1
        c["prio_by_domain"][(o["domain"], o["priority"])] += 1
        for x in o["categories"]:
            c["cat"][x] += 1
        for x in o["reasons"]:
            c["reason"][x] += 1

    # conversations
    cp = os.path.join(d, "conversations.jsonl")
    convs = load(cp)
    cc = {k: collections.Counter() for k in ("domain", "priority", "escalate", "handoff", "nturns")}
    for n, o in convs:
        where = f"conversations:{n} {o.get('id')}"
        extra = set(o) - {"id", "domain", "turns", "handoff_turn", "escalate", "priority"}
        if extra:
            err(where, f"unknown fields {sorted(extra)}")
        turns = o.get("turns")
        if not isinstance(turns, list) or not 4 <= len(turns) <= 12:
            err(where, "turns must be a list of 4..12"); continue
        good = True
        for i, t in enumerate(turns):
            if not isinstance(t, dict) or t.get("speaker") not in SPEAKERS or set(t) != {"speaker", "text"} \
                    or not isinstance(t.get("text"), str) or not t["text"].strip():
                err(where, f"bad turn {i}: {t!r}"); good = False
        if not good:
            continue
        if turns[0]["speaker"] != "customer":
            err(where, "first turn should be the customer")
        seen(where, o.get("id"), "\n".join(t["text"] for t in turns))
        if not check_labels(where, o, False):
            continue
        h = o.get("handoff_turn", "missing")
        if h is not None:
            if not isinstance(h, int) or isinstance(h, bool) or not 0 <= h < len(turns):
                err(where, f"handoff_turn {h!r} out of range"); continue
            if turns[h]["speaker"] != "customer":
                err(where, f"handoff_turn {h} is not a customer turn")
        if o["escalate"] and h is None:
            err(where, "an escalated conversation must hand off")
        if o["priority"] == "A" and not o["escalate"]:
            err(where, "priority A must escalate")
        if o["priority"] == "C" and o["escalate"]:
            err(where, "priority C must not escalate")
        cc["domain"][o["domain"]] += 1
        cc["priority"][o["priority"]] += 1
        cc["escalate"][o["escalate"]] += 1
        cc["handoff"]["null" if h is None else "turn"] += 1
        cc["nturns"][len(turns)] += 1

    def show(title, counter, total):
        items = ", ".join(f"{k}={v} ({100 * v / total:.0f}%)" for k, v in sorted(counter.items(), key=str))
        print(f"  {title}: {items}")

    print(f"utterances.jsonl: {len(utts)} rows")
    if utts:
        for k in ("domain", "sentiment", "priority", "escalate", "cat", "ncat", "reason"):
            show({"cat": "categories", "ncat": "#categories", "reason": "reasons"}.get(k, k), c[k], len(utts))
        print("  priority by domain:")
        for dom in sorted(DOMAINS):
            print(f"    {dom:10s} " + " ".join(f"{p}={c['prio_by_domain'][(dom, p)]}" for p in "ABC"))
    print(f"conversations.jsonl: {len(convs)} rows")
    if convs:
        for k in ("domain", "priority", "escalate", "handoff", "nturns"):
            show(k, cc[k], len(convs))
    if errors:
        print(f"\n{len(errors)} error(s):")
        for e in errors:
            print("  " + e)
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
