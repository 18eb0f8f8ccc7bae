"""Write tutorials/compare_methods.ipynb (without outputs).

Run: .venv/bin/python tools/make_compare_notebook.py
"""
from pathlib import Path

from nbformat.v4 import new_code_cell, new_markdown_cell

from make_notebooks import write

ROOT = Path(__file__).resolve().parents[1]

CELLS = [
    new_markdown_cell(
        "# Comparing optimizers on one neuron\n\n"
        "The same neuron, the same black box, the same budget: the tensor-train methods (PROTES presets TT, TT-s, "
        "TT-b), Nevergrad (Portfolio, CMA, OnePlusOne) and random search race side by side, each in its own "
        "thread, while the curve below updates live. Every query counts, cache hits included; each search stops "
        "at exactly the budget.\n\n"
        "One run on one neuron is an anecdote: the equal-budget benchmark over 12 neurons and 3 seeds "
        "(`benchmarks/optimizers.py`) is the evidence; its summary is read at the end.\n\n"
        "Set `MANGO_FAST=1` for a quick run (the test suite does)."
    ),
    new_code_cell(
        "import json\n"
        "import os\n"
        "from pathlib import Path\n\n"
        "import numpy as np\n\n"
        "from mango_widgets.demo import demo_generator, demo_network\n"
        "from mango_widgets.widgets import MEIExplorer\n\n"
        "FAST = os.environ.get('MANGO_FAST') == '1'\n"
        "BUDGET = 150 if FAST else 2000\n"
        "METHODS = ('tt', 'tt-s', 'tt-b', 'portfolio', 'cma', 'oneplusone', 'random')"
    ),
    new_markdown_cell("## The race, live\nThe explorer builds one `Search` per method and writes their progress to the plot in throttled batches."),
    new_code_cell(
        "explorer = MEIExplorer(demo_generator(), demo_network(), methods=METHODS, budget=BUDGET, seed=0)\n"
        "explorer.select(layer='lif2', unit=13)\n"
        "explorer"
    ),
    new_code_cell(
        "explorer.run()\n"
        "explorer.wait(timeout=1800)\n"
        "searches = explorer.searches\n"
        "assert all(s.state == 'finished' and s.queries == BUDGET for s in searches.values())"
    ),
    new_markdown_cell(
        "## The numbers behind the curves\n"
        "Best activation, when each method first reached it, the queries it needed to reach 90% of the best any "
        "method found, and where the time went (model vs optimizer)."
    ),
    new_code_cell(
        "best_any = max(s.history.best_value for s in searches.values())\n"
        "print(f\"{'method':>11} {'best':>6} {'norm.':>6} {'at query':>9} {'to 90%':>7} {'model s':>8} {'optim. s':>9}\")\n"
        "for name, s in sorted(searches.items(), key=lambda kv: -kv[1].history.best_value):\n"
        "    curve = s.history.best_so_far\n"
        "    reach = np.nonzero(curve >= 0.9 * best_any)[0]\n"
        "    h = s.history\n"
        "    print(f\"{name:>11} {h.best_value:6.3f} {h.best_value / best_any:6.3f} {h.best_query:9d} \"\n"
        "          f\"{(reach[0] + 1) if len(reach) else '-':>7} {h.objective_seconds:8.2f} {h.optimizer_seconds:9.2f}\")"
    ),
    new_markdown_cell(
        "## The benchmark\n"
        "The committed summary of the equal-budget benchmark (medians over neurons and seeds of the best activation "
        "normalised by the best any method found on that neuron). Rebuild it with "
        "`python benchmarks/optimizers.py --plan full` then `python benchmarks/summarize_optimizers.py`."
    ),
    new_code_cell(
        "summary_path = Path('..') / 'benchmarks' / 'results' / 'optimizers_summary.json'\n"
        "if summary_path.exists():\n"
        "    summary = json.loads(summary_path.read_text())\n"
        "    for budget, methods in summary['table'].items():\n"
        "        print(f'budget {budget}:')\n"
        "        for name, row in sorted(methods.items(), key=lambda kv: -(kv[1]['normalised_best']['median'] or 0)):\n"
        "            n = row['normalised_best']\n"
        "            print(f\"  {name:>16}: median {n['median']:.3f} (q1 {n['q1']:.3f}, q3 {n['q3']:.3f}), {n['n']} runs\")\n"
        "else:\n"
        "    print('no benchmark summary next to this notebook (run from a clone of the repository)')"
    ),
]

if __name__ == "__main__":
    write(CELLS, ROOT / "tutorials" / "compare_methods.ipynb")
