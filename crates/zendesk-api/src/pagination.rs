//! Pagination streams for Zendesk listings.
//!
//! Zendesk paginates a listing with cursors when the request carries `page[size]`
//! (`meta.has_more` and `meta.after_cursor` lead on) and by page number otherwise
//! (`next_page` is the next page's URL). The streams follow whichever the server answers
//! with, so `client.list_users().stream()` works with or without `.page_size(n)`.
//!
//! An item the model refuses is reported in its place and the listing goes on (see
//! [`Listing`]).

use api_runtime::paginate::{self, Items, Page};
use futures::stream::BoxStream;

use crate::{ApiError, ErrorKind, Listing, builder, types};

/// One page's envelope and items: `send()`'s page when it decodes; otherwise, when only some
/// items are refused, the envelope (its list empty) and every item decoded or refused on its
/// own (the incremental export's pages too).
pub(crate) fn split<P, T>(
    sent: Result<P, ApiError>,
    items_field: &'static str,
    take_items: impl FnOnce(&mut P) -> Vec<T>,
) -> Result<(P, Items<T>), ApiError>
where
    P: serde::de::DeserializeOwned,
    T: serde::de::DeserializeOwned,
{
    match sent {
        Ok(mut page) => {
            let items = take_items(&mut page).into_iter().map(Ok).collect();
            Ok((page, items))
        }
        Err(error) if error.kind() == ErrorKind::Decode => {
            let split = api_runtime::decode::split_listing::<P, T>(error, &[items_field])?;
            Ok((split.envelope, split.items))
        }
        Err(error) => Err(error),
    }
}

/// Where the next Zendesk page starts.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum At {
    /// The request as the caller built it.
    First,
    /// Cursor pagination: `page[after]`.
    After(String),
    /// Offset pagination: `page`.
    Page(u32),
}

/// The next page of a Zendesk listing, from a page's `meta` and `next_page`.
fn next(meta: Option<&types::CursorMeta>, next_page: Option<&str>) -> Result<Option<At>, ApiError> {
    if let Some(meta) = meta {
        if meta.has_more != Some(true) {
            return Ok(None);
        }
        return match meta.after_cursor.as_deref() {
            Some(cursor) if !cursor.is_empty() => Ok(Some(At::After(cursor.to_string()))),
            _ => Err(ApiError::new(
                ErrorKind::Pagination,
                "meta.has_more is true but meta.after_cursor is missing",
            )),
        };
    }
    let Some(url) = next_page else {
        return Ok(None);
    };
    let page = reqwest::Url::parse(url).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse::<u32>().ok())
    });
    match page {
        Some(page) => Ok(Some(At::Page(page))),
        None => Err(ApiError::new(
            ErrorKind::Pagination,
            format!(
                "next_page has no page number: {}",
                url.chars().take(200).collect::<String>()
            ),
        )),
    }
}

/// Adds `pages()` and `stream()` to the builder of a listing that supports cursor and offset
/// pagination.
macro_rules! cursor_pagination {
    ($builder:ident, $page:ty, $items:ident, $item:ty, $operation:literal) => {
        impl<'a> builder::$builder<'a> {
            #[doc = concat!(
                "Every page of `", $operation, "` as a stream of item vectors, starting with ",
                "the request as built.\n\n",
                "With `.page_size(n)` the stream follows cursors (`meta.after_cursor`, ",
                "recommended: no depth limit); without, it follows `next_page` page numbers. ",
                "A cursor the server repeats ends the stream with an error instead of a loop. ",
                "Each page is a full call with the client's retries and timeouts.\n\n",
                "A page's items come as one `Ok`; each item the model refuses follows as an ",
                "`Err` of its own (see [`Listing`])."
            )]
            pub fn pages(self) -> Listing<'a, Vec<$item>> {
                paginate::listing_pages(self.page_items())
            }

            #[doc = concat!(
                "Every item of `", $operation, "`, across pages, as a stream; see [`Listing`] ",
                "for items the model refuses, and [`Self::pages`]."
            )]
            pub fn stream(self) -> Listing<'a, $item> {
                paginate::listing_items(self.page_items())
            }

            fn page_items(self) -> BoxStream<'a, Result<Items<$item>, ApiError>> {
                paginate::pages(self.__runtime().page_limits(), $operation, At::First, move |at: At| {
                    let request = match at {
                        At::First => self.clone(),
                        At::After(cursor) => self.clone().page_after(cursor),
                        At::Page(page) => self.clone().page(page),
                    };
                    async move {
                        let sent = request.send().await.map(|page| page.into_inner());
                        let (page, items) = split(sent, stringify!($items), |page: &mut $page| {
                            std::mem::take(&mut page.$items)
                        })?;
                        let next = next(page.meta.as_ref(), page.next_page.as_deref())?;
                        Ok(Page { items, next })
                    }
                })
            }
        }
    };
}

