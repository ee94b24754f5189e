//! The business calendar: which seconds count as working time.
//!
//! Working windows are built per local date in the configured IANA time zone and converted to UTC by the time
//! zone database, so daylight-saving changes shorten or lengthen nights, never working days. A window edge
//! that falls in a DST gap moves to the first instant that exists after it; one that falls in a repeated hour
//! takes the earlier of the two instants.
//!
//! Holiday presets are data generated from the PyPI `holidays` package (`scripts/gen-holidays.py`), not
//! typed by hand: Russia moves days off by decree every year, and only a maintained source has them.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

mod ru_holidays_0_109;
mod ru_holidays_0_34;

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
    #[error("unknown holiday preset `{name}` (known: {known})")]
    Preset {
        /// The preset as written.
        name: String,
        /// The known presets, comma-separated.
        known: String,
    },
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
    /// A built-in holiday list added to `holidays`: `ru` (Russian public holidays with the days off moved by
    /// decree, from the `holidays` package 0.109, 1991–2040) or `ru-holidays-0.34` (the same from `holidays`
    /// 0.34, the version tracker-exporter 2.0.0 pins). Optional.
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
    /// The holiday preset, if any.
    preset: Option<&'static Preset>,
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
/// 4 November): what a preset gives for the years its generated data does not cover. It is what `holidays`
/// itself gives for every year after 2040 (its rules, with no decree known yet); before 1991 it has nothing.
const RU_FIXED: &[(u32, u32)] = &[
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

/// A built-in holiday list: the dates generated from the `holidays` package for its years, the fixed list
/// for any other year.
#[derive(Debug)]
struct Preset {
    /// The name `holiday_preset` takes.
    name: &'static str,
    /// The `holidays` package version `dates` were generated from.
    version: &'static str,
    /// Dates off, (year, month, day), ascending.
    dates: &'static [(i32, u32, u32)],
    /// Years `dates` covers.
    years: (i32, i32),
    /// (month, day) pairs off in other years.
    fixed: &'static [(u32, u32)],
}

impl Preset {
    fn is_off(&self, date: NaiveDate) -> bool {
        let (y, m, d) = (date.year(), date.month(), date.day());
        if (self.years.0..=self.years.1).contains(&y) {
            self.dates.binary_search(&(y, m, d)).is_ok()
        } else {
            self.fixed.contains(&(m, d))
        }
    }
}

/// The presets: `ru` follows the current `holidays` release, `ru-holidays-0.34` stays on tracker-exporter
/// 2.0.0's pin for users who want its exact business durations (it lacks e.g. 2023-11-06 and every transfer
/// from 2024 on).
static PRESETS: [Preset; 2] = [
    Preset {
        name: "ru",
        version: ru_holidays_0_109::VERSION,
        dates: ru_holidays_0_109::DATES,
        years: (ru_holidays_0_109::FIRST_YEAR, ru_holidays_0_109::LAST_YEAR),
        fixed: RU_FIXED,
    },
    Preset {
        name: "ru-holidays-0.34",
        version: ru_holidays_0_34::VERSION,
        dates: ru_holidays_0_34::DATES,
        years: (ru_holidays_0_34::FIRST_YEAR, ru_holidays_0_34::LAST_YEAR),
        fixed: RU_FIXED,
    },
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
        let preset = match spec.holiday_preset.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => Some(PRESETS.iter().find(|p| p.name == name).ok_or_else(|| {
                CalendarError::Preset {
                    name: name.to_string(),
                    known: PRESETS
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })?),
        };
        Ok(Self {
            tz,
            work_days,
            day_start,
            day_end,
            holidays,
            preset,
            spec,
            table: Arc::default(),
        })
    }
}

impl BusinessCalendar {
    /// tracker-exporter's working hours: Monday–Friday, 09:00–22:00 UTC, minus Russian public holidays (the
    /// `ru` preset: the current `holidays` data; `ru-holidays-0.34` is tracker-exporter 2.0.0's exact set).
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

    /// Where the preset's holidays come from, for reports and logs: `ru: holidays 0.109, 1991–2040 (fixed
    /// holidays outside)`. `None` without a preset.
    pub fn holiday_source(&self) -> Option<String> {
        self.preset.map(|p| {
            format!(
                "{}: holidays {}, {}–{} (fixed holidays outside)",
                p.name, p.version, p.years.0, p.years.1
            )
        })
    }

