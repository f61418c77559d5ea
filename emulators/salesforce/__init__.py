"""A Salesforce REST API emulator (TLS, OAuth 2.0, SOQL, collections, change feeds), persistent in SQLite.

Start it with `python -m emulators.salesforce --port 0 --data-dir DIR`; see README.md in this folder.
"""
