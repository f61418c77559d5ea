"""SfJiraPlugin: what Airflow loads from the `airflow.plugins` entry point of the installed package.

It is the home of what sfjira adds to Airflow itself: the dashboard (a FastAPI app mounted under `/sfjira`
of the api-server, an "sfjira" entry in the UI's navigation, and per-DAG and per-run views) and the
webhook receiver (`/sfjira/webhooks/...`, sfjira.webhooks).
It is registered through the entry point, not as a file of the plugins folder: that folder's
`.airflowignore` keeps Airflow from importing every module of the package as a plugin file.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from sfjira.dashboard.mount import URL_PREFIX, WEBHOOKS_PREFIX, LazyDashboard, LazyWebhooks


class SfJiraPlugin(AirflowPlugin):
    name = "sfjira"
    # The webhook receiver (sfjira.webhooks) is the one app without the Airflow login: senders prove
    # themselves with a signature or shared secret instead. Airflow mounts the apps in this order and
    # Starlette takes the first mount whose prefix matches, so it must come before `/sfjira`.
    fastapi_apps = [{"app": LazyWebhooks(), "url_prefix": WEBHOOKS_PREFIX, "name": "sfjira webhooks"},
                    {"app": LazyDashboard(), "url_prefix": URL_PREFIX, "name": "sfjira dashboard"}]
    # The UI shows an external view with a url_route inside its own frame; for `dag` and `dag_run` views
    # it fills in {DAG_ID} and {RUN_ID} (airflow/ui: the plugin link replaces them before opening).
    external_views = [
        {"name": "sfjira", "href": f"{URL_PREFIX}/", "url_route": "sfjira", "destination": "nav",
         "category": None},
        {"name": "sfjira mapping", "href": f"{URL_PREFIX}/dags/{{DAG_ID}}", "url_route": "sfjira-dag",
         "destination": "dag"},
        {"name": "sfjira run", "href": f"{URL_PREFIX}/dags/{{DAG_ID}}/runs/{{RUN_ID}}", "url_route": "sfjira-run",
         "destination": "dag_run"},
    ]
