"""What to do once a secret leaked: the filter-repo plan for a history, and revocation at the vendor."""
