"""Kiln's Spark jobs as Airflow tasks (imported by the kiln_* DAGs of this folder; not a DAG itself).

Every Kiln job is a SparkSubmitOperator: the Spark connection ``kiln_spark`` (the master, e.g.
``spark://host:7077``), Kiln's shaded jar with main class ``kiln.jobs.Kiln``, ``--profile cluster``,
Kiln's settings file, and Spark properties from cluster-config (``--properties-file``). The job runs in
client deploy mode, so that spark-submit's exit code is the job's (in cluster mode a standalone
spark-submit exits 0 even when the driver fails), and Kiln's exit codes become Airflow outcomes:

- 0: success; the job's ``--json`` result record is the task's return value (XCom).
- 1, a check failed (a contract broken, drift, a gate refused, a budget exceeded): by default the task
  fails without retrying (``check_failed="fail"``); with ``check_failed="result"`` the task succeeds and
  returns ``{"exit_code": 1, ...}`` for a branch to read (drift -> retrain).
- 2, bad input: the task fails without retrying (AirflowFailException) with Kiln's message; a retry
  would only repeat it.
- 3, an environment failure (and anything else): the task fails as usual and Airflow retries it.

Lineage: every job gets ``--lineage-parent NAMESPACE/DAG_ID.TASK_ID/RUN_ID``, the task instance as the
OpenLineage parent of the job's own run events, named as OpenLineage's Airflow integration names a task
(job ``{{ dag.dag_id }}.{{ task.task_id }}``, namespace ``[openlineage] namespace`` or
``OPENLINEAGE_NAMESPACE``, ``default`` otherwise). The run id is the OpenLineage provider's own
``lineage_run_id(task_instance)`` when the provider is installed, so that Kiln's events join the
provider's task events; without it, a UUID derived from the task instance (DAG, task, Airflow run id,
try, map index): the same for a task instance's re-render, new for each try.

Deployment settings are Airflow Variables (or ``AIRFLOW_VAR_KILN_...`` environment variables), read
when a task runs: ``kiln_jar``, ``kiln_settings``, ``kiln_spark_conf``, ``kiln_jobs`` (the folder of the
jobs' YAML files), ``kiln_landing``, ``kiln_lake``, ``kiln_model``. ``kiln_jar`` may be ``local:/path``
when the jar is at that path on every node: executors then read it in place instead of fetching it.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk.exceptions import AirflowFailException

CONN_ID = "kiln_spark"
MAIN_CLASS = "kiln.jobs.Kiln"
CLUSTER_CONFIG = Path(__file__).resolve().parent.parent

CHECK_FAILED = 1
BAD_INPUT = 2
ENVIRONMENT = 3

DEFAULTS = {
    "jar": "/opt/kiln/kiln-jobs-spark.jar",
    "settings": str(CLUSTER_CONFIG / "kiln-settings.yaml"),
    "spark_conf": str(CLUSTER_CONFIG / "spark-kiln.conf"),
    "jobs": "/etc/kiln/jobs",
    "landing": "/data/landing",
    "lake": "/data/lake",
    "model": "delays",
}


def var(name: str) -> str:
    """A Jinja expression for the Airflow Variable kiln_NAME (rendered when the task runs)."""
    return "{{ var.value.get('kiln_%s', '%s') }}" % (name, DEFAULTS[name])


def job_file(name: str) -> str:
    """A job's YAML file in the kiln_jobs folder."""
    return var("jobs") + "/" + name


def lake(table: str) -> str:
    """A Delta table under kiln_lake."""
    return var("lake") + "/" + table


LINEAGE_PARENT = "{{ kiln_lineage_namespace }}/{{ dag.dag_id }}.{{ task.task_id }}/{{ kiln_lineage_run_id }}"


def lineage_namespace() -> str:
    """The OpenLineage namespace of Airflow's jobs, as the OpenLineage provider reads it."""
    try:
        from airflow.configuration import conf

        configured = conf.get("openlineage", "namespace", fallback=None)
    except Exception:  # noqa: BLE001 - no configuration: the environment and the default decide
        configured = None
    return configured or os.environ.get("OPENLINEAGE_NAMESPACE") or "default"


