"""Timing both clocks at once, order statistics, and the PASS/FAIL lines every benchmark ends with.

Wall time (time.perf_counter) is what the targets are stated in; CPU time (time.process_time,
every thread of this process) is printed beside it because the machine is shared: a wall time
well above its CPU time means something else had the cores.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn


@dataclass
class Span:
    wall: float = 0.0
    cpu: float = 0.0


class timed:
    """with timed() as span: ...  ->  span.wall, span.cpu in seconds."""

    def __enter__(self) -> Span:
        self.span = Span()
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self.span

    def __exit__(self, *exc_info: object) -> None:
        self.span.wall = time.perf_counter() - self._wall
        self.span.cpu = time.process_time() - self._cpu


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in 0..100."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


@dataclass
class Verdicts:
    """Targets checked in this run; `exit_status` is 1 when any failed."""

    lines: list[tuple[bool, str]] = field(default_factory=list)

    def check(self, ok: bool, text: str) -> bool:
        self.lines.append((ok, text))
        return ok

    def print(self) -> None:
        print("\nTargets")
        for ok, text in self.lines:
            print(f"  {'PASS' if ok else 'FAIL'}  {text}")

    @property
    def exit_status(self) -> int:
        return 0 if all(ok for ok, _ in self.lines) else 1

    def finish(self, began: float) -> NoReturn:
        """The run's length and the load it ran under, the targets, and the exit status."""
        print(
            f"\ntotal {time.perf_counter() - began:.0f} s; load average {os.getloadavg()[0]:.2f} "
            f"(1 min, {os.cpu_count()} CPUs)"
        )
        self.print()
        sys.exit(self.exit_status)
