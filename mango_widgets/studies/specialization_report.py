"""Summaries, findings and figures of an epoch-tracking run (used by `mango specializations`).

Findings are computed, not asserted: each says what was measured and whether the paper's
qualitative claim holds on these models.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from mango_widgets.analysis import summaries
from mango_widgets.analysis.selectivity import SelectivityCriteria


def _table_json(frame) -> dict:
    return {str(row): {str(col): (None if np.isnan(v) else round(float(v), 4)) for col, v in values.items()}
            for row, values in frame.to_dict(orient="index").items()}


def _spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Rank correlation (ties averaged); NaN when either side is constant."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = ~(np.isnan(x) | np.isnan(y))
    if keep.sum() < 3 or np.ptp(x[keep]) == 0 or np.ptp(y[keep]) == 0:
        return float("nan")
    return float(spearmanr(x[keep], y[keep]).statistic)


def warm_start_stats(warm: List[dict]) -> dict:
    """Queries the warm start needed to reach the cold search's final activation, vs the cold search."""
    if not warm:
        return {}
    cold = np.array([w["cold_queries"] for w in warm], float)
    reached = [w for w in warm if w["warm_queries"] is not None]
    warm_q = np.array([w["warm_queries"] for w in reached], float)
    ratio = np.array([w["warm_queries"] / w["cold_queries"] for w in reached], float)
    return {
        "pairs": len(warm), "warm_reached_cold_final": len(reached),
        "median_cold_queries": float(np.median(cold)), "median_warm_queries": float(np.median(warm_q)) if len(warm_q) else None,
        "median_warm_over_cold": round(float(np.median(ratio)), 3) if len(ratio) else None,
        "quartiles_warm_over_cold": np.percentile(ratio, [25, 75]).round(4).tolist() if len(ratio) else None,
        "median_saving": round(float(1 - np.median(ratio)), 3) if len(ratio) else None,
        "warm_better_final": int(sum(w["warm_best"] > w["cold_best"] for w in warm)),
        "warm_equal_final": int(sum(w["warm_best"] == w["cold_best"] for w in warm)),
        "budget": warm[0]["budget"], "method": warm[0]["method"],
    }


def findings(tables: dict, layers: List[str], epochs: List[int]) -> dict:
    """The paper's qualitative claims, each with the numbers behind it."""
    depth = np.arange(len(layers))
    selective = tables["selective_fraction"]
    active = tables["active_fraction"]
    late, early = epochs[-3:], epochs[:3]
    last_sel = selective[epochs[-1]].reindex(layers).to_numpy()
    ent_last = np.array([np.median(tables["entropy_last"][l]) if len(tables["entropy_last"][l]) else np.nan for l in layers])
    ent_first = np.array([np.median(tables["entropy_first"][l]) if len(tables["entropy_first"][l]) else np.nan for l in layers])
    tracks = tables["track_fractions"]
    hidden = [l for l in layers if l != "lif_out"]
    deep = hidden[-2:]
    result = {
        "selectivity_rises_with_depth": {
            "selective_fraction_last_epoch": dict(zip(layers, np.round(last_sel, 3).tolist())),
            "spearman_depth": round(_spearman(depth, last_sel), 3),
        },
        "selectivity_rises_with_training": {
            "mean_selective_fraction_first_3_epochs": round(float(selective[early].to_numpy().mean()), 3),
            "mean_selective_fraction_last_3_epochs": round(float(selective[late].to_numpy().mean()), 3),
            "mean_active_fraction_first_3_epochs": round(float(active[early].to_numpy().mean()), 3),
            "mean_active_fraction_last_3_epochs": round(float(active[late].to_numpy().mean()), 3),
        },
        "entropy_falls_with_depth": {
            "median_entropy_last_epoch": dict(zip(layers, np.round(ent_last, 3).tolist())),
            "spearman_depth": round(_spearman(depth, ent_last), 3),
        },
        "entropy_falls_with_training": {
            "median_entropy_first_epoch": dict(zip(layers, np.round(ent_first, 3).tolist())),
            "median_entropy_last_epoch": dict(zip(layers, np.round(ent_last, 3).tolist())),
        },
        "some_deep_neurons_are_labile": {
            "labile_fraction": {l: round(float(tracks.loc[l, "labile"]), 3) for l in layers},
            "labile_in_deepest_hidden_layers": {l: round(float(tracks.loc[l, "labile"]), 3) for l in deep},
        },
    }
    r = result
    r["selectivity_rises_with_depth"]["holds"] = bool(r["selectivity_rises_with_depth"]["spearman_depth"] > 0)
    t = r["selectivity_rises_with_training"]
    t["holds"] = bool(t["mean_selective_fraction_last_3_epochs"] > t["mean_selective_fraction_first_3_epochs"])
    r["entropy_falls_with_depth"]["holds"] = bool(r["entropy_falls_with_depth"]["spearman_depth"] < 0)
    falls = [b < a for a, b in zip(ent_first, ent_last) if not (np.isnan(a) or np.isnan(b))]
    r["entropy_falls_with_training"]["layers_where_it_falls"] = f"{sum(falls)} of {len(falls)}"
    r["entropy_falls_with_training"]["holds"] = bool(sum(falls) > len(falls) / 2)
    r["some_deep_neurons_are_labile"]["holds"] = bool(any(v > 0 for v in r["some_deep_neurons_are_labile"]["labile_in_deepest_hidden_layers"].values()))
    return result


