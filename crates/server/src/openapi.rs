//! Every route of the API, declared once: the router is built from this table, and
//! so is the OpenAPI 3.1 document served at `/openapi.json` (paths, who may call
//! each operation, and JSON Schemas derived from the Rust types). Nothing in the
//! document is written by hand, so it cannot drift from the code.

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::{Json, Router};
use handoff_protocol::*;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Value};

use crate::*;

/// Who may call an operation. Handlers enforce it (some more narrowly: the
/// conversation's assignee, the team's managers); the authorization matrix test
/// checks every route against this table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token (login, Meta's webhooks, health, this document).
    Public,
    /// Any signed-in person, viewers included.
    Person,
    /// People who work conversations: agents, managers, admins.
    Worker,
    /// Managers and admins.
    Manager,
    /// Admins.
    Admin,
    /// Any person, or an API token with the scope.
    Read(&'static str),
    /// Agents, managers and admins, or an API token with the scope.
    Write(&'static str),
    /// Managers and admins, or an API token with the scope.
    Configure(&'static str),
    /// API tokens with the scope only (bots and workflows).
    Bot(&'static str),
}

impl Access {
    /// The roles that may call.
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Access::Public | Access::Bot(_) => &[],
            Access::Person | Access::Read(_) => &[Admin, Manager, Agent, Viewer],
            Access::Worker | Access::Write(_) => &[Admin, Manager, Agent],
            Access::Manager | Access::Configure(_) => &[Admin, Manager],
            Access::Admin => &[Admin],
        }
    }

    /// The API-token scope that may call, if API tokens may.
    pub fn scope(self) -> Option<&'static str> {
        match self {
            Access::Read(s) | Access::Write(s) | Access::Configure(s) | Access::Bot(s) => Some(s),
            _ => None,
        }
    }
}

/// One operation of the API.
pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub access: Access,
    /// The query string's parameters (the properties of this type).
    pub query: Option<fn(&mut SchemaGenerator) -> Schema>,
    pub request: Option<fn(&mut SchemaGenerator) -> Schema>,
    pub response: Option<fn(&mut SchemaGenerator) -> Schema>,
    /// Honours an `Idempotency-Key` header: applied once, retries get the same answer.
    pub idempotent: bool,
}

fn schema_of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

macro_rules! api_routes {
    ($( $method:ident $path:literal => $handler:expr, $access:expr, $summary:literal $(, query: $query:ty)? $(, req: $req:ty)? $(, res: $res:ty)? $(, layer: $layer:expr)? $(, idempotent: $idem:literal)? ; )*) => {
        /// The operations, in the order they are declared.
        pub fn routes() -> Vec<RouteDoc> {
            vec![$(RouteDoc {
                method: stringify!($method),
                path: $path,
                summary: $summary,
                access: $access,
                query: api_routes!(@schema $($query)?),
                request: api_routes!(@schema $($req)?),
                response: api_routes!(@schema $($res)?),
                idempotent: false $(|| $idem)?,
            }),*]
        }

        /// The router with every operation, each behind the guard of its access.
        pub fn add_routes(mut router: Router<AppState>, state: &AppState) -> Router<AppState> {
            $(
                let method_router: MethodRouter<AppState> = $method($handler);
                $( let method_router = method_router.layer($layer); )?
                $( let method_router = if $idem {
                    method_router.layer(axum::middleware::from_fn_with_state(state.clone(), crate::mutations::idempotent))
                } else {
                    method_router
                }; )?
                let method_router = match $access {
                    Access::Public => method_router,
                    access => method_router.route_layer(axum::middleware::from_fn_with_state((state.clone(), access), guard)),
                };
                router = router.route($path, method_router);
            )*
            router
        }
    };
    (@schema) => { None };
    (@schema $t:ty) => { Some(schema_of::<$t> as fn(&mut SchemaGenerator) -> Schema) };
}

use Access::*;

const READ: &str = "conversations:read";
const WRITE: &str = "conversations:write";
const SETTINGS: &str = "settings:manage";
const HOOKS: &str = "webhooks:manage";
const METRICS: &str = "metrics:read";

type Map = serde_json::Map<String, Value>;

