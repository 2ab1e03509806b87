"""Progress lines for the Beam steps that go over every image (ExampleGen, Embeddings, DataQuality,
batch prediction): images done of the total, the rate and the time left, every few seconds.

The count is the step's own: a pass-through `counted(...)` in its Beam pipeline adds each element
to a counter of this process (shared by its threads and bundles). Lines go to stdout only when it
is a terminal, so tests, CI logs and pipes stay quiet; `final_count` prints the one line every run
prints, after the step. With Beam's multi-processing runner each worker counts its own share.
"""
from __future__ import annotations

import sys
import threading
import time
import uuid
from typing import Callable, Dict, Optional, TextIO

import apache_beam as beam

EVERY_SECONDS = 5.0


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Counts done items and prints a line at most every `every` seconds, on a terminal only."""

    def __init__(
        self, step: str, unit: str = "images", total: Optional[int] = None, every: float = EVERY_SECONDS,
        stream: Optional[TextIO] = None, clock: Callable[[], float] = time.monotonic,
    ):  # fmt: skip
        self.step, self.unit, self.total, self.every = step, unit, total, every
        self._stream, self._clock = stream, clock
        self._lock = threading.Lock()
        self.done, self.started, self._last = 0, None, None  # from the first item: setup is not throughput

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stdout

    def line(self) -> str:
        elapsed = max(self._clock() - (self.started or self._clock()), 1e-9)
        rate = self.done / elapsed
        of = f" of {self.total:,}" if self.total else ""
        text = f"[{self.step}] {self.done:,}{of} {self.unit}, {rate:,.0f}/s"
        if self.total and rate > 0 and self.done < self.total:
            text += f", about {_duration((self.total - self.done) / rate)} left"
        return text

    def add(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            now = self._clock()
            if self.started is None:
                self.started = self._last = now
            if now - self._last < self.every:
                return
            self._last = now
            if not getattr(self.stream, "isatty", lambda: False)():
                return
            print(self.line(), file=self.stream, flush=True)


_COUNTERS: Dict[str, Progress] = {}
_COUNTERS_LOCK = threading.Lock()


def counter(step: str, unit: str, total: Optional[int], job: str = "") -> Progress:
    """This process's counter of `step` in the Beam job `job` (one per step and job, whatever the
    DoFn instances and bundles: a second job in the same process starts from 0)."""
    with _COUNTERS_LOCK:
        progress = _COUNTERS.get(step + job)
        if progress is None:
            progress = _COUNTERS[step + job] = Progress(step, unit, total)
        return progress


class _Count(beam.DoFn):
    def __init__(self, step: str, unit: str, total: Optional[int]):
        self._step, self._unit, self._total = step, unit, total
        self._job = uuid.uuid4().hex  # made when the job is built: the same in every worker

    def setup(self):
        self._progress = None

    def process(self, element, total=None):
        if self._progress is None:
            self._progress = counter(self._step, self._unit, self._total if total is None else int(total), self._job)
        self._progress.add()
        yield element


def counted(pcoll, step: str, unit: str = "images", total=None, where: str = ""):
    """`pcoll` passed through unchanged, each element counted for `step`'s progress lines.
    `total`: the number expected, an int or a PCollection of one number (counted in the job);
    `where`: which of a step's counts this is, when it counts in more than one place."""
    label = f"Progress[{step}{where}]"
    if isinstance(total, beam.pvalue.PCollection):
        return pcoll | label >> beam.ParDo(_Count(step, unit, None), total=beam.pvalue.AsSingleton(total))
    return pcoll | label >> beam.ParDo(_Count(step, unit, total))


def final_count(step: str, done: int, seconds: float, unit: str = "images", stream: Optional[TextIO] = None) -> str:
    """The line a step prints when it ends, terminal or not: how many, how long, how fast."""
    rate = done / seconds if seconds > 0 else 0.0
    text = f"[{step}] {done:,} {unit} in {_duration(seconds)} ({rate:,.0f}/s)"
    print(text, file=stream or sys.stdout, flush=True)
    return text
