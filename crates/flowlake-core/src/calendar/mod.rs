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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, crate::KeyDocs)]
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
mod tests;
