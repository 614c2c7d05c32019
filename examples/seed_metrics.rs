//! The business metrics of the service teams obs replaces, each declared
//! once as a struct: names, label sets and buckets are checked at compile
//! time, and every series of a fixed label set exists at zero from the first
//! scrape.
//!
//! Three systems from the teams' documents:
//! - BRAiN, an agent platform: LLM requests by provider and model, token
//!   usage, the database pool, the Redis cache, the mission queue by
//!   priority, application errors by type (`brain_*`);
//! - Bali Blissed, a travel API: cache hits and misses, AI request latency
//!   on the `ai` buckets, tokens, the AI circuit breaker (`baliblissed_*`);
//! - EUCORA, a deployment control plane: deployments by ring, ring
//!   promotions, risk scores, connector health and circuit breakers;
//! - and Brand.Me's business counters: scans, policy decisions,
//!   escalations, errors by type.
//!
//! Run with `cargo run --example seed_metrics`; the output is the Prometheus
//! text exposition a scrape of `/metrics` would return.

use std::time::Duration;

use obs_runtime::metrics::{Counter, Gauge, Histogram};
use obs_runtime::{LabelSet, LabelValue, MetricSet};

// ---------------------------------------------------------------------------
// BRAiN: an agent platform calling LLMs.

#[derive(LabelValue, Clone, Copy)]
enum Provider {
    Ollama,
    #[label(rename = "openai")]
    OpenAi,
    Anthropic,
}

/// Models are an enum too: a model name from a request body would be an
/// unbounded label. Every provider × model pair exists at zero, which costs
/// a few idle series and buys absence alerts from the first scrape.
#[derive(LabelValue, Clone, Copy)]
enum Model {
    #[label(rename = "llama3.2")]
    Llama32,
    #[label(rename = "gpt-4o")]
    Gpt4o,
    #[label(rename = "claude-3-5-sonnet")]
    Claude35Sonnet,
}

#[derive(LabelSet, Clone, Copy)]
struct LlmLabels {
    provider: Provider,
    model: Model,
}

/// OpenTelemetry's `gen_ai.token.type`: prompt tokens and generated ones
/// are priced differently, so they are counted apart.
#[derive(LabelValue, Clone, Copy)]
enum TokenType {
    Input,
    Output,
}

#[derive(LabelSet, Clone, Copy)]
struct TokenLabels {
    provider: Provider,
    model: Model,
    token_type: TokenType,
}

#[derive(MetricSet)]
#[metrics(prefix = "brain_llm")]
struct LlmMetrics {
    /// LLM requests, by provider and model.
    requests_total: Counter<LlmLabels>,
    /// Time from sending an LLM request to its last token.
    #[metric(buckets = "ai")]
    request_duration_seconds: Histogram<LlmLabels>,
    /// Tokens used, by provider, model and direction.
    tokens_used_total: Counter<TokenLabels>,
}

#[derive(LabelValue, Clone, Copy)]
enum DbOperation {
    Select,
    Insert,
    Update,
    Delete,
}

#[derive(LabelSet, Clone, Copy)]
struct QueryLabels {
    operation: DbOperation,
    success: bool,
}

#[derive(LabelSet, Clone, Copy)]
struct OperationLabels {
    operation: DbOperation,
}

#[derive(MetricSet)]
#[metrics(prefix = "brain_db")]
struct DbPoolMetrics {
    /// Connections checked out of the pool.
    connections_active: Gauge,
    /// Connections open and waiting in the pool.
    connections_idle: Gauge,
    /// Connections the pool keeps open.
    pool_size: Gauge,
    /// Connections opened beyond the pool size.
    pool_overflow: Gauge,
    /// Queries, by operation and outcome.
    queries_total: Counter<QueryLabels>,
    /// Query latency, by operation.
    #[metric(buckets = "db")]
    query_duration_seconds: Histogram<OperationLabels>,
}

#[derive(MetricSet)]
#[metrics(prefix = "brain_redis")]
struct RedisMetrics {
    /// Lookups answered from the Redis cache.
    cache_hits_total: Counter,
    /// Lookups the Redis cache could not answer.
    cache_misses_total: Counter,
    /// 1 while the Redis connection is up, 0 otherwise.
    connected: Gauge,
}

#[derive(LabelValue, Clone, Copy)]
enum Priority {
    Low,
    Normal,
    High,
    Critical,
}

#[derive(LabelSet, Clone, Copy)]
struct PriorityLabels {
    priority: Priority,
}

#[derive(LabelValue, Clone, Copy)]
enum MissionStatus {
    Completed,
    Failed,
    Cancelled,
}

#[derive(LabelSet, Clone, Copy)]
struct MissionLabels {
    status: MissionStatus,
}

