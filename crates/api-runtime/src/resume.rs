//! Where a paginated listing stopped, as a token to take back later.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The most characters a position's text may have (a Zendesk cursor is well under 200).
const MAX_CHARS: usize = 2048;

/// Where a paginated listing goes on: right after the last page it fully delivered.
///
/// A listing that fails part-way (a network cut, a deploy, a 5xx after the retries) ends
/// with an error whose [`ApiError::resume_position`](crate::ApiError::resume_position) is
/// this position. The same request, built again with the same parameters, takes it back
/// with `.resume_from(position)` and goes on from the next page, so that every item is
/// delivered once (`client.list_users().page_size(100).resume_from(position).stream()` in
/// `zendesk-api`, say).
///
/// Its text form (`Display`, `FromStr`, and serde as a string) is one printable token, safe
/// in a shell and a URL: the operation, the style and the place, such as
/// `list_users:cursor:eyJvIjoxMDB9` or `list_users:page:501:50000`. It holds no credential
/// and no parameter of the request, only where the server's listing stands. Parsing refuses
/// a malformed token with an [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest)
/// error naming what is wrong, and a listing refuses, the same way and before any request,
/// a position of another operation or of a style it does not follow.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResumePosition {
    operation: Box<str>,
    at: At,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum At {
    /// The server's cursor for the next page.
    Cursor(Box<str>),
    /// The next page's number, and how many items came before it when the listing counts
    /// them (to know where the total is reached).
    Page { page: u64, before: Option<u64> },
}

impl ResumePosition {
    /// The position before the page that `cursor` starts. Used by the client crates.
    #[doc(hidden)]
    pub fn cursor(operation: &str, cursor: &str) -> Self {
        Self {
            operation: operation.into(),
            at: At::Cursor(cursor.into()),
        }
    }

    /// The position before page `page` (1-based), `before` items having come before it
    /// when the listing counts them. Used by the client crates.
    #[doc(hidden)]
    pub fn page(operation: &str, page: u64, before: Option<u64>) -> Self {
        Self {
            operation: operation.into(),
            at: At::Page { page, before },
        }
    }

    /// The operation whose listing this position belongs to (`list_users`).
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The server's cursor for the next page, for a listing that follows cursors.
    pub fn next_cursor(&self) -> Option<&str> {
        match &self.at {
            At::Cursor(cursor) => Some(cursor),
            At::Page { .. } => None,
        }
    }

    /// The number of the next page (1-based), for a listing that follows page numbers.
    pub fn next_page(&self) -> Option<u64> {
        match &self.at {
            At::Page { page, .. } => Some(*page),
            At::Cursor(_) => None,
        }
    }

    /// How many items came before the next page, for a listing that counts them against a
    /// total.
    pub fn items_before(&self) -> Option<u64> {
        match &self.at {
            At::Page { before, .. } => *before,
            At::Cursor(_) => None,
        }
    }

