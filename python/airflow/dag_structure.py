"""Loads a DAG folder with Airflow's own DagBag and writes what it holds as JSON (for AirflowIT).

Usage: python dag_structure.py DAGS_FOLDER OUT.json (Airflow logs to standard output, so the JSON goes
to a file). Writes {"import_errors": {file: error}, "dags": {dag_id: {"tasks": {task_id: {...}}}}}.
"""

import json
import sys

from airflow.dag_processing.dagbag import DagBag


def describe(task):
    out = {
        "operator": type(task).__name__,
        "bases": [c.__name__ for c in type(task).__mro__],
        "upstream": sorted(task.upstream_task_ids),
        "downstream": sorted(task.downstream_task_ids),
        "trigger_rule": str(getattr(task.trigger_rule, "value", task.trigger_rule)),
        "retries": task.retries,
    }
    for name in ("application", "application_args", "properties_file", "_java_class", "_conn_id", "_deploy_mode"):
        if hasattr(task, name):
            out[name.lstrip("_")] = getattr(task, name)
    return out


def main(folder, out):
    # as Airflow does with its dags_folder: modules beside the DAGs (kiln_tasks.py) are importable
    sys.path.insert(0, folder)
    bag = DagBag(dag_folder=folder)
    found = {
        "import_errors": {name: str(error) for name, error in bag.import_errors.items()},
        "dags": {
            dag_id: {"schedule": str(dag.schedule), "tasks": {t.task_id: describe(t) for t in dag.tasks}}
            for dag_id, dag in bag.dags.items()
        },
    }
    with open(out, "w") as file:
        json.dump(found, file, indent=2, default=str)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
