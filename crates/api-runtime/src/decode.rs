//! Decoding success bodies, and saying where a body does not match its model.
//!
//! The fast path is one `serde_json::from_slice`: a body that decodes pays nothing for error
//! reporting. Only when it fails is the body decoded a second time with
//! `serde_path_to_error`, which tracks where the deserializer is; that second run fails at
//! the same place (same bytes, same type) and yields the JSON path (`rows[8].company.id`).
//! Tracking the path on every decode would cost every call a little so that the rare failing
//! one is cheaper; decoding twice costs only the failing call, once.
//!
//! A listing page whose envelope decodes but some of whose items do not is split by
//! [`split_listing`]: the envelope is decoded with its items left out, each item on its own,
//! and each item the model refuses becomes an [`ApiError`] of its own (kind `Decode`, its
//! index, its JSON path, its raw JSON as the error's body).
//!
//! A caller that shows the server's answer rather than the model's view (the CLI) runs a call
//! within [`keeping_last_body`] and reads the body as received with [`last_body`].

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::decode_error::DecodeError;
use crate::error::{ApiError, ErrorKind};

/// How many bytes of the document appear before the failure position in an excerpt.
const EXCERPT_BEFORE: usize = 60;
/// How many bytes of the document appear from the failure position on in an excerpt.
const EXCERPT_AFTER: usize = 40;

/// Decodes `body` as `T`: the fast path, then, on failure, the path-tracking run.
#[inline(always)]
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    match serde_json::from_slice(body) {
        Ok(value) => Ok(value),
        Err(fast) => Err(locate::<T>(body, fast)),
    }
}

/// Decodes `body` again, tracking the path, to say where the fast path failed.
fn locate<T: DeserializeOwned>(body: &[u8], fast: serde_json::Error) -> DecodeError {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let tracked: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let (path, error) = match tracked {
        Err(tracked) => {
            let path = tracked.path().to_string();
            let error = tracked.into_inner();
            (precise_path(path, &error), error)
        }
        // The value decoded: what failed is what follows it (trailing characters). The same
        // bytes and type cannot otherwise succeed here; should they, the first error is
        // still reported, at the top level.
        Ok(_) => (".".to_string(), deserializer.end().err().unwrap_or(fast)),
    };
    let excerpt = excerpt(body, error.line(), error.column());
    DecodeError {
        path,
        item: None,
        excerpt,
        error,
    }
}

/// The path serde_path_to_error gives, made to name the failing field: a missing field is
/// reported at its object (`company`), so its name is added (`company.id`); a position it
/// cannot name (`rows[0].?`, inside an object cut short) is left out.
fn precise_path(mut path: String, error: &serde_json::Error) -> String {
    while let Some(rest) = path.strip_suffix(".?").or_else(|| path.strip_suffix('?')) {
        path = rest.to_string();
    }
    let message = error.to_string();
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field)
    {
        path = match path.as_str() {
            "" | "." => field.to_string(),
            parent => format!("{parent}.{field}"),
        };
    }
    if path.is_empty() {
        ".".to_string()
    } else {
        path
    }
}

/// The document around byte `column` of line `line` (both 1-based, as serde_json counts
/// them), cut at character boundaries, `…` where cut; empty when there is no position.
fn excerpt(body: &[u8], line: usize, column: usize) -> String {
    if line == 0 {
        return String::new();
    }
    let line_start = if line == 1 {
        0
    } else {
        let mut seen = 1;
        let mut start = body.len();
        for (i, b) in body.iter().enumerate() {
            if *b == b'\n' {
                seen += 1;
                if seen == line {
                    start = i + 1;
                    break;
                }
            }
        }
        start
    };
    let at = line_start.saturating_add(column).min(body.len());
    let text = String::from_utf8_lossy(body);
    // `from_utf8_lossy` may change lengths only where the bytes are not UTF-8; clamp and
    // move to character boundaries so that slicing never fails.
    let at = at.min(text.len());
    let mut start = at.saturating_sub(EXCERPT_BEFORE);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = at.saturating_add(EXCERPT_AFTER).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&text[start..end]);
    if end < text.len() {
        out.push('…');
    }
    out
}

