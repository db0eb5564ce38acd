//! Request and response types of the HTTP API. The OpenAPI document (`/openapi.json`) is generated from
//! these with utoipa. Responses carry the analysis of the contract (DESIGN.md), built by
//! [`crate::analysis::Analyzer`]; [`AnalysisSchema`] describes it for the document.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One turn of a conversation.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct TurnInput {
    /// `customer` or `agent`.
    #[schema(example = "customer")]
    pub speaker: String,
    #[schema(example = "我要转人工")]
    pub text: String,
}

/// `POST /v1/analyze`: one text, or a conversation (`turns`). Unknown fields are ignored.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct AnalyzeRequest {
    #[serde(default)]
    #[schema(example = "等了一个星期都没人处理，客服态度还特别差")]
    pub text: Option<String>,
    /// Each turn is an object (`speaker`, `text`).
    #[serde(default, deserialize_with = "crate::json_object::option_vec")]
    pub turns: Option<Vec<TurnInput>>,
    /// Customer id (1 to 128 bytes): the contact is stored in the customer history and the analysis
    /// gains `customer` (`id`, `contacts`, `consecutive_negative`, `high_risk`, `risk_score`).
    #[serde(default)]
    #[schema(example = "c-10086")]
    pub customer_id: Option<String>,
}

impl From<AnalyzeRequest> for crate::analysis::Request {
    fn from(r: AnalyzeRequest) -> Self {
        crate::analysis::Request {
            text: r.text,
            turns: r.turns.map(|ts| {
                ts.into_iter()
                    .map(|t| crate::analysis::Turn {
                        speaker: t.speaker,
                        text: t.text,
                    })
                    .collect()
            }),
            customer_id: r.customer_id,
        }
    }
}

/// `POST /v1/analyze/batch`: up to `--max-batch-items` requests, each like the body of `/v1/analyze`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BatchRequest {
    /// Each item is checked on its own: a bad item gets an error in its slot.
    #[schema(value_type = Vec<AnalyzeRequest>)]
    pub items: Vec<serde_json::Value>,
}

/// One slot of a batch response: an analysis, or `{"error", "kind"}`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum BatchItem {
    Analysis(Box<crate::analysis::Analysis>),
    Error(crate::server::error::ErrorBody),
}

/// Schema of [`BatchItem`] (documentation only).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BatchItemSchema {
    Analysis(Box<AnalysisSchema>),
    Error(crate::server::error::ErrorBody),
}

/// Results in the order of `items`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResponse {
    #[schema(value_type = Vec<BatchItemSchema>)]
    pub results: Vec<BatchItem>,
}

/// `POST /v1/conversations/{id}/turns`: the next turn of a chatbot conversation.
pub type ConversationTurnRequest = TurnInput;

/// The running analysis of a conversation after a new turn.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConversationResponse {
    pub conversation_id: String,
    /// Index of the turn just added (0-based).
    pub turn_index: usize,
    /// Turns in the conversation so far.
    pub turn_count: usize,
    /// The customer's current mood: sentiment of the customer's side so far.
    #[schema(value_type = Option<SentimentSchema>)]
    pub mood: Option<crate::analysis::Sentiment>,
    /// Customer sentiment (positive − negative) per customer turn.
    pub trajectory: Vec<f64>,
    /// First customer turn at which a bot should hand off to a human, or null.
    pub handoff_turn: Option<usize>,
    /// True once a handoff is due (`handoff_turn` is set).
    pub handoff: bool,
    /// Risk of the conversation so far.
    #[schema(value_type = RiskSchema)]
    pub risk: crate::risk::Risk,
    /// Analysis of the turn just added.
    #[schema(value_type = AnalysisSchema)]
    pub turn: crate::analysis::Analysis,
}

/// `GET /health` and `GET /ready`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusResponse {
    /// `ok`, `ready` or `not_ready`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

// ---- Schemas of the contract's analysis (documentation only; the values come from `analysis`) ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LabelScoreSchema {
    pub label: String,
    pub score: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SentimentSchema {
    /// `negative`, `neutral` or `positive`.
    pub label: String,
    pub score: f64,
    /// Probability per label.
    pub scores: std::collections::BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvidenceSchema {
    /// A reason code, or evidence without one: `large_loss`, `escalation_model` (the learned escalation
    /// model escalated; `phrase` = the n-grams that weighed most, `score` = its probability) or
    /// `complaint_model` (the learned complaint model made it a complaint, priority B).
    pub reason: String,
    pub phrase: Option<String>,
    pub score: Option<f64>,
    /// Where a non-phrase evidence comes from: `emotion.anger`, `customer_history: …`, `turn 3`,
    /// `risk_model.json`, `complaint_model.json`.
    pub source: Option<String>,
}

/// A customer's history (`customer` of an analysis with `customer_id`, and `GET /v1/customers/{id}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerSchema {
    pub id: String,
    /// Contacts stored so far.
    pub contacts: u64,
    /// Negative contacts in a row, up to the latest.
    pub consecutive_negative: u32,
    /// At least `history.high_risk_after` (policy; 3 by default) negative contacts in a row.
    pub high_risk: bool,
    /// Exponentially weighted mean of the contacts' risk scores.
    pub risk_score: f64,
    /// Unix milliseconds of the latest contact.
    pub last_contact_ms: i64,
}

/// `GET /v1/customers`: customers by id, at most `limit` of them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerListSchema {
    pub customers: Vec<CustomerSchema>,
    /// More customers matched than `limit`.
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RiskSchema {
    pub escalate: bool,
    /// `A`, `B` or `C`.
    pub priority: String,
    pub score: f64,
    /// e.g. `regulator_threat`, `strong_anger`, `repeat_contact`.
    pub reasons: Vec<String>,
    pub respond_within_minutes: u32,
    /// `complaints`, `customer_service` or `inquiry`.
    pub route: String,
    pub evidence: Vec<EvidenceSchema>,
}

/// One analysis (DESIGN.md contract). Conversation fields only for conversations; `labels` only for a
/// plain Hugging Face classifier.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnalysisSchema {
    pub sentiment: Option<SentimentSchema>,
    pub emotion: Option<LabelScoreSchema>,
    /// Categories at or above their threshold, highest first.
    pub categories: Vec<LabelScoreSchema>,
    /// All five category scores.
    pub category_scores: std::collections::BTreeMap<String, f64>,
    pub risk: RiskSchema,
    pub keywords: Vec<String>,
    pub masked_text: String,
    pub labels: Option<Vec<LabelScoreSchema>>,
    pub speaker: Option<String>,
    #[schema(no_recursion)]
    pub turns: Option<Vec<AnalysisSchema>>,
    pub trajectory: Option<Vec<f64>>,
    pub handoff_turn: Option<usize>,
    /// Only with `customer_id`.
    pub customer: Option<CustomerSchema>,
}
