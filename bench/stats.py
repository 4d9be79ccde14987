"""Repeat, time, summarise."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    samples_ms: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        # nearest-rank: the smallest sample with at least 95% of samples at or below it
        rank = max(1, -(-95 * len(ordered) // 100))
        return ordered[rank - 1]


def repeat(action: Callable[[], object], times: int, *, warmup: int = 1) -> Timing:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(tuple(samples))


def timed(samples_ms: list[float]) -> Timing:
    return Timing(tuple(samples_ms))
