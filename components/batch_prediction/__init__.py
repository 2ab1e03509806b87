"""Batch prediction: a folder of new images through the pushed model, one JSON line per image."""
