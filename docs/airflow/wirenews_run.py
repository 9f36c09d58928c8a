"""Entry for Airflow's BeamRunPythonPipelineOperator: `python wirenews_run.py --config=... --runner=...`."""

import sys

from pipeline.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["run", *sys.argv[1:]]))
