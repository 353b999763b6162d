"""Answer checks judge meaning, not one phrasing.

A policy trained on these rewards learns whatever wording the checks accept. So for every
template whose check reads the answer (or a note's body), a corpus of analyst phrasings runs
through the real ``verify_task_completion`` against real ground truth, on the final state the
oracle's tool calls leave: correct phrasings must score "complete" (false negatives at most 5%),
phrasings with another meaning never (false positives 0). ``pytest -s`` prints the rates.

Placeholders in the corpora are filled from the task's expected values, so the phrasings
follow the data: {call}/{other} are the called and the other direction ({comp} higher/lower,
{verb} rise/fall, {bull} bullish/bearish, {noun} gain/decline; capitalised: {Call}...), {lo}/{hi}
the 75% cone in bps (``_pct``: in percent, ``_frac``: as a fraction, ``_u``: with a unicode minus,
``_w``: outside tolerance), {auc}, {cov}, {w}/{l} and {sw_pct}/{sl_pct} (the more and the less
volatile ticker and their sigmas)... Phrasings that only a role-reading check can reject (another
winner named beside the true one, swapped figures) are measured apart, at the end.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from phinance_env.app.client import AppClient
from phinance_env.awm import load_verifier
from phinance_env.awm.solution import resolve
from phinance_env.awm.verifiers import code_string, run_code_string
from phinance_env.desks import get_desk
from tests.support import fresh_db, phinance_app

MAX_FALSE_NEGATIVES = 0.05
MINUS = "\u2212"

# --- corpora: (correct phrasings, wrong phrasings) per template ---------------------------
PROJECTION_RIGHT = [
    "{t} as of {d}: the next-session call is {comp} (P(up) = {p_up}, P(down) = {p_down}); the 75% cone is [{lo}, {hi}] bps.",
    "**{Call}**. 75% cone: {lo} / {hi} bps. {Other} is almost as likely, so size for the cone rather than the call.",
    "Next session: {call}, though it is close to a coin flip (P({call}) {pc} vs P({other}) {po}). 75% cone: {lo_pct} to {hi_pct}.",
    "- Direction: `{call}`\n- 75% cone: [{lo_u}, {hi}] bps\n- P({other}) = {po}",
    "The model leans {comp} for {t}: a {noun} is slightly more likely than a {onoun}, with a 75% cone of {lo}bp to {hi}bp.",
    "{Bull} tilt, barely: P(up) {p_up_pct} vs P(down) {p_down_pct}. The 75% band runs from {lo_frac} to {hi_frac} in log-return terms.",
    "Call: {call} (weak, {other} is a close second). Cone (75%): {lo} bps on the downside, {hi} bps on the upside.",
    "I'd call it {call} over {other}, {pc} to {po}; the 75% range is {lo}/{hi} bps.",
    "{t} is expected to close {comp} next session. 75% cone: {lo} bps to {hi} bps.",
    "Projection for {t} ({d}): {call}. It is not a strong signal, P({other}) is {po}, and the 75% cone spans {lo_x} to {hi_x} bps.",
    "Up or down? {Call}, narrowly. 75% cone [{lo}, {hi}] bps.",
    "Direction call: {bull}. The 75% cone is {lo_pct}/{hi_pct} around the drift.",
    "| metric | value |\n|---|---|\n| direction | {call} |\n| 75% cone (bps) | {lo} to {hi} |",
    "The one-session view is {call} rather than {other}; the 75% cone is {lo} bps / {hi} bps.",
    "Modestly {bull}: the projection favours a {noun} (p = {pc}). Three times out of four the next close should land within {lo} to {hi} bps.",
    "{Call}. P(up)={p_up}, P(down)={p_down}. 75%: [{lo_u}bp, {hi}bp].",
    "Short answer: {comp}. Longer answer: the edge is tiny, with {other} nearly as likely, and the 75% cone is roughly {lo_pct} to {hi_pct}.",
    "Next-session direction for {t}: {call} ({pc_pct} vs {po_pct} {other}). The 75% cone runs from {lo} to {hi} basis points.",
    "We see {t} drifting {comp}, but only just; the 75% interval is {lo} to {hi} bps.",
    "{Call}-move favoured for the next session, the 75% cone being {lo_frac} / {hi_frac}.",
    "On balance {call}, not {other}. 75% cone: {lo} and {hi} bps.",
    "Next session: more likely to {verb} than to {overb} (P(up) {p_up}, P(down) {p_down}). 75% cone = {lo_pct} .. {hi_pct}.",
    "The call for {t} is {call}, with P({other}) at {po} close behind. 75% cone: [{lo}, {hi}] bps.",
    "{Bull}. Cone at 75%: {lo} bps (lower bound) to {hi} bps (upper bound).",
    "The projection points {comp} for the next session; a move of up to {hi_abs} bps either way stays inside the 75% cone [{lo}, {hi}].",
    "Verdict: {call}. Don't read much into it, {other} is almost as likely. The 75% cone: {lo_u} bps to +{hi_abs} bps.",
    "Based on the projection as of {d}, I'd lean {call} for the next session, but with P(up) at {p_up} and P(down) at {p_down} "
    "this is close to a coin flip. The more useful number is the 75% cone, which spans {lo} to {hi} bps; size positions for "
    "that range rather than for the direction.",
    "{Comp} (P(up) {p_up}); 75% cone {lo_pct}\u2013{hi_pct}.",
]
PROJECTION_WRONG = [
    "{t} as of {d}: the next-session call is {ocomp} (P(up) = {p_up}, P(down) = {p_down}); the 75% cone is [{lo}, {hi}] bps.",
    "**{Other}**. 75% cone: {lo} / {hi} bps.",
    "Call: {other}, though {call} is almost as likely. Cone [{lo}, {hi}] bps.",
    "The next session could go {call} or {other}; 75% cone [{lo}, {hi}] bps.",
    "{Call} and {other} are equally likely... call: {call} and {other}. 75% cone [{lo}, {hi}] bps.",
    "Too close to call: P(up) {p_up}, P(down) {p_down}. 75% cone [{lo}, {hi}] bps.",
    "Either {call} or {other}; cone [{lo}, {hi}] bps.",
    "Not {call}: the model leans {other}. Cone [{lo}, {hi}] bps.",
    "Call: {call}. 75% cone: [{lo_w}, {hi}] bps.",
    "{Call}; 75% cone {lo} to {hi_w} bps.",
    "{Call}; the 75% cone is [{lo}%, {hi}%].",
    "{Call}; the 75% cone is [{lo_pct_num}, {hi_pct_num}] bps.",
    "{Call}; the 75% cone is {lo_abs} to {hi} bps.",
    "{Obull} rather than {bull}; cone [{lo}, {hi}] bps.",
    "The model favours a {onoun}; 75% cone [{lo}, {hi}] bps.",
    "{t} is expected to close {ocomp}; 75% cone {lo} to {hi} bps.",
    "Flat. 75% cone [{lo}, {hi}] bps.",
    "The direction is neutral; 75% cone [{lo}, {hi}] bps.",
    "Call: {call} (P(up) {p_up}, P(down) {p_down}).",
    "Call: {call}. The 75% cone is up to {hi_abs} bps wide.",
    "Higher or lower? Too close to call; 75% cone [{lo}, {hi}] bps.",
    "I would not call it {call}; 75% cone [{lo}, {hi}] bps.",
    "{Call}, {other} or flat: all sit within the 75% cone of [{lo}, {hi}] bps.",
    "Next session: {ocomp}, with {call} a close second. 75% cone [{lo}, {hi}] bps.",
    "{Other} rather than {call}. 75% cone [{lo}, {hi}] bps.",
    "The {call} case and the {other} case are balanced; 75% cone [{lo}, {hi}] bps.",
    "Call: {call}; 50% cone [{lo50}, {hi50}] bps.",
    "P(up) = {p_up}, P(down) = {p_down}; 75% cone [{lo}, {hi}] bps.",
    "~~{Call}~~ {Other}. 75% cone [{lo}, {hi}] bps.",
    "{Call} is less likely than {other}; 75% cone [{lo}, {hi}] bps.",
]

NOTE_RIGHT = [
    "{t} as of {d}: the next-session call is {call} (P(up) = {p_up}, P(down) = {p_down}); the 75% cone is [{lo}, {hi}] bps.",
    "{t}, {d}: call {call}, 75% cone [{lo}, {hi}] bps.",
    "Direction: **{call}** (weak). 75% cone: {lo_pct} / {hi_pct}.",
    "- Call: {comp}\n- 75% cone: {lo} to {hi} bps\n- {Other} is almost as likely",
    "Next-session view: {bull}, barely. Cone (75%): {lo_frac} to {hi_frac}.",
    "Leaning {call} for the next session, with P({other}) at {po}; 75% cone {lo}bp/{hi}bp.",
    "Projection says {comp} (P(up) {p_up} vs P(down) {p_down}). The 75% cone spans {lo_u} to {hi} bps.",
    "{Call} over {other}. 75% cone: [{lo}, {hi}] bps. Size for the cone, not the call.",
    "A small {noun} is slightly more likely than a {onoun}. 75% range: {lo} bps to {hi} bps.",
    "{t} should close {comp} next session (coin-flip territory). 75% cone = {lo_pct}..{hi_pct}.",
    "Call {call}; 75% cone from {lo} (lower bound) to {hi} (upper bound) bps.",
    "Tilted {call}: P({call}) {pc}, P({other}) {po}. Cone75: {lo}/{hi} bps.",
    "{Bull} lean; the 75% cone runs {lo} to {hi} bps around the drift.",
    "The next-session call is {call} rather than {other}. 75% cone: {lo_x} / {hi_x} bps.",
    "Up or down? {Call}, narrowly. 75% cone [{lo}, {hi}] bps.",
    "{t}: {call} (P={pc}); cone(75%) = [{lo_u}, +{hi_abs}] bps.",
    "Expect a {noun}, but only just. The 75% band is {lo_pct} to {hi_pct}.",
    "Next session: {call}. With {other} a close second, the 75% cone of {lo} to {hi} bps matters more.",
    "Direction call: {comp}. Cone at 75%: {lo} bps / {hi} bps.",
    "Summary: {call}; 75% cone [{lo}, {hi}] bps; P({other}) = {po}.",
    "{Call}. (75%: {lo_pct}, {hi_pct})",
    "View for the next session is {call}, not {other}; the 75% cone runs from {lo_frac} to {hi_frac} as a log return.",
]
NOTE_WRONG = [
    "{t} as of {d}: the next-session call is {other} (P(up) = {p_up}, P(down) = {p_down}); the 75% cone is [{lo}, {hi}] bps.",
    "{t}, {d}: call {other}, 75% cone [{lo}, {hi}] bps.",
    "Direction: **{ocomp}**. 75% cone: {lo_pct} / {hi_pct}.",
    "- Call: {call} or {other}\n- 75% cone: {lo} to {hi} bps",
    "Next-session view: {obull}. Cone (75%): {lo_frac} to {hi_frac}.",
    "No directional call (P(up) {p_up}, P(down) {p_down}); 75% cone {lo}/{hi} bps.",
    "Call: {call}; 75% cone [{lo_w}, {hi}] bps.",
    "Call: {call}; 75% cone [{lo}, {hi_w}] bps.",
    "Call: {call}; 75% cone [{lo}%, {hi}%].",
    "Call: {call}; the 75% cone is about {hi_abs} bps wide.",
    "Call: {call}.",
    "75% cone [{lo}, {hi}] bps.",
    "{Other} over {call}. 75% cone [{lo}, {hi}] bps.",
    "A small {onoun} is slightly more likely than a {noun}. 75% cone {lo} to {hi} bps.",
    "{Call}, {other} or flat; 75% cone [{lo}, {hi}] bps.",
    "Not {call}. 75% cone [{lo}, {hi}] bps.",
    "Sideways: 75% cone [{lo}, {hi}] bps.",
    "{t} should close {ocomp} next session; 75% cone [{lo}, {hi}] bps.",
    "Call: {call}; cone [{lo_pct_num}, {hi_pct_num}] bps.",
    "Either way: {call} and {other} are a coin flip. 75% cone [{lo}, {hi}] bps.",
    "Direction: {other}, with {call} almost as likely. 75% cone [{lo}, {hi}] bps.",
    "Call: {call}; 75% cone [{lo_abs}, {hi}] bps.",
]

GATE_RIGHT = [  # the truth is FAIL
    "The backtest fails the gate: mean out-of-sample AUC {auc}.",
    "It does not pass the gate (mean OOS AUC {auc}).",
    "Gate: **FAIL**. Mean OOS AUC = {auc}, below the 0.52 threshold.",
    "No, the walk-forward run fails to pass the AUC gate; the mean out-of-sample AUC is {auc_pct}.",
    "Not a pass. Mean out-of-sample AUC {auc}, no better than a coin flip.",
    "Verdict: _fail_ (mean OOS AUC `{auc}`).",
    "- Gate verdict: FAIL\n- Mean OOS AUC: {auc}\n- Reading: direction is not predictable here",
    "Mean OOS AUC comes in at {auc}; that misses the 0.52 threshold, so the gate fails.",
    "The strategy would need an AUC of at least 0.52 to pass; at {auc} it doesn't.",
    "Does it pass? No. Mean out-of-sample AUC is {auc}.",
    "FAIL: mean OOS AUC {auc} (the gate needs \u2265 0.52 and a CI lower bound above 0.5).",
    "The gate is not passed: pooled mean out-of-sample AUC of {auc}.",
    "Result: the AUC gate says fail. Mean OOS AUC {auc_pct}.",
    "Passes gate: No (mean OOS AUC {auc}).",
    "The backtest falls short of the gate, with a mean out-of-sample AUC of {auc}.",
    "Failed. Mean out-of-sample AUC: {auc}.",
    "It doesn't clear the gate: mean OOS AUC {auc}, basically a coin flip.",
    "Mean OOS AUC {auc}. Verdict: does not pass.",
    "At {auc} mean out-of-sample AUC, the backtest is a gate failure.",
    "The run does not pass the AUC gate. Its mean out-of-sample AUC is {auc}, so there is no usable directional edge.",
    "Gate: not a pass (AUC {auc} out of sample, averaged over folds).",
    "Short version: fail. Mean OOS AUC = {auc}.",
    "With a mean OOS AUC of {auc}, the model fails the AUC gate; it is not close to passing.",
    "The gate rule is PASS when pooled AUC \u2265 0.52 with the CI lower bound > 0.5; this backtest FAILS (mean OOS AUC {auc}).",
    "No pass: mean out-of-sample AUC {auc_short}.",
    "Mean OOS AUC {auc}: the gate is failed.",
]
GATE_WRONG = [
    "The backtest passes the gate: mean out-of-sample AUC {auc}.",
    "It does not fail the gate (mean OOS AUC {auc}).",
    "Gate: PASS. Mean OOS AUC = {auc}.",
    "Passes gate: Yes (mean OOS AUC {auc}).",
    "It clears the gate with a mean OOS AUC of {auc}.",
    "Pass or fail? Hard to say; mean OOS AUC {auc}.",
    "The gate result is borderline: mean OOS AUC {auc}.",
    "It passes and fails depending on the fold; mean OOS AUC {auc}.",
    "FAIL: mean OOS AUC {auc_w}.",
    "The backtest fails the gate: mean out-of-sample AUC {auc_pct_w}.",
    "Fails the gate.",
    "The backtest fails the gate: the AUC threshold is 0.52.",
    "Not a fail: mean OOS AUC {auc}.",
    "It would pass if the threshold were 0.45; mean OOS AUC {auc}.",
    "The AUC is {auc}, which is enough to pass.",
    "Verdict: pass (mean OOS AUC {auc}).",
    "The cones pass their coverage test; mean OOS AUC {auc}.",
    "It is not clear whether it passes; mean OOS AUC {auc}.",
    "Doesn't fail. AUC {auc}.",
    "The gate is passed, barely: mean OOS AUC {auc}.",
    "It fails the gate: the mean out-of-sample AUC is {auc_w2}.",
    "FAIL. Mean OOS AUC {auc}%.",
    "The backtest passes the gate even though the mean OOS AUC is only {auc}.",
    "Pass: the mean OOS AUC of {auc} is what the gate expects from a coin flip.",
]

VOL_RIGHT = [
    "{w} is projected to be more volatile: annualized sigma {w} {sw_pct}, {l} {sl_pct}.",
    "{w} (\u03c3 {sw_pct} annualized) is more volatile than {l} ({sl_pct}).",
    "{l} is less volatile than {w}: {sl_pct} vs {sw_pct} annualized.",
    "More volatile: **{w}**. Annualized volatility {w} {sw_frac}, {l} {sl_frac}.",
    "- {w}: {sw_pct}\n- {l}: {sl_pct}\n\n{w} is the more volatile of the two.",
    "Annualized vol: {w} {sw_pct2}, {l} {sl_pct2}. {w} wins on volatility.",
    "{w} has the higher projected volatility ({sw_pct} vs {sl_pct} for {l}).",
    "{l} looks calmer at {sl_pct} annualized; {w} runs hotter at {sw_pct}.",
    "| ticker | annualized \u03c3 |\n|---|---|\n| {w} | {sw_pct} |\n| {l} | {sl_pct} |\n\n{w} is more volatile.",
    "{w}. Its next-session annualized volatility is {sw_pct} versus {sl_pct} for {l}.",
    "Projected annualized volatility as of {d}: {w} {sw_frac}, {l} {sl_frac}; {w} is the more volatile name.",
    "Expect bigger swings in {w} ({sw_pct} annualized) than in {l} ({sl_pct}).",
    "{w} > {l} on projected vol: {sw_pct} vs {sl_pct} annualized.",
    "Answer: {w}, at {sw_pct} annualized, against {l}'s {sl_pct}.",
    "Volatility (annualized): {l} = {sl_frac}; {w} = {sw_frac}. The more volatile one is {w}.",
    "{w}'s projected annualized vol is {sw_pct}, higher than {l}'s {sl_pct}.",
    "Of {w} and {l}, {w} is projected to be more volatile next session (annualized sigma {sw_pct} vs {sl_pct}).",
    "{w} is the riskier name: \u03c3_ann = {sw_pct} (vs {sl_pct} for {l}).",
    "More volatile: {w} ({sw_pct}). Less volatile: {l} ({sl_pct}).",
    "Both are fairly quiet, but {w} ({sw_pct}) edges out {l} ({sl_pct}) on annualized volatility.",
    "The higher annualized volatility belongs to {w}: {sw_pct} against {sl_pct} for {l}.",
    "{w}: annualized sigma {sw_pct}; {l}: {sl_pct}. So {w} is more volatile.",
]
VOL_WRONG = [
    "{w} is projected to be more volatile: annualized sigma {w} {sw_w}, {l} {sl_pct}.",
    "{w} is more volatile: {sw_pct} vs {sl_w} for {l}.",
    "{w} is more volatile: {w} {sw_frac}%, {l} {sl_frac}%.",
    "{w} is more volatile: daily sigma {w} {sw_daily}, {l} {sl_daily}.",
    "{w} is more volatile ({sw_pct}).",
    "{w} is more volatile.",
    "{l} is more volatile ({sl_pct} vs {sw_pct}).",
    "{l} wins: annualized volatility {sl_pct} against {sw_pct}.",
    "They are about equally volatile, both near {sw_pct} and {sl_pct}.",
    "{w} is more volatile: {sw_int}% vs {sl_int}%.",
    "More volatile: {w}. Annualized volatility: {sw_bps_as_pct}, {l} {sl_pct}.",
    "{w} is more volatile: annualized sigma {w} {sw_frac_w}, {l} {sl_frac}.",
    "{w} (annualized {sw_pct}) vs {l} (annualized {sl_w2}): {w} is more volatile.",
    "{l}: {sl_pct}. Higher volatility: {l}.",
    "Higher volatility: the second one, at {sw_pct} vs {sl_pct}.",
    "{w} is more volatile, but I did not get the annualized numbers.",
    "{w} is more volatile: {sw_month} vs {sl_month} (monthly).",
    "| ticker | \u03c3 |\n|---|---|\n| {w} | {sw_w} |\n| {l} | {sl_pct} |",
    "{w} is more volatile with sigma {sw_bp_wrong} bps vs {sl_pct}.",
    "{l} is the more volatile name: {sl_pct} against {sw_pct}.",
]

TRACK_RIGHT = [
    "{t} is now tracked. Its next-session 90% cone as of {d} runs from {lo} to {hi}.",
    "Tracking {t}. 90% cone for the next session: ${lo} \u2013 ${hi}.",
    "Done: {t} added to tracking. Next-session 90% price range: {lo}\u2013{hi}.",
    "90% cone: [{lo}, {hi}].",
    "- Tracked: {t}\n- 90% cone (next session): **{lo}** to **{hi}**",
    "{t} closes between {lo1} and {hi1} with 90% probability next session (projection as of {d}).",
    "Started tracking {t}. The 90% cone puts the next close between ${lo} and ${hi}.",
    "Lower bound {lo}, upper bound {hi} (90% cone, next session).",
    "{t}: 90% cone {lo} / {hi} USD.",
    "The 90% band for {t}'s next close is {lo} to {hi}; {t} is on the tracked list now.",
    "Next-session 90% cone for {t} (as of {d}): low {lo}, high {hi}.",
    "{t} is tracked. 90% cone \u2192 {lo} \u2026 {hi}.",
    "Price range (90%): from `{lo}` up to `{hi}`.",
    "I started tracking {t} and projected it as of {d}: there is a 90% chance the next close lands in {lo}\u2013{hi}.",
    "90% cone, next session: {lo4} to {hi4}.",
    "{t} (tracked): 90% cone {lo} \u2192 {hi}.",
    "Range at 90%: {lo} to {hi} for {t}'s next session.",
    "Tracked {t}; next-session 90% cone is {lo}-{hi}.",
    "From {lo} on the downside to {hi} on the upside: that's the 90% cone for {t} next session.",
    "The 90% cone spans {lo} (5th percentile) to {hi} (95th percentile).",
    "{t} added. 90% next-session cone: {lo1}\u2013{hi1} (rounded).",
    "Cone (90%): {lo} \u2264 next close \u2264 {hi}.",
]
TRACK_WRONG = [
    "{t} is now tracked. Its next-session 90% cone runs from {lo75} to {hi75}.",
    "{t} is tracked; 90% cone {lo_w} to {hi}.",
    "{t} is tracked; 90% cone {lo} to {hi_w}.",
    "{t} is tracked; 90% cone: \u22124.2% / +3.8% around the last close.",
    "{t} is tracked; 90% cone [-420, +380] bps.",
    "{t} is tracked; 90% cone about {lo0} to {hi0}.",
    "{t} is tracked.",
    "{t} is tracked; the upper end of the 90% cone is {hi}.",
    "{t} is tracked; the lower end of the 90% cone is {lo}.",
    "90% cone: [{lo10}, {hi10}].",
    "{t} tracked. 90% cone: ${lo_up} \u2013 ${hi_up}.",
    "- Tracked: {t}\n- 90% cone: **{lo_dn}** to **{hi_dn}**",
    "90% cone {lo}%\u2013{hi}%.",
    "{t} is tracked; next-session 90% cone {lo_w}\u2013{hi_w}.",
    "Tracking {t}. 90% cone runs from {mid} \u00b1 7.",
    "Tracking {t}. 90% cone width: {width}.",
    "Tracking {t}. 90% cone: {lo} to {hi_75}.",
    "{t} tracked; 90% cone ({d}): {lo_swapdigits} to {hi}.",
    "Tracking {t}: the 90% cone is 171 to 186.",
    "Tracking {t}: 90% cone {lo_k}k to {hi_k}k.",
]

PRICE_RIGHT = [
    "{t} closed at {c}; the highest high in that window was {h}.",
    "Close on {d}: ${c}. Highest high over the {n} sessions: ${h}.",
    "- Close: **{c}**\n- Max high ({n} sessions): **{h}**",
    "It closed at {c_plain} and the {n}-session high was {h_plain}.",
    "{t} finished {d} at {c}, well below the window's highest high of {h}.",
    "Close {c} | highest high {h}",
    "The close was {c}. Over the {n} sessions ending that day, the highest intraday high was {h}.",
    "Highest high: {h}. Close: {c}.",
    "{c} (close) and {h} (highest high).",
    "On {d} the index settled at {c}; its peak high in the prior {n} sessions was {h}.",
    "Closing level: {c}; {n}-session max high: {h}. The close sits about {drop_pct}% below that high.",
    "The close: `{c}`. The highest high: `{h}`.",
    "{t}: close {c4} / max high {h4}",
    "At the close on {d}, {t} stood at {c}. The highest high in the {n}-session window ending then was {h}, so it ended far below it.",
    "Close = {c}, highest high = {h} (both in index points).",
    "It closed at {c} points; the highest high across the window was {h} points.",
    "The {d} close was {c}, and {h} was the highest high of the last {n} trading sessions.",
    "{t} {d}: C {c}, max(H) {h}.",
    "Closed: {c}. Window high (highest high): {h}.",
    "| close | highest high |\n|---|---|\n| {c} | {h} |",
    "Close {c}; high of the window {h}.",
    "It ended the day at {c}; the highest high in those {n} sessions was {h}.",
]
PRICE_WRONG = [
    "{t} closed at {c_w}; the highest high in that window was {h}.",
    "{t} closed at {c}; the highest high in that window was {c}.",
    "{t} closed at {c}; the highest high was about {h0}.",
    "{t} closed at about {c0}; the highest high was {h}.",
    "{t} closed at {c}.",
    "The highest high in that window was {h}.",
    "Close {c_up}, highest high {h}.",
    "Close {c}, highest high {h_up}.",
    "- Close: **{c_dn}**\n- Max high: **{h}**",
    "Close {c_k}k; highest high {h_k}k.",
    "Close ${c}; highest high ${h_w}.",
    "The close was {c}%; the highest high {h}%.",
    "{t} closed at {c_digits}; highest high {h}.",
    "Close {c}; highest high {h_digits}.",
    "It closed at {c}, down {drop_pct}% from the high.",
    "| close | highest high |\n|---|---|\n| {c_w} | {h_w} |",
    "Close: {h}. Highest high: {h}.",
    "The close was {c}; the window's highest close was {hc}.",
    "Close {c}; highest high {h_1dec_w}.",
    "{t} closed at {c}, and the highest high was {h_tenth}.",
]

RANK_RIGHT = [
    "{w} has the highest P(up) ({pw}); added it to 'Ideas'.",
    "Top pick: **{w}** (P(up) {pw}). It is now on the Ideas watchlist.",
    "Of {all}, {w} has the highest projected probability of rising ({pw}); I added it to Ideas.",
    "{w} leads the {sector} names with P(up) = {pw}; added to Ideas.",
    "The winner is {w} ({pw_pct}). Added to the Ideas list.",
    "Added {w} (highest P(up), {pw}) to 'Ideas'.",
    "{w}: {pw} P(up), the best of the four. Now on Ideas.",
    "- Highest P(up): {w} ({pw})\n- Action: added to 'Ideas'",
    "Highest next-session P(up) among the {sector} stocks: {w} at {pw}. Watchlist 'Ideas' updated.",
    "{w} edges out {r} and is now on Ideas (P(up) {pw}).",
    "{r} comes second; {w} is first at {pw} and was added to Ideas.",
    "{w}. P(up) {pw}; added.",
    "The most likely to rise next session is {w} (P(up) {pw}); it has been added to 'Ideas'.",
    "All four are below 0.5, but {w} is highest at {pw}. Added it to Ideas.",
    "Added {w} to the 'Ideas' watchlist: it ranks first by P(up) ({pw}).",
    "| ticker | P(up) |\n|---|---|\n| {w} | {pw} |\n\n{w} goes on Ideas.",
    "{w} has the best odds of an up move ({pw_pct}). Added to Ideas.",
    "Done: {w} (top P(up), {pw}) is on the Ideas watchlist now.",
    "Among {all}, the top P(up) belongs to {w} ({pw}).",
    "{w} tops the sector on P(up) ({pw}); I put it on 'Ideas'.",
    "{sector} ranked by P(up): {w} first ({pw}), then {r}. {w} added to Ideas.",
    "Winner: {w} at {pw}. Ideas watchlist updated.",
]
RANK_WRONG = [
    "{r} has the highest P(up) ({pw}); added it to 'Ideas'.",
    "Top pick: **{r}**.",
    "{r} leads the {sector} names on P(up); added to Ideas.",
    "The winner is {r}.",
    "Added the top name to Ideas.",
    "It pays to check the ranking: {r} has the highest P(up).",
    "Highest P(up): {r} at {pw}.",
    "None of the {sector} stocks has P(up) above 0.5; I added {r} anyway.",
    "{wlow} has the highest P(up); added it to Ideas.",
    "{r2} (P(up) {pw}) added to Ideas.",
    "The most likely to rise is {r2}.",
    "{r} edges out the rest; on Ideas now.",
    "Added {r} to the 'Ideas' watchlist: it ranks first by P(up).",
    "| ticker | P(up) |\n|---|---|\n| {r} | {pw} |\n\n{r} goes on Ideas.",
    "Winner: {w_typo}.",
    "Top P(up) belongs to {r2}; it pays to be early.",
    "I could not rank them; added nothing.",
    "{r} tops the sector; I put it on 'Ideas'.",
    "Best odds of an up move: {r}.",
    "The answer is {w_lower}, added to Ideas.",
]

BNOTE_RIGHT = [  # the truth is FAIL
    "75% cone coverage {cov} (nominal 0.75). Gate verdict: FAIL.",
    "Coverage of the 75% cone: {cov_pct} vs 75% nominal. The AUC gate fails.",
    "- 75% coverage: {cov}\n- Gate: **FAIL**",
    "Cones held up reasonably ({cov} coverage at 75%), but the direction gate did not pass.",
    "The backtest fails the gate; 75% cone coverage was {cov}.",
    "Gate: not passed. 75% coverage {cov_pct}.",
    "Coverage75 = {cov}; verdict = FAIL",
    "{cov_pct} of next-day closes fell inside the 75% cone (target 75%). Direction gate: fail.",
    "Kupiec-style check: coverage {cov} is close to 0.75 and passes; the AUC gate, however, fails.",
    "{period}: coverage {cov} at the 75% level; gate FAIL (AUC near 0.5).",
    "Verdict: FAIL. The 75% cone covered {cov_pct} of outcomes.",
    "The gate is failed, while the 75% cone's coverage ({cov}) is about right.",
    "Does it pass the gate? No. 75% coverage: {cov}.",
    "75% cone hit rate {cov}; direction gate doesn't pass.",
    "Coverage (75% cone): {cov}. AUC gate: not a pass.",
    "FAIL on the gate; calibration is fine with 75% coverage of {cov}.",
    "Walk-forward over {period}: the 75% cones covered {cov} of sessions, and the backtest failed the AUC gate.",
    "Gate: fail. Cone coverage at 75%: {cov}.",
    "The direction model fails to pass the gate. Coverage of the 75% cone: {cov_pct}.",
    "Coverage {cov} for the 75% cone, slightly under nominal; gate result: FAIL.",
    "No pass on the gate; 75% coverage came in at {cov}.",
    "AUC gate: FAIL \u274c | 75% coverage: {cov}",
]
BNOTE_WRONG = [
    "75% cone coverage {cov} (nominal 0.75). Gate verdict: PASS.",
    "75% coverage {cov_w}. Gate: FAIL.",
    "Coverage {cov}; the gate passes.",
    "Coverage {cov} and it passes.",
    "Gate: FAIL.",
    "75% cone coverage {cov}.",
    "Coverage passes at {cov}.",
    "Coverage {cov}; the gate passes and fails across folds.",
    "Coverage {cov}; the gate doesn't fail.",
    "Coverage {cov}; pass/fail undecided.",
    "Gate: PASS \u2705; coverage {cov}.",
    "Coverage {cov_pct_w}; FAIL.",
    "The gate would fail at a 0.55 threshold; coverage {cov}.",
    "Coverage {cov}; gate result: borderline.",
    "FAIL? No. Coverage {cov}.",
    "Not a fail: coverage {cov}.",
    "Coverage {cov}; the backtest passes the AUC gate.",
    "Coverage 75% (nominal); gate FAIL.",
    "Gate FAIL; 90% cone coverage {cov_90}.",
    "Coverage {cov}%; gate FAIL.",
    "Coverage {cov}. The gate verdict is PASS, even though coverage is under nominal.",
]

# Written after the helpers, without running them, and measured once before any change:
# false negatives 4/51 (a numbered list read "1. Direction: up\n2." as a probability, "101 bps
# below", "higher-biased", "a pass needs 0.52"), false positives 0/51. Each is read now.
HOLDOUT = {
    "projection_answer": ([
        "Here's the projection for {t} as of {d}:\n\n**Direction (next session):** {Call}: P(up) = {p_up}, P(down) = {p_down}\n"
        "**75% cone:** {lo} bps to {hi} bps\n\nThe edge is small; treat the direction as close to a coin flip.",
        "For the next trading session, {t} is marginally more likely to move {call} than {other} ({pc} vs {po}). The 75% "
        "confidence cone spans {lo_pct} to {hi_pct}.",
        "Projected direction: {Call}. 75% cone: [{lo}, {hi}] bps (lower / upper).",
        "The model gives a slight {bull} edge for {t} on the next session. Its 75% cone is {lo_u} to {hi} bps.",
        "{t} ({d}) \u2192 next session: {call} (probability {pc}). 75% interval: {lo}/{hi} bp.",
        "Answer: the projected next-session direction is {call}, and the 75% cone is from {lo} bps to {hi} bps.",
        "Direction: {call} ({pc_pct} chance). Cone (75%): {lo} to {hi} basis points. Note that the {other} probability is "
        "{po}, so conviction is low.",
        "1. Direction: {call}\n2. 75% cone (bps): lower {lo}, upper {hi}",
        "The next-session projection for {t} tilts {call}; the 75% cone is roughly \u00b11% ({lo} bps / {hi} bps).",
        "Slightly {bull}. 75% cone {lo_pct} to {hi_pct} (i.e. {lo} to {hi} bps).",
        "As of {d}, {t}'s next-session call: {call}. The 75% cone extends {lo_abs} bps below and {hi_abs} bps above the "
        "current level.",
        "{Call} is the call, with P({call}) = {pc} against {po} for {other}. The 75% cone: {lo}, {hi} (bps).",
    ], [
        "Here's the projection for {t}:\n\n**Direction:** {Other}: P(up) = {p_up}, P(down) = {p_down}\n**75% cone:** {lo} to {hi} bps",
        "{t} is marginally more likely to move {other} than {call}. 75% cone {lo_pct} to {hi_pct}.",
        "Projected direction: none (coin flip). 75% cone [{lo}, {hi}] bps.",
        "The model gives a slight {obull} edge. 75% cone {lo} to {hi} bps.",
        "Direction: {call}. 75% cone: {lo_w2} to {hi} bps.",
        "Direction: {call}/{other} (too close). 75% cone [{lo}, {hi}] bps.",
        "1. Direction: {other}\n2. 75% cone (bps): lower {lo}, upper {hi}",
        "Direction: {call}. 90% cone: [{lo90}, {hi90}] bps.",
        "Slightly {obull}. 75% cone {lo_pct} to {hi_pct}.",
        "The next session is a coin flip between {call} and {other}; 75% cone [{lo}, {hi}] bps.",
        "{Other} is the call, with P({other}) = {po}. The 75% cone: {lo}, {hi} (bps).",
        "Direction: {call}. 75% cone: {lo_pct_num} to {hi_pct_num} (in bps).",
    ]),
    "projection_note": ([
        "{t} next-session projection ({d})\n- Direction: {call}\n- 75% cone: {lo} to {hi} bps",
        "Call {call} (P(up) {p_up}, P(down) {p_down}); 75% cone [{lo_pct}, {hi_pct}].",
        "Slight {bull} lean; cone(75%) {lo}/{hi} bps.",
        "Next session looks {comp}-biased; 75% cone runs {lo} bps to {hi} bps.",
    ], [
        "{t} next-session projection\n- Direction: {other}\n- 75% cone: {lo} to {hi} bps",
        "Call {call} (P(up) {p_up}); 75% cone [{lo_w}, {hi}].",
        "Slight {obull} lean; cone(75%) {lo}/{hi} bps.",
        "Direction unclear; cone(75%) {lo}/{hi} bps.",
    ]),
    "backtest_gate": ([
        "**Gate verdict: FAIL**\n\nMean out-of-sample AUC across folds: {auc} (threshold 0.52). The model has no reliable "
        "directional skill over this period.",
        "The backtest did not pass the AUC gate. Mean OOS AUC was {auc}.",
        "No. The mean out-of-sample AUC is {auc}, under the 0.52 gate, so it fails.",
        "Mean OOS AUC: {auc_pct}. Gate: \u2717 FAIL",
        "It fails. Mean out-of-sample AUC = {auc}; a pass needs at least 0.52 with the CI's lower bound above 0.5.",
        "Gate status: failed (mean OOS AUC {auc}).",
        "The walk-forward backtest of {tk} over {start} to {end} does not clear the AUC gate; mean out-of-sample AUC {auc}.",
        "Result: FAIL. The average out-of-sample AUC over the folds is {auc}, i.e. no better than random.",
        "It doesn't pass: mean OOS AUC = {auc}.",
        "Passed the gate? No: the mean out-of-sample AUC is only {auc}.",
    ], [
        "**Gate verdict: PASS**\n\nMean out-of-sample AUC: {auc}.",
        "The backtest passed the AUC gate. Mean OOS AUC was {auc}.",
        "Yes. The mean out-of-sample AUC is {auc}, so it passes.",
        "Mean OOS AUC: {auc_pct}. Gate: \u2713 PASS",
        "It fails. Mean out-of-sample AUC = 0.52.",
        "Gate status: failed (mean OOS AUC {auc_w}).",
        "The walk-forward backtest clears the AUC gate; mean out-of-sample AUC {auc}.",
        "Result: inconclusive. Mean OOS AUC {auc}.",
        "It doesn't fail: mean OOS AUC = {auc}.",
        "Passed the gate? Yes: mean OOS AUC {auc}.",
    ]),
    "volatility_compare": ([
        "**{w}** is projected to be more volatile.\n\n| Ticker | Annualized \u03c3 |\n|---|---|\n| {w} | {sw_pct} |\n| {l} | {sl_pct} |",
        "As of {d}, {w} has higher projected volatility than {l}: {sw_pct} vs. {sl_pct} annualized.",
        "{w}: annualized volatility {sw_frac} ({sw_pct}); {l}: {sl_frac} ({sl_pct}). {w} is the more volatile.",
        "The more volatile of the two is {w}, with an annualized sigma of {sw_pct2}, compared with {sl_pct2} for {l}.",
        "Annualized vol {w}: {sw_pct}. Annualized vol {l}: {sl_pct}. So {w}.",
        "Projected next-session volatility (annualized): {w} \u2248 {sw_pct}, {l} \u2248 {sl_pct} \u2192 {w} is more volatile.",
    ], [
        "**{l}** is projected to be more volatile.\n\n| Ticker | Annualized \u03c3 |\n|---|---|\n| {w} | {sw_w} |\n| {l} | {sl_pct} |",
        "{w} has higher projected volatility: {sw_daily} vs {sl_daily} (daily).",
        "{w}: {sw_pct}; {l}: n/a.",
        "Annualized vol {w}: {sw_w}. Annualized vol {l}: {sl_pct}. So {w}.",
        "{l} is more volatile than {w}.",
        "Projected volatility: {w} {sw_frac_w}, {l} {sl_frac}.",
    ]),
    "track_and_project": ([
        "\u2705 {t} is now being tracked.\n\n**90% cone (next session, as of {d}):** {lo} \u2013 {hi}",
        "{t} tracked. Projection as of {d}: there's a 90% probability the next close falls between ${lo} and ${hi}.",
        "90% cone for {t}: lower {lo}, upper {hi}.",
        "Tracking started. Next-session price range at 90% confidence: {lo} to {hi} (as of {d}).",
        "I've added {t} to tracking. The 90% cone for the next session is [{lo}, {hi}].",
        "Done. 90% cone: {lo} \u2194 {hi}.",
    ], [
        "\u2705 {t} is now being tracked.\n\n**90% cone:** {lo_w} \u2013 {hi}",
        "{t} tracked. 90% cone between ${lo} and ${hi_w}.",
        "90% cone for {t}: {lo1w} to {hi1w}.",
        "Tracking started. Range: {lo75} to {hi75}.",
        "Done. 90% cone: \u00b14% around {mid}.",
        "I've added {t} to tracking; I couldn't get the cone.",
    ]),
    "price_lookup": ([
        "**{t} on {d}**\n- Close: {c}\n- Highest high (last {n} sessions): {h}",
        "{t}'s close on {d} was {c}. The highest high over the {n} sessions ending that day was {h}.",
        "Close: {c}; 10-day high: {h}.",
        "The index closed at {c} on {d}; over the preceding {n} sessions (including that day) the highest high was {h}.",
        "Close {c_plain}, highest high {h_plain}.",
    ], [
        "**{t} on {d}**\n- Close: {c_w}\n- Highest high: {h}",
        "{t}'s close was {c}. The highest high was {h0}.",
        "Close: {c}; 10-day high: {c}.",
        "The index closed at {c}.",
        "Close {h_plain}, highest high {h_plain}.",
    ]),
    "rank_sector": ([
        "**{w}** has the highest projected probability of rising ({pw}) among {all}. I've added {w} to the 'Ideas' watchlist.",
        "Best P(up) in {sector}: {w} ({pw}). Added to Ideas \u2705",
        "{w} it is: top P(up) at {pw}. Now on 'Ideas'.",
        "The {sector} stock most likely to rise next session is {w}.",
    ], [
        "**{r}** has the highest projected probability of rising among the {sector} stocks. I've added {r} to the 'Ideas' watchlist.",
        "Best P(up): {r2}. Added to Ideas.",
        "{r} it is: top P(up). Now on 'Ideas'.",
        "I added the best name to Ideas.",
    ]),
    "backtest_note": ([
        "{title}\n\n- 75% cone coverage: {cov} (target 0.75)\n- AUC gate: FAIL",
        "Coverage at the 75% level was {cov}. The gate verdict is FAIL.",
        "Result: FAIL on the direction gate. 75% cone coverage: {cov_pct}.",
        "Cone calibration OK (75% coverage {cov}); gate not passed.",
    ], [
        "- 75% cone coverage: {cov}\n- AUC gate: PASS",
        "Coverage at the 75% level was {cov_w}. The gate verdict is FAIL.",
        "Result: direction gate inconclusive. 75% coverage: {cov}.",
        "Cone calibration OK (75% coverage {cov}); gate passed.",
    ]),
}

# A second blind batch, written and measured after that round: false negatives 3/22 ("edge to
# the upside", "does not meet the gate", "the gate is not met"), false positives 0/22.
HOLDOUT_2 = {
    "projection_answer": ([
        "TL;DR: {call}, with low conviction. 75% cone: {lo_pct} / {hi_pct}.",
        "Model output for {t} ({d}): P(up) {p_up}, P(down) {p_down}. That makes the call {call}, though only barely. 75% cone: {lo} to {hi} bps.",
        "I'd go with {call} for the next session. The 75% cone is {lo} bps on the low side and {hi} bps on the high side.",
        "{Call} (by a hair). The cone covering 75% of outcomes runs from {lo_pct} to {hi_pct}.",
        "Next-day bias: {call}. Cone: 75% between {lo} and {hi} bps.",
        "Call = {call}; cone75 = [{lo}, {hi}] bps",
        "Our projection calls {t} {call} for the next session; the 75% cone is [{lo_u}, {hi}] bps, so a {noun} of more than {hi_abs} bps would be a surprise.",
        "The expected direction is {call} ({pc} probability), and the 75% cone is {lo}/{hi} bps.",
        "Slight edge to the {call}side. 75% cone: {lo} to {hi} bps.",
        "Bias: {call}. P({other}) is not far behind at {po}. Cone (75%): {lo} bps to {hi} bps.",
    ], [
        "TL;DR: {other}, with low conviction. 75% cone: {lo_pct} / {hi_pct}.",
        "Model output: P(up) {p_up}, P(down) {p_down}. I won't make a call. 75% cone: {lo} to {hi} bps.",
        "I'd go with {other} for the next session. The 75% cone is {lo} bps on the low side and {hi} bps on the high side.",
        "Next-day bias: none. Cone: 75% between {lo} and {hi} bps.",
        "Call = {call}; cone75 = [{lo_w}, {hi_w}] bps",
        "The expected direction is {call} or {other}; 75% cone {lo}/{hi} bps.",
        "Call: {call}. Cone: 75% between {lo}% and {hi}%.",
        "Bias: {other}. P({call}) is not far behind. Cone (75%): {lo} bps to {hi} bps.",
        "The stock rose yesterday; no call for the next session. Cone [{lo}, {hi}] bps.",
        "It fell {hi_abs} bps yesterday; call: flat. Cone [{lo}, {hi}] bps.",
    ]),
    "backtest_gate": ([
        "Verdict: FAIL. The mean OOS AUC of {auc} is below 0.52.",
        "This does not meet the gate (mean OOS AUC {auc}).",
        "Gate outcome: FAIL; mean out-of-sample AUC {auc}.",
        "The AUC gate is not met: mean OOS AUC is {auc}.",
        "Fail, with a mean OOS AUC of {auc}.",
        "The backtest does NOT pass. Mean out-of-sample AUC: {auc}.",
    ], [
        "Verdict: PASS. The mean OOS AUC is {auc}.",
        "This meets the gate (mean OOS AUC {auc}).",
        "Gate outcome: FAIL; mean out-of-sample AUC {auc_w}.",
        "Gate outcome: not a fail. Mean OOS AUC {auc}.",
        "The backtest does pass. Mean out-of-sample AUC: {auc}.",
        "Passes, with mean OOS AUC {auc}.",
    ]),
    "backtest_note": ([
        "Gate: FAIL. Cones: 75% coverage {cov}, close to nominal.",
        "Coverage 75%: {cov}. The backtest doesn't pass the AUC gate.",
        "The 75% cone caught {cov_pct} of outcomes; the gate says FAIL.",
    ], [
        "Gate: PASS. Cones: 75% coverage {cov}.",
        "Coverage 75%: {cov}. The backtest passes the AUC gate.",
        "The 75% cone caught {cov_pct} of outcomes; the gate is fine.",
    ]),
    "projection_note": ([
        "NOVA: leaning {call} next session (P({call}) {pc}). 75% cone {lo_pct} to {hi_pct}.",
        "Direction {call}, cone(75%) = {lo}..{hi} bps. Conviction low.",
        "Bias {comp}. Cone 75%: [{lo_frac}, {hi_frac}].",
    ], [
        "NOVA: leaning {other} next session. 75% cone {lo_pct} to {hi_pct}.",
        "Direction {call}, cone(75%) = {lo_w}..{hi} bps.",
        "Bias {ocomp}. Cone 75%: [{lo_frac}, {hi_frac}].",
    ]),
}

CORPUS = {
    "projection_answer": (PROJECTION_RIGHT, PROJECTION_WRONG),
    "projection_note": (NOTE_RIGHT, NOTE_WRONG),
    "backtest_gate": (GATE_RIGHT, GATE_WRONG),
    "volatility_compare": (VOL_RIGHT, VOL_WRONG),
    "track_and_project": (TRACK_RIGHT, TRACK_WRONG),
    "price_lookup": (PRICE_RIGHT, PRICE_WRONG),
    "rank_sector": (RANK_RIGHT, RANK_WRONG),
    "backtest_note": (BNOTE_RIGHT, BNOTE_WRONG),
}
NOTE_TEMPLATES = ("projection_note", "backtest_note")

# Wrong answers only a check that reads roles can reject: another winner named beside the
# true one, figures swapped between instruments or fields. The current checks ask only that the
# winner be mentioned and the numbers be present; `_mentions(answer, winner, role="best")`
# reads the winner's role (and `_value_near` ties a figure to its instrument).
WINNER_WRONG = {
    "rank_sector": [
        "{r} has the highest P(up); {w} is second.",
        "{r} edges out {w} for the top spot; added {r} to Ideas.",
        "{w} trails {r} on P(up).",
        "Highest P(up): {r}. Runner-up: {w}.",
        "{w} ranks second behind {r}.",
    ],
    "volatility_compare": [
        "{l} is projected to be more volatile: annualized sigma {w} {sw_pct}, {l} {sl_pct}.",
        "{w} is less volatile than {l}: {w} {sw_pct}, {l} {sl_pct}.",
        "More volatile: {l}. Annualized: {w} {sw_pct}, {l} {sl_pct}.",
    ],
}
SWAPPED_WRONG = {
    "volatility_compare": ["{w} is projected to be more volatile: annualized sigma {w} {sl_pct}, {l} {sw_pct}."],
    "price_lookup": ["{t} closed at {h}; the highest high in that window was {c}."],
}


# --- filling the placeholders from the ground truth ----------------------------------------
DIRECTION_FORMS = {
    "up": {"call": "up", "comp": "higher", "verb": "rise", "bull": "bullish", "noun": "gain"},
    "down": {"call": "down", "comp": "lower", "verb": "fall", "bull": "bearish", "noun": "decline"},
}


def _signed(x, digits=0):
    return f"{x:+.{digits}f}"


def _transposed(number: str) -> str:
    """The last two digits swapped (a typo an analyst makes), or shifted if they are equal."""
    swapped = number[:-2] + number[-1] + number[-2]
    return swapped if swapped != number else f"{float(number) + 0.3:.2f}"


def values(template: str, exp: dict) -> dict:
    v: dict = {"t": exp.get("ticker", ""), "d": exp.get("as_of", "")}
    if "cone75_bps" in exp:
        call = exp["direction"]
        other = "down" if call == "up" else "up"
        for prefix, direction in (("", call), ("o", other)):
            for key, word in DIRECTION_FORMS[direction].items():
                name = key if not prefix else ("other" if key == "call" else prefix + key)
                v[name] = word
        lo, hi = exp["cone75_bps"]
        pc, po = (exp["p_up"], exp["p_down"]) if call == "up" else (exp["p_down"], exp["p_up"])
        v.update(
            p_up=f"{exp['p_up']:.2f}", p_down=f"{exp['p_down']:.2f}", pc=f"{pc:.2f}", po=f"{po:.2f}",
            p_up_pct=f"{exp['p_up']:.0%}", p_down_pct=f"{exp['p_down']:.0%}", pc_pct=f"{pc:.0%}", po_pct=f"{po:.0%}",
            lo=_signed(lo), hi=_signed(hi), lo_u=_signed(lo).replace("-", MINUS), lo_x=f"{lo:.2f}", hi_x=f"{hi:.2f}",
            lo_pct=_signed(lo / 100, 2).replace("-", MINUS) + "%", hi_pct=_signed(hi / 100, 2) + "%",
            lo_frac=_signed(lo / 1e4, 4), hi_frac=_signed(hi / 1e4, 4), lo_abs=f"{abs(lo):.0f}", hi_abs=f"{abs(hi):.0f}",
            lo_w=_signed(lo - 15), hi_w=_signed(hi + 15), lo50=_signed(lo * 0.55), hi50=_signed(hi * 0.55),
            lo_pct_num=_signed(lo / 100, 2), hi_pct_num=_signed(hi / 100, 2), lo_w2=_signed(lo - 3),
            lo90=_signed(lo * 1.6), hi90=_signed(hi * 1.6),
        )
    if template == "backtest_gate":
        auc = exp["mean_oos_auc"]
        v.update(auc=f"{auc:.3f}", auc_pct=f"{auc:.1%}", auc_short=f"{auc:.3f}"[1:], auc_w=f"{auc + 0.03:.3f}",
                 auc_pct_w=f"{auc + 0.02:.1%}", auc_w2=f"{auc - 0.02:.3f}", tk=exp["tickers"], start=exp["start"],
                 end=exp["end"])
    if template == "volatility_compare":
        w = exp["winner"]
        l = next(t for t in exp["tickers"] if t != w)
        sw, sl = exp["sigmas"][w], exp["sigmas"][l]
        v.update(w=w, l=l, sw_pct=f"{sw:.1%}", sl_pct=f"{sl:.1%}", sw_pct2=f"{sw:.2%}", sl_pct2=f"{sl:.2%}",
                 sw_frac=f"{sw:.3f}", sl_frac=f"{sl:.3f}", sw_w=f"{sw + 0.05:.1%}", sl_w=f"{sl - 0.03:.1%}",
                 sw_daily=f"{sw / math.sqrt(252):.2%}", sl_daily=f"{sl / math.sqrt(252):.2%}",
                 sw_int=f"{sw * 100 + 2:.0f}", sl_int=f"{sl * 100:.0f}", sw_bps_as_pct=f"{sw * 1e4:.0f}%",
                 sw_frac_w=f"{sw * 1.1:.3f}", sl_w2=f"{sl + 0.01:.1%}", sw_month=f"{sw / math.sqrt(12):.1%}",
                 sl_month=f"{sl / math.sqrt(12):.1%}", sw_bp_wrong=f"{sw * 100:.0f}")
    if template == "track_and_project":
        lo, hi = exp["cone90_prices"]
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        v.update(lo=f"{lo:,.2f}", hi=f"{hi:,.2f}", lo1=f"{lo:.1f}", hi1=f"{hi:.1f}", lo4=f"{lo:.4f}", hi4=f"{hi:.4f}",
                 lo75=f"{mid - half * 0.64:,.2f}", hi75=f"{mid + half * 0.64:,.2f}", lo_w=f"{lo * 0.99:,.2f}",
                 hi_w=f"{hi * 1.01:,.2f}", lo0=f"{lo:.0f}", hi0=f"{hi:.0f}", lo10=f"{lo / 10:.2f}", hi10=f"{hi / 10:.2f}",
                 lo_up=f"{lo + 2:,.2f}", hi_up=f"{hi + 2:,.2f}", lo_dn=f"{lo - 1.5:,.2f}", hi_dn=f"{hi - 1.5:,.2f}",
                 mid=f"{mid:.2f}", width=f"{hi - lo:.2f}", lo1w=f"{lo - 0.4:.1f}", hi1w=f"{hi + 0.4:.1f}", hi_75=f"{mid + half * 0.64:.2f}",
                 lo_swapdigits=_transposed(f"{lo:.2f}"), lo_k=f"{lo / 1000:.2f}", hi_k=f"{hi / 1000:.2f}")
    if template == "price_lookup":
        c, h = exp["close"], exp["max_high"]
        v.update(c=f"{c:,.2f}", h=f"{h:,.2f}", c_plain=f"{c:.2f}", h_plain=f"{h:.2f}", c4=f"{c:.4f}", h4=f"{h:.4f}",
                 n=10, drop_pct=f"{(1 - c / h) * 100:.1f}", c_w=f"{c * 1.01:,.2f}", h0=f"{h:,.0f}", c0=f"{c:,.0f}",
                 c_up=f"{c + 0.5:,.2f}", h_up=f"{h + 0.25:,.2f}", c_dn=f"{c - 3:,.2f}", c_k=f"{c / 1000:.2f}",
                 h_k=f"{h / 1000:.2f}", h_w=f"{h * 0.98:,.2f}", c_digits=f"{c * 10:,.2f}", h_digits=f"{h / 10:,.2f}",
                 hc=f"{h - 7.3:,.2f}", h_1dec_w=f"{h + 0.06:,.2f}", h_tenth=f"{h:,.1f}")
    if template == "rank_sector":
        w = exp["winner"]
        rest = [t for t in exp["sector_tickers"] if t != w]
        v.update(w=w, r=rest[0], r2=rest[-1], wlow=rest[1], pw=f"{exp['winner_p_up']:.3f}",
                 pw_pct=f"{exp['winner_p_up']:.1%}", all=", ".join(exp["sector_tickers"][:-1]) + " and "
                 + exp["sector_tickers"][-1], sector="Financials", w_typo=w[:-1], w_lower=w.lower())
    if template == "backtest_note":
        cov = exp["coverage_75"]
        v.update(cov=f"{cov:.3f}", cov_pct=f"{cov:.1%}", cov_w=f"{cov + 0.02:.3f}", cov_pct_w=f"{cov - 0.03:.1%}",
                 cov_90=f"{cov + 0.15:.3f}", period=f"{exp['start'][:4]}", title=exp["title"])
    return v


def fill(text: str, v: dict) -> str:
    caps = {k[:1].upper() + k[1:]: str(x)[:1].upper() + str(x)[1:] for k, x in v.items() if isinstance(x, str)}
    return text.format(**v, **caps)


def phrasings(template: str) -> tuple[list[str], list[str]]:
    parts = [c[template] for c in (CORPUS, HOLDOUT, HOLDOUT_2) if template in c]
    return [p for right, _ in parts for p in right], [p for _, wrong in parts for p in wrong]


# --- the real verifier on the final state the oracle leaves ---------------------------------
VERIFIER = get_desk("phinance_01").verifier_file
# The corpora are written for an up/down call and a FAIL verdict (the real tasks'); the mirror
# test below turns each around.
USABLE = {"projection_answer": lambda e: e["direction"] in DIRECTION_FORMS,
          "projection_note": lambda e: e["direction"] in DIRECTION_FORMS,
          "backtest_gate": lambda e: e["verdict"] == "FAIL", "backtest_note": lambda e: e["verdict"] == "FAIL"}
FLIP = {"direction": {"up": "down", "down": "up"}, "verdict": {"PASS": "FAIL", "FAIL": "PASS"}}


class Judge:
    """One task of a template and the state its oracle's tool calls leave in a fresh copy of
    the initial DB; judges a final answer, or for a note template the note's body (the
    oracle's calls are played up to the note, which is then written with that body)."""

    def __init__(self, verifier, exported: Path, task, workdir: Path):
        self.verifier, self.task, self.workdir = verifier, task, workdir
        self.initial = exported / "databases" / "phinance_01.db"
        self.note = task.spec.template in NOTE_TEMPLATES
        calls = task.oracle.calls[:-1] if self.note else task.oracle.calls
        self.state = fresh_db(self.initial, workdir, "oracle.db")
        client = AppClient(phinance_app(self.state, mcp=False))
        self.results = []
        for step in calls:
            self.results.append(client.call(step.tool, resolve(step.arguments, self.results)))
        client.close()
        self.bodies: dict[str, Path] = {}

    def _with_note(self, body: str) -> Path:
        if body not in self.bodies:
            db = self.workdir / f"note{len(self.bodies)}.db"
            shutil.copyfile(self.state, db)
            step = self.task.oracle.calls[-1]
            client = AppClient(phinance_app(db, mcp=False))
            client.call(step.tool, {**resolve(step.arguments, self.results), "body": body})
            client.close()
            self.bodies[body] = db
        return self.bodies[body]

    def episode(self, text: str) -> tuple[Path, str]:
        """The final DB and final answer an episode ending with ``text`` leaves."""
        return (self._with_note(text), self.task.oracle.answer) if self.note else (self.state, text)

    def __call__(self, text: str, expected: dict | None = None) -> dict:
        final, answer = self.episode(text)
        return self.verifier.verify_task_completion(str(self.initial), str(final), answer,
                                                    expected=expected or self.task.expected)


