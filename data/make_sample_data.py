"""Writes the built-in sample dataset (imbalanced handwritten digits) to data/sample/.

Run: python data/make_sample_data.py [--out-dir DIR]. `python pipeline/run_local.py` does this
itself when the sample is missing.
"""
from pipeline.sample_data import main

if __name__ == "__main__":
    raise SystemExit(main())
