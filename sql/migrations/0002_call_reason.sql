-- Migration 0002 (issue 26): why the customer called. offers_log.call_reason is the label call_reason
-- gave for the answer's message (churnguard/call_reason/labels.py), NULL when there was none: Bedrock
-- failed (the answer is then `degraded`), or the deploy has call reasons off. Rows written before this
-- migration keep NULL. The helper checks information_schema first, so running this again is safe.

CALL churnguard_migrate_add_column('offers_log', 'call_reason', 'VARCHAR(32) NULL AFTER confidence');
