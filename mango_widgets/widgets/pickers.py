"""Choosing what to probe: a network (among several, built lazily), a layer, a unit.

The networks come as :class:`Network` values or factories, or from a model source
(:func:`source_models`: one network per checkpoint, built on first use, and the source's generator).

The unit box is free text that handlers never write: whatever order the browser's messages
arrive in (a slow kernel may handle a layer change after the unit typed next), the unit the
user typed stays on screen, is checked against the layer shown, and an invalid one gets a
message with the valid range beside the box instead of being changed.
"""
from __future__ import annotations

import html
from functools import partial
from numbers import Integral
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import ipywidgets as widgets
import torch
from traitlets import Int, Unicode

from mango_widgets.core.generator import Generator
from mango_widgets.core.network import OUTPUT, Network
from mango_widgets.errors import ConfigError, unknown_choice, whole_number
from mango_widgets.models.source import ModelSource, model_source

NetworkSource = Union[Network, Callable[[], Network]]

#: layer tried first when a network is chosen (the demo's hidden spiking layer)
PREFERRED_LAYER = "lif3"


class NetworkChoices:
    """Networks by label. A value may be a :class:`Network` or a zero-argument factory that
    builds one on first use (e.g. one checkpoint per training epoch). ``epochs`` maps the
    checkpoint epoch -> label when the networks are checkpoints of one model source."""

    def __init__(self, networks: Union[NetworkSource, Dict[str, NetworkSource]], epochs: Optional[Dict[int, str]] = None):
        if isinstance(networks, Network):
            networks = {networks.name: networks}
        elif not isinstance(networks, dict):
            if not callable(networks):
                raise ConfigError(f"networks must be a Network, a factory or a dict of them, got {type(networks).__name__}")
            networks = {"network": networks}
        if not networks:
            raise ConfigError("give at least one network")
        for label, value in networks.items():
            if not isinstance(value, Network) and not callable(value):
                raise ConfigError(f"network {label!r} must be a Network or a factory returning one, got {type(value).__name__}")
        self._sources = dict(networks)
        self._built: Dict[str, Network] = {}
        self.epochs = {int(epoch): label for epoch, label in (epochs or {}).items()}
        unlabelled = {epoch: label for epoch, label in self.epochs.items() if label not in self._sources}
        if unlabelled:
            raise ConfigError(f"epochs {unlabelled} name networks that are not given; the networks are {self.labels}")

    @classmethod
    def from_source(cls, source: Union[str, ModelSource], epochs: Optional[Sequence[int]] = None, T: Optional[int] = None,
                    label: Optional[Callable[[int], str]] = None) -> NetworkChoices:
        """One network per checkpoint of ``source`` (``epochs``: some of them), last epoch first, each built on
        first use and exposed for ``T`` steps (default: the source's); ``label(epoch)`` names it in the dropdown."""
        source = model_source(source)
        saved = source.epochs()
        chosen = saved if epochs is None else sorted({whole_number(epoch, "epoch") for epoch in epochs})
        missing = [epoch for epoch in chosen if epoch not in saved]
        if missing or not chosen:
            raise ConfigError(f"no checkpoint for epochs {missing or chosen} in {source.name!r}; saved epochs are {saved}")
        T = source.default_T() if T is None else whole_number(T, "T", minimum=1, fix="T is the exposure in time steps")
        label = label or checkpoint_labeller(source, saved)
        labels = {epoch: label(epoch) for epoch in chosen}
        if len(set(labels.values())) < len(labels):
            raise ConfigError(f"label() gives two epochs the same name: {labels}; include the epoch in it")
        return cls({labels[epoch]: partial(source.network, epoch, T) for epoch in reversed(chosen)}, epochs=labels)

    @property
    def labels(self) -> List[str]:
        return list(self._sources)

    def __iter__(self):
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)

    def at_epoch(self, epoch: int) -> Network:
        """The network of checkpoint ``epoch`` (only for networks from a model source)."""
        if int(epoch) not in self.epochs:
            raise ConfigError(f"no network for epoch {epoch}; the epochs here are {sorted(self.epochs) or 'none'} "
                              "(networks from a model source know their epochs: NetworkChoices.from_source)")
        return self.get(self.epochs[int(epoch)])

    def get(self, label: str) -> Network:
        if label not in self._sources:
            raise unknown_choice("network", label, self._sources)
        if label not in self._built:
            value = self._sources[label]
            network = value if isinstance(value, Network) else value()
            if not isinstance(network, Network):
                raise ConfigError(f"the factory of network {label!r} returned {type(network).__name__}, not a Network")
            self._built[label] = network
        return self._built[label]


