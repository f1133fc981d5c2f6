//! Pagination and jobs, declared once in the spec and written everywhere from it.
//!
//! A listing says how it pages with `x-pagination` on its operation:
//!
//! ```yaml
//! x-pagination:
//!   style: cursor        # cursor | offset | page-number | export-cursor
//!   items: users         # the response's array of items
//!   stop: meta.has_more  # what ends it (the style's own rule, checked against the schema)
//! ```
//!
//! - `cursor`: Zendesk's cursor pages (`page[after]` from `meta.after_cursor` while
//!   `meta.has_more`), or its `next_page` page numbers (`page`) without `page[size]`;
//!   stop `meta.has_more`.
//! - `offset`: `next_page` page numbers only (`page`); stop `next_page`.
//! - `page-number`: `page` from 1, `{items, total}` pages; stop `total`.
//! - `export-cursor`: an incremental export (`cursor` from `after_cursor`); stop
//!   `end_of_stream`. Its stream is the client's own export helper.
//!
//! A bulk operation that answers a job says so with `x-job: {status: job_status}` (the
//! response field holding the job).
//!
//! From these the generator writes the client's `.pages()`, `.stream()` and `.resume_from()`
//! (a call of the style's macro, in `generated.rs`: api-runtime's `page_number_pagination!`,
//! shared by every client, or the client crate's own in its `pagination.rs` for Zendesk's
//! cursor and offset rules), the CLI's `--all` and `--wait` (in its generated module),
//! the mocks' page scenarios (`<operation>_in_<style>_pages`), and the `OPERATIONS.md` rows.
//! Every mistake is an error naming the spec, the operation and the JSON pointer.

use std::fmt::Write as _;

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};
use quote::{format_ident, quote};

/// The extension on a listing operation.
pub(crate) const PAGINATION: &str = "x-pagination";
/// The extension on an operation that answers a job.
pub(crate) const JOB: &str = "x-job";

/// How a listing pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Cursor,
    Offset,
    PageNumber,
    ExportCursor,
}

impl Style {
    const ALL: [Style; 4] = [
        Style::Cursor,
        Style::Offset,
        Style::PageNumber,
        Style::ExportCursor,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Style::Cursor => "cursor",
            Style::Offset => "offset",
            Style::PageNumber => "page-number",
            Style::ExportCursor => "export-cursor",
        }
    }

    /// The stop rule the style follows.
    fn stop(self) -> &'static str {
        match self {
            Style::Cursor => "meta.has_more",
            Style::Offset => "next_page",
            Style::PageNumber => "total",
            Style::ExportCursor => "end_of_stream",
        }
    }

    /// The query parameters the style sets on each request.
    fn parameters(self) -> &'static [&'static str] {
        match self {
            Style::Cursor => &["page[after]", "page"],
            Style::Offset | Style::PageNumber => &["page"],
            Style::ExportCursor => &["cursor"],
        }
    }

    /// The macro that adds the style's methods to a builder: the client crate's own
    /// (`crate::pagination::…`, for Zendesk's wire rules) or api-runtime's, shared by every
    /// client (`None`: the export has its own helper).
    fn client_macro(self) -> Option<(Macro, &'static str)> {
        match self {
            Style::Cursor => Some((Macro::Crate, "cursor_pagination")),
            Style::Offset => Some((Macro::Crate, "offset_pagination")),
            Style::PageNumber => Some((Macro::Runtime, "page_number_pagination")),
            Style::ExportCursor => None,
        }
    }

    /// The mock scenarios of a listing in this style: (method suffix, what it answers).
    fn scenarios(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Style::Cursor => &[
                (
                    "in_cursor_pages",
                    "in cursor pages of `per_page` (`meta.has_more`, `meta.after_cursor` = \
                     `cursor-1`, `cursor-2` …): the first page to a request without \
                     `page[after]`, each next one to its cursor",
                ),
                (
                    "in_offset_pages",
                    "in offset pages of `per_page` (`next_page` is the next page's URL, \
                     `count` the total): the first page to a request without `page`, page `n` \
                     to `page=n`",
                ),
            ],
            Style::Offset => &[(
                "in_offset_pages",
                "in offset pages of `per_page` (`next_page` is the next page's URL, `count` \
                 the total): the first page to a request without `page`, page `n` to `page=n`",
            )],
            Style::PageNumber => &[(
                "in_pages",
                "in pages of `per_page` (with `total`): page `n` to `page=n`, from 1; a page \
                 after the last is empty",
            )],
            Style::ExportCursor => &[(
                "in_export_pages",
                "in export pages of `per_page` (`after_cursor` = `cursor-1`, `cursor-2` …, \
                 `end_of_stream` on the last): the first page to a request without `cursor`, \
                 each next one to its cursor",
            )],
        }
    }
}

