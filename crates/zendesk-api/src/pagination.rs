//! Pagination streams for Zendesk listings.
//!
//! Zendesk paginates a listing with cursors when the request carries `page[size]`
//! (`meta.has_more` and `meta.after_cursor` lead on) and by page number otherwise
//! (`next_page` is the next page's URL). The streams follow whichever the server answers
//! with, so `client.list_users().stream()` works with or without `.page_size(n)`.
//!
//! An item the model refuses is reported in its place and the listing goes on (see
//! [`Listing`](crate::Listing)). A listing cut short (a network cut, a deploy) goes on where
//! it stopped: its error's [`ApiError::resume_position`](crate::ApiError::resume_position)
//! goes back to the same request's `resume_from`.

use api_runtime::paginate::{self, Items};

use crate::{ApiError, ErrorKind, ResumePosition, types};

/// One page's envelope and items: `send()`'s page when it decodes; otherwise, when only some
/// items are refused, the envelope (its list empty) and every item decoded or refused on its
/// own.
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
pub(crate) enum At {
    /// The request as the caller built it.
    First,
    /// Cursor pagination: `page[after]`.
    After(String),
    /// Offset pagination: `page`.
    Page(u32),
}

/// The next page of a Zendesk listing, from a page's `meta` and `next_page`.
pub(crate) fn next(
    meta: Option<&types::CursorMeta>,
    next_page: Option<&str>,
) -> Result<Option<At>, ApiError> {
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

impl At {
    /// Where a listing that starts here goes on after a failure: the request as first built
    /// is no place to resume from (start again).
    pub(crate) fn position(&self, operation: &str) -> Option<ResumePosition> {
        match self {
            At::First => None,
            At::After(cursor) => Some(ResumePosition::cursor(operation, cursor)),
            At::Page(page) => Some(ResumePosition::page(operation, u64::from(*page), None)),
        }
    }

    /// Where a listing taken back from `from` starts; `cursors`: whether it follows cursors
    /// (else page numbers only).
    pub(crate) fn resume(
        operation: &'static str,
        cursors: bool,
        from: Option<ResumePosition>,
    ) -> Result<At, ApiError> {
        let Some(from) = from else {
            return Ok(At::First);
        };
        let from = paginate::position_for(operation, from)?;
        let follows = if cursors {
            "`page[after]` cursors or `page` numbers"
        } else {
            "`page` numbers"
        };
        match (from.next_cursor(), from.next_page(), from.items_before()) {
            (Some(cursor), _, _) if cursors => Ok(At::After(cursor.to_string())),
            (None, Some(page), None) => match u32::try_from(page) {
                Ok(page) => Ok(At::Page(page)),
                Err(_) => Err(ApiError::invalid_request(
                    operation,
                    format!("the resume position {from} names a page past Zendesk's last"),
                )),
            },
            (None, Some(_), Some(_)) => Err(ApiError::invalid_request(
                operation,
                format!(
                    "the resume position {from} counts the items before its page, which no \
                     Zendesk listing does: it comes from another service's `{operation}`"
                ),
            )),
            _ => Err(paginate::wrong_style(operation, &from, follows)),
        }
    }
}

/// The `Paginated` side of a Zendesk listing: `cursors` whether it follows cursors, `$at`
/// the request for a place, `$next` the next place from a page.
macro_rules! zendesk_listing {
    (
        $builder:ident, $page:ty, $items:ident, $item:ty, $operation:literal, cursors: $cursors:literal,
        request: |$request:ident, $at:ident| $for_at:expr,
        next: |$sent:ident| $next:expr
    ) => {
        impl<'a> ::api_runtime::paginate::Paginated<'a> for $crate::builder::$builder<'a> {
            type Item = $item;

            fn page_items_from(
                self,
                from: Option<$crate::ResumePosition>,
            ) -> ::futures::stream::BoxStream<
                'a,
                Result<::api_runtime::paginate::Items<$item>, $crate::ApiError>,
            > {
                ::api_runtime::paginate::resumable_pages(
                    self.__runtime().page_limits(),
                    $operation,
                    $crate::pagination::At::resume($operation, $cursors, from),
                    |at: &$crate::pagination::At| at.position($operation),
                    move |$at: $crate::pagination::At| {
                        let $request = self.clone();
                        let request = $for_at;
                        async move {
                            let sent = request.send().await.map(|page| page.into_inner());
                            let ($sent, items) = $crate::pagination::split(
                                sent,
                                stringify!($items),
                                |page: &mut $page| std::mem::take(&mut page.$items),
                            )?;
                            let next = $next?;
                            Ok(::api_runtime::paginate::Page { items, next })
                        }
                    },
                )
            }
        }
    };
}

/// Adds `pages()`, `stream()` and `resume_from()` to the builder of a listing that supports
/// cursor and offset pagination.
macro_rules! cursor_pagination {
    ($builder:ident, $page:ty, $items:ident, $item:ty, $operation:literal) => {
        ::api_runtime::listing_methods!(
            $crate::builder::$builder<'a>,
            $item,
            $operation,
            "With `.page_size(n)` the stream follows cursors (`meta.after_cursor`, \
             recommended: no depth limit); without, it follows `next_page` page numbers. A \
             cursor the server repeats ends the stream with an error instead of a loop."
        );
        $crate::pagination::zendesk_listing!(
            $builder, $page, $items, $item, $operation, cursors: true,
            request: |request, at| match at {
                $crate::pagination::At::First => request,
                $crate::pagination::At::After(cursor) => request.page_after(cursor),
                $crate::pagination::At::Page(page) => request.page(page),
            },
            next: |page| $crate::pagination::next(page.meta.as_ref(), page.next_page.as_deref())
        );
    };
}

/// Adds `pages()`, `stream()` and `resume_from()` to the builder of a listing that follows
/// `next_page` page numbers only.
macro_rules! offset_pagination {
    ($builder:ident, $page:ty, $items:ident, $item:ty, $operation:literal) => {
        ::api_runtime::listing_methods!(
            $crate::builder::$builder<'a>,
            $item,
            $operation,
            "It follows `next_page` page numbers (this listing has no cursors)."
        );
        $crate::pagination::zendesk_listing!(
            $builder, $page, $items, $item, $operation, cursors: false,
            request: |request, at| match at {
                $crate::pagination::At::Page(page) => request.page(page),
                $crate::pagination::At::First | $crate::pagination::At::After(_) => request,
            },
            next: |page| $crate::pagination::next(None, page.next_page.as_deref())
        );
    };
}

// The listings that use them are declared in the spec (`x-pagination`); `generated.rs`
// calls these macros for each.
pub(crate) use {cursor_pagination, offset_pagination, zendesk_listing};

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
