"""Thin Airflow operators over sfjira.sync."""
