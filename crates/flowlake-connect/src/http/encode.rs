//! Percent-encoding of what connectors put into URLs, through the `percent-encoding` crate that `url` is
//! built on, so no connector hand-writes an encoder.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Every byte but RFC 3986's unreserved characters (`A-Z a-z 0-9 - _ . ~`), so one set serves path segments
/// (a `/` in a project path or an issue key is `%2F`) and query values (a space is `%20`, never `+`).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `s` `%`-encoded (UTF-8, upper-case hex) for a path segment or a query parameter value.
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_characters_stay_literal() {
        assert_eq!(encode_component("a b/\"ü\""), "a%20b%2F%22%C3%BC%22");
        assert_eq!(encode_component("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(
            encode_component("+*'()!&=?#%"),
            "%2B%2A%27%28%29%21%26%3D%3F%23%25"
        );
        assert_eq!(
            encode_component("2024-01-15T10:30:00.000Z"),
            "2024-01-15T10%3A30%3A00.000Z"
        );
        assert_eq!(
            encode_component("ПРОЕКТ-1"),
            "%D0%9F%D0%A0%D0%9E%D0%95%D0%9A%D0%A2-1"
        );
    }
}
