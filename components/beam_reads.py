"""Reading Examples splits in a Beam job, the one way every step of ours does it.

Two things made the in-process runner hold every record in memory before the next transform saw
one (2.2 GB for 200,000 Fashion-MNIST examples, against 0.7 GB this way): `ReadFromTFRecord`,
and a `Flatten` of the splits read one by one. So the splits are read in one
`ReadAllFromTFRecord` over their file patterns, and each record is told its split by its file's
folder. On Dataflow the files are still spread over the workers."""
import posixpath
from typing import Dict

import apache_beam as beam

GZIP = beam.io.filesystem.CompressionTypes.GZIP


def _split_of(folders: Dict[str, str]):
    def split(named):
        filename, record = named
        folder = posixpath.dirname(filename)
        for name, split_folder in folders.items():
            if folder == split_folder:
                return name, record
        raise ValueError(f"{filename} is in none of the split folders {sorted(folders.values())}")

    return split


def read_splits(pipeline: beam.Pipeline, patterns: Dict[str, str], label: str):
    """(split, serialized record) of the gzipped TFRecord files matching each split's pattern
    (`<split folder>/<file pattern>`)."""
    folders = {split: posixpath.dirname(pattern) for split, pattern in patterns.items()}
    return (
        pipeline
        | f"{label}Patterns" >> beam.Create(sorted(patterns.values()))
        | f"{label}Records" >> beam.io.ReadAllFromTFRecord(compression_type=GZIP, with_filename=True)
        | f"{label}Splits" >> beam.Map(_split_of(folders))
    )
