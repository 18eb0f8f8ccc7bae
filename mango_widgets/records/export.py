"""Export finished runs: the result files of :func:`save_search` plus a GIF of the best-so-far MEI.

The GIF replays a run: one frame per distinct best-so-far grid point (re-rendered with the
search's generator), captioned with the query that found it and its activation; each frame
stays on screen in proportion to the queries spent before the next improvement.
Usable from plain Python and from the explorer's Export button.
"""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple, Union

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mango_widgets.core.search import Search
from mango_widgets.errors import ConfigError
from mango_widgets.records.atomic import write_bytes
from mango_widgets.records.images import to_pil
from mango_widgets.records.results import save_search

#: file name of the animation inside an exported result folder
GIF_NAME = "mei_progress.gif"


def improvements(values: np.ndarray) -> np.ndarray:
    """0-based positions of the queries that raised the best-so-far value (the first query included)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    previous_best = np.concatenate([[-np.inf], np.maximum.accumulate(values)[:-1]])
    return np.flatnonzero(values > previous_best)


def _pick_frames(positions: np.ndarray, max_frames: int) -> np.ndarray:
    """At most ``max_frames`` of the improvement positions, evenly spread, the last one always kept."""
    if len(positions) <= max_frames:
        return positions
    keep = np.unique(np.linspace(0, len(positions) - 1, max_frames).round().astype(int))
    return positions[keep]


def best_so_far_frames(search: Search, max_frames: int = 60, scale: int = 4) -> Tuple[List[Image.Image], List[int]]:
    """Frames (captioned PIL images) of the best-so-far MEI over the run, and their durations in ms."""
    if max_frames < 1:
        raise ConfigError(f"max_frames must be >= 1, got {max_frames}")
    values, indices = search.history.values, search.history.indices
    if len(values) == 0:
        raise ConfigError("this search made no queries yet: there is nothing to animate")
    positions = _pick_frames(improvements(values), max_frames)
    images = np.concatenate(
        [search.objective.images(indices[positions[i : i + 64]]).cpu().numpy() for i in range(0, len(positions), 64)]
    )
    total = len(values)
    ends = np.append(positions[1:], total)  # each frame lasts until the next kept improvement
    durations = [int(np.clip(4000 * (end - start) / total, 80, 1000)) for start, end in zip(positions, ends)]
    durations[-1] = 1500  # hold the final MEI
    font = ImageFont.load_default()
    frames = []
    for image, position in zip(images, positions):
        picture = to_pil(image, scale).convert("RGB")
        band = max(14, picture.height // 6)
        frame = Image.new("RGB", (max(picture.width, 120), picture.height + 2 * band), "black")
        frame.paste(picture, ((frame.width - picture.width) // 2, 0))
        draw = ImageDraw.Draw(frame)
        draw.text((3, picture.height + 1), f"query {position + 1}/{total}", fill="white", font=font)
        draw.text((3, picture.height + band + 1), f"activation {values[position]:.4f}", fill="white", font=font)
        frames.append(frame)
    return frames, durations


def save_progress_gif(search: Search, path: Union[str, Path], max_frames: int = 60, scale: int = 4) -> Path:
    """Write the best-so-far MEI animation of ``search`` as a looping GIF; returns its path."""
    frames, durations = best_so_far_frames(search, max_frames=max_frames, scale=scale)
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0, optimize=False)
    return write_bytes(path, buffer.getvalue())


def export_search(search: Search, folder: Union[str, Path], gif: bool = True, max_frames: int = 60) -> Path:
    """Write a run's results into ``folder``: ``save_search`` files plus ``mei_progress.gif``."""
    if search.state in ("ready", "running"):
        raise ConfigError(f"the search is {search.state}; export it once it has finished or been stopped")
    folder = save_search(search, folder)
    if gif and len(search.history):
        save_progress_gif(search, folder / GIF_NAME, max_frames=max_frames)
    return folder


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-") or "search"


def export_searches(
    searches: Union[Dict[str, Search], Sequence[Search], Iterable[Search]],
    folder: Union[str, Path],
    gif: bool = True,
    max_frames: int = 60,
) -> Dict[str, Path]:
    """Export several runs (e.g. the methods of one explorer run) into one sub-folder each.

    ``searches`` is a dict name -> Search, or a sequence (named by method, made unique);
    searches that never started are skipped. Returns name -> folder.
    """
    named = searches.items() if isinstance(searches, dict) else ((s.optimizer.name, s) for s in searches)
    folder = Path(folder)
    written: Dict[str, Path] = {}
    for name, search in named:
        if search.state == "ready":
            continue
        base = key = _slug(name)
        count = 2
        while key in written:
            key, count = f"{base}-{count}", count + 1
        written[key] = export_search(search, folder / key, gif=gif, max_frames=max_frames)
    if not written:
        raise ConfigError("no finished or stopped search to export; run one first")
    return written


__all__ = [
    "GIF_NAME", "best_so_far_frames", "export_search", "export_searches", "improvements",
    "save_progress_gif", "to_pil",
]
