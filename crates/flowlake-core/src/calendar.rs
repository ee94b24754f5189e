//! The business calendar: which seconds count as working time.
//!
//! Working windows are built per local date in the configured IANA time zone and converted to UTC by the time
//! zone database, so daylight-saving changes shorten or lengthen nights, never working days. A window edge
//! that falls in a DST gap moves to the first instant that exists after it; one that falls in a repeated hour
//! takes the earlier of the two instants.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A calendar value that cannot be used, with the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Not an IANA time zone name.
    #[error("invalid time zone `{0}` (expected an IANA name such as `Europe/Berlin` or `UTC`)")]
    TimeZone(String),
    /// Not a day of the week.
    #[error("invalid work day `{0}` (expected mon, tue, wed, thu, fri, sat or sun)")]
    WorkDay(String),
    /// Not a time of day.
    #[error("invalid time of day `{0}` (expected HH:MM, 00:00 to 24:00)")]
    TimeOfDay(String),
    /// The working day ends before it starts.
    #[error("working day ends ({end}) before it starts ({start})")]
    EmptyDay {
        /// Start as written.
        start: String,
        /// End as written.
        end: String,
    },
    /// Not a calendar date.
    #[error("invalid holiday date `{0}` (expected YYYY-MM-DD)")]
    Holiday(String),
    /// Unknown holiday preset.
    #[error("unknown holiday preset `{0}` (known: ru)")]
    Preset(String),
}

/// The calendar as written in config: every field is text so errors can quote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarSpec {
    /// IANA time zone the working hours are in. Default `UTC`.
    pub time_zone: String,
    /// Working days of the week. Default Monday to Friday.
    pub work_days: Vec<String>,
    /// Start of the working day, `HH:MM` local time. Default `09:00`.
    pub day_start: String,
    /// End of the working day, `HH:MM` local time (`24:00` allowed). Default `18:00`.
    pub day_end: String,
    /// Non-working dates, `YYYY-MM-DD`.
    pub holidays: Vec<String>,
    /// A built-in list of yearly holidays added to `holidays`: `ru` (Russian fixed public holidays). Optional.
    pub holiday_preset: Option<String>,
}

impl Default for CalendarSpec {
    fn default() -> Self {
        Self {
            time_zone: "UTC".into(),
            work_days: ["mon", "tue", "wed", "thu", "fri"]
                .map(String::from)
                .to_vec(),
            day_start: "09:00".into(),
            day_end: "18:00".into(),
            holidays: Vec::new(),
            holiday_preset: None,
        }
    }
}

/// A validated business calendar. Build it from a [`CalendarSpec`] (`try_from`) or a preset.
///
/// Business time is answered in constant time from a table of cumulative working microseconds per local date
/// (1990–2069), built on first use and shared by clones; instants outside that range fall back to walking
/// the days one by one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "CalendarSpec", into = "CalendarSpec")]
pub struct BusinessCalendar {
    tz: Tz,
    work_days: [bool; 7],
    /// Seconds after local midnight.
    day_start: u32,
    /// Seconds after local midnight, up to 86 400.
    day_end: u32,
    holidays: BTreeSet<NaiveDate>,
    /// (month, day) pairs off every year.
    annual: BTreeSet<(u32, u32)>,
    spec: CalendarSpec,
    #[serde(skip)]
    table: Arc<OnceLock<DayTable>>,
}

impl PartialEq for BusinessCalendar {
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec
    }
}

/// Working windows of every local date in a range, with prefix sums, for O(1) business time.
#[derive(Debug)]
struct DayTable {
    /// First instant of each local date, UTC microseconds: finds an instant's local date without asking the
    /// time zone, which cost more than the rest of the lookup.
    midnight: Vec<i64>,
    /// Window start per date, UTC microseconds (meaningless where `len` is 0).
    start: Vec<i64>,
    /// Window length per date, microseconds.
    len: Vec<i64>,
    /// Working microseconds of all dates before index `i`.
    prefix: Vec<i64>,
}

const TABLE_FIRST: (i32, u32, u32) = (1990, 1, 1);
const TABLE_LAST: (i32, u32, u32) = (2069, 12, 31);