    /// The time zone working hours are in.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Whether `date` (local) is a working day: a work day of the week and not a holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.work_days[date.weekday().num_days_from_monday() as usize]
            && !self.holidays.contains(&date)
            && !self.preset.is_some_and(|p| p.is_off(date))
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
        assert!(bad(|s| s.holiday_preset = Some("mars".into()))
            .contains("unknown holiday preset `mars` (known: ru, ru-holidays-0.34)"));
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

    fn preset(name: &str) -> BusinessCalendar {
        BusinessCalendar::try_from(CalendarSpec {
            holiday_preset: Some(name.into()),
            ..CalendarSpec::default()
        })
        .unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn ru_preset_has_the_days_off_moved_by_decree() {
        let ru = preset("ru");
        for d in [
            "2023-02-24", // moved from 1 January
            "2023-05-08", // moved from 8 January
            "2023-11-06", // Unity Day falls on a Saturday: observed on Monday (holidays 0.109, not 0.34)
            "2024-04-29",
            "2024-12-30",
            "2025-05-02",
            "2025-05-08",
        ] {
            assert!(!ru.is_working_day(date(d)), "{d} is off under ru");
        }
        // Fridays and Mondays around them still work.
        for d in ["2023-02-27", "2023-05-10", "2023-11-07"] {
            assert!(ru.is_working_day(date(d)), "{d} works under ru");
        }
        assert_eq!(
            BusinessCalendar::tracker_exporter()
                .spec
                .holiday_preset
                .as_deref(),
            Some("ru"),
            "tracker-exporter's default calendar uses the current data"
        );
    }

    #[test]
    fn ru_holidays_0_34_is_tracker_exporters_pinned_set() {
        let pinned = preset("ru-holidays-0.34");
        assert!(!pinned.is_working_day(date("2023-02-24")));
        assert!(!pinned.is_working_day(date("2023-05-08")));
        // holidays 0.34 knows no observed Unity Day in 2023 and none of the 2024 transfers.
        assert!(pinned.is_working_day(date("2023-11-06")));
        assert!(pinned.is_working_day(date("2024-04-29")));
        assert_eq!(
            pinned.holiday_source().as_deref(),
            Some("ru-holidays-0.34: holidays 0.34, 1991–2040 (fixed holidays outside)")
        );
        assert_eq!(
            preset("ru").holiday_source().as_deref(),
            Some("ru: holidays 0.109, 1991–2040 (fixed holidays outside)")
        );
    }

    #[test]
    fn a_full_day_stay_on_a_day_off_moved_by_decree_has_no_business_time() {
        let c = BusinessCalendar::tracker_exporter();
        // Friday 2023-02-24, a day off moved from 1 January: 09:00–22:00 UTC would count 13 h.
        assert_eq!(
            c.business_seconds(t("2023-02-24T00:00:00Z"), t("2023-02-25T00:00:00Z")),
            0
        );
        assert_eq!(
            c.business_seconds(t("2023-02-22T00:00:00Z"), t("2023-02-28T00:00:00Z")),
            2 * 13 * 3600,
            "Wednesday the 22nd and Monday the 27th only"
        );
    }

    #[test]
    fn outside_the_generated_years_a_preset_falls_back_to_the_fixed_holidays() {
        let ru = preset("ru");
        assert!(!ru.is_working_day(date("2041-01-03")));
        assert!(!ru.is_working_day(date("2045-06-12")));
        assert!(ru.is_working_day(date("2041-02-22")));
        assert!(!ru.is_working_day(date("1989-03-08")));
    }

    #[test]
    fn generated_holiday_data_is_sorted_and_within_its_years() {
        for p in &PRESETS {
            assert!(p.dates.windows(2).all(|w| w[0] < w[1]), "{} sorted", p.name);
            for &(y, m, d) in p.dates {
                assert!(NaiveDate::from_ymd_opt(y, m, d).is_some(), "{y}-{m}-{d}");
                assert!((p.years.0..=p.years.1).contains(&y), "{y} in {}", p.name);
            }
            // Every fixed holiday of a year after 1991 is in the data (they are law since 2013).
            for y in 2013..=p.years.1 {
                for &(m, d) in p.fixed {
                    assert!(
                        p.dates.binary_search(&(y, m, d)).is_ok(),
                        "{y}-{m}-{d} in {}",
                        p.name
                    );
                }
            }
        }
    }
}
