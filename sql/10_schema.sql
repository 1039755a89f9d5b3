-- churnguard schema: customers, their messages, and the materialised churn scores.
-- Runs unchanged on Aurora MySQL 3 (MySQL 8.0) and MariaDB 10.11; safe to apply again.
-- Column names and order follow churnguard.customer_schema.CUSTOMER_COLUMNS.

CREATE TABLE IF NOT EXISTS customers (
  state              CHAR(2)       NOT NULL,
  acc_length         INT           NOT NULL,
  area_code          INT           NOT NULL,
  phone              CHAR(8)       NOT NULL,
  int_plan           VARCHAR(3)    NOT NULL,
  vmail_plan         VARCHAR(3)    NOT NULL,
  vmail_msg          INT           NOT NULL,
  day_mins           DECIMAL(8,2)  NOT NULL,
  day_calls          INT           NOT NULL,
  day_charge         DECIMAL(8,2)  NOT NULL,
  eve_mins           DECIMAL(8,2)  NOT NULL,
  eve_calls          INT           NOT NULL,
  eve_charge         DECIMAL(8,2)  NOT NULL,
  night_mins         DECIMAL(8,2)  NOT NULL,
  night_calls        INT           NOT NULL,
  night_charge       DECIMAL(8,2)  NOT NULL,
  intl_mins          DECIMAL(8,2)  NOT NULL,
  intl_calls         INT           NOT NULL,
  intl_charge        DECIMAL(8,2)  NOT NULL,
  cust_service_calls INT           NOT NULL,
  churn              TINYINT(1)    NULL,
  PRIMARY KEY (area_code, phone),
  CONSTRAINT customers_int_plan_yes_no CHECK (int_plan IN ('yes', 'no')),
  CONSTRAINT customers_vmail_plan_yes_no CHECK (vmail_plan IN ('yes', 'no')),
  CONSTRAINT customers_phone_format CHECK (phone REGEXP '^[0-9]{3}-[0-9]{4}$')
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS customer_messages (
  id          BIGINT        NOT NULL AUTO_INCREMENT,
  area_code   INT           NOT NULL,
  phone       CHAR(8)       NOT NULL,
  message     TEXT          CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  received_at DATETIME      NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  KEY customer_messages_latest (area_code, phone, received_at),
  CONSTRAINT customer_messages_customer FOREIGN KEY (area_code, phone)
    REFERENCES customers (area_code, phone) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- Written set-based by the in-database model (see docs/sql.md, "Bulk scoring"): one row per customer.
CREATE TABLE IF NOT EXISTS customer_scores (
  area_code         INT        NOT NULL,
  phone             CHAR(8)    NOT NULL,
  churn_probability DOUBLE     NOT NULL,
  scored_at         DATETIME   NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (area_code, phone),
  CONSTRAINT customer_scores_customer FOREIGN KEY (area_code, phone)
    REFERENCES customers (area_code, phone) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