impl Default for BusinessCalendar {
    fn default() -> Self {
        Self::try_from(CalendarSpec::default()).expect("the default calendar spec is valid")
    }
}

impl From<BusinessCalendar> for CalendarSpec {
    fn from(c: BusinessCalendar) -> Self {
        c.spec
    }
}

fn parse_time_of_day(s: &str) -> Result<u32, CalendarError> {
    let err = || CalendarError::TimeOfDay(s.to_string());
    let (h, rest) = s.trim().split_once(':').ok_or_else(err)?;
    let (m, sec) = match rest.split_once(':') {
        Some((m, sec)) => (m, sec),
        None => (rest, "0"),
    };
    let (h, m, sec): (u32, u32, u32) = (
        h.parse().map_err(|_| err())?,
        m.parse().map_err(|_| err())?,
        sec.parse().map_err(|_| err())?,
    );
    if m > 59 || sec > 59 || h > 24 || (h == 24 && (m, sec) != (0, 0)) {
        return Err(err());
    }
    Ok(h * 3600 + m * 60 + sec)
}

fn parse_weekday(s: &str) -> Result<Weekday, CalendarError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" | "0" => Ok(Weekday::Mon),
        "tue" | "tuesday" | "1" => Ok(Weekday::Tue),
        "wed" | "wednesday" | "2" => Ok(Weekday::Wed),
        "thu" | "thursday" | "3" => Ok(Weekday::Thu),
        "fri" | "friday" | "4" => Ok(Weekday::Fri),
        "sat" | "saturday" | "5" => Ok(Weekday::Sat),
        "sun" | "sunday" | "6" => Ok(Weekday::Sun),
        _ => Err(CalendarError::WorkDay(s.to_string())),
    }
}

/// Russian fixed public holidays (New Year holidays 1–8 January, 23 February, 8 March, 1 and 9 May, 12 June,
/// 4 November); the yearly government transfers of days off are not included.
const RU_HOLIDAYS: &[(u32, u32)] = &[
    (1, 1),
    (1, 2),
    (1, 3),
    (1, 4),
    (1, 5),
    (1, 6),
    (1, 7),
    (1, 8),
    (2, 23),
    (3, 8),
    (5, 1),
    (5, 9),
    (6, 12),
    (11, 4),
];

impl TryFrom<CalendarSpec> for BusinessCalendar {
    type Error = CalendarError;

    fn try_from(spec: CalendarSpec) -> Result<Self, Self::Error> {
        let tz: Tz = spec
            .time_zone
            .trim()
            .parse()
            .map_err(|_| CalendarError::TimeZone(spec.time_zone.clone()))?;
        let mut work_days = [false; 7];
        for d in &spec.work_days {
            work_days[parse_weekday(d)?.num_days_from_monday() as usize] = true;
        }
        let day_start = parse_time_of_day(&spec.day_start)?;
        let day_end = parse_time_of_day(&spec.day_end)?;
        if day_end < day_start {
            return Err(CalendarError::EmptyDay {
                start: spec.day_start.clone(),
                end: spec.day_end.clone(),
            });
        }
        let holidays = spec
            .holidays
            .iter()
            .map(|h| {
                NaiveDate::parse_from_str(h.trim(), "%Y-%m-%d")
                    .map_err(|_| CalendarError::Holiday(h.clone()))
            })
            .collect::<Result<_, _>>()?;
        let annual = match spec.holiday_preset.as_deref() {
            None | Some("") => BTreeSet::new(),
            Some("ru") => RU_HOLIDAYS.iter().copied().collect(),
            Some(other) => return Err(CalendarError::Preset(other.to_string())),
        };
        Ok(Self {
            tz,
            work_days,
            day_start,
            day_end,
            holidays,
            annual,
            spec,
            table: Arc::default(),
        })
    }
}

impl BusinessCalendar {
    /// tracker-exporter's working hours: Monday–Friday, 09:00–22:00 UTC, minus Russian public holidays.
    pub fn tracker_exporter() -> Self {
        Self::try_from(CalendarSpec {
            time_zone: "UTC".into(),
            day_start: "09:00".into(),
            day_end: "22:00".into(),
            holiday_preset: Some("ru".into()),
            ..CalendarSpec::default()
        })
        .expect("the tracker-exporter calendar is valid")
    }