/// The `Decode` error of a success body that does not decode as the operation's type.
pub(crate) fn body_error(error: DecodeError) -> ApiError {
    ApiError::new(ErrorKind::Decode, error.describe("the response body")).with_source(error)
}

/// Decodes a success body as `T`, or says where it does not match (`Decode`). Within
/// [`keeping_last_body`], a body that decodes is also kept, as received.
#[inline(always)]
pub(crate) fn success<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let value = decode(body).map_err(body_error)?;
    // Outside a scope there is nothing to keep; inside, the body is shared, not copied.
    let _ = LAST_BODY.try_with(|last| {
        *last.borrow_mut() = Some(KeptBody {
            model: std::any::type_name::<T>(),
            body: body.clone(),
        });
    });
    Ok(value)
}

/// The last success body decoded in a [`keeping_last_body`] scope, and the model it was
/// decoded as.
struct KeptBody {
    model: &'static str,
    body: Bytes,
}

tokio::task_local! {
    static LAST_BODY: std::cell::RefCell<Option<KeptBody>>;
}

/// Runs `call` keeping the last success body decoded within it, exactly as received, for
/// [`last_body`]: what a caller that shows the server's answer (the CLI) prints instead of the
/// model re-encoded. Only the last body is kept (each replaces the one before), so a stream
/// of pages run within it holds one page at a time. Not part of the public API.
#[doc(hidden)]
pub async fn keeping_last_body<F: std::future::Future>(call: F) -> F::Output {
    LAST_BODY.scope(std::cell::RefCell::new(None), call).await
}

/// Within [`keeping_last_body`], the body of the last success decoded there, if it was
/// decoded as `T` (the `T` of the `ResponseValue<T>` in hand): exactly the bytes the server
/// sent. `None` outside such a scope, before any success, or when the last body was decoded as
/// another type (a token endpoint's answer on the way, say). Not part of the public API.
#[doc(hidden)]
pub fn last_body<T>() -> Option<Bytes> {
    LAST_BODY
        .try_with(|last| {
            last.borrow()
                .as_ref()
                .filter(|kept| kept.model == std::any::type_name::<T>())
                .map(|kept| kept.body.clone())
        })
        .ok()
        .flatten()
}

/// A listing page that decoded with its items taken apart: the envelope (its items left
/// empty) and each item in order, decoded or refused.
#[doc(hidden)]
pub struct SplitPage<P, I> {
    /// The page with an empty item list (`[]`, or `null` where the server sent `null`).
    pub envelope: P,
    /// Every item, in order: decoded, or the item's own `Decode` error.
    pub items: Vec<Result<I, ApiError>>,
}

/// Takes apart the body of a listing page that failed to decode (`page_error`, a `Decode`
/// error from the page's call): the envelope is decoded as `P` with the list at `items_at`
/// (a path of object keys: `["rows"]`, `["job_status", "results"]`) left empty, then each
/// item as `I`. An item the model refuses becomes an error of its own: kind `Decode`, the
/// page's operation, status, headers and attempts, [`ApiError::item_index`] its index,
/// [`ApiError::json_path`] its path from the document's root, and the item's raw JSON as
/// [`ApiError::body`].
///
/// `Err(page_error)` unchanged when the failure is not in the items (the envelope does not
/// decode, the list is not a list, the body is not JSON) or `page_error` is not a `Decode`
/// error: then the page as a whole is what failed. Not part of the public API.
#[doc(hidden)]
pub fn split_listing<P: DeserializeOwned, I: DeserializeOwned>(
    page_error: ApiError,
    items_at: &[&str],
) -> Result<SplitPage<P, I>, ApiError> {
    if page_error.kind() != ErrorKind::Decode || items_at.is_empty() {
        return Err(page_error);
    }
    let Some(raw_items) = raw_list(page_error.body(), items_at) else {
        return Err(page_error);
    };
    let Ok(mut document) = serde_json::from_slice::<serde_json::Value>(page_error.body()) else {
        return Err(page_error);
    };
    let mut slot = &mut document;
    for key in items_at {
        match slot.get_mut(*key) {
            Some(next) => slot = next,
            None => return Err(page_error),
        }
    }
    if !slot.is_null() {
        *slot = serde_json::Value::Array(Vec::new());
    }
    let Ok(envelope) = serde_json::from_value::<P>(document) else {
        return Err(page_error);
    };
    let prefix = items_at.join(".");
    let items = raw_items
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            decode::<I>(raw.get().as_bytes())
                .map_err(|error| item_error(&page_error, &prefix, index, raw.get(), error))
        })
        .collect();
    Ok(SplitPage { envelope, items })
}

