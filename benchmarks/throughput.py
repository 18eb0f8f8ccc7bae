"""Network throughput (images per second through ``Network.run``) on this CPU.

Every zoo SNN at T in {20, 50}, and two torchvision ANNs (T = 1) for reference, over batch
sizes and torch thread counts. Configurations are measured side by side: each round runs
every configuration once in a shuffled order (round 0 is a discarded warm-up), and the table
reports the median over rounds. ``--sj014 DIR`` adds the spiking ResNet18 on the SpikingJelly
0.0.0.0.14 line, installed in DIR (``pip install --no-deps --target DIR spikingjelly==0.0.0.0.14``),
measured in a worker process inside the same rounds.

    .venv/bin/python benchmarks/throughput.py --sj014 /tmp/sj014 --out benchmarks/results/throughput.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

SNNS = ("conv-snn-mnist", "conv-snn-cifar", "spiking-resnet18")
#: ANNs at 32x32 generator images resized to their ImageNet input (T = 1)
ANNS = {"alexnet": 224, "resnet18": 224}
SJ014 = "spiking-resnet18@sj0.0.0.0.14"


class Bench:
    """Builds networks once and times one ``Network.run`` of a random batch."""

    def __init__(self):
        self.networks = {}

    def network(self, name: str, T: int):
        from mango_widgets.models import zoo

        key = (name, T)
        if key not in self.networks:
            base = name.split("@")[0]
            kwargs = {"input_size": 32, "resize": ANNS[base]} if base in ANNS else {}
            self.networks[key] = zoo.make_network(base, T=T, **kwargs)
        return self.networks[key]

    def seconds(self, name: str, T: int, batch: int, threads: int) -> float:
        import torch

        network = self.network(name, T)
        torch.set_num_threads(threads)
        images = torch.rand((batch,) + network.input_shape, generator=torch.Generator().manual_seed(batch))
        start = time.perf_counter()
        network.run(images)
        return time.perf_counter() - start

    def backend(self, name: str) -> str:
        network = self.network(name, 20)
        return getattr(network.module, "backend", "n/a (no SpikingJelly neurons)")


def worker() -> None:
    """Answer JSON requests on stdin (one per line) with timings, for another SpikingJelly install."""
    import warnings

    warnings.filterwarnings("ignore")
    bench = Bench()
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("backend"):
            from mango_widgets.runtime.gpu_backend import spikingjelly_version

            answer = {"backend": bench.backend(request["name"]), "spikingjelly": spikingjelly_version()}
        else:
            answer = {"seconds": bench.seconds(request["name"], request["T"], request["batch"], request["threads"])}
        print(json.dumps(answer), flush=True)


class Remote:
    """A worker process with SpikingJelly from another folder on its path."""

    def __init__(self, folder: str):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([folder, str(Path(__file__).resolve().parents[1])])}
        self.process = subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env)

    def ask(self, **request) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def configurations(args) -> list:
    names = list(SNNS) + ([SJ014] if args.sj014 else [])
    configs = [(n, T, b, th) for n in names for T in args.T for b in args.batch for th in args.threads]
    configs += [(n, 1, b, th) for n in ANNS for b in args.batch for th in args.threads]
    return configs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--T", type=int, nargs="+", default=[20, 50])
    p.add_argument("--batch", type=int, nargs="+", default=[8, 32])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=5, help="measured rounds (after one warm-up round)")
    p.add_argument("--sj014", default=None, help="folder holding spikingjelly==0.0.0.0.14 (adds its spiking ResNet18)")
    p.add_argument("--out", default="benchmarks/results/throughput.json")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker()
        return 0
    import torch

    from mango_widgets.runtime.gpu_backend import describe_backend, spikingjelly_version

    bench, remote = Bench(), Remote(args.sj014) if args.sj014 else None
    configs = configurations(args)
    times = {c: [] for c in configs}
    order = random.Random(0)
    started, load_before = time.time(), os.getloadavg()
    for round_index in range(args.rounds + 1):
        shuffled = configs[:]
        order.shuffle(shuffled)
        for name, T, batch, threads in shuffled:
            if name == SJ014:
                seconds = remote.ask(name="spiking-resnet18", T=T, batch=batch, threads=threads)["seconds"]
            else:
                seconds = bench.seconds(name, T, batch, threads)
            if round_index > 0:
                times[(name, T, batch, threads)].append(seconds)
        print(f"round {round_index}/{args.rounds} done at {time.time() - started:.0f} s", flush=True)
    backends = {n: bench.backend(n) for n in SNNS}
    if remote is not None:
        answer = remote.ask(name="spiking-resnet18", backend=True)
        backends[SJ014] = f"{answer['backend']} (spikingjelly {answer['spikingjelly']})"
        remote.close()
    rows = []
    for (name, T, batch, threads), values in times.items():
        median = statistics.median(values)
        rows.append({"network": name, "T": T, "batch": batch, "threads": threads,
                     "images_per_second": round(batch / median, 1), "median_seconds": round(median, 4),
                     "seconds": [round(v, 4) for v in values]})
    result = {
        "what": "images per second through Network.run (image repeated for T steps, all layers' state reset per batch); "
                "median over rounds, configurations interleaved in shuffled order, round 0 discarded",
        "rounds": args.rounds, "wall_seconds": round(time.time() - started, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version(), "torch": torch.__version__,
                    "spikingjelly": spikingjelly_version(), "backend": str(describe_backend("cpu"))},
        "backends": backends, "results": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(markdown_table(rows))
    return 0


def markdown_table(rows) -> str:
    """Rows as a table: one line per network and T, one column per (batch, threads)."""
    columns = sorted({(r["batch"], r["threads"]) for r in rows})
    lines = ["| network | T | " + " | ".join(f"batch {b}, {t} thr" for b, t in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    keys = list(dict.fromkeys((r["network"], r["T"]) for r in rows))
    for name, T in keys:
        cells = {(r["batch"], r["threads"]): r["images_per_second"] for r in rows if (r["network"], r["T"]) == (name, T)}
        lines.append(f"| {name} | {T} | " + " | ".join(str(cells.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