#[derive(LabelValue, Clone, Copy)]
enum ErrorType {
    Validation,
    Database,
    Upstream,
    Timeout,
    Internal,
}

#[derive(LabelSet, Clone, Copy)]
struct ErrorLabels {
    error_type: ErrorType,
}

#[derive(MetricSet)]
#[metrics(prefix = "brain")]
struct MissionMetrics {
    /// Missions waiting to run, by priority.
    missions_queue_size: Gauge<PriorityLabels>,
    /// Missions finished, by status.
    missions_total: Counter<MissionLabels>,
    /// Time from a mission's start to its end; missions take minutes.
    #[metric(buckets = [1, 5, 15, 30, 60, 120, 300, 600, 1800])]
    missions_duration_seconds: Histogram,
    /// Missions run again after a failure.
    missions_retries_total: Counter,
    /// Application errors, by type.
    app_errors_total: Counter<ErrorLabels>,
}

// ---------------------------------------------------------------------------
// Bali Blissed: a travel API with an AI assistant behind a circuit breaker.

#[derive(LabelValue, Clone, Copy, PartialEq, Eq)]
enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    const ALL: [Self; 3] = [Self::Closed, Self::Open, Self::HalfOpen];
}

#[derive(LabelValue, Clone, Copy)]
enum Breaker {
    AiCircuitBreaker,
}

#[derive(LabelSet, Clone, Copy)]
struct BreakerLabels {
    breaker: Breaker,
    state: BreakerState,
}

#[derive(MetricSet)]
#[metrics(prefix = "baliblissed")]
struct BaliMetrics {
    /// Lookups answered from the cache.
    cache_hits_total: Counter,
    /// Lookups that went to the backing store.
    cache_misses_total: Counter,
    /// Time to answer one AI request (the team's `AI_LATENCY_BUCKETS`).
    #[metric(buckets = "ai")]
    ai_request_duration_seconds: Histogram,
    /// Tokens used by AI requests.
    ai_tokens_used_total: Counter,
    /// Circuit breaker state: 1 for the breaker's current state, 0 for the
    /// others.
    circuit_breaker_state: Gauge<BreakerLabels>,
}

// ---------------------------------------------------------------------------
// EUCORA: a deployment control plane rolling apps out ring by ring. The
// team's names are kept, except where a rule changed them (noted).

#[derive(LabelValue, Clone, Copy)]
enum Ring {
    Lab,
    Canary,
    Pilot,
    Department,
    Global,
}

#[derive(LabelValue, Clone, Copy)]
enum DeploymentStatus {
    Success,
    Failed,
    RolledBack,
}

/// `app` is known only at run time (from the deployment intent) but is a
/// `&'static str` from the app catalog: a bounded dynamic family.
#[derive(LabelSet, Clone, Copy)]
struct DeploymentLabels {
    status: DeploymentStatus,
    ring: Ring,
    app: &'static str,
}

#[derive(LabelSet, Clone, Copy)]
struct RingLabels {
    ring: Ring,
}

/// The team labels promotions by `from_ring` and `to_ring`, but rings are
/// promoted in order, so the target names the source: labelled by both,
/// every pair would exist at zero, 20 of the 25 impossible.
#[derive(LabelSet, Clone, Copy)]
struct PromotionLabels {
    to_ring: Ring,
    status: DeploymentStatus,
}

#[derive(LabelSet, Clone, Copy)]
struct RiskLabels {
    requires_cab: bool,
}

#[derive(LabelValue, Clone, Copy)]
enum Connector {
    Intune,
    Jamf,
    Sccm,
    Landscape,
    Ansible,
}

#[derive(LabelSet, Clone, Copy)]
struct ConnectorLabels {
    connector: Connector,
}

#[derive(LabelSet, Clone, Copy)]
struct ConnectorStateLabels {
    connector: Connector,
    state: BreakerState,
}

#[derive(LabelValue, Clone, Copy)]
enum ConnectorError {
    Timeout,
    Auth,
    RateLimited,
    ServerError,
}

#[derive(LabelSet, Clone, Copy)]
struct ConnectorFailureLabels {
    connector: Connector,
    error_type: ConnectorError,
}

