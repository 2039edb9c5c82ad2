#!/bin/bash
# Databricks cluster init script for Kiln's GPU job (cluster-config/databricks/kiln-gpu.json): puts the
# RAPIDS Accelerator jar into /databricks/jars/ before Spark starts, where spark.plugins finds it (a jar
# given as a job library is loaded too late for a Spark plugin). Upload it to the workspace path the job
# names. RAPIDS 25.04 runs on Databricks 15.4 LTS (its spark350db143 shim), Delta Lake included.
set -euo pipefail
VERSION=25.04.0
sudo wget -q -O "/databricks/jars/rapids-4-spark_2.12-${VERSION}-cuda12.jar" \
  "https://repo1.maven.org/maven2/com/nvidia/rapids-4-spark_2.12/${VERSION}/rapids-4-spark_2.12-${VERSION}-cuda12.jar"
