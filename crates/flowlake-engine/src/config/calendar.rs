//! A calendar table read value by value, so an error points at the value at fault.

use flowlake_core::{BusinessCalendar, CalendarSpec};
use serde::de::{Deserializer, Visitor};
use serde::Deserialize;

/// Declares a calendar value read and checked on its own, by a calendar that holds only it (`probe`), so an
/// error points at that value rather than at the whole `[calendar]` table.
macro_rules! calendar_value {
    ($name:ident, |$v:ident| $probe:expr) => {
        struct $name(String);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Checked inside the deserializer's own call, which gives the error the value's position
                // (an array's element has none of its own otherwise).
                struct Check;
                impl<'de> Visitor<'de> for Check {
                    type Value = String;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, $v: &str) -> Result<String, E> {
                        let $v = $v.to_string();
                        BusinessCalendar::try_from($probe).map_err(E::custom)?;
                        Ok($v)
                    }
                }
                d.deserialize_str(Check).map(Self)
            }
        }
    };
}

calendar_value!(TimeZoneName, |v| CalendarSpec {
    time_zone: v.clone(),
    ..CalendarSpec::default()
});
calendar_value!(WorkDay, |v| CalendarSpec {
    work_days: vec![v.clone()],
    ..CalendarSpec::default()
});
calendar_value!(DayStart, |v| CalendarSpec {
    day_start: v.clone(),
    day_end: "24:00".into(),
    ..CalendarSpec::default()
});
calendar_value!(DayEnd, |v| CalendarSpec {
    day_start: "00:00".into(),
    day_end: v.clone(),
    ..CalendarSpec::default()
});
calendar_value!(Holiday, |v| CalendarSpec {
    holidays: vec![v.clone()],
    ..CalendarSpec::default()
});
calendar_value!(HolidayPreset, |v| CalendarSpec {
    holiday_preset: Some(v.clone()),
    ..CalendarSpec::default()
});

/// [`CalendarSpec`]'s keys, each checked as it is read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarValues {
    time_zone: Option<TimeZoneName>,
    work_days: Option<Vec<WorkDay>>,
    day_start: Option<DayStart>,
    day_end: Option<DayEnd>,
    holidays: Option<Vec<Holiday>>,
    holiday_preset: Option<HolidayPreset>,
}

/// A calendar table: its values checked one by one (errors point at the value), then together (a day that
/// ends before it starts points at the table). Keys left out take [`CalendarSpec`]'s defaults.
pub(super) fn calendar<'de, D: Deserializer<'de>>(d: D) -> Result<BusinessCalendar, D::Error> {
    let v = CalendarValues::deserialize(d)?;
    let default = CalendarSpec::default();
    let spec = CalendarSpec {
        time_zone: v.time_zone.map_or(default.time_zone, |x| x.0),
        work_days: v
            .work_days
            .map_or(default.work_days, |l| l.into_iter().map(|x| x.0).collect()),
        day_start: v.day_start.map_or(default.day_start, |x| x.0),
        day_end: v.day_end.map_or(default.day_end, |x| x.0),
        holidays: v
            .holidays
            .map_or(default.holidays, |l| l.into_iter().map(|x| x.0).collect()),
        holiday_preset: v.holiday_preset.map(|x| x.0),
    };
    BusinessCalendar::try_from(spec).map_err(serde::de::Error::custom)
}
