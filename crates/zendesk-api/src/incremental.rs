//! The incremental user export, cursor based, as a resumable stream of pages.
//!
//! `GET /api/v2/incremental/users/cursor` returns the users created or changed since a time,
//! oldest change first. The first request carries `start_time`; each later one the previous
//! page's `after_cursor`. A page with `end_of_stream: true` brings the export up to the
//! present; its cursor is where the next export starts (tomorrow, say), so that only what
//! changed since is returned.
//!
//! [`Client::export_users`] walks those pages. Each [`ExportPage`] hands back the cursor to
//! persist once its users are handled; [`ExportStart::Cursor`] starts from a saved one. The
//! stream ends after the page that says `end_of_stream` (an empty page before it does not end
//! it). The client paces the endpoint to its own rate limit, 10 requests a minute, for all its
//! export streams together (and every clone of it), so the caller never sleeps by hand and two
//! streams running at once share the budget instead of meeting a 429. With the High Volume
//! add-on (30 a minute), say so once, on the client:
//!
//! ```
//! # fn main() -> Result<(), zendesk_api::ConfigError> {
//! use zendesk_api::{Client, ClientConfig, RateLimits, api_token_credentials};
//!
//! let client = Client::with_config(
//!     api_token_credentials("admin@acme.com", "api-token")?,
//!     ClientConfig::new()
//!         .base_url("https://acme.zendesk.com")
//!         .rate_limits(
//!             RateLimits::default()
//!                 .with_operation_requests_per_minute("incremental_user_export", 30),
//!         ),
//! )?;
//! # let _ = client;
//! # Ok(())
//! # }
//! ```

use api_runtime::Budget;
use api_runtime::paginate::{self, Items, Page};
use futures::stream::{self, BoxStream, StreamExt};

use crate::{ApiError, Client, ErrorKind, types};

const OPERATION: &str = "incremental_user_export";

/// The endpoint's own limit without the High Volume add-on: the client's default budget for
/// `incremental_user_export`, shared by all its export streams.
pub const DEFAULT_EXPORT_REQUESTS_PER_MINUTE: u32 = 10;

/// The operations with a rate limit of their own: the client's default per-operation budgets.
pub(crate) const OPERATION_RATE_LIMITS: &[(&str, u32)] =
    &[(OPERATION, DEFAULT_EXPORT_REQUESTS_PER_MINUTE)];

/// The most users Zendesk returns in one page of the export.
pub const MAX_EXPORT_PER_PAGE: u32 = 1000;

/// Where an incremental user export starts.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum ExportStart {
    /// The users created or changed at or after this Unix time, in seconds (`start_time`).
    /// Zendesk requires it to be at least a minute in the past.
    Since(i64),
    /// Right after the page whose [`ExportPage::cursor`] this is (`cursor`): where an
    /// earlier export stopped.
    Cursor(String),
}

impl ExportStart {
    /// The users changed at or after `time` (rounded down to the second).
    pub fn since(time: chrono::DateTime<chrono::Utc>) -> Self {
        Self::Since(time.timestamp())
    }

    /// Right after a cursor saved from an earlier page.
    pub fn after(cursor: impl Into<String>) -> Self {
        Self::Cursor(cursor.into())
    }
}

/// One page of an incremental user export.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportPage {
    /// The users created or changed, oldest change first. May be empty before the end. A
    /// user the model refuses is not here: it follows the page as an `Err` of its own (see
    /// [`UserExport::pages`]).
    pub users: Vec<types::User>,
    /// The cursor to persist once these users are handled: an export started from it
    /// ([`ExportStart::Cursor`]) continues right after this page. `None` only if Zendesk
    /// sent none on the last page; keep the previous one then.
    pub cursor: Option<String>,
    /// Whether this page brings the export up to the present (the stream's last page).
    pub end_of_stream: bool,
}

/// One page as fetched: every user decoded, or refused with its own `Decode` error.
struct Fetched {
    users: Items<types::User>,
    cursor: Option<String>,
    end_of_stream: bool,
}

/// An incremental user export, ready to stream; see [`Client::export_users`].
#[derive(Clone, Debug)]
pub struct UserExport<'a> {
    client: &'a Client,
    start: ExportStart,
    per_page: Option<u32>,
    /// A cap of this stream's own, within the client's budget.
    requests_per_minute: Option<u32>,
}

