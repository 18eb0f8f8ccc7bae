"""The app: explorer, layer overview and epoch tab, wired together on a model source; the demo models as default.

:meth:`MangoApp.from_source` builds it on any :class:`~mango_widgets.models.source.ModelSource` (one
network per checkpoint, shared by the tabs); :func:`demo_app` is that on the bundled demo models,
or on untrained stand-ins, with a note saying so, when the weights are missing.

Opening a unit from the overview shows it, with the MEI the overview found, in the explorer;
opening a neuron from the epoch tab selects that epoch's network and neuron there. While the
explorer or the overview runs, the other is frozen (they share the CPU cores). Heavy imports are
warmed in the background from the start, and the stored study is read there too.
"""
from __future__ import annotations

import html
import os
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import ipywidgets as widgets
import numpy as np

from mango_widgets.core.generator import Generator
from mango_widgets.core.network import Network
from mango_widgets.errors import WeightsError
from mango_widgets.models.source import DemoModels, ModelSource, UntrainedDemoModels
from mango_widgets.widgets.epoch_tab import EpochStudy, EpochTab
from mango_widgets.widgets.explorer import MEIExplorer
from mango_widgets.widgets.images import zoomable
from mango_widgets.widgets.mei_context import DatasetSource
from mango_widgets.widgets.methods import DEFAULT_METHODS
from mango_widgets.widgets.overview import LayerOverview
from mango_widgets.widgets.pickers import NetworkChoices, NetworkSource, as_choices, source_models
from mango_widgets.widgets.plotly_loader import make_loader
from mango_widgets.widgets.warmup import Warmup, warm_optimizers, warm_plots

TAB_TITLES = ("MEI explorer", "Layer overview", "Epochs")


class MangoApp(widgets.VBox):
    """Tabs "MEI explorer", "Layer overview" and (with a ``study``) "Epochs" on one generator and networks.

    ``explorer`` / ``overview`` hold keyword arguments for :class:`MEIExplorer` / :class:`LayerOverview`;
    ``dataset``: images ranked beside each MEI; ``note`` is shown above the tabs; ``warm``: start
    the background warm-up (imports, first compilation, reading the study) now.
    """

    def __init__(self, generator: Generator, networks: Union[NetworkSource, Dict[str, NetworkSource]],
                 explorer: Optional[dict] = None, overview: Optional[dict] = None, study: Optional[EpochStudy] = None,
                 dataset: DatasetSource = None, title: str = "Most exciting images of spiking neurons",
                 note: Optional[str] = None, warm: bool = True, **kwargs):
        self.networks = as_choices(networks)
        self.plotly_loader = make_loader()  # in the app: the page loads plotly once, figures open after
        self.epoch_tab = EpochTab(study, generator, plotly_loader=self.plotly_loader) if study is not None else None
        steps = [("optimizers", lambda: warm_optimizers(generator.grid)), ("plots", warm_plots)]
        if self.epoch_tab is not None and study.folder is not None:
            steps.append(("the stored study", self.epoch_tab.preload))
        self.warmup = Warmup(steps)
        self.explorer = MEIExplorer(generator, self.networks, dataset=dataset, warmup=self.warmup,
                                    plotly_loader=self.plotly_loader, **(explorer or {}))
        self.overview = LayerOverview(generator, self.networks, warmup=self.warmup, **(overview or {}))
        pages = [self.explorer, self.overview] + ([self.epoch_tab] if self.epoch_tab is not None else [])
        self.tabs = widgets.Tab(children=pages, titles=TAB_TITLES[: len(pages)])
        self.tabs.add_class("mango-tabs")
        header = f"<h2 style='margin:4px 0'>{html.escape(title)}</h2>"
        if note:
            header += f"<div class='mango-note' style='background:#fff3cd;padding:4px 8px;border-radius:4px'>{html.escape(note)}</div>"
        self.header = widgets.HTML(header)
        super().__init__(children=[self.header, self.tabs] + ([self.plotly_loader] if self.plotly_loader else []), **kwargs)
        self.add_class("mango-app")
        self.overview.on_open(self._open_from_overview)
        if self.epoch_tab is not None:
            self.epoch_tab.on_open(self._open_from_epochs)
        self.tabs.observe(self._tab_changed, "selected_index")
        self.overview.observe(lambda change: setattr(self.explorer, "frozen", change.new), "running")
        self.explorer.observe(lambda change: setattr(self.overview, "frozen", change.new), "running")
        if warm:
            self.warmup.start()

    @classmethod
    def from_source(cls, source: Union[str, ModelSource], epoch: Union[None, int, Sequence[int]] = None,
                    T: Optional[int] = None, spacing: str = "uniform", label: Optional[Callable[[int], str]] = None,
                    accuracy: Optional[Dict[int, float]] = None, study_folder: Optional[Path] = None,
                    epoch_tab: Optional[bool] = None, **options) -> MangoApp:
        """The app on a model source (or its name, e.g. ``"demo"``): one network per checkpoint (``epoch``: one or
        some), exposed for ``T`` steps, named ``label(epoch)``, shared by the tabs; the source's generator on a
        ``spacing`` grid. The epoch tab (default: when there are several checkpoints or a ``study_folder``) shows
        ``accuracy`` per epoch and the stored study in ``study_folder``. ``options`` go to the constructor."""
        generator, networks = source_models(source, epoch, T, spacing, label)
        if epoch_tab is None:
            epoch_tab = len(networks.epochs) > 1 or study_folder is not None
        study = EpochStudy.of_networks(networks, accuracy=dict(accuracy or {}), folder=study_folder) if epoch_tab else None
        return cls(generator, networks, study=study, **options)

    def _tab_changed(self, change) -> None:
        if self.epoch_tab is not None and change.new == 2:
            self.epoch_tab.activate()

    def _open_from_overview(self, network: str, layer: str, unit: int) -> None:
        search = self.overview.searches.get(unit)
        if search is not None and search.state not in ("ready", "running") and len(search.history):
            self.explorer.show_search(search, network, origin="layer overview")
        else:
            self.explorer.select(network=network, layer=layer, unit=unit)
            state = "still running in the overview" if search is not None and search.state == "running" else "not searched yet"
            self.explorer.clear_results(f"Opened {layer}:{unit} of {network} from the layer overview ({state}); "
                                        "press Run to search it here.")
        self.tabs.selected_index = 0

    def _open_from_epochs(self, layer: str, unit: int, epoch: int, record: Optional[dict]) -> None:
        study = self.epoch_tab.study
        label = study.labels[epoch]
        self.explorer.select(network=label, layer=layer, unit=unit)
        note = f"Opened {layer}:{unit} of {label} from the epoch tab; press Run to search it here."
        if record is not None and record.get("mei_index") is not None:
            image = self.explorer.generator(np.asarray([record["mei_index"]], dtype=np.int64))[0].cpu().numpy()
            note = (f"{zoomable(image, 112, 'the study MEI')}<div>Opened <b>{html.escape(layer)}:{unit}</b> of "
                    f"<b>{html.escape(label)}</b> from the epoch tab. The study's MEI ({html.escape(str(record['method']))}, "
                    f"{int(record.get('budget') or 0):,} queries) reached activation {float(record['best']):.3f}; "
                    "press Run to search it here.</div>")
            self.explorer.clear_results(note, escape=False)
        else:
            self.explorer.clear_results(note)
        self.tabs.selected_index = 0


