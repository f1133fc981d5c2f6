//! Pagination as streams.
//!
//! Every paginated listing is a sequence of fetches, each returning a page of items and the
//! request for the next page (a cursor, a page number) or nothing at the end. [`pages`] turns
//! a fetch function into a `Stream` of pages; [`items`] flattens it into a `Stream` of items.
//! Each fetch is a full generated call, so it gets the same retries and timeouts as any
//! other. A server that hands back a cursor it already gave ends the stream with an
//! [`ErrorKind::Pagination`] error instead of looping for ever.

use std::collections::HashSet;
use std::fmt::Debug;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use crate::error::{ApiError, ErrorKind};

/// One fetched page: its items and where the next page starts (`None` at the end).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, C> {
    /// The items of this page, in the server's order.
    pub items: Vec<T>,
    /// The request for the next page, or `None` if this was the last.
    pub next: Option<C>,
}

enum State<C, F> {
    Fetch { at: C, fetch: F, seen: HashSet<u64> },
    Repeated { at: C },
    Done,
}

fn fingerprint<C: Hash>(c: &C) -> u64 {
    let mut h = DefaultHasher::new();
    c.hash(&mut h);
    h.finish()
}

/// A stream of pages, starting at `first`. `fetch` is called once per page, in order, and
/// only as the stream is polled.
///
/// Memory stays flat in the number of pages: only an 8-byte fingerprint of each cursor is
/// kept, to detect a repeat.
pub fn pages<'a, T, C, F, Fut>(
    operation: &'static str,
    first: C,
    fetch: F,
) -> BoxStream<'a, Result<Vec<T>, ApiError>>
where
    T: Send + 'a,
    C: Clone + Hash + Debug + Send + 'a,
    F: FnMut(C) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Page<T, C>, ApiError>> + Send + 'a,
{
    let mut seen = HashSet::new();
    seen.insert(fingerprint(&first));
    let start = State::Fetch {
        at: first,
        fetch,
        seen,
    };
    stream::unfold(start, move |state| async move {
        match state {
            State::Done => None,
            State::Repeated { at } => {
                let shown: String = format!("{at:?}").chars().take(80).collect();
                let error = ApiError::new(
                    ErrorKind::Pagination,
                    format!(
                        "the server returned the next-page cursor {shown} a second time; \
                         stopping instead of looping"
                    ),
                )
                .with_operation(operation);
                Some((Err(error), State::Done))
            }
            State::Fetch {
                at,
                mut fetch,
                mut seen,
            } => match fetch(at).await {
                Err(error) => Some((Err(error.with_operation(operation)), State::Done)),
                Ok(page) => {
                    let next = match page.next {
                        None => State::Done,
                        Some(next) if !seen.insert(fingerprint(&next)) => {
                            State::Repeated { at: next }
                        }
                        Some(next) => State::Fetch {
                            at: next,
                            fetch,
                            seen,
                        },
                    };
                    Some((Ok(page.items), next))
                }
            },
        }
    })
    .boxed()
}

/// Flattens a stream of pages into a stream of items; an error ends it.
pub fn items<'a, T: Send + 'a>(
    pages: BoxStream<'a, Result<Vec<T>, ApiError>>,
) -> BoxStream<'a, Result<T, ApiError>> {
    pages
        .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn walks_every_page_in_order() {
        let got: Vec<u32> = items(pages("count", 0u32, |at| async move {
            Ok(Page {
                items: vec![at * 10, at * 10 + 1],
                next: (at < 2).then_some(at + 1),
            })
        }))
        .try_collect()
        .await
        .unwrap();
        assert_eq!(got, [0, 1, 10, 11, 20, 21]);
    }

    #[tokio::test]
    async fn a_repeated_cursor_ends_with_an_error() {
        let cursors = ["a", "b", "a"];
        let mut calls = 0;
        let results: Vec<Result<Vec<u8>, ApiError>> =
            pages("list_users", None::<String>, move |_| {
                let next = cursors.get(calls).map(|c| Some(c.to_string()));
                calls += 1;
                async move {
                    Ok(Page {
                        items: vec![1],
                        next,
                    })
                }
            })
            .collect()
            .await;
        // Pages at None, "a", "b" succeed; the cursor "a" comes back and ends the stream.
        assert_eq!(results.len(), 4);
        assert!(results[..3].iter().all(Result::is_ok));
        let err = results[3].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Pagination);
        assert_eq!(err.operation(), Some("list_users"));
    }

    #[tokio::test]
    async fn an_error_ends_the_stream_after_the_pages_before_it() {
        let results: Vec<Result<Vec<u8>, ApiError>> = pages("list", 0u8, |at| async move {
            if at == 1 {
                Err(ApiError::new(ErrorKind::Timeout, "slow"))
            } else {
                Ok(Page {
                    items: vec![at],
                    next: Some(at + 1),
                })
            }
        })
        .collect()
        .await;
        assert_eq!(results.len(), 2);
        assert_eq!(results[1].as_ref().unwrap_err().operation(), Some("list"));
    }
}
