//! What every handler shares: the service and the few HTTP settings handlers read.

use riskdesk_service::Service;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub body_limit: usize,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// `workspace.secure_cookies`: "auto", "always" or "never".
    pub secure_cookies: String,
}

/// The state as handlers extract it.
pub type St = axum::extract::State<Arc<AppState>>;
