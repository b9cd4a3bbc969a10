//! Lists in the conventions' shape: `{"data": [...], "next_cursor": …, "limit": n,
//! "cursor": …}`, newest first, `?limit=` (default 50, at most 1,000) and `?cursor=`.
//!
//! A cursor is the sort key of the last item of the page, opaque to clients (base64url of
//! its parts). Owners page with keyset queries (`WHERE (created_at, id) < (…)`), so a walk
//! while items are added never repeats or skips one that existed when it began.

use crate::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

pub const LIMIT_DEFAULT: usize = 50;
pub const LIMIT_MAX: usize = 1000;
/// Longest cursor accepted, in characters.
const CURSOR_CHARS_MAX: usize = 512;

/// `?limit=&cursor=` as given; other query parameters are the route's filters.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// Items per page: 1 to 1000, default 50.
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A checked page request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    /// The raw cursor as given, echoed in the answer.
    pub cursor: Option<String>,
    /// The cursor's parts (the last item's sort key), if a cursor was given.
    pub after: Option<Vec<String>>,
}

impl ListParams {
    pub fn check(&self) -> Result<PageRequest, ApiError> {
        let mut problems = Vec::new();
        let limit = match self.limit.as_deref() {
            None => LIMIT_DEFAULT,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=LIMIT_MAX).contains(&n) => n,
                _ => {
                    problems.push(crate::Problem::new(
                        "limit",
                        format!("must be a whole number from 1 to {LIMIT_MAX}"),
                    ));
                    LIMIT_DEFAULT
                }
            },
        };
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(text) => match decode_cursor(text) {
                Some(parts) => Some(parts),
                None => {
                    problems.push(crate::Problem::new(
                        "cursor",
                        "is not a cursor this list gave",
                    ));
                    None
                }
            },
        };
        if !problems.is_empty() {
            return Err(ApiError::invalid(problems));
        }
        Ok(PageRequest {
            limit,
            cursor: self.cursor.clone().filter(|c| !c.is_empty()),
            after,
        })
    }
}

impl PageRequest {
    /// The `seq` a list keyed by one sequence number continues before (`None`: the first
    /// page); a cursor of another shape is `400` naming `cursor`.
    pub fn before_seq(&self) -> Result<Option<i64>, ApiError> {
        let bad = || ApiError::invalid_field("cursor", "is not a cursor this list gave");
        match self.after.as_deref() {
            None => Ok(None),
            Some([seq]) => seq.parse::<i64>().map(Some).map_err(|_| bad()),
            Some(_) => Err(bad()),
        }
    }
}

/// The opaque form of a sort key.
pub fn encode_cursor(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(parts.join("\u{1f}"))
}

fn decode_cursor(text: &str) -> Option<Vec<String>> {
    if text.len() > CURSOR_CHARS_MAX {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    let joined = String::from_utf8(bytes).ok()?;
    Some(joined.split('\u{1f}').map(str::to_owned).collect())
}

/// One page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
    pub limit: usize,
    pub cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` items fetched newest first: the extra item,
    /// if present, only tells that there is a next page.
    pub fn from_overfetch(
        mut items: Vec<T>,
        request: &PageRequest,
        key: impl Fn(&T) -> String,
    ) -> Page<T> {
        let more = items.len() > request.limit;
        items.truncate(request.limit);
        let next_cursor = if more { items.last().map(&key) } else { None };
        Page {
            data: items,
            next_cursor,
            limit: request.limit,
            cursor: request.cursor.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_cursor_reads_back_or_is_refused() {
        let page = |cursor: Option<String>| {
            ListParams {
                limit: None,
                cursor,
            }
            .check()
            .unwrap()
        };
        assert_eq!(page(None).before_seq().unwrap(), None);
        assert_eq!(
            page(Some(encode_cursor(&["42"]))).before_seq().unwrap(),
            Some(42)
        );
        for bad in [encode_cursor(&["x"]), encode_cursor(&["1", "2"])] {
            let e = page(Some(bad)).before_seq().unwrap_err();
            assert_eq!(
                (e.status.as_u16(), e.problems[0].field.as_str()),
                (400, "cursor")
            );
        }
    }

    #[test]
    fn limits_and_cursors_are_checked() {
        let ok = ListParams {
            limit: Some("2".into()),
            cursor: Some(encode_cursor(&["17", "abc"])),
        }
        .check()
        .unwrap();
        assert_eq!(ok.limit, 2);
        assert_eq!(ok.after, Some(vec!["17".to_owned(), "abc".to_owned()]));
        let bad = ListParams {
            limit: Some("0".into()),
            cursor: Some("%%%".into()),
        }
        .check()
        .unwrap_err();
        let fields: Vec<&str> = bad.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, vec!["limit", "cursor"]);
        assert!(
            ListParams {
                limit: Some("1001".into()),
                cursor: None
            }
            .check()
            .is_err()
        );
        assert_eq!(ListParams::default().check().unwrap().limit, LIMIT_DEFAULT);
    }

    #[test]
    fn pages_say_whether_more_follow() {
        let request = ListParams {
            limit: Some("2".into()),
            cursor: None,
        }
        .check()
        .unwrap();
        let page = Page::from_overfetch(vec![5, 4, 3], &request, |n| {
            encode_cursor(&[&n.to_string()])
        });
        assert_eq!(page.data, vec![5, 4]);
        assert_eq!(page.next_cursor, Some(encode_cursor(&["4"])));
        let last = Page::from_overfetch(vec![2], &request, |n| n.to_string());
        assert_eq!(last.next_cursor, None);
    }
}
