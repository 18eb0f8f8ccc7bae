"""``mango train-long``: train a recipe for many epochs, resumably, with a sha256 manifest; bundle a few epochs.

    mango train-long --model demo-snn --epochs 100                     # -> ~/.cache/mango_widgets/runs/demo-snn
    mango train-long --model spiking-resnet18-mnist --out runs/srn     # same command again resumes
    mango train-long --verify ~/.cache/mango_widgets/runs/demo-snn     # every file against its sha256
    mango train-long --model spiking-resnet18-mnist --out runs/srn \\
        --bundle mango_widgets/models/weights/spiking-resnet18-mnist --bundle-epochs 1,2,5,10,30
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Iterable, Optional

from mango_widgets.errors import ConfigError, reports_errors
from mango_widgets.models.recipes import RECIPES
from mango_widgets.models.trained import MANIFEST, read_run, verify_run
from mango_widgets.models.training.epochs import EpochRun, default_out
from mango_widgets.models.training.train import key_values
from mango_widgets.records.atomic import write_json


def bundle_run(run, dest, epochs: Iterable[int]) -> Path:
    """Copy the weights of ``epochs`` of a verified run into ``dest`` with a manifest of just those files.

    The bundled manifest keeps every epoch's metrics and the sha256 of every epoch of the full
    run (``full_run_sha256``), so a run reproduced elsewhere can be checked against it.
    """
    run, dest = Path(run).expanduser(), Path(dest)
    verify_run(run)
    manifest = read_run(run)
    epochs = sorted({int(e) for e in epochs})
    missing = [e for e in epochs if str(e) not in manifest["epochs"]]
    if missing or not epochs:
        raise ConfigError(f"cannot bundle epochs {missing or epochs}: the run has epochs "
                          f"{sorted(int(e) for e in manifest['epochs'])}")
    (dest / "weights").mkdir(parents=True, exist_ok=True)
    for stale in (dest / "weights").glob("epoch_*.pt"):
        stale.unlink()
    for e in epochs:
        shutil.copyfile(run / manifest["epochs"][str(e)]["file"], dest / manifest["epochs"][str(e)]["file"])
    bundled = {k: v for k, v in manifest.items() if k != "resume"}
    bundled["full_run_sha256"] = {e: entry["sha256"] for e, entry in manifest["epochs"].items()}
    bundled["epochs"] = {str(e): manifest["epochs"][str(e)] for e in epochs}
    write_json(dest / MANIFEST, bundled, indent=1)
    verify_run(dest)
    return dest


def _epoch_list(text: Optional[str]):
    if not text:
        return []
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as error:
        raise ConfigError(f"--bundle-epochs takes comma-separated epochs like 1,2,5,10, got {text!r}") from error


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mango train-long", description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="recipes: " + ", ".join(f"{n} ({r.description})" for n, r in RECIPES.items()))
    p.add_argument("--model", default="demo-snn", help="recipe name (see below)")
    p.add_argument("--epochs", type=int, default=None, help="train up to this epoch (default: the recipe's)")
    p.add_argument("--out", default=None, help="run folder (default ~/.cache/mango_widgets/runs/<model>)")
    p.add_argument("--T", type=int, default=None, help="time steps of exposure (default: the recipe's)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--set", dest="overrides", action="append", metavar="KEY=VALUE",
                   help="any other recipe setting, e.g. width=16 or lr=0.0005 (repeatable; values are JSON)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: reproducible, and fair on a shared machine)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (GPU runs are not bit-reproducible)")
    p.add_argument("--verify", metavar="RUN", default=None, help="only check RUN's files against their sha256")
    p.add_argument("--bundle", metavar="DEST", default=None, help="after training, copy --bundle-epochs into DEST")
    p.add_argument("--bundle-epochs", default=None, help="comma-separated epochs to bundle, e.g. 1,2,5,10,30")
    return p


@reports_errors
def main(argv=None) -> int:
    """Entry point of ``mango train-long``; 0 on success, 2 on a usage or data error (printed)."""
    args = _parser().parse_args(argv)
    if args.verify:
        epochs = verify_run(args.verify)
        rows = {r["epoch"]: r for r in read_run(args.verify)["metrics"]}
        print(f"{args.verify}: {len(epochs)} weights files match their sha256")
        for e in epochs:
            print(f"  epoch {e:>4}: held-out accuracy {rows.get(e, {}).get('heldout_accuracy')}")
        return 0
    if args.bundle and not args.bundle_epochs:
        raise ConfigError("--bundle needs --bundle-epochs, e.g. --bundle-epochs 1,2,5,10,30")
    overrides = key_values(args.overrides)
    for key in ("epochs", "T", "seed"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    out = args.out or default_out(args.model)
    run = EpochRun(args.model, out, overrides, threads=args.threads, device=args.device,
                   progress=lambda msg: print(msg, flush=True))
    run.run()
    if args.bundle:
        dest = bundle_run(out, args.bundle, _epoch_list(args.bundle_epochs))
        print(f"bundled epochs {args.bundle_epochs} into {dest}")
    print(f"done: {out}/ (manifest.json, weights/epoch_NNN.pt, resume.pt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