api_routes! {
    get "/healthz" => || async { "ok" }, Public, "Liveness check";
    get "/openapi.json" => document_handler, Public, "This OpenAPI 3.1 document", res: Value;
    get "/webhooks/whatsapp" => webhook::verify, Public, "Meta's webhook verification handshake";
    post "/webhooks/whatsapp" => webhook::receive, Public, "WhatsApp Cloud API webhooks (signed with X-Hub-Signature-256)",
        layer: DefaultBodyLimit::max(MAX_WEBHOOK_BYTES);

    post "/v1/auth/login" => api::login, Public, "Sign in: access and refresh tokens", req: LoginRequest, res: LoginResponse;
    post "/v1/auth/refresh" => auth_api::refresh, Public, "New tokens for a refresh token (each works once)",
        req: RefreshRequest, res: RefreshResponse;
    post "/v1/auth/logout" => api::logout, Person, "Sign this device out";
    get "/v1/auth/sessions" => auth_api::sessions, Person, "The caller's signed-in devices", res: Vec<SessionInfo>;
    delete "/v1/auth/sessions/{id}" => auth_api::revoke_session, Person, "Sign a device out (admins: anyone's)";
    post "/v1/me/password" => auth_api::change_password, Person, "Change one's password", req: PasswordRequest;
    post "/v1/agents/{id}/password" => auth_api::reset_password, Admin, "Reset someone's password (signs them out)",
        req: PasswordRequest;
    get "/v1/api-tokens" => auth_api::list_api_tokens, Admin, "API tokens (without secrets)", res: Vec<ApiTokenInfo>;
    post "/v1/api-tokens" => auth_api::create_api_token, Admin, "Create a scoped API token", req: ApiTokenRequest,
        res: ApiTokenInfo;
    delete "/v1/api-tokens/{id}" => auth_api::revoke_api_token, Admin, "Revoke an API token";

    get "/v1/me" => api::me, Person, "The caller", res: Agent;
    put "/v1/me/availability" => api::set_availability, Person, "Set online, away or offline",
        req: AvailabilityRequest, res: Agent;
    post "/v1/me/heartbeat" => presence::heartbeat, Person, "The app is there (active: so is the person)",
        req: presence::HeartbeatRequest;
    get "/v1/me/mentions" => collab::my_mentions, Person, "Notes that mention the caller", res: Vec<Mention>;
    post "/v1/me/mentions/{id}/read" => collab::read_mention, Person, "Mark a mention read";
    get "/v1/sync" => api::sync, Person, "Changes after a cursor that the caller may see", res: SyncResponse;
    get "/v1/events" => events::events, Person, "Live events (WebSocket): pokes, presence, mentions";

    get "/v1/conversations" => api::list_conversations, Read(READ), "Conversations the caller may see",
        res: Vec<Conversation>;
    get "/v1/conversations/{id}" => api::get_conversation, Read(READ), "A conversation with messages and handoffs",
        res: ConversationDetail;
    post "/v1/conversations/{id}/messages" => api::send_message, Worker, "Send a reply (the assignee)",
        req: SendMessageRequest, res: Message;
    post "/v1/conversations/{id}/attachments" => outbound::upload, Worker, "Upload a file to send (raw body)",
        res: Attachment, layer: DefaultBodyLimit::max(outbound::MAX_UPLOAD_BYTES);
    post "/v1/conversations/{id}/template" => templates::send, Worker, "Send an approved template",
        req: SendTemplateRequest, res: Message;
    post "/v1/conversations/{id}/handoff" => api::handoff, Write(WRITE), "Hand a conversation to people",
        req: HandoffRequest, res: Handoff;
    post "/v1/conversations/{id}/resolve" => api::resolve, Worker, "Resolve: back to automation (assignee or manager)",
        req: ResolveRequest, idempotent: true;
    post "/v1/conversations/{id}/assign" => api::assign, Manager, "Assign or override (the team's managers)",
        req: api::AssignRequest, res: Conversation, idempotent: true;
    post "/v1/conversations/{id}/claim" => routing_api::claim, Worker, "Take a queued conversation", res: Conversation,
        idempotent: true;
    post "/v1/conversations/{id}/unassign" => routing_api::unassign, Worker, "Back to the queue (owner or manager)",
        res: Conversation, idempotent: true;
    post "/v1/conversations/{id}/transfer" => routing_api::transfer, Worker, "Transfer with a note (owner or manager)",
        req: TransferRequest, res: Conversation, idempotent: true;
    post "/v1/conversations/{id}/notes" => collab::add_note, Worker, "An internal note, with @mentions",
        req: NoteRequest, res: Message;
    put "/v1/conversations/{id}/labels" => collab::put_labels, Worker, "Set the labels", req: Vec<String>,
        res: Conversation;
    get "/v1/conversations/{id}/presence" => presence::get, Person, "Who is viewing, typing or drafting",
        res: Vec<PresenceEntry>;
    put "/v1/conversations/{id}/presence" => presence::put, Person, "Announce viewing, typing or a draft",
        req: presence::PresenceRequest;
    post "/v1/conversations/{id}/read" => api::mark_read, Worker, "Blue ticks for the customer (the assignee)";
    post "/v1/conversations/{id}/typing" => api::typing, Worker, "Typing indicator for the customer (the assignee)";
    post "/v1/conversations/{id}/bot-messages" => automation::bot_reply, Bot(WRITE), "Answer as the bot",
        req: automation::BotReply, res: automation::BotReplyResult;
    put "/v1/contacts/{id}/attributes" => api::put_contact_attributes, Configure(WRITE), "Set contact attributes",
        req: Map, res: Contact;
    get "/v1/media/{message_id}" => media::serve, Read(READ), "A message's media file";

    get "/v1/queue" => routing_api::queue, Person, "Waiting conversations in queue order", res: Vec<QueueEntry>;
    get "/v1/teams" => routing_api::list_teams, Read(READ), "Teams", res: Vec<Team>;
    post "/v1/teams" => routing_api::create_team, Admin, "Create a team", req: TeamRequest, res: Team;
    patch "/v1/teams/{id}" => routing_api::update_team, Manager, "Change a team (admins, its managers)",
        req: TeamRequest, res: Team;
    get "/v1/agents" => routing_api::list_agents, Read(READ), "People, with availability and load",
        res: Vec<AgentProfile>;
    patch "/v1/agents/{id}" => routing_api::update_agent, Manager, "Capacity, skills (managers); role (admins)",
        req: AgentUpdate, res: AgentProfile;
    get "/v1/routing-rules" => routing_api::list_rules, Read(READ), "Routing rules in order", res: Vec<RoutingRule>;
    post "/v1/routing-rules" => routing_api::create_rule, Manager, "Add a routing rule", req: RoutingRuleRequest,
        res: RoutingRule;
    patch "/v1/routing-rules/{id}" => routing_api::update_rule, Manager, "Change a routing rule",
        req: RoutingRuleRequest, res: RoutingRule;
    delete "/v1/routing-rules/{id}" => routing_api::delete_rule, Manager, "Delete a routing rule";
    get "/v1/settings/sla" => routing_api::get_sla, Read(READ), "The SLA policy", res: SlaPolicy;
    put "/v1/settings/sla" => routing_api::put_sla, Admin, "Change the SLA policy", req: SlaPolicy, res: SlaPolicy;
    get "/metrics" => telemetry::scrape, Configure(METRICS), "Prometheus metrics (text exposition format)";
    get "/v1/board" => console::board, Manager, "The live board: open handoffs by SLA risk, agents' load, teams' queues",
        res: Board;
    put "/v1/conversations/{id}/priority" => console::set_priority, Manager, "Change a handoff's priority (the team's managers)",
        req: PriorityRequest, res: Conversation;
    get "/v1/handoffs/{id}/timeline" => console::timeline, Configure(METRICS), "What happened to a handoff, oldest first",
        res: Vec<TimelineEvent>;
    get "/v1/metrics" => console::metrics, Configure(METRICS),
        "Escalation rate, response and resolution times, triggers, returns, workflows over a period",
        query: MetricsQuery, res: MetricsReport;
    get "/v1/metrics/breaches" => console::breaches, Configure(METRICS), "SLA breaches and near misses over a period",
        query: MetricsQuery, res: BreachReport;
    get "/v1/audit" => audit::list, Manager, "The audit log, newest first", res: Vec<audit::AuditEntry>;

    get "/v1/canned-responses" => collab::list_canned, Person, "Canned responses the caller may use",
        res: Vec<CannedResponse>;
    post "/v1/canned-responses" => collab::create_canned, Manager, "Add one (admins: workspace; managers: their teams)",
        req: CannedResponseRequest, res: CannedResponse;
    patch "/v1/canned-responses/{id}" => collab::update_canned, Manager, "Change one", req: CannedResponseRequest,
        res: CannedResponse;
    delete "/v1/canned-responses/{id}" => collab::delete_canned, Manager, "Delete one";
    post "/v1/canned-responses/{id}/render" => collab::render_canned, Person, "Fill in its variables for a conversation",
        req: collab::RenderRequest, res: RenderedResponse;

    get "/v1/settings/triggers" => api::get_triggers, Read(READ), "Handoff triggers", res: triggers::TriggerConfig;
    put "/v1/settings/triggers" => api::put_triggers, Configure(SETTINGS), "Change handoff triggers",
        req: triggers::TriggerConfig, res: triggers::TriggerConfig;
    get "/v1/settings/handoff" => api::get_handoff_settings, Read(READ), "Handoff messages and queue timeout",
        res: handoff_settings::HandoffSettings;
    put "/v1/settings/handoff" => api::put_handoff_settings, Configure(SETTINGS), "Change handoff settings",
        req: handoff_settings::HandoffSettings, res: handoff_settings::HandoffSettings;
    get "/v1/automations" => automation::list, Configure(SETTINGS), "External automations", res: Vec<automation::Automation>;
    post "/v1/automations" => automation::create, Configure(SETTINGS), "Connect an external automation",
        req: automation::CreateAutomation, res: automation::AutomationCreated;
    delete "/v1/automations/{id}" => automation::delete, Configure(SETTINGS), "Disconnect an automation";
    put "/v1/workflows/executions/{execution_id}/status" => automation::set_execution_status, Bot(WRITE),
        "Report a workflow execution's status", req: automation::ExecutionStatus, res: Value;
    get "/v1/workflows/status" => automation::workflow_status, Read(READ), "Workflow executions by status", res: Value;
    post "/v1/leads/handoff" => leads::handoff, Write("leads:write"), "Hand off a lead from a form or an ad",
        req: leads::LeadHandoff, res: leads::LeadHandoffResult;
    get "/v1/numbers" => numbers::list, Read(READ), "The workspace's WhatsApp numbers", res: Vec<BusinessNumberInfo>;
    post "/v1/numbers" => numbers::register, Admin, "Register a WhatsApp number", req: RegisterNumberRequest,
        res: BusinessNumberInfo;
    get "/v1/templates" => templates::list, Read(READ), "Message templates", res: Vec<Template>;
    post "/v1/templates/sync" => templates::sync_now, Configure(SETTINGS), "Fetch templates from Meta now", res: Value;
    get "/v1/webhooks" => hooks_api::list, Configure(HOOKS), "Project webhook subscriptions",
        res: Vec<hooks_api::Subscription>;
    post "/v1/webhooks" => hooks_api::create, Configure(HOOKS), "Subscribe a URL to events",
        req: hooks_api::CreateSubscription, res: hooks_api::Subscription;
    patch "/v1/webhooks/{id}" => hooks_api::update, Configure(HOOKS), "Change a subscription",
        req: hooks_api::UpdateSubscription, res: hooks_api::Subscription;
    delete "/v1/webhooks/{id}" => hooks_api::delete, Configure(HOOKS), "Delete a subscription";
    get "/v1/webhooks/{id}/deliveries" => hooks_api::deliveries, Configure(HOOKS), "A subscription's delivery log",
        res: Vec<hooks_api::Delivery>;
    post "/v1/webhooks/deliveries/{id}/replay" => hooks_api::replay, Configure(HOOKS), "Deliver an event again";
}

