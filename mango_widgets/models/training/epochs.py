"""Resumable classifier training: weights, sha256 and held-out metrics written at every epoch.

One loop for every recipe in :mod:`mango_widgets.models.recipes`: Adam with a linear warm-up
then cosine decay to zero over the run, random shifts as augmentation, cross-entropy on the
class scores the probe reads (output summed over T: softmax of spike counts). For the
``demo-snn`` recipe this is exactly the loop that made the bundled demo weights.

After every epoch the run folder gets ``weights/epoch_NNN.pt``, ``resume.pt`` (optimizer,
schedule and random-generator states) and ``manifest.json``, each written atomically, so a
killed run loses at most the epoch in progress; the same command resumes it and repeats the
uninterrupted run (same seed, same threads, same machine kind).
"""
from __future__ import annotations

import math
import platform
import time
from functools import partial
from pathlib import Path
from typing import Callable, Optional

import torch
import torch.nn.functional as F

from mango_widgets.errors import ConfigError, WeightsError
from mango_widgets.models.checkpoints import load_state_dict, sha256_of
from mango_widgets.models.datasets import load_dataset
from mango_widgets.models.mnist_subset import random_shift
from mango_widgets.models.recipes import recipe
from mango_widgets.models.trained import MANIFEST, RUN_FORMAT, RUN_KIND, read_run
from mango_widgets.models.training.demo_snn import warmup_cosine
from mango_widgets.models.training.network_trainer import class_scores
from mango_widgets.records.atomic import write_json, write_torch
from mango_widgets.runtime.threads import torch_threads

RESUME = "resume.pt"
#: the offline data every built-in recipe trains on: train split / held-out split
TRAIN_SPLIT, HELDOUT_SPLIT = "train", "test"


def default_out(name: str) -> Path:
    """Where a run goes when no folder is given: ``~/.cache/mango_widgets/runs/<recipe>``."""
    return Path.home() / ".cache" / "mango_widgets" / "runs" / name


