//! Human-readable durations.

use std::fmt::Write;

/// The first two non-zero units of y (360 days), mo (30 days), w, d, h, m and s, joined by a space;
/// zero is `0s` and negative values get a leading `-`. `943200 → "1w 3d"`, `100800 → "1d 4h"`.
pub fn human_duration(seconds: i64) -> String {
    if seconds == 0 {
        return "0s".to_string();
    }
    const UNITS: [(&str, i64); 7] = [
        ("y", 31_104_000),
        ("mo", 2_592_000),
        ("w", 604_800),
        ("d", 86_400),
        ("h", 3600),
        ("m", 60),
        ("s", 1),
    ];
    let mut rest = seconds.unsigned_abs() as i64;
    let mut out = String::with_capacity(12);
    if seconds < 0 {
        out.push('-');
    }
    let mut parts = 0;
    for (name, size) in UNITS {
        let n = rest / size;
        if n > 0 {
            rest -= n * size;
            if parts < 2 {
                if parts == 1 {
                    out.push(' ');
                }
                let _ = write!(out, "{n}{name}");
                parts += 1;
            }
        }
    }
    out
}

/// Compact days for tables: `3.4d`, or hours below a day: `5.0h`.
pub fn short_days(seconds: f64) -> String {
    if seconds.abs() < 86_400.0 {
        format!("{:.1}h", seconds / 3600.0)
    } else {
        format!("{:.1}d", seconds / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_duration_cases() {
        for (secs, want) in [
            (0, "0s"),
            (1, "1s"),
            (59, "59s"),
            (3601, "1h 1s"),
            (100_800, "1d 4h"),
            (181_800, "2d 2h"),
            (943_200, "1w 3d"),
            (2_592_000, "1mo"),
            (31_104_000 + 86_400, "1y 1d"),
            (-90, "-1m 30s"),
        ] {
            assert_eq!(human_duration(secs), want, "{secs}");
        }
    }
}
