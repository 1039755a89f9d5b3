-- The offers log: every answer the incentive engine gave, and what became of the customer afterwards.
-- One row per answer (churnguard recommend / the recommend API), written in the same transaction as
-- the decision, so a failed call leaves no row. Outcomes are recorded later (churnguard offers
-- record-outcome) and let `churnguard offers report` compare retention between experiment arms.
-- Runs unchanged on Aurora MySQL 3 (MySQL 8.0) and MariaDB 10.11; safe to apply again.

CREATE TABLE IF NOT EXISTS offers_log (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    created_at DATETIME(6) NOT NULL,
    area_code INT NOT NULL,
    phone CHAR(8) NOT NULL,
    sentiment VARCHAR(16) NOT NULL,
    confidence DOUBLE NOT NULL,
    churn_probability DOUBLE NOT NULL,
    drivers TEXT NOT NULL,
    rules_version VARCHAR(64) NOT NULL,
    rule_name VARCHAR(64) NOT NULL,
    reason VARCHAR(1000) NOT NULL,
    experiment VARCHAR(64) NULL,
    arm VARCHAR(64) NULL,
    offer VARCHAR(64) NOT NULL,
    offer_cost_usd DECIMAL(12, 2) NOT NULL,
    PRIMARY KEY (id),
    KEY offers_log_customer (area_code, phone),
    KEY offers_log_rule_arm (rule_name, arm)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS offer_outcomes (
    offer_id BIGINT UNSIGNED NOT NULL,
    retained TINYINT(1) NOT NULL,
    recorded_at DATETIME(6) NOT NULL,
    PRIMARY KEY (offer_id),
    CONSTRAINT offer_outcomes_offer FOREIGN KEY (offer_id) REFERENCES offers_log (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
