"""The webhook receiver: Jira webhooks and Salesforce outbound messages turned into Airflow asset events.

    POST /sfjira/webhooks/jira/<mapping>                      X-Hub-Signature: sha256=<HMAC of the body>
    POST /sfjira/webhooks/salesforce/<mapping>?token=<secret>  SOAP notifications with OrganizationId

These are the only routes of the plugin without the Airflow login (the senders have none), so each request
proves its sender itself, with secrets kept in Airflow connections (`verify`). An accepted delivery is
recorded once (its ids in the state store, `sfjira.state.deliveries`) as an event on the mapping's
`sfjira://<mapping>/events` asset (`app`). The receiver only signals: nothing is lost while it is down,
because the scheduled sync reads everything since its cursor anyway.
"""

from __future__ import annotations
