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
# # A closed-loop experiment
#
# Gradient-free MEI search is meant to run one day against living neurons: images shown on a screen, responses recorded by electrodes or calcium imaging — noisy, sometimes missing, from many neurons at once. This tutorial runs the whole loop against *simulated* neurons of the demo SNN:
#
# 1. a `ClosedLoopSession` hands out stimuli (`ask`) and takes responses (`tell`), whatever arrives;
# 2. a `NoisyResponder` answers like a neuron: Poisson spike counts, optionally a drifting gain;
# 3. the session is journaled after every call and resumes after a crash;
# 4. a presentation program in another process drives it through a folder;
# 5. a population search serves many units from one stimulus stream;
# 6. several distinct MEIs of one neuron.
#
# Set `MANGO_FAST=1` for a quick run (the test suite does).

# %%
import os
import subprocess
import sys
from pathlib import Path
from tempfile import mkdtemp

import matplotlib.pyplot as plt
import numpy as np

from mango_widgets import Objective
from mango_widgets.studies.closed_loop import ClosedLoopSession, FileAdapter, NoisyResponder
from mango_widgets.models.bundled import demo_generator, demo_network
from mango_widgets.core.noise import NOISE_LEVELS, SinusoidalDrift

FAST = os.environ.get('MANGO_FAST') == '1'
BUDGET = 120 if FAST else 1500
THREADS = 1  # torch threads of the simulated neurons: small batches run fastest on one, and never slow down on a busy machine
generator, network = demo_generator(), demo_network()
NOISE_LEVELS  # spike count of a fully active unit per presentation

# %% [markdown]
# ## A simulated neuron
# Unit 24 of layer `lif2`, answering with Poisson spike counts at the *high* noise level (10 spikes for a fully active unit) and a slow sinusoidal gain drift of ±10%. Responses come in activation units (counts / 10); `true_values` gives the noise-free activation, which a real experiment never sees.

# %%
objective = Objective(generator, network, 'lif2:24')
neuron = NoisyResponder(objective, noise='high', drift=SinusoidalDrift(amplitude=0.1, period=500), seed=0, threads=THREADS)
probe = generator.grid.random(1, np.random.default_rng(0))
trials = neuron(np.repeat(probe, 200, axis=0))
print(f'noise-free {neuron.true_values(probe)[0]:.3f}; 200 trials: mean {trials.mean():.3f}, sd {trials.std():.3f}')

# %% [markdown]
# ## The session: ask, show, tell
# Here the 'rig' loses 15% of the responses and sends some answers twice. Lost stimuli are shown again under new ids when the next batch is asked (the budget counts every showing); duplicates are ignored. The optimizer only ever hears complete batches. Each candidate is shown twice (`repeats=2`).

# %%
rng = np.random.default_rng(1)
folder = Path(mkdtemp()) / 'session'
session = ClosedLoopSession(generator, 'tt-b', budget=BUDGET, seed=0, repeats=2, folder=folder)
while not session.done:
    batch = session.ask()                    # ids, indices, latents, images
    responses = neuron(batch)
    arrived = rng.random(len(batch)) > 0.15
    session.tell(batch.ids[arrived], responses[arrived])
    session.tell(batch.ids[arrived][:2], responses[arrived][:2])   # a re-sent answer
session.summary()

# %% [markdown]
# ## Crash and resume
# Everything was journaled (fsync) as it happened. Dropping the object and resuming from the folder replays the journal through a fresh optimizer with the same seed: the state is identical.

# %%
resumed = ClosedLoopSession.resume(folder, generator)
print(resumed.summary() == session.summary(), np.array_equal(resumed.history.values, session.history.values))
print((folder / 'journal.jsonl').read_text().splitlines()[1][:160], '...')

# %% [markdown]
# ## The MEI, its re-test and the truth
# The best stimulus by search responses has the highest mean response over its showings. Under noise the best responses are partly lucky draws (the *winner's curse*): its estimate is biased upwards, and it is often not the truly best stimulus shown. Re-testing the top few with fresh trials and keeping the best of those fixes much of both (`ask_retest(count, top)`; the budget does not count re-tests).

# %%
best_index, estimate, showings = session.best()
print(f'best by search responses: estimate {estimate:.3f} ({showings} showings), '
      f'noise-free truth {neuron.true_values(best_index[None])[0]:.3f}')
