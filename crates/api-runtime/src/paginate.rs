//! Pagination as streams.
//!
//! Every paginated listing is a sequence of fetches, each returning a page of items and the
//! request for the next page (a cursor, a page number) or nothing at the end. [`pages`] turns
//! a fetch function into a `Stream` of pages; [`items`] flattens it into a `Stream` of items.
//! Each fetch is a full generated call, so it gets the same retries and timeouts as any
//! other. Every stream is bounded, whatever the server says: cursors that come round in a
//! loop, more than [`PageLimits::max_pages`] pages, or more than [`PageLimits::max_empty_pages`] empty
//! pages in a row that still claim more, end the stream with an [`ErrorKind::Pagination`]
//! error naming the bound, instead of looping for ever.

use std::fmt::Debug;
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use crate::error::{ApiError, ErrorKind};
use crate::resume::ResumePosition;

pub mod page_number;

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
        seen: Repeats,
        fetched: u64,
        empty_in_a_row: u32,
    },
    Stop(ApiError),
    Done,
}

/// Finds a loop in the sequence of cursors in constant memory (Brent's cycle detection):
/// one fingerprint is kept, replaced after 1, 2, 4, 8… steps, and a cursor equal to it
/// closes a loop. A loop that starts after `m` pages and is `n` pages long is caught within
/// about `2 × (m + n)` pages, long before [`PageLimits::max_pages`].
#[derive(Debug, Clone, Copy)]
struct Repeats {
    kept: u64,
    /// Steps between replacements of `kept` (a power of two).
    period: u64,
    steps: u64,
}

impl Repeats {
    fn new(first: u64) -> Self {
        Self {
            kept: first,
            period: 1,
            steps: 0,
        }
    }

    /// Whether the cursor `next` comes round again.
    fn again(&mut self, next: u64) -> bool {
        if next == self.kept {
            return true;
        }
        self.steps += 1;
        if self.steps == self.period {
            self.kept = next;
            self.period = self.period.saturating_mul(2);
            self.steps = 0;
        }
        false
    }
}

fn fingerprint<C: Hash>(c: &C) -> u64 {
    let mut h = DefaultHasher::new();
    c.hash(&mut h);
    h.finish()
}

/// A stream of pages, starting at `first`. `fetch` is called once per page, in order, and
/// only as the stream is polled; `limits` bound how many.
///
/// Memory stays flat in the number of pages: a loop in the cursors is found with one kept
/// fingerprint (Brent's cycle detection), within about twice the pages it took to close.
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
    resumable_pages(limits, operation, Ok(first), |_: &C| None, fetch)
}

