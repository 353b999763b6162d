"""options_vol_01's tasks as exported: counts, tiers and the time split; every template's
oracle completes and its null, wrong and adversarial solutions do not, scored by the exported
code strings exec'd as AWM does; answers judged by meaning."""

import json
from collections import Counter

import pytest

from phinance_env.app.client import AppClient, ToolError
from phinance_env.awm import play, run_code_string
from phinance_env.awm.scenario import Scenario, exported_tasks
from phinance_env.desks import get_desk
from tests.support import fresh_db, phinance_app

SCENARIO = "options_vol_01"
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


def test_counts_tiers_and_time_split(tasks):
    assert len(tasks) >= 500
    tiers = Counter(t.meta.tier for t in tasks)
    assert set(tiers) == {1, 2, 3} and min(tiers.values()) >= 80, tiers
    assert {t.spec.template for t in tasks} == set(TEMPLATES)
    dated = [(t.meta.split, t.template.dates(t.spec.params)) for t in tasks if t.template.dated]
    train = max(d for s, ds in dated if s == "train" for d in ds)
    test = min(d for s, ds in dated if s == "test" for d in ds)
    assert train < "2017-01-01" <= test
    verdicts = Counter(t.expected["verdict"] for t in tasks if t.spec.template == "rich_cheap")
    assert min(verdicts.values()) >= 0.2 * sum(verdicts.values()), verdicts  # no verdict pays by itself


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
        assert verdict(exported, codes, task, initial(exported), "")["result"] == "others"
        assert verdict(exported, codes, task, initial(exported), answer)["result"] == "others", (task.text, answer)
        for label, wrong in task.mutants.items():
            wdb, wanswer = played(exported, tmp_path, wrong, f"{task.index}-{label}")
            assert verdict(exported, codes, task, wdb, wanswer)["result"] == "others", (template, label)


HACKS = ["", "Done.", "rich cheap fair call put 0.5 -0.5 $1.00 $2.00 $5.00 $10.00 20% 25% 30%",
         "I can't do that.", " ".join(str(x / 7) for x in range(60)), "x" * 5000]


@pytest.mark.parametrize("template", TEMPLATES)
def test_generic_hacks_never_complete_even_after_the_work(exported, codes, tasks, tmp_path, template):
    task = instances(tasks, template, 1)[0]
    if not task.template.asks and template != "refuse_option":
        pytest.skip("a state-only task does not read the answer")
    db, _ = played(exported, tmp_path, task.oracle)
    for hack in HACKS:
        assert verdict(exported, codes, task, db, hack)["result"] == "others", (template, hack[:60])


def judged(exported, codes, tmp_path, task, answers):
    db, _ = played(exported, tmp_path, task.oracle)
    return {a: verdict(exported, codes, task, db, a)["result"] for a in answers}


def test_prices_and_deltas_are_read_by_meaning(exported, codes, tasks, tmp_path):
    task = next(t for t in tasks if t.spec.template == "option_price" and t.spec.params["kind"] == "put")
    price, delta = task.expected["price"]["usd"], task.expected["delta"]["frac"]
    other = task.expected["distractors"][0]["usd"]
    right = [f"Mid ${price:.2f}, delta {delta:.2f}.", f"It trades at {price:.2f} USD; its delta is {delta * 100:.1f}%.",
             f"The put's mid is ${price:.2f} (delta {delta:.3f}); the call at that strike is ${other:.2f}."]
    wrong = [f"Mid ${price:.2f}, delta {abs(delta):.2f}.", f"Mid ${other:.2f}, delta {delta:.2f}.",
             f"Mid ${price:.2f} or ${other:.2f}, delta {delta:.2f}.", f"Mid ${price * 1.05:.2f}, delta {delta:.2f}."]
    got = judged(exported, codes, tmp_path, task, right + wrong)
    assert [got[a] for a in right] == ["complete"] * len(right), got
    assert [got[a] for a in wrong] == ["others"] * len(wrong), got


@pytest.mark.parametrize("verdict_word", ["rich", "cheap", "fair"])
def test_rich_cheap_verdicts_with_negation(exported, codes, tasks, tmp_path, verdict_word):
    task = next(t for t in tasks if t.spec.template == "rich_cheap" and t.expected["verdict"] == verdict_word)
    move = task.expected["move"]["frac"]
    said = {"rich": ["Rich: options price more than we project", "They look expensive, not cheap"],
            "cheap": ["Cheap against the projection", "Underpriced - not rich at all"],
            "fair": ["Fairly priced", "Neither rich nor cheap"]}
    others = [w for v, ws in said.items() if v != verdict_word for w in ws]
    got = judged(exported, codes, tmp_path, task, [f"{s}; implied move {move:.2%}." for s in said[verdict_word] + others])
    assert [got[f"{s}; implied move {move:.2%}."] for s in said[verdict_word]] == ["complete"] * 2, got
    assert all(got[f"{s}; implied move {move:.2%}."] == "others" for s in others), got
