//! Simulated customers for the demo: people who write in, ask the bot, ask for a
//! person, and answer when a person replies.

use std::time::Duration;

use crate::Sandbox;

/// One scripted customer.
#[derive(Debug, Clone)]
pub struct Script {
    pub wa_id: String,
    pub name: String,
    /// What they say, one line after each answer from the business.
    pub lines: Vec<String>,
}

/// The demo's cast.
pub fn demo_scripts() -> Vec<Script> {
    let s = |wa: &str, name: &str, lines: &[&str]| Script {
        wa_id: wa.into(),
        name: name.into(),
        lines: lines.iter().map(|l| l.to_string()).collect(),
    };
    vec![
        s("4915112345678", "Lena Vogel", &["Hi! What are your opening hours?", "Great, thanks!"]),
        s(
            "5511987654321",
            "Rafael Souza",
            &[
                "Hello, how long does shipping take to Brazil?",
                "My order #4821 never arrived. I want to talk to a human.",
                "Ok, thank you!",
            ],
        ),
        s(
            "447700900123",
            "Amelia Clarke",
            &[
                "Do you have a student discount on your plans?",
                "Can I speak to someone please?",
                "Perfect, thanks a lot.",
            ],
        ),
        s("14155550123", "Jordan Lee", &["hi", "I need an agent, I was charged twice", "Thanks for sorting it out"]),
    ]
}

/// Plays each script: a line, then wait for the business to answer (bot or person),
/// then the next line. Customers start `gap` apart.
pub async fn run(sandbox: Sandbox, scripts: Vec<Script>, gap: Duration) {
    for script in scripts {
        let sb = sandbox.clone();
        tokio::spawn(async move { play(sb, script).await });
        tokio::time::sleep(gap).await;
    }
}

async fn play(sb: Sandbox, script: Script) {
    for line in &script.lines {
        let seen = sb.transcript(&script.wa_id).await.iter().filter(|l| l.from == "business").count();
        match sb.customer_says(&script.wa_id, &script.name, line).await {
            Ok((_, 200)) => {}
            Ok((_, code)) => tracing::warn!(code, "server refused a simulated message"),
            Err(e) => {
                tracing::warn!(error = %e, "server unreachable; simulated customer gives up");
                return;
            }
        }
        // Wait (up to 10 minutes) for an answer that came after this line: the bot's
        // transition message does not count as a person's answer, so wait for 2 then.
        let wanted = if line.to_lowercase().contains("human")
            || line.to_lowercase().contains("agent")
            || line.to_lowercase().contains("someone")
        {
            seen + 2
        } else {
            seen + 1
        };
        for _ in 0..1200 {
            let n = sb.transcript(&script.wa_id).await.iter().filter(|l| l.from == "business").count();
            if n >= wanted {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