/// Where a style's macro lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Macro {
    /// The client crate's `src/pagination.rs`; it takes the builder's name.
    Crate,
    /// `api_runtime`; it takes the builder's type (`crate::builder::ListUsers<'a>`).
    Runtime,
}

/// A listing the spec declares.
#[derive(Clone, Debug)]
pub(crate) struct Listing {
    pub id: String,
    /// The operation's path template.
    pub path: String,
    pub style: Style,
    /// The response field holding the items.
    pub items: String,
    /// The response's component schema (`UserPage`).
    pub page_type: String,
    /// The items' component schema (`User`).
    pub item_type: String,
}

/// An operation that answers a job.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub id: String,
    /// The response field holding the job.
    pub status: String,
    /// The job's component schema (`JobStatus`).
    pub status_type: String,
    /// The success status the operation answers with.
    pub code: u16,
}

/// Everything a spec declares about pagination and jobs, sorted by operation id.
#[derive(Clone, Debug, Default)]
pub(crate) struct Declared {
    pub listings: Vec<Listing>,
    pub jobs: Vec<Job>,
}

impl Declared {
    /// The listing `id`, if it is one.
    pub(crate) fn listing(&self, id: &str) -> Option<&Listing> {
        self.listings.iter().find(|l| l.id == id)
    }

    /// The job-answering operation `id`, if it is one.
    pub(crate) fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }
}

/// Reads and checks every `x-pagination` and `x-job` of `spec`; every mistake is reported,
/// each naming the operation and the JSON pointer of what is wrong.
pub(crate) fn collect(spec: &OpenAPI, rel: &str) -> Result<Declared, String> {
    let mut declared = Declared::default();
    let mut errors = Vec::new();
    for (path, method, op) in spec.operations() {
        let id = op.operation_id.clone().unwrap_or_default();
        let at = crate::spec::operation_pointer(path, method);
        if let Some(value) = op.extensions.get(PAGINATION) {
            match listing(spec, path, op, &id, value, &at, rel) {
                Ok(l) => declared.listings.push(l),
                Err(e) => errors.push(e),
            }
        }
        if let Some(value) = op.extensions.get(JOB) {
            match job(spec, op, &id, value, &at) {
                Ok(j) => declared.jobs.push(j),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|e| format!("{rel}: {e}"))
            .collect::<Vec<_>>()
            .join("\n"));
    }
    declared.listings.sort_by(|a, b| a.id.cmp(&b.id));
    declared.jobs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(declared)
}

