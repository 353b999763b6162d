"""``phinance-env episode`` and ``phinance-env rollout``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from phinance_env.cli.common import run_guarded

PolicyName = Literal["oracle", "null", "random", "openai"]
TransportName = Literal["asgi", "mcp"]


def _openai(api_url: str | None, model: str | None, max_tokens: int) -> dict:
    return {"api_url": api_url, "model": model, "max_tokens": max_tokens} if api_url else {}


@run_guarded
def episode(
    task_id: Annotated[int, typer.Option("--task-id", help="task index in the scenario")],
    scenario: Annotated[str, typer.Option(help="scenario name")] = "phinance_01",
    policy: Annotated[PolicyName, typer.Option(help="who acts")] = "oracle",
    transport: Annotated[TransportName, typer.Option(help="asgi: in-process; mcp: real server + MCP client")] = "asgi",
    api_url: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL (openai policy)")] = None,
    model: Annotated[str | None, typer.Option(help="model name (openai policy)")] = None,
    max_tokens: Annotated[int, typer.Option(help="completion token limit")] = 2048,
    max_turns: Annotated[int, typer.Option(help="turn limit")] = 30,
    seed: Annotated[int, typer.Option(help="seed (random policy)")] = 0,
    out: Annotated[Path, typer.Option(help="run directory root")] = Path("runs"),
    sql_facts: Annotated[bool, typer.Option("--sql-facts", help="also write the sql-mode verifier's facts (verify.sql.json)")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="an AWM data folder (default: our export)")] = None,
) -> None:
    """Run one verifier-scored episode and print its reward."""
    import json

    from phinance_env.episodes.rollout import RolloutConfig, episode_job

    if policy == "openai" and not (api_url and model):
        from phinance_env.errors import PhinanceError

        raise PhinanceError("the openai policy needs --api-url and --model")
    cfg = RolloutConfig(scenario=scenario, policy=policy, transport=transport, out=out, seed=seed,
                        max_turns=max_turns, openai=_openai(api_url, model, max_tokens), sql_facts=sql_facts,
                        data_dir=str(data_dir) if data_dir else None)
    row = episode_job(cfg, task_id, 0)
    row.pop("messages")
    typer.echo(json.dumps(row, indent=1))


@run_guarded
def rollout(
    scenario: Annotated[str, typer.Option(help="scenario name")] = "phinance_01",
    tasks: Annotated[str, typer.Option(help="'all' or comma-separated task ids, e.g. 0,3,5")] = "all",
    split: Annotated[Literal["train", "test"] | None, typer.Option(help="only this split's tasks (time split)")] = None,
    base: Annotated[bool, typer.Option("--base", help="only the stratified quick-eval subset")] = False,
    policy: Annotated[PolicyName, typer.Option(help="who acts")] = "oracle",
    repeats: Annotated[int, typer.Option(min=1, max=10_000, help="episodes per task")] = 1,
    workers: Annotated[int, typer.Option(min=1, max=256, help="worker processes")] = 1,
    transport: Annotated[TransportName, typer.Option(help="asgi or mcp")] = "asgi",
    api_url: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL (openai policy)")] = None,
    model: Annotated[str | None, typer.Option(help="model name (openai policy)")] = None,
    max_tokens: Annotated[int, typer.Option(help="completion token limit")] = 2048,
    max_turns: Annotated[int, typer.Option(help="turn limit")] = 30,
    seed: Annotated[int, typer.Option(help="base seed (random policy)")] = 0,
    data_dir: Annotated[Path | None, typer.Option(help="an AWM data folder (default: our export)")] = None,
    out: Annotated[Path, typer.Option(help="output folder: rollouts.jsonl and run dirs")] = Path("runs"),
    backend: Annotated[Literal["local", "ray"], typer.Option(help="local process pool or Ray tasks")] = "local",
    address: Annotated[str | None, typer.Option(help="Ray cluster address (default: a local instance)")] = None,
    ray_token_file: Annotated[Path | None, typer.Option(
        help="file holding the Ray cluster's auth token (a head with token authentication; `ray get-auth-token` prints it)")] = None,
    keep: Annotated[Literal["all", "failed", "none"], typer.Option(
        help="run folders kept: all, failed (reward below 1 or an error) or none; rollouts.jsonl has every row")] = "all",
) -> None:
    """Run many episodes (resumable) and print a summary; rows go to OUT/rollouts.jsonl."""
    from rich.progress import Progress

    from phinance_env.episodes.rollout import RolloutConfig
    from phinance_env.episodes.rollout import rollout as run
    from phinance_env.episodes.rollout import summarize
    from phinance_env.errors import PhinanceError

    try:
        ids = None if tasks == "all" else tuple(int(t) for t in tasks.split(",") if t.strip())
    except ValueError:
        raise PhinanceError(f"--tasks {tasks!r}: use 'all' or ids like 0,3,5") from None
    if policy == "openai" and not (api_url and model):
        raise PhinanceError("the openai policy needs --api-url and --model")
    if ids is not None and (split or base):
        raise PhinanceError("give --tasks, or --split / --base, not both")
    cfg = RolloutConfig(scenario=scenario, tasks=ids, split=split, base=base, policy=policy, repeats=repeats, workers=workers,
                        transport=transport, out=out, seed=seed, max_turns=max_turns,
                        data_dir=str(data_dir) if data_dir else None, openai=_openai(api_url, model, max_tokens),
                        backend=backend, ray_address=address, keep=keep,
                        ray_token_file=str(ray_token_file) if ray_token_file else None)
    if ray_token_file and not (backend == "ray" and address):
        raise PhinanceError("--ray-token-file is for --backend ray --address ADDR (an existing cluster)")
    try:
        with Progress(transient=True) as bar:
            task = bar.add_task("episodes", total=None)
            rows = run(cfg, progress=lambda n: bar.advance(task, n))
    except ValueError as exc:
        raise PhinanceError(str(exc)) from None
    from phinance_env.episodes.data import load_scenario_data

    meta = load_scenario_data(scenario, cfg.data_dir).meta
    _print_summary(summarize(rows, meta))
    typer.echo(f"rows in {out / 'rollouts.jsonl'}; phinance-env report {out} writes the HTML report")


def _print_summary(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for key, label in (("by_tier", "tier"), ("by_template", "template")):
        if set(summary[key]) == {"?"}:
            continue  # a folder without gen_task_meta.jsonl
        table = Table(label, "episodes", "success", "95% CI (Wilson)", title=f"success by {label}")
        for name, r in summary[key].items():
            table.add_row(str(name), str(r["n"]), f"{r['success']:.3f}", f"{r['ci95'][0]:.3f}-{r['ci95'][1]:.3f}")
        console.print(table)
    o = summary["overall"]
    typer.echo(f"{summary['episodes']} episodes: success {o['success']:.3f} (95% CI {o['ci95'][0]:.3f}-{o['ci95'][1]:.3f}); "
               f"mean turns {summary['mean_turns']}; truncated {summary['truncated']}; outcomes {summary['failures']}")
    if "pass_at_k" in summary:
        typer.echo("pass@k " + ", ".join(f"k={k}: {v:.3f}" for k, v in summary["pass_at_k"].items())
                   + "; pass^k " + ", ".join(f"k={k}: {v:.3f}" for k, v in summary["pass_hat_k"].items()))


@run_guarded
def report(
    run_dir: Annotated[Path, typer.Argument(help="a rollout's --out folder (holds rollouts.jsonl)")],
    data_dir: Annotated[Path | None, typer.Option(help="the AWM data folder the rollout used (default: our export)")] = None,
    out: Annotated[Path | None, typer.Option(help="HTML file to write (default RUN_DIR/report.html)")] = None,
) -> None:
    """Write a rollout's results as one self-contained HTML page with plots."""
    from phinance_env.episodes.data import load_scenario_data
    from phinance_env.episodes.report import load_rows, write_report
    from phinance_env.errors import PhinanceError

    try:
        rows = load_rows(run_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise PhinanceError(str(exc)) from None
    meta: dict = {}
    for scenario in sorted({r["scenario"] for r in rows}):
        try:
            meta |= load_scenario_data(scenario, str(data_dir) if data_dir else None).meta
        except (ValueError, KeyError, FileNotFoundError):
            pass  # a foreign scenario: no tiers or templates to group by
    typer.echo(f"wrote {write_report(run_dir, meta, out)}")


def register(app: typer.Typer) -> None:
    app.command("episode")(episode)
    app.command("rollout")(rollout)
    app.command("report")(report)
