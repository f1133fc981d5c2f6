//! Pagination as streams.
//!
//! Every paginated listing is a sequence of fetches, each returning a page of items and the
//! request for the next page (a cursor, a page number) or nothing at the end. [`pages`] turns
//! a fetch function into a `Stream` of pages; [`items`] flattens it into a `Stream` of items.
//! Each fetch is a full generated call, so it gets the same retries and timeouts as any
//! other. Every stream is bounded, whatever the server says: a cursor it already gave, more
//! than [`PageLimits::max_pages`] pages, or more than [`PageLimits::max_empty_pages`] empty
//! pages in a row that still claim more, end the stream with an [`ErrorKind::Pagination`]
//! error naming the bound, instead of looping for ever.

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

/// How far a listing may go before the stream gives up on it (set per client with
/// `ClientConfig::max_pages` and `ClientConfig::max_empty_pages`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLimits {
    /// The most pages one stream fetches.
    pub max_pages: u64,
    /// The most empty pages in a row that still point to a next page.
    pub max_empty_pages: u32,
}

impl Default for PageLimits {
    /// 100,000 pages (ten million items at 100 a page, far beyond any real account) and 3
    /// empty pages in a row.
    fn default() -> Self {
        Self {
            max_pages: 100_000,
            max_empty_pages: 3,
        }
    }
}

enum State<C, F> {
    Fetch {
        at: C,
        fetch: F,
        seen: HashSet<u64>,
        fetched: u64,
        empty_in_a_row: u32,
    },
    Stop(ApiError),
    Done,
}

fn fingerprint<C: Hash>(c: &C) -> u64 {
    let mut h = DefaultHasher::new();
    c.hash(&mut h);
    h.finish()
}

/// A stream of pages, starting at `first`. `fetch` is called once per page, in order, and
/// only as the stream is polled; `limits` bound how many.
///
/// Memory stays flat in the number of pages: only an 8-byte fingerprint of each cursor is
/// kept, to detect a repeat.
pub fn pages<'a, T, C, F, Fut>(
    limits: PageLimits,
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
        fetched: 0,
        empty_in_a_row: 0,
    };
    let stop = move |message: String| {
        State::Stop(ApiError::new(ErrorKind::Pagination, message).with_operation(operation))
    };
    stream::unfold(start, move |state| async move {
        match state {
            State::Done => None,
            State::Stop(error) => Some((Err(error), State::Done)),
            State::Fetch {
                at,
                mut fetch,
                mut seen,
                fetched,
                empty_in_a_row,
            } => match fetch(at).await {
                Err(error) => Some((Err(error.with_operation(operation)), State::Done)),
                Ok(page) => {
                    let fetched = fetched + 1;
                    let empty_in_a_row = if page.items.is_empty() {
                        empty_in_a_row.saturating_add(1)
                    } else {
                        0
                    };
                    let next = match page.next {
                        None => State::Done,
                        Some(next) if !seen.insert(fingerprint(&next)) => {
                            let shown: String = format!("{next:?}").chars().take(80).collect();
                            stop(format!(
                                "the server returned the next-page cursor {shown} a second \
                                 time; stopping instead of looping"
                            ))
                        }
                        Some(_) if fetched >= limits.max_pages => stop(format!(
                            "stopped after {fetched} pages, the limit \
                             (ClientConfig::max_pages), though the server says there are more"
                        )),
                        Some(_) if empty_in_a_row > limits.max_empty_pages => stop(format!(
                            "{empty_in_a_row} empty pages in a row still claim more (the limit \
                             is {}, ClientConfig::max_empty_pages); stopping",
                            limits.max_empty_pages
                        )),
                        Some(next) => State::Fetch {
                            at: next,
                            fetch,
                            seen,
                            fetched,
                            empty_in_a_row,
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
        let got: Vec<u32> = items(pages(
            PageLimits::default(),
            "count",
            0u32,
            |at| async move {
                Ok(Page {
                    items: vec![at * 10, at * 10 + 1],
                    next: (at < 2).then_some(at + 1),
                })
            },
        ))
        .try_collect()
        .await
        .unwrap();
        assert_eq!(got, [0, 1, 10, 11, 20, 21]);
    }

    #[tokio::test]
    async fn a_repeated_cursor_ends_with_an_error() {
        let cursors = ["a", "b", "a"];
        let mut calls = 0;
        let results: Vec<Result<Vec<u8>, ApiError>> = pages(
            PageLimits::default(),
            "list_users",
            None::<String>,
            move |_| {
                let next = cursors.get(calls).map(|c| Some(c.to_string()));
                calls += 1;
                async move {
                    Ok(Page {
                        items: vec![1],
                        next,
                    })
                }
            },
        )
        .collect()
        .await;
        // Pages at None, "a", "b" succeed; the cursor "a" comes back and ends the stream.
        assert_eq!(results.len(), 4);
        assert!(results[..3].iter().all(Result::is_ok));
        let err = results[3].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Pagination);
        assert_eq!(err.operation(), Some("list_users"));
    }

    /// A server that hands out fresh cursors for ever: the page bound ends the stream.
    #[tokio::test]
    async fn the_page_limit_ends_an_endless_listing() {
        let limits = PageLimits {
            max_pages: 50,
            max_empty_pages: 3,
        };
        let results: Vec<Result<Vec<u64>, ApiError>> =
            pages(limits, "list_users", 0u64, |at| async move {
                Ok(Page {
                    items: vec![at],
                    next: Some(at + 1),
                })
            })
            .collect()
            .await;
        assert_eq!(results.len(), 51, "50 pages, then the error");
        let err = results[50].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Pagination);
        assert!(err.to_string().contains("max_pages"), "{err}");
    }

    /// Empty pages that claim more, with fresh cursors: a small bound ends the stream.
    #[tokio::test]
    async fn empty_pages_that_claim_more_end_the_stream() {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = calls.clone();
        let results: Vec<Result<Vec<u8>, ApiError>> =
            pages(PageLimits::default(), "list_users", 0u64, move |at| {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                async move {
                    Ok(Page {
                        items: if at == 0 { vec![1] } else { vec![] },
                        next: Some(at + 1),
                    })
                }
            })
            .collect()
            .await;
        // One page with an item, then 4 empty ones (the 4th is one more than the limit of 3).
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 5);
        let err = results.last().unwrap().as_ref().unwrap_err();
        assert!(err.to_string().contains("empty pages"), "{err}");
        assert_eq!(err.operation(), Some("list_users"));
    }

    #[tokio::test]
    async fn an_error_ends_the_stream_after_the_pages_before_it() {
        let results: Vec<Result<Vec<u8>, ApiError>> =
            pages(PageLimits::default(), "list", 0u8, |at| async move {
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
