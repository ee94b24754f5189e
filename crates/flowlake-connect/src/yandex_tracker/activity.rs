//! Comments and worklogs of a Tracker issue, and the organization's users.
//!
//! Tracker measures time spent in business units: a day is 8 hours and a week 5 days (`P1W` is 40 hours),
//! so worklog durations are converted with those, not calendar days.

use chrono::{DateTime, Utc};
use flowlake_core::{qualified_id, Person};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::normalize::Ref;
use crate::jira::parse_time;

/// Ids come as numbers (comments, worklogs) or strings; either is kept as text.
fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("`{other}` is not an id"))),
    }
}

/// A comment as `/v2/issues/{key}/comments` returns it; its text is not read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackerComment {
    /// Id.
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// Author.
    pub created_by: Option<Ref>,
    /// When.
    pub created_at: String,
}

/// A worklog entry as `/v2/issues/{key}/worklog` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackerWorklog {
    /// Id.
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// Who logged it.
    pub created_by: Option<Ref>,
    /// When the work started.
    pub start: String,
    /// Time spent, ISO 8601 (`PT1H30M`, `P1DT2H`, `P1W`).
    pub duration: String,
    /// Created.
    pub created_at: Option<String>,
    /// Last edited.
    pub updated_at: Option<String>,
}

/// Seconds in a Tracker duration, with Tracker's business day (8 h) and week (5 days); `None` for text that
/// is not one, that uses years or months (which Tracker does not write), or whose seconds overflow an i64.
pub fn parse_duration(s: &str) -> Option<i64> {
    let rest = s.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut total = 0i64;
    let mut any = false;
    let mut take = |part: &str, units: &[(char, i64)]| -> Option<()> {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let (_, secs) = units.iter().find(|(u, _)| *u == c)?;
            let n: f64 = number.parse().ok()?;
            if *secs == 0 && n != 0.0 {
                return None;
            }
            // A count too large for i64 seconds is no duration (and must not overflow the sum).
            let seconds = (n * *secs as f64).round();
            if !(0.0..i64::MAX as f64).contains(&seconds) {
                return None;
            }
            total = total.checked_add(seconds as i64)?;
            any = true;
            number.clear();
        }
        number.is_empty().then_some(())
    };
    take(
        date,
        &[('Y', 0), ('M', 0), ('W', 5 * 8 * 3600), ('D', 8 * 3600)],
    )?;
    if let Some(t) = time {
        take(t, &[('H', 3600), ('M', 60), ('S', 1)])?;
    }
    any.then_some(total)
}

/// Times of comments and worklogs (`2024-01-15T10:30:00.000+0000`).
pub fn time(s: &str) -> Option<DateTime<Utc>> {
    parse_time(s)
}

/// A user of `/v2/users` as a person: the id issues refer to them by (`trackerUid`, else `uid`), login,
/// display name and e-mail.
pub fn user_person(source: &str, u: &Value) -> Option<Person> {
    let uid = match u.get("trackerUid").or_else(|| u.get("uid"))? {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    Some(Person {
        id: qualified_id(source, &uid),
        source: source.to_string(),
        login: u["login"]
            .as_str()
            .map_or_else(|| uid.clone(), str::to_string),
        name: u["display"].as_str().map(str::to_string),
        email: u["email"].as_str().map(str::to_lowercase),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_count_business_days_and_weeks() {
        let cases = [
            ("PT30M", Some(1800)),
            ("PT1H30M", Some(5400)),
            ("P1D", Some(8 * 3600)),
            ("P1DT2H", Some(10 * 3600)),
            ("P1W", Some(40 * 3600)),
            ("P5DT20M", Some(40 * 3600 + 1200)),
            ("P0Y0M3DT2H10M25S", Some(26 * 3600 + 625)),
            ("PT0.5H", Some(1800)),
            ("P1M", None),
            ("P", None),
            ("1h", None),
            ("PT5X", None),
            ("P9223372036854775807W", None),
            ("P99999999999999999999W", None),
            ("PT9223372036854775807S", None),
            ("P1000000000000000000DT1000000000000000000H", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), want, "{text}");
        }
    }

    #[test]
    fn users_become_people_with_their_email() {
        let p = user_person(
            "tracker",
            &json!({"uid": 1120000000016772_i64, "trackerUid": 1120000000016772_i64, "login": "ivan",
                    "display": "Иван Петров", "email": "Ivan@Example.ru", "dismissed": false}),
        )
        .unwrap();
        assert_eq!(
            (p.id.as_str(), p.login.as_str(), p.email.as_deref()),
            ("tracker:1120000000016772", "ivan", Some("ivan@example.ru"))
        );
        assert!(user_person("tracker", &json!({"login": "x"})).is_none());
    }
}
