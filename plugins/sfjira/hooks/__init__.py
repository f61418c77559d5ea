"""Airflow hooks for the sync: `SalesforceSyncHook` and `JiraSyncHook` (import from their modules)."""