    /// Reads a position from its text form; the reason when it is not one.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("it is empty".into());
        }
        if text.chars().count() > MAX_CHARS {
            return Err(format!("it is longer than {MAX_CHARS} characters"));
        }
        if let Some(bad) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-')))
        {
            return Err(format!("it contains {bad:?}, which no position has"));
        }
        let mut parts = text.split(':');
        let (operation, style) = match (parts.next(), parts.next()) {
            (Some(operation), Some(style)) if !operation.is_empty() => (operation, style),
            _ => {
                return Err(
                    "it is not `OPERATION:cursor:CURSOR` or `OPERATION:page:NUMBER`".into(),
                );
            }
        };
        if !operation
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(format!("`{operation}` is not an operation name"));
        }
        let rest: Vec<&str> = parts.collect();
        let number = |what: &str, text: &str| {
            text.parse::<u64>()
                .map_err(|_| format!("its {what} `{text}` is not a whole number"))
        };
        let at = match (style, rest.as_slice()) {
            ("cursor", [encoded]) => {
                let bytes = URL_SAFE_NO_PAD
                    .decode(encoded)
                    .map_err(|_| "its cursor is not base64url".to_string())?;
                let cursor = String::from_utf8(bytes)
                    .map_err(|_| "its cursor is not UTF-8 text".to_string())?;
                if cursor.is_empty() || cursor.chars().any(char::is_control) {
                    return Err("its cursor is empty or holds control characters".into());
                }
                At::Cursor(cursor.into())
            }
            ("page", [page]) | ("page", [page, _]) => {
                let page = number("page number", page)?;
                if page < 1 {
                    return Err("its page number is 0; pages start at 1".into());
                }
                let before = match rest.get(1) {
                    Some(before) => Some(number("item count", before)?),
                    None => None,
                };
                At::Page { page, before }
            }
            ("cursor", _) => return Err("a cursor position has one cursor after `cursor:`".into()),
            ("page", _) => {
                return Err("a page position is `page:NUMBER` or `page:NUMBER:COUNT`".into());
            }
            (other, _) => {
                return Err(format!(
                    "its style `{other}` is neither `cursor` nor `page`"
                ));
            }
        };
        Ok(Self {
            operation: operation.into(),
            at,
        })
    }
}

impl fmt::Display for ResumePosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            At::Cursor(cursor) => write!(
                f,
                "{}:cursor:{}",
                self.operation,
                URL_SAFE_NO_PAD.encode(cursor.as_bytes())
            ),
            At::Page { page, before: None } => write!(f, "{}:page:{page}", self.operation),
            At::Page {
                page,
                before: Some(before),
            } => write!(f, "{}:page:{page}:{before}", self.operation),
        }
    }
}

impl fmt::Debug for ResumePosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResumePosition({self})")
    }
}

impl serde::Serialize for ResumePosition {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ResumePosition {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text)
            .map_err(|reason| serde::de::Error::custom(format!("not a resume position: {reason}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_position_reads_back_as_itself() {
        for position in [
            ResumePosition::cursor("list_users", "eyJvIjoxfQ==+/ odd"),
            ResumePosition::page("search_users", 501, None),
            ResumePosition::page("list_users", 3, Some(200)),
        ] {
            let text = position.to_string();
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-')),
                "{text}"
            );
            assert_eq!(ResumePosition::parse(&text).unwrap(), position);
            let json = serde_json::to_string(&position).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(
                serde_json::from_str::<ResumePosition>(&json).unwrap(),
                position
            );
        }
        let cursor = ResumePosition::cursor("list_users", "abc");
        assert_eq!(cursor.next_cursor(), Some("abc"));
        assert_eq!(cursor.next_page(), None);
        let page = ResumePosition::page("list_users", 3, Some(200));
        assert_eq!(
            (page.next_page(), page.items_before()),
            (Some(3), Some(200))
        );
        assert_eq!(page.operation(), "list_users");
    }

    #[test]
    fn a_malformed_position_says_what_is_wrong() {
        for (text, reason) in [
            ("", "empty"),
            ("list_users", "OPERATION:cursor"),
            ("list_users:page:0", "start at 1"),
            ("list_users:page:x", "not a whole number"),
            ("list_users:page:1:2:3", "page:NUMBER:COUNT"),
            ("list_users:cursor:", "empty"),
            ("list_users:cursor:%%", "contains"),
            ("list_users:cursor:a", "base64url"),
            ("list_users:cursor:_w", "UTF-8"),
            ("list_users:offset:3", "neither"),
            ("List-Users:page:3", "operation name"),
            ("list users:page:3", "contains"),
        ] {
            let err = ResumePosition::parse(text).unwrap_err();
            assert!(err.contains(reason), "{text:?}: {err}");
        }
        let long = format!("list_users:cursor:{}", "a".repeat(MAX_CHARS));
        assert!(ResumePosition::parse(&long).unwrap_err().contains("longer"));
        assert!(serde_json::from_str::<ResumePosition>("\"list_users\"").is_err());
    }
}
