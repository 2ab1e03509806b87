"""The bundled ImageNet backbone (EfficientNet-Lite0), shared by the steps that use it: the Trainer
(transfer learning) and Embeddings (features for DataQuality). Not a pipeline step."""
