//! Turns progenitor's client surface into ours, at the syntax-tree level:
//!
//! - every builder's `send()` returns `Result<ResponseValue<T>, api_runtime::ApiError>`: the
//!   request progenitor builds (path encoding, query, body) is handed to the runtime's
//!   `send_json` / `send_empty`, which run the guards, credentials, retries and timeouts and
//!   make every failure one `ApiError`; progenitor's hook calls, status `match` and
//!   `api-version` header go;
//! - a value that cannot become its parameter's type, a missing required parameter and a body
//!   that cannot be built are `InvalidRequest` errors naming the operation, the parameter and
//!   the reason;
//! - every builder setter is documented from its spec parameter;
//! - what users do not call (`Client::new`, the builders' `new`, progenitor's `ClientInfo`
//!   and hook plumbing, its `Error` type) leaves the public surface.
//!
//! Each step checks that progenitor's output has the shape it expects and fails with a clear
//! error otherwise, so a progenitor upgrade cannot silently change the clients.

use std::collections::BTreeMap;

use quote::{ToTokens, quote};
use syn::visit_mut::{self, VisitMut};

use crate::spec::{BodyDoc, OperationDocs, ParamDoc};

/// Applies every rewrite to progenitor's file.
pub(crate) fn apply(
    file: &mut syn::File,
    docs: &BTreeMap<String, OperationDocs>,
    rel: &str,
) -> Result<(), String> {
    let mut errors = Vec::new();
    let mut rewritten = 0usize;
    file.items.retain(|item| !is_hook_plumbing(item));
    for item in &mut file.items {
        match item {
            syn::Item::Use(u) => rewrite_use(u),
            syn::Item::Impl(imp) if is_client_impl(imp) => hide_client_constructors(imp),
            syn::Item::Mod(m) if m.ident == "builder" => {
                let Some((_, items)) = m.content.as_mut() else {
                    continue;
                };
                for item in items {
                    match item {
                        syn::Item::Impl(imp) => match rewrite_builder(imp, docs) {
                            Ok(()) => rewritten += 1,
                            Err(e) => errors.push(e),
                        },
                        syn::Item::Use(u)
                            if u.to_token_stream().to_string().contains("ClientHooks") =>
                        {
                            u.tree = syn::parse_quote!(super::{ResponseValue, encode_path});
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(format!("{rel}: {}", errors.join("; ")));
    }
    if rewritten != docs.len() {
        return Err(format!(
            "{rel}: rewrote {rewritten} builders for {} operations; progenitor's output has \
             changed shape",
            docs.len()
        ));
    }
    Ok(())
}

/// The docs of `pub struct Client`: progenitor's first line, `Client for <spec title>`, becomes
/// `summary` (the crate's own description); the spec's description and version follow.
pub(crate) fn client_summary(file: &mut syn::File, summary: &str, rel: &str) -> Result<(), String> {
    let client = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == "Client" => Some(s),
            _ => None,
        })
        .ok_or_else(|| format!("{rel}: progenitor's output has no `struct Client`"))?;
    let first = client
        .attrs
        .iter_mut()
        .find(|a| a.path().is_ident("doc"))
        .ok_or_else(|| format!("{rel}: `struct Client` has no docs"))?;
    let syn::Meta::NameValue(nv) = &mut first.meta else {
        return Err(format!(
            "{rel}: `struct Client`'s docs are not `#[doc = \"…\"]`"
        ));
    };
    let syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(text),
        ..
    }) = &nv.value
    else {
        return Err(format!("{rel}: `struct Client`'s docs are not a string"));
    };
    let text = text.value();
    let rest = text
        .strip_prefix("Client for ")
        .and_then(|t| t.split_once('\n').map(|(_, rest)| rest))
        .ok_or_else(|| {
            format!("{rel}: `struct Client`'s docs do not start with `Client for <title>`")
        })?;
    let new = format!("{summary}\n{rest}");
    nv.value = syn::parse_quote!(#new);
    Ok(())
}

/// progenitor's `ClientInfo` impl and the `ClientHooks` assertion: the runtime replaces both.
fn is_hook_plumbing(item: &syn::Item) -> bool {
    match item {
        syn::Item::Impl(imp) => imp
            .trait_
            .as_ref()
            .is_some_and(|(path, _)| path.to_token_stream().to_string().contains("ClientInfo")),
        syn::Item::Const(c) => c.to_token_stream().to_string().contains("ClientHooks"),
        _ => false,
    }
}

/// `pub use progenitor_client::{ByteStream, ClientInfo, Error, ResponseValue}` →
/// `pub use progenitor_client::ResponseValue`; the private imports → `encode_path`.
fn rewrite_use(item: &mut syn::ItemUse) {
    let text = item.tree.to_token_stream().to_string();
    if !text.starts_with("progenitor_client") {
        return;
    }
    let tree: syn::UseTree = if matches!(item.vis, syn::Visibility::Public(_)) {
        syn::parse_quote!(progenitor_client::ResponseValue)
    } else {
        syn::parse_quote!(progenitor_client::encode_path)
    };
    item.tree = tree;
}

fn is_client_impl(imp: &syn::ItemImpl) -> bool {
    imp.trait_.is_none() && imp.self_ty.to_token_stream().to_string() == "Client"
}

/// Drops `Client::new` (it would build a `reqwest::Client` without the runtime's settings and
/// panics if that fails) and hides `new_with_client`: clients are made by the crate's
/// constructors.
fn hide_client_constructors(imp: &mut syn::ItemImpl) {
    imp.items
        .retain(|item| !matches!(item, syn::ImplItem::Fn(f) if f.sig.ident == "new"));
    for item in &mut imp.items {
        if let syn::ImplItem::Fn(f) = item
            && f.sig.ident == "new_with_client"
        {
            f.attrs.retain(|a| !a.path().is_ident("doc"));
            f.attrs.push(syn::parse_quote!(#[doc(hidden)]));
        }
    }
}

/// The operation id a builder's `send` names (`operation_id: "show_user"`).
fn operation_id(send: &syn::ImplItemFn) -> Option<String> {
    let text = send.block.to_token_stream().to_string();
    let rest = text.split("operation_id : \"").nth(1)?;
    Some(rest.split('"').next()?.to_string())
}

fn rewrite_builder(
    imp: &mut syn::ItemImpl,
    docs: &BTreeMap<String, OperationDocs>,
) -> Result<(), String> {
    let builder = imp.self_ty.to_token_stream().to_string();
    let op = imp
        .items
        .iter()
        .find_map(|item| match item {
            syn::ImplItem::Fn(f) if f.sig.ident == "send" => operation_id(f),
            _ => None,
        })
        .ok_or_else(|| format!("builder `{builder}` has no send() naming its operation"))?;
    let op_docs = docs
        .get(&op)
        .ok_or_else(|| format!("builder `{builder}`: operation `{op}` is not in the spec"))?;
    // The runtime behind the builder's client, for the hand-written pagination streams.
    imp.items.push(syn::parse_quote!(
        #[doc(hidden)]
        pub fn __runtime(&self) -> &'a api_runtime::Runtime {
            &self.client.inner
        }
    ));
    for item in &mut imp.items {
        let syn::ImplItem::Fn(f) = item else { continue };
        let name = f.sig.ident.to_string();
        if name == "__runtime" {
            continue;
        }
        match name.as_str() {
            "new" => {
                f.attrs.push(syn::parse_quote!(#[doc(hidden)]));
                RequiredMessages.visit_block_mut(&mut f.block);
            }
            "send" => rewrite_send(f, &op)?,
            "body" | "body_map" => {
                let body = op_docs
                    .body
                    .as_ref()
                    .ok_or_else(|| format!("`{op}`: a body setter but no request body"))?;
                document(f, &body_setter_doc(&name, body));
                ConversionMessages {
                    param: None,
                    op_docs,
                }
                .visit_block_mut(&mut f.block);
            }
            setter => {
                let param = op_docs.params.get(setter).ok_or_else(|| {
                    format!("`{op}`: setter `{setter}` matches no parameter of the spec")
                })?;
                document(f, &param_setter_doc(param));
                ConversionMessages {
                    param: Some(setter.to_string()),
                    op_docs,
                }
                .visit_block_mut(&mut f.block);
                if let Some(range) = param.range {
                    enforce_range(f, setter, range).map_err(|e| format!("`{op}`: {e}"))?;
                }
            }
        }
    }
    Ok(())
}

/// `self.x = value.try_into().map(Some).map_err(|_| "message".to_string());` → the same, then
/// the spec's bounds checked (`api_runtime::__private::within`), with the same message, so
/// `page_size(500)` fails `send()` before any I/O like `page_size(0)` does.
fn enforce_range(
    f: &mut syn::ImplItemFn,
    setter: &str,
    (min, max): (Option<i64>, Option<i64>),
) -> Result<(), String> {
    let bound = |b: Option<i64>| match b {
        Some(b) => {
            let b = i128::from(b);
            quote!(Some(#b))
        }
        None => quote!(None),
    };
    let (min, max) = (bound(min), bound(max));
    for stmt in &mut f.block.stmts {
        let syn::Stmt::Expr(syn::Expr::Assign(assign), _) = stmt else {
            continue;
        };
        if assign.left.to_token_stream().to_string() != format!("self . {setter}") {
            continue;
        }
        let syn::Expr::MethodCall(map_err) = &*assign.right else {
            break;
        };
        let message = map_err.args.clone();
        let converted = &assign.right;
        *assign.right = syn::parse_quote!(
            #converted.and_then(|value| {
                value
                    .map(|value| {
                        api_runtime::__private::within(value, #min, #max)
                            .ok_or(())
                            .map_err(#message)
                    })
                    .transpose()
            })
        );
        return Ok(());
    }
    Err(format!(
        "setter `{setter}` does not assign `self.{setter} = value.try_into()…map_err(…)`"
    ))
}

fn document(f: &mut syn::ImplItemFn, doc: &str) {
    f.attrs.retain(|a| !a.path().is_ident("doc"));
    for line in doc.lines() {
        f.attrs.push(syn::parse_quote!(#[doc = #line]));
    }
}

fn param_setter_doc(param: &ParamDoc) -> String {
    let mut doc = String::new();
    if let Some(description) = &param.description {
        doc.push_str(description.trim());
        doc.push_str("\n\n");
    }
    let need = if param.required {
        "required"
    } else {
        "optional"
    };
    doc.push_str(&format!(
        "Sent as the {} parameter `{}` ({need}).",
        param.location, param.wire
    ));
    if !param.constraints.is_empty() {
        doc.push_str(&format!(" Accepts {}.", param.constraints.join("; ")));
    }
    doc.push_str(
        "\n\nA value the parameter does not accept (one outside its range, or one that \
         cannot become its type) fails `send()` with \
         [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest), before any I/O.",
    );
    doc
}

fn body_setter_doc(setter: &str, body: &BodyDoc) -> String {
    let need = if body.required {
        "required"
    } else {
        "optional"
    };
    let mut doc = match setter {
        "body" => format!(
            "The request body, a [`{0}`](crate::types::{0}) ({need}), sent as JSON.",
            body.type_name
        ),
        _ => format!(
            "Changes the request body built so far with `f`, which gets and returns its \
             builder, [`types::builder::{0}`](crate::types::builder::{0}): set fields one \
             by one without building a whole [`{0}`](crate::types::{0}).",
            body.type_name
        ),
    };
    if let Some(description) = &body.description {
        doc.push_str("\n\n");
        doc.push_str(description.trim());
    }
    doc
}

/// `"user_id was not initialized"` → `"required parameter `user_id` was not set"`.
struct RequiredMessages;

impl VisitMut for RequiredMessages {
    fn visit_lit_str_mut(&mut self, lit: &mut syn::LitStr) {
        if let Some(name) = lit.value().strip_suffix(" was not initialized") {
            let message = format!("required parameter `{name}` was not set");
            *lit = syn::LitStr::new(&message, lit.span());
        }
    }
}

/// progenitor's `"conversion to `T` for name failed"` → a message naming the parameter (with
/// its wire name) and what it accepts.
struct ConversionMessages<'a> {
    param: Option<String>,
    op_docs: &'a OperationDocs,
}

impl VisitMut for ConversionMessages<'_> {
    fn visit_lit_str_mut(&mut self, lit: &mut syn::LitStr) {
        let value = lit.value();
        let Some(rest) = value.strip_prefix("conversion to `") else {
            return;
        };
        let Some((ty, _)) = rest.split_once("` for ") else {
            return;
        };
        let message = match &self.param {
            None => "body: {}".to_string(),
            Some(setter) => {
                let wire = self
                    .op_docs
                    .params
                    .get(setter)
                    .map(|p| p.wire.as_str())
                    .filter(|wire| *wire != setter);
                let named = match wire {
                    Some(wire) => format!("parameter `{setter}` (`{wire}`)"),
                    None => format!("parameter `{setter}`"),
                };
                let range = self.op_docs.params.get(setter).and_then(|p| p.range);
                format!("{named} {}", accepts(&ty.replace(' ', ""), range))
            }
        };
        *lit = syn::LitStr::new(&message, lit.span());
    }
}

/// What a parameter of Rust type `ty` (as progenitor prints it, spaces removed) accepts; an
/// integer's bounds are the spec's where it sets them (`range`), else the type's.
fn accepts(ty: &str, spec_range: Option<(Option<i64>, Option<i64>)>) -> String {
    let range = |min: &str, max: &str| {
        let (spec_min, spec_max) = spec_range.unwrap_or_default();
        let min = spec_min.map_or(min.to_string(), |m| m.to_string());
        let max = spec_max.map_or(max.to_string(), |m| m.to_string());
        format!("must be a whole number from {min} to {max}")
    };
    match ty {
        "::std::num::NonZeroU32" => range("1", &u32::MAX.to_string()),
        "::std::num::NonZeroU64" => range("1", &u64::MAX.to_string()),
        "i64" => range(&i64::MIN.to_string(), &i64::MAX.to_string()),
        "i32" => range(&i32::MIN.to_string(), &i32::MAX.to_string()),
        "u32" => range("0", &u32::MAX.to_string()),
        "u64" => range("0", &u64::MAX.to_string()),
        "::uuid::Uuid" => "must be a UUID".into(),
        "::std::string::String" => "must be a string".into(),
        "bool" => "must be true or false".into(),
        "f64" | "f32" => "must be a number".into(),
        t if t.contains("chrono::DateTime") => "must be a date-time".into(),
        t => {
            let short = t
                .replace("crate::types::", "")
                .replace("::std::vec::", "")
                .replace("::std::string::", "");
            format!("cannot be converted to `{short}`")
        }
    }
}

/// The new `send`: same request building, then the runtime; one error type.
fn rewrite_send(f: &mut syn::ImplItemFn, op: &str) -> Result<(), String> {
    // The success type: `Result<ResponseValue<T>, Error<E>>` → `Result<ResponseValue<T>, ApiError>`.
    let syn::ReturnType::Type(_, ret) = &f.sig.output else {
        return Err(format!("`{op}`: send() has no return type"));
    };
    let ret_text = ret.to_token_stream().to_string();
    let success = ret_text
        .strip_prefix("Result < ResponseValue < ")
        .and_then(|s| s.rsplit_once(" > , Error <"))
        .map(|(t, _)| t.to_string())
        .ok_or_else(|| format!("`{op}`: unexpected send() return type `{ret_text}`"))?;
    let success_ty: syn::Type =
        syn::parse_str(&success).map_err(|e| format!("`{op}`: success type: {e}"))?;
    f.sig.output = syn::parse_quote!(
        -> ::std::result::Result<ResponseValue<#success_ty>, api_runtime::ApiError>
    );

    let stmts = &mut f.block.stmts;
    // Everything from `let info = OperationInfo { .. }` on is progenitor's dispatch: hooks,
    // then a `match` on the status. Read which kind of success it decodes, then replace it.
    let info_at = stmts
        .iter()
        .position(|s| s.to_token_stream().to_string().contains("OperationInfo"))
        .ok_or_else(|| format!("`{op}`: send() has no OperationInfo"))?;
    let dispatch: String = stmts[info_at..]
        .iter()
        .map(|s| s.to_token_stream().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    for expected in [
        "client . pre",
        "client . exec",
        "client . post",
        "match response . status ()",
    ] {
        if !dispatch.contains(expected) {
            return Err(format!(
                "`{op}`: progenitor's dispatch lacks `{expected}`; its output has changed shape"
            ));
        }
    }
    let send = success_kind(stmts.last(), op)?;
    stmts.truncate(info_at);

    // No `api-version` header: none of these services uses it.
    stmts.retain(|s| {
        let text = s.to_token_stream().to_string();
        !(text.starts_with("let mut header_map") || text.starts_with("header_map ."))
    });
    let mut found_request = false;
    for stmt in stmts.iter_mut() {
        if let syn::Stmt::Local(local) = stmt
            && local.pat.to_token_stream().to_string() == "mut request"
            && let Some(init) = &mut local.init
        {
            // `….build()?` → `….build()`: the runtime reports a build failure.
            if let syn::Expr::Try(t) = &*init.expr {
                init.expr = t.expr.clone();
            }
            local.pat = syn::parse_quote!(request);
            DropHeaderMap.visit_expr_mut(&mut init.expr);
            found_request = true;
        }
    }
    if !found_request {
        return Err(format!("`{op}`: send() builds no `request`"));
    }
    let mut errors = InvalidRequestErrors { op };
    for stmt in stmts.iter_mut() {
        errors.visit_stmt_mut(stmt);
    }
    stmts.push(syn::Stmt::Expr(
        syn::parse_quote!(client.inner.#send(&client.client, request, #op).await),
        None,
    ));
    Ok(())
}

/// Which runtime entry point decodes the success of progenitor's status `match`: its 2xx arms
/// either decode JSON (`send_json`) or ignore the body (`send_empty`).
fn success_kind(last: Option<&syn::Stmt>, op: &str) -> Result<proc_macro2::TokenStream, String> {
    let Some(syn::Stmt::Expr(syn::Expr::Match(dispatch), _)) = last else {
        return Err(format!("`{op}`: send() does not end with a status match"));
    };
    let mut kinds = std::collections::BTreeSet::new();
    for arm in &dispatch.arms {
        let pattern = arm.pat.to_token_stream().to_string();
        let Some(status) = pattern
            .strip_suffix("u16")
            .and_then(|code| code.parse::<u16>().ok())
        else {
            continue;
        };
        if !(200..300).contains(&status) {
            continue;
        }
        let body = arm.body.to_token_stream().to_string();
        if body.contains("ResponseValue :: from_response") {
            kinds.insert("json");
        } else if body.contains("ResponseValue :: empty") {
            kinds.insert("empty");
        } else {
            kinds.insert("other");
        }
    }
    match kinds.into_iter().collect::<Vec<_>>().as_slice() {
        ["json"] => Ok(quote!(send_json)),
        ["empty"] => Ok(quote!(send_empty)),
        other => Err(format!(
            "`{op}`: its successes are {other:?}; only JSON or empty successes are supported \
             (not byte streams, upgrades or a mix)"
        )),
    }
}

/// `.headers(header_map)` → nothing.
struct DropHeaderMap;

impl VisitMut for DropHeaderMap {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr
            && call.method == "headers"
            && call.args.to_token_stream().to_string() == "header_map"
        {
            *expr = (*call.receiver).clone();
            self.visit_expr_mut(expr);
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

/// `Error::InvalidRequest` → an `ApiError` naming the operation; a body builder's own error
/// (`no value supplied for email`) is prefixed with `body: `.
struct InvalidRequestErrors<'a> {
    op: &'a str,
}

impl VisitMut for InvalidRequestErrors<'_> {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        let text = expr.to_token_stream().to_string();
        if text == "Error :: InvalidRequest" {
            let op = self.op;
            *expr = syn::parse_quote!(api_runtime::ApiError::invalid_request_in(#op));
            return;
        }
        if text == "| e | e . to_string ()" {
            *expr = syn::parse_quote!(|e| format!("body: {e}"));
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn messages_say_what_a_parameter_accepts() {
        assert_eq!(
            accepts("::std::num::NonZeroU32", None),
            "must be a whole number from 1 to 4294967295"
        );
        assert_eq!(
            accepts("::std::num::NonZeroU32", Some((Some(1), Some(100)))),
            "must be a whole number from 1 to 100"
        );
        assert_eq!(
            accepts("i64", Some((Some(0), None))),
            "must be a whole number from 0 to 9223372036854775807"
        );
        assert_eq!(accepts("::uuid::Uuid", None), "must be a UUID");
        assert_eq!(
            accepts("::std::vec::Vec<crate::types::UserRole>", None),
            "cannot be converted to `Vec<UserRole>`"
        );
    }
}
