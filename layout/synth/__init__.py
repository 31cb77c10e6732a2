"""Seeded synthetic generator of the embedded Guangyuan region (everything but the boundaries).

``python -m layout.synth --seed 20241 --out data/geo/guangyuan`` regenerates the synthetic layers
byte for byte. Programmatic use::

    from layout.synth import generate, build_region
    layers = generate("some/folder", seed=20241)
"""

from layout.synth.generate import build_region, generate

__all__ = ["build_region", "generate"]
