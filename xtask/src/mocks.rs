//! Typed httpmock mocks for one spec: progenitor's `Generator::httpmock` output, with the
//! same generator settings and `x-rust-name` handling as the client, adapted so that it
//! compiles against the client crate and matches what the client sends:
//!
//! - the wire name of a renamed query parameter is matched (`query_param("role", …)` for the
//!   `single_role` setter), by `rust_names`;
//! - paths into the client's own `crate::types` point at the client crate;
//! - a list-valued query parameter (`role[]`) matches each of its values (progenitor would
//!   call `to_string()` on the list);
//! - a path parameter's value is matched literally (progenitor puts it into the path regex
//!   unescaped);
//! - each `…When` wrapper implements the mock crates' `TypedWhen`, so the scenarios of
//!   `api-mock` take any operation's typed matcher; each `…Then` implements `TypedThen`, so
//!   any answer can carry headers (`retry_after`, `rate_limit`).
//!
//! Each step checks that progenitor's output has the shape it expects and fails with a clear
//! error otherwise.

use std::path::PathBuf;

use openapiv3::OpenAPI;
use progenitor::Generator;
use quote::{ToTokens, quote};
use syn::visit_mut::{self, VisitMut};

use crate::open_enum::OpenEnum;
use crate::rust_names::{Output, generate_output_with_rust_names};

/// The mock crate of a service: `crates/<svc>-api-mock`.
pub(crate) fn crate_dir(service: &str) -> PathBuf {
    crate::workspace_root()
        .join("crates")
        .join(format!("{service}-api-mock"))
}

/// `crates/<svc>-api-mock/src/generated.rs`, as (path, content); `header` is the client's.
pub(crate) fn generate(
    spec: &OpenAPI,
    enums: &[OpenEnum],
    service: &str,
    rel: &str,
    header: &str,
) -> Result<(PathBuf, String), String> {
    let client_crate = format!("{service}_api");
    let tokens = generate_output_with_rust_names(spec, rel, Output::Mock, |spec| {
        crate::generate::progenitor_output(rel, "httpmock", || {
            Generator::new(&crate::generate::settings(enums)).httpmock(spec, &client_crate)
        })
    })?;
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("{rel}: progenitor's mocks do not parse: {e}"))?;
    retarget_crate_paths(&mut file, &client_crate)?;
    ListParams.visit_file_mut(&mut file);
    WholeNumbers.visit_file_mut(&mut file);
    let mut paths = LiteralPathParams { rewritten: 0 };
    paths.visit_file_mut(&mut file);
    let path_setters = file
        .to_token_stream()
        .to_string()
        .matches("path_matches (re)")
        .count();
    if paths.rewritten != path_setters {
        return Err(format!(
            "{rel}: matched {} of {path_setters} path parameters literally; progenitor's \
             mocks have changed shape",
            paths.rewritten
        ));
    }
    let whens = typed_whens(&file, rel)?;
    file.items.extend(whens);
    crate::docs::normalize(&mut file);
    let body = crate::generate::rustfmt(&prettyplease::unparse(&file))?;
    Ok((
        crate_dir(service).join("src/generated.rs"),
        format!("{header}{body}"),
    ))
}

/// `crate::types::X` (a replaced type, as the client names it) → `<client crate>::types::X`.
pub(crate) fn retarget_crate_paths(file: &mut syn::File, client_crate: &str) -> Result<(), String> {
    struct Retarget<'a> {
        to: &'a syn::Path,
    }
    impl VisitMut for Retarget<'_> {
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            if path.segments.len() > 2
                && path.segments[0].ident == "crate"
                && path.segments[1].ident == "types"
            {
                let rest: Vec<syn::PathSegment> = path.segments.iter().skip(1).cloned().collect();
                let mut new = self.to.clone();
                new.segments.extend(rest);
                *path = new;
            }
            visit_mut::visit_path_mut(self, path);
        }
        fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
            // `value_parser!(crate::types::X)` in the CLI: the type is inside the macro.
            if let Ok(mut ty) = syn::parse2::<syn::Type>(mac.tokens.clone()) {
                self.visit_type_mut(&mut ty);
                mac.tokens = ty.to_token_stream();
            }
        }
    }
    let to: syn::Path =
        syn::parse_str(&format!("::{client_crate}")).map_err(|e| format!("{client_crate}: {e}"))?;
    Retarget { to: &to }.visit_file_mut(file);
    Ok(())
}

/// In a `…When` setter whose value is a list (`T: Into<Option<&Vec<X>>>`), progenitor calls
/// `query_param(name, value.to_string())`; a list is sent as one pair per value, so each value
/// is matched instead.
struct ListParams;

impl VisitMut for ListParams {
    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        let generics = f.sig.generics.to_token_stream().to_string()
            + &f.sig.generics.where_clause.to_token_stream().to_string();
        if generics.contains(":: std :: vec :: Vec <") {
            let mut fix = ListValue;
            fix.visit_block_mut(&mut f.block);
        }
        visit_mut::visit_impl_item_fn_mut(self, f);
    }
}

