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
# # Widgets: watch MEI searches live
#
# `mango_widgets.widgets` puts the search core into Jupyter: an **MEI explorer** (pick a neuron and one or several methods, run, watch the curves race, stop), a **layer overview** (the MEIs of N units of a layer at once) and the **app** that combines both (served by Voila with `python -m mango_widgets.widgets.app`).
#
# The widgets are thin: Run builds one `Search` per method from the choices and starts it in a worker thread; progress reaches the plot and images in throttled, batched writes, so the kernel stays free. Everything the buttons do is also a Python call, which is how this notebook drives them. Set `MANGO_FAST=1` for small budgets (the test suite does).

# %%
import os
import tempfile

from IPython.display import Image, display

from mango_widgets.widgets import LayerOverview, MangoApp, MEIExplorer, demo_models

FAST = os.environ.get('MANGO_FAST') == '1'
BUDGET = 150 if FAST else 2000
generator, networks, note = demo_models()  # the bundled demo SNN (one entry per saved epoch) and generator
print(note or 'demo models:', *networks, sep='\n  ')

# %% [markdown]
# ## The explorer
# Generator and networks are passed in, so any `Generator` and `Network` (or a dict of networks, built lazily) work. The layer list shows dotted names with unit counts, plus the output classes.

# %%
explorer = MEIExplorer(generator, networks, methods=('protes', 'portfolio'), budget=BUDGET)
explorer

# %% [markdown]
# Choose a neuron and press Run from Python (the same as clicking). PROTES and Portfolio race side by side, each in its own thread; `wait` blocks this cell only, the plot above keeps updating.

# %%
explorer.select(layer='lif2', unit=5)
explorer.run_button.click()
print('controls frozen while running:', explorer.run_button.disabled, explorer.picker.layer_dropdown.disabled)
explorer.wait(timeout=900)
for name, search in explorer.searches.items():
    print(f'{name:>10}: {search.state}, {search.queries} queries, best {search.history.best_value:.3f}')

# %%
# the curve holds every query; the UI was written in batches, at most every 0.2 s
print([len(trace.y) for trace in explorer.figure.data])
print(explorer.live.stats.summary())
assert all(s.state == 'finished' for s in explorer.searches.values())

# %% [markdown]
# ## Stop keeps what was found
# Stop takes effect after the current batch; the partial history and the best image so far stay.

# %%
import time

explorer.methods.select(('tt-b',))
explorer.budget_box.value = 100_000
explorer.run()
search = explorer.searches['tt-b']
while search.queries < 100 and search.state in ('ready', 'running'):
    time.sleep(0.05)
explorer.stop_button.click()
explorer.wait(timeout=60)
print(search.state, search.queries, 'queries of', search.budget)
assert search.state == 'stopped'

# %% [markdown]
# Bad choices show in the widget with the same message the Python API raises:

# %%
explorer.budget_box.value = 0
explorer.run()
print(explorer.error_html.value)
explorer.budget_box.value = BUDGET

# %% [markdown]
# ## Export
# The Export button (or `explorer.export(folder)`, or `mango_widgets.records.export.export_search(search, folder)` without widgets) writes each method's `search.json`, `history.npz`, `mei.npz`, `mei.png` and a GIF of the best-so-far MEI over the queries.

# %%
written = explorer.export(tempfile.mkdtemp())
folder = written['tt-b']
print(sorted(p.name for p in folder.iterdir()))
display(Image(filename=str(folder / 'mei_progress.gif')))

# %% [markdown]
# ## Layer overview
# One search per unit, one after another; each cell shows the unit's MEI and activation. Its buttons call `on_open(network, layer, unit)` callbacks (the app selects the unit in the explorer).

# %%
overview = LayerOverview(generator, networks, method='tt-b', budget=60 if FAST else 500, count=3 if FAST else 8)
overview.picker.select(layer='lif2')
overview.on_open(lambda network, layer, unit: explorer.select(layer=layer, unit=unit, network=network))
overview

# %%
overview.run()
overview.wait(timeout=900)
print({unit: round(value, 3) for unit, value in overview.activations().items()})
overview.cells[1].button.click()  # open unit 1 in the explorer
print(explorer.picker.target)

# %% [markdown]
# ## The app
# Both widgets in tabs, wired together; one is frozen while the other runs. `python -m mango_widgets.widgets.app --port 8866` serves it with Voila (`mango_widgets/widgets/app_notebook/mango_app.ipynb`).

# %%
MangoApp(generator, networks, explorer=dict(budget=BUDGET), note=note)
