"""``mango train`` for zoo networks (SNN or ANN classifiers): cross-entropy on the class scores a probe reads.

The loss sees the same readout as ``Network.class_probabilities`` (softmax of spike counts summed
over T steps for an SNN, logits for an ANN), so what is trained is what is probed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Tuple

import torch
import torch.nn.functional as F

from mango_widgets.models import zoo
from mango_widgets.models.datasets import load_dataset
from mango_widgets.models.training.demo_snn import spike_counts
from mango_widgets.models.training.trainer import Trainer
from mango_widgets.runtime.snn_state import reset_state


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


class ClassifierTrainer(Trainer):
    """A zoo network trained as a classifier, evaluated on the test split after every epoch."""

    kind = "classifier"
    default_lr = 1e-3

    def _build(self) -> str:
        c = self.config
        dataset = c.dataset or zoo.network_entry(c.model).dataset
        self.network = zoo.make_network(c.model, T=c.T, dataset=dataset, device=str(self.device), **c.model_args)
        self.models = {"model": self.network.module}
        self.optimizers = {"model": torch.optim.Adam(self.network.module.parameters(), lr=self.lr)}
        self.test_data = load_dataset(dataset, "test", c.root, c.download, c.verify, c.image_size, limit=c.test_limit)
        return dataset

    def image_shape(self) -> Tuple[int, int, int]:
        return tuple(self.network.input_shape)

    def _scores(self, x: torch.Tensor) -> torch.Tensor:
        net = self.network
        return class_scores(net.module, net.preprocess(x), net.T, net.time_mode)

    def epoch(self, epoch: int) -> dict:
        module, opt = self.network.module, self.optimizers["model"]
        module.train()
        total, loss_sum, correct = 0, 0.0, 0
        for x, y in self.batches(self.train_data, epoch):
            x, y = x.to(self.device), y.to(self.device)
            scores = self._scores(x)
            loss = F.cross_entropy(scores, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += len(y)
            loss_sum += loss.item() * len(y)
            correct += (scores.argmax(1) == y).sum().item()
        test_loss, test_acc = self.evaluate()
        return {"train_loss": round(loss_sum / total, 5), "train_accuracy": round(correct / total, 5),
                "test_loss": round(test_loss, 5), "test_accuracy": round(test_acc, 5)}

    @torch.no_grad()
    def evaluate(self) -> Tuple[float, float]:
        """Mean cross-entropy and accuracy on the test split."""
        self.network.module.eval()
        total, loss_sum, correct = 0, 0.0, 0
        for x, y in self.batches(self.test_data, 0, shuffle=False):
            x, y = x.to(self.device), y.to(self.device)
            scores = self._scores(x)
            loss_sum += F.cross_entropy(scores, y, reduction="sum").item()
            correct += (scores.argmax(1) == y).sum().item()
            total += len(y)
        return loss_sum / max(total, 1), correct / max(total, 1)

    def save(self, out: Path) -> None:
        zoo.save(self.network, out / "model.pt")
