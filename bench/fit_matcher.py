"""Learn the matcher's weights and cutoffs from the labelled question sets; judge them honestly.

Every question set in tests/data is training data. The matcher's features (bot/qa/matching.py,
``Matcher.features``) per question and candidate (every topic and the off-topic class) are mixed
by one weight each, shared by all topics (plus, with --bias, one offset per topic): a
multinomial logistic regression over the candidates (a softmax ranker), fitted by Newton's
method with an L2 penalty. The answer cutoff (``ANSWER_P``) is the lowest probability whose
confidently wrong share stays under the target on the training questions.

The estimate that counts is leave-one-writer-out cross-validation: for each group of sets
written by one writer (a blind set and its English parallel), fit on all the others and measure
the held-out group's Thai set (top-1 / off-topic rejected / confidently wrong, as
bench/bench_matching.py counts them). "before" is the hand-tuned matcher (``--before``, a git
revision) on the same set.

Run: .venv/bin/python bench/fit_matcher.py [--bias] [--l2 X] [--target PCT] [--write]
(--write rewrites bot/qa/weights.py from the fit on every set). Needs numpy (a dev extra only:
the runtime reads the weights as plain constants).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.qa.knowledge import load_knowledge  # noqa: E402
from bot.qa.matching import (  # noqa: E402
    OOS_FEATURES,
    OUT_OF_SCOPE,
    TOPIC_FEATURES,
    VERBATIM,
    Matcher,
    pipeline_for,
)

DATA = ROOT / "tests" / "data"
OOS_LABELS = ("-", "", "none")
# (group, file, question column, measured): one group per writer; a blind set's English
# parallel (same writer, its Thai column a subset of the Thai set) is held out with it.
FILES = (
    ("tuning", "questions.tsv", 0, True),
    ("holdout", "questions_holdout.tsv", 0, True),
    ("new_holdout", "questions_new_holdout.tsv", 0, True),
    ("blind2", "questions_blind2.tsv", 0, True),
    ("blind3", "questions_blind3.tsv", 0, True),
    ("blind3", "questions_english_blind3.tsv", 1, False),
    ("dev4", "questions_dev4.tsv", 0, True),
    ("dev4", "questions_english_dev4.tsv", 1, False),
    ("dev5", "questions_dev5.tsv", 0, True),
    ("dev5", "questions_english_dev5.tsv", 1, False),
    ("blind4", "questions_blind4.tsv", 0, True),
    ("blind4", "questions_english_blind4.tsv", 1, False),
    ("blind5", "questions_blind5.tsv", 0, True),
    ("blind5", "questions_english_blind5.tsv", 1, False),
    ("english", "questions_english.tsv", 0, True),
    ("english", "questions_english.tsv", 1, False),
    ("english_dev2", "questions_english_dev2.tsv", 0, True),
    ("english_dev3", "questions_english_dev3.tsv", 0, True),
    ("english_dev6", "questions_english_dev6.tsv", 0, False),
    ("english_dev6", "questions_english_dev6.tsv", 1, True),
)
CV_GROUPS = ("blind3", "blind4", "blind5", "dev5", "new_holdout", "blind2", "holdout", "tuning")
# The last hand-tuned matcher (issue 15 round 6).
BEFORE = "0707bfc"
CACHE = Path(tempfile.gettempdir()) / "elaas-fit-matcher.pkl"


def load(name: str, column: int) -> list[tuple[str, str | None]]:
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip():
            cells = line.split("\t")
            topic = cells[-1].strip()
            rows.append((cells[column], None if topic in OOS_LABELS else topic))
    return rows


def old_matcher(rev: str) -> Matcher:
    """The matcher of git revision ``rev`` (its bot/qa/matching.py), for the "before" column."""
    import importlib.util
    import subprocess

    src = subprocess.run(["git", "show", f"{rev}:bot/qa/matching.py"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    path = Path(tempfile.gettempdir()) / "elaas_old_matching.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("elaas_old_matching", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["elaas_old_matching"] = module
    spec.loader.exec_module(module)
    kb = load_knowledge()
    return module.Matcher(kb, module.pipeline_for(kb))  # type: ignore[no-any-return]


def extract(matcher: Matcher, before: Matcher) -> list[dict]:
    """Per question: its group, file, label, per-candidate features, verbatim verdict, and the
    outcome of the matcher before (``--before``)."""
    out = []
    for group, name, column, measured in FILES:
        for q, topic in load(name, column):
            n = matcher.pipeline.normalize(q)
            verbatim = matcher._fuzzy(n) if n.tokens else {}
            best = max(verbatim.items(), key=lambda kv: kv[1], default=("", 0.0))
            out.append({
                "group": group, "file": name, "column": column, "measured": measured,
                "label": topic or OUT_OF_SCOPE, "question": q,
                "feats": matcher.features(n, q, verbatim=verbatim) if n.tokens else None,
                "verbatim": best[0] if best[1] >= VERBATIM else None,
                "shipped": before.match(q).topic,
            })
    return out


def tensor(rows: list[dict], candidates: list[str], names: list[str]) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    x = np.zeros((len(rows), len(candidates), len(names)))
    for i, r in enumerate(rows):
        if r["feats"] is None:
            continue
        for j, c in enumerate(candidates):
            for k, v in r["feats"].get(c, {}).items():
                if k in index:
                    x[i, j, index[k]] = v
            if "bias:" + c in index:
                x[i, j, index["bias:" + c]] = 1.0
    return x


def fit(x: np.ndarray, y: np.ndarray, l2: float, iters: int = 50) -> np.ndarray:
    """Conditional logit by Newton's method with step halving: maximise
    sum log softmax(x w)[y] - l2/2 |w|^2."""
    n, _, f = x.shape
    w = np.zeros(f)
    rows = np.arange(n)

    def objective(w: np.ndarray) -> float:
        z = x @ w
        top = z.max(axis=1)
        lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
        return float((z[rows, y] - lse).sum() - l2 / 2 * w @ w)

    current = objective(w)
    for _ in range(iters):
        p = predict(x, w)
        mean = np.einsum("nc,ncf->nf", p, x)
        grad = (x[rows, y] - mean).sum(axis=0) - l2 * w
        centred = x - mean[:, None, :]
        hess = np.einsum("nc,ncf,ncg->fg", p, centred, centred) + l2 * np.eye(f)
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-4:
            value = objective(w + scale * step)
            if value >= current:
                break
            scale /= 2
        w = w + scale * step
        done = abs(value - current) < 1e-7 * max(1.0, abs(value))
        current = value
        if done:
            break
    return w


def predict(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    z = x @ w
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def outcomes(rows: list[dict], probs: np.ndarray, candidates: list[str],
             answer_p: float) -> list[str | None]:
    """The topic answered per row (None: suggest, none or off-topic), as Matcher.match does."""
    oos = candidates.index(OUT_OF_SCOPE)
    got: list[str | None] = []
    for r, p in zip(rows, probs, strict=True):
        if r["feats"] is None:
            got.append(None)
        elif r["verbatim"] is not None:
            got.append(None if r["verbatim"] == OUT_OF_SCOPE else r["verbatim"])
        else:
            top = int(p.argmax())
            got.append(candidates[top] if top != oos and p[top] >= answer_p else None)
    return got


def figures(rows: list[dict], got: list[str | None]) -> tuple[float, float, float]:
    inscope = right = wrong = oos = rejected = 0
    for r, g in zip(rows, got, strict=True):
        if r["label"] == OUT_OF_SCOPE:
            oos += 1
            rejected += g is None
        else:
            inscope += 1
            right += g == r["label"]
            wrong += g is not None and g != r["label"]
    return (100 * right / max(1, inscope), 100 * rejected / max(1, oos),
            100 * wrong / max(1, inscope))


def cutoff(rows: list[dict], probs: np.ndarray, candidates: list[str], target: float) -> float:
    """The lowest answer cutoff whose confidently wrong share (in scope and off-topic answered,
    over all questions) stays under ``target`` percent on these rows."""
    for t in np.arange(0.30, 0.99, 0.01):
        got = outcomes(rows, probs, candidates, float(t))
        bad = sum(g is not None and g != r["label"] for r, g in zip(rows, got, strict=True))
        if 100 * bad / len(rows) <= target:
            return float(round(t, 2))
    return 0.99


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bias", action="store_true", help="one learned offset per topic")
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--target", type=float, default=2.0)
    ap.add_argument("--fresh", action="store_true", help="recompute the features")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--before", default=BEFORE, help="git revision of the matcher before")
    args = ap.parse_args()
    kb = load_knowledge()
    matcher = Matcher(kb, pipeline_for(kb))
    candidates = [t.id for t in kb.topics] + [OUT_OF_SCOPE]
    if CACHE.exists() and not args.fresh:
        rows = pickle.loads(CACHE.read_bytes())
    else:
        rows = extract(matcher, old_matcher(args.before))
        CACHE.write_bytes(pickle.dumps(rows))
    names = list(TOPIC_FEATURES) + list(OOS_FEATURES)
    if args.bias:
        names += ["bias:" + t.id for t in kb.topics]
    x = tensor(rows, candidates, names)
    y = np.array([candidates.index(r["label"]) for r in rows])
    groups = np.array([r["group"] for r in rows])
    print(f"{len(rows)} questions, {len(names)} features, l2 {args.l2}, "
          f"target wrong {args.target}%")
    print(f"{'held out':13} {'before top1/rej/wrong':>24} {'after top1/rej/wrong':>24}  cut")
    before_all, after_all = [], []
    for g in CV_GROUPS:
        train = groups != g
        w = fit(x[train], y[train], args.l2)
        tr_rows = [r for r, m in zip(rows, train, strict=True) if m]
        cut = cutoff(tr_rows, predict(x[train], w), candidates, args.target)
        test = np.array([r["group"] == g and r["measured"] for r in rows])
        te_rows = [r for r, m in zip(rows, test, strict=True) if m]
        after = figures(te_rows, outcomes(te_rows, predict(x[test], w), candidates, cut))
        before = figures(te_rows, [r["shipped"] for r in te_rows])
        before_all.append(before)
        after_all.append(after)
        print(f"{g:13} {'%5.1f / %5.1f / %4.1f' % before:>24} {'%5.1f / %5.1f / %4.1f' % after:>24}"
              f"  {cut:.2f}")
    for label, table in (("mean", None),):
        b, a = np.mean(before_all, axis=0), np.mean(after_all, axis=0)
        print(f"{label:13} {'%5.1f / %5.1f / %4.1f' % tuple(b):>24} "
              f"{'%5.1f / %5.1f / %4.1f' % tuple(a):>24}")
        del table
    w = fit(x, y, args.l2)
    cut = cutoff(rows, predict(x, w), candidates, args.target)
    print(f"\nfit on every set: ANSWER_P {cut}")
    for n, v in zip(names, w, strict=True):
        print(f"  {n:22} {v:8.3f}")
    if args.write:
        write(names, w, cut)


def write(names: list[str], w: np.ndarray, cut: float) -> None:
    lines = ['"""The matcher\'s learned weights and cutoffs: written by bench/fit_matcher.py '
             '(--write),', "fitted on every labelled question set in tests/data; do not edit "
             'by hand, re-fit."""', "", "WEIGHTS: dict[str, float] = {"]
    lines += [f'    "{n}": {v:.3f},' for n, v in zip(names, w, strict=True) if abs(v) >= 5e-4]
    lines += ["}", f"ANSWER_P = {cut}", "SUGGEST_P = 0.2", ""]
    (ROOT / "bot" / "qa" / "weights.py").write_text("\n".join(lines), encoding="utf-8")
    print("wrote bot/qa/weights.py")


if __name__ == "__main__":
    main()
