-- Linked accounts: each account belongs to one cluster of accounts joined by shared devices,
-- cards, IBANs, phones, wallets, addresses or IPs. Merged on ingest (union by size: the smaller
-- cluster's accounts move), rebuilt in one pass after bulk loads. An account's flags say whether
-- it has confirmed fraud or a chargeback, so each is counted once per cluster.
CREATE TABLE account_links (
    customer_id TEXT PRIMARY KEY,
    cluster_id  TEXT NOT NULL,
    fraud       INTEGER NOT NULL,
    chargeback  INTEGER NOT NULL
);
CREATE INDEX account_links_cluster ON account_links (cluster_id);

CREATE TABLE clusters (
    cluster_id          TEXT PRIMARY KEY,
    size                INTEGER NOT NULL,
    fraud_accounts      INTEGER NOT NULL,
    chargeback_accounts INTEGER NOT NULL
);
