//! The riskdesk server: HTTP API, CLI commands, import, demo data. The binary is `main.rs`.

pub mod app;
pub mod cases_cli;
pub mod config;
pub mod demo;
pub mod disputes_cli;
pub mod encryption;
pub mod encryption_cli;
pub mod eval;
pub mod http;
pub mod import;
pub mod kpis_cli;
pub mod logging;
pub mod privacy_cli;
pub mod qa_cli;
pub mod rules_cli;
pub mod serve;
