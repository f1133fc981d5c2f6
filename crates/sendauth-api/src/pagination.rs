//! Pagination streams for SendAuth listings: `page` and `perPage` in, `{rows, total}` out.

use api_runtime::paginate::{self, Page};
use futures::stream::BoxStream;

use crate::{ApiError, builder, types};

/// Where the next SendAuth page starts: its number and how many rows came before it.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct PageAt {
    page: u64,
    seen: u64,
}

/// Adds `pages()` and `stream()` to a builder of a `{rows, total}` listing.
macro_rules! page_number_pagination {
    ($builder:ident, $item:ty, $operation:literal) => {
        impl<'a> builder::$builder<'a> {
            #[doc = concat!(
                "Every page of `", $operation, "`, from page 1, as a stream of row vectors.\n\n",
                "The other parameters set on this builder are kept (`perPage`, filters, sort); ",
                "`page` is set by the stream. It ends after the page that brings the rows seen ",
                "to `total`, or at an empty page. Each page is a full call, with the same ",
                "retries and timeouts as any other."
            )]
            pub fn pages(self) -> BoxStream<'a, Result<Vec<$item>, ApiError>> {
                let first = PageAt { page: 1, seen: 0 };
                paginate::pages(self.__runtime().page_limits(), $operation, first, move |at: PageAt| {
                    let request = self.clone().page(at.page);
                    async move {
                        let page = request.send().await?.into_inner();
                        let rows = page.rows.unwrap_or_default();
                        let seen = at.seen + rows.len() as u64;
                        let total = u64::try_from(page.total).unwrap_or(0);
                        let next = (!rows.is_empty() && seen < total).then_some(PageAt {
                            page: at.page + 1,
                            seen,
                        });
                        Ok(Page { items: rows, next })
                    }
                })
            }

            #[doc = concat!(
                "Every row of `", $operation, "`, across pages, as a stream; see [`Self::pages`]."
            )]
            pub fn stream(self) -> BoxStream<'a, Result<$item, ApiError>> {
                paginate::items(self.pages())
            }
        }
    };
}

page_number_pagination!(ListUsers, types::User, "list_users");
page_number_pagination!(ListDeletedUsers, types::User, "list_deleted_users");
page_number_pagination!(GetUserAudits, types::Audit, "get_user_audits");
page_number_pagination!(
    GetUserTransactions,
    types::Transaction,
    "get_user_transactions"
);
