//! Reading just enough of an answer: the `rate_book` label, found by a byte search.
//!
//! A full JSON parse of every answer would cost the generator more than the server spends
//! pricing it. The label is a plain string (`name@hash8`, no escapes), and the server writes
//! it first, so the search usually stops within the first 20 bytes.

const KEY: &[u8] = b"\"rate_book\"";

/// The value of the first `"rate_book": "…"` in `answer`, without its quotes; `None` when
/// there is no such string member (an error answer, or not JSON at all).
pub fn rate_book(answer: &[u8]) -> Option<&[u8]> {
    let at = find(answer, KEY)?;
    let rest = skip_space(&answer[at + KEY.len()..]);
    let rest = skip_space(rest.strip_prefix(b":")?);
    let rest = rest.strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    (rest[end] == b'"').then_some(&rest[..end])
}

/// The non-blank lines of an NDJSON body.
pub fn lines(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    body.split(|&b| b == b'\n')
        .filter(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn skip_space(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::{lines, rate_book};

    #[test]
    fn finds_the_label_or_nothing() {
        let cases: [(&str, Option<&str>); 8] = [
            (
                r#"{"rate_book":"demo@7f3a9c2e","currency":"EUR"}"#,
                Some("demo@7f3a9c2e"),
            ),
            (
                r#"{ "rate_book" : "demo@7f3a9c2e" }"#,
                Some("demo@7f3a9c2e"),
            ),
            (
                r#"{"currency":"EUR","options":[],"rate_book":"b@00000000"}"#,
                Some("b@00000000"),
            ),
            (r#"{"error":"invalid_request","problems":[]}"#, None),
            (r#"{"rate_book":null}"#, None),
            (r#"{"rate_book":"unterminated"#, None),
            (r#"{"rate_book":"esc\"aped"}"#, None),
            ("", None),
        ];
        for (answer, expected) in cases {
            assert_eq!(
                rate_book(answer.as_bytes()),
                expected.map(str::as_bytes),
                "{answer}"
            );
        }
    }

    #[test]
    fn lines_skip_blanks() {
        let body = b"{\"a\":1}\n\n  \n{\"b\":2}\n";
        let got: Vec<&[u8]> = lines(body).collect();
        assert_eq!(got, [&b"{\"a\":1}"[..], &b"{\"b\":2}"[..]]);
    }
}
