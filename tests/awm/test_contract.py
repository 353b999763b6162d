"""The task contract: each template's ground truth is a typed model, and every key a
verifier's check reads from it is one of that model's fields (a typo fails here, not as a
silent reward 0 in every RL run); a check that breaks is reported as verifier_error."""

import ast

import pytest

from phinance_env.awm.verifiers import load_verifier, templates_checked
from phinance_env.desks import desks


def _keys_read(functions: dict[str, ast.FunctionDef], name: str, param: str, seen=None) -> set[str]:
    """Keys ``param["key"]`` / ``param.get("key")`` read in ``name`` and in the functions it
    hands ``param`` to (followed by position or keyword)."""
    seen = seen if seen is not None else set()
    if (name, param) in seen or name not in functions:
        return set()
    seen.add((name, param))
    keys = set()
    for node in ast.walk(functions[name]):
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == param
                and isinstance(node.slice, ast.Constant)):
            keys.add(node.slice.value)
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr == "get" and isinstance(func.value, ast.Name)
                    and func.value.id == param and node.args and isinstance(node.args[0], ast.Constant)):
                keys.add(node.args[0].value)
            if isinstance(func, ast.Name) and func.id in functions:
                callee = [a.arg for a in functions[func.id].args.args]
                for i, arg in enumerate(node.args):
                    if isinstance(arg, ast.Name) and arg.id == param and i < len(callee):
                        keys |= _keys_read(functions, func.id, callee[i], seen)
                for kw in node.keywords:
                    if isinstance(kw.value, ast.Name) and kw.value.id == param and kw.arg:
                        keys |= _keys_read(functions, func.id, kw.arg, seen)
    return keys


@pytest.mark.parametrize("desk", list(desks().values()), ids=lambda d: d.name)
def test_every_key_a_check_reads_is_a_field_of_its_template(desk):
    tree = ast.parse(desk.verifier_file.read_text())
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    checks = templates_checked(desk.verifier_file)
    assert set(checks) == set(desk.templates), "one check per template, and no check without one"
    for template, check in checks.items():
        exp_param = functions[check].args.args[3].arg  # (initial, final, answer, exp)
        read = _keys_read(functions, check, exp_param)
        fields = set(desk.templates[template].Expected.model_fields)
        assert read, f"{check} reads no ground truth"
        assert read <= fields, f"{check} reads {sorted(read - fields)}, not fields of {template}.Expected"


def test_ground_truth_is_validated_when_a_task_is_rendered(scenario_tasks):
    from pydantic import ValidationError

    task = next(t for t in scenario_tasks if t.spec.template == "projection_answer")
    model = task.template.Expected
    assert model.model_validate(task.expected) == task.template.expected(task.spec.params, task.truth)
    with pytest.raises(ValidationError):
        model.model_validate({**task.expected, "cone75_bps": "wide"})
    with pytest.raises(ValidationError):
        model.model_validate({**task.expected, "extra_key": 1})  # a renamed field cannot slip in


def test_a_check_that_breaks_is_a_verifier_error_not_a_wrong_answer(exported, scenario_tasks, tmp_path):
    from phinance_env.app.client import AppClient
    from phinance_env.awm import play
    from tests.support import fresh_db, phinance_app

    initial = exported / "databases" / "phinance_01.db"
    module = load_verifier(desks()["phinance_01"].verifier_file)
    from phinance_env.app.client import ToolError

    def call(client):
        def run(tool, args):
            try:
                return client.call(tool, args)
            except ToolError:  # refusal tasks meet errors on purpose
                return {}
        return run

    firsts = {t.spec.template: t for t in reversed(scenario_tasks)}
    for task in firsts.values():
        final = fresh_db(initial, tmp_path / str(task.index))  # the oracle's state: every check reads its keys
        client = AppClient(phinance_app(final, mcp=False))
        answer = play(task.oracle, call(client))
        client.close()
        assert module.verify_task_completion(str(initial), str(final), answer, expected=task.expected)["reward"] == 1.0
        broken = {"template": task.spec.template}  # ground truth whose fields were renamed away
        verdict = module.verify_task_completion(str(initial), str(final), answer, expected=broken)
        assert verdict["result"] == "others" and verdict["reward"] == 0.0
        assert verdict["error_kind"] == "verifier_error" and "KeyError" in verdict["error"], task.spec.template
