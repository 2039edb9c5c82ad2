"""kiln_llm_batch: the day's LLM batch inference with the prompt at alias ``production``.

- redaction: Kiln has no redaction command of its own yet (``kiln pii redact`` is not built); PII is
  redacted inside ``kiln llm run``, before the prompt is rendered, so this DAG has no separate task.
- llm_run: ``kiln llm run --config llm.yaml`` (kiln_jobs folder); the job config names the prompt with
  ``prompt: {name: NAME, alias: production}``, so whichever version holds the alias runs. More failed
  rows than the config's maxErrorRate is exit 1: the task fails without retry. A re-run of the same
  input version writes nothing twice (Kiln's llm job).
- evaluation: not built yet in Kiln (no ``kiln llm evaluate``); no task pretends to do it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG
from kiln_tasks import KilnJob, job_file

with DAG(
    dag_id="kiln_llm_batch",
    description="Kiln: batch LLM inference (PII redacted first) with the prompt at alias production",
    schedule="@daily",
    start_date=datetime(2001, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["kiln", "llm"],
    doc_md=__doc__,
):
    KilnJob(task_id="llm_run", kiln_args=["llm", "run", "--config", job_file("llm.yaml")])
