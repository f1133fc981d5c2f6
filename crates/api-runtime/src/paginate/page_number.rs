//! The `page-number` style (`x-pagination: {style: page-number, items: …, stop: total}`):
//! `page` from 1 in, `{<items>, total}` out, up to the page that brings the items seen to
//! `total` (or an empty page). Shared by every client crate whose listings page this way:
//! a crate's `src/pagination.rs` hands its builders to [`page_number_pagination!`](crate::page_number_pagination).
//!
//! An item the model refuses is reported in its place and the listing goes on; a listing cut
//! short goes on from its error's resume position (`page` and the items before it).

use crate::decode::split_listing;
use crate::error::{ApiError, ErrorKind};
use crate::paginate::{Items, position_for, wrong_style};
use crate::resume::ResumePosition;

/// A page's list of items as the generated model holds it: a required list, or one the
/// service may leave out or send as `null` (an empty page).
pub trait PageItems<T> {
    /// The items, in order.
    fn into_items(self) -> Vec<T>;
}

impl<T> PageItems<T> for Vec<T> {
    fn into_items(self) -> Vec<T> {
        self
    }
}

impl<T> PageItems<T> for Option<Vec<T>> {
    fn into_items(self) -> Vec<T> {
        self.unwrap_or_default()
    }
}

/// A page's `total` as the generated model holds it (a negative or absent total is 0: the
/// listing ends after the page).
pub trait PageTotal {
    /// The total, as a count.
    fn into_total(self) -> u64;
}

impl PageTotal for i64 {
    fn into_total(self) -> u64 {
        u64::try_from(self).unwrap_or(0)
    }
}

impl PageTotal for u64 {
    fn into_total(self) -> u64 {
        self
    }
}

impl<N: PageTotal> PageTotal for Option<N> {
    fn into_total(self) -> u64 {
        self.map_or(0, PageTotal::into_total)
    }
}

/// One `{items, total}` page: `send()`'s page when it decodes; otherwise, when only some
/// items are refused, the envelope and every item decoded or refused on its own.
pub fn rows<P, T>(
    sent: Result<P, ApiError>,
    items_field: &'static str,
    into_parts: impl FnOnce(P) -> (Vec<T>, u64),
) -> Result<(Items<T>, u64), ApiError>
where
    P: serde::de::DeserializeOwned,
    T: serde::de::DeserializeOwned,
{
    match sent {
        Ok(page) => {
            let (rows, total) = into_parts(page);
            Ok((rows.into_iter().map(Ok).collect(), total))
        }
        Err(error) if error.kind() == ErrorKind::Decode => {
            let split = split_listing::<P, T>(error, &[items_field])?;
            let (_, total) = into_parts(split.envelope);
            Ok((split.items, total))
        }
        Err(error) => Err(error),
    }
}

/// Where the next page starts: its number and how many items came before it.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct PageAt {
    /// The page number, from 1.
    pub page: u64,
    /// The items on the pages before it.
    pub seen: u64,
}

impl PageAt {
    /// Where a listing that starts here goes on after a failure: page 1 is no place to
    /// resume from (start again).
    pub fn position(&self, operation: &str) -> Option<ResumePosition> {
        (self.page > 1).then(|| ResumePosition::page(operation, self.page, Some(self.seen)))
    }

    /// Where a listing taken back from `from` starts (`items_field`: the page's field with
    /// the items, for the error).
    pub fn resume(
        operation: &'static str,
        items_field: &str,
        from: Option<ResumePosition>,
    ) -> Result<Self, ApiError> {
        let Some(from) = from else {
            return Ok(Self { page: 1, seen: 0 });
        };
        let from = position_for(operation, from)?;
        match (from.next_page(), from.items_before()) {
            (Some(page), Some(seen)) => Ok(Self { page, seen }),
            _ => Err(wrong_style(
                operation,
                &from,
                &format!(
                    "`page` numbers, counting the {items_field} before the page against `total`"
                ),
            )),
        }
    }

    /// The page after this one, which held `items` items out of `total`: `None` at an
    /// empty page or once the items seen reach `total`.
    pub fn next(&self, items: usize, total: u64) -> Option<Self> {
        let seen = self.seen + items as u64;
        (items > 0 && seen < total).then_some(Self {
            page: self.page + 1,
            seen,
        })
    }
}

/// Adds `pages()`, `stream()` and `resume_from()` to the builder `$builder` (a type with the
/// lifetime `'a`, such as `$crate::builder::ListUsers<'a>` written by the client crate's own
/// macro) of a `{<items>, total}` listing with a `page` setter. `$page` is the page's model,
/// `$items` its field with the items, `$item` an item's model.
#[doc(hidden)]
#[macro_export]
macro_rules! page_number_pagination {
    ($builder:ty, $page:ty, $items:ident, $item:ty, $operation:literal) => {
        $crate::listing_methods!(
            $builder,
            $item,
            $operation,
            "From page 1, the other parameters set on this builder kept (page size, filters, \
             sort); `page` is set by the stream. It ends after the page that brings the items \
             seen to `total`, or at an empty page."
        );

        impl<'a> $crate::paginate::Paginated<'a> for $builder {
            type Item = $item;

            fn page_items_from(
                self,
                from: Option<$crate::ResumePosition>,
            ) -> ::futures::stream::BoxStream<
                'a,
                Result<$crate::paginate::Items<$item>, $crate::ApiError>,
            > {
                use $crate::paginate::page_number::{PageAt, PageItems as _, PageTotal as _};
                $crate::paginate::resumable_pages(
                    self.__runtime().page_limits(),
                    $operation,
                    PageAt::resume($operation, stringify!($items), from),
                    |at: &PageAt| at.position($operation),
                    move |at: PageAt| {
                        let request = self.clone().page(at.page);
                        async move {
                            let sent = request.send().await.map(|page| page.into_inner());
                            let (items, total) = $crate::paginate::page_number::rows(
                                sent,
                                stringify!($items),
                                |page: $page| (page.$items.into_items(), page.total.into_total()),
                            )?;
                            let next = at.next(items.len(), total);
                            Ok($crate::paginate::Page { items, next })
                        }
                    },
                )
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_ends_at_total_or_at_an_empty_page() {
        let first = PageAt { page: 1, seen: 0 };
        assert_eq!(first.next(2, 5), Some(PageAt { page: 2, seen: 2 }));
        assert_eq!(PageAt { page: 3, seen: 4 }.next(1, 5), None);
        assert_eq!(first.next(0, 5), None, "an empty page ends it");
        assert_eq!(first.next(2, (-1_i64).into_total()), None);
        assert_eq!(None::<i64>.into_total(), 0);
        assert_eq!(
            PageItems::<u8>::into_items(None::<Vec<u8>>),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn a_position_goes_back_to_its_page_and_count() {
        let at = PageAt { page: 3, seen: 40 };
        let position = at.position("list_users").expect("past page 1");
        assert_eq!(
            PageAt::resume("list_users", "rows", Some(position)).unwrap(),
            at
        );
        assert_eq!(PageAt { page: 1, seen: 0 }.position("list_users"), None);
        let cursor = ResumePosition::cursor("list_users", "abc");
        let err = PageAt::resume("list_users", "rows", Some(cursor)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(err.to_string().contains("counting the rows"), "{err}");
    }
}
