"""Show a finished run: its label-balance verdict, evaluation, pushed model and report paths.

    python pipeline/show_run.py [--output-dir outputs] [--run-id RUN_ID] [--json]

Everything is read through ML Metadata, so no artifact folder needs to be found by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

from pipeline import console
from pipeline.config import RuntimeConfig


def main(argv: Optional[List[str]] = None) -> int:
    defaults = RuntimeConfig()
    parser = argparse.ArgumentParser(prog="show_run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output-dir", default=defaults.output_dir, help="the run command's --output-dir (default: %(default)s)"
    )
    parser.add_argument("--pipeline-name", default=defaults.pipeline_name, help="(default: %(default)s)")
    parser.add_argument("--run-id", help="a run id from run_summary.json (default: the latest run)")
    parser.add_argument("--json", action="store_true", help="print the run summary as JSON")
    args = parser.parse_args(argv)

    console.quiet_libraries(verbose=False)
    from pipeline import run_record, summary

    layout = RuntimeConfig(output_dir=args.output_dir, pipeline_name=args.pipeline_name)
    try:
        store = run_record.open_store(os.path.abspath(layout.metadata_path))
        record = run_record.read_run(store, layout.pipeline_name, args.run_id)
    except run_record.NoRunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    run_summary = summary.build_summary(record, run_record.collect(record), data_dir=None, report_html=None)
    if args.json:
        print(json.dumps(run_summary, indent=2))
        return 0
    for line in console.describe(run_summary, layout.summary_path):
        print(line)
    balance = run_summary.get("balance")
    if balance and len(balance["findings"]) > 1:
        print("Label balance:")
        for finding in balance["findings"]:
            print(f"  - {finding}")
    for node, state in run_summary["components"].items():
        if state not in ("COMPLETE", "CACHED"):
            print(f"{node}: {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