/// [`pages`], whose error that ends the stream carries where it goes on
/// ([`ApiError::resume_position`]): `position` of the page it could not fetch (`None` for a
/// start that is not worth a position, such as the request as first built). A `first` that
/// is an error (a resume position refused) is the stream's one item, before any request.
pub fn resumable_pages<'a, T, C, P, F, Fut>(
    limits: PageLimits,
    operation: &'static str,
    first: Result<C, ApiError>,
    position: P,
    fetch: F,
) -> BoxStream<'a, Result<Vec<T>, ApiError>>
where
    T: Send + 'a,
    C: Clone + Hash + Debug + Send + 'a,
    P: Fn(&C) -> Option<ResumePosition> + Clone + Send + 'a,
    F: FnMut(C) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Page<T, C>, ApiError>> + Send + 'a,
{
    let first = match first {
        Ok(first) => first,
        Err(error) => return stream::once(async move { Err(error) }).boxed(),
    };
    let seen = Repeats::new(fingerprint(&first));
    let start = State::Fetch {
        at: first,
        fetch,
        seen,
        fetched: 0,
        empty_in_a_row: 0,
    };
    // A bound ends a listing that could go on (from `next`); a repeated cursor, one that
    // cannot.
    let stop = move |message: String, next: Option<ResumePosition>| {
        let error = ApiError::new(ErrorKind::Pagination, message).with_operation(operation);
        State::Stop(match next {
            Some(next) => error.with_resume_position(next),
            None => error,
        })
    };
    stream::unfold(start, move |state| {
        let position = position.clone();
        async move {
            match state {
                State::Done => None,
                State::Stop(error) => Some((Err(error), State::Done)),
                State::Fetch {
                    at,
                    mut fetch,
                    mut seen,
                    fetched,
                    empty_in_a_row,
                } => {
                    let here = position(&at);
                    match fetch(at).await {
                        Err(error) => {
                            let error = error.with_operation(operation);
                            // A request refused before any I/O (a position taken back that
                            // does not fit) is not a place to go on from.
                            let error = match here {
                                Some(here) if error.kind() != ErrorKind::InvalidRequest => {
                                    error.with_resume_position(here)
                                }
                                _ => error,
                            };
                            Some((Err(error), State::Done))
                        }
                        Ok(page) => {
                            let fetched = fetched + 1;
                            let empty_in_a_row = if page.items.is_empty() {
                                empty_in_a_row.saturating_add(1)
                            } else {
                                0
                            };
                            let next = match page.next {
                                None => State::Done,
                                Some(next) if seen.again(fingerprint(&next)) => {
                                    let shown: String =
                                        format!("{next:?}").chars().take(80).collect();
                                    stop(
                                        format!(
                                            "the server returned the next-page cursor {shown} a \
                                             second time; stopping instead of looping"
                                        ),
                                        None,
                                    )
                                }
                                Some(next) if fetched >= limits.max_pages => stop(
                                    format!(
                                        "stopped after {fetched} pages, the limit \
                                         (ClientConfig::max_pages), though the server says there \
                                         are more"
                                    ),
                                    position(&next),
                                ),
                                Some(next) if empty_in_a_row > limits.max_empty_pages => stop(
                                    format!(
                                        "{empty_in_a_row} empty pages in a row still claim more \
                                         (the limit is {}, ClientConfig::max_empty_pages); \
                                         stopping",
                                        limits.max_empty_pages
                                    ),
                                    position(&next),
                                ),
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
                    }
                }
            }
        }
    })
    .boxed()
}

/// A paginated request that takes back a [`ResumePosition`]: a client crate's listing
/// builders implement it, and their `resume_from` hands a [`Resumed`].
#[doc(hidden)]
pub trait Paginated<'a>: Sized {
    /// An item of the listing.
    type Item: Send + 'a;

    /// The listing's pages, from the request as built or from `from`.
    fn page_items_from(
        self,
        from: Option<ResumePosition>,
    ) -> BoxStream<'a, Result<Items<Self::Item>, ApiError>>;
}

/// A listing request set to go on from a [`ResumePosition`]: stream it with
/// [`pages`](Self::pages) or [`stream`](Self::stream), as the request itself.
///
/// A position of another operation, or of a style this listing does not follow, makes the
/// stream's first item an [`ErrorKind::InvalidRequest`] error, before any request.
#[must_use = "a listing does nothing until streamed"]
#[derive(Clone, Debug)]
pub struct Resumed<B> {
    request: B,
    from: ResumePosition,
}

impl<B> Resumed<B> {
    /// `request`, going on from `from`. Used by the client crates.
    #[doc(hidden)]
    pub fn new(request: B, from: ResumePosition) -> Self {
        Self { request, from }
    }

    /// The position the listing goes on from.
    pub fn position(&self) -> &ResumePosition {
        &self.from
    }
}

impl<'a, B: Paginated<'a>> Resumed<B> {
    /// Every page from the position on, as the request's own `pages()`.
    pub fn pages(self) -> Listing<'a, Vec<B::Item>> {
        listing_pages(self.request.page_items_from(Some(self.from)))
    }

    /// Every item from the position on, as the request's own `stream()`.
    pub fn stream(self) -> Listing<'a, B::Item> {
        listing_items(self.request.page_items_from(Some(self.from)))
    }
}

/// Adds `pages()`, `stream()` and `resume_from()` to a client crate's listing builder
/// (`$builder`, with the lifetime `'a`) that implements [`Paginated`]; `$how` says, for
/// `pages()`' docs, how it pages. The client crate must export `Listing`, `ApiError`,
/// `ResumePosition` and `Resumed` at its root.
#[doc(hidden)]
#[macro_export]
macro_rules! listing_methods {
    ($builder:ty, $item:ty, $operation:literal, $how:literal) => {
        impl<'a> $builder {
            #[doc = concat!(
                "Every page of `", $operation, "` as a stream of item vectors. ", $how,
                " Each page is a full call with the client's retries and timeouts.\n\n",
                "A page's items come as one `Ok`; each item the model refuses follows as an ",
                "`Err` of its own (see [`Listing`](crate::Listing)). An error that ends the ",
                "stream after a page carries ",
                "[`ApiError::resume_position`](crate::ApiError::resume_position), for ",
                "[`Self::resume_from`]."
            )]
            pub fn pages(self) -> $crate::Listing<'a, Vec<$item>> {
                $crate::paginate::listing_pages($crate::paginate::Paginated::page_items_from(
                    self, None,
                ))
            }

            #[doc = concat!(
                "Every item of `", $operation, "`, across pages, as a stream; see ",
                "[`Listing`](crate::Listing) for items the model refuses, and [`Self::pages`]."
            )]
            pub fn stream(self) -> $crate::Listing<'a, $item> {
                $crate::paginate::listing_items($crate::paginate::Paginated::page_items_from(
                    self, None,
                ))
            }

            #[doc = concat!(
                "The listing of `", $operation, "` going on from `position`, the ",
                "[`ApiError::resume_position`](crate::ApiError::resume_position) of an ",
                "earlier stream of the same request (same parameters, same page size): every ",
                "item after the last page it delivered, once. A position of another listing ",
                "or style makes the stream's first item an `InvalidRequest` error. See ",
                "[`ResumePosition`](crate::ResumePosition)."
            )]
            pub fn resume_from(self, position: $crate::ResumePosition) -> $crate::Resumed<Self> {
                $crate::Resumed::new(self, position)
            }
        }
    };
}