def lineage_run_id(context: Any) -> str:
    """The task instance's OpenLineage run id: the provider's, or a UUID of the task instance."""
    ti = context["ti"]
    try:
        from airflow.providers.openlineage.plugins.macros import lineage_run_id as provider_run_id
    except ImportError:
        provider_run_id = None
    if provider_run_id is not None:
        return str(provider_run_id(ti))
    key = "/".join(
        str(part)
        for part in (ti.dag_id, ti.task_id, ti.run_id, ti.try_number, getattr(ti, "map_index", -1))
    )
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "airflow-task-instance:" + key))


def kiln_error(lines: list[str]) -> str:
    """Kiln's own error message (``kiln: error: ...`` and its ``fix:`` line) from the job's output."""
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("kiln: error:"):
            message = [lines[i]]
            for following in lines[i + 1 :]:
                if following.startswith("  ") and following.strip():
                    message.append(following)
                else:
                    break
            return "\n".join(message)
    return "(no kiln error message in the output; see the task log)"


def json_result(lines: list[str]) -> Any:
    """The job's --json record: the last block of lines from one starting with '{' or '[' at the margin
    to one starting with '}' or ']' at the margin that parses as JSON (log lines never start so)."""
    starts = [i for i, line in enumerate(lines) if line[:1] in ("{", "[")]
    ends = [i for i, line in enumerate(lines) if line[:1] in ("}", "]")]
    for start in reversed(starts):
        for end in reversed([e for e in ends if e >= start]):
            try:
                return json.loads("\n".join(lines[start : end + 1]))
            except ValueError:
                continue
    return None


class KilnJob(SparkSubmitOperator):
    """One ``kiln ...`` command line, submitted with spark-submit, its exit code mapped to an outcome."""

    def __init__(self, *, kiln_args: list[str], check_failed: str = "fail", **kwargs: Any) -> None:
        if check_failed not in ("fail", "result"):
            raise ValueError(f"check_failed must be 'fail' or 'result', got {check_failed!r}")
        kwargs.setdefault("conn_id", CONN_ID)
        kwargs.setdefault("application", var("jar"))
        kwargs.setdefault("java_class", MAIN_CLASS)
        kwargs.setdefault("properties_file", var("spark_conf"))
        kwargs.setdefault("deploy_mode", "client")
        kwargs.setdefault("name", "kiln-" + kwargs["task_id"])
        super().__init__(
            application_args=[
                *kiln_args,
                "--profile",
                "cluster",
                "--settings",
                var("settings"),
                "--lineage-parent",
                LINEAGE_PARENT,
                "--json",
            ],
            **kwargs,
        )
        self.check_failed = check_failed

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """The lineage parent's namespace and run id join the context the arguments render with."""
        context["kiln_lineage_namespace"] = lineage_namespace()
        context["kiln_lineage_run_id"] = lineage_run_id(context)
        super().render_template_fields(context, jinja_env)

    def execute(self, context: Any) -> dict[str, Any]:
        self._hook = self._get_hook()
        lines: list[str] = []
        process_log = self._hook._process_spark_submit_log

        def keep(itr: Any) -> None:
            def tee() -> Any:
                for line in itr:
                    lines.append(line.rstrip("\r\n"))
                    yield line

            process_log(tee())

        # the hook logs every line of spark-submit's output; Kiln's result and message are kept too
        self._hook._process_spark_submit_log = keep
        try:
            super().execute(context)
            code = 0
        except Exception as error:
            process = getattr(self._hook, "_submit_sp", None)
            code = process.returncode if process is not None else None
            if code == BAD_INPUT:
                raise AirflowFailException(
                    f"kiln exited {code} (bad input; a retry would fail the same way):\n{kiln_error(lines)}"
                ) from error
            if code == CHECK_FAILED and self.check_failed == "fail":
                raise AirflowFailException(f"kiln exited {code} (a check failed):\n{kiln_error(lines)}") from error
            if code != CHECK_FAILED:
                if code is not None:
                    self.log.error("kiln exited %s (retried when retries are left):\n%s", code, kiln_error(lines))
                raise
        result = json_result(lines)
        if code == CHECK_FAILED:
            self.log.info("kiln exited 1: a check failed, returned as this task's result:\n%s", kiln_error(lines))
        return {"exit_code": code, "result": result}
