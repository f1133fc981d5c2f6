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
use quote::quote;
use syn::visit_mut::{self, VisitMut};

use crate::open_enum::OpenEnum;
use crate::rust_names::{Output, generate_output_with_rust_names};
use crate::syntax::{expr_is_path, last_segment, mentions, retarget_crate_paths, type_args};

/// The mock crate of a service: `crates/<svc>-api-mock`.
pub(crate) fn crate_dir(service: &str) -> PathBuf {
    crate::workspace::root()
        .join("crates")
        .join(format!("{service}-api-mock"))
}

/// `crates/<svc>-api-mock/src/generated.rs`, as (path, code before rustfmt); `header` is the
/// client's.
pub(crate) fn generate(
    spec: &OpenAPI,
    enums: &[OpenEnum],
    service: &str,
    rel: &str,
    header: &str,
) -> Result<(PathBuf, crate::codegen::Unformatted), String> {
    let client_crate = format!("{service}_api");
    let mut file = generate_output_with_rust_names(spec, rel, Output::Mock, |spec| {
        crate::codegen::progenitor_output(rel, "httpmock", spec, |spec| {
            Generator::new(&crate::codegen::settings(enums)).httpmock(spec, &client_crate)
        })
    })?;
    retarget_crate_paths(&mut file, &client_crate)?;
    ListParams.visit_file_mut(&mut file);
    WholeNumbers.visit_file_mut(&mut file);
    let mut paths = LiteralPathParams {
        rewritten: 0,
        path_setters: 0,
    };
    paths.visit_file_mut(&mut file);
    let path_setters = paths.path_setters;
    if paths.rewritten != path_setters {
        return Err(format!(
            "{rel}: matched {} of {path_setters} path parameters literally; progenitor's \
             mocks have changed shape",
            paths.rewritten
        ));
    }
    let whens = typed_whens(&file, rel)?;
    file.items.extend(whens);
    file.items.extend(crate::paging_gen::mock_items(
        &crate::paging_gen::collect(spec, rel)?,
        service,
    )?);
    crate::docs::normalize(&mut file);
    let code = crate::codegen::Unformatted {
        header: header.to_string(),
        code: prettyplease::unparse(&file),
    };
    Ok((crate_dir(service).join("src/generated.rs"), code))
}

/// In a `…When` setter whose value is a list (`T: Into<Option<&Vec<X>>>`), progenitor calls
/// `query_param(name, value.to_string())`; a list is sent as one pair per value, so each value
/// is matched instead.
struct ListParams;

impl VisitMut for ListParams {
    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        if mentions(
            &f.sig.generics,
            VisitMut::visit_generics_mut,
            &["std", "vec", "Vec"],
        ) {
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
            && expr_is_path(&call.func, &["Self"])
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

const WHOLE_NUMBERS: &[&[&str]] = &[
    &["std", "num", "NonZeroU32"],
    &["std", "num", "NonZeroU64"],
    &["i64"],
    &["u64"],
    &["u32"],
    &["i32"],
];

/// `X` of a predicate `T: Into<Option<X>>`.
fn into_option_target(predicate: &syn::WherePredicate) -> Option<&syn::Type> {
    let syn::WherePredicate::Type(predicate) = predicate else {
        return None;
    };
    let [syn::TypeParamBound::Trait(bound)] = predicate.bounds.iter().collect::<Vec<_>>()[..]
    else {
        return None;
    };
    let into = bound.path.segments.last().filter(|s| s.ident == "Into")?;
    let [option] = type_args(into)[..] else {
        return None;
    };
    let option = last_segment(option).filter(|s| s.ident == "Option")?;
    let [target] = type_args(option)[..] else {
        return None;
    };
    Some(target)
}

impl VisitMut for WholeNumbers {
    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        let Some(where_clause) = f.sig.generics.where_clause.as_mut() else {
            return;
        };
        let mut rewritten = false;
        for predicate in &mut where_clause.predicates {
            let Some(target) = into_option_target(predicate).cloned() else {
                continue;
            };
            let is_whole_number = matches!(&target, syn::Type::Path(p)
                if p.qself.is_none()
                    && WHOLE_NUMBERS.iter().any(|n| crate::syntax::path_is(&p.path, n)));
            if !is_whole_number {
                continue;
            }
            *predicate = syn::parse_quote!(T: ::api_mock::QueryValue<#target>);
            rewritten = true;
        }
        if rewritten {
            struct Into;
            impl VisitMut for Into {
                fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
                    if let syn::Expr::MethodCall(call) = expr
                        && call.method == "into"
                        && call.args.is_empty()
                        && expr_is_path(&call.receiver, &["value"])
                    {
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
/// parameter's value is matched as written, not as a regular expression. Counts the path
/// setters (`.path_matches(re)`) too, so that one left unmatched fails generation.
struct LiteralPathParams {
    rewritten: usize,
    path_setters: usize,
}

impl VisitMut for LiteralPathParams {
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if !mac.path.is_ident("format") {
            return;
        }
        let Ok(args) = mac.parse_body_with(
            syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
        ) else {
            return;
        };
        let [
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(fmt),
                ..
            }),
            syn::Expr::MethodCall(value),
        ] = args.iter().collect::<Vec<_>>()[..]
        else {
            return;
        };
        if fmt.value().starts_with("^/")
            && value.method == "to_string"
            && value.args.is_empty()
            && expr_is_path(&value.receiver, &["value"])
        {
            mac.tokens = quote!(#fmt, ::regex::escape(&value.to_string()));
            self.rewritten += 1;
        }
    }

    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        if call.method == "path_matches"
            && call.args.len() == 1
            && expr_is_path(&call.args[0], &["re"])
        {
            self.path_setters += 1;
        }
        visit_mut::visit_expr_method_call_mut(self, call);
    }
}

/// `impl api_mock::TypedWhen for operations::XWhen` for every operation's matcher, and
/// `impl api_mock::TypedThen for operations::XThen` for every operation's answer.
fn typed_whens(file: &syn::File, rel: &str) -> Result<Vec<syn::Item>, String> {
    let operations = crate::syntax::module(&file.items, "operations")
        .ok_or_else(|| format!("{rel}: progenitor's mocks have no `operations` module"))?;
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
