"""kiln_daily: the day's flights from landing to predictions, retraining when the champion drifts.

ingest -> contract_check -> features -> drift -> retrain_or_score -> [train -> gate] -> score

- ingest: the day's files (kiln_landing/YYYY-MM-DD/) appended to the flights table. A re-run of the
  same files writes nothing (Kiln's idempotent ingest).
- contract_check: the table version ingest wrote, against the data contract; a broken contract fails
  the run here (no retry).
- features: the feature table rebuilt from the flights table (the champion's feature config); the
  same config over the same input version writes nothing a second time.
- drift: the day's feature rows against the champion's test split, scored by the champion (Kiln's
  drift --model needs the model's inputs, hence features before drift). Exit 1 (drifted) is a result,
  not a failure: the branch goes to retrain.
- train -> gate: a new version trained on the feature table, then judged by the gate; a refusal keeps
  the champion and is a result too.
- score: the day's rows scored by the champion (after a retrain, the champion the gate left).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, TriggerRule, task
from kiln_tasks import KilnJob, job_file, lake, var

DAY = "to_date(date) = date'{{ ds }}'"
CHAMPION = "models:/" + var("model") + "@champion"

with DAG(
    dag_id="kiln_daily",
    description="Kiln: ingest, contract, features, drift vs the champion (retrain on drift), score",
    schedule="@daily",
    start_date=datetime(2001, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2)},
    tags=["kiln"],
    doc_md=__doc__,
):
    ingest = KilnJob(
        task_id="ingest",
        kiln_args=[
            "ingest",
            "--source",
            var("landing") + "/{{ ds }}",
            "--format",
            "csv",
            "--schema",
            job_file("schema.yaml"),
            "--output",
            lake("flights"),
        ],
    )
    contract_check = KilnJob(
        task_id="contract_check",
        kiln_args=[
            "contracts",
            "check",
            "--contract",
            job_file("contract.yaml"),
            "--input",
            lake("flights") + "@{{ ti.xcom_pull(task_ids='ingest')['result']['table']['version'] }}",
        ],
    )
    features = KilnJob(task_id="features", kiln_args=["features", "--config", job_file("features.yaml")])
    drift = KilnJob(
        task_id="drift",
        check_failed="result",
        kiln_args=[
            "drift",
            "--model",
            CHAMPION,
            "--current",
            lake("features"),
            "--current-where",
            DAY,
            "--config",
            job_file("drift.yaml"),
            # the MLflow run keeps the result; the history table would get a row per re-run
            "--no-history",
        ],
    )

    @task.branch(task_id="retrain_or_score")
    def retrain_or_score(drifted: dict) -> str:
        """Exit 1 from drift (the day drifted from the champion's test split) means retrain."""
        return "train" if drifted["exit_code"] == 1 else "score"

    train = KilnJob(task_id="train", kiln_args=["train", "--config", job_file("train.yaml")])
    gate = KilnJob(
        task_id="gate",
        check_failed="result",
        kiln_args=[
            "models",
            "gate",
            "--model",
            "models:/" + var("model") + "/{{ ti.xcom_pull(task_ids='train')['result']['version'] }}",
            "--max-latency-ms",
            "{{ var.value.get('kiln_gate_max_latency_ms', '1000') }}",
            "--max-group-gap",
            "{{ var.value.get('kiln_gate_max_group_gap', '0.2') }}",
        ],
    )
    score = KilnJob(
        task_id="score",
        trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS,
        kiln_args=["score", "--model", CHAMPION, "--input", lake("features"), "--where", DAY, "--output", lake("predictions")],
    )

    branch = retrain_or_score(drift.output)
    ingest >> contract_check >> features >> drift >> branch
    branch >> [train, score]
    train >> gate >> score
