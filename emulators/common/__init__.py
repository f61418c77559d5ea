"""Parts shared by the Salesforce and Jira emulators: TLS, process model, admin surface, faults."""
