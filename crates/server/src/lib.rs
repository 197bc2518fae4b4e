//! The riskdesk server: HTTP API, CLI commands, import, demo data. The binary is `main.rs`.

pub mod api;
pub mod app;
pub mod config;
pub mod demo;
pub mod eval;
pub mod import;
pub mod logging;
pub mod rules_cli;
pub mod serve;
pub mod web;
