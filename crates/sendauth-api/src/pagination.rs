//! Pagination streams for SendAuth listings: `page` and `perPage` in, `{rows, total}` out.
//!
//! A row the model refuses is reported in its place and the listing goes on (see
//! [`Listing`](crate::Listing)). A listing cut short (a network cut, a deploy) goes on where
//! it stopped: its error's [`ApiError::resume_position`](crate::ApiError::resume_position)
//! goes back to the same request's `resume_from`.

use api_runtime::paginate::{self, Items};

use crate::{ApiError, ErrorKind, ResumePosition};

/// One `{rows, total}` page: `send()`'s page when it decodes; otherwise, when only some
/// rows are refused, the envelope and every row decoded or refused on its own.
pub(crate) fn rows<P, T>(
    sent: Result<P, ApiError>,
    items_field: &'static str,
    into_parts: impl FnOnce(P) -> (Option<Vec<T>>, i64),
) -> Result<(Items<T>, i64), ApiError>
where
    P: serde::de::DeserializeOwned,
    T: serde::de::DeserializeOwned,
{
    match sent {
        Ok(page) => {
            let (rows, total) = into_parts(page);
            Ok((
                rows.unwrap_or_default().into_iter().map(Ok).collect(),
                total,
            ))
        }
        Err(error) if error.kind() == ErrorKind::Decode => {
            let split = api_runtime::decode::split_listing::<P, T>(error, &[items_field])?;
            let (_, total) = into_parts(split.envelope);
            Ok((split.items, total))
        }
        Err(error) => Err(error),
    }
}

/// Where the next SendAuth page starts: its number and how many rows came before it.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub(crate) struct PageAt {
    pub(crate) page: u64,
    pub(crate) seen: u64,
}

impl PageAt {
    /// Where a listing that starts here goes on after a failure: page 1 is no place to
    /// resume from (start again).
    pub(crate) fn position(&self, operation: &str) -> Option<ResumePosition> {
        (self.page > 1).then(|| ResumePosition::page(operation, self.page, Some(self.seen)))
    }

    /// Where a listing taken back from `from` starts.
    pub(crate) fn resume(
        operation: &'static str,
        from: Option<ResumePosition>,
    ) -> Result<Self, ApiError> {
        let Some(from) = from else {
            return Ok(Self { page: 1, seen: 0 });
        };
        let from = paginate::position_for(operation, from)?;
        match (from.next_page(), from.items_before()) {
            (Some(page), Some(seen)) => Ok(Self { page, seen }),
            _ => Err(paginate::wrong_style(
                operation,
                &from,
                "`page` numbers, counting the rows before the page against `total`",
            )),
        }
    }
}

/// Adds `pages()`, `stream()` and `resume_from()` to a builder of a `{rows, total}` listing.
macro_rules! page_number_pagination {
    ($builder:ident, $page:ty, $items:ident, $item:ty, $operation:literal) => {
        ::api_runtime::listing_methods!(
            $crate::builder::$builder<'a>,
            $item,
            $operation,
            "From page 1, the other parameters set on this builder kept (`perPage`, filters, \
             sort); `page` is set by the stream. It ends after the page that brings the rows \
             seen to `total`, or at an empty page."
        );

        impl<'a> ::api_runtime::paginate::Paginated<'a> for $crate::builder::$builder<'a> {
            type Item = $item;

            fn page_items_from(
                self,
                from: Option<$crate::ResumePosition>,
            ) -> ::futures::stream::BoxStream<'a, Result<::api_runtime::paginate::Items<$item>, $crate::ApiError>> {
                ::api_runtime::paginate::resumable_pages(
                    self.__runtime().page_limits(),
                    $operation,
                    $crate::pagination::PageAt::resume($operation, from),
                    |at: &$crate::pagination::PageAt| at.position($operation),
                    move |at: $crate::pagination::PageAt| {
                        let request = self.clone().page(at.page);
                        async move {
                            let sent = request.send().await.map(|page| page.into_inner());
                            let (rows, total) = $crate::pagination::rows(sent, stringify!($items), |page: $page| {
                                (page.$items, page.total)
                            })?;
                            let seen = at.seen + rows.len() as u64;
                            let total = u64::try_from(total).unwrap_or(0);
                            let next = (!rows.is_empty() && seen < total).then_some($crate::pagination::PageAt {
                                page: at.page + 1,
                                seen,
                            });
                            Ok(::api_runtime::paginate::Page { items: rows, next })
                        }
                    },
                )
            }
        }
    };
}

// The listings that use it are declared in the spec (`x-pagination`); `generated.rs` calls
// this macro for each.
pub(crate) use page_number_pagination;
