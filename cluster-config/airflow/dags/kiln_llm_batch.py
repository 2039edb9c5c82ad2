"""kiln_llm_batch: the day's LLM batch inference with the prompt at alias ``production``.

- pii_redact: ``kiln pii redact --config pii.yaml`` (kiln_jobs folder) writes the day's texts with PII
  replaced to the table ``llm.yaml`` reads as its input (one Delta commit: a failed run writes nothing,
  a re-run nothing twice). ``kiln llm run`` redacts again before rendering the prompt, so a config that
  reads the raw table is still safe; this task keeps a redacted copy that other readers can use.
- llm_run: ``kiln llm run --config llm.yaml``; the job config names the prompt with
  ``prompt: {name: NAME, alias: production}``, so whichever version holds the alias runs. More failed
  rows than the config's maxErrorRate is exit 1: the task fails without retry. A re-run of the same
  input version writes nothing twice (Kiln's llm job).
- llm_evaluate: ``kiln llm evaluate --config llm-eval.yaml`` over ``llm_run``'s output table: schema
  validity, refusals, PII leaks, lengths, similarity and the configured judges, per row to Delta and as
  aggregates to MLflow.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG
from kiln_tasks import KilnJob, job_file

with DAG(
    dag_id="kiln_llm_batch",
    description="Kiln: PII redaction, batch LLM inference with the prompt at alias production, evaluation",
    schedule="@daily",
    start_date=datetime(2001, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["kiln", "llm"],
    doc_md=__doc__,
):
    redact = KilnJob(
        task_id="pii_redact", kiln_args=["pii", "redact", "--config", job_file("pii.yaml")]
    )
    run = KilnJob(task_id="llm_run", kiln_args=["llm", "run", "--config", job_file("llm.yaml")])
    evaluate = KilnJob(
        task_id="llm_evaluate",
        kiln_args=["llm", "evaluate", "--config", job_file("llm-eval.yaml")],
    )
    redact >> run >> evaluate
