//! Credentials out of URLs before they reach a message, a log line or a recorded file.

/// Query parameters that carry credentials, lower-cased with `-` as `_`. Named one by one rather than by a
/// pattern such as `*token`: pagination cursors (`nextPageToken`, `page_token`) must stay readable in recordings.
const SECRET_PARAMS: [&str; 14] = [
    "access_token",
    "token",
    "api_key",
    "apikey",
    "key",
    "password",
    "client_secret",
    // GitLab's personal, CI job and deploy tokens (docs.gitlab.com/ee/api/rest/authentication.html).
    "private_token",
    "job_token",
    "deploy_token",
    // Presigned S3 URLs (AWS Signature Version 4 query parameters).
    "x_amz_signature",
    "x_amz_credential",
    "x_amz_security_token",
    "signature",
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
            Some((k, _))
                if SECRET_PARAMS.contains(&k.to_ascii_lowercase().replace('-', "_").as_str()) =>
            {
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
    fn a_gitlab_private_token_or_a_presigned_s3_signature_in_a_query_is_masked() {
        assert_eq!(
            redact_url("https://gitlab.example/api/v4/projects?private_token=glpat-x&page=2"),
            "https://gitlab.example/api/v4/projects?private_token=REDACTED&page=2"
        );
        assert_eq!(
            redact_url("https://b.s3.example/k?X-Amz-Credential=AKIA&X-Amz-Signature=ab12&X-Amz-Expires=60"),
            "https://b.s3.example/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Expires=60"
        );
        assert_eq!(
            redact_url("https://h/rest/api/3/search/jql?nextPageToken=abc"),
            "https://h/rest/api/3/search/jql?nextPageToken=abc",
            "a pagination cursor is not a credential"
        );
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
