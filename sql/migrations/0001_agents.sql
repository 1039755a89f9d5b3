-- Migration 0001, the first schema change after release 0.1.0 (issue 25): who acted on every write.
-- offers_log.agent: the agent who asked for the answer (a Cognito user's `sub`, an IAM principal ARN
-- or a local agent name; docs/console.md). offer_outcomes.agent: who recorded the outcome counted now.
-- Rows written before this migration keep NULL in both ("before agents were recorded").
-- offer_outcome_changes: every outcome written from now on, with what it replaced, so a correction
-- never erases what was there. Each statement checks information_schema first (the helpers of
-- churnguard.bootstrap.migrations), so running this file again after a partial failure is safe.
-- An ARN of an IAM user with the longest path is about 620 characters: agent names take up to 640.

CALL churnguard_migrate_add_column('offers_log', 'agent', 'VARCHAR(640) NULL AFTER created_at');

-- The engine's look-ups by agent (a repeated recommend, the per-minute cap) read this range only.
CALL churnguard_migrate_add_index('offers_log', 'offers_log_agent', '(agent, created_at)');

CALL churnguard_migrate_add_column('offer_outcomes', 'agent', 'VARCHAR(640) NULL');

CREATE TABLE IF NOT EXISTS offer_outcome_changes (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    offer_id BIGINT UNSIGNED NOT NULL,
    changed_at DATETIME(6) NOT NULL,
    agent VARCHAR(640) NOT NULL,
    supervisor TINYINT(1) NOT NULL DEFAULT 0,
    from_outcome VARCHAR(16) NULL,
    from_retained TINYINT(1) NULL,
    from_agent VARCHAR(640) NULL,
    to_outcome VARCHAR(16) NULL,
    to_retained TINYINT(1) NOT NULL,
    PRIMARY KEY (id),
    KEY offer_outcome_changes_offer (offer_id, id),
    CONSTRAINT offer_outcome_changes_offer FOREIGN KEY (offer_id) REFERENCES offers_log (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
