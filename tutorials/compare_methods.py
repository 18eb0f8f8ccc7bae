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
# # Comparing optimizers on one neuron
#
# The same neuron, the same black box, the same budget: the tensor-train methods (PROTES presets TT, TT-s, TT-b), Nevergrad (Portfolio, CMA, OnePlusOne) and random search race side by side, each in its own thread, while the curve below updates live. Every query counts, cache hits included; each search stops at exactly the budget.
#
# One run on one neuron is an anecdote: the equal-budget benchmark over 12 neurons and 3 seeds (`benchmarks/optimizers.py`) is the evidence; its summary is read at the end.
#
# Set `MANGO_FAST=1` for a quick run (the test suite does).

# %%
import json
import os
from pathlib import Path

import numpy as np

from mango_widgets.models.bundled import demo_generator, demo_network
from mango_widgets.widgets import MEIExplorer

FAST = os.environ.get('MANGO_FAST') == '1'
BUDGET = 150 if FAST else 2000
METHODS = ('tt', 'tt-s', 'tt-b', 'portfolio', 'cma', 'oneplusone', 'random')

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
# Best activation, when each method first reached it, the queries it needed to reach 90% of the best any method found, and where the time went (model vs optimizer).

# %%
best_any = max(s.history.best_value for s in searches.values())
print(f"{'method':>11} {'best':>6} {'norm.':>6} {'at query':>9} {'to 90%':>7} {'model s':>8} {'optim. s':>9}")
for name, s in sorted(searches.items(), key=lambda kv: -kv[1].history.best_value):
    curve = s.history.best_so_far
    reach = np.nonzero(curve >= 0.9 * best_any)[0]
    h = s.history
    print(f"{name:>11} {h.best_value:6.3f} {h.best_value / best_any:6.3f} {h.best_query:9d} "
          f"{(reach[0] + 1) if len(reach) else '-':>7} {h.objective_seconds:8.2f} {h.optimizer_seconds:9.2f}")

# %% [markdown]
# ## The benchmark
# The committed summary of the equal-budget benchmark (medians over neurons and seeds of the best activation normalised by the best any method found on that neuron). Rebuild it with `python benchmarks/optimizers.py --plan full` then `python benchmarks/summarize_optimizers.py`.

# %%
summary_path = Path('..') / 'benchmarks' / 'results' / 'optimizers_summary.json'
if summary_path.exists():
    summary = json.loads(summary_path.read_text())
    for budget, methods in summary['table'].items():
        print(f'budget {budget}:')
        for name, row in sorted(methods.items(), key=lambda kv: -(kv[1]['normalised_best']['median'] or 0)):
            n = row['normalised_best']
            print(f"  {name:>16}: median {n['median']:.3f} (q1 {n['q1']:.3f}, q3 {n['q3']:.3f}), {n['n']} runs")
else:
    print('no benchmark summary next to this notebook (run from a clone of the repository)')