fn listing(
    spec: &OpenAPI,
    path: &str,
    op: &openapiv3::Operation,
    id: &str,
    value: &serde_json::Value,
    at: &str,
    rel: &str,
) -> Result<Listing, String> {
    let at = format!("{at}/{PAGINATION}");
    let object = value
        .as_object()
        .ok_or_else(|| format!("`{id}`: {at} must be an object with style, items and stop"))?;
    if let Some(key) = object
        .keys()
        .find(|k| !["style", "items", "stop"].contains(&k.as_str()))
    {
        return Err(format!(
            "`{id}`: {at}/{key} is not a pagination field (style, items, stop)"
        ));
    }
    let text = |key: &str| {
        object
            .get(key)
            .and_then(|v| v.as_str())
            .ok_or_else(|| format!("`{id}`: {at}/{key} must be a string"))
    };
    let style_name = text("style")?;
    let style = Style::ALL
        .into_iter()
        .find(|s| s.name() == style_name)
        .ok_or_else(|| {
            format!(
                "`{id}`: {at}/style `{style_name}` is none of {}",
                Style::ALL.map(Style::name).join(", ")
            )
        })?;
    let stop = text("stop")?;
    if stop != style.stop() {
        return Err(format!(
            "`{id}`: {at}/stop `{stop}` is not the stop rule of the {} style (`{}`)",
            style.name(),
            style.stop()
        ));
    }
    let items = text("items")?.to_string();
    let params = crate::spec::parameters(spec, path, op, rel)?;
    for wanted in style.parameters() {
        if !params
            .iter()
            .any(|(p, location)| p.name == *wanted && *location == "query")
        {
            return Err(format!(
                "`{id}`: the {} style sets the query parameter `{wanted}`, which {} does not \
                 declare",
                style.name(),
                crate::spec::pointer(["paths", path, "parameters"])
            ));
        }
    }
    let (page_type, page) = success_schema(spec, op)
        .ok_or_else(|| format!("`{id}`: {at}: the success response is not a $ref to a schema"))?;
    let page_at = format!("#/components/schemas/{page_type}");
    let properties = properties(spec, page)
        .ok_or_else(|| format!("`{id}`: {at}: {page_at} is not an object schema"))?;
    let item = properties
        .iter()
        .find(|(name, _)| **name == items)
        .map(|(_, schema)| *schema)
        .ok_or_else(|| format!("`{id}`: {at}/items: {page_at}/properties has no `{items}`"))?;
    let item_type = array_item(spec, item).ok_or_else(|| {
        format!(
            "`{id}`: {at}/items: {page_at}/properties/{items} is not an array of a $ref to a \
             component schema"
        )
    })?;
    let first = style.stop().split('.').next().unwrap_or_default();
    if !properties.iter().any(|(name, _)| *name == first) {
        return Err(format!(
            "`{id}`: {at}/stop: {page_at}/properties has no `{first}`"
        ));
    }
    Ok(Listing {
        id: id.to_string(),
        path: path.to_string(),
        style,
        items,
        page_type: page_type.to_string(),
        item_type,
    })
}

fn job(
    spec: &OpenAPI,
    op: &openapiv3::Operation,
    id: &str,
    value: &serde_json::Value,
    at: &str,
) -> Result<Job, String> {
    let at = format!("{at}/{JOB}");
    let status = value
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("status"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            format!("`{id}`: {at} must be `{{status: FIELD}}`, the response field with the job")
        })?;
    let (code, response_type, response) = success(spec, op)
        .ok_or_else(|| format!("`{id}`: {at}: the success response is not a $ref to a schema"))?;
    let status_type = properties(spec, response)
        .and_then(|p| p.into_iter().find(|(name, _)| *name == status))
        .and_then(|(_, schema)| ref_name(schema))
        .ok_or_else(|| {
            format!(
                "`{id}`: {at}/status: #/components/schemas/{response_type}/properties/{status} \
                 is not a $ref to the job's schema"
            )
        })?;
    Ok(Job {
        id: id.to_string(),
        status: status.to_string(),
        status_type,
        code,
    })
}

/// The component schema of the first 2xx JSON response: its name and the schema.
fn success_schema<'a>(
    spec: &'a OpenAPI,
    op: &'a openapiv3::Operation,
) -> Option<(&'a str, &'a Schema)> {
    success(spec, op).map(|(_, name, schema)| (name, schema))
}

/// [`success_schema`] with its status code.
fn success<'a>(
    spec: &'a OpenAPI,
    op: &'a openapiv3::Operation,
) -> Option<(u16, &'a str, &'a Schema)> {
    let (code, response) = op.responses.responses.iter().find_map(|(code, r)| {
        let openapiv3::StatusCode::Code(code) = code else {
            return None;
        };
        Some((*code, ((200..300).contains(code)).then_some(r)?.as_item()?))
    })?;
    let media = response.content.get("application/json")?;
    let ReferenceOr::Reference { reference } = media.schema.as_ref()? else {
        return None;
    };
    let name = reference.strip_prefix("#/components/schemas/")?;
    let schema = crate::spec::component(spec, reference)?;
    Some((code, name, schema))
}

/// A property of an object schema: its name and schema.
type Property<'a> = (&'a str, &'a ReferenceOr<Box<Schema>>);

/// An object schema's properties, following `allOf` into the parts' own.
fn properties<'a>(spec: &'a OpenAPI, schema: &'a Schema) -> Option<Vec<Property<'a>>> {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(object)) => Some(
            object
                .properties
                .iter()
                .map(|(name, s)| (name.as_str(), s))
                .collect(),
        ),
        SchemaKind::AllOf { all_of } => {
            let mut out = Vec::new();
            for part in all_of {
                let part = crate::spec::resolve(spec, part)?;
                out.extend(properties(spec, part)?);
            }
            Some(out)
        }
        _ => None,
    }
}

