-- Linked accounts: each account belongs to one cluster of accounts joined by shared devices,
-- cards, IBANs, phones, wallets, addresses or IPs. Merged on ingest (union by size: the smaller
-- cluster's accounts move), rebuilt in one pass after bulk loads. An account's flags say whether
-- it has confirmed fraud or a chargeback, so each is counted once per cluster.
CREATE TABLE account_links (
    customer_id TEXT PRIMARY KEY,
    cluster_id  TEXT NOT NULL,
    fraud       BIGINT NOT NULL,
    chargeback  BIGINT NOT NULL
);
CREATE INDEX account_links_cluster ON account_links (cluster_id);

CREATE TABLE clusters (
    cluster_id          TEXT PRIMARY KEY,
    size                BIGINT NOT NULL,
    fraud_accounts      BIGINT NOT NULL,
    chargeback_accounts BIGINT NOT NULL
);