def as_choices(networks) -> NetworkChoices:
    """``networks`` as NetworkChoices (shared as is, so two widgets build each network once)."""
    return networks if isinstance(networks, NetworkChoices) else NetworkChoices(networks)


def checkpoint_labeller(source: ModelSource, epochs: Sequence[int]) -> Callable[[int], str]:
    """The default network label: the source's name, with the epoch when it has several checkpoints."""
    name = source.name or type(source).__name__
    return (lambda epoch: f"{name}, epoch {epoch}") if len(epochs) > 1 else (lambda epoch: name)


def source_models(source: Union[str, ModelSource], epoch: Union[None, int, Sequence[int]] = None, T: Optional[int] = None,
                  spacing: str = "uniform", label: Optional[Callable[[int], str]] = None) -> Tuple[Generator, NetworkChoices]:
    """What a widget needs from a model source (or its name, e.g. ``"demo"``): its generator on a ``spacing``
    grid and its networks at every checkpoint (``epoch``: one or some), built on first use."""
    source = model_source(source)
    networks = NetworkChoices.from_source(source, [epoch] if isinstance(epoch, Integral) else epoch, T, label)
    return source.generator(spacing), networks


def class_count(network: Network) -> int:
    if network.classes is not None:
        return len(network.classes)
    return int(network.run(torch.zeros((1,) + network.input_shape))[OUTPUT].shape[1])


def layer_options(network: Network) -> List[Tuple[str, str]]:
    """(label, dotted name) for every probe-able layer, then the output classes."""
    options = [
        (f"{info.name}  ({info.units} units, {'spiking' if info.spiking else info.module_type})", info.name)
        for info in network.layers().values()
    ]
    options.append((f"output classes  ({class_count(network)})", OUTPUT))
    return options


def default_layer(network: Network) -> str:
    layers = network.layers()
    if PREFERRED_LAYER in layers:
        return PREFERRED_LAYER
    spiking = [info.name for info in layers.values() if info.spiking and info.units > 1]
    return spiking[0] if spiking else next(iter(layers))


def target_string(layer: str, unit: int) -> str:
    """The objective target for a picked layer and unit ("lif3:5" or "class:3")."""
    return f"class:{int(unit)}" if layer == OUTPUT else f"{layer}:{int(unit)}"


def unit_range_text(layer: str, units: int) -> str:
    """'units 0..31' ('classes 0..9' for the output)."""
    kind = "classes" if layer == OUTPUT else "units"
    return f"{kind} 0..{units - 1}" if units > 0 else f"no {kind}"


def parse_unit(text: str, layer: str, units: int) -> int:
    """The unit typed as ``text``, checked against the layer's ``units``; a ConfigError names the valid range."""
    where = "the output" if layer == OUTPUT else f"layer {layer}"
    cleaned = str(text).strip()
    if not cleaned:
        raise ConfigError(f"type a unit number: {where} has {unit_range_text(layer, units)}")
    try:
        unit = int(cleaned)
    except ValueError:
        raise ConfigError(f"{cleaned!r} is not a whole number: {where} has {unit_range_text(layer, units)}") from None
    if not 0 <= unit < units:
        raise ConfigError(f"unit {unit} is out of range: {where} has {unit_range_text(layer, units)}")
    return unit