/// `from` if it belongs to `operation`; otherwise the `InvalidRequest` error that says so.
pub fn position_for(
    operation: &'static str,
    from: ResumePosition,
) -> Result<ResumePosition, ApiError> {
    if from.operation() == operation {
        Ok(from)
    } else {
        Err(ApiError::invalid_request(
            operation,
            format!(
                "the resume position {from} is one of `{}`, not of `{operation}`",
                from.operation()
            ),
        ))
    }
}

/// The `InvalidRequest` error for a position of a style `operation` does not follow.
pub fn wrong_style(operation: &'static str, from: &ResumePosition, follows: &str) -> ApiError {
    ApiError::invalid_request(
        operation,
        format!("the resume position {from} cannot be taken back: `{operation}` follows {follows}"),
    )
}

/// The items of one page as a listing hands them on: each decoded, or the item's own
/// `Decode` error ([`crate::decode::split_listing`]).
pub type Items<T> = Vec<Result<T, ApiError>>;

/// A paginated listing as a stream: of items (`stream()`) or of pages (`pages()`).
///
/// **One odd record never stops a sync.** An item the model refuses (a field of the wrong
/// type, a required field missing) arrives as an `Err` of its own, in its place: kind
/// [`ErrorKind::Decode`], [`ApiError::item_index`] its index in its page,
/// [`ApiError::json_path`] the failing field (`rows[8].company.id`),
/// [`ApiError::body`] the item's JSON exactly as received; and the stream goes on with the
/// next item. Any other error (a call that fails, a page whose envelope does not decode, a
/// pagination bound) is the stream's last item.
///
/// [`strict`](Self::strict) makes the first refused item the last item of the stream
/// instead. A consumer that stops at the first error (`try_collect`, `try_next()?`) stops
/// there in either mode; the difference is for one that reads on past errors:
///
/// ```
/// # use api_runtime::{ApiError, paginate::Listing};
/// use futures::StreamExt;
///
/// async fn sync<T>(mut users: Listing<'_, T>) -> Result<(Vec<T>, Vec<ApiError>), ApiError> {
///     let (mut good, mut odd) = (Vec::new(), Vec::new());
///     while let Some(user) = users.next().await {
///         match user {
///             Ok(user) => good.push(user),
///             // One user the model refuses: keep it for a report, go on.
///             Err(err) if err.item_index().is_some() => odd.push(err),
///             // The listing itself failed.
///             Err(err) => return Err(err),
///         }
///     }
///     Ok((good, odd))
/// }
/// ```
///
/// In a stream of pages, a page's good items come as one `Ok(Vec<T>)` and its refused items
/// follow it, one `Err` each.
#[must_use = "a listing does nothing until polled"]
pub struct Listing<'a, X> {
    inner: BoxStream<'a, Result<X, ApiError>>,
    strict: bool,
    done: bool,
}

impl<'a, X> Listing<'a, X> {
    fn new(inner: BoxStream<'a, Result<X, ApiError>>) -> Self {
        Self {
            inner,
            strict: false,
            done: false,
        }
    }

    /// Strict mode: the first item the model refuses is the last item of the stream (no
    /// further page is fetched). By default the stream reports it and goes on.
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Whether [`strict`](Self::strict) was set.
    pub fn is_strict(&self) -> bool {
        self.strict
    }
}

impl<X> std::fmt::Debug for Listing<'_, X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listing")
            .field("strict", &self.strict)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<X> futures::Stream for Listing<'_, X> {
    type Item = Result<X, ApiError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if self.done {
            return std::task::Poll::Ready(None);
        }
        let next = self.inner.poll_next_unpin(cx);
        if let std::task::Poll::Ready(Some(Err(error))) = &next
            && self.strict
            && error.item_index().is_some()
        {
            self.done = true;
        }
        next
    }
}

/// The items of a listing, across pages, each page's refused items in their place.
pub fn listing_items<'a, T: Send + 'a>(
    pages: BoxStream<'a, Result<Items<T>, ApiError>>,
) -> Listing<'a, T> {
    Listing::new(
        pages
            .map(|page| match page {
                Ok(items) => stream::iter(items).left_stream(),
                Err(error) => stream::iter(vec![Err(error)]).right_stream(),
            })
            .flatten()
            .boxed(),
    )
}

