"""A minimal presentation client for mango's folder protocol (plain Python, no mango import).

Usage: python example_client.py EXCHANGE_FOLDER   (while `mango closed-loop --folder EXCHANGE_FOLDER` runs)
Replace measure() with: show the image on the screen, record the neuron, return its response.
"""
import json
import os
import sys
import time
from pathlib import Path

from PIL import Image


def measure(png_path):
    pixels = Image.open(png_path).convert("L").tobytes()
    return sum(pixels) / (255.0 * len(pixels))  # stand-in "neuron": mean brightness


def main(folder):
    outbox, inbox, answered = Path(folder, "outbox"), Path(folder, "inbox"), set()
    while not (outbox / "done.json").exists():
        for batch in sorted(p for p in outbox.glob("batch_*") if p.is_dir() and not p.name.endswith(".tmp")):
            if batch.name in answered:
                continue
            manifest = json.loads((batch / "manifest.json").read_text())
            responses = {s["id"]: measure(batch / s["file"]) for s in manifest["stimuli"]}
            answer = inbox / f"responses_{batch.name[6:]}.json"
            Path(f"{answer}.tmp").write_text(json.dumps({"batch": manifest["batch"], "responses": responses}))
            os.replace(f"{answer}.tmp", answer)  # appears at once, never half-written
            answered.add(batch.name)
        time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1])