@pytest.fixture(scope="module")
def verifier():
    return load_verifier(VERIFIER)


@pytest.fixture(scope="module")
def judges(verifier, exported, scenario_tasks, tmp_path_factory):
    out = {}
    for template in CORPUS:
        usable = USABLE.get(template, lambda e: True)
        task = next(t for t in scenario_tasks if t.spec.template == template and usable(t.expected))
        out[template] = Judge(verifier, exported, task, tmp_path_factory.mktemp(template))
    return out


def test_every_answer_reading_template_has_a_large_varied_corpus():
    for template in CORPUS:
        right, wrong = phrasings(template)
        assert len(right) >= 20 and len(wrong) >= 20, template
        assert len(set(right)) == len(right) and len(set(wrong)) == len(wrong), template


@pytest.mark.parametrize("template", sorted(CORPUS))
def test_correct_phrasings_complete_and_changed_meanings_do_not(judges, template):
    judge = judges[template]
    v = values(template, judge.task.expected)
    right, wrong = phrasings(template)
    verdicts = {fill(p, v): judge(fill(p, v)) for p in right + wrong}
    assert not [t for t, r in verdicts.items() if "error_kind" in r], "a check broke instead of judging"
    missed = [fill(p, v) for p in right if verdicts[fill(p, v)]["result"] != "complete"]
    passed = [fill(p, v) for p in wrong if verdicts[fill(p, v)]["result"] == "complete"]
    print(f"\n{template}: false negatives {len(missed)}/{len(right)} ({len(missed) / len(right):.0%}), "
          f"false positives {len(passed)}/{len(wrong)} ({len(passed) / len(wrong):.0%})")
    assert len(missed) <= MAX_FALSE_NEGATIVES * len(right), missed
    assert not passed, passed


