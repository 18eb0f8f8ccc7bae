"""Spiking ResNet18 for 28x28 digits: probe and training throughput by width, T and stem (1 thread).

For every (width, T, stem) the probe objective (demo DCGAN generator -> ``spiking-resnet18-mnist``
-> one unit of ``layer2.1.sn1``, batch 25, uncached random grid points) and one training step
(forward + backward + Adam on a batch of 64 MNIST images, loss on the summed output) are timed.
Configurations run side by side: each round measures every configuration once in a shuffled
order; round 0 is a discarded warm-up; medians over rounds go to
``benchmarks/results/resnet_throughput.json`` (and a Markdown table next to it). Rates are given
per wall-clock second and per CPU second of this process (one torch thread: the rate one core
gives when it is not shared; on a loaded machine the wall rate falls, the CPU rate much less).

    MANGO_THREADS=1 .venv/bin/python benchmarks/resnet_throughput.py --rounds 4
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mango_widgets.core.objective import Objective
from mango_widgets.models import zoo
from mango_widgets.models.bundled import demo_generator
from mango_widgets.models.training.network_trainer import class_scores
from mango_widgets.runtime.threads import torch_threads

RESULTS = Path(__file__).parent / "results" / "resnet_throughput.json"
TRAIN_IMAGES, HELDOUT_IMAGES = 4000, 1000


class Case:
    """One (width, T, stem): its probe objective and its trainable module."""

    def __init__(self, width: int, T: int, stem: str, generator):
        self.network = zoo.make_network("spiking-resnet18-mnist", T=T, width=width, stem=stem)
        self.objective = Objective(generator, self.network, "layer2.1.sn1:0")
        self.optimizer = torch.optim.Adam(self.network.module.parameters(), lr=1e-3)
        self.parameters = sum(p.numel() for p in self.network.module.parameters())

    def probe_images_per_second(self, batch: int, queries: int, rng: np.random.Generator):
        """(images per wall second, images per CPU second) of the probe objective."""
        wall, cpu, done = time.perf_counter(), time.process_time(), 0
        while done < queries:
            self.objective.evaluate(self.objective.grid.random(batch, rng))
            done += batch
        return done / (time.perf_counter() - wall), done / (time.process_time() - cpu)

    def train_images_per_second(self, batch: int):
        """(images per wall second, images per CPU second) of one training step."""
        module, network = self.network.module, self.network
        module.train()
        images = torch.rand(batch, *network.input_shape, generator=torch.Generator().manual_seed(batch))
        labels = torch.arange(batch) % 10
        wall, cpu = time.perf_counter(), time.process_time()
        loss = F.cross_entropy(class_scores(module, network.preprocess(images), network.T, network.time_mode), labels)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        rates = batch / (time.perf_counter() - wall), batch / (time.process_time() - cpu)
        module.eval()
        return rates


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--T", type=int, nargs="+", default=[8, 16, 20, 50])
    parser.add_argument("--stems", nargs="+", default=["small"])
    parser.add_argument("--extra", nargs="*", default=["8:16:cifar", "8:16:imagenet"],
                        help="more WIDTH:T:STEM cases (e.g. other stems at one setting)")
    parser.add_argument("--rounds", type=int, default=4, help="measured rounds (plus one warm-up)")
    parser.add_argument("--batch", type=int, default=25, help="probe batch")
    parser.add_argument("--queries", type=int, default=50, help="probe queries per measurement")
    parser.add_argument("--train-batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    cases = list(itertools.product(args.widths, args.T, args.stems))
    cases += [tuple(int(v) if i < 2 else v for i, v in enumerate(text.split(":"))) for text in args.extra]
    cases = list(dict.fromkeys(cases))
    load_at_start = os.getloadavg()
    generator = demo_generator()
    built = {case: Case(*case, generator) for case in cases}
    probe = {case: [] for case in cases}
    train = {case: [] for case in cases}
    rng, order = np.random.default_rng(0), random.Random(0)
    with torch_threads(args.threads):
        for round_ in range(args.rounds + 1):
            shuffled = list(cases)
            order.shuffle(shuffled)
            for case in shuffled:
                p = built[case].probe_images_per_second(args.batch, args.queries, rng)
                t = built[case].train_images_per_second(args.train_batch)
                if round_:
                    probe[case].append(p)
                    train[case].append(t)
            print(f"round {round_}/{args.rounds} done{' (warm-up)' if not round_ else ''}", flush=True)

    rows = []
    for case in cases:
        width, T, stem = case
        p, t = (statistics.median(v[0] for v in probe[case]), statistics.median(v[1] for v in probe[case])), \
            (statistics.median(v[0] for v in train[case]), statistics.median(v[1] for v in train[case]))
        rows.append({"width": width, "T": T, "stem": stem, "parameters": built[case].parameters,
                     "probe_images_per_second": round(p[0], 1), "probe_images_per_cpu_second": round(p[1], 1),
                     "train_images_per_second": round(t[0], 1), "train_images_per_cpu_second": round(t[1], 1),
                     # held-out pass ~ probe speed (no backward)
                     "epoch_cpu_seconds": round(TRAIN_IMAGES / t[1] + HELDOUT_IMAGES / p[1], 1),
                     "probe_samples": [[round(a, 2), round(b, 2)] for a, b in probe[case]],
                     "train_samples": [[round(a, 2), round(b, 2)] for a, b in train[case]]})
    result = {
        "benchmark": "resnet_throughput",
        "what": "spiking-resnet18-mnist: probe objective images/s (demo DCGAN + network + layer2.1.sn1:0, "
                f"batch {args.batch}) and training images/s (batch {args.train_batch}, forward+backward+Adam)",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__,
                    "load_average_at_start": load_at_start, "load_average_at_end": os.getloadavg()},
        "threads": args.threads, "rounds": args.rounds, "queries_per_measurement": args.queries,
        "epoch_estimate": f"{TRAIN_IMAGES} / train rate + {HELDOUT_IMAGES} / probe rate",
        "rows": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))
    return result


def markdown(result: dict) -> str:
    """The result as a Markdown table."""
    load = result["machine"]
    lines = [f"{result['what']}; {result['threads']} thread(s), median of {result['rounds']} rounds; load average "
             f"{load['load_average_at_start'][0]:.1f} at the start, {load['load_average_at_end'][0]:.1f} at the end "
             f"on {load['cpus']} cores. Per CPU second = what one unshared core gives.", "",
             "| width | T | stem | parameters | probe images / CPU s | probe images / wall s | train images / CPU s "
             "| epoch (CPU s, 4,000 train + 1,000 held-out) |",
             "|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['width']} | {r['T']} | {r['stem']} | {r['parameters']:,} | {r['probe_images_per_cpu_second']} "
                     f"| {r['probe_images_per_second']} | {r['train_images_per_cpu_second']} | {r['epoch_cpu_seconds']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