/// Authenticates the request and checks the route's [`Access`] before anything
/// else (before the body is read), so a refusal is always 401 or 403 and changes
/// nothing. Handlers then apply narrower rules (the assignee, the team's managers).
async fn guard(
    axum::extract::State((state, access)): axum::extract::State<(AppState, Access)>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<axum::response::Response, AppError> {
    let (mut parts, body) = req.into_parts();
    let caller = auth::authenticate(&state, auth::bearer(&parts)).await?;
    let allowed = match &caller {
        auth::Caller::Agent { agent, .. } => access.roles().contains(&agent.role),
        auth::Caller::Api { .. } => match access.scope() {
            Some(scope) => {
                caller.require_scope(scope)?;
                true
            }
            None => false,
        },
    };
    if !allowed {
        let message = match (&caller, access) {
            (auth::Caller::Api { .. }, _) => "API tokens cannot use this endpoint; it is for people".to_owned(),
            (_, Access::Bot(_)) => "this endpoint is for bots and workflows (API tokens)".to_owned(),
            (auth::Caller::Agent { agent, .. }, _) => format!(
                "{}s may not do this; it takes: {}",
                agent.role,
                access.roles().iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
            ),
        };
        return Err(AppError::new(ErrorCode::Forbidden, message));
    }
    parts.extensions.insert(caller);
    Ok(next.run(axum::extract::Request::from_parts(parts, body)).await)
}

/// Query parameters from a query type's schema: one per property, required as the type
/// says.
fn query_parameters(schema: &Schema, gen: &SchemaGenerator) -> Vec<Value> {
    let name = schema.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()).unwrap_or_default();
    let Some(def) = gen.definitions().get(name) else { return Vec::new() };
    let required: Vec<&str> =
        def["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    def["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .map(|(name, schema)| {
                    let mut p = json!({ "name": name, "in": "query", "required": required.contains(&name.as_str()),
                        "schema": schema });
                    if let Some(d) = schema.get("description") {
                        p["description"] = d.clone();
                    }
                    p
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn document_handler() -> Json<Value> {
    Json(document())
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut gen = settings.into_generator();
    let error = gen.subschema_for::<ApiError>();
    let mut paths = serde_json::Map::new();
    for r in routes() {
        let tag = r.path.trim_start_matches("/v1/").split('/').next().unwrap_or("").to_owned();
        let slug: String = r.path.trim_start_matches('/').replace(['/', '-', '.'], "_").replace(['{', '}'], "");
        let mut op = json!({
            "operationId": format!("{}_{slug}", r.method),
            "summary": r.summary,
            "tags": [tag],
            "x-handoff-access": {
                "roles": r.access.roles().iter().map(|x| x.as_str()).collect::<Vec<_>>(),
                "api_token_scope": r.access.scope(),
                "public": r.access == Access::Public,
            },
            "security": if r.access == Access::Public { json!([]) } else { json!([{ "bearer": [] }]) },
        });
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                let ty = if name.ends_with("id") && name != "execution_id" { "integer" } else { "string" };
                json!({ "name": name, "in": "path", "required": true, "schema": { "type": ty } })
            })
            .collect();
        let mut params = params;
        if let Some(query) = r.query {
            params.extend(query_parameters(&query(&mut gen), &gen));
        }
        if r.idempotent {
            params.push(json!({
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "A client mutation id: the change is applied once; a retry gets the first answer (header `idempotent-replayed: true`) or 409 `already_applied`.",
                "schema": { "type": "string", "maxLength": 128, "pattern": "^[A-Za-z0-9._:-]+$" }
            }));
        }
        if !params.is_empty() {
            op["parameters"] = json!(params);
        }
        if let Some(req) = r.request {
            op["requestBody"] =
                json!({ "required": true, "content": { "application/json": { "schema": req(&mut gen) } } });
        }
        let mut ok = json!({ "description": "Success" });
        if let Some(res) = r.response {
            ok["content"] = json!({ "application/json": { "schema": res(&mut gen) } });
        }
        op["responses"] = json!({
            "2XX": ok,
            "default": { "description": "An error with a stable code", "content": { "application/json": { "schema": error.clone() } } },
        });
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        entry[r.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Handoff API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Hand WhatsApp conversations from automation to people and back. Errors carry a stable `code` (also in the `x-handoff-error` header).",
        },
        "paths": paths,
        "components": {
            "schemas": gen.take_definitions(true),
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
        },
    })
}