class TargetPicker(widgets.HBox):
    """Network and layer dropdowns, optionally a unit box checked against the layer's unit count.

    Traits: ``network_label``, ``layer``, ``units`` (unit count of the layer), ``unit`` (the
    valid unit typed, -1 while the box holds no valid unit) and ``unit_error`` (why not).
    """

    network_label = Unicode()
    layer = Unicode()
    unit = Int(-1)
    units = Int(0)
    unit_error = Unicode()

    def __init__(self, networks: NetworkChoices, with_unit: bool = True, **kwargs):
        self.networks = networks
        self.with_unit = with_unit
        self._updating = False
        self.network_dropdown = widgets.Dropdown(options=networks.labels, description="network",
                                                 layout=widgets.Layout(width="300px"))
        self.network_dropdown.add_class("mango-network")
        self.layer_dropdown = widgets.Dropdown(description="layer", layout=widgets.Layout(width="300px"))
        self.layer_dropdown.add_class("mango-layer")
        self.unit_box = widgets.Text(value="0", description="unit", continuous_update=True,
                                     layout=widgets.Layout(width="130px"))
        self.unit_box.add_class("mango-unit")
        self.unit_help = widgets.HTML("")
        self.unit_help.add_class("mango-unit-help")
        children = [self.network_dropdown, self.layer_dropdown] + ([self.unit_box, self.unit_help] if with_unit else [])
        super().__init__(children=children, layout=widgets.Layout(flex_flow="row wrap", align_items="center"), **kwargs)
        self.network_dropdown.observe(self._on_network, "value")
        self.layer_dropdown.observe(self._on_layer, "value")
        self.unit_box.observe(self._on_unit, "value")
        self._on_network()

    @property
    def network(self) -> Network:
        return self.networks.get(self.network_dropdown.value)

    @property
    def target(self) -> str:
        """The target the screen shows now (layer dropdown + unit box); a ConfigError if the unit is invalid."""
        layer = self.layer_dropdown.value
        units = self.units_of(layer)
        return target_string(layer, parse_unit(self.unit_box.value, layer, units))

    def units_of(self, layer: str) -> int:
        network = self.network
        return class_count(network) if layer == OUTPUT else network.layer(layer).units

    def select(self, layer: Optional[str] = None, unit: Optional[int] = None, network: Optional[str] = None) -> None:
        """Pick a network (label), layer (dotted name) and unit; unknown names or units raise a clear error."""
        if network is not None:
            if network not in self.networks.labels:
                raise unknown_choice("network", network, self.networks.labels)
            self.network_dropdown.value = network
        if layer is not None:
            valid = [value for _, value in self.layer_dropdown.options]
            if layer not in valid:
                raise unknown_choice("layer", layer, valid)
            self.layer_dropdown.value = layer
        if unit is not None:
            parse_unit(str(unit), self.layer_dropdown.value, self.units)
            self.unit_box.value = str(int(unit))

    def set_disabled(self, disabled: bool) -> None:
        for control in (self.network_dropdown, self.layer_dropdown, self.unit_box):
            control.disabled = disabled

    # ------------------------------------------------------------ handlers (never write the unit box)
    def _on_network(self, _change=None) -> None:
        network = self.network
        previous = self.layer_dropdown.value
        options = layer_options(network)
        names = [value for _, value in options]
        self._updating = True  # one _on_layer at the end, not one per intermediate value
        try:
            self.layer_dropdown.options = options
            self.layer_dropdown.value = previous if previous in names else default_layer(network)
        finally:
            self._updating = False
        self.network_label = self.network_dropdown.value
        self._on_layer()

    def _on_layer(self, _change=None) -> None:
        layer = self.layer_dropdown.value
        if layer is None or self._updating:
            return
        self.units = self.units_of(layer)
        self.layer = layer
        self._on_unit()

    def _on_unit(self, _change=None) -> None:
        if not self.with_unit:
            return
        layer = self.layer_dropdown.value
        try:
            self.unit = parse_unit(self.unit_box.value, layer, self.units)
        except ConfigError as error:
            self.unit, self.unit_error = -1, str(error)
            self.unit_help.value = f'<span class="mango-invalid" style="color:#b00020">⚠ {html.escape(str(error))}</span>'
            return
        self.unit_error = ""
        self.unit_help.value = f'<span style="color:#666">{unit_range_text(layer, self.units)}</span>'
