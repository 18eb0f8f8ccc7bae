"""What the network makes of an image: class probabilities, top class, normalised entropy, complexity.

The paper judges an MEI by the class the network sees in it (section 4.2) and by how much it
compresses (section 4.3); these are the numbers every study keeps next to an MEI.
"""
from __future__ import annotations

import numpy as np

from mango_widgets.analysis.complexity import compression_ratios
from mango_widgets.analysis.entropy import normalized_entropy


def describe_mei(network, image) -> dict:
    """Class probabilities, top class and probability, normalised entropy of the network on one
    image [C, H, W], and the image's JPEG/ZIP compression ratios (plain JSON values)."""
    import torch

    tensor = torch.as_tensor(np.asarray(image, dtype=np.float32))[None]
    probabilities = network.class_probabilities(tensor)[0].double().cpu().numpy()
    return {
        "probabilities": probabilities.round(6).tolist(),
        "top_class": int(np.argmax(probabilities)),
        "top_probability": float(probabilities.max()),
        "entropy": float(normalized_entropy(probabilities)),
        **{f"{kind}_ratio": ratio for kind, ratio in compression_ratios(image).items()},
    }


def describe_probabilities(probabilities) -> dict:
    """Top class, top probability and normalised entropy of each row of ``probabilities`` [N, classes]."""
    p = np.asarray(probabilities, dtype=np.float64)
    return {"top_class": p.argmax(-1), "top_probability": p.max(-1), "entropy": normalized_entropy(p)}
