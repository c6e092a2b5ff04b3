//! Handoff triggers: when automation should stop and a person take over.
//!
//! Evaluated on every customer message while automation owns a conversation
//! ([`TriggerConfig::on_customer_message`]) and on every report a bot makes with its
//! reply ([`TriggerConfig::on_bot_report`]). Configured per workspace (API
//! `GET/PUT /v1/settings/triggers`, or a JSON file at start); every trigger can be
//! switched off and tested alone. The first trigger that fires is recorded on the
//! handoff, in this order: customer request, keyword/intent, contact rule, negative
//! sentiment; then low confidence and repeated failure for bot reports.

use handoff_protocol::{HandoffTrigger, Priority};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct TriggerConfig {
    pub customer_request: PhraseTrigger,
    pub keywords: KeywordTrigger,
    pub repeated_failure: RepeatedFailureTrigger,
    pub low_confidence: LowConfidenceTrigger,
    pub negative_sentiment: SentimentTrigger,
    pub contact_rules: Vec<ContactRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct PhraseTrigger {
    pub enabled: bool,
    /// Whole-word, case-insensitive phrases in any language.
    pub phrases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct KeywordTrigger {
    pub enabled: bool,
    pub intents: Vec<Intent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Intent {
    /// `refund`, `cancel`, `complaint`, `payment`, `identity`, `legal`, ...
    pub name: String,
    pub keywords: Vec<String>,
    #[serde(default = "normal")]
    pub priority: Priority,
}

fn normal() -> Priority {
    Priority::Normal
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct RepeatedFailureTrigger {
    pub enabled: bool,
    /// Hand off when the bot's consecutive fallback answers reach this many.
    pub max_consecutive_fallbacks: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct LowConfidenceTrigger {
    pub enabled: bool,
    /// Hand off when a bot reports a confidence below this (0..1).
    pub threshold: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct SentimentTrigger {
    pub enabled: bool,
    /// Hand off when [`sentiment`] of a customer message is at or below this (-1..1).
    pub threshold: f64,
}

/// A rule on a contact attribute or a conversation context field, e.g. `vip eq true`
/// or `order_value gt 500`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ContactRule {
    pub name: String,
    pub field: String,
    pub op: RuleOp,
    #[serde(default)]
    pub value: Value,
    #[serde(default = "normal")]
    pub priority: Priority,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
    Exists,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Default for PhraseTrigger {
    fn default() -> Self {
        PhraseTrigger {
            enabled: true,
            phrases: strings(&[
                // English
                "human",
                "agent",
                "person",
                "real person",
                "talk to someone",
                "speak to someone",
                "representative",
                "operator",
                "customer service",
                "live agent",
                // Spanish
                "humano",
                "persona",
                "agente",
                "hablar con alguien",
                "una persona real",
                // Portuguese
                "atendente",
                "pessoa",
                "falar com alguém",
                "falar com alguem",
                // German
                "mensch",
                "mitarbeiter",
                "berater",
                "mit jemandem sprechen",
                // French
                "humain",
                "conseiller",
                "parler à quelqu'un",
                "une vraie personne",
                // Italian
                "operatore",
                "persona reale",
                "parlare con qualcuno",
            ]),
        }
    }
}

impl Default for KeywordTrigger {
    fn default() -> Self {
        let intent = |name: &str, priority, keywords: &[&str]| Intent {
            name: name.into(),
            keywords: strings(keywords),
            priority,
        };
        KeywordTrigger {
            enabled: true,
            intents: vec![
                intent(
                    "refund",
                    Priority::Normal,
                    &["refund", "money back", "reembolso", "remboursement", "erstattung", "rimborso"],
                ),
                intent(
                    "cancel",
                    Priority::Normal,
                    &["cancel", "cancellation", "cancelar", "annuler", "kündigen", "disdire"],
                ),
                intent(
                    "complaint",
                    Priority::High,
                    &[
                        "complaint",
                        "complain",
                        "unacceptable",
                        "reclamação",
                        "queja",
                        "réclamation",
                        "beschwerde",
                        "reclamo",
                    ],
                ),
                intent(
                    "payment",
                    Priority::High,
                    &[
                        "charged twice",
                        "double charged",
                        "payment failed",
                        "card declined",
                        "chargeback",
                        "overcharged",
                    ],
                ),
                intent(
                    "identity",
                    Priority::High,
                    &["identity", "id verification", "hacked", "account locked", "stolen", "fraud", "phishing"],
                ),
                intent("legal", Priority::Urgent, &["lawyer", "legal action", "sue", "court", "attorney", "gdpr"]),
            ],
        }
    }
}

impl Default for RepeatedFailureTrigger {
    fn default() -> Self {
        RepeatedFailureTrigger { enabled: true, max_consecutive_fallbacks: 2 }
    }
}

impl Default for LowConfidenceTrigger {
    fn default() -> Self {
        LowConfidenceTrigger { enabled: true, threshold: 0.8 }
    }
}

impl Default for SentimentTrigger {
    fn default() -> Self {
        SentimentTrigger { enabled: true, threshold: -0.5 }
    }
}

impl Default for TriggerConfig {
    fn default() -> Self {
        TriggerConfig {
            customer_request: PhraseTrigger::default(),
            keywords: KeywordTrigger::default(),
            repeated_failure: RepeatedFailureTrigger::default(),
            low_confidence: LowConfidenceTrigger::default(),
            negative_sentiment: SentimentTrigger::default(),
            contact_rules: vec![ContactRule {
                name: "VIP customer".into(),
                field: "vip".into(),
                op: RuleOp::Eq,
                value: Value::Bool(true),
                priority: Priority::High,
            }],
        }
    }
}

/// A trigger that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub trigger: HandoffTrigger,
    /// Which rule: the phrase, `refund: "money back"`, the rule name, the score.
    pub detail: String,
    /// A sentence for the agent.
    pub reason: String,
    pub priority: Priority,
    pub confidence: Option<f64>,
    pub sentiment: Option<f64>,
}

impl TriggerConfig {
    pub fn load(path: &std::path::Path) -> anyhow::Result<TriggerConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read trigger config {}: {e}", path.display()))?;
        let cfg: TriggerConfig = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("trigger config {} is not valid: {e}", path.display()))?;
        cfg.validate().map_err(|e| anyhow::anyhow!("trigger config {}: {e}", path.display()))?;
        Ok(cfg)
    }

    /// Refuses settings that cannot work.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.low_confidence.threshold) {
            return Err("low_confidence.threshold must be between 0 and 1".into());
        }
        if !(-1.0..=1.0).contains(&self.negative_sentiment.threshold) {
            return Err("negative_sentiment.threshold must be between -1 and 1".into());
        }
        if self.repeated_failure.max_consecutive_fallbacks == 0 {
            return Err("repeated_failure.max_consecutive_fallbacks must be at least 1".into());
        }
        if let Some(r) = self.contact_rules.iter().find(|r| r.field.trim().is_empty()) {
            return Err(format!("contact rule \"{}\" needs a field", r.name));
        }
        Ok(())
    }

    /// Triggers on a customer's message. `fields` are the contact's attributes and the
    /// conversation's context fields.
    pub fn on_customer_message(&self, text: Option<&str>, fields: &Map<String, Value>) -> Option<Fired> {
        let words = text.map(normalise);
        let sentiment_score = text.map(sentiment);
        let fired = |trigger, detail: String, reason: String, priority| Fired {
            trigger,
            detail,
            reason,
            priority,
            confidence: None,
            sentiment: sentiment_score,
        };
        if let Some(words) = &words {
            if self.customer_request.enabled {
                if let Some(p) = self.customer_request.phrases.iter().find(|p| contains_phrase(words, p)) {
                    return Some(fired(
                        HandoffTrigger::CustomerRequest,
                        p.clone(),
                        format!("Customer asked for a person (\"{p}\")"),
                        Priority::Normal,
                    ));
                }
            }
            if self.keywords.enabled {
                for intent in &self.keywords.intents {
                    if let Some(k) = intent.keywords.iter().find(|k| contains_phrase(words, k)) {
                        return Some(fired(
                            HandoffTrigger::Keyword,
                            format!("{}: \"{k}\"", intent.name),
                            format!("Customer mentioned {} (\"{k}\")", intent.name),
                            intent.priority,
                        ));
                    }
                }
            }
        }
        for rule in &self.contact_rules {
            if rule.matches(fields) {
                return Some(fired(
                    HandoffTrigger::ContactRule,
                    rule.name.clone(),
                    format!("Contact rule: {} ({} {} {})", rule.name, rule.field, rule.op.as_str(), rule.value),
                    rule.priority,
                ));
            }
        }
        if let (true, Some(score)) = (self.negative_sentiment.enabled, sentiment_score) {
            if score <= self.negative_sentiment.threshold {
                return Some(fired(
                    HandoffTrigger::NegativeSentiment,
                    format!("{score:.2}"),
                    format!("Customer sounds upset (sentiment {score:.2})"),
                    Priority::High,
                ));
            }
        }
        None
    }

    /// Triggers on what a bot reports with its reply: its confidence, and how many
    /// fallback answers it has given in a row (this one included).
    pub fn on_bot_report(&self, confidence: Option<f64>, consecutive_fallbacks: u32) -> Option<Fired> {
        if let (true, Some(c)) = (self.low_confidence.enabled, confidence) {
            if c < self.low_confidence.threshold {
                return Some(Fired {
                    trigger: HandoffTrigger::LowConfidence,
                    detail: format!("{c:.2} < {:.2}", self.low_confidence.threshold),
                    reason: format!("The bot was not confident enough to answer ({c:.2})"),
                    priority: Priority::Normal,
                    confidence: Some(c),
                    sentiment: None,
                });
            }
        }
        let max = self.repeated_failure.max_consecutive_fallbacks;
        if self.repeated_failure.enabled && consecutive_fallbacks >= max {
            return Some(Fired {
                trigger: HandoffTrigger::RepeatedFailure,
                detail: format!("{consecutive_fallbacks} fallbacks in a row"),
                reason: format!("The bot could not help {consecutive_fallbacks} times in a row"),
                priority: Priority::Normal,
                confidence,
                sentiment: None,
            });
        }
        None
    }
}

impl RuleOp {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleOp::Eq => "eq",
            RuleOp::Ne => "ne",
            RuleOp::Gt => "gt",
            RuleOp::Gte => "gte",
            RuleOp::Lt => "lt",
            RuleOp::Lte => "lte",
            RuleOp::Contains => "contains",
            RuleOp::Exists => "exists",
        }
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn loosely_equal(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    match (a, b) {
        (Value::String(s), Value::Bool(x)) | (Value::Bool(x), Value::String(s)) => {
            s.eq_ignore_ascii_case(&x.to_string())
        }
        (Value::String(s), other) | (other, Value::String(s)) => match (s.trim().parse::<f64>().ok(), as_number(other))
        {
            (Some(x), Some(y)) => x == y,
            _ => s.eq_ignore_ascii_case(&other.to_string()),
        },
        _ => matches!((as_number(a), as_number(b)), (Some(x), Some(y)) if x == y),
    }
}

impl ContactRule {
    pub fn matches(&self, fields: &Map<String, Value>) -> bool {
        let Some(actual) = fields.get(&self.field).filter(|v| !v.is_null()) else { return false };
        let num = || as_number(actual).zip(as_number(&self.value));
        match self.op {
            RuleOp::Exists => true,
            RuleOp::Eq => loosely_equal(actual, &self.value),
            RuleOp::Ne => !loosely_equal(actual, &self.value),
            RuleOp::Gt => num().is_some_and(|(a, b)| a > b),
            RuleOp::Gte => num().is_some_and(|(a, b)| a >= b),
            RuleOp::Lt => num().is_some_and(|(a, b)| a < b),
            RuleOp::Lte => num().is_some_and(|(a, b)| a <= b),
            RuleOp::Contains => match (actual, &self.value) {
                (Value::String(a), Value::String(b)) => a.to_lowercase().contains(&b.to_lowercase()),
                (Value::Array(items), v) => items.iter().any(|i| loosely_equal(i, v)),
                _ => false,
            },
        }
    }
}

/// Lower-case words, punctuation removed, padded: `" a b c "`, so that phrases match
/// on word boundaries.
pub fn normalise(text: &str) -> String {
    let cleaned: String =
        text.to_lowercase().chars().map(|c| if c.is_alphanumeric() || c == '\'' { c } else { ' ' }).collect();
    format!(" {} ", cleaned.split_whitespace().collect::<Vec<_>>().join(" "))
}

pub fn contains_phrase(normalised_text: &str, phrase: &str) -> bool {
    let p = normalise(phrase);
    !p.trim().is_empty() && normalised_text.contains(&p)
}

/// The sentiment lexicon: word → valence from -3 (very negative) to +3 (very positive).
/// Small and deterministic on purpose; extend it in the config of a later version.
const LEXICON: &[(&str, f64)] = &[
    ("terrible", -3.0),
    ("horrible", -3.0),
    ("awful", -3.0),
    ("worst", -3.0),
    ("disgusting", -3.0),
    ("furious", -3.0),
    ("scam", -3.0),
    ("useless", -2.5),
    ("hate", -3.0),
    ("pathetic", -3.0),
    ("ridiculous", -2.5),
    ("outrageous", -3.0),
    ("angry", -2.5),
    ("annoyed", -2.0),
    ("frustrated", -2.0),
    ("frustrating", -2.0),
    ("disappointed", -2.0),
    ("disappointing", -2.0),
    ("unacceptable", -2.5),
    ("bad", -2.0),
    ("poor", -1.5),
    ("broken", -1.5),
    ("wrong", -1.5),
    ("late", -1.0),
    ("never", -1.0),
    ("waiting", -1.0),
    ("problem", -1.5),
    ("issue", -1.0),
    ("fail", -2.0),
    ("failed", -2.0),
    ("stupid", -2.5),
    ("rude", -2.5),
    ("liar", -3.0),
    ("lied", -2.5),
    ("ignored", -2.0),
    ("upset", -2.0),
    ("sad", -1.5),
    ("unhappy", -2.0),
    ("nonsense", -2.0),
    ("joke", -1.5),
    ("wtf", -3.0),
    ("damn", -2.0),
    ("crap", -2.5),
    ("sucks", -2.5),
    ("fed", -1.0),
    ("worse", -2.5),
    ("missing", -1.0),
    ("good", 2.0),
    ("great", 3.0),
    ("excellent", 3.0),
    ("amazing", 3.0),
    ("love", 3.0),
    ("thanks", 2.0),
    ("thank", 2.0),
    ("perfect", 3.0),
    ("happy", 2.5),
    ("nice", 2.0),
    ("helpful", 2.0),
    ("awesome", 3.0),
    ("fine", 1.0),
    ("ok", 0.5),
    ("okay", 0.5),
    ("glad", 2.0),
    ("wonderful", 3.0),
    ("fast", 1.0),
    ("easy", 1.5),
    // Other languages, a few strong words each.
    ("péssimo", -3.0),
    ("horrível", -3.0),
    ("terrível", -3.0),
    ("pésimo", -3.0),
    ("horrible", -3.0),
    ("schrecklich", -3.0),
    ("furchtbar", -3.0),
    ("nul", -2.5),
    ("inacceptable", -2.5),
    ("obrigado", 2.0),
    ("gracias", 2.0),
    ("danke", 2.0),
    ("merci", 2.0),
];

const NEGATORS: &[&str] = &[
    "not", "no", "never", "don't", "dont", "didn't", "didnt", "isn't", "isnt", "wasn't", "can't", "cant", "won't",
    "nothing",
];
const BOOSTERS: &[&str] = &["very", "really", "so", "extremely", "totally", "absolutely", "completely"];

/// A deterministic lexicon sentiment score in [-1, 1].
///
/// Each word's valence comes from [`LEXICON`]. A negator among the three words before
/// it flips and damps it (×-0.74); a booster right before it adds 30%; a word in
/// capitals (3+ letters) adds 50%. Exclamation marks (up to 3) add 0.3 each to the
/// magnitude of a non-zero sum. The sum s is normalised as s / √(s² + 15), as VADER
/// does, so a single strong word is about ±0.6 and a pile of them tends to ±1.
pub fn sentiment(text: &str) -> f64 {
    let tokens: Vec<(String, bool)> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|t| !t.is_empty())
        .map(|t| {
            (
                t.to_lowercase(),
                t.chars().filter(|c| c.is_alphabetic()).count() >= 3 && t.chars().all(|c| !c.is_lowercase()),
            )
        })
        .collect();
    let mut sum = 0.0;
    for (i, (word, caps)) in tokens.iter().enumerate() {
        let Some((_, mut v)) = LEXICON.iter().find(|(w, _)| w == word).copied() else { continue };
        if i > 0 && BOOSTERS.contains(&tokens[i - 1].0.as_str()) {
            v *= 1.3;
        }
        if *caps {
            v *= 1.5;
        }
        if tokens[i.saturating_sub(3)..i].iter().any(|(w, _)| NEGATORS.contains(&w.as_str())) {
            v *= -0.74;
        }
        sum += v;
    }
    let bangs = text.matches('!').count().min(3) as f64 * 0.3;
    if sum > 0.0 {
        sum += bangs;
    } else if sum < 0.0 {
        sum -= bangs;
    }
    sum / (sum * sum + 15.0).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn none() -> Map<String, Value> {
        Map::new()
    }

    fn only(trigger: &str) -> TriggerConfig {
        let mut c = TriggerConfig::default();
        c.customer_request.enabled = trigger == "customer_request";
        c.keywords.enabled = trigger == "keywords";
        c.negative_sentiment.enabled = trigger == "sentiment";
        c.low_confidence.enabled = trigger == "low_confidence";
        c.repeated_failure.enabled = trigger == "repeated_failure";
        if trigger != "contact_rules" {
            c.contact_rules.clear();
        }
        c
    }

    #[test]
    fn customer_request_in_several_languages() {
        let c = only("customer_request");
        for text in [
            "I want to talk to a HUMAN",
            "Agent!",
            "quiero hablar con alguien",
            "Quero falar com alguém",
            "Je veux parler à quelqu'un",
        ] {
            let f = c.on_customer_message(Some(text), &none()).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(f.trigger, HandoffTrigger::CustomerRequest);
        }
        assert_eq!(c.on_customer_message(Some("my personal agents"), &none()), None, "whole words only");
    }

    #[test]
    fn keywords_name_their_intent_and_priority() {
        let c = only("keywords");
        let f = c.on_customer_message(Some("I'd like my money back please"), &none()).unwrap();
        assert_eq!(
            (f.trigger, f.detail.as_str(), f.priority),
            (HandoffTrigger::Keyword, "refund: \"money back\"", Priority::Normal)
        );
        let f = c.on_customer_message(Some("I will contact my lawyer"), &none()).unwrap();
        assert_eq!((f.detail.as_str(), f.priority), ("legal: \"lawyer\"", Priority::Urgent));
        assert_eq!(c.on_customer_message(Some("what are your opening hours"), &none()), None);
    }

    #[test]
    fn low_confidence_below_threshold_only() {
        let c = only("low_confidence");
        assert_eq!(c.on_bot_report(Some(0.95), 0), None);
        assert_eq!(c.on_bot_report(Some(0.8), 0), None, "at the threshold is confident enough");
        let f = c.on_bot_report(Some(0.42), 0).unwrap();
        assert_eq!((f.trigger, f.confidence), (HandoffTrigger::LowConfidence, Some(0.42)));
        assert_eq!(c.on_bot_report(None, 9), None, "repeated failure is off here");
    }

    #[test]
    fn repeated_failure_counts_consecutive_fallbacks() {
        let c = only("repeated_failure");
        assert_eq!(c.on_bot_report(None, 1), None);
        assert_eq!(c.on_bot_report(None, 2).unwrap().trigger, HandoffTrigger::RepeatedFailure);
    }

    #[test]
    fn negative_sentiment_scores_are_deterministic_and_ordered() {
        assert_eq!(
            sentiment("This is terrible, the worst service ever!"),
            sentiment("This is terrible, the worst service ever!")
        );
        assert!(sentiment("This is terrible, the worst service ever!") < -0.7);
        assert!(sentiment("thanks, that was great") > 0.5);
        assert_eq!(sentiment("what are your opening hours"), 0.0);
        assert!(sentiment("not bad") > 0.0, "negation flips");
        assert!(sentiment("TERRIBLE") < sentiment("terrible"), "capitals intensify");
        assert!(sentiment("very bad") < sentiment("bad"), "boosters intensify");
        let c = only("sentiment");
        let f = c.on_customer_message(Some("This is ridiculous, I'm furious and you are useless"), &none()).unwrap();
        assert_eq!(f.trigger, HandoffTrigger::NegativeSentiment);
        assert!(f.sentiment.unwrap() <= -0.5);
        assert_eq!(c.on_customer_message(Some("the package is late"), &none()), None, "mild is not upset");
    }

    #[test]
    fn contact_rules_on_attributes_and_context() {
        let mut c = only("contact_rules");
        c.contact_rules.push(ContactRule {
            name: "big order".into(),
            field: "order_value".into(),
            op: RuleOp::Gt,
            value: json!(500),
            priority: Priority::High,
        });
        let fields = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(c.on_customer_message(Some("hi"), &fields(json!({"vip": false, "order_value": 20}))), None);
        let f = c.on_customer_message(Some("hi"), &fields(json!({"vip": "true"}))).unwrap();
        assert_eq!((f.trigger, f.detail.as_str()), (HandoffTrigger::ContactRule, "VIP customer"));
        let f = c.on_customer_message(None, &fields(json!({"order_value": "650.00"}))).unwrap();
        assert_eq!((f.detail.as_str(), f.priority), ("big order", Priority::High));
        let tags = ContactRule {
            name: "t".into(),
            field: "tags".into(),
            op: RuleOp::Contains,
            value: json!("gold"),
            priority: Priority::Low,
        };
        assert!(tags.matches(&fields(json!({"tags": ["silver", "gold"]}))));
        assert!(!tags.matches(&fields(json!({"tags": "silver"}))));
    }

    #[test]
    fn customer_request_wins_over_keywords_and_sentiment() {
        let c = TriggerConfig::default();
        let f = c.on_customer_message(Some("This is terrible, I want a refund, get me a human"), &none()).unwrap();
        assert_eq!(f.trigger, HandoffTrigger::CustomerRequest);
        assert!(f.sentiment.unwrap() < 0.0, "sentiment is recorded even when another trigger fires");
    }

    #[test]
    fn invalid_settings_are_refused() {
        let mut c = TriggerConfig::default();
        c.low_confidence.threshold = 1.5;
        assert!(c.validate().is_err());
        let partial: TriggerConfig = serde_json::from_str(r#"{"low_confidence": {"threshold": 0.6}}"#).unwrap();
        assert_eq!(partial.low_confidence.threshold, 0.6);
        assert!(partial.low_confidence.enabled, "unset fields keep their defaults");
        assert!(partial.validate().is_ok());
    }
}
