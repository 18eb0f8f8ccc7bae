# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     notebook_metadata_filter: kernelspec,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Comparing optimizers on one neuron: `auto` against the best peers
#
# The same neuron, the same black box, the same budget: `auto` (the method the leaderboard measured best for this budget), sep-CMA-ES alone (what `auto` runs before its grid-local tail), the strongest peers of the leaderboard (CMA-ES as activation maximisation runs it, nevergrad's DE), the paper's TT-b and random search race side by side, each in its own thread, while the curve below updates live. Every query counts, cache hits included; each search stops at exactly the budget. Every method starts from the same place: uniform samples over the grid.
#
# One run on one neuron is an anecdote: the pre-registered leaderboard over held-out neurons and 5 seeds (`benchmarks/leaderboard.py`, summarised in `benchmarks/results/leaderboard.json`) is the evidence; its summary is read at the end.
#
# Set `MANGO_FAST=1` for a quick run (the test suite does).

# %%
import json
import os
from pathlib import Path

import numpy as np

from mango_widgets import make_optimizer
from mango_widgets.models.bundled import demo_generator, demo_network
from mango_widgets.widgets import MEIExplorer

FAST = os.environ.get('MANGO_FAST') == '1'
BUDGET = 150 if FAST else 2000
METHODS = ('auto', 'sep-cma', 'cma-es', 'de', 'tt-b', 'random')

# %% [markdown]
# ## What `auto` picks, and why
# `auto` chooses from the budget (and from the noise, when each image is shown several times); its choice is part of its parameters.

# %%
auto = make_optimizer('auto', demo_generator().grid, budget=BUDGET)
print(auto)
print(auto.params()['chosen'])

# %% [markdown]
# ## The race, live
# The explorer builds one `Search` per method and writes their progress to the plot in throttled batches.

# %%
explorer = MEIExplorer(demo_generator(), demo_network(), methods=METHODS, budget=BUDGET, seed=0)
explorer.select(layer='lif2', unit=13)
explorer

# %%
explorer.run()
explorer.wait(timeout=1800)
searches = explorer.searches
assert all(s.state == 'finished' and s.queries == BUDGET for s in searches.values())

# %% [markdown]
# ## The numbers behind the curves
# Best activation, when each method first reached it, the queries it needed to reach 90% of the best any method found, how many of its queries repeated a point it had asked before, and where the time went (model vs optimizer).

# %%
best_any = max(s.history.best_value for s in searches.values())
print(f"{'method':>8} {'best':>6} {'norm.':>6} {'at query':>9} {'to 90%':>7} {'repeats':>8} {'model s':>8} {'optim. s':>9}")
for name, s in sorted(searches.items(), key=lambda kv: -kv[1].history.best_value):
    curve = s.history.best_so_far
    reach = np.nonzero(curve >= 0.9 * best_any)[0]
    h = s.history
    print(f"{name:>8} {h.best_value:6.3f} {h.best_value / best_any:6.3f} {h.best_query:9d} "
          f"{(reach[0] + 1) if len(reach) else '-':>7} {s.optimizer.repeat_rate:8.3f} {h.objective_seconds:8.2f} {h.optimizer_seconds:9.2f}")

# %% [markdown]
# ## The leaderboard
# The committed leaderboard: each method's median best activation as a fraction of the neuron's gradient ceiling (frozen before the runs), and its paired difference to the default `auto` picks for that budget (mean over held-out neurons, 95% bootstrap interval, Holm-corrected). Rebuild it with `python benchmarks/leaderboard.py --plan heldout` then `python benchmarks/summarize_leaderboard.py` (docs/optimizers.md).

# %%
board_path = Path('..') / 'benchmarks' / 'results' / 'leaderboard.json'
if board_path.exists():
    board = json.loads(board_path.read_text())
    for network, budgets in board['networks'].items():
        for budget, entry in budgets.items():
            print(f"{network}, {budget} queries: default {entry['default']}, {entry['neurons']} neurons x {entry['seeds']} seeds")
            for name, row in sorted(entry['methods'].items(), key=lambda kv: -kv[1]['median_fraction_of_ceiling']):
                vs = row.get('vs_default')
                versus = f"{vs['mean_diff']:+.3f} [{vs['ci95'][0]:+.3f}, {vs['ci95'][1]:+.3f}]" if vs else 'default'
                print(f"  {name:>12}: {row['median_fraction_of_ceiling']:.3f} of the ceiling; vs default {versus}")
else:
    print('no leaderboard next to this notebook (run from a clone of the repository)')
