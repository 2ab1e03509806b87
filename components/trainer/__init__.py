"""The Trainer's code: model builders, input pipeline, training loop, export, and the run_fn adapter."""
