"""``mango train``: train a zoo network (SNN or ANN classifier) or generator (GAN, VQ-VAE).

    mango train --model conv-snn-mnist --dataset mnist --epochs 5 --T 25 --out runs/snn
    mango train --model sngan32 --dataset cifar10 --epochs 50 --checkpoint-every 5 --out runs/gan
    mango train --model sngan32 --epochs 60 --resume runs/gan/checkpoints/epoch_050.pt --out runs/gan

Every epoch appends a row to ``metrics.csv`` and ``metrics.json`` (loss, accuracy, seconds...);
every ``--checkpoint-every`` epochs (and at the end) a resumable checkpoint (models, optimizers,
epoch; tensors and plain values only, read back with ``weights_only=True``) goes to
``checkpoints/epoch_NNN.pt``. The trained model is written as ``model.pt`` + ``model.json``
(reload with ``mango_widgets.models.zoo.load``); generators also get a ``samples.png`` grid.
Runs are reproducible: epoch e reshuffles and seeds with ``seed * 1000 + e``, so a resumed
run repeats the uninterrupted one. Uses the GPU when there is one (``--device auto``).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, Optional

import torch
import torch.nn.functional as F

from mango_widgets.errors import ConfigError, MangoError, WeightsError, seed_number, whole_number
from mango_widgets.models import zoo
from mango_widgets.models.checkpoints import read_checkpoint
from mango_widgets.models.datasets import load_dataset
from mango_widgets.models.training.demo_generator import uniform_latents
from mango_widgets.models.training.demo_snn import spike_counts
from mango_widgets.records.atomic import write_bytes, write_json, write_text
from mango_widgets.runtime.snn_state import reset_state
from mango_widgets.runtime.threads import torch_threads

#: version of the resumable checkpoint layout
CHECKPOINT_FORMAT = 1
#: learning rate per kind of training when --lr is not given (SN-GAN's 2e-4 with Adam betas (0, 0.9))
DEFAULT_LR = {"classifier": 1e-3, "gan": 2e-4, "autoencoder": 1e-3}


@dataclass
class TrainConfig:
    """Everything a training run depends on (saved with every checkpoint)."""

    model: str
    out: str = "runs/train"
    dataset: Optional[str] = None  # default: the model's own dataset
    root: Optional[str] = None
    download: bool = False
    verify: bool = True
    image_size: Optional[int] = None  # ImageNet crop side
    epochs: int = 10
    T: Optional[int] = None  # default: the network's paper value
    batch_size: int = 64
    lr: Optional[float] = None  # default: DEFAULT_LR of the kind of model
    checkpoint_every: int = 1
    resume: Optional[str] = None
    device: str = "auto"
    limit: Optional[int] = None
    test_limit: Optional[int] = None
    seed: int = 0
    threads: Optional[int] = None
    model_args: Dict = field(default_factory=dict)
    disc_args: Dict = field(default_factory=dict)
    sample_rows: int = 8
    codebook_restart: int = 20  # VQ-VAE: every N steps move unused codebook entries onto encodings (0: never)

    def __post_init__(self):
        """Refuse values that would fail late or train silently wrong (a NaN rate trains nothing)."""
        for name, least in (("epochs", 1), ("batch_size", 1), ("checkpoint_every", 1), ("sample_rows", 1), ("T", 1),
                            ("limit", 1), ("test_limit", 1), ("threads", 1), ("image_size", 8)):
            if getattr(self, name) is not None:
                setattr(self, name, whole_number(getattr(self, name), f"--{name.replace('_', '-')}", minimum=least))
        self.seed = seed_number(self.seed)
        if self.lr is not None and not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"--lr must be a finite learning rate > 0, got {self.lr!r} (e.g. 1e-3; GANs 2e-4)")


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for but torch sees no CUDA device; use --device auto or cpu")
    return torch.device(device)


def class_scores(module: torch.nn.Module, x: torch.Tensor, T: int, time_mode: str) -> torch.Tensor:
    """Class scores the loss sees: output summed over T steps (spike counts for an SNN), logits for an ANN.

    The same readout as ``Network.class_probabilities`` (softmax of counts), so what is trained is
    what is probed.
    """
    if time_mode == "step":
        return spike_counts(module, x, T)
    if time_mode == "static":
        return module(x)
    reset_state(module)
    if time_mode == "sequence":
        out = module(x.unsqueeze(0).expand(T, *x.shape).contiguous())
    else:  # internal: the module loops itself and returns [steps, B, classes] (maybe in a tuple)
        out = module(x)
        out = out[0] if isinstance(out, (tuple, list)) else out
    return out.sum(0) if out.ndim == 3 else out


# --------------------------------------------------------------------------- runs
class Run:
    """One training run: builds models and optimizers, steps epochs, writes files."""

    def __init__(self, config: TrainConfig, progress: Callable[[str], None] = print):
        self.config, self.progress = config, progress
        self.device = resolve_device(config.device)
        self.out = Path(config.out)
        self.kind = self._kind()
        self.lr = config.lr or DEFAULT_LR[self.kind]
        self.metrics: list = []
        self.start_epoch = 1

    def _kind(self) -> str:
        name = self.config.model
        if name in zoo.NETWORKS:
            return "classifier"
        if name in zoo.GENERATORS:
            return zoo.GENERATORS[name].trainer
        raise ConfigError(f"unknown model {name!r}; networks: {', '.join(zoo.NETWORKS)}; "
                          f"generators: {', '.join(zoo.GENERATORS)}")

    # ------------------------------------------------------------- setup
    def setup(self) -> Run:
        c = self.config
        torch.manual_seed(c.seed)
        if self.kind == "classifier":
            entry = zoo.network_entry(c.model)
            self.dataset = c.dataset or entry.dataset
            self.network = zoo.make_network(c.model, T=c.T, dataset=self.dataset, device=str(self.device), **c.model_args)
            self.models = {"model": self.network.module}
            self.optimizers = {"model": torch.optim.Adam(self.network.module.parameters(), lr=self.lr)}
            self.test_data = load_dataset(self.dataset, "test", c.root, c.download, c.verify, c.image_size,
                                          limit=c.test_limit)
        else:
            self.entry = zoo.generator_entry(c.model)
            self.dataset = c.dataset or self.entry.dataset
            g = zoo.build_generator_module(c.model, device=str(self.device), **c.model_args).to(self.device)
            self.models = {"generator": g}
            betas = (0.0, 0.9) if self.kind == "gan" else (0.9, 0.999)
            self.optimizers = {"generator": torch.optim.Adam(g.parameters(), lr=self.lr, betas=betas)}
            if self.kind == "gan":
                d = self._discriminator(g).to(self.device)
                self.models["discriminator"] = d
                self.optimizers["discriminator"] = torch.optim.Adam(d.parameters(), lr=self.lr, betas=betas)
        self.train_data = load_dataset(self.dataset, "train", c.root, c.download, c.verify, c.image_size,
                                       limit=c.limit)
        self._check_shapes()
        if c.resume:
            self._resume(Path(c.resume))
        return self

    def _discriminator(self, g: torch.nn.Module) -> torch.nn.Module:
        import inspect

        builder = self.entry.discriminator
        kwargs = {**self.entry.discriminator_kwargs, **self.config.disc_args}
        if "channels" in inspect.signature(builder).parameters and hasattr(g, "channels"):
            kwargs.setdefault("channels", g.channels)
        return builder(**kwargs)

    def _check_shapes(self) -> None:
        image = self.train_data[0][0]
        expected = self.network.input_shape if self.kind == "classifier" \
            else zoo.generator_image_shape(self.entry, self.models["generator"])
        if tuple(image.shape) != tuple(expected):
            raise ConfigError(f"{self.dataset} images are {tuple(image.shape)} but {self.config.model} takes {tuple(expected)}; "
                              "pick a dataset of the right size or change the model's image size")

    # ------------------------------------------------------------- checkpoints
    def _checkpoint_path(self, epoch: int) -> Path:
        return self.out / "checkpoints" / f"epoch_{epoch:03d}.pt"

    def save_checkpoint(self, epoch: int) -> Path:
        path, buffer = self._checkpoint_path(epoch), io.BytesIO()
        torch.save({"format": CHECKPOINT_FORMAT, "epoch": epoch,
                    "models": {k: m.state_dict() for k, m in self.models.items()},
                    "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()}}, buffer)
        write_bytes(path, buffer.getvalue())  # atomic: a kill mid-save keeps the previous checkpoints whole
        write_json(path.with_suffix(".json"), {"config": asdict(self.config), "epoch": epoch, "metrics": self.metrics}, indent=1)
        return path

    def _resume(self, path: Path) -> None:
        if not path.is_file():
            raise WeightsError(f"checkpoint {path} does not exist; checkpoints are in <out>/checkpoints/epoch_NNN.pt")
        sidecar = path.with_suffix(".json")
        try:
            saved = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise WeightsError(f"{sidecar} is damaged ({error}); resume from an earlier checkpoint") from None
        if saved and saved["config"]["model"] != self.config.model:
            raise ConfigError(f"{path} is a checkpoint of {saved['config']['model']!r}, not {self.config.model!r}")
        state = read_checkpoint(path, map_location=self.device)
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise WeightsError(f"{path} is not a `mango train` checkpoint (use zoo.load / weights= for plain weights)")
        for key, module in self.models.items():
            missing, unexpected = module.load_state_dict(state["models"][key], strict=False)
            if missing or unexpected:
                raise WeightsError(f"checkpoint {path} does not fit {self.config.model} ({key}): missing {missing[:5]}, "
                                   f"unexpected {unexpected[:5]}; were --model-arg values different?")
            self.optimizers[key].load_state_dict(state["optimizers"][key])
        self.start_epoch = int(state["epoch"]) + 1
        self.metrics = [m for m in saved.get("metrics", []) if m["epoch"] < self.start_epoch]
        self.progress(f"resumed from {path} (epoch {state['epoch']})")

    # ------------------------------------------------------------- epochs
    def _loader(self, data, epoch: int, shuffle: bool = True, drop_last: bool = False):
        generator = torch.Generator().manual_seed(self.config.seed * 1000 + epoch)
        return torch.utils.data.DataLoader(data, batch_size=self.config.batch_size, shuffle=shuffle,
                                           generator=generator, drop_last=drop_last)

    def run(self) -> list:
        c = self.config
        if c.epochs < self.start_epoch:
            raise ConfigError(f"--epochs {c.epochs} is not after the resumed epoch {self.start_epoch - 1}; raise --epochs")
        if c.checkpoint_every < 1:
            raise ConfigError(f"--checkpoint-every must be >= 1, got {c.checkpoint_every}")
        self.out.mkdir(parents=True, exist_ok=True)
        step = {"classifier": self._classifier_epoch, "gan": self._gan_epoch, "autoencoder": self._autoencoder_epoch}[self.kind]
        for epoch in range(self.start_epoch, c.epochs + 1):
            torch.manual_seed(c.seed * 1000 + epoch)
            t0 = time.perf_counter()
            row = {"epoch": epoch, **step(epoch)}
            row["seconds"] = round(time.perf_counter() - t0, 3)
            self.metrics.append(row)
            self._write_metrics()
            self.progress(f"{c.model} epoch {epoch}/{c.epochs}: " + ", ".join(f"{k}={v}" for k, v in row.items() if k != "epoch"))
            if epoch % c.checkpoint_every == 0 or epoch == c.epochs:
                self.save_checkpoint(epoch)
        self._finish()
        return self.metrics

    def _classifier_epoch(self, epoch: int) -> dict:
        net, module, opt = self.network, self.network.module, self.optimizers["model"]
        module.train()
        total, loss_sum, correct = 0, 0.0, 0
        for x, y in self._loader(self.train_data, epoch):
            x, y = x.to(self.device), y.to(self.device)
            scores = class_scores(module, net.preprocess(x), net.T, net.time_mode)
            loss = F.cross_entropy(scores, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += len(y)
            loss_sum += loss.item() * len(y)
            correct += (scores.argmax(1) == y).sum().item()
        test_loss, test_acc = self._evaluate()
        return {"train_loss": round(loss_sum / total, 5), "train_accuracy": round(correct / total, 5),
                "test_loss": round(test_loss, 5), "test_accuracy": round(test_acc, 5)}

    @torch.no_grad()
    def _evaluate(self):
        net, module = self.network, self.network.module
        module.eval()
        total, loss_sum, correct = 0, 0.0, 0
        for x, y in self._loader(self.test_data, 0, shuffle=False):
            x, y = x.to(self.device), y.to(self.device)
            scores = class_scores(module, net.preprocess(x), net.T, net.time_mode)
            loss_sum += F.cross_entropy(scores, y, reduction="sum").item()
            correct += (scores.argmax(1) == y).sum().item()
            total += len(y)
        return loss_sum / max(total, 1), correct / max(total, 1)

    def _gan_epoch(self, epoch: int) -> dict:
        from mango_widgets.models.architectures.sngan32 import hinge_d_loss, hinge_g_loss

        g, d = self.models["generator"], self.models["discriminator"]
        opt_g, opt_d = self.optimizers["generator"], self.optimizers["discriminator"]
        grid, rng = self.entry.grid, torch.Generator().manual_seed(self.config.seed * 1000 + epoch)
        g.train()
        d.train()
        sums, n = {"d_loss": 0.0, "g_loss": 0.0}, 0
        for real, _ in self._loader(self.train_data, epoch, drop_last=True):
            real = real.to(self.device)
            z = uniform_latents(len(real), g.latent_dim, rng, grid.low, grid.high).to(self.device)
            fake = g(z)
            loss_d = hinge_d_loss(d(real), d(fake.detach()))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = hinge_g_loss(d(fake))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            sums["d_loss"] += loss_d.item()
            sums["g_loss"] += loss_g.item()
            n += 1
        if n == 0:
            raise ConfigError(f"no full batch of {self.config.batch_size} in {len(self.train_data)} images; lower --batch-size")
        return {k: round(v / n, 5) for k, v in sums.items()}

    def _autoencoder_epoch(self, epoch: int) -> dict:
        vq, opt, every = self.models["generator"], self.optimizers["generator"], self.config.codebook_restart
        vq.train()
        sums, n, used, restarted = {"recon_loss": 0.0, "recon_mse": 0.0, "vq_loss": 0.0}, 0, set(), 0
        usage = torch.zeros(vq.num_embeddings, dtype=torch.long)
        for step, (x, _) in enumerate(self._loader(self.train_data, epoch), 1):
            x = x.to(self.device)
            recon, vq_loss, indices = vq(x)
            # cross-entropy, not MSE: with MSE the sigmoid output saturates at 0 on mostly-dark images within
            # ~20 Adam steps and the decoder never recovers (it outputs a blank image)
            recon_loss = F.binary_cross_entropy(recon, x)
            opt.zero_grad()
            (recon_loss + vq_loss).backward()
            opt.step()
            sums["recon_loss"] += recon_loss.item() * len(x)
            sums["recon_mse"] += F.mse_loss(recon.detach(), x).item() * len(x)
            sums["vq_loss"] += vq_loss.item() * len(x)
            n += len(x)
            used.update(indices.unique().tolist())
            usage += torch.bincount(indices.flatten().cpu(), minlength=vq.num_embeddings)
            if every and step % every == 0:  # entries unused for `every` steps restart on fresh encodings
                restarted += vq.restart_dead_codes(x, usage)
                usage.zero_()
        row = {k: round(v / n, 5) for k, v in sums.items()}
        row.update(codebook_used=len(used), codebook_restarted=restarted)
        return row

    # ------------------------------------------------------------- outputs
    def _write_metrics(self) -> None:
        write_json(self.out / "metrics.json", self.metrics, indent=1)
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=list(dict.fromkeys(k for row in self.metrics for k in row)))
        writer.writeheader()
        writer.writerows(self.metrics)
        write_text(self.out / "metrics.csv", text.getvalue())

    def _finish(self) -> None:
        if self.kind == "classifier":
            zoo.save(self.network, self.out / "model.pt")
            return
        g = self.models["generator"]
        zoo.save(g, self.out / "model.pt")
        save_sample_grid(zoo.load(self.out / "model.pt", device=str(self.device)), self.out / "samples.png",
                         rows=self.config.sample_rows, seed=self.config.seed)


@torch.no_grad()
def save_sample_grid(generator, path, rows: int = 8, seed: int = 0) -> Path:
    """PNG of rows x rows images at random points of the generator's search grid (what a search sees)."""
    import numpy as np
    from torchvision.utils import save_image

    indices = generator.grid.random(rows * rows, np.random.default_rng(seed))
    images = generator(indices).cpu()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(images, path, nrow=rows, padding=1)
    return path


