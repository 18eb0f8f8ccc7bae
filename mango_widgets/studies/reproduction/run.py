"""``reproduce(config)``: models -> random-image baselines -> the plan of searches -> analysis and figures.

Every step resumes: trained models with their checkpoints are kept (an interrupted training
continues from its last checkpoint), baselines are one file per epoch, searches are cells of the
result store, and the analysis is recomputed from what is stored. Run it again with the same
config (``mango reproduce --resume``) to continue or to refresh the report.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Dict, Optional

from mango_widgets.errors import ConfigError
from mango_widgets.records.atomic import write_json
from mango_widgets.studies.reproduction.baseline import ensure_baselines
from mango_widgets.studies.reproduction.config import CONFIG_FILE, StudyConfig
from mango_widgets.studies.reproduction.plan import StudyDesign, build_plan, design

MODELS = "models"
DESIGN_FILE = "design.json"


def _latest_checkpoint(run: Path) -> Optional[Path]:
    found = sorted((run / "checkpoints").glob("epoch_*.pt"))
    return found[-1] if found else None


def ensure_trained(model: str, run: Path, epochs: int, config: StudyConfig, model_args: Optional[dict] = None,
                   dataset: Optional[str] = None, log: Callable[[str], None] = print, T: Optional[int] = None) -> Path:
    """``run/model.pt`` of ``model`` trained for ``epochs`` epochs by ``mango train`` (resumed, or skipped when done)."""
    from mango_widgets.models.training.train import TrainConfig, train

    run = Path(run)
    latest = _latest_checkpoint(run)
    done = latest is not None and int(latest.stem.split("_")[1]) >= epochs and (run / "model.pt").is_file()
    if done:
        return run / "model.pt"
    threads = int(os.environ.get("MANGO_THREADS", "0")) or None
    log(f"training {model} for {epochs} epochs into {run}" + (f" (resuming from {latest.name})" if latest else ""))
    train(TrainConfig(model=model, out=str(run), dataset=dataset, root=config.data_root, verify=config.verify_data,
                      epochs=epochs, T=T, batch_size=config.batch_size, resume=str(latest) if latest else None,
                      device=config.device, limit=config.train_limit, test_limit=config.test_limit, seed=0,
                      threads=threads, model_args=dict(model_args or {})), progress=log)
    return run / "model.pt"


def prepare_sources(config: StudyConfig, log: Callable[[str], None] = print) -> Dict[str, object]:
    """{"primary": source, "compare": source or None}: the models the study searches, trained if needed."""
    from mango_widgets.engine.spec import DemoModels
    from mango_widgets.studies.reproduction.sources import TrainedModels

    models = config.folder / MODELS
    compare_file = config.compare_generator_file
    if config.compare_generator and compare_file is None:
        compare_file = str(ensure_trained(config.compare_generator, models / config.compare_generator, config.compare_train_epochs,
                                          config, dataset=config.dataset, log=log))
    if config.models == "run":
        from mango_widgets.models.trained import TrainedRunSource

        primary = TrainedRunSource(config.run, generator_name=config.run_generator)
        compare = None
        if compare_file:
            compare = TrainedRunSource(config.run, generator_name=str(compare_file),
                                       name=f"{primary.name}-{config.compare_generator or 'generator'}")
        return {"primary": primary, "compare": compare}
    if config.models == "demo":
        primary = DemoModels()
        compare = DemoModels(name=f"demo-{config.compare_generator or 'generator'}", generator_file=compare_file) if compare_file else None
        return {"primary": primary, "compare": compare}
    network_run = models / config.network_model
    ensure_trained(config.network_model, network_run, config.train_epochs, config, config.network_args, config.dataset, log, T=config.T)
    generator_file = ensure_trained(config.generator_model, models / config.generator_model, config.generator_epochs, config,
                                    config.generator_args, config.dataset, log)
    device = "cuda" if config.device == "auto" and _cuda() else ("cpu" if config.device == "auto" else config.device)
    primary = TrainedModels(config.network_model, str(network_run), str(generator_file), config.T, device)
    compare = None
    if compare_file:
        compare = TrainedModels(f"{config.network_model}-{config.compare_generator or 'generator'}", str(network_run),
                                str(compare_file), config.T, device)
    return {"primary": primary, "compare": compare}


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def check_folder(config: StudyConfig) -> None:
    """Refuse to mix two different studies in one folder (resume needs the same settings)."""
    path = config.folder / CONFIG_FILE
    if path.is_file():
        saved = StudyConfig.from_dict(json.loads(path.read_text())).to_dict()  # settings added since it was saved: defaults
        changed = {k: (saved.get(k), v) for k, v in config.to_dict().items() if saved.get(k) != v}
        if changed:
            shown = "; ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in sorted(changed.items()))
            raise ConfigError(f"{config.folder} holds a study with other settings ({shown}); resume it with "
                              f"`mango reproduce --resume --out {config.folder}` or pick another --out")


def prepare(config: StudyConfig, log: Callable[[str], None] = print, resume: bool = False):
    """Sources, design and plan of a study, with its baselines computed (everything before the searches).

    A folder that holds another study is refused unless ``resume`` (then ``config`` replaces the saved one)."""
    if not resume:
        check_folder(config)
    config.save()
    sources = prepare_sources(config, log)
    primary, compare = sources["primary"], sources["compare"]
    study = design(config, primary)
    write_json(config.folder / DESIGN_FILE, {**study.to_dict(), "primary": primary.name,
                                           "compare": None if compare is None else compare.name}, indent=1)
    ensure_baselines(config.folder, primary, study.epochs, study.T, study.layers, config.baseline_images, config.stat_seed, log)
    if compare is not None:
        ensure_baselines(config.folder, compare, study.compare_epochs, study.T, study.layers, config.baseline_images,
                         config.stat_seed, log)
    named = {primary.name: primary, **({compare.name: compare} if compare is not None else {})}
    plan = build_plan(config, named, study, primary.name, None if compare is None else compare.name)
    return sources, study, plan


def reproduce(config: StudyConfig, client=None, workers: Optional[int] = None, progress="bar",
              log: Callable[[str], None] = print, analyse: bool = True, resume: bool = False):
    """Run (or resume) the whole study; returns (the run's report, the summary or None).

    A run that was stopped (Ctrl-C, SIGTERM) skips the analysis: rerun with ``--resume`` or ``--analyse-only``."""
    sources, study, plan = prepare(config, log, resume)
    pending = len(plan.pending())
    log(f"{len(plan)} searches planned ({len(plan.dependencies())} warm), {pending} to run; store {plan.store}")
    report = plan.run(client=client, workers=workers, progress=progress) if pending else None
    if report is not None:
        log(str(report))
    stopped = report is not None and report.state == "stopped"
    summary = analyse_study(config, sources, study, log) if analyse and not stopped else None
    return report, summary


def analyse_study(config: StudyConfig, sources: Dict[str, object], study: StudyDesign, log: Callable[[str], None] = print):
    """Tables, claims and figures from whatever the store holds now (also for a study still running)."""
    from mango_widgets.studies.reproduction.report import write_report

    return write_report(config, sources, study, log)
