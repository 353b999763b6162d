"""``phinance-env report RUN_DIR``: a rollout as one self-contained HTML page (plots inline
as PNG data URIs, no scripts, no network) with success by tier and by template with 95%
Wilson intervals, failure kinds, turns per episode and pass@k / pass^k."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from phinance_env.episodes.stats import evaluate

STYLE = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:980px;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}img{max-width:100%}.note{color:#555}"""


def load_rows(run_dir: Path) -> list[dict]:
    path = Path(run_dir) / "rollouts.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: give the --out folder of a rollout")
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut by a crash
    if not rows:
        raise ValueError(f"{path} holds no episodes")
    return rows


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _plots(summary: dict[str, Any], rows: list[dict]) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    for key, title in (("by_tier", "Success by tier"), ("by_template", "Success by template")):
        groups = summary[key]
        names = list(groups)
        values = [groups[n]["success"] or 0.0 for n in names]
        err = [[v - groups[n]["ci95"][0] for n, v in zip(names, values)],
               [groups[n]["ci95"][1] - v for n, v in zip(names, values)]]
        fig, ax = plt.subplots(figsize=(8, 0.3 * len(names) + 1.2))
        ax.barh(names, values, xerr=err, color="#4a7ab5", capsize=3)
        ax.set_xlim(0, 1)
        ax.set_xlabel("success rate (95% Wilson interval)")
        ax.set_title(title)
        ax.invert_yaxis()
        out[key] = _png(fig)
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 2.5))
    kinds = summary["failures"]
    ax.bar(list(kinds), list(kinds.values()), color="#b5584a")
    ax.set_title("Episodes by outcome")
    out["failures"] = _png(fig)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 2.5))
    ax.hist([r.get("turns", 0) for r in rows], bins=range(0, max(r.get("turns", 0) for r in rows) + 2), color="#6a9a58")
    ax.set_xlabel("turns")
    ax.set_title("Turns per episode")
    out["turns"] = _png(fig)
    plt.close(fig)
    return out


def _table(groups: dict[str, dict], label: str) -> str:
    body = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{v['n']}</td><td>{v['success']:.3f}</td>"
                   f"<td>[{v['ci95'][0]:.3f}, {v['ci95'][1]:.3f}]</td></tr>" for k, v in groups.items())
    return (f"<table><tr><th>{label}</th><th>episodes</th><th>success</th><th>95% CI</th></tr>{body}</table>")


def write_report(run_dir: Path, meta: dict[int, dict] | None = None, out: Path | None = None) -> Path:
    """Write ``report.html`` (or ``out``) for the rollout in ``run_dir``; returns its path."""
    rows = load_rows(run_dir)
    summary = evaluate(rows, meta)
    plots = _plots(summary, rows)
    scenarios = sorted({r["scenario"] for r in rows})
    policies = sorted({r["policy"] for r in rows})
    overall = summary["overall"]
    passk = ""
    if "pass_at_k" in summary:
        cells = "".join(f"<tr><td>{k}</td><td>{summary['pass_at_k'][k]:.3f}</td><td>{summary['pass_hat_k'][k]:.3f}</td></tr>"
                        for k in summary["pass_at_k"])
        passk = f"<h2>Consistency</h2><table><tr><th>k</th><th>pass@k</th><th>pass^k</th></tr>{cells}</table>"
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>phinance-env rollout report</title><style>{STYLE}</style></head><body>
<h1>Rollout report</h1>
<p id="headline">{html.escape(', '.join(scenarios))} &middot; policy {html.escape(', '.join(policies))} &middot;
{summary['episodes']} episodes &middot; success <b>{overall['success']:.3f}</b>
(95% CI {overall['ci95'][0]:.3f}-{overall['ci95'][1]:.3f}) &middot; mean turns {summary['mean_turns']}</p>
<p class="note">Next-day direction is barely predictable: tasks score the agent's use of the tools and the
correctness of what it reports, never a forecast's luck.</p>
<h2>By tier</h2>{_table(summary['by_tier'], 'tier')}<img alt="success by tier" src="{plots['by_tier']}">
<h2>By template</h2>{_table(summary['by_template'], 'template')}<img alt="success by template" src="{plots['by_template']}">
<h2>Outcomes</h2><img alt="outcomes" src="{plots['failures']}">
<table><tr><th>outcome</th><th>episodes</th></tr>{''.join(f'<tr><td>{html.escape(k)}</td><td>{v}</td></tr>' for k, v in summary['failures'].items())}</table>
<h2>Turns</h2><img alt="turns per episode" src="{plots['turns']}">
{passk}
</body></html>
"""
    target = out or Path(run_dir) / "report.html"
    target.write_text(page)
    return target


__all__ = ["load_rows", "write_report"]
