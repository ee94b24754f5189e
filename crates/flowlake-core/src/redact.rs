//! Credentials out of URLs before they reach a message, a log line or a recorded file.

const SECRET_PARAMS: [&str; 7] = [
    "access_token",
    "token",
    "api_key",
    "apikey",
    "key",
    "password",
    "client_secret",
];

/// The URL with secret-looking query parameters and `user:password@` masked.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((authority, path)) => {
                let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                format!("{scheme}://{host}/{path}")
            }
            None => format!(
                "{scheme}://{}",
                rest.rsplit_once('@').map_or(rest, |(_, h)| h)
            ),
        },
        None => base.to_string(),
    };
    let Some(query) = query else { return base };
    let query: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()) => {
                format!("{k}=REDACTED")
            }
            _ => p.to_string(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_tokens_and_passwords() {
        assert_eq!(
            redact_url("https://u:p@h.example/a?access_token=abc&state=open"),
            "https://h.example/a?access_token=REDACTED&state=open"
        );
        assert_eq!(redact_url("https://h/a?page=2"), "https://h/a?page=2");
        assert_eq!(redact_url("http://u:p@h"), "http://h");
    }

    #[test]
    fn state_urls_lose_their_credentials() {
        assert_eq!(
            redact_url("redis://user:s3cret@host:6379/0"),
            "redis://host:6379/0"
        );
        assert_eq!(
            redact_url("redis://:pw@h/1?password=x"),
            "redis://h/1?password=REDACTED"
        );
        assert_eq!(
            redact_url("s3://bucket/state.json"),
            "s3://bucket/state.json"
        );
    }
}