retest = session.ask_retest(4, top=5)
session.tell(retest.ids, neuron(retest))
mei = session.mei()
print(f'after re-testing the top 5: re-test {mei.retest_mean:.3f} ± {mei.retest_sem:.3f}, '
      f'noise-free truth {neuron.true_values(mei.index[None])[0]:.3f}')
fig, (ax_img, ax_curve) = plt.subplots(1, 2, figsize=(9, 3), gridspec_kw={'width_ratios': [1, 2.4]})
ax_img.imshow(mei.image[0], cmap='gray', vmin=0, vmax=1); ax_img.axis('off'); ax_img.set_title('MEI')
ax_curve.plot(session.history.values, '.', ms=2, alpha=0.4, label='responses')
ax_curve.plot(session.history.best_so_far, label='best single response')
ax_curve.set_xlabel('response'); ax_curve.legend(); fig.tight_layout()

# %% [markdown]
# ## A presentation program in another process
# The folder protocol: the driver writes each batch as PNGs plus a `manifest.json` into `outbox/`; the client answers with `inbox/responses_<batch>.json` (or CSV). Files appear atomically. The whole client fits on one screen and does not import mango_widgets — any language can do the same. Here its 'neuron' is the mean brightness of the image. From a shell: `mango closed-loop --folder X` plus `python example_client.py X`.

# %%
import mango_widgets.studies.closed_loop as closed_loop
client_source = Path(closed_loop.__file__).parent / 'example_client.py'
print(client_source.read_text())

# %%
exchange = mkdtemp()
client = subprocess.Popen([sys.executable, str(client_source), exchange])
remote = ClosedLoopSession(generator, 'tt-b', budget=50 if FAST else 300, seed=0, folder=Path(exchange) / 'session')
FileAdapter(remote, exchange, batch_timeout=30, retest=5).run(timeout=300)
print('client exit code', client.wait(timeout=60))
print(remote.summary())
sorted(p.name for p in Path(exchange, 'archive').iterdir())[:4]

# %% [markdown]
# ## Population search: many neurons, one stimulus stream
# A recording sees many neurons at once. `PopulationSearch` gives every unit of a set its own optimizer, shows all their proposals once (one forward pass scores every unit), and lets each unit's PROTES learn from every shown image. Without sharing (`share=False`) each unit's own images are exactly its independent search; its best over *all* images is what the shared stream gives for free.

# %%
from mango_widgets.studies.population import PopulationSearch
units, per_unit = (range(6), 50) if FAST else (range(32), 400)
runs = {share: PopulationSearch(generator, network, 'lif3', units=units, method='tt-b', budget=len(units) * per_unit,
                                seed=0, share=share, threads=THREADS).run() for share in (False, True)}
independent = runs[False].own_best_value
for name, best in (('shared, no learning', runs[False].best_value), ('shared, learning', runs[True].best_value)):
    ratio = best / independent
    print(f'{name:>20}: median activation / independent {np.median(ratio):.3f} (min {ratio.min():.3f}, max {ratio.max():.3f})')

# %% [markdown]
# ## Several optima of one neuron
# Restarts that are penalised near the optima already found, or samples of the TT distribution a PROTES search learned: distinct MEIs with their activations and pairwise latent distances.

# %%
from mango_widgets.studies.several_optima import several_meis
found = several_meis(Objective(generator, network, 'lif2:24'), count=3, method='tt-b',
                     budget=75 if FAST else 800, strategy='restarts', seed=0, threads=THREADS)
print(found.summary())
print(found.euclidean.round(1))
images = generator(found.indices).numpy()
fig, axes = plt.subplots(1, len(images), figsize=(2.2 * len(images), 2.4))
for ax, image, value in zip(axes, images, found.activations):
    ax.imshow(image[0], cmap='gray', vmin=0, vmax=1); ax.set_title(f'{value:.3f}'); ax.axis('off')

# %% [markdown]
# ## Measured
# `benchmarks/closed_loop.py` runs every method against the noisy neurons at three noise levels with and without repeats, and the population search on 64 units of `lif3`; its summary is committed:

# %%
import json
import mango_widgets
results = Path(mango_widgets.__file__).parents[1] / 'benchmarks' / 'results' / 'closed_loop.json'
if results.exists():
    summary = json.loads(results.read_text())
    for condition, methods in summary.get('noise', {}).get('ranking', {}).items():
        print(f'{condition:>8}: ' + ' > '.join(methods))
    for name, run in summary.get('population', {}).get('runs', {}).items():
        print(name, {k: v for k, v in run.items() if k != 'per_unit'})
else:
    print('no committed benchmark results found next to this installation')
