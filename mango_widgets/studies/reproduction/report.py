"""The study's report: tables from the store (exported for the repository), claims, figures, summary.

``write_report`` reads whatever the store holds (a study still running gives a partial report,
and says how much of the plan it covers), exports the records, warm pairs and baselines as small
CSV files, evaluates the claims of :mod:`.claims`, draws the figures of :mod:`.figures` and writes
``summary.json`` and ``summary.md``. Without a store (a fresh clone) it reads the exports.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, Optional

import numpy as np

from mango_widgets.analysis.baseline import baseline_tables, relative_to_baseline
from mango_widgets.analysis.diversity import method_diversity
from mango_widgets.analysis.emergence import first_strong_epoch
from mango_widgets.analysis.selectivity import SelectivityCriteria
from mango_widgets.analysis.statistics import bootstrap_ci
from mango_widgets.analysis.tracks import classify_tracks, consensus_selectivity
from mango_widgets.records.atomic import write_json, write_text
from mango_widgets.studies.reproduction import tables
from mango_widgets.studies.reproduction.claims import StudyData, evaluate
from mango_widgets.studies.reproduction.config import StudyConfig
from mango_widgets.studies.reproduction.plan import STORE, StudyDesign


def load_tables(config: StudyConfig, sources: Dict[str, object], study: StudyDesign, log: Callable[[str], None] = print):
    """(records, warm pairs, baseline per epoch, baseline per unit): from the store, exported on the way; else the exports."""
    import pandas as pd

    from mango_widgets.studies.reproduction.baseline import load_baselines

    folder = config.folder
    store_path = folder / STORE
    if (store_path / "results.sqlite").is_file():
        from mango_widgets.engine.store import ResultStore

        store = ResultStore(store_path, create=False)
        records = tables.records_from_store(store)
        warm = tables.warm_pairs(records, lambda key: store.history(key).get("values", np.zeros(0)), config.budget, config.control_factor)
        tables.export_records(records, folder / tables.RECORDS)
        warm.to_csv(folder / tables.WARM_PAIRS, index=False)
        named = [s for s in sources.values() if s is not None]
        baselines = {s.name: load_baselines(folder, s.name) for s in named}
        by_epoch, by_unit = baseline_tables(baselines)
        wanted = {(layer, unit) for layer, unit in study.neurons()}
        by_unit = by_unit[[(layer, unit) in wanted for layer, unit in zip(by_unit["layer"], by_unit["unit"])]]
        by_epoch.to_csv(folder / tables.BASELINE_EPOCHS, index=False)
        by_unit.to_csv(folder / tables.BASELINE_UNITS, index=False)
        log(f"exported {len(records)} records, {len(warm)} warm pairs and the baselines to {folder}")
        return records, warm, by_epoch, by_unit
    if not (folder / tables.RECORDS).is_file():
        raise FileNotFoundError(f"{folder} has neither a result store nor {tables.RECORDS}; run the study first")
    warm_path = folder / tables.WARM_PAIRS
    warm = pd.read_csv(warm_path) if warm_path.is_file() and warm_path.stat().st_size > 1 else pd.DataFrame()
    return (tables.read_records(folder / tables.RECORDS), warm, pd.read_csv(folder / tables.BASELINE_EPOCHS),
            pd.read_csv(folder / tables.BASELINE_UNITS))


def complete_groups(records, methods):
    """Only the (layer, unit, epoch, seed) whose searches by every method are in (a study still running
    has some neurons with one or two of the three; judging them would count them as not selective)."""
    keys = ["network", "layer", "unit", "epoch", "seed"]
    counts = records.groupby(keys)["method"].transform("nunique")
    return records[counts == len(set(methods))]


def _emergence(best):
    per_seed = first_strong_epoch(best, by=("layer", "unit", "seed"))
    rows = []
    for (layer, unit), group in per_seed.groupby(["layer", "unit"], sort=True):
        firsts = group["first_epoch"].fillna(np.inf).to_numpy()
        median = float(np.median(firsts))
        rows.append({"layer": layer, "unit": int(unit), "first_epoch": median if np.isfinite(median) else np.nan,
                     "ever_strong": bool(np.isfinite(median)), "seeds_strong": int(np.isfinite(firsts).sum())})
    import pandas as pd

    return pd.DataFrame(rows, columns=["layer", "unit", "first_epoch", "ever_strong", "seeds_strong"])


def diversity_table(cold, generator, layers):
    """Per (layer, unit, epoch) the paper's diversity (between the methods' MEIs of the neuron), seeds averaged."""
    import pandas as pd

    found = cold[cold["status"] == "done"]
    groups = [(key, g) for key, g in found.groupby(["layer", "unit", "epoch", "seed"], sort=True) if len(g) >= 2]
    if not groups:
        return pd.DataFrame()
    indices = np.asarray([i for _, g in groups for i in g["mei_index"]], dtype=np.int64)
    images = np.concatenate([generator(indices[s:s + 256]).cpu().numpy() for s in range(0, len(indices), 256)])
    latents = generator.grid.to_latent(indices)
    rows, at = [], 0
    for (layer, unit, epoch, seed), g in groups:
        rows.append({"layer": layer, "unit": int(unit), "epoch": int(epoch), "seed": int(seed),
                     **method_diversity(latents[at:at + len(g)], images[at:at + len(g)])})
        at += len(g)
    frame = pd.DataFrame(rows).groupby(["layer", "unit", "epoch"]).mean(numeric_only=True).reset_index().drop(columns="seed")
    frame["depth"] = frame["layer"].map({name: i for i, name in enumerate(layers)})
    return frame


def study_data(config: StudyConfig, sources: Dict[str, object], study: StudyDesign, records, warm, by_epoch, by_unit):
    """Everything the claims and figures need, as a :class:`~.claims.StudyData` plus the cold records."""
    from mango_widgets.studies.reproduction.sources import accuracy_by_epoch

    primary, compare = sources["primary"], sources.get("compare")
    scope = records["layer"].isin(study.layers) & records["method"].isin(config.methods) & (records["budget"] == config.budget) \
        & (records["init"] == "cold")
    cold = records[scope & (records["network"] == primary.name) & records["epoch"].isin(study.epochs)]
    cold = complete_groups(cold, config.methods)
    cold = relative_to_baseline(cold, by_epoch, by_unit, networks=[primary.name])
    criteria = SelectivityCriteria(methods=tuple(config.methods))
    neurons = tables.neuron_table(cold, criteria, study.layers)
    consensus = consensus_selectivity(tables.per_seed_selectivity(cold, criteria))
    tracks = classify_tracks(consensus)
    best = tables.best_rows(cold)
    epochs = sorted(set(neurons["epoch"]))
    classes = len(cold["probabilities"].dropna().iloc[0]) if cold["probabilities"].notna().any() else None
    last_units = primary.layer_units().get(study.layers[-1]) if classes else None
    readout = study.layers[-1] if last_units == classes and len(study.layers) > 2 else None  # one unit per class: the output
    generator = primary.generator("uniform")
    second = None
    if compare is not None:
        other = records[scope & (records["network"] == compare.name)]
        if len(other):
            def strongest(frame):  # the best MEI's activation per neuron, epoch and seed (silent = 0)
                top = tables.best_rows(frame).assign(activation=lambda f: f["best"].fillna(0.0))
                return top.set_index(["layer", "unit", "epoch", "seed"])["activation"]
            first = strongest(cold[cold["epoch"].isin(study.compare_epochs)]).to_frame("first")
            paired = first.join(strongest(complete_groups(other, config.methods)).to_frame("second"), how="inner")  # same seeds
            paired = paired.groupby(["layer", "unit", "epoch"]).mean().reset_index()
            second = paired.assign(depth=paired["layer"].map({n: i for i, n in enumerate(study.layers)}))
    present = [name for name in study.layers if name in set(neurons["layer"])]  # a partial study may lack layers
    data = StudyData(layers=present, hidden=[name for name in present if name != readout], epochs=epochs, neurons=neurons,
                     tracks=tracks, emergence=_emergence(best), diversity=diversity_table(cold, generator, study.layers),
                     warm=warm, compare=second, baseline_epochs=by_epoch[by_epoch["network"] == primary.name],
                     accuracy=accuracy_by_epoch(primary), resamples=config.bootstrap, permutations=config.permutations,
                     seed=config.stat_seed)
    return data, cold, consensus


def coverage(config: StudyConfig, study: StudyDesign, records, sources) -> dict:
    """How much of the planned study the store holds (a partial study says so): {"searches": {part: [done, planned]}, ...}."""
    neurons, methods = len(study.neurons()), len(config.methods)
    primary = records[records["network"] == sources["primary"].name]
    cold = primary[(primary["init"] == "cold") & (primary["budget"] == config.budget)]
    searches = {"cold": [int(len(cold)), neurons * len(study.epochs) * methods * config.seeds]}
    if config.warm_method:
        warm = primary[primary["init"] == "warm"]
        searches["warm"] = [int(len(warm)), neurons * len(study.warm_pairs()) * min(config.warm_seeds, config.seeds)]
    if sources.get("compare") is not None:
        other = records[records["network"] == sources["compare"].name]
        searches["second generator"] = [int(len(other)), neurons * len(study.compare_epochs) * methods * config.seeds]
    return {"searches": searches,
            "epochs_complete": sorted(int(e) for e, g in cold.groupby("epoch") if len(g) == neurons * methods * config.seeds),
            "seeds_per_epoch": {int(e): int(g["seed"].nunique()) for e, g in cold.groupby("epoch")},
            "complete": all(done >= planned for done, planned in searches.values())}


def criteria_against_random(data: StudyData, by_unit) -> dict:
    """{layer: {epoch: shares}}: how often the neurons' MEIs meet the activation and confidence criteria,
    next to how often random images do (for the same units, at the same epoch)."""
    from mango_widgets.analysis.baseline import criterion_rates

    units = by_unit.merge(data.neurons[["layer", "unit"]].drop_duplicates(), on=["layer", "unit"])
    rates = criterion_rates(data.baseline_epochs, units, data.layers)
    result = {}
    for (layer, epoch), group in data.neurons.groupby(["layer", "epoch"], sort=False):
        random_active = rates["active"].loc[layer].get(epoch) if layer in rates["active"].index else None
        result.setdefault(layer, {})[int(epoch)] = {
            "mei_active": round(float(group["active"].mean()), 4),
            "random_active": None if random_active is None else round(float(random_active), 4),
            "mei_confident": round(float(group["confident"].mean()), 4),
            "random_confident": round(float(rates["confident"].get(epoch, float("nan"))), 4)}
    return result


def layer_epoch_intervals(neurons, column: str, resamples: int, seed: int = 0) -> dict:
    """{layer: {epoch: interval dict}} of ``column`` over the neurons of each layer."""
    return {layer: {int(epoch): bootstrap_ci(g[column], resamples=resamples, seed=seed).to_dict() for epoch, g in group.groupby("epoch")}
            for layer, group in neurons.groupby("layer", sort=False)}


def write_report(config: StudyConfig, sources: Dict[str, object], study: StudyDesign, log: Callable[[str], None] = print) -> Optional[dict]:
    """summary.json, summary.md and figures/ in the study folder; returns the summary."""
    from mango_widgets.studies.reproduction.figures import save_figures
    from mango_widgets.studies.reproduction.markdown import summary_markdown

    records, warm, by_epoch, by_unit = load_tables(config, sources, study, log)
    if records.empty:
        log("nothing stored yet: no report")
        return None
    data, cold, consensus = study_data(config, sources, study, records, warm, by_epoch, by_unit)
    claims = evaluate(data)
    resamples = min(config.bootstrap, 1000)
    summary = {
        "settings": {**config.to_dict(), "design": study.to_dict(), "primary": sources["primary"].name,
                     "compare": None if sources.get("compare") is None else sources["compare"].name},
        "coverage": coverage(config, study, records, sources),
        "accuracy": {int(k): v for k, v in data.accuracy.items()},
        "claims": claims,
        "tables": {name: layer_epoch_intervals(data.neurons, column, resamples, config.stat_seed)
                   for name, column in (("selective", "selective"), ("active", "active"), ("activation", "activation"),
                                        ("entropy", "entropy"), ("entropy_excess", "entropy_excess"),
                                        ("confidence_excess", "confidence_excess"))},
        "baseline": by_epoch.round(4).to_dict(orient="records"),
        "criteria_vs_random": criteria_against_random(data, by_unit[by_unit["network"] == sources["primary"].name]),
    }
    figures = save_figures(config.folder / "figures", data, records, cold, consensus, sources, study)
    summary["figures"] = [str(Path(p).relative_to(config.folder)) for p in figures]
    write_json(config.folder / "summary.json", _finite(summary), indent=1, default=_plain)
    write_text(config.folder / "summary.md", summary_markdown(summary))
    log(f"report: {config.folder / 'summary.md'} ({sum(c['verdict'] == 'reproduced' for c in claims)} of {len(claims)} claims reproduced)")
    return summary


def _finite(value):
    """NaN and infinities become None (JSON has no NaN), recursively."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


def _plain(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
