"""kiln_cost: the day's cost report and the budget check, each budget tier an outcome.

cost_report -> budget_check -> budget_tier -> within_budget | budget_info | budget_warning | budget_exceeded

- cost_report: ``kiln cost report --since {{ ds }} --group-by team,job`` (its --json record is the XCom).
- budget_check: ``kiln cost check --budgets budgets.yaml``; exit 1 (a budget exceeded) is a result here,
  so that the tier decides the outcome below; exit 2 (a bad budgets file) fails without retry.
- budget_tier: branches on the highest tier Kiln reported: ``within_budget`` (OK), ``budget_info``
  (50% of a limit), ``budget_warning`` (80%) succeed; ``budget_exceeded`` (critical) fails.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task
from airflow.sdk.exceptions import AirflowFailException
from kiln_tasks import KilnJob, job_file

TIERS = ["OK", "INFO", "WARNING", "CRITICAL"]
TASKS = {"OK": "within_budget", "INFO": "budget_info", "WARNING": "budget_warning", "CRITICAL": "budget_exceeded"}

with DAG(
    dag_id="kiln_cost",
    description="Kiln: cost report and budget check, budget tiers as task outcomes",
    schedule="@daily",
    start_date=datetime(2001, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["kiln", "cost"],
    doc_md=__doc__,
):
    report = KilnJob(
        task_id="cost_report",
        kiln_args=["cost", "report", "--since", "{{ ds }}", "--group-by", "team,job"],
    )
    check = KilnJob(
        task_id="budget_check",
        check_failed="result",
        kiln_args=["cost", "check", "--budgets", job_file("budgets.yaml")],
    )

    @task.branch(task_id="budget_tier")
    def budget_tier(checked: dict) -> str:
        statuses = checked["result"] or []
        worst = max((TIERS.index(s["tier"]) for s in statuses), default=0)
        if checked["exit_code"] == 1:
            worst = TIERS.index("CRITICAL")
        return TASKS[TIERS[worst]]

    @task(task_id="within_budget")
    def within_budget() -> str:
        return "every budget under 50% of its limit"

    @task(task_id="budget_info")
    def budget_info(checked: dict) -> list:
        return [s for s in checked["result"] if s["tier"] == "INFO"]

    @task(task_id="budget_warning")
    def budget_warning(checked: dict) -> list:
        return [s for s in checked["result"] if s["tier"] == "WARNING"]

    @task(task_id="budget_exceeded")
    def budget_exceeded(checked: dict) -> None:
        exceeded = [s for s in checked["result"] or [] if s["tier"] == "CRITICAL"]
        raise AirflowFailException(f"{len(exceeded)} budget(s) exceeded: {exceeded}")

    tier = budget_tier(check.output)
    report >> check >> tier
    tier >> [within_budget(), budget_info(check.output), budget_warning(check.output), budget_exceeded(check.output)]
