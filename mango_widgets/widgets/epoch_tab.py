"""The app's epoch tab: the epoch explorer on a stored study, or on a tracking that runs live.

Nothing is built until the tab is first opened (or preloaded in the background): the study is
read and its selectivity computed off the UI thread, then the :class:`EpochExplorer` appears.
"Track live" runs an :class:`~mango_widgets.studies.epoch_tracking.EpochTracking` in a worker
thread, saving each record in a folder (a second run resumes), and the explorer follows it.
"""
from __future__ import annotations

import html
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Union

import ipywidgets as widgets

from mango_widgets.analysis.selectivity import SelectivityCriteria
from mango_widgets.core.generator import Generator
from mango_widgets.core.network import Network
from mango_widgets.errors import ConfigError
from mango_widgets.models.source import ModelSource
from mango_widgets.widgets.epoch_explorer import EpochExplorer, prepare
from mango_widgets.widgets.export_panel import start_folder
from mango_widgets.widgets.messages import error_box, error_text
from mango_widgets.widgets.pickers import NetworkChoices, source_models
from mango_widgets.widgets.plotly_loader import PlotlyLoader

#: the file a live tracking writes (``studies.live_tracking.RECORDS_FILE``)
LIVE_RECORDS = "live_records.jsonl"
OpenCallback = Callable[[str, int, int, Optional[dict]], None]


@dataclass
class EpochStudy:
    """What the tab needs: the network at each saved epoch (``labels``: epoch -> the network's label in
    the explorer), the accuracy per epoch, and optionally a folder of stored records to browse."""

    network_at: Callable[[int], Network]
    labels: Dict[int, str]
    accuracy: Dict[int, float] = field(default_factory=dict)
    folder: Optional[Path] = None
    layers: Optional[Sequence[str]] = None
    criteria: SelectivityCriteria = field(default_factory=SelectivityCriteria)

    @classmethod
    def of_networks(cls, networks: NetworkChoices, **fields) -> EpochStudy:
        """The study of networks that are checkpoints of one model source (``NetworkChoices.from_source``),
        sharing them (each network is built once for every tab); ``fields``: accuracy, folder, layers, criteria."""
        if not networks.epochs:
            raise ConfigError("the epoch tab needs networks that are checkpoints of one model source: "
                              "build them with NetworkChoices.from_source (or give network_at and labels)")
        return cls(network_at=networks.at_epoch, labels=dict(networks.epochs), **fields)

    @property
    def epochs(self) -> List[int]:
        return sorted(self.labels)


def load_table(folder: Path):
    """A stored study as the explorer's table: the export of ``mango reproduce`` (``records.csv.gz``: one
    seed's cold searches), else the records of the retired epoch-tracking engine (``records*.jsonl[.gz]``),
    else those of a live tracking (``live_records.jsonl``)."""
    from mango_widgets.studies.reproduction.tables import RECORDS, explorer_table, read_records

    folder = Path(folder)
    if (folder / RECORDS).is_file():
        return explorer_table(read_records(folder / RECORDS))
    legacy = sorted(folder.glob("records*.jsonl*"))
    if legacy:
        from mango_widgets.studies.legacy import read_legacy

        table = read_legacy(legacy[0])
        # one search per neuron, epoch and method: each epoch warm-started from the previous one's MEI
        seed, budget = int(table["seed"].min()), int(table["budget"].mode().iloc[0])
        return table[(table["seed"] == seed) & (table["budget"] == budget)].reset_index(drop=True)
    if (folder / LIVE_RECORDS).is_file():
        from mango_widgets.studies.live_tracking import read_live_records, records_table

        return records_table(read_live_records(folder / LIVE_RECORDS))
    raise ConfigError(f"no study in {folder}: expected {RECORDS} (mango reproduce), records*.jsonl(.gz) "
                      f"(the retired epoch tracking) or {LIVE_RECORDS} (Track live)")