@pytest.mark.parametrize("template", sorted(USABLE))
def test_the_same_words_against_the_opposite_truth_never_complete(judges, template):
    """Every correct phrasing, judged against the flipped call or verdict, is a wrong answer."""
    judge = judges[template]
    exp = judge.task.expected
    key = "direction" if "direction" in exp else "verdict"
    flipped = {**exp, key: FLIP[key][exp[key]]}
    v = values(template, exp)
    right, _ = phrasings(template)
    passed = [fill(p, v) for p in right if judge(fill(p, v), flipped)["result"] == "complete"]
    print(f"\n{template} against {key} {flipped[key]}: false positives {len(passed)}/{len(right)}")
    assert not passed, passed


def test_roles_are_read_not_just_names_and_numbers(judges, verifier):
    """Another winner named beside the true one, or figures swapped between fields, keep every
    name and number a check looks for: the checks read the winner's role
    (`_mentions(answer, winner, role="best")`) and tie each figure to its label or ticker."""
    for template, wrong in WINNER_WRONG.items():
        exp = judges[template].task.expected
        v = values(template, exp)
        right, _ = phrasings(template)
        misread = [fill(p, v) for p in right if not verifier._mentions(fill(p, v), exp["winner"], role="best")]
        named = [fill(p, v) for p in wrong if verifier._mentions(fill(p, v), exp["winner"], role="best")]
        print(f"\n{template}, winner read with role='best': false negatives {len(misread)}/{len(right)}, "
              f"false positives {len(named)}/{len(wrong)}")
        assert len(misread) <= MAX_FALSE_NEGATIVES * len(right), misread
        assert not named, named
    scored = {}
    for corpus in (WINNER_WRONG, SWAPPED_WRONG):
        for template, wrong in corpus.items():
            v = values(template, judges[template].task.expected)
            scored[template] = scored.get(template, 0) + sum(judges[template](fill(p, v))["result"] == "complete"
                                                             for p in wrong)
    print(f"\nrole-swapped answers the checks score complete: {scored}")
    assert not any(scored.values()), scored


