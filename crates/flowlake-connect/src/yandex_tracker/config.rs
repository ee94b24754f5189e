//! `[[sources]] kind = "yandex_tracker"`: organization, token, which queues.

use std::collections::BTreeMap;

use crate::ConfigError;

use crate::http::{ApiKeys as _, HttpConfig, Tape};

crate::http::api_config! {
    /// A Yandex Tracker source. Holds no secret: the token is read from `token_env` or `token_file` when the
    /// source is built.
    pub struct YandexTrackerConfig {
        /// Source name: qualifies ids (`tracker:5f1a…`, Tracker's immutable issue id). Default `tracker`.
        pub name: String = "tracker".into(),
        /// API base URL. Default `https://api.tracker.yandex.net`.
        pub base_url: String = "https://api.tracker.yandex.net".into(),
        /// Web UI for links. Default `https://tracker.yandex.ru`.
        pub web_url: String = "https://tracker.yandex.ru".into(),
        /// Yandex 360 organization id (sent as `X-Org-ID`).
        pub org_id: Option<String> = None,
        /// Yandex Cloud organization id (sent as `X-Cloud-Org-ID`).
        pub cloud_org_id: Option<String> = None,
        /// `OAuth` (an OAuth token, default) or `Bearer` (a Yandex Cloud IAM token).
        pub auth_scheme: String = "OAuth".into(),
        /// Queues to include and, prefixed with `!`, exclude: `"DEV,SRE,!TEST"`. Empty: every queue.
        pub queues: String = String::new(),
        /// A query in Tracker's query language replacing the queue filter; flowlake adds the `Updated` bound.
        pub query: Option<String> = None,
        /// Without a cursor, read issues updated within this window (`2h`, `7d`); unset: all history.
        pub initial_range: Option<String> = None,
        /// Issues per search page (1 to 1000). Default 100.
        pub per_page: u32 = 100,
        /// Above this many matching issues the search scrolls instead of paging (Tracker pages stop at 10,000).
        /// Default 10000.
        pub scroll_above: u64 = 10_000,
        /// Changelog entries per request (1 to 100). Default 100.
        pub changelog_per_page: u32 = 100,
        /// Column name → JSON pointer into the landed record (`/issue/…`, the issue as the search returns it), kept in
        /// `work_items.custom_fields`, e.g. `story_points = "/issue/storyPoints"`.
        pub custom_fields: BTreeMap<String, String> = BTreeMap::new(),
        /// Read each issue's comments (one more request per issue): comments become changes by their authors,
        /// so first response works. Default false.
        pub comments: bool = false,
        /// Read each issue's worklog (one more request per issue) into `worklogs`. Default false.
        pub worklogs: bool = false,
        /// Read the organization's users once per run (`/v2/users`), so people carry logins and e-mails.
        /// Default true.
        pub users: bool = true,
    }
    token_env = "TRACKER_TOKEN";
}

/// The longest `initial_range`: a hundred years (of 365 days), so the bound it gives is always a date.
const MAX_RANGE_SECONDS: i64 = 100 * 365 * 86_400;

/// `2h`, `7d`, `1w`, `30m` → seconds; `None` for anything else, or for more than a hundred years.
pub fn parse_range(s: &str) -> Option<i64> {
    let s = s.trim();
    // The unit is one character, which need not be ASCII in a mistyped value (`7д`).
    let (at, _) = s.char_indices().last()?;
    let (n, unit) = s.split_at(at);
    let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
    let unit = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    n.checked_mul(unit).filter(|s| *s <= MAX_RANGE_SECONDS)
}

impl YandexTrackerConfig {
    /// Checks values that parse but cannot work; the message names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.org_id.is_none() == self.cloud_org_id.is_none() {
            return Err(ConfigError::value(
                "org_id or cloud_org_id",
                "set exactly one (X-Org-ID for Yandex 360, X-Cloud-Org-ID for Yandex Cloud)",
            ));
        }
        if !matches!(self.auth_scheme.as_str(), "OAuth" | "Bearer") {
            return Err(ConfigError::value(
                "auth_scheme",
                format!("`{}` is neither OAuth nor Bearer", self.auth_scheme),
            ));
        }
        if let Some(r) = &self.initial_range {
            parse_range(r).ok_or_else(|| {
                ConfigError::value(
                    "initial_range",
                    format!("`{r}` is not like 2h, 7d or 1w (at most 100 years)"),
                )
            })?;
        }
        crate::check_base_url("base_url", &self.base_url)?;
        if !(1..=1000).contains(&self.per_page) {
            return Err(ConfigError::value(
                "per_page",
                format!("{} is outside 1 to 1000", self.per_page),
            ));
        }
        if !(1..=100).contains(&self.changelog_per_page) {
            return Err(ConfigError::value(
                "changelog_per_page",
                format!("{} is outside 1 to 100", self.changelog_per_page),
            ));
        }
        self.check_api_keys()?;
        crate::check_pointers(&self.custom_fields)
    }

    /// The queue filter: `Queue: DEV, SRE AND Queue: !TEST`, or the configured query.
    pub fn filter(&self) -> Option<String> {
        if let Some(q) = &self.query {
            return Some(format!("({q})"));
        }
        let (exclude, include): (Vec<&str>, Vec<&str>) = self
            .queues
            .split(',')
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .partition(|q| q.starts_with('!'));
        let mut parts = Vec::new();
        if !include.is_empty() {
            parts.push(format!("Queue: {}", include.join(", ")));
        }
        if !exclude.is_empty() {
            parts.push(format!("Queue: {}", exclude.join(", ")));
        }
        (!parts.is_empty()).then(|| parts.join(" AND "))
    }
}

impl crate::ApiConfig for YandexTrackerConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.validate()
    }

    fn without_token(&self) -> crate::Without {
        crate::Without::Fails(
            "Yandex Tracker answers only authenticated requests (an OAuth or IAM token)".into(),
        )
    }

    /// The HTTP client settings with the organization header.
    fn http(&self, token: Option<String>, tape: Tape) -> HttpConfig {
        let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
        if let Some(id) = &self.org_id {
            headers.push(("X-Org-ID".into(), id.clone()));
        }
        if let Some(id) = &self.cloud_org_id {
            headers.push(("X-Cloud-Org-ID".into(), id.clone()));
        }
        let scheme = self.auth_scheme.as_str();
        self.api()
            .client(&self.base_url, scheme, token, headers, tape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_lists_ranges_and_organizations() {
        let c = YandexTrackerConfig {
            queues: "DEV, SRE,!TEST,!TRASH".into(),
            org_id: Some("123".into()),
            ..YandexTrackerConfig::default()
        };
        assert_eq!(
            c.filter().as_deref(),
            Some("Queue: DEV, SRE AND Queue: !TEST, !TRASH")
        );
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(
            (parse_range("2h"), parse_range("7d"), parse_range("x")),
            (Some(7200), Some(604_800), None)
        );
        // Too long to count in seconds: refused, not overflowed.
        assert_eq!(parse_range("9223372036854775807w"), None);
        // These panicked: a non-ASCII unit split a character, and a count times its unit overflowed (see
        // flowlake-engine's tests/config_fuzz.rs).
        for bad in [
            "7д",
            "д",
            "9223372036854775807m",
            "15250284452472w",
            "5300w",
        ] {
            assert_eq!(parse_range(bad), None, "{bad}");
        }
        assert_eq!(parse_range("5200w"), Some(5200 * 604_800));
        let both = YandexTrackerConfig {
            cloud_org_id: Some("b1g".into()),
            ..c
        };
        assert!(both
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("org_id or cloud_org_id"));
    }
}
