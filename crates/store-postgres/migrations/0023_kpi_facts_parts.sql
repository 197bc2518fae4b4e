-- The orders behind a number: each numerator a KPI links to is rare (1-2 % of orders), so a
-- partial index per counter finds them without walking a year of facts of a segment that has few.
CREATE INDEX kpi_facts_fraud_orders ON kpi_facts (day, placed_at) WHERE fraud_orders <> 0;
CREATE INDEX kpi_facts_declined ON kpi_facts (day, placed_at) WHERE declined <> 0;
CREATE INDEX kpi_facts_reviewed ON kpi_facts (day, placed_at) WHERE reviewed <> 0;
CREATE INDEX kpi_facts_held ON kpi_facts (day, placed_at) WHERE held <> 0;
CREATE INDEX kpi_facts_released ON kpi_facts (day, placed_at) WHERE released <> 0;
CREATE INDEX kpi_facts_decided ON kpi_facts (day, placed_at) WHERE decided <> 0;
CREATE INDEX kpi_facts_sla_met ON kpi_facts (day, placed_at) WHERE sla_met <> 0;
CREATE INDEX kpi_facts_fraud_chargebacks ON kpi_facts (day, placed_at) WHERE fraud_chargebacks <> 0;