def environment(threads: int) -> dict:
    """Library versions and threads the weights depend on (recorded, not enforced)."""
    import numpy

    versions = {"torch": torch.__version__, "numpy": numpy.__version__, "python": platform.python_version()}
    for name in ("snntorch", "spikingjelly"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # not installed: not used by this recipe
            versions[name] = None
    return {**versions, "threads": threads, "machine": platform.machine(), "cpu": _cpu_model()}


def _cpu_model() -> str:
    """The CPU's model name (weights can differ in the last bits between CPU kinds)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _tensors(name: str, split: str, limit: Optional[int] = None):
    """A dataset split (``limit`` items spread over it, or all) as (images [N, C, H, W], labels [N]) tensors."""
    data = load_dataset(name, split, limit=limit)
    if hasattr(data, "images"):
        return data.images, data.labels
    images, labels = zip(*(data[i] for i in range(len(data))))
    return torch.stack(images), torch.tensor(labels)


@torch.no_grad()
def evaluate(network, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 250):
    """Held-out accuracy (argmax of the class scores) and mean top-class probability (softmax of them)."""
    network.module.eval()
    correct, top = 0, 0.0
    for i in range(0, len(images), batch_size):
        x = images[i:i + batch_size].to(network.device)
        x = network.preprocess(x) if network.preprocess is not None else x
        scores = class_scores(network.module, x, network.T, network.time_mode)
        correct += (scores.argmax(1).cpu() == labels[i:i + batch_size]).sum().item()
        top += scores.softmax(1).max(1).values.sum().item()
    return correct / len(images), top / len(images)


class EpochRun:
    """One run of a recipe into a folder: fresh or resumed, one epoch at a time."""

    def __init__(self, name: str, out=None, overrides: Optional[dict] = None, threads: int = 1,
                 device: str = "cpu", progress: Callable[[str], None] = print):
        self.recipe = recipe(name)
        self.settings = self.recipe.settings(dict(overrides or {}))
        if int(self.settings["epochs"]) < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.settings['epochs']}")
        self.out = Path(out).expanduser() if out is not None else default_out(name)
        self.threads, self.device, self.progress = threads, device, progress

    # ------------------------------------------------------------- setup
    def _previous(self) -> Optional[dict]:
        if not (self.out / MANIFEST).is_file():
            if self.out.is_dir() and any(self.out.iterdir()):
                raise ConfigError(f"{self.out} holds other files and no run manifest; pick an empty or new --out")
            return None
        saved = read_run(self.out)
        if saved["recipe"] != self.recipe.name:
            raise ConfigError(f"{self.out} holds a run of {saved['recipe']!r}, not {self.recipe.name!r}; pick another --out")
        # a setting the run does not record is newer than the run, which then had its default
        recorded = {**self.recipe.settings({}), **saved["settings"]}
        differ = {k: (recorded.get(k), v) for k, v in self.settings.items() if recorded.get(k) != v}
        if differ:
            shown = ", ".join(f"{k}: run has {a!r}, asked {b!r}" for k, (a, b) in differ.items())
            raise ConfigError(f"{self.out} was trained with other settings ({shown}); the schedule and weights depend "
                              "on them, so resume with the run's settings or train into a new --out")
        return saved

    def _build(self):
        s = self.settings
        torch.manual_seed(s["seed"])
        self.network = self.recipe.network(s, device=self.device)
        self.module = self.network.module
        self.rng = torch.Generator().manual_seed(s["seed"])
        dataset = s.get("dataset", "mnist-subset")
        self.x_train, self.y_train = _tensors(dataset, TRAIN_SPLIT, s.get("train_limit"))
        self.x_heldout, self.y_heldout = _tensors(dataset, HELDOUT_SPLIT, s.get("heldout_limit"))
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=s["lr"], weight_decay=s["weight_decay"])
        steps = math.ceil(len(self.x_train) / s["batch_size"]) * s["epochs"]
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, partial(warmup_cosine, warmup=s["warmup_steps"], total=steps))

    def _resume(self, saved: dict) -> int:
        """Load the last finished epoch; returns the next epoch to train."""
        state_path = self.out / RESUME
        last = saved.get("resume", {})
        if not last or not state_path.is_file() or sha256_of(state_path) != last.get("sha256"):
            raise WeightsError(f"{state_path} is missing or does not match the manifest; the run cannot be resumed "
                               "exactly: train into a new --out")
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        epoch = int(state["epoch"])
        entry = saved["epochs"][str(epoch)]
        load_state_dict(self.module, self.out / entry["file"], sha256=entry["sha256"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.rng.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        self.manifest = {**saved, "settings": self.settings}
        self.progress(f"resumed {self.out} after epoch {epoch}")
        return epoch + 1

    # ------------------------------------------------------------- epochs
    def _train_epoch(self) -> dict:
        s, module = self.settings, self.module
        module.train()
        order = torch.randperm(len(self.x_train), generator=self.rng)
        loss_sum, correct = 0.0, 0
        for i in range(0, len(order), s["batch_size"]):
            idx = order[i:i + s["batch_size"]]
            x = random_shift(self.x_train[idx], s["max_shift"], self.rng).to(self.device)
            y = self.y_train[idx].to(self.device)
            x = self.network.preprocess(x) if self.network.preprocess is not None else x
            scores = class_scores(module, x, self.network.T, self.network.time_mode)
            loss = F.cross_entropy(scores, y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.schedule.step()
            loss_sum += loss.item() * len(idx)
            correct += (scores.argmax(1) == y).sum().item()
        return {"train_loss": round(loss_sum / len(order), 5), "train_accuracy": round(correct / len(order), 5)}

    def _save(self, epoch: int, row: dict) -> None:
        weights = self.out / "weights" / f"epoch_{epoch:03d}.pt"
        weights.parent.mkdir(parents=True, exist_ok=True)
        write_torch(weights, self.module.state_dict())
        write_torch(self.out / RESUME, {"epoch": epoch, "optimizer": self.optimizer.state_dict(),
                                        "schedule": self.schedule.state_dict(), "rng": self.rng.get_state(),
                                        "torch_rng": torch.get_rng_state()})
        m = self.manifest
        m["epochs"][str(epoch)] = {"file": str(weights.relative_to(self.out)), "sha256": sha256_of(weights),
                                   "bytes": weights.stat().st_size}
        m["metrics"] = [r for r in m["metrics"] if r["epoch"] < epoch] + [row]
        m["resume"] = {"file": RESUME, "epoch": epoch, "sha256": sha256_of(self.out / RESUME)}
        m["complete"] = epoch == self.settings["epochs"]
        write_json(self.out / MANIFEST, m, indent=1)

    def run(self) -> dict:
        """Train the remaining epochs; returns the final manifest."""
        saved = self._previous()
        if saved is not None and saved.get("complete"):
            self.progress(f"{self.out}: all {self.settings['epochs']} epochs are already trained")
            return saved
        with torch_threads(self.threads):
            self._build()
            net = self.network
            self.manifest = {"format": RUN_FORMAT, "kind": RUN_KIND, "recipe": self.recipe.name,
                             "description": self.recipe.description, "settings": self.settings,
                             "environment": environment(self.threads),
                             "network": {"input_shape": list(net.input_shape), "T": net.T, "time_mode": net.time_mode,
                                         "classes": list(net.classes or [])},
                             "data": f"{self.settings.get('dataset', 'mnist-subset')}: {len(self.x_train)} train / "
                                     f"{len(self.x_heldout)} held-out",
                             "epochs": {}, "metrics": [], "complete": False}
            if saved is not None and saved["epochs"]:
                start = self._resume(saved)
            else:  # new, or stopped before its first epoch was saved
                start = 1
                self.out.mkdir(parents=True, exist_ok=True)
                write_json(self.out / MANIFEST, self.manifest, indent=1)
            for epoch in range(start, self.settings["epochs"] + 1):
                t0 = time.perf_counter()
                row = {"epoch": epoch, **self._train_epoch()}
                accuracy, top = evaluate(net, self.x_heldout, self.y_heldout)
                row.update(heldout_accuracy=round(accuracy, 5), heldout_mean_top_class_probability=round(top, 5),
                           seconds=round(time.perf_counter() - t0, 2))
                self._save(epoch, row)
                self.progress(f"{self.recipe.name} epoch {epoch}/{self.settings['epochs']}: "
                              + ", ".join(f"{k}={v}" for k, v in row.items() if k != "epoch"))
        return self.manifest
