//! The calendar: spec parsing, business time across days, zones and holidays, presets.

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
