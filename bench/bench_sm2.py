"""SM2-with-SM3 signing and verification per second per core, each backend beside ``openssl speed sm2``.

Every available backend of ``ca.sm2`` signs and verifies a 20-byte message (the size ``openssl speed``
uses) with the default ID, in this one process on one core; ``openssl speed -seconds 2 sm2`` runs in the
same session (before and after), and the ratio of each backend to it is printed. Run:
    .venv/bin/python bench/bench_sm2.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import per_second

from ca import sm2

MESSAGE = b"\x00" * 20


def openssl_speed(seconds: int) -> tuple[float, float] | None:
    """(sign/s, verify/s) from ``openssl speed -seconds N sm2``, or ``None`` if it cannot run."""
    try:
        done = subprocess.run(
            ["openssl", "speed", "-seconds", str(seconds), "sm2"], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return None
    # e.g. " 256 bits SM2 (CurveSM2)   0.0003s   0.0003s   2933.6   3310.4"
    match = re.search(r"SM2 \(CurveSM2\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", done.stdout)
    return (float(match.group(1)), float(match.group(2))) if match else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per figure")
    args = parser.parse_args()

    print(f"SM2 backends available: {', '.join(sm2.available_backends())} (default: {sm2.backend_name()})")
    # The reference runs before and after our measurements; the mean of the two is the baseline, so
    # that load from other processes during the run weighs on both sides alike.
    speed_seconds = max(1, round(args.seconds))
    before = openssl_speed(speed_seconds)
    results: dict[str, tuple[float, float]] = {}
    for name in sm2.available_backends():
        backend = sm2.get_backend(name)
        key = backend._generate()
        public = key.public_key()
        signature = backend.sign(key, MESSAGE)
        assert backend.verify(public, MESSAGE, signature)
        per_second(lambda b=backend, p=public, s=signature: b.verify(p, MESSAGE, s), seconds=0.5, repeats=1)  # warm-up
        signs = per_second(lambda b=backend, k=key: b.sign(k, MESSAGE), seconds=args.seconds)
        verifies = per_second(lambda b=backend, p=public, s=signature: b.verify(p, MESSAGE, s), seconds=args.seconds)
        results[name] = (signs, verifies)

    after = openssl_speed(speed_seconds)
    reference = (
        ((before[0] + after[0]) / 2, (before[1] + after[1]) / 2) if before is not None and after is not None else None
    )
    print()
    print(f"{'implementation':<34}{'sign/s':>10}{'verify/s':>10}{'sign ratio':>12}{'verify ratio':>14}")
    if reference is not None:
        assert before is not None and after is not None
        for label, figures in (("openssl speed sm2, before", before), ("openssl speed sm2, after", after)):
            print(f"{label:<34}{figures[0]:>10,.0f}{figures[1]:>10,.0f}")
        label = "openssl speed sm2, mean (=1)"
        print(f"{label:<34}{reference[0]:>10,.0f}{reference[1]:>10,.0f}{'1.00':>12}{'1.00':>14}")
    for name, (signs, verifies) in results.items():
        ratios = (
            (f"{signs / reference[0]:.3f}", f"{verifies / reference[1]:.3f}") if reference else ("n/a", "n/a")
        )
        label = f"ca.sm2 backend {name!r}"
        print(f"{label:<34}{signs:>10,.0f}{verifies:>10,.0f}{ratios[0]:>12}{ratios[1]:>14}")
    if reference is None:
        print("(openssl speed sm2 could not run: no openssl command or no SM2 in it)")


if __name__ == "__main__":
    main()
