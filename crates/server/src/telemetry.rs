//! Prometheus metrics at `GET /metrics` (text exposition format). Counters and the
//! fan-out histogram are this process's (sum them over replicas); the gauges are read
//! from the database at scrape time, so every replica reports the same queue.

use std::sync::atomic::{AtomicI64, Ordering};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use sqlx::Row;

use crate::error::{AppError, AppResult};
use crate::AppState;
use handoff_protocol::ErrorCode;

type Labels = Vec<(&'static str, String)>;

pub struct Telemetry {
    registry: Registry,
    /// Webhook requests from Meta by outcome: `accepted`, `bad_signature`, `malformed`,
    /// `too_large`.
    pub webhook_requests: Family<Labels, Counter>,
    /// Messages and statuses in accepted webhooks.
    pub webhook_messages: Counter,
    pub webhook_statuses: Counter,
    /// Failed Graph API sends by Meta's error code (`transport` when Meta was not
    /// reached) and whether the send will be retried.
    pub send_failures: Family<Labels, Counter>,
    pub sends: Counter,
    /// SLA warnings and breaches this process fired, by clock kind.
    pub sla_warnings: Family<Labels, Counter>,
    pub sla_breaches: Family<Labels, Counter>,
    /// Seconds from a commit's poke to its delivery on a live connection.
    pub fanout_lag: Histogram,
    /// Live connections (desktop apps and web inboxes) on this process.
    pub connected: AtomicI64,
    connected_gauge: Gauge,
    send_queue: Gauge,
    queue_length: Family<Labels, Gauge>,
    agents: Family<Labels, Gauge>,
}

impl Default for Telemetry {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("handoff");
        let t = Telemetry {
            webhook_requests: Family::default(),
            webhook_messages: Counter::default(),
            webhook_statuses: Counter::default(),
            send_failures: Family::default(),
            sends: Counter::default(),
            sla_warnings: Family::default(),
            sla_breaches: Family::default(),
            fanout_lag: Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
            connected: AtomicI64::new(0),
            connected_gauge: Gauge::default(),
            send_queue: Gauge::default(),
            queue_length: Family::default(),
            agents: Family::default(),
            registry: Registry::default(),
        };
        registry.register("webhook_requests", "WhatsApp webhook requests by outcome", t.webhook_requests.clone());
        registry.register("webhook_messages", "Messages received in WhatsApp webhooks", t.webhook_messages.clone());
        registry.register(
            "webhook_statuses",
            "Delivery statuses received in WhatsApp webhooks",
            t.webhook_statuses.clone(),
        );
        registry.register("sends", "Messages Meta accepted", t.sends.clone());
        registry.register(
            "send_failures",
            "Failed Graph API sends by Meta error code and whether they are retried",
            t.send_failures.clone(),
        );
        registry.register("send_queue_depth", "Outbound messages queued or being sent", t.send_queue.clone());
        registry.register("queue_length", "Handoffs waiting for a person, by priority", t.queue_length.clone());
        registry.register("sla_warnings", "SLA warnings fired, by clock", t.sla_warnings.clone());
        registry.register("sla_breaches", "SLA breaches fired, by clock", t.sla_breaches.clone());
        registry.register("connected_clients", "Live event connections to this process", t.connected_gauge.clone());
        registry.register("agents", "People by availability", t.agents.clone());
        registry.register(
            "event_fanout_lag_seconds",
            "From a commit's poke to its delivery on a live connection",
            t.fanout_lag.clone(),
        );
        Telemetry { registry, ..t }
    }
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Telemetry")
    }
}

impl Telemetry {
    pub fn webhook(&self, outcome: &'static str) {
        self.webhook_requests.get_or_create(&vec![("outcome", outcome.to_owned())]).inc();
    }

    pub fn send_failed(&self, code: String, retried: bool) {
        self.send_failures.get_or_create(&vec![("code", code), ("retried", retried.to_string())]).inc();
    }

    pub fn sla_fired(&self, kind: &str, breach: bool) {
        let family = if breach { &self.sla_breaches } else { &self.sla_warnings };
        family.get_or_create(&vec![("kind", kind.to_owned())]).inc();
    }
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>) -> AppResult<impl IntoResponse> {
    let t = &state.telemetry;
    let pool = &state.db.read;
    let depth: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM messages WHERE status IN ('queued', 'sending') AND direction = 'outbound'",
    )
    .fetch_one(pool)
    .await?
    .try_get("n")?;
    t.send_queue.set(depth);
    for p in handoff_protocol::Priority::ALL {
        t.queue_length.get_or_create(&vec![("priority", p.as_str().to_owned())]).set(0);
    }
    for r in sqlx::query("SELECT priority, COUNT(*) AS n FROM handoffs WHERE status = 'waiting' GROUP BY priority")
        .fetch_all(pool)
        .await?
    {
        t.queue_length.get_or_create(&vec![("priority", r.try_get("priority")?)]).set(r.try_get("n")?);
    }
    for a in handoff_protocol::Availability::ALL {
        t.agents.get_or_create(&vec![("availability", a.as_str().to_owned())]).set(0);
    }
    for r in sqlx::query("SELECT availability, COUNT(*) AS n FROM agents WHERE role <> 'viewer' GROUP BY availability")
        .fetch_all(pool)
        .await?
    {
        t.agents.get_or_create(&vec![("availability", r.try_get("availability")?)]).set(r.try_get("n")?);
    }
    t.connected_gauge.set(t.connected.load(Ordering::Relaxed));
    let mut out = String::new();
    encode(&mut out, &t.registry)
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("could not encode the metrics: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], out))
}
