"""The chaos suite (issue 11, point 7): random edits on both sides, faults on both emulators, task
processes killed mid-batch in a live Airflow, then an oracle reading both systems through their REST APIs.

`scenario.run_seed` is the whole thing for one seed; tests/e2e/test_chaos.py runs a small version and
bench/chaos.py the large one with a table of figures.
"""