# --------------------------------------------------------------------------- command line
def _key_values(pairs) -> dict:
    """``["width=16", "channels=[8,16]"]`` -> {"width": 16, "channels": [8, 16]} (values parsed as JSON)."""
    result = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"cannot read {pair!r}; write KEY=VALUE, e.g. width=16")
        try:
            result[key] = json.loads(value)
        except json.JSONDecodeError:
            result[key] = value
    return result


def parse_args(argv=None) -> TrainConfig:
    p = argparse.ArgumentParser(prog="mango train", description="Train a zoo network or generator.",
                                epilog="models: " + ", ".join(list(zoo.NETWORKS) + list(zoo.GENERATORS)))
    p.add_argument("--model", required=True, help="zoo name, e.g. conv-snn-mnist, spiking-resnet18, sngan32, vqvae32")
    p.add_argument("--dataset", default=None, help="mnist-subset (offline), mnist, fashion-mnist, cifar10, imagenet "
                                                   "(default: the model's own)")
    p.add_argument("--data-root", dest="root", default=None,
                   help="data folder (default $MANGO_DATA or ~/.cache/mango_widgets/data)")
    p.add_argument("--download", action="store_true", help="let torchvision download missing data (needs network)")
    p.add_argument("--no-verify", dest="verify", action="store_false", help="accept a prepared CIFAR-10 subset (skip md5)")
    p.add_argument("--image-size", type=int, default=None, help="ImageNet crop side (default 224)")
    p.add_argument("--epochs", type=int, default=10, help="train up to this epoch (counts resumed epochs)")
    p.add_argument("--T", type=int, default=None, help="time steps of exposure for SNNs (default: the paper's)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 1e-3; GANs 2e-4)")
    p.add_argument("--checkpoint-every", type=int, default=1, help="write a resumable checkpoint every N epochs")
    p.add_argument("--resume", default=None, help="continue from <out>/checkpoints/epoch_NNN.pt")
    p.add_argument("--out", default="runs/train", help="output folder")
    p.add_argument("--device", default="auto", help="auto (GPU when available), cpu, cuda, cuda:1...")
    p.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    p.add_argument("--test-limit", type=int, default=None, help="use only the first N test images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--model-arg", dest="model_args", action="append", metavar="KEY=VALUE",
                   help="builder argument, e.g. width=64 (repeatable; values are JSON)")
    p.add_argument("--disc-arg", dest="disc_args", action="append", metavar="KEY=VALUE",
                   help="GAN discriminator argument, e.g. width=64")
    p.add_argument("--sample-rows", type=int, default=8, help="generator sample grid is rows x rows")
    p.add_argument("--codebook-restart", type=int, default=20,
                   help="VQ-VAE: every N steps move codebook entries no image used onto encodings (0: never)")
    args = vars(p.parse_args(argv))
    args["model_args"], args["disc_args"] = _key_values(args["model_args"]), _key_values(args["disc_args"])
    return TrainConfig(**args)


def train(config: TrainConfig, progress: Callable[[str], None] = print) -> list:
    """Run a whole training; returns the per-epoch metrics (torch threads restored afterwards)."""
    with torch_threads(config.threads or None):
        return Run(config, progress).setup().run()


def main(argv=None) -> int:
    """Entry point of ``mango train``; 0 on success, 2 on a usage or data error (printed), 130 when interrupted."""
    from mango_widgets.runtime.signals import interrupt_on_sigterm

    try:
        config = parse_args(argv)
        with interrupt_on_sigterm():
            train(config, progress=lambda msg: print(msg, flush=True))
    except MangoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: every checkpoint written so far is whole
        print(f"interrupted: continue with --resume {config.out}/checkpoints/epoch_NNN.pt (the latest there)", file=sys.stderr)
        return 130
    print(f"done: {config.out}/model.pt (+ model.json), metrics.csv, metrics.json, checkpoints/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
