//! When a job of `flowlake run` is due: `@every 30m` (a fixed interval) or a cron expression read in a time
//! zone (`0 5 * * *` at 05:00 there, daylight saving time included).
//!
//! Pure: no clock is read here; the daemon asks for the next instant after one it gives.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

/// The shortest `@every` interval: a job due more often than this would spend its life starting up.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// A schedule that cannot be used; the message names the value and what a valid one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(String);

/// When a job is due.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Every `interval`, counted from when the daemon started (a run that overran skips the slots it covered).
    Every(Duration),
    /// At the instants a cron expression gives, read in `tz`.
    Cron {
        /// The parsed expression.
        cron: Box<croner::Cron>,
        /// The time zone its hours are in.
        tz: Tz,
        /// The expression as written, for messages.
        text: String,
    },
}

impl Schedule {
    /// Reads `@every <duration>` (`30m`, `1h 30m`, `10s`; humantime's units) or a cron expression of five
    /// fields (minute hour day-of-month month day-of-week), six with seconds first, or a nickname (`@hourly`,
    /// `@daily`, `@weekly`, `@monthly`, `@yearly`), whose hours are read in `tz`.
    pub fn parse(text: &str, tz: Tz) -> Result<Self, ScheduleError> {
        let t = text.trim();
        if let Some(every) = t.strip_prefix("@every") {
            let every = every.trim();
            let interval = humantime::parse_duration(every).map_err(|e| {
                ScheduleError(format!(
                    "`{text}`: `{every}` is not a duration ({e}); write e.g. `@every 30m`, `@every 1h 30m`"
                ))
            })?;
            if interval < MIN_INTERVAL {
                return Err(ScheduleError(format!(
                    "`{text}`: the interval must be at least {}s",
                    MIN_INTERVAL.as_secs()
                )));
            }
            return Ok(Self::Every(interval));
        }
        let cron = croner::Cron::new(t)
            .with_seconds_optional()
            .parse()
            .map_err(|e| {
                ScheduleError(format!(
                    "`{text}` is neither `@every <duration>` nor a cron expression (minute hour \
                     day-of-month month day-of-week, e.g. `0 5 * * *`): {e}"
                ))
            })?;
        Ok(Self::Cron {
            cron: Box::new(cron),
            tz,
            text: t.to_string(),
        })
    }

    /// The first instant this schedule is due strictly after `after`; `anchor` is where `@every` counts its
    /// slots from (the daemon's start). `None` when a cron expression never matches again.
    pub fn next_after(&self, after: DateTime<Utc>, anchor: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Every(interval) => {
                let step = TimeDelta::from_std(*interval).ok()?;
                if after < anchor {
                    return Some(anchor);
                }
                let step_ms = step.num_milliseconds().max(1);
                let since = (after - anchor).num_milliseconds();
                let slots = since / step_ms + 1;
                anchor.checked_add_signed(TimeDelta::milliseconds(slots.checked_mul(step_ms)?))
            }
            Self::Cron { cron, tz, .. } => cron
                .find_next_occurrence(&after.with_timezone(tz), false)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
        }
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Every(d) => write!(f, "@every {}", humantime::format_duration(*d)),
            Self::Cron { text, tz, .. } => write!(f, "{text} ({tz})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_next_instant_of_each_kind_of_schedule() {
        let anchor = t("2026-03-28T00:00:00Z");
        let cases = [
            // (schedule, zone, after, next)
            (
                "@every 30m",
                "UTC",
                "2026-03-28T00:00:00Z",
                "2026-03-28T00:30:00Z",
            ),
            (
                "@every 30m",
                "UTC",
                "2026-03-28T00:29:59Z",
                "2026-03-28T00:30:00Z",
            ),
            // A run that overran to 01:10 skips the 00:30 and 01:00 slots.
            (
                "@every 30m",
                "UTC",
                "2026-03-28T01:10:00Z",
                "2026-03-28T01:30:00Z",
            ),
            (
                "@every 1h 30m",
                "UTC",
                "2026-03-28T00:00:00Z",
                "2026-03-28T01:30:00Z",
            ),
            // Before the anchor, the anchor itself.
            (
                "@every 10s",
                "UTC",
                "2026-03-27T23:00:00Z",
                "2026-03-28T00:00:00Z",
            ),
            (
                "0 5 * * *",
                "UTC",
                "2026-03-28T04:59:00Z",
                "2026-03-28T05:00:00Z",
            ),
            // Strictly after: at 05:00 the next one is tomorrow's.
            (
                "0 5 * * *",
                "UTC",
                "2026-03-28T05:00:00Z",
                "2026-03-29T05:00:00Z",
            ),
            // 05:00 in Berlin: UTC+1 on the 28th, UTC+2 from the 29th (summer time).
            (
                "0 5 * * *",
                "Europe/Berlin",
                "2026-03-28T05:00:00Z",
                "2026-03-29T03:00:00Z",
            ),
            (
                "*/10 * * * *",
                "UTC",
                "2026-03-28T00:01:00Z",
                "2026-03-28T00:10:00Z",
            ),
            // Six fields: seconds first.
            (
                "30 0 * * * *",
                "UTC",
                "2026-03-28T00:00:00Z",
                "2026-03-28T00:00:30Z",
            ),
            (
                "@daily",
                "UTC",
                "2026-03-28T12:00:00Z",
                "2026-03-29T00:00:00Z",
            ),
            // Weekdays only: Saturday the 28th → Monday the 30th.
            (
                "0 9 * * 1-5",
                "UTC",
                "2026-03-28T10:00:00Z",
                "2026-03-30T09:00:00Z",
            ),
        ];
        for (text, zone, after, next) in cases {
            let s = Schedule::parse(text, zone.parse().unwrap()).unwrap();
            assert_eq!(
                s.next_after(t(after), anchor),
                Some(t(next)),
                "{text} in {zone} after {after}"
            );
        }
    }

    #[test]
    fn a_bad_schedule_names_the_value_and_shows_a_good_one() {
        for (text, says) in [
            ("@every", "`@every`: `` is not a duration"),
            ("@every soon", "`soon` is not a duration"),
            ("@every 0s", "at least 1s"),
            (
                "*/5 * *",
                "`*/5 * *` is neither `@every <duration>` nor a cron expression",
            ),
            ("61 * * * *", "`61 * * * *` is neither"),
            ("", "nor a cron expression"),
        ] {
            let e = Schedule::parse(text, Tz::UTC).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_interval_gives_an_instant_after_the_one_asked_within_one_interval(
            secs in 1u64..100_000, offset in -1_000_000i64..10_000_000,
        ) {
            let anchor = t("2026-01-01T00:00:00Z");
            let after = anchor + TimeDelta::seconds(offset);
            let next = Schedule::Every(Duration::from_secs(secs)).next_after(after, anchor).unwrap();
            proptest::prop_assert!(next > after || (after < anchor && next == anchor));
            proptest::prop_assert!(next - after <= TimeDelta::seconds(secs as i64) || after < anchor);
            // On the anchor's grid.
            proptest::prop_assert_eq!((next - anchor).num_seconds() % secs as i64, 0);
        }
    }
}
