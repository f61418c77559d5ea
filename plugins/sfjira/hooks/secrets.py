"""Register runtime secrets (tokens we obtain) with Airflow's log masker.

Connection passwords and sensitive extras are masked by Airflow already; an access token or a
rotated refresh token we get at run time is not, until we say so. Our own code never logs them;
this is the second line of defence for anything a library might print.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def mask(*secrets: str | None) -> None:
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - Airflow < 3
        return
    for secret in secrets:
        if secret:
            mask_secret(secret)
