"""Identity integrity: which Jira keys and Salesforce ids taken from data the sync may write by.

`keys`: the shapes (a Jira key, a Salesforce id) and URL path segments built from data.
`rules`: pure rules over the extract frames and the links -> refused claims with code, message, fix.
`lookup.judge`: the rules plus the few API look-ups they need (none when no claim is in doubt).
"""
