-- The model registry: every model this database has had installed, and which one is live (the one
-- will_churn computes or calls). Rows are written by the install (churnguard.lifecycle.registry:
-- `churnguard local up` and the deploy bootstrap), never by hand; `churnguard models list` reads them.
-- `id` is the model's content hash (metadata.json model_id); `live` is 1 for exactly one row once a
-- model is installed. `first_installed_at` never changes; `installed_at` is when the model last
-- became live (a rollback to an earlier model moves it). Runs unchanged on Aurora MySQL 3 (MySQL 8.0)
-- and MariaDB 10.11; safe to apply again.

CREATE TABLE IF NOT EXISTS models (
    id CHAR(16) NOT NULL,
    trained_at DATETIME NULL,
    data_fingerprint VARCHAR(80) NULL,
    features TEXT NOT NULL,
    cutoff DOUBLE NOT NULL,
    test_metrics TEXT NOT NULL,
    cv_metrics TEXT NOT NULL,
    first_installed_at DATETIME(6) NOT NULL,
    installed_at DATETIME(6) NOT NULL,
    live TINYINT(1) NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    KEY models_live (live)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Drift snapshots: bin counts of the customers (and of customer_scores) taken by the procedure
-- churnguard_drift_snapshot(), which the install renders from the live model's reference bins
-- (docs/lifecycle.md). A DBA can schedule it (CREATE EVENT ... DO CALL churnguard_drift_snapshot())
-- and read the result later with `churnguard drift --snapshot`. Only counts are stored.
CREATE TABLE IF NOT EXISTS drift_snapshots (
    taken_at DATETIME(6) NOT NULL,
    model_id CHAR(16) NOT NULL,
    feature VARCHAR(64) NOT NULL,
    bucket INT NOT NULL,
    customers BIGINT NOT NULL,
    PRIMARY KEY (model_id, taken_at, feature, bucket)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