/// The raw items of the list at `items_at`, each exactly as received (`null`: none); `None`
/// when the body has no list there.
fn raw_list(body: &[u8], items_at: &[&str]) -> Option<Vec<Box<RawValue>>> {
    let (last, parents) = items_at.split_last()?;
    let mut current: Box<RawValue> = serde_json::from_slice(body).ok()?;
    for key in parents {
        current = field(&current, key)?;
    }
    let list = field(&current, last)?;
    let items: Option<Vec<Box<RawValue>>> = serde_json::from_str(list.get()).ok()?;
    Some(items.unwrap_or_default())
}

/// The member `key` of the JSON object `object`, as received.
fn field(object: &RawValue, key: &str) -> Option<Box<RawValue>> {
    let mut fields: std::collections::HashMap<String, Box<RawValue>> =
        serde_json::from_str(object.get()).ok()?;
    fields.remove(key)
}

/// The error of one listing item: the page's context, the item's path, index and JSON.
fn item_error(
    page: &ApiError,
    prefix: &str,
    index: usize,
    raw: &str,
    mut error: DecodeError,
) -> ApiError {
    error.path = match error.path.as_str() {
        "." => format!("{prefix}[{index}]"),
        inner => format!("{prefix}[{index}].{inner}"),
    };
    error.item = Some(index);
    let message = error.describe(&format!("item {index} of the listing"));
    let mut item = ApiError::new(ErrorKind::Decode, message)
        .with_body(Bytes::copy_from_slice(raw.as_bytes()))
        .with_source(error);
    if page.status().is_some() {
        item = item.with_response_of(page);
    }
    if let Some(operation) = page.operation() {
        item = item.with_operation(operation);
    }
    if let Some(attempts) = page.attempts() {
        item = item.with_attempts(attempts);
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`super::success`] of a body given as bytes.
    fn success<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
        super::success(&Bytes::copy_from_slice(body))
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Company {
        id: String,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct User {
        id: u32,
        company: Option<Company>,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Page {
        rows: Option<Vec<User>>,
        total: i64,
    }

    fn page_error(body: &str) -> ApiError {
        success::<Page>(body.as_bytes())
            .expect_err("must not decode")
            .with_operation("list_users")
            .with_attempts(2)
            .with_body(Bytes::copy_from_slice(body.as_bytes()))
    }

    #[test]
    fn the_path_names_the_failing_field_and_the_excerpt_shows_it() {
        let filler = "x".repeat(300);
        let body = format!(
            r#"{{"total": 2, "note": "{filler}", "rows": [{{"id": 1}}, {{"id": 2, "company": {{"name": "Acme"}}}}]}}"#
        );
        let error = success::<Page>(body.as_bytes()).expect_err("company has no id");
        assert_eq!(error.kind(), ErrorKind::Decode);
        assert_eq!(error.json_path(), Some("rows[1].company.id"));
        let message = error.message();
        assert!(message.contains("missing field `id`"), "{message}");
        assert!(
            message.contains(r#""company": {"name": "Acme"}"#),
            "{message}"
        );
        assert!(
            !message.contains(&filler),
            "the excerpt is short: {message}"
        );
    }

    #[test]
    fn a_cut_body_and_a_body_that_is_not_json_fail_at_the_top() {
        let cut = success::<Page>(br#"{"total": 1, "rows": [{"id": 1"#).expect_err("cut");
        assert_eq!(cut.json_path(), Some("rows[0]"));
        assert!(cut.message().contains("EOF"), "{}", cut.message());
        let html = success::<Page>(b"<html>502</html>").expect_err("html");
        assert_eq!(html.json_path(), Some("."));
        let empty = success::<Page>(b"").expect_err("empty");
        assert_eq!(empty.json_path(), Some("."));
    }

    #[test]
    fn excerpts_cut_at_character_boundaries_on_any_line() {
        let body = "{\n\"a\": \"ééééééééééééééééééééééééééééééééééééééééééééééééé\",\n\"b\": x}";
        let error = success::<serde_json::Value>(body.as_bytes()).expect_err("x");
        assert!(error.message().contains("\"b\": x"), "{}", error.message());
        for line in 0..5 {
            for column in 0..200 {
                let _ = excerpt(body.as_bytes(), line, column);
            }
        }
        assert_eq!(excerpt(b"", 1, 5), "");
        assert_eq!(excerpt(b"\xff\xfe{", 1, 2), "\u{fffd}\u{fffd}{");
    }

    #[tokio::test]
    async fn a_scope_keeps_the_last_body_as_received_for_its_model() {
        let body = br#"{"total": 1, "rows": [{"id": 7, "company": null, "tenantID": "t"}]}"#;
        assert!(success::<Page>(body).is_ok());
        assert_eq!(last_body::<Page>(), None, "outside a scope nothing is kept");
        keeping_last_body(async {
            assert_eq!(last_body::<Page>(), None, "nothing decoded yet");
            let page = success::<Page>(body).expect("decodes");
            assert_eq!(page.total, 1);
            assert_eq!(last_body::<Page>().as_deref(), Some(&body[..]));
            assert_eq!(last_body::<User>(), None, "decoded as another model");
            // A body that does not decode is not kept: the last good one stays.
            assert!(success::<Page>(br#"{"total": "x"}"#).is_err());
            assert_eq!(last_body::<Page>().as_deref(), Some(&body[..]));
            // The next success replaces it.
            let user = br#"{"id": 8}"#;
            assert!(success::<User>(user).is_ok());
            assert_eq!(last_body::<User>().as_deref(), Some(&user[..]));
            assert_eq!(last_body::<Page>(), None);
        })
        .await;
        assert_eq!(last_body::<User>(), None, "the scope has ended");
    }

    #[test]
    fn a_page_is_split_into_its_good_items_and_its_odd_ones() {
        let body = r#"{"rows": [{"id": 1}, {"id": "two"}, {"id": 3, "company": {}}, {"id": 4}], "total": 9}"#;
        let split = split_listing::<Page, User>(page_error(body), &["rows"]).expect("envelope");
        assert_eq!(split.envelope.total, 9);
        assert_eq!(split.envelope.rows, Some(vec![]));
        let ids: Vec<Option<u32>> = split
            .items
            .iter()
            .map(|i| i.as_ref().ok().map(|u| u.id))
            .collect();
        assert_eq!(ids, [Some(1), None, None, Some(4)]);
        let second = split.items[1].as_ref().expect_err("odd");
        assert_eq!(second.kind(), ErrorKind::Decode);
        assert_eq!(second.item_index(), Some(1));
        assert_eq!(second.json_path(), Some("rows[1].id"));
        assert_eq!(second.body(), br#"{"id": "two"}"#);
        assert_eq!(second.operation(), Some("list_users"));
        assert_eq!(second.attempts(), Some(2));
        let third = split.items[2].as_ref().expect_err("odd");
        assert_eq!(third.json_path(), Some("rows[2].company.id"));
        assert!(
            third.to_string().contains("item 2 of the listing"),
            "{third}"
        );
    }

    #[test]
    fn a_failing_envelope_or_a_missing_list_fails_the_page() {
        for body in [
            r#"{"rows": [{"id": "one"}], "total": "many"}"#,
            r#"{"rows": "none", "total": 1}"#,
            r#"{"total": "x"}"#,
            "not json",
        ] {
            let error = split_listing::<Page, User>(page_error(body), &["rows"])
                .err()
                .unwrap_or_else(|| panic!("{body}: the page fails"));
            assert_eq!(error.item_index(), None, "{body}");
        }
        let nested = r#"{"job": {"rows": [{"id": 1}, {"id": -1}], "total": 2}}"#;
        #[derive(Debug, serde::Deserialize)]
        struct Job {
            job: Page,
        }
        let error = success::<Job>(nested.as_bytes())
            .expect_err("odd")
            .with_body(Bytes::from_static(nested.as_bytes()));
        let split = split_listing::<Job, User>(error, &["job", "rows"]).expect("envelope");
        assert_eq!(split.envelope.job.total, 2);
        let odd = split.items[1].as_ref().expect_err("-1");
        assert_eq!(odd.json_path(), Some("job.rows[1].id"));
    }
}
