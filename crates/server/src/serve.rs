//! Runs the HTTP server until SIGINT or SIGTERM, finishing requests in flight.

use crate::config::Config;
use riskdesk_service::Service;
use tokio::net::TcpListener;

/// Serves on the configured address; `ready` (if given) receives the bound address.
pub async fn serve(
    service: Service,
    cfg: &Config,
    ready: Option<tokio::sync::oneshot::Sender<std::net::SocketAddr>>,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(cfg.listen_addr()?).await?;
    let addr = listener.local_addr()?;
    let backend = service.store().backend();
    service.spawn_webhook_deliverer()?;
    service.spawn_case_watch();
    service.spawn_dispute_watch();
    service.spawn_kpi_refresher();
    service.spawn_kpi_watch();
    service.spawn_privacy_worker();
    service.spawn_reseal_if_needed();
    crate::encryption::spawn_reload(cfg, service.clone());
    if let Some((name, password)) = service.ensure_first_admin().await? {
        eprintln!(
            "first run: created the administrator {name} with password {password} (shown once; change it by adding users)"
        );
    }
    let app = crate::http::router(service, cfg);
    tracing::info!(%addr, backend, "riskdesk listening");
    eprintln!("riskdesk listening on http://{addr} ({backend})");
    if let Some(tx) = ready {
        let _ = tx.send(addr);
    }
    // Connection info gives sign-in throttling the client's address.
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