impl Client {
    /// The incremental user export (`incremental_user_export`) from `start`, paced by the
    /// client to the endpoint's budget (10 requests a minute, shared by every export stream of
    /// the client; with High Volume, raise it to 30 with
    /// [`RateLimits::with_operation_requests_per_minute`](crate::RateLimits::with_operation_requests_per_minute)).
    /// Stream it with [`UserExport::pages`] (to persist the cursor) or [`UserExport::users`].
    ///
    /// ```no_run
    /// # use futures::TryStreamExt;
    /// # use zendesk_api::{Client, ExportStart};
    /// # async fn sync(client: Client, saved: Option<String>) -> Result<(), zendesk_api::ApiError> {
    /// let start = match saved {
    ///     Some(cursor) => ExportStart::after(cursor),
    ///     None => ExportStart::since(chrono::Utc::now() - chrono::Duration::days(30)),
    /// };
    /// let mut pages = client.export_users(start).per_page(1000).pages();
    /// while let Some(page) = pages.try_next().await? {
    ///     for user in &page.users {
    ///         println!("{:?} changed at {:?}", user.id, user.updated_at);
    ///     }
    ///     if let Some(cursor) = page.cursor {
    ///         // Persist `cursor` here: the next run starts right after this page.
    ///         # let _ = cursor;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn export_users(&self, start: ExportStart) -> UserExport<'_> {
        UserExport {
            client: self,
            start,
            per_page: None,
            requests_per_minute: None,
        }
    }
}

