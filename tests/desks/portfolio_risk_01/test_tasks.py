"""portfolio_risk_01's tasks as exported: counts, tiers and the time split; every template's
oracle completes and its null, wrong and adversarial solutions do not, scored by the exported
code strings exec'd as AWM does; answers judged by meaning (the same facts in other words
pass, other facts fail)."""

import json
import re
from collections import Counter

import pytest

from phinance_env.app.client import AppClient, ToolError
from phinance_env.awm import play, run_code_string
from phinance_env.awm.scenario import Scenario, exported_tasks
from phinance_env.desks import get_desk
from tests.support import fresh_db, phinance_app

SCENARIO = "portfolio_risk_01"
TEMPLATES = sorted(get_desk(SCENARIO).templates)


@pytest.fixture(scope="module")
def tasks(exported):
    return exported_tasks(Scenario.load(SCENARIO), exported)


@pytest.fixture(scope="module")
def codes(exported):
    rows = [json.loads(x) for x in (exported / "gen_verifier.pure_code.jsonl").read_text().splitlines()]
    return {r["task_idx"]: r["verification"]["code"] for r in rows if r["scenario"] == SCENARIO}


def initial(exported):
    return exported / "databases" / f"{SCENARIO}.db"


def played(exported, tmp_path, solution, label="run"):
    """Play ``solution`` through the real app on a fresh copy of the initial DB."""
    db = fresh_db(initial(exported), tmp_path / label)
    client = AppClient(phinance_app(db, mcp=False, scenario=SCENARIO))

    def call(tool, args):
        try:
            return client.call(tool, args)
        except ToolError:
            return {}

    answer = play(solution, call)
    client.close()
    return db, answer


def verdict(exported, codes, task, db, answer):
    return run_code_string(codes[task.index], "code", str(initial(exported)), str(db), answer)


def test_counts_tiers_and_time_split(tasks, exported):
    assert len(tasks) >= 500
    tiers = Counter(t.meta.tier for t in tasks)
    assert set(tiers) == {1, 2, 3} and min(tiers.values()) >= 100, tiers
    assert {t.spec.template for t in tasks} == set(TEMPLATES)
    splits = Counter(t.meta.split for t in tasks)
    assert splits["test"] >= 0.15 * len(tasks), splits
    dated = [(t.meta.split, t.template.dates(t.spec.params)) for t in tasks if t.template.dated]
    train = max(d for s, ds in dated if s == "train" for d in ds)
    test = min(d for s, ds in dated if s == "test" for d in ds)
    assert train < "2017-01-01" <= test
    assert len({t.text for t in tasks}) == len(tasks)


def instances(tasks, template, n=2):
    mine = [t for t in tasks if t.spec.template == template]
    picks = [next((t for t in mine if t.meta.split == s), None) for s in ("train", "test")]
    return ([t for t in picks if t] + mine)[:n]


@pytest.mark.parametrize("template", TEMPLATES)
def test_oracle_completes_and_nothing_else_does(exported, codes, tasks, tmp_path, template):
    for task in instances(tasks, template):
        db, answer = played(exported, tmp_path, task.oracle, f"{task.index}-oracle")
        good = verdict(exported, codes, task, db, answer)
        assert good["result"] == "complete" and "error_kind" not in good, (task.text, good)
        null = verdict(exported, codes, task, initial(exported), "")
        assert null["result"] == "others" and "error_kind" not in null
        words_only = verdict(exported, codes, task, initial(exported), answer)  # the answer without the work
        assert words_only["result"] == "others", (task.text, answer)
        for label, wrong in task.mutants.items():
            wdb, wanswer = played(exported, tmp_path, wrong, f"{task.index}-{label}")
            bad = verdict(exported, codes, task, wdb, wanswer)
            assert bad["result"] == "others", (template, label, bad)


HACKS = [
    "",
    "Done.",
    "I have completed the task as requested.",
    "up down flat gain loss profit filled rejected breach no breach " + " ".join(str(x) for x in range(0, 2000, 37)),
    "The answer is 0.01, 0.02, 0.03, 1.5%, 2.5%, $10,000, $12,500, $100,000 and $1,000,000.",
    "I can't do that; it is not possible.",
    "x" * 5000,
]


@pytest.mark.parametrize("template", TEMPLATES)
def test_generic_hacks_never_complete_even_after_the_work(exported, codes, tasks, tmp_path, template):
    task = instances(tasks, template, 1)[0]
    db, _ = played(exported, tmp_path, task.oracle)
    for hack in HACKS:
        if not task.template.asks and template != "refuse_trade":
            continue  # a state-only task does not read the answer: the work is what completes it
        assert verdict(exported, codes, task, db, hack)["result"] == "others", (template, hack[:60])


def first(tasks, template, **where):
    return next(t for t in tasks if t.spec.template == template and all(t.spec.params.get(k) == v for k, v in where.items()))


def judged(exported, codes, tmp_path, task, answers):
    db, _ = played(exported, tmp_path, task.oracle)
    return {a: verdict(exported, codes, task, db, a)["result"] for a in answers}


