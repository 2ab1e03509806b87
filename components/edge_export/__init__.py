"""TF Lite models of a promoted model, float and int8, checked against the SavedModel."""