def test_the_exported_code_strings_judge_as_the_module_does(judges):
    """What AWM execs (each task's slice of the verifier) keeps every answer-reading helper."""
    for template, judge in judges.items():
        code = code_string(VERIFIER, judge.task.expected, "code")
        v = values(template, judge.task.expected)
        right, wrong = phrasings(template)
        for text in [fill(p, v) for p in right + wrong]:
            final, answer = judge.episode(text)
            packed = run_code_string(code, "code", str(judge.initial), str(final), answer)
            assert packed == judge(text), (template, text)


# --- the helpers, one meaning at a time -----------------------------------------------------
DIRECTIONS = [
    ("The next-session call is higher.", {"up"}), ("The next-session call is lower.", {"down"}),
    ("Call: up. Down is almost as likely.", {"up"}), ("Call: down. Up is almost as likely.", {"down"}),
    ("Up, with P(down) at 0.49.", {"up"}), ("Down rather than up.", {"down"}),
    ("up over down", {"up"}), ("down over up", {"down"}),
    ("Up, with down a close second.", {"up"}), ("Bearish, with bullish a close second.", {"down"}),
    ("Flat: the model sees no edge.", {"flat"}), ("**Bullish**", {"up"}), ("_bearish_", {"down"}), ("`up`", {"up"}),
    ("Expected to close slightly lower.", {"down"}), ("Likely to rise.", {"up"}),
    ("A decline is slightly more likely.", {"down"}), ("Down is less likely than up.", {"up"}),
    ("~~Up~~ Down.", {"down"}), ("Slight edge to the downside.", {"down"}), ("Not bearish: up.", {"up"}),
    ("up or down", set()), ("up and down are equally likely... call: up and down", set()), ("Neither up nor down.", set()),
    ("It could rise or fall.", set()), ("Not up.", set()), ("I can't say whether it goes up or down.", set()),
    ("P(up) = 0.51, P(down) = 0.44, P(flat) = 0.05", set()), ("Up: 51%, down: 44%.", set()),
    ("The lower bound is -101 bps.", set()), ("The upper bound is +99 bps.", set()),
    ("Moves of up to 70 bps are common.", set()), ("The close falls within the cone.", set()),
    ("The highest high was 1,209.07.", set()), ("AUC is down from 0.52.", set()),
    ("The alert fires when sigma rises above the threshold.", set()), ("Volatility is expected to rise.", set()),
    ("To sum up: the cone is wide.", set()), ("It comes down to a coin flip.", set()),
    ("The 75% cone is [-70, +72] bps.", set()), ("A flat band of 5 bps.", set()),
    ("The call is up. Or down. Or flat.", {"up", "down", "flat"}),
]
VERDICTS = [
    ("It does not pass the gate.", {"FAIL"}), ("It doesn't fail.", {"PASS"}), ("Not a pass.", {"FAIL"}),
    ("Not a fail.", {"PASS"}), ("It fails to pass.", {"FAIL"}), ("It passes.", {"PASS"}), ("It fails.", {"FAIL"}),
    ("Gate: _FAIL_", {"FAIL"}), ("**PASS**", {"PASS"}), ("Passes gate: No", {"FAIL"}), ("Passes gate: Yes", {"PASS"}),
    ("Fails? No.", {"PASS"}), ("Coverage passes; the gate fails.", {"FAIL"}), ("Coverage fails; the gate passes.", {"PASS"}),
    ("It clears the gate.", {"PASS"}), ("It does not clear the gate.", {"FAIL"}), ("It meets the gate.", {"PASS"}),
    ("It misses the 0.52 threshold.", {"FAIL"}), ("Needs 0.52 to pass; at 0.46 it doesn't.", {"FAIL"}),
    ("It would fail at 0.55; at 0.53 it doesn't.", {"PASS"}), ("It passes and fails.", {"PASS", "FAIL"}),
    ("PASS when AUC >= 0.52.", set()), ("It needs 0.52 to pass.", set()), ("A pass/fail gate.", set()),
    ("Kupiec passes.", set()), ("It is not clear whether it passes.", set()), ("It would pass at 0.45.", set()),
]
NUMBERS = [  # (text, value, tolerance, unit, found)
    ("[-70, +72] bps", -70, 1, None, True), ("-0.70% / +0.72%", 72, 1, None, True), ("-70bp", -70, 1, None, True),
    ("-0.0070", -70, 1, None, True), (f"{MINUS}70 bps", -70, 1, None, True), (f"{MINUS}0.70%", -70, 1, "bps", True),
    ("AUC 51.2%", 0.512, 0.002, None, True), ("\u03c3 18.3%", 0.183, 0.002, None, True), ("`0.512`", 0.512, 0.002, None, True),
    ("**-70**", -70, 1, None, True), ("1,234.56", 1234.56, 0.01, None, True), ("\u00b170 bps", -70, 1, None, True),
    ("70 bps below", -70, 1, None, True), ("-0.70%", -0.007, 1e-4, "fraction", True),
    ("-70%", -70, 1, None, False), ("-0.70 bps", -70, 1, None, False), ("AUC 0.512%", 0.512, 0.002, None, False),
    ("as of 2018-10-10", 10, 0.5, None, False), ("-71.5", -70, 1, None, False), ("-0.70%", -70, 1, "fraction", False),
    ("1,234.56", 1234.56, 0.01, "price", True), ("1,234.56%", 1234.56, 0.01, "price", False),
]
MENTIONS = [  # (text, word, role, named)
    ("PAYS has the highest P(up).", "PAYS", None, True), ("It pays to wait; LDGR leads.", "PAYS", None, False),
    ("^GSPC closed at 899.22.", "^GSPC", None, True), ("Sector: Financials.", "financials", None, True),
    ("PAYS has the highest P(up); LDGR is second.", "PAYS", "best", True),
    ("LDGR has the highest P(up); PAYS is second.", "PAYS", "best", False),
    ("LDGR has the highest P(up); PAYS is second.", "PAYS", "worst", True),
    ("CLDR is less volatile than QBIT.", "QBIT", "best", True), ("QBIT is less volatile than CLDR.", "QBIT", "best", False),
    ("Highest P(up): PAYS (LDGR 0.48, BNKA 0.47).", "PAYS", "best", True), ("QBIT 19.5%, CLDR 15.2%.", "QBIT", "best", False),
    ("PAYS > LDGR > BNKA", "PAYS", "best", True), ("LDGR > PAYS > BNKA", "PAYS", "best", False),
]


@pytest.mark.parametrize(("text", "called"), DIRECTIONS)
def test_direction_calls(verifier, text, called):
    assert verifier._direction_call(text) == called


@pytest.mark.parametrize(("text", "stated"), VERDICTS)
def test_verdicts(verifier, text, stated):
    assert verifier._verdict(text) == stated


@pytest.mark.parametrize(("text", "value", "tol", "unit", "found"), NUMBERS)
def test_numbers_with_units(verifier, text, value, tol, unit, found):
    assert verifier._has_number(text, value, tol, unit) is found


@pytest.mark.parametrize(("text", "word", "role", "named"), MENTIONS)
def test_naming(verifier, text, word, role, named):
    assert verifier._mentions(text, word, role) is named


@pytest.mark.parametrize("answer", [None, "", 5, "\x00\x01" * 1000, "\U0001f680" * 20_000, "up " * 40_000, "not " * 999])
def test_readers_never_raise(verifier, answer):
    verifier._direction_call(answer), verifier._verdict(answer), verifier._numbers(answer), verifier._answer_ok(answer)
    verifier._mentions(answer, "PAYS", "best"), verifier._has_price(answer, 1.0), verifier._has_number(answer, 1.0, 0.1)
