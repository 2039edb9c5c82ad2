#!/usr/bin/env bash
# Spark's GPU discovery script (spark.executor.resource.gpu.discoveryScript): prints the executor's
# GPUs as Spark's ResourceInformation JSON, e.g. {"name": "gpu", "addresses": ["0","1"]}.
# Install it on every GPU node at the path spark-gpu.conf names (/opt/sparkRapidsPlugin/getGpusResources.sh).
# Without nvidia-smi (a node with no NVIDIA driver) it lists no GPU, so Spark refuses to start a GPU executor
# there rather than Kiln crashing in native code.
set -euo pipefail
addresses=""
if command -v nvidia-smi >/dev/null 2>&1; then
  addresses=$(nvidia-smi --query-gpu=index --format=csv,noheader | sed -e 's/^ *//' -e 's/ *$//' | sed -e 's/.*/"&"/' | paste -sd, -)
fi
echo "{\"name\": \"gpu\", \"addresses\": [${addresses}]}"
