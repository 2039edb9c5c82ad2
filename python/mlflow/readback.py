"""Reads back what Kiln wrote to an MLflow tracking server, with MLflow's own Python client, as JSON.

Usage: python readback.py TRACKING_URI [--write EXPERIMENT]

Prints one JSON object on stdout: every experiment with its runs (params, metrics with their histories,
tags, dataset inputs, artifact paths) and every registered model with its versions and aliases, all
read through mlflow.MlflowClient, so each call is one the MLflow 3 Python client really makes. With
--write, it first creates EXPERIMENT and a run in it and logs params, metrics, a batch and tags the way
a Python user does (how Kiln's embedded server is checked against that client).
"""
import contextlib
import json
import sys

import mlflow
from mlflow import MlflowClient


def artifact_paths(client, run_id, path=None):
    paths = []
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            paths.extend(artifact_paths(client, run_id, info.path))
        else:
            paths.append({"path": info.path, "size": info.file_size})
    return paths


def write(client, experiment):
    experiment_id = client.create_experiment(experiment, tags={"written.by": "readback.py"})
    run = client.create_run(experiment_id, run_name="python-client", tags={"kind": "python"})
    run_id = run.info.run_id
    client.log_param(run_id, "alpha", "0.5")
    client.log_metric(run_id, "loss", 0.25, step=1)
    client.log_metric(run_id, "loss", 0.125, step=2)
    client.set_tag(run_id, "phase", "check")
    from mlflow.entities import Metric, Param, RunTag
    client.log_batch(run_id, metrics=[Metric("acc", 0.75, 0, 3)], params=[Param("beta", "2")],
                     tags=[RunTag("batch", "yes")])
    client.set_terminated(run_id, "FINISHED")
    model = experiment + "-model"
    client.create_registered_model(model, tags={"owner": "python"})
    version = client.create_model_version(model, f"runs:/{run_id}/model", run_id=run_id, tags={"stage": "new"})
    client.set_registered_model_alias(model, "champion", version.version)
    client.set_model_version_tag(model, version.version, "checked", "yes")


def main():
    # MLflow prints "View run ..." lines on stdout: keep stdout for the JSON alone
    with contextlib.redirect_stdout(sys.stderr):
        out = read()
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


def read():
    uri = sys.argv[1]
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    if len(sys.argv) == 4 and sys.argv[2] == "--write":
        write(client, sys.argv[3])
    out = {"mlflow_version": mlflow.__version__, "experiments": [], "registered_models": []}
    for experiment in client.search_experiments():
        runs = []
        for run in client.search_runs([experiment.experiment_id], max_results=1000):
            run_id = run.info.run_id
            runs.append({
                "run_id": run_id,
                "run_name": run.info.run_name,
                "status": run.info.status,
                "params": dict(run.data.params),
                "metrics": dict(run.data.metrics),
                "metric_history_lengths": {
                    key: len(client.get_metric_history(run_id, key)) for key in run.data.metrics},
                "tags": {k: v for k, v in run.data.tags.items()},
                "dataset_inputs": [{
                    "name": d.dataset.name,
                    "digest": d.dataset.digest,
                    "source_type": d.dataset.source_type,
                    "source": d.dataset.source,
                    "tags": {t.key: t.value for t in d.tags},
                } for d in (run.inputs.dataset_inputs if run.inputs else [])],
                "artifacts": artifact_paths(client, run_id),
            })
        out["experiments"].append({
            "experiment_id": experiment.experiment_id,
            "name": experiment.name,
            "artifact_location": experiment.artifact_location,
            "runs": runs,
        })
    # search_registered_models sends the filter tags.`mlflow.prompt.is_prompt` != 'true' (MLflow 3)
    for model in client.search_registered_models():
        versions = []
        for version in client.search_model_versions(f"name='{model.name}'"):
            versions.append({
                "version": version.version,
                "run_id": version.run_id,
                "source": version.source,
                "status": version.status,
                # search results carry no aliases in MLflow's SQL store; get_model_version does
                "aliases": list(client.get_model_version(model.name, version.version).aliases),
                "tags": dict(version.tags),
            })
        aliases = {}
        for alias in (model.aliases or {}):
            aliases[alias] = client.get_model_version_by_alias(model.name, alias).version
        out["registered_models"].append({
            "name": model.name,
            "tags": dict(model.tags),
            "aliases": aliases,
            "latest_versions": [v.version for v in (model.latest_versions or [])],
            "versions": sorted(versions, key=lambda v: int(v["version"])),
        })
    return out


if __name__ == "__main__":
    main()