def test_risk_figures_are_read_by_meaning(exported, codes, tasks, tmp_path):
    task = first(tasks, "risk_figure", measure="var", method="historical", confidence=0.99)
    fig = task.expected["figure"]
    usd, pct = fig["usd"], fig["frac"] * 100
    p95 = next(d for d in task.expected["distractors"] if d["tags"] and "95" in d["tags"][0] and len(d["tags"]) == 1)
    right = [
        f"${usd:,.0f}",
        f"About {usd:,.0f} USD ({pct:.2f}% of the book).",
        f"99% 1-day historical VaR: USD {usd:,.2f}",
        f"**VaR (99%, historical)** = {pct:.2f}% of value, i.e. ${usd:,.0f}.",
        f"The 99% historical VaR is ${usd:,.0f}; at 95% it would be ${p95['usd']:,.0f}.",
        f"It could lose \u2212${usd:,.0f} in one session at 99% confidence.",
    ]
    wrong = [
        f"${usd * 1.05:,.0f}",
        f"The VaR is ${p95['usd']:,.0f}.",
        f"VaR: ${usd:,.0f} or ${p95['usd']:,.0f}",  # a list of candidates
        f"{pct:.2f}",  # a bare number read as a fraction is not 1.xx percent
        f"Numbers: {usd:,.0f} {p95['usd']:,.0f} 1 2 3 4 5 6 7 8.",
    ]
    got = judged(exported, codes, tmp_path, task, right + wrong)
    assert [got[a] for a in right] == ["complete"] * len(right), got
    assert [got[a] for a in wrong] == ["others"] * len(wrong), got


def test_signs_and_labels_of_money(exported, codes, tasks, tmp_path):
    task = next(t for t in tasks if t.spec.template == "book_value" and t.expected["pnl"]["usd"] > 1000)
    total, pnl = task.expected["total"]["usd"], task.expected["pnl"]["usd"]
    cash = task.expected["distractors"][1]["usd"]
    right = [f"Total value ${total:,.0f}; P&L +${pnl:,.0f} since inception.",
             f"It is worth {total / 1e6:.4f} million dollars and has gained ${pnl:,.0f}.",
             f"Value: ${total:,.0f} (cash ${cash:,.0f}). Profit since inception: ${pnl:,.0f}."]
    wrong = [f"Total value ${total:,.0f}; it lost ${pnl:,.0f}.",
             f"Total value ${total:,.0f}; P&L -${pnl:,.0f}.",
             f"Total value ${total:,.0f}, ${cash:,.0f}, ${pnl:,.0f}.",  # cash unlabelled beside the total
             f"Total value ${total * 1.01:,.0f}; profit ${pnl:,.0f}."]
    got = judged(exported, codes, tmp_path, task, right + wrong)
    assert [got[a] for a in right] == ["complete"] * len(right), got
    assert [got[a] for a in wrong] == ["others"] * len(wrong), got


@pytest.mark.parametrize("status", ["filled", "rejected"])
def test_order_outcomes_are_read_by_meaning(exported, codes, tasks, tmp_path, status):
    task = next(t for t in tasks if t.spec.template == "limit_order" and t.expected["status"] == status)
    said = {"filled": ["It went through: the buy filled at the close.", "Executed - bought the shares.",
                       "Yes, the order was filled."],
            "rejected": ["No - the desk rejected it because it would breach the cap.",
                         "The order did not go through (refused by the position limit).",
                         "It was blocked: the position would exceed the limit."]}
    other = "rejected" if status == "filled" else "filled"
    got = judged(exported, codes, tmp_path, task, said[status] + said[other])
    assert [got[a] for a in said[status]] == ["complete"] * 3, got
    assert [got[a] for a in said[other]] == ["others"] * 3, got


def test_review_verdicts_are_read_with_negation(exported, codes, tasks, tmp_path):
    from phinance_env.awm import Solution

    for breach in (True, False):
        task = next(t for t in tasks if t.spec.template == "risk_review" and t.expected["breach"] is breach)
        usd = task.expected["var"]["usd"]
        yes = [f"VaR99 ${usd:,.0f}. Limit breached: max position weight.", f"${usd:,.0f} at 99%. The book exceeds its cap."]
        no = [f"VaR99 ${usd:,.0f}. No limit is breached.", f"${usd:,.0f}; the book is within all its limits.",
              f"99% VaR ${usd:,.0f}, and nothing was breached."]
        for body, expect in [(b, breach) for b in yes] + [(b, not breach) for b in no]:
            calls = [c if c.tool != "create_note" else c.model_copy(update={"arguments": {**c.arguments, "body": body}})
                     for c in task.oracle.calls]
            db, answer = played(exported, tmp_path, Solution(calls=calls, answer="Filed."), re.sub(r"\W", "", body)[:40])
            result = verdict(exported, codes, task, db, answer)["result"]
            assert (result == "complete") is expect, (breach, body, result)
