"""``aftercare generate``: parse-free entry point called by ``pipelines.cli``."""

from __future__ import annotations

import argparse
from pathlib import Path

from sources.sample_oem.generate import default_end, generate


def generate_command(args: argparse.Namespace) -> int:
    end = args.end or default_end()
    if args.vehicles < 100:
        print("aftercare generate: --vehicles must be at least 100")
        return 2
    if args.months < 1:
        print("aftercare generate: --months must be at least 1")
        return 2
    summary = generate(Path(args.out), vehicles=args.vehicles, seed=args.seed, end=end, months=args.months)
    print(summary.describe())
    return 0
