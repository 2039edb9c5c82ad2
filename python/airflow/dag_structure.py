"""Loads a DAG folder with Airflow's own DagBag and writes what it holds as JSON (for AirflowIT).

Usage: python dag_structure.py DAGS_FOLDER OUT.json (Airflow logs to standard output, so the JSON goes
to a file). Writes {"import_errors": {file: error}, "dags": {dag_id: {"tasks": {task_id: {...}}}}}.
"""

import json
import sys
import types

from airflow.dag_processing.dagbag import DagBag


def describe(task):
    out = {
        "operator": type(task).__name__,
        "bases": [c.__name__ for c in type(task).__mro__],
        "upstream": sorted(task.upstream_task_ids),
        "downstream": sorted(task.downstream_task_ids),
        "trigger_rule": str(getattr(task.trigger_rule, "value", task.trigger_rule)),
        "retries": task.retries,
        "dag_id": task.dag_id,
    }
    for name in ("application", "application_args", "properties_file", "_java_class", "_conn_id", "_deploy_mode"):
        if hasattr(task, name):
            out[name.lstrip("_")] = getattr(task, name)
    parent = lineage_parent(task)
    if parent is not None:
        out["lineage_parent"] = parent
    return out


def lineage_parent(task):
    """A Kiln task's --lineage-parent as it renders for a task instance of a made-up Airflow run (the
    kiln_tasks functions the operator renders it with, Jinja as Airflow's), twice with the same try and
    once with the next: the run id must repeat for one try and change with the next."""
    if "--lineage-parent" not in (getattr(task, "application_args", None) or []):
        return None
    import jinja2
    import kiln_tasks

    template = task.application_args[task.application_args.index("--lineage-parent") + 1]

    def render(try_number):
        ti = types.SimpleNamespace(
            dag_id=task.dag_id, task_id=task.task_id, run_id="scheduled__2001-01-02T00:00:00+00:00",
            try_number=try_number, map_index=-1,
        )
        return jinja2.Template(template).render(
            dag=task.dag, task=task, kiln_lineage_namespace=kiln_tasks.lineage_namespace(),
            kiln_lineage_run_id=kiln_tasks.lineage_run_id({"ti": ti}),
        )

    return {"template": template, "first": render(1), "again": render(1), "retry": render(2)}


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
