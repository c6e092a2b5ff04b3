//! Business time: how a team's opening hours and holidays turn "15 minutes of
//! business time from now" into a wall-clock deadline, and back.
//!
//! Hours are given in a fixed offset from UTC (no daylight-saving rules yet). A team
//! without hours is always open, and so is one whose week has no interval at all
//! (rather than never counting down).

use handoff_protocol::BusinessHours;

const DAY_MS: i64 = 24 * 3600 * 1000;
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
/// How far ahead to look for open time before giving up (a misconfigured calendar).
const HORIZON_DAYS: i64 = 400;

/// Parsed hours: per weekday (0 = Sunday), open intervals in ms after local midnight.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    offset_ms: i64,
    week: [Vec<(i64, i64)>; 7],
    holidays: Vec<i64>,
    always_open: bool,
}

/// Why hours could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HoursError(pub String);

fn parse_hhmm(s: &str) -> Result<i64, HoursError> {
    let bad = || HoursError(format!("`{s}` is not a time of day like 09:30"));
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..=24).contains(&h) || !(0..60).contains(&m) || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok((h * 60 + m) * 60_000)
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian).
fn days_from_civil(s: &str) -> Result<i64, HoursError> {
    let bad = || HoursError(format!("`{s}` is not a date like 2026-12-25"));
    let mut it = s.splitn(3, '-');
    let (y, m, d): (i64, i64, i64) = (
        it.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?,
        it.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?,
        it.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok(era * 146_097 + doe - 719_468)
}

impl Calendar {
    pub fn always_open() -> Calendar {
        Calendar { always_open: true, ..Default::default() }
    }

    /// Reads and checks a team's hours.
    pub fn new(hours: Option<&BusinessHours>) -> Result<Calendar, HoursError> {
        let Some(h) = hours else { return Ok(Calendar::always_open()) };
        if h.utc_offset_minutes.abs() > 14 * 60 {
            return Err(HoursError("utc_offset_minutes must be within ±14 hours".into()));
        }
        let mut week: [Vec<(i64, i64)>; 7] = Default::default();
        for (day, intervals) in &h.days {
            let i = DAYS
                .iter()
                .position(|d| d.eq_ignore_ascii_case(day))
                .ok_or_else(|| HoursError(format!("`{day}` is not a day: use mon, tue, wed, thu, fri, sat, sun")))?;
            for [from, to] in intervals {
                let (a, b) = (parse_hhmm(from)?, parse_hhmm(to)?);
                if a >= b {
                    return Err(HoursError(format!("{day}: {from}-{to} ends before it starts")));
                }
                week[i].push((a, b));
            }
            week[i].sort_unstable();
        }
        let holidays = h.holidays.iter().map(|d| days_from_civil(d)).collect::<Result<Vec<_>, _>>()?;
        let always_open = week.iter().all(Vec::is_empty);
        Ok(Calendar { offset_ms: h.utc_offset_minutes as i64 * 60_000, week, holidays, always_open })
    }

    /// Open intervals (wall-clock ms) of the local day `day` (days since epoch).
    fn open_on(&self, day: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
        let closed = self.holidays.contains(&day);
        let weekday = (day + 4).rem_euclid(7) as usize;
        let midnight = day * DAY_MS - self.offset_ms;
        self.week[weekday].iter().filter(move |_| !closed).map(move |&(a, b)| (midnight + a, midnight + b))
    }

    /// The wall-clock time when `business_ms` of open time have passed after `from`.
    pub fn add(&self, from: i64, business_ms: i64) -> i64 {
        if self.always_open || business_ms <= 0 {
            return from + business_ms.max(0);
        }
        let mut left = business_ms;
        let first = (from + self.offset_ms).div_euclid(DAY_MS);
        for day in first..first + HORIZON_DAYS {
            for (a, b) in self.open_on(day) {
                let start = a.max(from);
                if start >= b {
                    continue;
                }
                if b - start >= left {
                    return start + left;
                }
                left -= b - start;
            }
        }
        from + business_ms // no open time within the horizon: count wall time
    }

    /// Open time between two wall-clock times.
    pub fn between(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        if self.always_open {
            return to - from;
        }
        let mut total = 0;
        let (first, last) = ((from + self.offset_ms).div_euclid(DAY_MS), (to + self.offset_ms).div_euclid(DAY_MS));
        for day in first..=last.min(first + HORIZON_DAYS) {
            for (a, b) in self.open_on(day) {
                let (s, e) = (a.max(from), b.min(to));
                if e > s {
                    total += e - s;
                }
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const H: i64 = 3_600_000;
    const M: i64 = 60_000;

    /// 2026-11-23 is a Monday.
    fn monday_utc() -> i64 {
        days_from_civil("2026-11-23").unwrap() * DAY_MS
    }

    fn nine_to_five(offset_minutes: i32, holidays: &[&str]) -> Calendar {
        let mut days = BTreeMap::new();
        for d in ["mon", "tue", "wed", "thu", "fri"] {
            days.insert(d.to_owned(), vec![["09:00".to_owned(), "17:00".to_owned()]]);
        }
        Calendar::new(Some(&BusinessHours {
            utc_offset_minutes: offset_minutes,
            days,
            holidays: holidays.iter().map(|s| s.to_string()).collect(),
        }))
        .unwrap()
    }

    #[test]
    fn dates_and_weekdays() {
        assert_eq!(days_from_civil("1970-01-01").unwrap(), 0);
        assert_eq!(days_from_civil("2000-03-01").unwrap(), 11_017);
        assert_eq!((days_from_civil("2026-11-23").unwrap() + 4).rem_euclid(7), 1, "a Monday");
        assert!(days_from_civil("2026-13-01").is_err());
    }

    #[test]
    fn always_open_is_wall_time() {
        let c = Calendar::always_open();
        assert_eq!(c.add(1000, 5 * M), 1000 + 5 * M);
        assert_eq!(c.between(1000, 1000 + 7 * M), 7 * M);
    }

    #[test]
    fn time_outside_hours_does_not_count() {
        let c = nine_to_five(0, &[]);
        let mon = monday_utc();
        // Friday 16:50 + 15 min -> Monday 09:05.
        let fri_1650 = mon + 4 * DAY_MS + 16 * H + 50 * M;
        assert_eq!(c.add(fri_1650, 15 * M), mon + 7 * DAY_MS + 9 * H + 5 * M);
        assert_eq!(c.between(fri_1650, mon + 7 * DAY_MS + 9 * H + 5 * M), 15 * M);
        // Before opening: the clock starts at 09:00.
        assert_eq!(c.add(mon + 3 * H, 30 * M), mon + 9 * H + 30 * M);
    }

    #[test]
    fn holidays_and_offsets() {
        // Tuesday 2026-11-24 is a holiday; Monday 16:55 + 10 min -> Wednesday 09:05.
        let c = nine_to_five(0, &["2026-11-24"]);
        let mon = monday_utc();
        assert_eq!(c.add(mon + 16 * H + 55 * M, 10 * M), mon + 2 * DAY_MS + 9 * H + 5 * M);
        // UTC+1: opening at 09:00 local is 08:00 UTC.
        let c = nine_to_five(60, &[]);
        assert_eq!(c.add(mon + 7 * H, M), mon + 8 * H + M);
    }

    #[test]
    fn bad_hours_are_refused() {
        let bad = |day: &str, from: &str, to: &str| {
            let mut days = BTreeMap::new();
            days.insert(day.to_owned(), vec![[from.to_owned(), to.to_owned()]]);
            Calendar::new(Some(&BusinessHours { utc_offset_minutes: 0, days, holidays: vec![] })).is_err()
        };
        assert!(bad("funday", "09:00", "17:00"));
        assert!(bad("mon", "17:00", "09:00"));
        assert!(bad("mon", "9am", "17:00"));
        assert!(!bad("mon", "00:00", "24:00"));
    }
}