struct ListValue;

impl VisitMut for ListValue {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::Call(call) = expr
            && call.func.to_token_stream().to_string() == "Self"
            && let Some(syn::Expr::MethodCall(inner)) = call.args.first()
            && inner.method == "query_param"
            && let Some(name) = inner.args.first()
        {
            let receiver = &inner.receiver;
            *expr = syn::parse_quote!({
                let mut when = #receiver;
                for value in value {
                    when = when.query_param(#name, value.to_string());
                }
                Self(when)
            });
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

/// A `…When` setter of a whole-number parameter takes `T: Into<Option<NonZeroU64>>` from
/// progenitor, so `when.per_page(2)` does not compile where `client.list_users().per_page(2)`
/// does. It takes `T: api_mock::QueryValue<X>` instead: any integer, as the client's setter,
/// or an `Option<X>` (`None`: the parameter is not sent).
struct WholeNumbers;

const WHOLE_NUMBERS: &[&str] = &[
    ":: std :: num :: NonZeroU32",
    ":: std :: num :: NonZeroU64",
    "i64",
    "u64",
    "u32",
    "i32",
];

impl VisitMut for WholeNumbers {
    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        let Some(where_clause) = f.sig.generics.where_clause.as_mut() else {
            return;
        };
        let mut rewritten = false;
        for predicate in &mut where_clause.predicates {
            let text = predicate.to_token_stream().to_string();
            let Some(target) = text
                .strip_prefix("T : Into < Option < ")
                .and_then(|rest| rest.strip_suffix(" > >"))
            else {
                continue;
            };
            if !WHOLE_NUMBERS.contains(&target) {
                continue;
            }
            let target: syn::Type = match syn::parse_str(target) {
                Ok(ty) => ty,
                Err(_) => continue,
            };
            *predicate = syn::parse_quote!(T: ::api_mock::QueryValue<#target>);
            rewritten = true;
        }
        if rewritten {
            struct Into;
            impl VisitMut for Into {
                fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
                    if expr.to_token_stream().to_string() == "value . into ()" {
                        *expr = syn::parse_quote!(::api_mock::QueryValue::query_value(value));
                        return;
                    }
                    visit_mut::visit_expr_mut(self, expr);
                }
            }
            Into.visit_block_mut(&mut f.block);
        }
    }
}

/// `format!(path_regex, value.to_string())` → `format!(path_regex, regex::escape(&…))`: a path
/// parameter's value is matched as written, not as a regular expression.
struct LiteralPathParams {
    rewritten: usize,
}

impl VisitMut for LiteralPathParams {
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if mac.path.is_ident("format") {
            let text = mac.tokens.to_string();
            if text.starts_with("\"^/") && text.ends_with(", value . to_string ()") {
                let (fmt, _) = text.split_once(',').unwrap_or((&text, ""));
                if let Ok(fmt) = syn::parse_str::<syn::LitStr>(fmt) {
                    mac.tokens = quote!(#fmt, ::regex::escape(&value.to_string()));
                    self.rewritten += 1;
                }
            }
        }
    }
}

/// `impl api_mock::TypedWhen for operations::XWhen` for every operation's matcher, and
/// `impl api_mock::TypedThen for operations::XThen` for every operation's answer.
fn typed_whens(file: &syn::File, rel: &str) -> Result<Vec<syn::Item>, String> {
    let operations = crate::tables::module(&file.items, "operations");
    if operations.is_empty() {
        return Err(format!(
            "{rel}: progenitor's mocks have no `operations` module"
        ));
    }
    let mut out = Vec::new();
    let (mut whens, mut thens) = (0usize, 0usize);
    for item in operations {
        let syn::Item::Struct(s) = item else {
            continue;
        };
        let ident = &s.ident;
        if ident.to_string().ends_with("When") {
            whens += 1;
            out.push(syn::parse_quote! {
                impl ::api_mock::TypedWhen for operations::#ident {
                    fn from_when(when: ::httpmock::When) -> Self {
                        Self::new(when)
                    }
                    fn into_when(self) -> ::httpmock::When {
                        self.into_inner()
                    }
                }
            });
        } else if ident.to_string().ends_with("Then") {
            thens += 1;
            out.push(syn::parse_quote! {
                impl ::api_mock::TypedThen for operations::#ident {
                    fn from_then(then: ::httpmock::Then) -> Self {
                        Self::new(then)
                    }
                    fn into_then(self) -> ::httpmock::Then {
                        self.into_inner()
                    }
                }
            });
        }
    }
    if whens == 0 || whens != thens {
        return Err(format!(
            "{rel}: progenitor's mocks have {whens} `…When` matchers and {thens} `…Then` \
             answers; expected one of each per operation"
        ));
    }
    Ok(out)
}
