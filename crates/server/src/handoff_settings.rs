//! What the customer is told when a handoff happens, and when: business hours, the
//! acknowledgement when nobody can take the conversation yet, and an optional queue
//! timeout that returns a conversation to automation.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct HandoffSettings {
    /// Said when a person takes the conversation at once.
    pub assigned_message: String,
    /// Said when nobody can take it yet, inside business hours.
    pub ack_message: String,
    /// Said when nobody can take it yet, outside business hours.
    pub after_hours_message: String,
    /// Append the expected wait (from recent handoffs) to the acknowledgement.
    pub show_expected_wait: bool,
    /// `None`: always open.
    pub business_hours: Option<BusinessHours>,
    /// Return a waiting conversation to automation after this many seconds.
    pub queue_timeout_secs: Option<u64>,
    /// Said when the queue timeout returns the conversation to automation.
    pub timeout_message: String,
}

impl Default for HandoffSettings {
    fn default() -> Self {
        HandoffSettings {
            assigned_message: "Thanks for your patience! I'm handing you over to a member of our team now. \
                               They can see our conversation so far and will reply right here."
                .into(),
            ack_message: "Thanks! I've passed your conversation to our team. A person will reply here shortly; \
                          you don't need to repeat anything."
                .into(),
            after_hours_message: "Thanks! Our team is offline right now. A person will reply here as soon as we're \
                                  back; you don't need to repeat anything."
                .into(),
            show_expected_wait: true,
            business_hours: None,
            queue_timeout_secs: None,
            timeout_message: "Sorry, nobody from our team is free right now. I'm here to help in the meantime, and \
                              you can ask for a person again at any time."
                .into(),
        }
    }
}

/// Opening hours in one fixed UTC offset, with holidays closed all day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BusinessHours {
    /// Minutes east of UTC (e.g. 60 for CET, -300 for EST).
    #[serde(default)]
    pub utc_offset_minutes: i32,
    /// `mon`..`sun` → `["09:00", "18:00"]`; a missing day is closed.
    pub days: std::collections::BTreeMap<String, [String; 2]>,
    /// `YYYY-MM-DD` dates that are closed.
    #[serde(default)]
    pub holidays: Vec<String>,
}

const DAYS: [&str; 7] = ["thu", "fri", "sat", "sun", "mon", "tue", "wed"]; // 1970-01-01 was a Thursday

fn minutes(hhmm: &str) -> Option<i64> {
    let (h, m) = hhmm.split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..=24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

impl BusinessHours {
    pub fn validate(&self) -> Result<(), String> {
        for (day, [open, close]) in &self.days {
            if !DAYS.contains(&day.as_str()) {
                return Err(format!("unknown day \"{day}\" (use mon, tue, wed, thu, fri, sat, sun)"));
            }
            match (minutes(open), minutes(close)) {
                (Some(o), Some(c)) if o < c => {}
                _ => return Err(format!("{day}: hours must be \"HH:MM\" with opening before closing")),
            }
        }
        Ok(())
    }

    /// Whether the business is open at unix milliseconds `now`.
    pub fn is_open(&self, now_ms: i64) -> bool {
        let local_min = now_ms.div_euclid(60_000) + i64::from(self.utc_offset_minutes);
        let day_index = local_min.div_euclid(1440);
        let minute = local_min.rem_euclid(1440);
        let date = crate::hooks::rfc3339(day_index * 86_400_000);
        if self.holidays.iter().any(|h| date.starts_with(h.as_str())) {
            return false;
        }
        let day = DAYS[day_index.rem_euclid(7) as usize];
        match self.days.get(day).and_then(|[o, c]| Some((minutes(o)?, minutes(c)?))) {
            Some((o, c)) => (o..c).contains(&minute),
            None => false,
        }
    }
}

impl HandoffSettings {
    pub fn validate(&self) -> Result<(), String> {
        if let Some(bh) = &self.business_hours {
            bh.validate()?;
        }
        if self.queue_timeout_secs == Some(0) {
            return Err("queue_timeout_secs must be at least 1 (or null for none)".into());
        }
        Ok(())
    }

    /// The acknowledgement for a handoff nobody could take yet.
    pub fn acknowledgement(&self, now_ms: i64, expected_wait_ms: Option<i64>) -> String {
        let open = self.business_hours.as_ref().is_none_or(|b| b.is_open(now_ms));
        if !open {
            return self.after_hours_message.clone();
        }
        match expected_wait_ms.filter(|_| self.show_expected_wait) {
            Some(ms) => {
                let mins = ((ms + 59_999) / 60_000).max(1);
                let unit = if mins == 1 { "minute" } else { "minutes" };
                format!("{} Expected wait: about {mins} {unit}.", self.ack_message)
            }
            None => self.ack_message.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekdays_9_to_18() -> BusinessHours {
        let mut days = std::collections::BTreeMap::new();
        for d in ["mon", "tue", "wed", "thu", "fri"] {
            days.insert(d.to_string(), ["09:00".to_string(), "18:00".to_string()]);
        }
        BusinessHours { utc_offset_minutes: 60, days, holidays: vec!["2026-12-25".into()] }
    }

    #[test]
    fn business_hours_follow_the_offset_days_and_holidays() {
        let bh = weekdays_9_to_18();
        // 2026-11-23 is a Monday; 08:30 UTC is 09:30 at +01:00: open.
        let monday = 1_795_422_600_000;
        assert_eq!(crate::hooks::rfc3339(monday), "2026-11-23T08:30:00.000Z");
        assert!(bh.is_open(monday));
        assert!(!bh.is_open(monday - 60 * 60_000), "07:30 UTC is 08:30 local: closed");
        assert!(!bh.is_open(monday + 5 * 86_400_000), "Saturday");
        let christmas = 1_798_191_000_000; // 2026-12-25T09:30:00Z, a Friday
        assert_eq!(&crate::hooks::rfc3339(christmas)[..10], "2026-12-25");
        assert!(!bh.is_open(christmas));
        assert!(bh.is_open(christmas - 86_400_000), "the day before is a normal Thursday");
    }

    #[test]
    fn the_acknowledgement_depends_on_hours_and_wait() {
        let mut s = HandoffSettings::default();
        let monday = 1_795_422_600_000;
        assert_eq!(s.acknowledgement(monday, None), s.ack_message);
        assert!(s.acknowledgement(monday, Some(150_000)).ends_with("Expected wait: about 3 minutes."));
        assert!(s.acknowledgement(monday, Some(20_000)).ends_with("about 1 minute."));
        s.business_hours = Some(weekdays_9_to_18());
        assert_eq!(s.acknowledgement(monday + 5 * 86_400_000, Some(1)), s.after_hours_message);
    }

    #[test]
    fn bad_hours_are_refused() {
        let mut bh = weekdays_9_to_18();
        bh.days.insert("mon".into(), ["18:00".into(), "09:00".into()]);
        assert!(bh.validate().is_err());
        let mut bh = weekdays_9_to_18();
        bh.days.insert("funday".into(), ["09:00".into(), "10:00".into()]);
        assert!(bh.validate().is_err());
    }
}