/// The component name a `$ref` property points at.
fn ref_name(schema: &ReferenceOr<Box<Schema>>) -> Option<String> {
    match schema {
        ReferenceOr::Reference { reference } => reference
            .strip_prefix("#/components/schemas/")
            .map(str::to_string),
        ReferenceOr::Item(_) => None,
    }
}

/// The component name of an array property's items.
fn array_item(spec: &OpenAPI, schema: &ReferenceOr<Box<Schema>>) -> Option<String> {
    let schema = crate::spec::resolve_boxed(spec, schema)?;
    match &schema.schema_kind {
        SchemaKind::Type(Type::Array(array)) => match array.items.as_ref()? {
            ReferenceOr::Reference { reference } => reference
                .strip_prefix("#/components/schemas/")
                .map(str::to_string),
            ReferenceOr::Item(_) => None,
        },
        _ => None,
    }
}

/// The client's items: one call of the crate's style macro per listing, in `generated.rs`.
pub(crate) fn client_items(declared: &Declared) -> Result<Vec<syn::Item>, String> {
    declared
        .listings
        .iter()
        .filter_map(|l| {
            let (place, name) = l.style.client_macro()?;
            let style = format_ident!("{}", name);
            let builder = format_ident!("{}", crate::naming::pascal(&l.id));
            let page = format_ident!("{}", l.page_type);
            let item = format_ident!("{}", l.item_type);
            let items = format_ident!("{}", l.items);
            let id = &l.id;
            Some(match place {
                Macro::Crate => quote! {
                    crate::pagination::#style!(#builder, types::#page, #items, types::#item, #id);
                },
                Macro::Runtime => quote! {
                    ::api_runtime::#style!(
                        crate::builder::#builder<'a>, types::#page, #items, types::#item, #id
                    );
                },
            })
        })
        .map(|tokens| syn::parse2(tokens).map_err(|e| format!("a pagination macro call: {e}")))
        .collect()
}

