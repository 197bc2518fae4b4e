//! The server's integration tests, one binary: each area's tests are a module here. They run the
//! real router over real stores (SQLite always, PostgreSQL when `RISKDESK_TEST_POSTGRES_URL` is
//! set), the real binary (`e2e`) and the web UI in a real headless Chromium (`browser`).

#[macro_use]
mod common;

mod backtest_index;
mod browser;
mod browser_cases;
mod browser_disputes;
mod browser_kpis;
mod browser_privacy;
mod browser_qa;
mod case_flow;
mod cases;
mod desk;
mod disputes;
mod e2e;
mod encryption;
mod intake;
mod knowledge;
mod kpis;
mod kpis_areas;
mod privacy;
mod privacy_kill;
mod privacy_logs;
mod privacy_public;
mod privacy_sweep;
mod qa;
mod return_rules;
mod screening;
mod tokens;
mod webhooks;