#[derive(MetricSet)]
struct EucoraMetrics {
    /// Deployments, by status, ring and app.
    #[metric(max_series = 2000)]
    deployment_total: Counter<DeploymentLabels>,
    /// Deployment execution time, by ring (alert: p95 over 10 minutes).
    #[metric(buckets = [30, 60, 120, 300, 600, 900, 1800, 3600])]
    deployment_duration_seconds: Histogram<RingLabels>,
    /// Time from a deployment intent to compliance of the last device.
    deployment_time_to_compliance_seconds: Gauge,
    /// Deployment risk scores, 0 to 100 (alert: p75 over 75). The team's
    /// `risk_score_distribution` does not say its unit; here it does.
    #[metric(name = "risk_score", unit = "score", buckets = [10, 25, 50, 75, 90, 100])]
    risk_score: Histogram<RiskLabels>,
    /// Ring promotions, by target ring and status (the source is the ring
    /// before the target).
    ring_promotion_total: Counter<PromotionLabels>,
    /// Share of promotion gates passed, by ring (alert: below 0.95).
    promotion_gate_success_rate: Gauge<RingLabels>,
    /// Circuit breaker state: 1 for the connector's current state, 0 for
    /// the others (the team's single 0/1/2 gauge, as one series per state).
    circuit_breaker_state: Gauge<ConnectorStateLabels>,
    /// Failures behind the circuit breakers, by connector and error type
    /// (the team's `circuit_breaker_failures`: a counter ends in `_total`).
    circuit_breaker_failures_total: Counter<ConnectorFailureLabels>,
    /// 1 while a connector is healthy, 0 otherwise.
    connector_health: Gauge<ConnectorLabels>,
    /// Connections the database pool keeps open.
    db_connection_pool_size: Gauge,
}

// ---------------------------------------------------------------------------
// Brand.Me: business events of a garment-provenance platform.

#[derive(LabelValue, Clone, Copy)]
enum Decision {
    Allow,
    Deny,
    Escalate,
}

#[derive(LabelSet, Clone, Copy)]
struct DecisionLabels {
    decision: Decision,
}

#[derive(MetricSet)]
struct BrandMeMetrics {
    /// Garment scan events.
    scans_total: Counter,
    /// Policy decisions, by decision.
    policy_decisions_total: Counter<DecisionLabels>,
    /// Escalations to a human reviewer.
    escalations_total: Counter,
    /// Error occurrences, by type.
    errors_total: Counter<ErrorLabels>,
}

// ---------------------------------------------------------------------------

/// Moves a state-set gauge: 1 on `now`, 0 on every other state.
fn set_state(now: BreakerState, mut series: impl FnMut(BreakerState, f64)) {
    for state in BreakerState::ALL {
        series(state, if state == now { 1.0 } else { 0.0 });
    }
}

fn brain() {
    let llm = LlmMetrics::global();
    // The team's example: `track_llm_request("ollama", "llama3.2", duration=2.5)`.
    let calls = [
        (Provider::Ollama, Model::Llama32, 2.5, 412, 96),
        (Provider::OpenAi, Model::Gpt4o, 1.2, 1_850, 240),
        (Provider::Anthropic, Model::Claude35Sonnet, 7.8, 3_200, 910),
    ];
    for (provider, model, seconds, input, output) in calls {
        let labels = LlmLabels { provider, model };
        llm.requests_total.with(labels).inc();
        llm.request_duration_seconds.with(labels).observe(seconds);
        let tokens = |token_type| TokenLabels {
            provider,
            model,
            token_type,
        };
        llm.tokens_used_total
            .with(tokens(TokenType::Input))
            .inc_by(input);
        llm.tokens_used_total
            .with(tokens(TokenType::Output))
            .inc_by(output);
    }

    let db = DbPoolMetrics::global();
    db.pool_size.set(20.0);
    db.connections_active.set(7.0);
    db.connections_idle.set(13.0);
    db.pool_overflow.set(0.0);
    // The team's example: `track_db_query("select", duration=0.05, success=True)`.
    for (operation, millis, success) in [
        (DbOperation::Select, 50, true),
        (DbOperation::Select, 3, true),
        (DbOperation::Insert, 12, true),
        (DbOperation::Update, 1_400, false),
        (DbOperation::Delete, 4, true),
    ] {
        db.queries_total
            .with(QueryLabels { operation, success })
            .inc();
        db.query_duration_seconds
            .with(OperationLabels { operation })
            .observe_duration(Duration::from_millis(millis));
    }

    let redis = RedisMetrics::global();
    redis.connected.set(1.0);
    redis.cache_hits_total.inc_by(42);
    redis.cache_misses_total.inc_by(8);

    let missions = MissionMetrics::global();
    for (priority, waiting) in [
        (Priority::Low, 12.0),
        (Priority::Normal, 5.0),
        (Priority::High, 2.0),
        (Priority::Critical, 0.0),
    ] {
        missions
            .missions_queue_size
            .with(PriorityLabels { priority })
            .set(waiting);
    }
    // The team's example: `track_mission(status="completed", duration=45.2)`.
    for (status, seconds) in [
        (MissionStatus::Completed, 45.2),
        (MissionStatus::Completed, 310.0),
        (MissionStatus::Failed, 12.5),
        (MissionStatus::Cancelled, 2.0),
    ] {
        let finished = MissionLabels { status };
        missions.missions_total.with(finished).inc();
        missions.missions_duration_seconds.observe(seconds);
    }
    missions.missions_retries_total.inc();
    for error_type in [ErrorType::Upstream, ErrorType::Timeout, ErrorType::Upstream] {
        missions
            .app_errors_total
            .with(ErrorLabels { error_type })
            .inc();
    }
}

