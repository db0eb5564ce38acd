#!/usr/bin/env python3
"""Re-check the risk policy's model-score thresholds for a model on the tune halves of the risk dev sets and the
rules' training set.

Runs `xinsheng eval-risk` on tests/data/risk, tests/data/risk_fresh (tune halves) and the rules' training set
(all rows; every directory under tests/data/risk_train) once per policy in a 144-policy grid
(escalation.negative_for_b 0.5/0.6/0.7 × scores.strong_anger 0.3/0.4/0.5/0.6/0.7/0.8/0.9/0.95 ×
conversation.negative_run 2/3 × conversation.anger_rise 0.2/0.25/0.3; every other key as in
models/default/policy.toml) and prints the tune-half figures with a score (per set: utterance escalation F1 +
priority accuracy + conversation escalation F1 + priority accuracy + handoff ±1; summed over the sets), best
first. Choose on the tune halves only; the held-out figures are written to build/policy_grid/<model>.json for the
record, not for choosing. `GRID=quick` runs two policies only (a smoke test of the script); `GRID=thresholds` the
24 of negative_for_b × strong_anger with the conversation keys as shipped; `GRID=anger` strong_anger alone over
0.8/0.85/0.9/0.95/0.97/0.98/0.99, every other key as shipped (for a model whose anger reads higher, e.g. with
an emotion n-gram model).

    cargo build --release && python3 scripts/policy_grid.py [MODEL_DIR]     (default models/default)
"""
import glob
import itertools
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# (data set, split scored): the dev sets' tune halves and every row of the rules' training set.
SETS = [("tests/data/risk", "tune"), ("tests/data/risk_fresh", "tune")] + [
    (os.path.relpath(d, ROOT), "all") for d in sorted(glob.glob(os.path.join(ROOT, "tests/data/risk_train/*/")))]


def set_key(text, section, key, value):
    at = text.index("\n[" + section + "]\n")
    m = re.compile(r"^" + key + r" = [^\n]*", re.M).search(text, at)
    if not m:
        raise SystemExit(f"policy.toml: no {section}.{key}")
    return text[:m.start()] + f"{key} = {value}" + text[m.end():]


def main():
    os.chdir(ROOT)
    model = sys.argv[1] if len(sys.argv) > 1 else "models/default"
    base = open("models/default/policy.toml", encoding="utf-8").read()
    os.makedirs("build/policy_grid", exist_ok=True)
    policy = "build/policy_grid/policy.toml"
    rows = []
    grid = list(itertools.product([0.5, 0.6, 0.7], [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95], [2, 3],
                                  [0.2, 0.25, 0.3]))
    if os.environ.get("GRID") == "quick":
        grid = [(0.5, 0.9, 2, 0.25), (0.5, 0.95, 2, 0.25)]
    elif os.environ.get("GRID") == "thresholds":
        grid = [g for g in grid if g[2:] == (2, 0.25)]
    elif os.environ.get("GRID") == "anger":
        grid = [(0.5, a, 2, 0.25) for a in [0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99]]
    for nfb, anger, run, rise in grid:
        text = set_key(base, "escalation", "negative_for_b", nfb)
        text = set_key(text, "scores", "strong_anger", anger)
        text = set_key(text, "conversation", "negative_run", run)
        text = set_key(text, "conversation", "anger_rise", rise)
        open(policy, "w", encoding="utf-8").write(text)
        tune, holdout = [], []
        for data, split in SETS:
            out = subprocess.run(["./target/release/xinsheng", "--model", model, "--engine", "int8", "--policy", policy,
                                  "eval-risk", "--utterances", f"{data}/utterances.jsonl",
                                  "--conversations", f"{data}/conversations.jsonl"],
                                 capture_output=True, text=True, check=True).stdout
            d = json.loads(out)

            def figures(kind, split):
                x = d[kind][split]
                return [x["escalation"]["f1"], x["priority"]["accuracy"]] + (
                    [x["handoff"]["within_1"]] if "handoff" in x else [])
            tune += figures("utterances", split) + figures("conversations", split)
            if split == "tune":
                holdout += figures("utterances", "holdout") + figures("conversations", "holdout")
        rows.append({"policy": {"negative_for_b": nfb, "strong_anger": anger, "negative_run": run, "anger_rise": rise},
                     "tune": tune, "score": round(sum(tune), 4), "holdout": holdout})
        print(f"{len(rows)}/{len(grid)}", file=sys.stderr, end="\r", flush=True)
    rows.sort(key=lambda r: -r["score"])
    print("score  negative_for_b strong_anger negative_run anger_rise | per set (risk, risk_fresh tune; risk_train/*): "
          "utt F1, prio; conv F1, prio, handoff")
    for r in rows:
        p = r["policy"]
        print(f"{r['score']:.3f}  {p['negative_for_b']:<14} {p['strong_anger']:<12} {p['negative_run']:<12} "
              f"{p['anger_rise']:<10} | " + " ".join(f"{x:.3f}" for x in r["tune"]))
    with open(f"build/policy_grid/{model.strip('/').replace('/', '_')}.json", "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
