"""A wirenews batch pass every ten minutes, through the Apache Beam provider.

Install on the Airflow workers: apache-airflow-providers-apache-beam, and wirenews itself
(pip install /opt/wirenews, or let the operator build a venv with py_requirements).
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.apache.beam.operators.beam import BeamRunPythonPipelineOperator

with DAG(
    dag_id="wirenews_batch",
    start_date=datetime(2026, 1, 1),
    schedule=timedelta(minutes=10),
    catchup=False,
    max_active_runs=1,  # passes never overlap
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2)},
) as dag:
    BeamRunPythonPipelineOperator(
        task_id="wirenews_run",
        py_file="/opt/wirenews/docs/airflow/wirenews_run.py",
        py_interpreter="/opt/wirenews/.venv/bin/python",
        runner="DirectRunner",
        pipeline_options={
            "config": "/etc/wirenews/wirenews.yaml",
            "direct_num_workers": 2,
            "direct_running_mode": "multi_processing",
            "log-format": "json",
        },
    )
