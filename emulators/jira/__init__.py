"""Jira Cloud / Data Center REST API emulator (see README.md in this directory)."""