/// The CLI module's items: which commands take `--all` and `--wait`, and their arms.
pub(crate) fn cli_items(declared: &Declared, service: &str) -> Result<Vec<syn::Item>, String> {
    let command = |id: &str| format_ident!("{}", crate::naming::pascal(id));
    let paging_arms = declared.listings.iter().map(|l| {
        let cmd = command(&l.id);
        let kind = match l.style {
            Style::ExportCursor => quote!(Export),
            _ => quote!(Resumable),
        };
        quote!(CliCommand::#cmd => Some(crate::services::Paging::#kind),)
    });
    let jobs: Vec<_> = declared.jobs.iter().map(|j| command(&j.id)).collect();
    let module = format_ident!("{}_cli", service);
    let all_arms = declared.listings.iter().map(|l| {
        let cmd = command(&l.id);
        match l.style {
            Style::ExportCursor => quote! {
                CliCommand::#cmd => Some(crate::services::#module::export_all(&self.client, matches).await),
            },
            _ => {
                let request = format_ident!("request_{}", l.id);
                quote! {
                    CliCommand::#cmd => Some(match self.#request(matches) {
                        Ok(request) => crate::services::all(request, cmd.operation_id(), matches).await,
                        Err(e) => Err(e),
                    }),
                }
            }
        }
    });
    let job_arms = declared.jobs.iter().map(|j| {
        let cmd = command(&j.id);
        let request = format_ident!("request_{}", j.id);
        let field = format_ident!("{}", j.status);
        quote! {
            CliCommand::#cmd => Some(match self.#request(matches) {
                Ok(request) => request
                    .send()
                    .await
                    .map(|response| response.into_inner().#field)
                    .map_err(anyhow::Error::from),
                Err(e) => Err(e),
            }),
        }
    });
    let status_type = match declared.jobs.first() {
        Some(job) => {
            let client = format_ident!("{}", service);
            let ty = format_ident!("{}", job.status_type);
            if let Some(other) = declared
                .jobs
                .iter()
                .find(|j| j.status_type != job.status_type)
            {
                return Err(format!(
                    "`{}` and `{}` answer jobs of different schemas ({} and {})",
                    job.id, other.id, job.status_type, other.status_type
                ));
            }
            Some(quote!(user_apis::#client::types::#ty))
        }
        None => None,
    };
    let send_job = status_type.map(|ty| {
        quote! {
            impl<T: CliConfig> Cli<T> {
                /// Sends a command that answers a job and returns the job, for `--wait`;
                /// `None` for another command.
                pub async fn send_job(
                    &self,
                    cmd: CliCommand,
                    matches: &::clap::ArgMatches,
                ) -> Option<anyhow::Result<#ty>> {
                    match cmd {
                        #(#job_arms)*
                        _ => None,
                    }
                }
            }
        }
    });
    let answers = if jobs.is_empty() {
        quote!(false)
    } else {
        quote!(matches!(self, #(CliCommand::#jobs)|*))
    };
    let tokens = quote! {
        impl CliCommand {
            /// How `--all` follows this command's pages, if it has pages.
            pub fn paging(self) -> Option<crate::services::Paging> {
                match self {
                    #(#paging_arms)*
                    _ => None,
                }
            }

            /// Whether this command answers a job that `--wait` waits for.
            pub fn answers_job(self) -> bool {
                #answers
            }
        }

        impl<T: CliConfig> Cli<T> {
            /// `--all`: every item of a listing command, page after page; `None` for a
            /// command without pages.
            pub async fn all(
                &self,
                cmd: CliCommand,
                matches: &::clap::ArgMatches,
            ) -> Option<anyhow::Result<()>> {
                match cmd {
                    #(#all_arms)*
                    _ => None,
                }
            }
        }

        #send_job
    };
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("the CLI's paging and job items: {e}"))?;
    Ok(file.items)
}

/// The mock crate's items: a `PageScenarios` trait with one method per listing and style
/// scenario, implemented for the mock server with `api_mock::pages`.
pub(crate) fn mock_items(declared: &Declared, service: &str) -> Result<Vec<syn::Item>, String> {
    let client = format_ident!("{}_api", service);
    let mut signatures = Vec::new();
    let mut bodies = Vec::new();
    for l in &declared.listings {
        let item = format_ident!("{}", l.item_type);
        let when = format_ident!("{}When", crate::naming::pascal(&l.id));
        let items_field = &l.items;
        let path = &l.path;
        for (suffix, what) in l.style.scenarios() {
            let method = format_ident!("{}_{}", l.id, suffix);
            let builder = format_ident!("{}", suffix.trim_start_matches("in_"));
            let doc = format!(
                "`{}` answers `items` {what}. Returns one mock per page.",
                l.id
            );
            signatures.push(quote! {
                #[doc = #doc]
                fn #method(
                    &self,
                    items: &[::#client::types::#item],
                    per_page: usize,
                ) -> Vec<::httpmock::Mock<'_>>;
            });
            bodies.push(quote! {
                fn #method(
                    &self,
                    items: &[::#client::types::#item],
                    per_page: usize,
                ) -> Vec<::httpmock::Mock<'_>> {
                    ::api_mock::pages::#builder::<_, operations::#when>(
                        self, items, per_page, #items_field, #path,
                    )
                }
            });
        }
    }
    let pages = (!signatures.is_empty()).then(|| {
        quote! {
            /// Listings across pages: one scenario per paginated operation of the spec and per
            /// way it pages.
            pub trait PageScenarios {
                #(#signatures)*
            }

            impl PageScenarios for ::httpmock::MockServer {
                #(#bodies)*
            }
        }
    });
    let (mut signatures, mut bodies) = (Vec::new(), Vec::new());
    for j in &declared.jobs {
        let method = format_ident!("{}_answers_job", j.id);
        let when = format_ident!("{}When", crate::naming::pascal(&j.id));
        let status = format_ident!("{}", j.status_type);
        let (field, code) = (&j.status, j.code);
        let doc = format!(
            "`{}` answers every request with `job` (in `{field}`, status {code}), the job \
             it started.",
            j.id
        );
        signatures.push(quote! {
            #[doc = #doc]
            fn #method(&self, job: &::#client::types::#status) -> ::httpmock::Mock<'_>;
        });
        bodies.push(quote! {
            fn #method(&self, job: &::#client::types::#status) -> ::httpmock::Mock<'_> {
                ::api_mock::pages::answer_field::<operations::#when, _>(self, #code, #field, job)
            }
        });
    }
    let jobs = (!signatures.is_empty()).then(|| {
        quote! {
            /// Bulk operations: one scenario per operation of the spec that answers a job.
            pub trait JobScenarios {
                #(#signatures)*
            }

            impl JobScenarios for ::httpmock::MockServer {
                #(#bodies)*
            }
        }
    });
    let tokens = quote! { #pages #jobs };
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("the mocks' page scenarios: {e}"))?;
    Ok(file.items)
}

