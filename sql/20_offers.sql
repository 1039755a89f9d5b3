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

-- Upgrade of an offers log created before degraded answers existed (its three scores NOT NULL, no
-- `degraded` column). CREATE TABLE IF NOT EXISTS leaves such a table as it is, MySQL 8.0 has no
-- ADD COLUMN IF NOT EXISTS, and the bootstrap refuses anything that drops data; so a procedure
-- checks information_schema and, only when `degraded` is missing, relaxes the three columns to
-- NULL and adds `degraded` (0 for every existing row: they were all complete answers). No row or
-- value is lost; applying this file again finds the column and changes nothing. The ALTER rebuilds
-- the table in place while it stays readable and writable (InnoDB online DDL).
DROP PROCEDURE IF EXISTS churnguard_upgrade_offers_log;

CREATE PROCEDURE churnguard_upgrade_offers_log()
    MODIFIES SQL DATA
    COMMENT 'churnguard: add offers_log.degraded to a log created before it existed'
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'offers_log' AND COLUMN_NAME = 'degraded'
    ) THEN
        ALTER TABLE offers_log
            MODIFY COLUMN sentiment VARCHAR(16) NULL,
            MODIFY COLUMN confidence DOUBLE NULL,
            MODIFY COLUMN churn_probability DOUBLE NULL,
            ADD COLUMN degraded TINYINT(1) NOT NULL DEFAULT 0 AFTER churn_probability;
    END IF;
END;

CALL churnguard_upgrade_offers_log();

DROP PROCEDURE IF EXISTS churnguard_upgrade_offers_log;

-- Upgrade of an offers log created before model ids existed (no `model_id` column): the same kind
-- of information_schema check adds `model_id` and `model_cutoff` (NULL for the rows written before:
-- which model scored them was never recorded, and is not guessed) and their index. Nothing is
-- dropped or rewritten; applying the file again changes nothing.
DROP PROCEDURE IF EXISTS churnguard_upgrade_offers_log_models;

CREATE PROCEDURE churnguard_upgrade_offers_log_models()
    MODIFIES SQL DATA
    COMMENT 'churnguard: add offers_log.model_id and model_cutoff to a log created before them'
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'offers_log' AND COLUMN_NAME = 'model_id'
    ) THEN
        ALTER TABLE offers_log
            ADD COLUMN model_id CHAR(16) NULL,
            ADD COLUMN model_cutoff DOUBLE NULL,
            ADD KEY offers_log_model (model_id);
    END IF;
END;

CALL churnguard_upgrade_offers_log_models();

DROP PROCEDURE IF EXISTS churnguard_upgrade_offers_log_models;

-- One outcome per offer. `outcome` is what the agent recorded at the end of the call: 'accepted',
-- 'declined' or 'call_ended' (the customer hung up or the call ended before an answer); NULL when
-- only retention was recorded (`offers record-outcome --retained yes|no`, and every row written
-- before outcome kinds existed). `retained` is whether the customer stayed, for every row: an
-- accepted offer counts as retained, a declined one or an ended call as not, until
-- `offers record-outcome --retained` corrects it (a customer who declined may stay after all).
CREATE TABLE IF NOT EXISTS offer_outcomes (
    offer_id BIGINT UNSIGNED NOT NULL,
    retained TINYINT(1) NOT NULL,
    outcome VARCHAR(16) NULL,
    recorded_at DATETIME(6) NOT NULL,
    PRIMARY KEY (offer_id),
    CONSTRAINT offer_outcomes_offer FOREIGN KEY (offer_id) REFERENCES offers_log (id),
    CONSTRAINT offer_outcomes_kind CHECK (outcome IN ('accepted', 'declined', 'call_ended'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Upgrade of an outcomes table created before outcome kinds (no `outcome` column): the same kind of
-- information_schema check adds the column and its CHECK. Existing rows keep `retained` and get
-- NULL: the old table could not tell a declined offer from an ended call, and a retained row may
-- have come from `offers record-outcome` rather than an agent's click, so no kind is guessed.
-- Nothing is dropped or rewritten; applying the file again changes nothing.
DROP PROCEDURE IF EXISTS churnguard_upgrade_offer_outcomes_kind;

CREATE PROCEDURE churnguard_upgrade_offer_outcomes_kind()
    MODIFIES SQL DATA
    COMMENT 'churnguard: add offer_outcomes.outcome to an outcomes table created before it'
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'offer_outcomes' AND COLUMN_NAME = 'outcome'
    ) THEN
        ALTER TABLE offer_outcomes
            ADD COLUMN outcome VARCHAR(16) NULL AFTER retained,
            ADD CONSTRAINT offer_outcomes_kind CHECK (outcome IN ('accepted', 'declined', 'call_ended'));
    END IF;
END;

CALL churnguard_upgrade_offer_outcomes_kind();

DROP PROCEDURE IF EXISTS churnguard_upgrade_offer_outcomes_kind;