cursor_pagination!(ListUsers, types::UserPage, users, types::User, "list_users");
cursor_pagination!(
    ListDeletedUsers,
    types::DeletedUserPage,
    deleted_users,
    types::DeletedUser,
    "list_deleted_users"
);
cursor_pagination!(
    ListTags,
    types::TagCountPage,
    tags,
    types::TagCount,
    "list_tags"
);
cursor_pagination!(
    ShowUserComplianceDeletionStatuses,
    types::ComplianceDeletionStatusPage,
    compliance_deletion_statuses,
    types::ComplianceDeletionStatus,
    "show_user_compliance_deletion_statuses"
);

impl<'a> builder::SearchUsers<'a> {
    /// Every page of `search_users` as a stream of user vectors, following `next_page`
    /// (search uses offset pagination only; Zendesk stops at 1,000 results).
    ///
    /// A page's users come as one `Ok`; each user the model refuses follows as an `Err` of
    /// its own (see [`Listing`]).
    pub fn pages(self) -> Listing<'a, Vec<types::User>> {
        paginate::listing_pages(self.page_items())
    }

    /// Every user `search_users` finds, across pages, as a stream; see [`Listing`] for users
    /// the model refuses, and [`Self::pages`].
    pub fn stream(self) -> Listing<'a, types::User> {
        paginate::listing_items(self.page_items())
    }

    fn page_items(self) -> BoxStream<'a, Result<Items<types::User>, ApiError>> {
        paginate::pages(
            self.__runtime().page_limits(),
            "search_users",
            At::First,
            move |at: At| {
                let request = match at {
                    At::Page(page) => self.clone().page(page),
                    At::First | At::After(_) => self.clone(),
                };
                async move {
                    let sent = request.send().await.map(|page| page.into_inner());
                    let (page, items) = split(sent, "users", |page: &mut types::UserPage| {
                        std::mem::take(&mut page.users)
                    })?;
                    let next = next(None, page.next_page.as_deref())?;
                    Ok(Page { items, next })
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(has_more: Option<bool>, after: Option<&str>) -> types::CursorMeta {
        types::CursorMeta {
            has_more,
            after_cursor: after.map(str::to_string),
            before_cursor: None,
        }
    }

    #[test]
    fn cursor_meta_leads_on() {
        assert_eq!(
            next(Some(&meta(Some(true), Some("abc"))), None).unwrap(),
            Some(At::After("abc".into()))
        );
        assert_eq!(
            next(Some(&meta(Some(false), Some("abc"))), None).unwrap(),
            None
        );
        assert_eq!(next(Some(&meta(None, None)), None).unwrap(), None);
        let err = next(Some(&meta(Some(true), None)), None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Pagination);
    }

    #[test]
    fn offset_next_page_leads_on() {
        let url = "https://acme.zendesk.com/api/v2/users.json?page=3&per_page=100";
        assert_eq!(next(None, Some(url)).unwrap(), Some(At::Page(3)));
        assert_eq!(next(None, None).unwrap(), None);
        let err = next(None, Some("https://acme.zendesk.com/api/v2/users.json")).unwrap_err();
        assert!(err.to_string().contains("page number"), "{err}");
    }
}
