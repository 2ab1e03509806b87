"""The promotion gate: bless a model only when it beats the data's own baselines and the last blessed model."""
