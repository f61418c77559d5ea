"""SfJiraPlugin: what Airflow loads from the `airflow.plugins` entry point of the installed package.

It is the home of what sfjira adds to Airflow itself (the dashboard and the webhook receivers come
here). It is registered through the entry point, not as a file of the plugins folder: that folder's
`.airflowignore` keeps Airflow from importing every module of the package as a plugin file.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


class SfJiraPlugin(AirflowPlugin):
    name = "sfjira"
