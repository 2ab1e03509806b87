"""How Beam's workers get this project's code: the one place that decides it.

With no Beam options the Beam steps run on Beam's defaults: the DirectRunner with one in-process
worker (--direct_running_mode=in_memory --direct_num_workers=1), no start-up cost, right for data
that fits one machine. Options are left empty then on purpose: given any Beam option and none of
DEPENDENCY_OPTIONS, TFX copies its whole installation into an sdist for every Beam component
(2.3 s each, about 50 MB left in the temp dir each time), a package that lacks this project's code.
Given options, the workers install this project from its setup.py, unless an option already
ships the code (a container image, a package); a local run builds that package once per run.
"""
from __future__ import annotations

import dataclasses
import glob
import os
import shutil
import subprocess
import sys
from typing import Sequence, Tuple

from pipeline.config import PipelineConfig

DEPENDENCY_OPTIONS = (
    "--extra_package",
    "--extra_packages",
    "--setup_file",
    "--requirements_file",
    "--worker_harness_container_image",
    "--sdk_container_image",
)
_SETUP_FILE_OPTION = "--setup_file"


def _name(option: str) -> str:
    return option.split("=", 1)[0]


def beam_args(extra: Sequence[str], setup_file: str) -> Tuple[str, ...]:
    """The Beam options of the Beam steps: none by default (Beam's in-process runner); else `extra`
    followed by `--setup_file=setup_file` (this project's setup.py where the steps run), so that
    workers (Dataflow) install this project, unless `extra` already says how they get the code."""
    if not extra:
        return ()
    if {_name(option) for option in extra} & set(DEPENDENCY_OPTIONS):
        return tuple(extra)
    return (*extra, f"{_SETUP_FILE_OPTION}={setup_file}")


def package_for_beam_workers(config: PipelineConfig) -> PipelineConfig:
    """`config` with its `--setup_file` Beam option replaced by an sdist of that project built once,
    as `--extra_package`: given a setup file, Beam builds the package again in every Beam pipeline
    it starts, two per Beam step, and prints the build's output. Without one, `config` as it is."""
    setup_files = [option.split("=", 1)[1] for option in config.runtime.beam_args if _name(option) == _SETUP_FILE_OPTION]
    if not setup_files:
        return config
    folder = config.runtime.beam_package_dir
    shutil.rmtree(folder, ignore_errors=True)
    project = os.path.dirname(setup_files[0])
    command = [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--outdir", folder, project]
    built = subprocess.run(command, capture_output=True, text=True)
    packages = glob.glob(os.path.join(folder, "*.tar.gz"))
    if built.returncode or len(packages) != 1:
        last = (built.stderr.strip().splitlines() or ["no package written"])[-1]
        raise RuntimeError(f"packaging this project for the Beam workers failed ({' '.join(command)}): {last}")
    args = tuple(
        f"--extra_package={packages[0]}" if _name(option) == _SETUP_FILE_OPTION else option
        for option in config.runtime.beam_args
    )
    return dataclasses.replace(config, runtime=dataclasses.replace(config.runtime, beam_args=args))