/// What `OPERATIONS.md`'s Rust call cell adds for operation `id`.
pub(crate) fn call_note(declared: &Declared, id: &str) -> String {
    let mut note = String::new();
    if let Some(l) = declared.listing(id) {
        let _ = match l.style {
            Style::Cursor => write!(
                note,
                "; `.stream()`, `.pages()`, `.resume_from(…)`: cursor or page-number pages \
                 of `{}`",
                l.items
            ),
            Style::Offset => write!(
                note,
                "; `.stream()`, `.pages()`, `.resume_from(…)`: `next_page` pages of `{}`",
                l.items
            ),
            Style::PageNumber => write!(
                note,
                "; `.stream()`, `.pages()`, `.resume_from(…)`: page-number pages of `{}` up to \
                 `total`",
                l.items
            ),
            Style::ExportCursor => write!(
                note,
                "; `client.export_users(…)`: the export's cursor pages of `{}` to \
                 `end_of_stream`",
                l.items
            ),
        };
    }
    if let Some(j) = declared.job(id) {
        let _ = write!(
            note,
            "; answers a job (`{}`): `client.wait_for_job(…)`",
            j.status
        );
    }
    note
}

/// The mocks' page-scenario tokens for a spec, for the xtask test.
#[cfg(test)]
fn tokens(items: &[syn::Item]) -> proc_macro2::TokenStream {
    quote!(#(#items)*)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn spec(extra: &str) -> OpenAPI {
        let text = std::fs::read_to_string(crate::workspace::root().join("specs/sendauth.yaml"))
            .expect("the SendAuth spec");
        yaml_serde::from_str(&text.replacen("\npaths:\n", &format!("\npaths:\n{extra}"), 1))
            .expect("a spec")
    }

    pub(crate) const WIDGETS: &str = "  /api/v1/widgets:
    get:
      operationId: list_widgets
      x-pagination: {style: page-number, items: rows, stop: total}
      parameters:
        - {name: page, in: query, schema: {type: integer, minimum: 1}}
      responses:
        '200':
          description: A page.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/UserPage'}
";

    #[test]
    fn a_declared_listing_is_read_with_its_types() {
        let declared = collect(&spec(WIDGETS), "scratch.yaml").expect("valid");
        let widgets = declared.listing("list_widgets").expect("declared");
        assert_eq!(widgets.style, Style::PageNumber);
        assert_eq!(
            (widgets.page_type.as_str(), widgets.item_type.as_str()),
            ("UserPage", "User")
        );
        let client = tokens(&client_items(&declared).unwrap()).to_string();
        assert!(
            client.contains(
                "api_runtime :: page_number_pagination ! (crate :: builder :: ListWidgets < 'a >"
            ),
            "{client}"
        );
    }

    #[test]
    fn every_mistake_names_the_operation_and_the_pointer() {
        let bad = WIDGETS
            .replace("style: page-number", "style: pages")
            .replace("list_widgets", "list_gadgets")
            .replace("/api/v1/widgets", "/api/v1/gadgets");
        let worse = WIDGETS
            .replace("items: rows", "items: widgets")
            .replace("list_widgets", "list_gizmos")
            .replace("/api/v1/widgets", "/api/v1/gizmos");
        let no_page = WIDGETS
            .replace(
                "        - {name: page, in: query, schema: {type: integer, minimum: 1}}\n",
                "",
            )
            .replace("parameters:\n", "parameters: []\n")
            .replace("list_widgets", "list_sprockets")
            .replace("/api/v1/widgets", "/api/v1/sprockets");
        let err = collect(&spec(&format!("{bad}{worse}{no_page}")), "scratch.yaml").unwrap_err();
        for wanted in [
            "scratch.yaml: `list_gadgets`: #/paths/~1api~1v1~1gadgets/get/x-pagination/style \
             `pages` is none of",
            "scratch.yaml: `list_gizmos`: #/paths/~1api~1v1~1gizmos/get/x-pagination/items: \
             #/components/schemas/UserPage/properties has no `widgets`",
            "scratch.yaml: `list_sprockets`: the page-number style sets the query parameter \
             `page`",
        ] {
            assert!(err.contains(wanted), "{wanted}\nin\n{err}");
        }
    }
}