    /// The time zone working hours are in.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Whether `date` (local) is a working day: a work day of the week and not a holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.work_days[date.weekday().num_days_from_monday() as usize]
            && !self.holidays.contains(&date)
            && !self.annual.contains(&(date.month(), date.day()))
    }

    fn local_to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut probe = local;
        // A gap is at most a few hours; step forward until the local time exists.
        for _ in 0..48 {
            match self.tz.from_local_datetime(&probe) {
                LocalResult::Single(t) => return t.with_timezone(&Utc),
                LocalResult::Ambiguous(early, _) => return early.with_timezone(&Utc),
                LocalResult::None => probe += Duration::minutes(30),
            }
        }
        Utc.from_utc_datetime(&local)
    }

    /// The working window of a local date in UTC, if the date is a working day.
    pub fn working_window(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.is_working_day(date) || self.day_end == self.day_start {
            return None;
        }
        let midnight = date.and_hms_opt(0, 0, 0)?;
        let start = self.local_to_utc(midnight + Duration::seconds(self.day_start.into()));
        let end = self.local_to_utc(midnight + Duration::seconds(self.day_end.into()));
        Some((start, end))
    }

    fn day_table(&self) -> &DayTable {
        self.table.get_or_init(|| {
            let (fy, fm, fd) = TABLE_FIRST;
            let (ly, lm, ld) = TABLE_LAST;
            let first = NaiveDate::from_ymd_opt(fy, fm, fd).expect("valid date");
            let last = NaiveDate::from_ymd_opt(ly, lm, ld).expect("valid date");
            let days = (last - first).num_days() as usize + 1;
            let (mut start, mut len, mut prefix) =
                (vec![0; days], vec![0; days], vec![0; days + 1]);
            let mut midnight = vec![0; days];
            for (i, date) in first.iter_days().take(days).enumerate() {
                midnight[i] = self
                    .local_to_utc(date.and_hms_opt(0, 0, 0).unwrap_or_default())
                    .timestamp_micros();
                if let Some((s, e)) = self.working_window(date) {
                    start[i] = s.timestamp_micros();
                    len[i] = (e - s).num_microseconds().unwrap_or(0).max(0);
                }
                prefix[i + 1] = prefix[i] + len[i];
            }
            DayTable {
                midnight,
                start,
                len,
                prefix,
            }
        })
    }

    /// Working microseconds from the table's start to `t`, or `None` outside the table.
    fn working_micros_until(&self, t: DateTime<Utc>) -> Option<i64> {
        const DAY: i64 = 86_400_000_000;
        let table = self.day_table();
        let us = t.timestamp_micros();
        let (first, last) = (*table.midnight.first()?, *table.midnight.last()?);
        if us < first || us >= last + DAY {
            return None;
        }
        // Local days are 23 to 25 hours long: the estimate is off by at most one day either way.
        let mut i = usize::try_from((us - first) / DAY)
            .ok()?
            .min(table.midnight.len() - 1);
        while i + 1 < table.midnight.len() && table.midnight[i + 1] <= us {
            i += 1;
        }
        while i > 0 && table.midnight[i] > us {
            i -= 1;
        }
        let into = (us - table.start[i]).clamp(0, table.len[i]);
        Some(table.prefix[i] + into)
    }

    /// Seconds of `[start, end)` that fall inside working windows (whole seconds, truncated). Zero when
    /// `end <= start`; never more than the calendar seconds between them.
    pub fn business_seconds(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
        if end <= start {
            return 0;
        }
        match (
            self.working_micros_until(start),
            self.working_micros_until(end),
        ) {
            (Some(a), Some(b)) => (b - a) / 1_000_000,
            _ => self.business_seconds_by_day(start, end),
        }
    }

    /// The same by walking the days: the reference for the table, and the answer outside its range.
    pub fn business_seconds_by_day(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
        if end <= start {
            return 0;
        }
        let mut total_micros = 0;
        let first = start.with_timezone(&self.tz).date_naive();
        let last = end.with_timezone(&self.tz).date_naive();
        let mut date = first;
        while date <= last {
            if let Some((ws, we)) = self.working_window(date) {
                let s = ws.max(start);
                let e = we.min(end);
                if e > s {
                    total_micros += (e - s).num_microseconds().unwrap_or(0);
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total_micros / 1_000_000
    }
}

impl fmt::Display for BusinessCalendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}–{} {}",
            self.spec.work_days.join(","),
            self.spec.day_start,
            self.spec.day_end,
            self.spec.time_zone
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn cal(tz: &str, start: &str, end: &str, holidays: &[&str]) -> BusinessCalendar {
        BusinessCalendar::try_from(CalendarSpec {
            time_zone: tz.into(),
            day_start: start.into(),
            day_end: end.into(),
            holidays: holidays.iter().map(|s| s.to_string()).collect(),
            ..CalendarSpec::default()
        })
        .unwrap()
    }

    #[test]
    fn business_time_cases() {
        let utc = cal("UTC", "09:00", "18:00", &["2024-01-03"]);
        let berlin = cal("Europe/Berlin", "09:00", "18:00", &[]);
        let mut ny = CalendarSpec {
            time_zone: "America/New_York".into(),
            ..CalendarSpec::default()
        };
        ny.work_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .map(String::from)
            .to_vec();
        ny.day_start = "00:00".into();
        ny.day_end = "24:00".into();
        let ny = BusinessCalendar::try_from(ny).unwrap();
        // (calendar, start, end, expected business seconds, why)
        let cases: &[(&BusinessCalendar, &str, &str, i64, &str)] = &[
            (
                &utc,
                "2024-01-01T10:00:00Z",
                "2024-01-01T12:00:00Z",
                7200,
                "inside one working day",
            ),
            (
                &utc,
                "2024-01-01T17:00:00Z",
                "2024-01-02T10:00:00Z",
                7200,
                "skips the night",
            ),
            (
                &utc,
                "2024-01-05T17:00:00Z",
                "2024-01-08T10:00:00Z",
                7200,
                "skips the weekend",
            ),
            (
                &utc,
                "2024-01-02T17:00:00Z",
                "2024-01-04T10:00:00Z",
                7200,
                "skips a holiday",
            ),
            (
                &utc,
                "2024-01-06T10:00:00Z",
                "2024-01-07T10:00:00Z",
                0,
                "all on a weekend",
            ),
            (
                &utc,
                "2024-01-01T19:00:00Z",
                "2024-01-01T23:00:00Z",
                0,
                "outside working hours",
            ),
            (
                &utc,
                "2024-01-01T12:00:00Z",
                "2024-01-01T12:00:00Z",
                0,
                "same second",
            ),
            (
                &utc,
                "2024-01-01T12:00:00Z",
                "2024-01-01T11:00:00Z",
                0,
                "reversed",
            ),
            // Berlin in winter is UTC+1: 09:00 local is 08:00Z.
            (
                &berlin,
                "2024-01-08T07:00:00Z",
                "2024-01-08T09:00:00Z",
                3600,
                "local hours, winter",
            ),
            // Berlin in summer is UTC+2: 09:00 local is 07:00Z.
            (
                &berlin,
                "2024-07-08T07:00:00Z",
                "2024-07-08T09:00:00Z",
                7200,
                "local hours, summer",
            ),
            // 2024-03-31 (Sunday) Berlin springs forward: Friday works 08:00–17:00Z (CET), Monday 1 April
            // works 07:00–16:00Z (CEST); both are full nine-hour days.
            (
                &berlin,
                "2024-03-29T00:00:00Z",
                "2024-04-02T00:00:00Z",
                18 * 3600,
                "over the DST change",
            ),
            // New York springs forward on 2024-03-10: that Sunday has 23 hours, all counted when every day works.
            (
                &ny,
                "2024-03-10T05:00:00Z",
                "2024-03-11T04:00:00Z",
                23 * 3600,
                "a 23-hour day",
            ),
            // Falls back on 2024-11-03: a 25-hour day.
            (
                &ny,
                "2024-11-03T04:00:00Z",
                "2024-11-04T05:00:00Z",
                25 * 3600,
                "a 25-hour day",
            ),
        ];
        for (c, s, e, want, why) in cases {
            assert_eq!(c.business_seconds(t(s), t(e)), *want, "{why}");
        }
    }

    #[test]
    fn the_day_table_agrees_with_walking_the_days() {
        let berlin = cal("Europe/Berlin", "09:30", "18:15", &["2024-03-29"]);
        let utc = BusinessCalendar::tracker_exporter();
        let base = t("2023-12-30T05:17:11.250Z");
        for c in [&berlin, &utc] {
            for i in 0..400i64 {
                let s = base + Duration::minutes(i * 97 + 13);
                let e = s + Duration::seconds(i * i * 37 + i);
                assert_eq!(
                    c.business_seconds(s, e),
                    c.business_seconds_by_day(s, e),
                    "{s} {e}"
                );
            }
        }
        // Outside the table's range the walk answers.
        assert_eq!(
            utc.business_seconds(t("1980-01-14T09:00:00Z"), t("1980-01-14T10:00:00Z")),
            3600
        );
    }

    /// The table finds an instant's local date from the first instant of each day: check it where days are
    /// not 24 hours long, in zones far from UTC and where the clocks change at midnight (Havana).
    #[test]
    fn the_day_table_finds_local_dates_across_clock_changes() {
        for tz in [
            "Pacific/Auckland",
            "America/Havana",
            "America/Los_Angeles",
            "Asia/Kathmandu",
        ] {
            let whole_days = cal(tz, "00:00", "24:00", &[]);
            let office = cal(tz, "08:00", "17:00", &[]);
            for c in [&whole_days, &office] {
                for base in [t("2024-03-01T00:00:00Z"), t("2024-10-20T00:00:00Z")] {
                    for i in 0..1500i64 {
                        let s = base + Duration::minutes(i * 37);
                        let e = s + Duration::minutes(i % 97 * 31 + 1);
                        assert_eq!(
                            c.business_seconds(s, e),
                            c.business_seconds_by_day(s, e),
                            "{tz} {s} {e}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn working_day_boundary_inside_a_dst_gap_moves_to_the_first_existing_instant() {
        // Working day starting at 02:30 local on the day Berlin skips 02:00–03:00.
        let c = BusinessCalendar::try_from(CalendarSpec {
            time_zone: "Europe/Berlin".into(),
            day_start: "02:30".into(),
            day_end: "04:00".into(),
            work_days: vec!["sun".into()],
            ..CalendarSpec::default()
        })
        .unwrap();
        let (s, e) = c
            .working_window(NaiveDate::from_ymd_opt(2024, 3, 31).unwrap())
            .unwrap();
        assert_eq!(s, t("2024-03-31T01:00:00Z")); // 03:00 CEST
        assert_eq!(e, t("2024-03-31T02:00:00Z")); // 04:00 CEST
    }

    #[test]
    fn bad_values_are_rejected_with_the_offending_value() {
        let bad = |f: fn(&mut CalendarSpec)| {
            let mut s = CalendarSpec::default();
            f(&mut s);
            BusinessCalendar::try_from(s).unwrap_err().to_string()
        };
        assert!(bad(|s| s.time_zone = "Europe/Berln".into()).contains("`Europe/Berln`"));
        assert!(bad(|s| s.work_days = vec!["funday".into()]).contains("`funday`"));
        assert!(bad(|s| s.day_start = "9am".into()).contains("`9am`"));
        assert!(bad(|s| s.day_end = "25:00".into()).contains("`25:00`"));
        assert!(bad(|s| s.holidays = vec!["2024-02-30".into()]).contains("`2024-02-30`"));
        assert!(bad(|s| s.holiday_preset = Some("mars".into())).contains("`mars`"));
        assert!(bad(|s| {
            s.day_start = "18:00".into();
            s.day_end = "09:00".into()
        })
        .contains("before it starts"));
    }

    #[test]
    fn ru_preset_marks_fixed_holidays_every_year() {
        let c = BusinessCalendar::tracker_exporter();
        assert!(!c.is_working_day(NaiveDate::from_ymd_opt(2025, 1, 3).unwrap()));
        assert!(!c.is_working_day(NaiveDate::from_ymd_opt(2031, 6, 12).unwrap()));
        assert!(c.is_working_day(NaiveDate::from_ymd_opt(2023, 10, 16).unwrap()));
    }
}