fn bali_blissed() {
    let m = BaliMetrics::global();
    m.cache_hits_total.inc_by(87);
    m.cache_misses_total.inc_by(13);
    for seconds in [0.8, 3.4, 12.0] {
        m.ai_request_duration_seconds.observe(seconds);
    }
    m.ai_tokens_used_total.inc_by(5_120);
    // Three timeouts in a row opened the breaker.
    set_state(BreakerState::Open, |state, v| {
        m.circuit_breaker_state
            .with(BreakerLabels {
                breaker: Breaker::AiCircuitBreaker,
                state,
            })
            .set(v);
    });
}

fn eucora() {
    let m = EucoraMetrics::global();
    m.db_connection_pool_size.set(10.0);

    // One app rolled out ring by ring; Department failed and rolled back,
    // so it never reached Global.
    let rollout = [
        (Ring::Lab, Ring::Canary, DeploymentStatus::Success, 95.0),
        (Ring::Canary, Ring::Pilot, DeploymentStatus::Success, 240.0),
        (
            Ring::Pilot,
            Ring::Department,
            DeploymentStatus::Success,
            720.0,
        ),
        (
            Ring::Department,
            Ring::Global,
            DeploymentStatus::Failed,
            1_900.0,
        ),
    ];
    for (ring, next, status, seconds) in rollout {
        m.deployment_total
            .with(DeploymentLabels {
                status,
                ring,
                app: "7-zip",
            })
            .inc();
        m.deployment_duration_seconds
            .with(RingLabels { ring })
            .observe(seconds);
        m.ring_promotion_total
            .with(PromotionLabels {
                to_ring: next,
                status,
            })
            .inc();
    }
    m.deployment_total
        .with(DeploymentLabels {
            status: DeploymentStatus::RolledBack,
            ring: Ring::Department,
            app: "7-zip",
        })
        .inc();
    m.deployment_time_to_compliance_seconds.set(5_400.0);
    for (ring, rate) in [
        (Ring::Canary, 0.98),
        (Ring::Pilot, 0.96),
        (Ring::Department, 0.91),
    ] {
        m.promotion_gate_success_rate
            .with(RingLabels { ring })
            .set(rate);
    }
    // `record_risk_score(score, requires_cab)`.
    for (score, requires_cab) in [(82.0, true), (23.0, false), (47.0, false)] {
        m.risk_score
            .with(RiskLabels { requires_cab })
            .observe(score);
    }

    for connector in [
        Connector::Intune,
        Connector::Jamf,
        Connector::Sccm,
        Connector::Landscape,
        Connector::Ansible,
    ] {
        let healthy = !matches!(connector, Connector::Jamf);
        m.connector_health
            .with(ConnectorLabels { connector })
            .set(if healthy { 1.0 } else { 0.0 });
        let now = if healthy {
            BreakerState::Closed
        } else {
            BreakerState::HalfOpen
        };
        set_state(now, |state, v| {
            m.circuit_breaker_state
                .with(ConnectorStateLabels { connector, state })
                .set(v);
        });
    }
    for (connector, error_type) in [
        (Connector::Jamf, ConnectorError::Timeout),
        (Connector::Jamf, ConnectorError::Timeout),
        (Connector::Jamf, ConnectorError::ServerError),
        (Connector::Intune, ConnectorError::RateLimited),
        (Connector::Sccm, ConnectorError::Auth),
    ] {
        m.circuit_breaker_failures_total
            .with(ConnectorFailureLabels {
                connector,
                error_type,
            })
            .inc();
    }
}

fn brand_me() {
    let m = BrandMeMetrics::global();
    m.scans_total.inc_by(4);
    for decision in [
        Decision::Allow,
        Decision::Allow,
        Decision::Deny,
        Decision::Escalate,
    ] {
        m.policy_decisions_total
            .with(DecisionLabels { decision })
            .inc();
        if matches!(decision, Decision::Escalate) {
            m.escalations_total.inc();
        }
    }
    for error_type in [
        ErrorType::Validation,
        ErrorType::Database,
        ErrorType::Internal,
    ] {
        m.errors_total.with(ErrorLabels { error_type }).inc();
    }
}

fn main() {
    brain();
    bali_blissed();
    eucora();
    brand_me();
    print!("{}", obs_runtime::encode_text());
}
