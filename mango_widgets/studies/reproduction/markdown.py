"""``summary.md``: the study's claims table, coverage and per-layer numbers with their intervals."""
from __future__ import annotations

from typing import List, Optional

#: the figure of ``figures/`` that shows each claim
FIGURE_OF = {
    "selectivity_rises_with_training": "fig07_selectivity.png", "selectivity_rises_with_depth": "fig07_selectivity.png",
    "intermediate_layers_selective": "fig07_selectivity.png", "specializations_form_early": "fig08_emergence_activation.png",
    "activation_rises_with_training": "fig09_activation_over_training.png", "weak_layer_before_last": "fig08_emergence_activation.png",
    "entropy_falls_with_training": "fig06_entropy.png", "entropy_falls_with_depth": "fig06_entropy.png",
    "labile_neurons_in_deep_layers": "fig10_tracks_labile_neuron.png", "diversity_grows_with_depth": "fig11_diversity.png",
    "first_layer_complexity_rises": "fig12_complexity.png", "vqvae_lower_activation": "figB_generators.png",
    "warm_start_is_a_speed_up": "warm_start_control.png",
}


def claims_table(claims, figures: str = "figures", drawn: Optional[List[str]] = None) -> List[str]:
    """The claims as a Markdown table: paper claim, its figure, ours (with a link to our figure, when
    it was drawn: ``drawn`` lists the figure paths, None means all), verdict."""
    lines = ["| claim (paper) | paper figure | ours (95% intervals over neurons) | our figure | verdict |", "|---|---|---|---|---|"]
    for claim in claims:
        why = f" *{claim['why']}*" if claim.get("why") else ""
        ours = FIGURE_OF.get(claim["id"])
        if ours and drawn is not None and f"{figures}/{ours}" not in drawn:
            ours = None  # e.g. no second generator: no figure B to link
        link = f"[{ours.split('_')[0]}]({figures}/{ours})" if ours else "-"
        lines.append(f"| {claim['paper']} | {claim['figure']} | {claim['ours']}{why} | {link} | **{claim['verdict']}** |")
    return lines


def _interval(value) -> str:
    if not isinstance(value, dict) or value.get("estimate") is None:
        return "-"
    if value.get("low") is None or value.get("high") is None:
        return f"{value['estimate']:.2f}"
    return f"{value['estimate']:.2f} [{value['low']:.2f}, {value['high']:.2f}]"


def _layer_table(title: str, table: dict, epochs: List[int]) -> List[str]:
    lines = [f"**{title}** (mean over neurons, bootstrap 95% interval)", "",
             "| layer | " + " | ".join(f"epoch {e}" for e in epochs) + " |", "|---" * (len(epochs) + 1) + "|"]
    for layer, by_epoch in table.items():
        lines.append(f"| {layer} | " + " | ".join(_interval(by_epoch.get(str(e), by_epoch.get(e))) for e in epochs) + " |")
    return lines + [""]


def summary_markdown(summary: dict) -> str:
    """The summary as Markdown (docs/reproduction.md quotes it)."""
    settings, coverage = summary["settings"], summary["coverage"]
    design = settings["design"]
    epochs = design["epochs"]
    shown = sorted({epochs[0], epochs[len(epochs) // 2], epochs[-1]})
    units = {layer: len(u) for layer, u in design["units"].items()}
    lines = [
        f"# Reproduction study ({settings['scale']} scale)", "",
        f"Models: {settings['primary']}" + (f", second generator {settings['compare']}" if settings.get("compare") else "")
        + f"; T = {design['T']}; layers and neurons {units}; epochs {epochs[0]}..{epochs[-1]} ({len(epochs)}); methods "
        f"{', '.join(settings['methods'])}; {settings['seeds']} seeds; {settings['budget']} queries per search; "
        f"{settings['baseline_images']} random images per epoch for the baseline.", "",
        "**Coverage**: searches done of planned: " + "; ".join(f"{name} {v[0]} of {v[1]}" for name, v in coverage["searches"].items())
        + (" (complete)" if coverage.get("complete") else f" - a partial study: epochs with every seed and neuron: "
           f"{coverage.get('epochs_complete')}; resume with `mango reproduce --resume --out {settings['out']}`"), "",
    ]
    lines += claims_table(summary["claims"], drawn=summary.get("figures")) + [""]
    tables = summary["tables"]
    lines += _layer_table("Selective share (activation and confidence >= 75%, same class for all methods; seeds averaged)",
                          tables["selective"], shown)
    lines += _layer_table("Activation of the best MEI (silent = 0)", tables["activation"], shown)
    lines += _layer_table("Normalised entropy of the best MEI's class probabilities", tables["entropy"], shown)
    lines += _layer_table("Entropy minus the random images' mean entropy (negative: more class-specific than random)",
                          tables["entropy_excess"], shown)
    lines += _layer_table("Top-class probability minus the random images' mean", tables["confidence_excess"], shown)
    versus = summary.get("criteria_vs_random", {})
    if versus:
        lines += [f"**Criteria met by MEIs vs by random images** (share of neurons' MEIs, seeds averaged / share of random images; "
                  f"epochs {shown[0]} and {shown[-1]})", "",
                  "| layer | activation >= 75%: MEIs | random | confidence >= 75%: MEIs | random |", "|---|---|---|---|---|"]
        for layer, by_epoch in versus.items():
            cells = [by_epoch.get(str(e), by_epoch.get(e)) for e in (shown[0], shown[-1])]
            pairs = [" / ".join("-" if c is None or c[k] is None else f"{c[k]:.2f}" for c in cells)
                     for k in ("mei_active", "random_active", "mei_confident", "random_confident")]
            lines.append(f"| {layer} | " + " | ".join(pairs) + " |")
        lines.append("")
    lines += ["**Random-image baseline per epoch**", "", "| epoch | network | mean top probability | share >= 75% | mean entropy |",
              "|---|---|---|---|---|"]
    for row in summary["baseline"]:
        lines.append(f"| {row['epoch']} | {row['network']} | {row['random_top_probability']:.3f} | "
                     f"{row['random_confident_fraction']:.3f} | {row['random_entropy']:.3f} |")
    if summary.get("accuracy"):
        accuracy = sorted(summary["accuracy"].items(), key=lambda kv: int(kv[0]))
        lines += ["", "Held-out accuracy: " + ", ".join(f"{e}: {a:.3f}" for e, a in accuracy)]
    lines += ["", "Figures: " + ", ".join(f"`{p}`" for p in summary.get("figures", []))]
    return "\n".join(lines) + "\n"
