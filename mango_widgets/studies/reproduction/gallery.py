"""MEI mosaics: a labile neuron over epochs x methods (paper Fig. 10 right), one neuron's MEIs under
both generators (Figs. 17-18) and the MEIs of each layer's neurons (Figs. 13-15). Images are
rendered again from the stored grid indices."""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np


def pick_labile_neuron(consensus, cold) -> Tuple[Optional[Tuple[str, int]], bool]:
    """The neuron that switches its (seed-consensus) selective class most often; failing any labile
    neuron, the one whose best MEI changes its top class most often over epochs. Returns (neuron, labile)."""
    best_switches, choice = -1, None
    for (layer, unit), group in consensus.sort_values("epoch").groupby(["layer", "unit"]):
        classes = [c for c in group["selective_class"] if c >= 0]
        if len(set(classes)) >= 2:
            switches = sum(a != b for a, b in zip(classes, classes[1:]))
            if switches > best_switches:
                best_switches, choice = switches, (layer, int(unit))
    if choice is not None:
        return choice, True
    fired = cold[(cold["status"] == "done") & (cold["seed"] == cold["seed"].min())]
    for (layer, unit), group in fired.groupby(["layer", "unit"]):
        top = group.sort_values("best", ascending=False).drop_duplicates("epoch").sort_values("epoch")["top_class"].tolist()
        switches = sum(a != b for a, b in zip(top, top[1:]))
        if switches > best_switches:
            best_switches, choice = switches, (layer, int(unit))
    return choice, False


def _mosaic(ax, images: List[List[Optional[np.ndarray]]], captions: List[List[str]], rows: List[str], columns: List[str]) -> None:
    """Images [rows][columns] ([C, H, W] in [0, 1], None: blank) drawn as one picture with captions."""
    shapes = [i.shape for row in images for i in row if i is not None]
    if not shapes:
        ax.set_axis_off()
        return
    c, h, w = shapes[0]
    pad = 2
    canvas = np.ones(((h + pad) * len(rows), (w + pad) * len(columns), 3))
    for r, row in enumerate(images):
        for k, image in enumerate(row):
            if image is not None:
                rgb = np.repeat(image, 3, 0) if c == 1 else image
                canvas[r * (h + pad):r * (h + pad) + h, k * (w + pad):k * (w + pad) + w] = np.clip(rgb.transpose(1, 2, 0), 0, 1)
    ax.imshow(canvas, interpolation="nearest")
    for r in range(len(rows)):
        for k in range(len(columns)):
            ax.text(k * (w + pad) + w / 2, r * (h + pad) + h - 1, captions[r][k], ha="center", va="bottom", fontsize=6,
                    color="yellow", bbox=dict(facecolor="black", alpha=0.5, pad=0.5, lw=0))
    ax.set_yticks([r * (h + pad) + h / 2 for r in range(len(rows))], rows, fontsize=7)
    ax.set_xticks([k * (w + pad) + w / 2 for k in range(len(columns))], columns, fontsize=7)
    ax.tick_params(length=0)


def _caption(row) -> str:
    if row is None or row["status"] != "done":
        return "silent"
    return f"c{int(row['top_class'])} p{row['top_probability']:.2f} a{row['best']:.2f}"


def _render(generator, rows) -> List[Optional[np.ndarray]]:
    found = [r for r in rows if r is not None and r["status"] == "done"]
    if not found:
        return [None] * len(rows)
    images = iter(generator(np.asarray([r["mei_index"] for r in found], dtype=np.int64)).cpu().numpy())
    return [next(images) if r is not None and r["status"] == "done" else None for r in rows]


def draw_neuron_track(ax, cold, neuron, generator, labile: bool, max_epochs: int = 6) -> None:
    """MEIs of ``neuron`` (seed 0) at up to ``max_epochs`` epochs (rows) x methods (columns): class, probability, activation."""
    if neuron is None:
        ax.set_axis_off()
        ax.set_title("no neuron with an MEI", fontsize=9)
        return
    layer, unit = neuron
    rows = cold[(cold["layer"] == layer) & (cold["unit"] == unit) & (cold["seed"] == cold["seed"].min())]
    methods = list(dict.fromkeys(rows["method"]))
    epochs = sorted(set(rows["epoch"]))
    if len(epochs) > max_epochs:
        epochs = [epochs[int(round(i))] for i in np.linspace(0, len(epochs) - 1, max_epochs)]
    table = {(r["epoch"], r["method"]): r for r in rows.to_dict(orient="records")}
    cells = [[table.get((e, m)) for m in methods] for e in epochs]
    images = [_render(generator, row) for row in cells]
    _mosaic(ax, images, [[_caption(c) for c in row] for row in cells], [f"epoch {e}" for e in epochs], methods)
    kind = "labile neuron" if labile else "no labile neuron here: the neuron whose MEI class changes most"
    ax.set_title(f"{layer}:{unit} - {kind} (c class, p probability, a activation)", fontsize=8)


def draw_generator_meis(ax, records, compare, sources, study) -> None:
    """One first-layer neuron's MEIs (seed 0, compare epoch) with each generator (rows) x methods (columns)."""
    layer = study.layers[0]
    first = compare[compare["layer"] == layer]
    if first.empty:
        ax.set_axis_off()
        return
    unit = int(first.assign(gap=first["first"] - first["second"]).sort_values("gap").iloc[len(first) // 2]["unit"])
    epoch = study.compare_epochs[-1]
    rows, captions, images, names = [], [], [], []
    for key in ("primary", "compare"):
        source = sources[key]
        chosen = records[(records["network"] == source.name) & (records["layer"] == layer) & (records["unit"] == unit)
                         & (records["epoch"] == epoch) & (records["seed"] == records["seed"].min()) & (records["init"] == "cold")]
        by_method = {r["method"]: r for r in chosen.to_dict(orient="records")}
        methods = sorted(by_method) if not rows else rows
        rows = methods
        cells = [by_method.get(m) for m in methods]
        images.append(_render(source.generator("uniform"), cells))
        captions.append([_caption(c) for c in cells])
        names.append(source.name)
    if not rows:
        ax.set_axis_off()
        return
    _mosaic(ax, images, captions, names, rows)
    ax.set_title(f"{layer}:{unit} at epoch {epoch}: MEIs with each generator (median activation gap)", fontsize=8)


def draw_layer_gallery(ax, cold, generator, layers, epoch: int, per_layer: int = 6) -> None:
    """The best MEI (over methods, first seed) of up to ``per_layer`` neurons of each layer (rows) at ``epoch``."""
    at = cold[(cold["epoch"] == epoch) & (cold["seed"] == cold["seed"].min())]
    best = at.assign(_rank=at["best"].fillna(-1)).sort_values("_rank", ascending=False).drop_duplicates(["layer", "unit"])
    rows, captions = [], []
    for layer in layers:
        chosen = best[best["layer"] == layer].sort_values("unit").head(per_layer).to_dict(orient="records")
        chosen += [None] * (per_layer - len(chosen))
        rows.append(_render(generator, chosen))
        captions.append([_caption(c) if c is not None else "" for c in chosen])
    _mosaic(ax, rows, captions, list(layers), [f"neuron {i + 1}" for i in range(per_layer)])
    ax.set_title(f"best MEI of each neuron at epoch {epoch} (first seed; c class, p probability, a activation)", fontsize=8)
