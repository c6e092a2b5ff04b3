//! The built-in rule bot: the embedded default automation. It answers configured FAQ
//! keywords, hands off when the customer asks for a person, and otherwise says what
//! it can help with. Configured by a JSON file (`--bot-config`); [`BotConfig::default`]
//! is what runs without one.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BotConfig {
    /// Phrases that mean "I want a person". Matched as whole words, case-insensitive.
    pub handoff_phrases: Vec<String>,
    /// Keyword → answer pairs, tried in order.
    pub faqs: Vec<Faq>,
    /// Said when nothing matched.
    pub fallback: String,
    /// Said to the customer when the conversation is handed to people.
    pub transition_message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Faq {
    pub keywords: Vec<String>,
    pub answer: String,
}

impl Default for BotConfig {
    fn default() -> Self {
        let faq = |k: &[&str], a: &str| Faq { keywords: k.iter().map(|s| s.to_string()).collect(), answer: a.into() };
        BotConfig {
            handoff_phrases: [
                "human",
                "agent",
                "person",
                "talk to someone",
                "speak to someone",
                "real person",
                "representative",
                "operator",
                "humano",
                "atendente",
                "mensch",
                "humain",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            faqs: vec![
                faq(
                    &["hours", "open", "opening", "close", "closing"],
                    "We're open Monday to Friday, 9:00 to 18:00, and Saturday 10:00 to 14:00.",
                ),
                faq(
                    &["shipping", "delivery", "deliver", "ship"],
                    "Orders ship within 2 business days; delivery takes 3 to 5 days. Shipping is free above $50.",
                ),
                faq(
                    &["price", "prices", "pricing", "cost", "plan", "plans"],
                    "Our plans start at $29 a month, and every plan has a 14-day free trial.",
                ),
                faq(
                    &["return", "returns", "exchange"],
                    "You can return any item within 30 days. Just reply with your order number and we'll send a label.",
                ),
            ],
            fallback:
                "I'm the Acme assistant. I can answer questions about opening hours, shipping, pricing and returns. \
                       Type \"agent\" at any time to talk to a person."
                    .into(),
            transition_message: "Thanks for your patience! I'm handing you over to a member of our team now. \
                                 They can see our conversation so far and will reply right here."
                .into(),
        }
    }
}

/// What the bot decides for one customer message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotAction {
    /// Hand the conversation to people; `matched` is the phrase that triggered it.
    Handoff {
        matched: String,
    },
    Reply(String),
}

impl BotConfig {
    pub fn load(path: &std::path::Path) -> anyhow::Result<BotConfig> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read bot config {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("bot config {} is not valid: {e}", path.display()))
    }

    /// Decides the answer to one customer message. `text` is `None` for messages
    /// without text (media, locations, ...): the bot then explains what it can do.
    pub fn decide(&self, text: Option<&str>) -> BotAction {
        let Some(text) = text else {
            return BotAction::Reply(self.fallback.clone());
        };
        let words = normalise(text);
        if let Some(p) = self.handoff_phrases.iter().find(|p| contains_phrase(&words, p)) {
            return BotAction::Handoff { matched: p.clone() };
        }
        for faq in &self.faqs {
            if faq.keywords.iter().any(|k| contains_phrase(&words, k)) {
                return BotAction::Reply(faq.answer.clone());
            }
        }
        BotAction::Reply(self.fallback.clone())
    }
}

/// Lower-case words, punctuation removed: " a b c " so phrases match on word bounds.
fn normalise(text: &str) -> String {
    let cleaned: String = text.to_lowercase().chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    format!(" {} ", cleaned.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn contains_phrase(normalised_text: &str, phrase: &str) -> bool {
    let p = normalise(phrase);
    !p.trim().is_empty() && normalised_text.contains(&p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asking_for_a_person_hands_off() {
        let bot = BotConfig::default();
        for text in ["I want to talk to a HUMAN please", "Agent!", "can I talk to someone?", "Quero um humano"] {
            assert!(matches!(bot.decide(Some(text)), BotAction::Handoff { .. }), "{text}");
        }
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let bot = BotConfig::default();
        // "agents" is not "agent", "personal" is not "person"
        assert_eq!(bot.decide(Some("my personal agents")), BotAction::Reply(bot.fallback.clone()));
    }

    #[test]
    fn faq_keywords_answer() {
        let bot = BotConfig::default();
        match bot.decide(Some("What are your opening hours?")) {
            BotAction::Reply(a) => assert!(a.contains("Monday to Friday")),
            other => panic!("{other:?}"),
        }
        match bot.decide(Some("how much is shipping")) {
            BotAction::Reply(a) => assert!(a.contains("ship within 2 business days")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_text_gets_the_fallback() {
        let bot = BotConfig::default();
        assert_eq!(bot.decide(None), BotAction::Reply(bot.fallback.clone()));
    }

    #[test]
    fn config_file_overrides_defaults_partially() {
        let cfg: BotConfig = serde_json::from_str(r#"{"handoff_phrases":["falar com alguém"]}"#).unwrap();
        assert!(matches!(cfg.decide(Some("Quero falar com alguém")), BotAction::Handoff { .. }));
        assert!(matches!(cfg.decide(Some("human")), BotAction::Reply(_)));
        assert!(!cfg.faqs.is_empty(), "unset fields keep their defaults");
    }
}