impl<'a> UserExport<'a> {
    /// How many users a page holds, 1 to 1,000 (Zendesk's default: 1,000). Another value
    /// makes the stream fail with an `InvalidRequest` error before any request.
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// A cap for this stream alone: at most `requests` a minute, spaced evenly, *within* the
    /// client's budget for the endpoint, which every export stream of the client shares
    /// (10 a minute by default). It cannot raise that budget: for High Volume (30 a minute),
    /// set the client's with
    /// `RateLimits::with_operation_requests_per_minute("incremental_user_export", 30)`.
    /// 0 makes the stream fail with an `InvalidRequest` error before any request.
    #[deprecated(
        since = "0.1.0",
        note = "the export's budget is client-wide now, shared by every stream: set it with \
                `RateLimits::with_operation_requests_per_minute(\"incremental_user_export\", n)` \
                on the client's `ClientConfig`; this only caps one stream within it"
    )]
    pub fn requests_per_minute(mut self, requests: u32) -> Self {
        self.requests_per_minute = Some(requests);
        self
    }

    /// Every page of the export, from its start to the page that says `end_of_stream`.
    ///
    /// Each page is a full call with the client's retries, timeouts and rate limits (the
    /// endpoint's budget is the client's, shared by its streams). A page without a cursor
    /// before the end, or a cursor handed back a second time, ends the stream with a
    /// `Pagination` error.
    ///
    /// **One odd user never stops the export.** A page one of whose users the model refuses
    /// (a field of the wrong type, `id` missing) comes as an `Ok` with its other users and
    /// its cursor, followed by one `Err` per refused user: kind `Decode`,
    /// [`ApiError::item_index`] its index in the page, [`ApiError::json_path`] the failing
    /// field (`users[2].id`), [`ApiError::body`] the user's JSON exactly as received. The
    /// stream then goes on with the next page. A consumer that reads on past those errors
    /// keeps every good user; one that stops at the first error (`try_next()?`) has been
    /// handed the page's cursor already, so a run resumed from it does not meet the same
    /// user again. Any other error is the stream's last item.
    pub fn pages(self) -> BoxStream<'a, Result<ExportPage, ApiError>> {
        self.fetch()
            .flat_map(|page| {
                let out: Vec<Result<ExportPage, ApiError>> = match page {
                    Ok(Fetched {
                        users,
                        cursor,
                        end_of_stream,
                    }) => {
                        let (good, odd): (Vec<_>, Vec<_>) =
                            users.into_iter().partition(Result::is_ok);
                        let page = ExportPage {
                            users: good.into_iter().flatten().collect(),
                            cursor,
                            end_of_stream,
                        };
                        let odd = odd.into_iter().filter_map(Result::err).map(Err);
                        std::iter::once(Ok(page)).chain(odd).collect()
                    }
                    Err(error) => vec![Err(error)],
                };
                stream::iter(out)
            })
            .boxed()
    }

    /// Every user of the export, across pages; see [`Self::pages`]. A user the model refuses
    /// comes as an `Err` of its own in its place (as in [`Self::pages`]) and the stream goes
    /// on; any other error is the stream's last item. To resume later, use [`Self::pages`]:
    /// it hands back the cursor of each page.
    pub fn users(self) -> BoxStream<'a, Result<types::User, ApiError>> {
        self.fetch()
            .flat_map(|page| match page {
                Ok(page) => stream::iter(page.users),
                Err(error) => stream::iter(vec![Err(error)]),
            })
            .boxed()
    }

    /// The pages as fetched, each user decoded or refused on its own.
    fn fetch(self) -> BoxStream<'a, Result<Fetched, ApiError>> {
        if let Err(error) = self.check() {
            return stream::once(async move { Err(error) }).boxed();
        }
        let Self {
            client,
            start,
            per_page,
            requests_per_minute,
        } = self;
        let mut cap = requests_per_minute.and_then(Budget::per_minute);
        paginate::items(paginate::pages(
            client.inner.page_limits(),
            OPERATION,
            start,
            move |at: ExportStart| {
                let request = client.incremental_user_export();
                let request = match at {
                    ExportStart::Since(time) => request.start_time(time),
                    ExportStart::Cursor(cursor) => request.cursor(cursor),
                };
                let request = match per_page {
                    Some(n) => request.per_page(n),
                    None => request,
                };
                let clock = client.inner.clock().clone();
                let slot = cap.as_mut().map(|cap| cap.reserve(clock.now()));
                async move {
                    if let Some(slot) = slot {
                        clock.sleep_until(slot).await;
                    }
                    let sent = request.send().await.map(|page| page.into_inner());
                    let (page, users) = crate::pagination::split(
                        sent,
                        "users",
                        |page: &mut types::IncrementalUserPage| std::mem::take(&mut page.users),
                    )?;
                    let cursor = page.after_cursor.filter(|c| !c.is_empty());
                    let next = match (page.end_of_stream, &cursor) {
                        (true, _) => None,
                        (false, Some(cursor)) => Some(ExportStart::Cursor(cursor.clone())),
                        (false, None) => {
                            return Err(ApiError::new(
                                ErrorKind::Pagination,
                                "end_of_stream is false but after_cursor is missing",
                            ));
                        }
                    };
                    Ok(Page {
                        items: vec![Fetched {
                            users,
                            cursor,
                            end_of_stream: page.end_of_stream,
                        }],
                        next,
                    })
                }
            },
        ))
    }

    fn check(&self) -> Result<(), ApiError> {
        let invalid = |message: String| {
            Err(ApiError::new(ErrorKind::InvalidRequest, message).with_operation(OPERATION))
        };
        if self.requests_per_minute == Some(0) {
            return invalid("requests_per_minute must be at least 1".into());
        }
        if let Some(n) = self.per_page
            && !(1..=MAX_EXPORT_PER_PAGE).contains(&n)
        {
            return invalid(format!(
                "per_page must be between 1 and {MAX_EXPORT_PER_PAGE}, not {n}"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(deprecated)]
    fn invalid_settings_are_errors_not_panics() {
        let client = Client::with_config(
            crate::Credentials::bearer("t").unwrap(),
            crate::ClientConfig::new().base_url("http://127.0.0.1:9"),
        )
        .unwrap();
        for (export, what) in [
            (
                client.export_users(ExportStart::Since(0)).per_page(0),
                "per_page",
            ),
            (
                client.export_users(ExportStart::Since(0)).per_page(1001),
                "per_page",
            ),
            (
                client
                    .export_users(ExportStart::Since(0))
                    .requests_per_minute(0),
                "requests_per_minute",
            ),
        ] {
            let err = export.check().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidRequest);
            assert!(err.to_string().contains(what), "{err}");
        }
        let fine = client
            .export_users(ExportStart::after("abc"))
            .per_page(1000)
            .requests_per_minute(30);
        assert!(fine.check().is_ok());
    }
}
