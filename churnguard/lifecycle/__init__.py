"""Model lifecycle: which model made each decision, which models a database has seen, and when the
customers in the database have drifted away from the ones the model was trained on.

- identity: a model's id (content hash of model.json) and reading a model folder's identity, checked.
- registry: the `models` table (sql/15_models.sql): recording an installed model, listing, the live one.
- psi / drift: reference quantile bins from metadata.json against live bins from SQL aggregates.
Standard library only (it ships in the Lambda bundle with the rest of churnguard/).
"""
