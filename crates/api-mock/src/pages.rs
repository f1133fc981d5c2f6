//! Listings across pages, in each pagination style the specs declare, and a bulk operation's
//! answer: the generated `PageScenarios` and `JobScenarios` of each mock crate call these with
//! the operation's typed matcher, its path and its items field (or its job field).

use httpmock::{Mock, MockServer};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{Reply, Scenarios, TypedWhen};

/// `items` as JSON, in chunks of `per_page` (at least 1); one empty chunk when there are none.
fn chunks<T: Serialize>(items: &[T], per_page: usize) -> Vec<Vec<Value>> {
    let values: Vec<Value> = items
        .iter()
        .map(|item| serde_json::to_value(item).unwrap_or(Value::Null))
        .collect();
    if values.is_empty() {
        return vec![Vec::new()];
    }
    values
        .chunks(per_page.max(1))
        .map(<[Value]>::to_vec)
        .collect()
}

/// Answers the requests `matching` selects with `page`.
fn answer<'a, W: TypedWhen>(
    server: &'a MockServer,
    matching: impl FnOnce(httpmock::When) -> httpmock::When,
    page: Value,
) -> Mock<'a> {
    server.script(
        |when: W| W::from_when(matching(when.into_when())),
        [Reply::json(200, &page)],
    )
}

/// Pages chained by cursors `cursor-1`, `cursor-2` …: the first to a request without the
/// query parameter `param`, each next one to `param` = the cursor before it. `envelope(i,
/// last)` is page `i`'s JSON without its items, which go to `field`.
fn chained<'a, T: Serialize, W: TypedWhen>(
    server: &'a MockServer,
    items: &[T],
    per_page: usize,
    field: &str,
    param: &str,
    envelope: impl Fn(usize, usize) -> Value,
) -> Vec<Mock<'a>> {
    let pages = chunks(items, per_page);
    let last = pages.len() - 1;
    pages
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut page = envelope(i, last);
            page[field] = Value::Array(chunk);
            let cursor = (i > 0).then(|| format!("cursor-{i}"));
            answer::<W>(
                server,
                |when| match cursor {
                    Some(cursor) => when.query_param(param, cursor),
                    None => when.query_param_missing(param),
                },
                page,
            )
        })
        .collect()
}

/// Answers every request `W` matches with `status` and `{field: value}`: a bulk operation's
/// answer, the job it started.
pub fn answer_field<'a, W: TypedWhen, T: Serialize + ?Sized>(
    server: &'a MockServer,
    status: u16,
    field: &str,
    value: &T,
) -> Mock<'a> {
    let mut body = json!({});
    body[field] = serde_json::to_value(value).unwrap_or(Value::Null);
    server.script(|when: W| when, [Reply::json(status, &body)])
}

/// Cursor pages (`meta.has_more`, `meta.after_cursor` = `cursor-1`, `cursor-2` …, and
/// `links.next`): the first page to a request without `page[after]`, each next one to its
/// cursor.
pub fn cursor_pages<'a, T: Serialize, W: TypedWhen>(
    server: &'a MockServer,
    items: &[T],
    per_page: usize,
    field: &str,
    path: &str,
) -> Vec<Mock<'a>> {
    chained::<T, W>(server, items, per_page, field, "page[after]", |i, last| {
        let after = (i < last).then(|| format!("cursor-{}", i + 1));
        json!({
            "meta": {
                "has_more": i < last,
                "after_cursor": after,
                "before_cursor": (i > 0).then(|| format!("cursor-{i}-before")),
            },
            "links": {
                "next": after.map(|c| format!("{}{path}?page[after]={c}", server.base_url())),
                "prev": null,
            },
        })
    })
}

/// Offset pages (`next_page` and `previous_page` are page URLs, `count` the total): the first
/// page to a request without `page`, page `n` to `page=n`.
pub fn offset_pages<'a, T: Serialize, W: TypedWhen>(
    server: &'a MockServer,
    items: &[T],
    per_page: usize,
    field: &str,
    path: &str,
) -> Vec<Mock<'a>> {
    let count = items.len();
    let pages = chunks(items, per_page);
    let last = pages.len() - 1;
    let url = |n: usize| format!("{}{path}?page={n}", server.base_url());
    pages
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let number = i + 1;
            let mut page = json!({
                "count": count,
                "next_page": (i < last).then(|| url(number + 1)),
                "previous_page": (i > 0).then(|| url(number - 1)),
            });
            page[field] = Value::Array(chunk);
            answer::<W>(
                server,
                |when| {
                    let when = when.query_param_missing("page[after]");
                    if number == 1 {
                        when.query_param_missing("page")
                    } else {
                        when.query_param("page", number.to_string())
                    }
                },
                page,
            )
        })
        .collect()
}

/// Page-number pages with a `total`: page `n` to `page=n`, from 1; a page after the last is
/// empty.
pub fn pages<'a, T: Serialize, W: TypedWhen>(
    server: &'a MockServer,
    items: &[T],
    per_page: usize,
    field: &str,
    _path: &str,
) -> Vec<Mock<'a>> {
    let total = items.len();
    let mut pages = chunks(items, per_page);
    if total > 0 {
        pages.push(Vec::new());
    }
    pages
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut page = json!({ "total": total });
            page[field] = Value::Array(chunk);
            answer::<W>(
                server,
                |when| when.query_param("page", (i + 1).to_string()),
                page,
            )
        })
        .collect()
}

/// Export pages (`after_cursor` = `cursor-1`, `cursor-2` …, `end_of_stream` on the last): the
/// first page to a request without `cursor`, each next one to its cursor.
pub fn export_pages<'a, T: Serialize, W: TypedWhen>(
    server: &'a MockServer,
    items: &[T],
    per_page: usize,
    field: &str,
    _path: &str,
) -> Vec<Mock<'a>> {
    chained::<T, W>(server, items, per_page, field, "cursor", |i, last| {
        json!({
            "after_cursor": format!("cursor-{}", i + 1),
            "before_cursor": (i > 0).then(|| format!("cursor-{i}")),
            "end_of_stream": i == last,
        })
    })
}
