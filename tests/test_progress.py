"""Progress lines of the long Beam steps: on a terminal every few seconds, with the rate and the
time left; elsewhere (tests, CI, a pipe) only the final count."""
import io

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from components import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_terminal_gets_a_line_every_few_seconds_with_the_rate_and_the_time_left():
    clock, out = Clock(), Terminal()
    counter = progress.Progress("Embeddings", "images", total=1_000, every=5.0, stream=out, clock=clock)
    for _ in range(100):  # 4 images a second, timed from the first (the step's setup is not its rate)
        clock.now += 0.25
        counter.add()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4  # at 5, 10, 15 and 20 s, not for every image
    assert lines[0] == "[Embeddings] 21 of 1,000 images, 4/s, about 3 min 53 s left"
    assert lines[1] == "[Embeddings] 41 of 1,000 images, 4/s, about 3 min 54 s left"
    assert lines[3].startswith("[Embeddings] 81 of 1,000 images")


def test_elsewhere_only_the_final_count_is_printed():
    clock, out = Clock(), io.StringIO()  # not a terminal
    counter = progress.Progress("DataQuality", total=100, every=0.0, stream=out, clock=clock)
    for _ in range(100):
        clock.now += 1
        counter.add()
    assert out.getvalue() == ""
    assert progress.final_count("DataQuality", 100, 125.0, stream=out) == "[DataQuality] 100 images in 2 min 05 s (1/s)"
    assert out.getvalue() == "[DataQuality] 100 images in 2 min 05 s (1/s)\n"


def test_counting_in_a_beam_job_passes_every_element_through_and_counts_it():
    for run in range(2):  # a second job in the same process counts from 0
        with beam.Pipeline() as pipeline:
            items = pipeline | beam.Create(list(range(37)))
            total = items | "Total" >> beam.combiners.Count.Globally()
            assert_that(progress.counted(items, "TestStep", "files", total=total), equal_to(list(range(37))))
        counters = [c for key, c in progress._COUNTERS.items() if key.startswith("TestStep")]
        assert len(counters) == run + 1 and counters[-1].done == 37 and counters[-1].total == 37
