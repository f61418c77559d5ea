"""sfjira's dashboard inside the Airflow UI: per-mapping figures (runs, failures and retries, API calls,
latency, drift, rejects, conflicts, audit), a JSON API with the same figures, and guarded actions that
trigger sfjira's DAGs. SfJiraPlugin mounts it under `/sfjira` of the api-server (see README, "The
dashboard", and docs/dashboard-api.md).

    data          figures from the state store (JSON-ready)
    airflow_meta  figures from Airflow's metadata DB, and triggering DAG runs through Airflow
    charts, page  inline-SVG charts and the HTML
    api           the FastAPI app: routes, Airflow's auth dependencies
    mount         the lazily built app the plugin hands to Airflow
"""