def fast_mode() -> bool:
    """True when $MANGO_FAST=1 (tests, CI): small default budgets."""
    return os.environ.get("MANGO_FAST") == "1"


def stand_in_models() -> Tuple[Generator, Dict[str, Network]]:
    """The untrained demo architectures with fixed random weights (:class:`UntrainedDemoModels`): generator and network."""
    source = UntrainedDemoModels()
    return source.generator(), {source.name: source.network(0)}


def demo_label(epoch: int) -> str:
    """The demo network's label for a training epoch, the same in every tab and title."""
    return f"demo SNN, epoch {epoch}"


def missing_weights_note(error: WeightsError) -> str:
    """The note shown above the app when it runs on untrained stand-ins."""
    return f"Demo weights not found ({error}); showing untrained stand-in models with random weights."


def demo_models() -> Tuple[Generator, NetworkChoices, Optional[str]]:
    """The bundled demo generator and one lazily built demo SNN per saved training epoch
    (last epoch first), plus a note. Falls back to untrained stand-ins, with a note saying
    so, when the bundled weights are missing."""
    try:
        generator, networks = source_models(DemoModels(), label=demo_label)
    except WeightsError as error:
        return (*source_models(UntrainedDemoModels()), missing_weights_note(error))
    return generator, networks, None


def demo_study_folder() -> Optional[Path]:
    """The study committed with the repository (absent from an installed package): the one ``mango reproduce``
    made (``benchmarks/results/reproduction``), else the retired epoch tracking's records."""
    import mango_widgets

    results = Path(mango_widgets.__file__).resolve().parents[1] / "benchmarks" / "results"
    if (results / "reproduction" / "records.csv.gz").is_file():
        return results / "reproduction"
    legacy = results / "specializations"
    return legacy if any(legacy.glob("records*.jsonl*")) else None


def demo_app(fast: Optional[bool] = None, warm: bool = True) -> MangoApp:
    """The app on the demo models (:class:`DemoModels`), or on untrained stand-ins with a note when the bundled
    weights are missing; ``fast`` (default: $MANGO_FAST=1) gives small budgets; ``warm`` as for :class:`MangoApp`."""
    start = time.perf_counter()
    fast = fast_mode() if fast is None else fast
    options = dict(explorer=dict(budget=200 if fast else 2000, methods=DEFAULT_METHODS),
                   overview=dict(budget=100 if fast else 500, count=4 if fast else 8), warm=warm)
    try:
        from mango_widgets.models.bundled import demo_accuracy
        from mango_widgets.studies.neuron_context import demo_dataset

        app = MangoApp.from_source(DemoModels(), label=demo_label, accuracy=demo_accuracy(), study_folder=demo_study_folder(),
                                   epoch_tab=True, dataset=lambda: demo_dataset("heldout"), **options)  # dataset: loaded when first needed
    except WeightsError as error:
        app = MangoApp.from_source(UntrainedDemoModels(), note=missing_weights_note(error), **options)
    # one line for whoever runs the server (the kernel's own stderr): when this kernel's app was ready
    print(f"[mango] app built in {time.perf_counter() - start:.1f} s (pid {os.getpid()})", file=sys.__stderr__, flush=True)
    return app
