"""Class counts per split from TFDV statistics, and the training hints handed to the Trainer."""