/// The pages of a listing: each page's good items as one `Ok`, then its refused items, one
/// `Err` each.
pub fn listing_pages<'a, T: Send + 'a>(
    pages: BoxStream<'a, Result<Items<T>, ApiError>>,
) -> Listing<'a, Vec<T>> {
    Listing::new(
        pages
            .map(|page| {
                let mut out: Vec<Result<Vec<T>, ApiError>> = Vec::new();
                match page {
                    Ok(items) => {
                        let mut good = Vec::with_capacity(items.len());
                        let mut odd = Vec::new();
                        for item in items {
                            match item {
                                Ok(item) => good.push(item),
                                Err(error) => odd.push(Err(error)),
                            }
                        }
                        out.push(Ok(good));
                        out.extend(odd);
                    }
                    Err(error) => out.push(Err(error)),
                }
                stream::iter(out)
            })
            .flatten()
            .boxed(),
    )
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

    /// Cursors that loop after a long run (100 fresh ones, then a loop of 7) end the stream
    /// within about twice the pages it took to close the loop.
    #[tokio::test]
    async fn a_loop_after_a_long_run_is_found_within_two_rounds() {
        let cursor = |page: u64| {
            if page < 100 {
                page
            } else {
                100 + (page - 100) % 7
            }
        };
        let mut page = 0;
        let results: Vec<Result<Vec<u8>, ApiError>> =
            pages(PageLimits::default(), "list_users", 0u64, move |_| {
                page += 1;
                let next = Some(cursor(page));
                async move {
                    Ok(Page {
                        items: vec![1],
                        next,
                    })
                }
            })
            .collect()
            .await;
        let fetched = results.iter().filter(|r| r.is_ok()).count();
        let err = results.last().unwrap().as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Pagination, "{err}");
        assert!(err.to_string().contains("second time"), "{err}");
        assert!(
            (107..=2 * (100 + 7) + 7).contains(&fetched),
            "the loop was found after {fetched} pages"
        );
        assert!(fetched < 1_000, "found long before the page bound");
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

    /// Two pages of three; the second item of the first page is refused by its model.
    fn odd_pages() -> BoxStream<'static, Result<Items<u32>, ApiError>> {
        pages(PageLimits::default(), "list_users", 0u32, |at| async move {
            let items = (0..3)
                .map(|i| {
                    let n = at * 10 + i;
                    if n == 1 {
                        let page = crate::decode::success::<Vec<u32>>(&bytes::Bytes::from_static(
                            b"[0, \"one\", 2]",
                        ))
                        .expect_err("odd")
                        .with_body(bytes::Bytes::from_static(b"{\"rows\": [0, \"one\", 2]}"));
                        let split =
                            crate::decode::split_listing::<serde_json::Value, u32>(page, &["rows"])
                                .expect("envelope");
                        split.items.into_iter().nth(1).expect("item 1")
                    } else {
                        Ok(n)
                    }
                })
                .collect();
            Ok(Page {
                items,
                next: (at < 1).then_some(at + 1),
            })
        })
    }

    #[tokio::test]
    async fn a_refused_item_is_reported_in_its_place_and_the_listing_goes_on() {
        let got: Vec<Result<u32, ApiError>> = listing_items(odd_pages()).collect().await;
        let shown: Vec<String> = got
            .iter()
            .map(|r| match r {
                Ok(n) => n.to_string(),
                Err(e) => format!("err {:?} {:?}", e.item_index(), e.json_path()),
            })
            .collect();
        assert_eq!(
            shown,
            ["0", "err Some(1) Some(\"rows[1]\")", "2", "10", "11", "12"]
        );
        let odd = got[1].as_ref().unwrap_err();
        assert_eq!(odd.kind(), ErrorKind::Decode);
        assert_eq!(odd.body(), b"\"one\"");

        let pages: Vec<Result<Vec<u32>, ApiError>> = listing_pages(odd_pages()).collect().await;
        assert_eq!(pages.len(), 3, "page, its odd item, page");
        assert_eq!(pages[0].as_ref().unwrap(), &[0, 2]);
        assert_eq!(pages[1].as_ref().unwrap_err().item_index(), Some(1));
        assert_eq!(pages[2].as_ref().unwrap(), &[10, 11, 12]);
    }

    #[tokio::test]
    async fn strict_mode_stops_at_the_first_refused_item() {
        let listing = listing_items(odd_pages()).strict();
        assert!(listing.is_strict());
        let got: Vec<Result<u32, ApiError>> = listing.collect().await;
        assert_eq!(got.len(), 2, "the item before it, then the refused one");
        assert_eq!(got[1].as_ref().unwrap_err().item_index(), Some(1));
        let pages: Vec<Result<Vec<u32>, ApiError>> =
            listing_pages(odd_pages()).strict().collect().await;
        assert_eq!(
            pages.len(),
            2,
            "the good items of the page, then the refused one"
        );
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
