"""Command line: ``python -m layout.synth --seed 20241 --out data/geo/guangyuan``."""

from __future__ import annotations

import argparse
import time

from layout.synth.calibration import DEFAULT_SEED
from layout.synth.generate import generate
from layout.synth.summary import summarise


def main(argv: list[str] | None = None) -> None:
    """Generate the synthetic region and print calibration figures."""
    parser = argparse.ArgumentParser(prog="python -m layout.synth",
                                     description="Generate the synthetic Guangyuan layers.")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", default="data/geo/guangyuan")
    parser.add_argument("--province", default=None,
                        help="510000: the whole of Sichuan (real county boundaries, synthetic "
                        "layers; layout/synth/province.py) instead of Guangyuan")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    if args.province is not None:
        from layout.synth.province import generate_province

        generate_province(args.out, seed=args.seed, province=args.province)
        print(f"written to {args.out} in {time.perf_counter() - t0:.1f} s")
        return
    layers = generate(args.out, seed=args.seed)
    print(f"written to {args.out} in {time.perf_counter() - t0:.1f} s")
    for key, value in summarise(layers).items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
