//! The built-in rule bot: the embedded default automation. It answers configured FAQ
//! keywords and otherwise falls back to saying what it can help with (consecutive
//! fallbacks feed the repeated-failure trigger). Whether to hand off is decided by the
//! triggers (`triggers.rs`), before the bot is asked. Configured by a JSON file
//! (`--bot-config`); [`BotConfig::default`] is what runs without one.

use serde::{Deserialize, Serialize};

use crate::triggers::{contains_phrase, normalise};

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct BotConfig {
    /// Keyword → answer pairs, tried in order.
    pub faqs: Vec<Faq>,
    /// Said when nothing matched.
    pub fallback: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Faq {
    pub keywords: Vec<String>,
    pub answer: String,
}

impl Default for BotConfig {
    fn default() -> Self {
        let faq = |k: &[&str], a: &str| Faq { keywords: k.iter().map(|s| s.to_string()).collect(), answer: a.into() };
        BotConfig {
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
                    &["thanks", "thank", "thx", "cheers", "bye", "goodbye"],
                    "You're welcome! Is there anything else I can help you with?",
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
        }
    }
}

/// What the bot answers to one customer message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotAction {
    /// An FAQ matched.
    Answer(String),
    /// Nothing matched: the fallback text (counts toward repeated failure).
    Fallback(String),
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
            return BotAction::Fallback(self.fallback.clone());
        };
        let words = normalise(text);
        for faq in &self.faqs {
            if faq.keywords.iter().any(|k| contains_phrase(&words, k)) {
                return BotAction::Answer(faq.answer.clone());
            }
        }
        BotAction::Fallback(self.fallback.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faq_keywords_answer() {
        let bot = BotConfig::default();
        match bot.decide(Some("What are your opening hours?")) {
            BotAction::Answer(a) => assert!(a.contains("Monday to Friday")),
            other => panic!("{other:?}"),
        }
        match bot.decide(Some("how much is shipping")) {
            BotAction::Answer(a) => assert!(a.contains("ship within 2 business days")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keywords_match_whole_words_only() {
        let bot = BotConfig::default();
        assert_eq!(bot.decide(Some("my shipments")), BotAction::Fallback(bot.fallback.clone()));
    }

    #[test]
    fn no_text_gets_the_fallback() {
        let bot = BotConfig::default();
        assert_eq!(bot.decide(None), BotAction::Fallback(bot.fallback.clone()));
    }

    #[test]
    fn config_file_overrides_defaults_partially() {
        let cfg: BotConfig = serde_json::from_str(r#"{"fallback":"Sorry?"}"#).unwrap();
        assert_eq!(cfg.decide(Some("xyz")), BotAction::Fallback("Sorry?".into()));
        assert!(!cfg.faqs.is_empty(), "unset fields keep their defaults");
    }
}