def compute_tables(table, grid, layers: List[str], criteria: SelectivityCriteria = SelectivityCriteria()) -> dict:
    epochs = sorted(set(table["epoch"]))
    euclid, cosine = summaries.diversity(table, grid, layers=layers)
    jpeg, zipped = summaries.complexity(table, layers=layers)
    return {
        "selective_fraction": summaries.selective_fraction(table, criteria, "selective", layers),
        "active_fraction": summaries.selective_fraction(table, criteria, "active", layers),
        "confident_fraction": summaries.selective_fraction(table, criteria, "confident", layers),
        "stable_fraction": summaries.selective_fraction(table, criteria, "stable", layers),
        "mean_activation": summaries.mean_activation(table, layers),
        "entropy_first": summaries.entropy_by_layer(table, epochs[0], layers),
        "entropy_last": summaries.entropy_by_layer(table, epochs[-1], layers),
        "track_fractions": summaries.track_fractions(table, criteria, layers),
        "diversity_euclidean": euclid, "diversity_cosine": cosine,
        "complexity_jpeg": jpeg, "complexity_zip": zipped,
        "silent": summaries.silent_counts(table).reindex(layers),
    }


def _markdown_table(title: str, table: dict, digits: int = 2) -> List[str]:
    columns = list(next(iter(table.values())))
    lines = [f"**{title}**", "", "| layer | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for row, values in table.items():
        cells = ["-" if values[c] is None else f"{values[c]:.{digits}f}" for c in columns]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return lines + [""]


def markdown_summary(summary: dict) -> str:
    """The summary's main tables and findings as Markdown (for the docs)."""
    tables = summary["tables"]
    settings = summary["settings"]
    lines = [f"Settings: {settings['network']}, T = {settings['T']}, layers {', '.join(settings['layers'])}, "
             f"units per layer {settings['units_per_layer']}, epochs {settings['epochs'][0]}..{settings['epochs'][-1]}, "
             f"methods {', '.join(settings['methods'])}, {settings['budget']} queries per search, "
             f"{settings['searches']} searches.", ""]
    lines += _markdown_table("Fraction of selective neurons (activation and confidence >= 75%, same class for TT/TT-s/TT-b)",
                             tables["selective_fraction"])
    lines += _markdown_table("Fraction of neurons whose best MEI reaches 75% activation", tables["active_fraction"])
    lines += _markdown_table("Mean activation of the neurons' best MEIs (silent = 0)", tables["mean_activation"])
    lines += _markdown_table("Silent neurons (no method made them fire)", tables["silent"], digits=0)
    lines += _markdown_table("Non-specialised / stable / labile over all epochs", tables["track_fractions"])
    lines += _markdown_table("Mean Euclidean distance between MEI latents", tables["diversity_euclidean"], digits=1)
    lines += _markdown_table("JPEG size / raw size of the MEIs", tables["complexity_jpeg"])
    entropy = summary["entropy_median"]
    lines += ["**Median normalised entropy of the best MEI's class probabilities**", "",
              "| layer | first epoch | last epoch |", "|---|---|---|"]
    for layer in settings["layers"]:
        first, last = entropy["first_epoch"].get(layer), entropy["last_epoch"].get(layer)
        lines.append(f"| {layer} | {'-' if first is None else f'{first:.3f}'} | {'-' if last is None else f'{last:.3f}'} |")
    accuracy = summary["accuracy"]
    lines += ["", "Held-out accuracy per epoch: " + ", ".join(f"{e}: {a:.3f}" for e, a in sorted(accuracy.items(), key=lambda kv: int(kv[0]))), ""]
    warm = summary["warm_start"]
    if warm:
        lines += [f"Warm start ({warm['method']}, {warm['budget']} queries, {warm['pairs']} cold/warm pairs): the warm "
                  f"search reached the cold search's final activation in {warm['warm_reached_cold_final']} of "
                  f"{warm['pairs']} pairs, after a median {warm['median_warm_queries']} queries vs "
                  f"{warm['median_cold_queries']} for the cold search (median ratio {warm['median_warm_over_cold']}, "
                  f"quartiles {warm['quartiles_warm_over_cold']}); warm final better in {warm['warm_better_final']}, "
                  f"equal in {warm['warm_equal_final']}.", ""]
    lines += ["**Findings**", ""]
    for name, finding in summary["findings"].items():
        lines.append(f"- {name.replace('_', ' ')}: **{'holds' if finding['holds'] else 'does not hold'}** "
                     f"({', '.join(f'{k}: {v}' for k, v in finding.items() if k != 'holds')})")
    return "\n".join(lines) + "\n"


def write_report(records: List[dict], warm: List[dict], network, out: Path, figures: Path,
                 layers: Optional[List[str]] = None) -> dict:
    """summary.json plus figures for a finished tracking run; returns the summary."""
    from mango_widgets.models.bundled import demo_generator
    from mango_widgets.studies.epoch_tracking import records_table

    table = records_table(records)
    layers = layers or list(dict.fromkeys(table["layer"]))
    epochs = sorted(set(table["epoch"]))
    grid = demo_generator().grid
    tables = compute_tables(table, grid, layers)
    accuracy = {int(e): a for e, a in table.groupby("epoch")["accuracy"].first().items() if a is not None}
    summary = {
        "settings": {"network": str(network.name).split("@")[0], "T": int(network.T), "layers": layers, "epochs": epochs,
                     "units_per_layer": {l: int(table.loc[table["layer"] == l, "unit"].nunique()) for l in layers},
                     "methods": sorted(set(table["method"])), "budget": int(table["budget"].iloc[0]),
                     "searches": int(len(table)), "criteria": {"activation": 0.75, "confidence": 0.75, "stability": ["tt", "tt-s", "tt-b"]}},
        "accuracy": accuracy,
        "tables": {name: _table_json(frame) for name, frame in tables.items() if hasattr(frame, "to_dict") and name not in ("entropy_first", "entropy_last")},
        "entropy_median": {"first_epoch": {l: float(np.median(v)) if len(v) else None for l, v in tables["entropy_first"].items()},
                           "last_epoch": {l: float(np.median(v)) if len(v) else None for l, v in tables["entropy_last"].items()}},
        "warm_start": warm_start_stats(warm),
        "findings": findings(tables, layers, epochs),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    (out / "summary.md").write_text(markdown_summary(summary))
    from mango_widgets.analysis.static_figures import save_report_figures

    save_report_figures(tables, accuracy, layers, epochs, figures)
    return summary
