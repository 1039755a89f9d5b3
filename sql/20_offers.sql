-- The offers log: every answer the incentive engine gave, and what became of the customer afterwards.
-- One row per answer (churnguard recommend / the recommend API), written in its own transaction
-- once the answer is decided, so a failed call leaves no row. `degraded` is 1 when the database
-- could give only part of what the rules need: then `sentiment` and `confidence` (Comprehend
-- failed) or `churn_probability` (the churn model failed) are NULL. Outcomes are recorded later
-- (churnguard offers record-outcome, the agent console) and let `churnguard offers report` compare
-- retention between experiment arms and count accepted / declined / ended calls. `model_id` and
-- `model_cutoff` are the live model (sql/15_models.sql) and its cut-off when the answer was
-- written, so every answer names the model that scored it and the report can compare models.
-- Runs unchanged on Aurora MySQL 3 (MySQL 8.0) and MariaDB 10.11; safe to apply again.

CREATE TABLE IF NOT EXISTS offers_log (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    created_at DATETIME(6) NOT NULL,
    area_code INT NOT NULL,
    phone CHAR(8) NOT NULL,
    sentiment VARCHAR(16) NULL,
    confidence DOUBLE NULL,
    churn_probability DOUBLE NULL,
    degraded TINYINT(1) NOT NULL DEFAULT 0,
    drivers TEXT NOT NULL,
    rules_version VARCHAR(64) NOT NULL,
    rule_name VARCHAR(64) NOT NULL,
    reason VARCHAR(1000) NOT NULL,
    experiment VARCHAR(64) NULL,
    arm VARCHAR(64) NULL,
    offer VARCHAR(64) NOT NULL,
    offer_cost_usd DECIMAL(12, 2) NOT NULL,
    model_id CHAR(16) NULL,
    model_cutoff DOUBLE NULL,
    PRIMARY KEY (id),
    KEY offers_log_customer (area_code, phone),
    KEY offers_log_rule_arm (rule_name, arm),
    KEY offers_log_model (model_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- One outcome per offer. `outcome` is what the agent recorded at the end of the call: 'accepted',
-- 'declined' or 'call_ended' (the customer hung up or the call ended before an answer); NULL when
-- only retention was recorded (`offers record-outcome --retained yes|no`). `retained` is whether
-- the customer stayed, for every row: an accepted offer counts as retained, a declined one or an
-- ended call as not, until `offers record-outcome --retained` corrects it (a customer who declined
-- may stay after all).
CREATE TABLE IF NOT EXISTS offer_outcomes (
    offer_id BIGINT UNSIGNED NOT NULL,
    retained TINYINT(1) NOT NULL,
    outcome VARCHAR(16) NULL,
    recorded_at DATETIME(6) NOT NULL,
    PRIMARY KEY (offer_id),
    CONSTRAINT offer_outcomes_offer FOREIGN KEY (offer_id) REFERENCES offers_log (id),
    CONSTRAINT offer_outcomes_kind CHECK (outcome IN ('accepted', 'declined', 'call_ended'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