class EpochTab(widgets.VBox):
    """Stored study or live tracking, then the epoch explorer; ``activate()`` builds it (once)."""

    def __init__(self, study: EpochStudy, generator: Generator, live_budget: int = 300,
                 plotly_loader: Optional[PlotlyLoader] = None, **kwargs):
        self.study, self.generator, self.plotly_loader = study, generator, plotly_loader
        self.explorer: Optional[EpochExplorer] = None
        self._open_callbacks: List[OpenCallback] = []
        self._lock = threading.RLock()
        self._started = False
        self.data = None
        self.load_error: Optional[BaseException] = None
        self.load_seconds = 0.0
        self.built = threading.Event()  # set once the stored study is on screen
        self._stop = threading.Event()
        self._tracking_thread: Optional[threading.Thread] = None
        self.table = None
        self.message = widgets.HTML(self._intro())
        self.message.add_class("mango-epoch-message")
        self.error_html = widgets.HTML("")
        self.track_layer = widgets.Text(value="", placeholder="layer, e.g. lif2", description="layer",
                                        layout=widgets.Layout(width="200px"))
        self.track_units = widgets.BoundedIntText(value=4, min=1, max=64, description="units", layout=widgets.Layout(width="150px"))
        self.track_epochs = widgets.Text(value=", ".join(str(e) for e in study.epochs), description="epochs",
                                         layout=widgets.Layout(width="min(360px, 100%)"))
        self.track_budget = widgets.IntText(value=live_budget, description="budget", layout=widgets.Layout(width="170px"))
        methods = ", ".join(study.criteria.methods)
        self.track_button = widgets.Button(description="Track live", icon="play", button_style="success",
                                           tooltip=f"search units 0..n-1 of the layer at each epoch with {methods}")
        self.track_button.add_class("mango-track-live")
        self.track_stop = widgets.Button(description="Stop", icon="stop", button_style="danger", disabled=True)
        self.track_status = widgets.HTML("")
        self.track_status.add_class("mango-track-status")
        row = widgets.Layout(flex_flow="row wrap", align_items="center")
        self.live_box = widgets.VBox([
            widgets.HTML("<b>Track live</b> <span class='mango-note-small'>(searches each unit at each epoch with "
                         f"{', '.join(study.criteria.methods)}; records are saved and a rerun resumes)</span>"),
            widgets.HBox([self.track_layer, self.track_units, self.track_epochs, self.track_budget,
                          self.track_button, self.track_stop], layout=row),
            self.track_status])
        self.body = widgets.VBox([])
        super().__init__([self.message, self.error_html, self.body, self.live_box], **kwargs)
        self.add_class("mango-epoch-tab")
        self.track_button.on_click(lambda _button: self.track())
        self.track_stop.on_click(lambda _button: self._stop.set())

    @classmethod
    def from_source(cls, source: Union[str, ModelSource], T: Optional[int] = None, spacing: str = "uniform",
                    label: Optional[Callable[[int], str]] = None, accuracy: Optional[Dict[int, float]] = None,
                    folder: Optional[Path] = None, **options) -> EpochTab:
        """The tab on every checkpoint of a model source (or its name); ``accuracy`` per epoch and a ``folder`` of
        stored records are optional; ``options`` go to the constructor."""
        generator, networks = source_models(source, None, T, spacing, label)
        return cls(EpochStudy.of_networks(networks, accuracy=dict(accuracy or {}), folder=folder), generator, **options)

    def _intro(self) -> str:
        if self.study.folder is None:
            return ("<span class='mango-note-small'>No stored study next to this installation: track some neurons "
                    "live below.</span>")
        return f"<span class='mango-note-small'>Study: <code>{html.escape(str(self.study.folder))}</code></span>"

    # ------------------------------------------------------------------ API
    def on_open(self, callback: OpenCallback) -> None:
        """``callback(layer, unit, epoch, record)`` when a neuron is opened in the explorer."""
        self._open_callbacks.append(callback)
        if self.explorer is not None:
            self.explorer.on_open(callback)

    def preload(self) -> None:
        """Read the stored study and derive the selectivity (blocking, no widgets: the app's warm-up calls it)."""
        with self._lock:
            if self.data is not None or self.study.folder is None:
                return
            start = time.perf_counter()
            try:
                self.data = prepare(load_table(self.study.folder), self.study.criteria, self.study.layers)
            except Exception as error:
                self.load_error = error
                return
            self.load_seconds = time.perf_counter() - start

    def activate(self) -> None:
        """The tab was opened: build the explorer (in the background) if nothing is shown yet."""
        with self._lock:
            if self._started or self.study.folder is None:
                return
            self._started = True
        self.message.value = "<span class='mango-note-small'>⏳ loading the stored study and its selectivity…</span>"
        threading.Thread(target=self._build_stored, name="mango-epoch-build", daemon=True).start()

    def _build_stored(self) -> None:
        self.preload()
        if self.data is None:
            self.message.value = ""
            self.error_html.value = error_box(f"could not load the study: {error_text(self.load_error)}")
            return
        self._show(self.data, f"Stored study: {len(self.data.results):,} searches from "
                              f"<code>{html.escape(str(self.study.folder))}</code> (read in {self.load_seconds:.1f} s). "
                              "Click a heatmap cell to pick a layer, or a neuron and epoch.")
        self.built.set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until a live tracking has ended; True if so."""
        thread = self._tracking_thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def track(self) -> bool:
        """Start tracking units 0..n-1 of the chosen layer over the chosen epochs (the Track live button)."""
        if self._tracking_thread is not None and self._tracking_thread.is_alive():
            return False
        self.error_html.value = ""
        try:
            tracking = self._tracking()
        except Exception as error:
            self.error_html.value = error_box(error_text(error))
            return False
        self._stop.clear()
        self.track_button.disabled, self.track_stop.disabled = True, False
        where = html.escape(str(tracking.folder))
        self.track_status.value = f"tracking: {tracking.pending()} searches to run, saved in <code>{where}</code>"
        self._tracking_thread = threading.Thread(target=self._run_tracking, args=(tracking,), name="mango-epoch-tracking", daemon=True)
        self._tracking_thread.start()
        return True

    # ------------------------------------------------------------------ internals
    def _tracking(self):
        from mango_widgets.studies.live_tracking import LiveTracking

        layer = self.track_layer.value.strip()
        if not layer:
            raise ConfigError("type the layer to track (e.g. lif2)")
        try:
            epochs = sorted({int(e) for e in self.track_epochs.value.replace(",", " ").split()})
        except ValueError:
            raise ConfigError(f"epochs must be whole numbers separated by commas, got {self.track_epochs.value!r}") from None
        unknown = [e for e in epochs if e not in self.study.labels]
        if unknown or not epochs:
            raise ConfigError(f"no saved network for epochs {unknown or epochs}; saved epochs are {self.study.epochs}")
        network = self.study.network_at(epochs[-1])
        units = network.layer(layer).units  # an unknown layer raises a clear error listing the layers
        count = min(int(self.track_units.value), units)
        folder = start_folder() / "mango_results" / "epoch_tracking" / layer
        return LiveTracking(network_at=self.study.network_at, generator=self.generator,
                            targets=[f"{layer}:{u}" for u in range(count)], epochs=epochs,
                            methods=self.study.criteria.methods, budget=int(self.track_budget.value), folder=folder)

    def _run_tracking(self, tracking) -> None:
        from mango_widgets.studies.live_tracking import records_table

        last = [0.0]

        def on_record(record: dict) -> None:
            left = tracking.pending()
            self.track_status.value = (f"tracking: {record['target']} at epoch {record['epoch']} with {record['method']} done "
                                       f"(best {record['best']:.3f}); {left} to go")
            if time.monotonic() - last[0] > 1.0 or left == 0:
                last[0] = time.monotonic()
                self._show(records_table(tracking.records), "Live tracking: the explorer follows the records as they arrive.")

        try:
            if tracking.records:
                self._show(records_table(tracking.records), "Live tracking (resumed from the saved records).")
            tracking.run(on_record=on_record, should_stop=self._stop.is_set)
            done = "stopped" if self._stop.is_set() else "finished"
            where = html.escape(str(tracking.folder))
            self.track_status.value = f"tracking {done}: {len(tracking.records)} records in <code>{where}</code>"
            if tracking.records:
                self._show(records_table(tracking.records), f"Live tracking {done}.")
        except Exception as error:
            self.error_html.value = error_box(f"tracking failed: {error_text(error)}")
        finally:
            self.track_button.disabled, self.track_stop.disabled = False, True

    def _show(self, table, note: str) -> None:
        """Show ``table`` in the explorer (built on first use, updated afterwards)."""
        with self._lock:
            self.table = table
            if self.explorer is None:
                self.explorer = EpochExplorer(table, self.generator, self.study.accuracy, self.study.criteria, self.study.layers,
                                              plotly_loader=self.plotly_loader)
                for callback in self._open_callbacks:
                    self.explorer.on_open(callback)
                self.body.children = [self.explorer]
            else:
                self.explorer.set_results(table)
        self.message.value = f"<span class='mango-note-small'>{note}</span>"
