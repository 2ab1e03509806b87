# The image every component of the pipeline runs in on Kubeflow Pipelines / Vertex AI Pipelines.
#
#   docker build -t REGION-docker.pkg.dev/PROJECT/pipelines/image-pipeline:1 .
#   docker push REGION-docker.pkg.dev/PROJECT/pipelines/image-pipeline:1
#   python pipeline/run_kubeflow.py --image REGION-docker.pkg.dev/PROJECT/pipelines/image-pipeline:1 ...
#
# The official TFX 1.16 image brings Python 3.10, TFX and its executors; this adds the project
# (the `pipeline` and `components` packages, whose code the components run by import path) with
# the same pinned versions as the local runs, and the curated schema at /pipeline/schemas.
FROM tensorflow/tfx:1.16.0

WORKDIR /pipeline

# Dependencies first, so editing the code does not re-install them.
COPY setup.py constraints.txt README.md ./
RUN mkdir -p components pipeline \
    && touch components/__init__.py pipeline/__init__.py \
    && pip install --no-cache-dir --constraint constraints.txt . \
    && pip uninstall --yes tfx-image-classification

COPY components/ components/
COPY pipeline/ pipeline/
COPY schemas/ schemas/
RUN pip install --no-cache-dir --no-deps --constraint constraints.txt .

# TFX 1.16 needs Keras 2: tf.keras must resolve to tf_keras, in every process of every component.
ENV TF_USE_LEGACY_KERAS=1 \
    PYTHONUNBUFFERED=1

# Kubeflow / Vertex set each container's command (TFX's kubeflow_v2_run_executor); no ENTRYPOINT here.
ENTRYPOINT []
