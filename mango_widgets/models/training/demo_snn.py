"""Train the demo SNN on the MNIST subset with cross-entropy on output spike counts.

The toolkit defines an SNN's class probabilities as softmax(output spike counts), so the
training loss uses exactly those counts as logits.
"""
from __future__ import annotations

import math
import time
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F

from mango_widgets.models.architectures.demo_snn import demo_snn
from mango_widgets.models.mnist_subset import load_mnist_subset, random_shift
from mango_widgets.records.atomic import write_json, write_torch
from mango_widgets.runtime.snn_state import reset_state

#: default training settings (recorded in the manifest)
SNN_DEFAULTS = dict(epochs=12, T=20, batch_size=64, lr=1e-3, warmup_steps=100, weight_decay=0.0,
                    max_shift=2, init_gain=2.0, seed=0, beta=0.9, threshold=1.0)


def spike_counts(net: torch.nn.Module, x: torch.Tensor, T: int) -> torch.Tensor:
    """Reset ``net`` and sum its output spikes over ``T`` steps of the repeated image ``x``."""
    reset_state(net)
    counts = 0
    for _ in range(T):
        counts = counts + net(x)
    return counts


def warmup_cosine(step: int, warmup: int, total: int) -> float:
    """Learning-rate factor: linear warm-up over ``warmup`` steps, then cosine decay to zero at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))


@torch.no_grad()
def scale_init(net: torch.nn.Module, gain: float) -> None:
    """Multiply the default weights of all but the last layer by ``gain``.

    With PyTorch's default init the deeper LIF layers of the demo SNN stay silent and barely
    learn; the output layer keeps its default scale so it does not start with huge wrong counts.
    """
    layers = [m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    for m in layers[:-1]:
        m.weight.mul_(gain)


@torch.no_grad()
def evaluate(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, T: int, batch_size: int = 250):
    """Accuracy (argmax of counts) and mean top-class probability (softmax of counts)."""
    net.eval()
    correct, top = 0, 0.0
    for i in range(0, len(x), batch_size):
        counts = spike_counts(net, x[i:i + batch_size], T)
        correct += (counts.argmax(1) == y[i:i + batch_size]).sum().item()
        top += counts.softmax(1).max(1).values.sum().item()
    return correct / len(x), top / len(x)


def train_demo_snn(epochs: int = 12, T: int = 20, batch_size: int = 64, lr: float = 1e-3,
                   seed: int = 0, out_dir="mango_widgets/models/weights", progress=None,
                   warmup_steps: int = 100, weight_decay: float = 0.0, max_shift: int = 2,
                   init_gain: float = 2.0, beta: float = 0.9, threshold: float = 1.0) -> list[dict]:
    """Train the demo SNN, saving ``snn_epochNN.pt`` after every epoch; return per-epoch metrics.

    Adam with a linear warm-up then cosine decay (without warm-up the first large count errors
    silence the whole network), small random shifts as augmentation. ``progress``
    (optional) is called with a message string after every epoch.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x_tr, y_tr = load_mnist_subset("train", seed=0)
    x_ho, y_ho = load_mnist_subset("heldout", seed=0)
    net = demo_snn(beta=beta, threshold=threshold)
    scale_init(net, init_gain)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = (len(x_tr) + batch_size - 1) // batch_size
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, partial(warmup_cosine, warmup=warmup_steps, total=epochs * steps_per_epoch))
    metrics = []
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        net.train()
        order = torch.randperm(len(x_tr), generator=gen)
        loss_sum, correct = 0.0, 0
        for i in range(0, len(x_tr), batch_size):
            idx = order[i:i + batch_size]
            xb, yb = random_shift(x_tr[idx], max_shift, gen), y_tr[idx]
            counts = spike_counts(net, xb, T)
            loss = F.cross_entropy(counts, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (counts.argmax(1) == yb).sum().item()
        acc, top = evaluate(net, x_ho, y_ho, T)
        write_torch(out_dir / f"snn_epoch{epoch:02d}.pt", net.state_dict())
        m = dict(epoch=epoch, train_loss=round(loss_sum / len(x_tr), 5),
                 train_accuracy=round(correct / len(x_tr), 5), heldout_accuracy=round(acc, 5),
                 heldout_mean_top_class_probability=round(top, 5),
                 seconds=round(time.perf_counter() - t0, 2))
        metrics.append(m)
        write_json(out_dir / "snn_metrics.json", metrics, indent=1)
        if progress is not None:
            progress(f"snn epoch {epoch}/{epochs}: " + ", ".join(f"{k}={v}" for k, v in m.items()))
    return metrics
