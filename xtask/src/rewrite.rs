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

use quote::quote;
use syn::visit_mut::{self, VisitMut};

use crate::spec::{BodyDoc, OperationDocs, ParamDoc};
use crate::syntax::{
    binding, chain_root, expr_is_path, idents, last_segment, mentions, shown, type_args,
    variable_method_calls,
};

/// Applies every rewrite to progenitor's file.
pub(crate) fn apply(
    file: &mut syn::File,
    docs: &BTreeMap<String, OperationDocs>,
    table: &[&str],
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
                        syn::Item::Impl(imp) => match rewrite_builder(imp, docs, table) {
                            Ok(()) => rewritten += 1,
                            Err(e) => errors.push(format!("{rel}: {e}")),
                        },
                        syn::Item::Use(u) if use_names(&u.tree).contains(&"ClientHooks".into()) => {
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
        return Err(errors.join("\n"));
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
        syn::Item::Impl(imp) => imp.trait_.as_ref().is_some_and(|(path, _)| {
            path.segments
                .last()
                .is_some_and(|last| last.ident == "ClientInfo")
        }),
        syn::Item::Const(c) => mentions(c, VisitMut::visit_item_const_mut, &["ClientHooks"]),
        _ => false,
    }
}

/// Every name a use tree imports or goes through (`progenitor_client`, `ClientHooks` …).
fn use_names(tree: &syn::UseTree) -> Vec<String> {
    match tree {
        syn::UseTree::Path(p) => {
            let mut names = vec![p.ident.to_string()];
            names.extend(use_names(&p.tree));
            names
        }
        syn::UseTree::Name(n) => vec![n.ident.to_string()],
        syn::UseTree::Rename(r) => vec![r.ident.to_string()],
        syn::UseTree::Glob(_) => Vec::new(),
        syn::UseTree::Group(g) => g.items.iter().flat_map(use_names).collect(),
    }
}

/// `pub use progenitor_client::{ByteStream, ClientInfo, Error, ResponseValue}` →
/// `pub use progenitor_client::ResponseValue`; the private imports → `encode_path`.
fn rewrite_use(item: &mut syn::ItemUse) {
    if !matches!(&item.tree, syn::UseTree::Path(p) if p.ident == "progenitor_client") {
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
    imp.trait_.is_none()
        && matches!(&*imp.self_ty, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("Client"))
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

/// Where `send` builds `let info = OperationInfo { operation_id: "show_user" }`, and the
/// operation id it names.
fn operation_info(stmts: &[syn::Stmt]) -> Option<(usize, String)> {
    stmts.iter().enumerate().find_map(|(at, stmt)| {
        let syn::Stmt::Local(local) = stmt else {
            return None;
        };
        let syn::Expr::Struct(info) = &*local.init.as_ref()?.expr else {
            return None;
        };
        if !info.path.is_ident("OperationInfo") {
            return None;
        }
        info.fields
            .iter()
            .find_map(|field| match (&field.member, &field.expr) {
                (
                    syn::Member::Named(name),
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(id),
                        ..
                    }),
                ) if name == "operation_id" => Some((at, id.value())),
                _ => None,
            })
    })
}

fn rewrite_builder(
    imp: &mut syn::ItemImpl,
    docs: &BTreeMap<String, OperationDocs>,
    table: &[&str],
) -> Result<(), String> {
    let builder =
        last_segment(&imp.self_ty).map_or_else(|| shown(&imp.self_ty), |s| s.ident.to_string());
    let op = imp
        .items
        .iter()
        .find_map(|item| match item {
            syn::ImplItem::Fn(f) if f.sig.ident == "send" => {
                operation_info(&f.block.stmts).map(|(_, op)| op)
            }
            _ => None,
        })
        .ok_or_else(|| {
            format!(
                "builder `{builder}` has no send() that builds `OperationInfo {{ operation_id: \"…\" }}`"
            )
        })?;
    let op_docs = docs
        .get(&op)
        .ok_or_else(|| format!("builder `{builder}`: operation `{op}` is not in the spec"))?;
    let index = table.iter().position(|id| *id == op).ok_or_else(|| {
        format!("builder `{builder}`: operation `{op}` is not in the operation table")
    })?;
    rewrite_operation(imp, &op, index, op_docs)
        .map_err(|e| format!("{e} (the operation at {})", op_docs.pointer))
}

/// [`rewrite_builder`] once the builder's operation is known.
fn rewrite_operation(
    imp: &mut syn::ItemImpl,
    op: &str,
    index: usize,
    op_docs: &OperationDocs,
) -> Result<(), String> {
    // The runtime behind the builder's client, for the hand-written pagination streams.
    imp.items.push(syn::parse_quote!(
        #[doc(hidden)]
        pub fn __runtime(&self) -> &'a api_runtime::Runtime {
            &self.client.inner
        }
    ));
    let plain_path_params = plain_path_params(imp);
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
            "send" => {
                rewrite_send(f, op, index)?;
                DirectPathParams(&plain_path_params).visit_block_mut(&mut f.block);
            }
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
        let assigns_field = matches!(
            &*assign.left,
            syn::Expr::Field(field)
                if expr_is_path(&field.base, &["self"])
                    && matches!(&field.member, syn::Member::Named(name) if name == setter)
        );
        if !assigns_field {
            continue;
        }
        let syn::Expr::MethodCall(map_err) = &*assign.right else {
            break;
        };
        let message = map_err.args.clone();
        // An optional parameter's conversion wraps the value in `Some` (`….map(Some)`); a
        // required one's is the value itself.
        let optional = maps_to_some(&assign.right);
        let converted = &assign.right;
        let check = quote!(
            api_runtime::__private::within(value, #min, #max)
                .ok_or(())
                .map_err(#message)
        );
        *assign.right = if optional {
            syn::parse_quote!(#converted.and_then(|value| value.map(|value| #check).transpose()))
        } else {
            syn::parse_quote!(#converted.and_then(|value| #check))
        };
        return Ok(());
    }
    Err(format!(
        "setter `{setter}` does not assign `self.{setter} = value.try_into()…map_err(…)`"
    ))
}

/// Whether a method chain has a `.map(Some)` link (an optional parameter's conversion).
fn maps_to_some(mut expr: &syn::Expr) -> bool {
    while let syn::Expr::MethodCall(call) = expr {
        if call.method == "map" && call.args.len() == 1 && expr_is_path(&call.args[0], &["Some"]) {
            return true;
        }
        expr = &call.receiver;
    }
    false
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
                match syn::parse_str::<syn::Type>(ty) {
                    Ok(ty) => format!("{named} {}", accepts(&ty, range)),
                    // Not a type: leave progenitor's message (the build fails on the count).
                    Err(_) => return,
                }
            }
        };
        *lit = syn::LitStr::new(&message, lit.span());
    }
}

/// What a parameter of Rust type `ty` accepts; an integer's bounds are the spec's where it
/// sets them (`range`), else the type's.
fn accepts(ty: &syn::Type, spec_range: Option<(Option<i64>, Option<i64>)>) -> String {
    let range = |min: &str, max: &str| {
        let (spec_min, spec_max) = spec_range.unwrap_or_default();
        let min = spec_min.map_or(min.to_string(), |m| m.to_string());
        let max = spec_max.map_or(max.to_string(), |m| m.to_string());
        format!("must be a whole number from {min} to {max}")
    };
    let path = match ty {
        syn::Type::Path(p) if p.qself.is_none() => idents(&p.path),
        _ => Vec::new(),
    };
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    match path.as_slice() {
        ["std", "num", "NonZeroU32"] => range("1", &u32::MAX.to_string()),
        ["std", "num", "NonZeroU64"] => range("1", &u64::MAX.to_string()),
        ["i64"] => range(&i64::MIN.to_string(), &i64::MAX.to_string()),
        ["i32"] => range(&i32::MIN.to_string(), &i32::MAX.to_string()),
        ["u32"] => range("0", &u32::MAX.to_string()),
        ["u64"] => range("0", &u64::MAX.to_string()),
        ["uuid", "Uuid"] => "must be a UUID".into(),
        ["std", "string", "String"] => "must be a string".into(),
        ["bool"] => "must be true or false".into(),
        ["f64"] | ["f32"] => "must be a number".into(),
        ["chrono", .., "DateTime"] => "must be a date-time".into(),
        _ => format!("cannot be converted to `{}`", short_name(ty)),
    }
}

/// A type as a user reads it: each path by its last segment (`Vec<UserRole>` for
/// `::std::vec::Vec<crate::types::UserRole>`).
fn short_name(ty: &syn::Type) -> String {
    let Some(last) = last_segment(ty) else {
        return shown(ty).replace(' ', "");
    };
    let args = type_args(last);
    if args.is_empty() {
        last.ident.to_string()
    } else {
        let args: Vec<String> = args.into_iter().map(short_name).collect();
        format!("{}<{}>", last.ident, args.join(", "))
    }
}

/// The new `send`: same request building, then the runtime; one error type. `index`: the
/// operation's place in the generated `OPERATIONS` table, which the runtime is given instead of
/// looking the operation up by name on every call.
fn rewrite_send(f: &mut syn::ImplItemFn, op: &str, index: usize) -> Result<(), String> {
    // The success type: `Result<ResponseValue<T>, Error<E>>` → `Result<ResponseValue<T>, ApiError>`.
    let syn::ReturnType::Type(_, ret) = &f.sig.output else {
        return Err(format!("`{op}`: send() has no return type"));
    };
    let success_ty = success_type(ret).ok_or_else(|| {
        format!(
            "`{op}`: send() returns `{}`, not `Result<ResponseValue<T>, Error<E>>`",
            shown(ret)
        )
    })?;
    f.sig.output = syn::parse_quote!(
        -> ::std::result::Result<ResponseValue<#success_ty>, api_runtime::ApiError>
    );

    let stmts = &mut f.block.stmts;
    // Everything from `let info = OperationInfo { .. }` on is progenitor's dispatch: hooks,
    // then a `match` on the status. Read which kind of success it decodes, then replace it.
    let (info_at, _) = operation_info(stmts)
        .ok_or_else(|| format!("`{op}`: send() builds no `OperationInfo {{ operation_id }}`"))?;
    let calls = variable_method_calls(&stmts[info_at..]);
    for hook in ["pre", "exec", "post"] {
        if !calls
            .iter()
            .any(|(receiver, method)| receiver == "client" && method == hook)
        {
            return Err(format!(
                "`{op}`: progenitor's dispatch calls no `client.{hook}(…)` hook; its output \
                 has changed shape"
            ));
        }
    }
    let send = success_kind(stmts.last(), op)?;
    stmts.truncate(info_at);

    // No `api-version` header: none of these services uses it.
    stmts.retain(|s| !is_header_map(s));
    let local_named = |stmts: &[syn::Stmt], name: &str, mutable: bool| {
        stmts.iter().position(|stmt| {
            matches!(stmt, syn::Stmt::Local(local)
                if binding(&local.pat) == Some((name.into(), mutable)))
        })
    };
    let request_at = local_named(stmts, "request", true)
        .ok_or_else(|| format!("`{op}`: send() builds no `let mut request = …`"))?;
    let url_at = local_named(&stmts[..request_at], "url", false)
        .ok_or_else(|| format!("`{op}`: send() formats no `let url = …` before its request"))?;
    let syn::Stmt::Local(local) = &mut stmts[request_at] else {
        return Err(format!("`{op}`: send()'s request is not a `let`"));
    };
    let Some(init) = &mut local.init else {
        return Err(format!("`{op}`: send()'s `let mut request` has no value"));
    };
    // `….build()?` → `….build()`: the runtime reports a build failure.
    if let syn::Expr::Try(t) = &*init.expr {
        init.expr = t.expr.clone();
    }
    DropHeaderMap.visit_expr_mut(&mut init.expr);
    let build = init.expr.clone();
    // From the URL to the built request: a closure the runtime calls for each attempt, so
    // that a retry builds its request again from the builder's values instead of every call
    // keeping a copy of the first.
    let building: Vec<syn::Stmt> = stmts.drain(url_at..=request_at).collect();
    let prelude = &building[..building.len() - 1];
    stmts.push(syn::parse_quote!(
        let request = || {
            #(#prelude)*
            #build
        };
    ));
    let mut errors = InvalidRequestErrors { op };
    for stmt in stmts.iter_mut() {
        errors.visit_stmt_mut(stmt);
    }
    let index = proc_macro2::Literal::usize_unsuffixed(index);
    stmts.push(syn::Stmt::Expr(
        syn::parse_quote!(
            client.inner.#send(&client.client, &request, &super::OPERATIONS[#index]).await
        ),
        None,
    ));
    Ok(())
}

/// The builder's parameters whose type prints nothing a path must encode: integers (digits
/// and a sign) and UUIDs (hex digits and hyphens), read from their setters' `V: TryInto<T>`.
fn plain_path_params(imp: &syn::ItemImpl) -> std::collections::BTreeSet<String> {
    const PLAIN: &[&str] = &[
        "i8", "i16", "i32", "i64", "isize", "u8", "u16", "u32", "u64", "usize", "Uuid",
    ];
    let setter_type = |f: &syn::ImplItemFn| {
        let predicates = &f.sig.generics.where_clause.as_ref()?.predicates;
        predicates.iter().find_map(|p| {
            let syn::WherePredicate::Type(p) = p else {
                return None;
            };
            p.bounds.iter().find_map(|bound| {
                let syn::TypeParamBound::Trait(t) = bound else {
                    return None;
                };
                let segment = t.path.segments.last().filter(|s| s.ident == "TryInto")?;
                let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
                    return None;
                };
                match args.args.first()? {
                    syn::GenericArgument::Type(ty) => Some(last_segment(ty)?.ident.to_string()),
                    _ => None,
                }
            })
        })
    };
    imp.items
        .iter()
        .filter_map(|item| match item {
            syn::ImplItem::Fn(f) => setter_type(f)
                .filter(|ty| PLAIN.contains(&ty.as_str()))
                .map(|_| f.sig.ident.to_string()),
            _ => None,
        })
        .collect()
}

/// `encode_path(&id.to_string())` → `id` in the URL's `format!` for a parameter that prints
/// nothing to encode: no string built and scanned per request.
struct DirectPathParams<'a>(&'a std::collections::BTreeSet<String>);

impl VisitMut for DirectPathParams<'_> {
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if !mac.path.is_ident("format") {
            return;
        }
        let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        let Ok(mut args) = syn::parse::Parser::parse2(parser, mac.tokens.clone()) else {
            return;
        };
        let mut changed = false;
        for arg in args.iter_mut() {
            if let Some(name) = encoded_param(arg).filter(|name| self.0.contains(name)) {
                let ident = syn::Ident::new(&name, proc_macro2::Span::call_site());
                *arg = syn::parse_quote!(#ident);
                changed = true;
            }
        }
        if changed {
            mac.tokens = quote!(#args);
        }
    }
}

/// `X` of `encode_path(&X.to_string())`.
fn encoded_param(expr: &syn::Expr) -> Option<String> {
    let syn::Expr::Call(call) = expr else {
        return None;
    };
    if !expr_is_path(&call.func, &["encode_path"]) || call.args.len() != 1 {
        return None;
    }
    let syn::Expr::Reference(reference) = &call.args[0] else {
        return None;
    };
    let syn::Expr::MethodCall(to_string) = &*reference.expr else {
        return None;
    };
    if to_string.method != "to_string" || !to_string.args.is_empty() {
        return None;
    }
    match &*to_string.receiver {
        syn::Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        _ => None,
    }
}

/// `T` of `Result<ResponseValue<T>, Error<E>>`.
fn success_type(ret: &syn::Type) -> Option<syn::Type> {
    let result = last_segment(ret).filter(|s| s.ident == "Result")?;
    let [value, error] = type_args(result)[..] else {
        return None;
    };
    last_segment(error).filter(|s| s.ident == "Error")?;
    let value = last_segment(value).filter(|s| s.ident == "ResponseValue")?;
    let [success] = type_args(value)[..] else {
        return None;
    };
    Some(success.clone())
}

/// progenitor's `api-version` header: `let mut header_map = …;` and `header_map.append(…);`.
fn is_header_map(stmt: &syn::Stmt) -> bool {
    match stmt {
        syn::Stmt::Local(local) => {
            binding(&local.pat).is_some_and(|(name, _)| name == "header_map")
        }
        syn::Stmt::Expr(expr @ syn::Expr::MethodCall(_), _) => {
            expr_is_path(chain_root(expr), &["header_map"])
        }
        _ => false,
    }
}

/// Which runtime entry point decodes the success of progenitor's status `match`: its 2xx arms
/// either decode JSON (`send_json`) or ignore the body (`send_empty`).
fn success_kind(last: Option<&syn::Stmt>, op: &str) -> Result<proc_macro2::TokenStream, String> {
    let Some(syn::Stmt::Expr(syn::Expr::Match(dispatch), _)) = last else {
        return Err(format!(
            "`{op}`: send() does not end with a `match` on the status, but with `{}`",
            last.map_or_else(|| "nothing".into(), shown)
        ));
    };
    // `match response.status().as_u16() { … }`
    let on_status = matches!(
        &*dispatch.expr,
        syn::Expr::MethodCall(as_u16) if as_u16.method == "as_u16"
            && matches!(&*as_u16.receiver, syn::Expr::MethodCall(status)
                if status.method == "status" && expr_is_path(&status.receiver, &["response"]))
    );
    if !on_status {
        return Err(format!(
            "`{op}`: send() ends with `match {}`, not `match response.status().as_u16()`",
            shown(&dispatch.expr)
        ));
    }
    let mut kinds = std::collections::BTreeSet::new();
    for arm in &dispatch.arms {
        let syn::Pat::Lit(syn::ExprLit {
            lit: syn::Lit::Int(code),
            ..
        }) = &arm.pat
        else {
            continue;
        };
        let Ok(status) = code.base10_parse::<u16>() else {
            continue;
        };
        if code.suffix() != "u16" || !(200..300).contains(&status) {
            continue;
        }
        if mentions(
            &*arm.body,
            VisitMut::visit_expr_mut,
            &["ResponseValue", "from_response"],
        ) {
            kinds.insert("json");
        } else if mentions(
            &*arm.body,
            VisitMut::visit_expr_mut,
            &["ResponseValue", "empty"],
        ) {
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
            && call.args.len() == 1
            && expr_is_path(&call.args[0], &["header_map"])
        {
            *expr = (*call.receiver).clone();
            self.visit_expr_mut(expr);
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

/// `Error::InvalidRequest` → an `ApiError` naming the operation; a body builder's own error
/// (`no value supplied for email`) is prefixed with `body: ` (`|e| e.to_string()` →
/// `|e| format!("body: {e}")`).
struct InvalidRequestErrors<'a> {
    op: &'a str,
}

impl VisitMut for InvalidRequestErrors<'_> {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if expr_is_path(expr, &["Error", "InvalidRequest"]) {
            let op = self.op;
            *expr = syn::parse_quote!(api_runtime::ApiError::invalid_request_in(#op));
            return;
        }
        if let syn::Expr::Closure(closure) = expr
            && closure.inputs.len() == 1
            && binding(&closure.inputs[0]) == Some(("e".into(), false))
            && matches!(&*closure.body, syn::Expr::MethodCall(call)
                if call.method == "to_string"
                    && call.args.is_empty()
                    && expr_is_path(&call.receiver, &["e"]))
        {
            *expr = syn::parse_quote!(|e| format!("body: {e}"));
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

#[cfg(test)]
mod tests {
    use super::{accepts, enforce_range, rewrite_send};

    /// A builder's `send` as progenitor 0.15.1 writes it (shortened), with `dispatch` for the
    /// hooks and `status` for the success arm.
    fn send(
        dispatch: proc_macro2::TokenStream,
        success: proc_macro2::TokenStream,
    ) -> syn::ImplItemFn {
        syn::parse_quote! {
            pub async fn send(self) -> Result<ResponseValue<types::User>, Error<types::ErrorResponse>> {
                let Self { client, user_id } = self;
                let user_id = user_id.map_err(Error::InvalidRequest)?;
                let body = body
                    .and_then(|v| types::UserInput::try_from(v).map_err(|e| e.to_string()))
                    .map_err(Error::InvalidRequest)?;
                let url = format!("{}/users/{}", client.baseurl, encode_path(&user_id.to_string()));
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                header_map.append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(Client::api_version()),
                );
                #[allow(unused_mut)]
                let mut request = client.client.get(url).json(&body).headers(header_map).build()?;
                let info = OperationInfo { operation_id: "show_user" };
                #dispatch
                let response = result?;
                match response.status().as_u16() {
                    200u16 => #success,
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }
        }
    }

    fn hooks() -> proc_macro2::TokenStream {
        quote::quote! {
            client.pre(&mut request, &info).await?;
            let result = client.exec(request, &info).await;
            client.post(&result, &info).await?;
        }
    }

    #[test]
    fn send_goes_through_the_runtime_with_one_error_type() {
        let mut f = send(
            hooks(),
            quote::quote!(ResponseValue::from_response(response).await),
        );
        rewrite_send(&mut f, "show_user", 3).expect("rewrites");
        let code = prettyplease::unparse(&syn::parse_quote!(impl X { #f }));
        for expected in [
            "Result<ResponseValue<types::User>, api_runtime::ApiError>",
            ".map_err(api_runtime::ApiError::invalid_request_in(\"show_user\"))?;",
            "map_err(|e| format!(\"body: {e}\"))",
            // The request is built in a closure the runtime calls once an attempt.
            "let request = || {",
            "let url = format!(",
            "client.client.get(url).json(&body).build()\n",
            "client.inner.send_json(&client.client, &request, &super::OPERATIONS[3]).await",
        ] {
            assert!(code.contains(expected), "`{expected}` not in:\n{code}");
        }
        for gone in [
            "header_map",
            "OperationInfo",
            "client.pre",
            "Error::InvalidRequest",
            "match",
        ] {
            assert!(!code.contains(gone), "`{gone}` left in:\n{code}");
        }
        let mut empty = send(hooks(), quote::quote!(Ok(ResponseValue::empty(response))));
        rewrite_send(&mut empty, "show_user", 3).expect("rewrites");
        let code = quote::ToTokens::to_token_stream(&empty).to_string();
        assert!(code.contains("send_empty"), "{code}");
    }

    /// A bounded parameter's setter checks the bounds: through `Option` for an optional
    /// parameter, on the value itself for a required one (progenitor gives an integer path
    /// parameter with `minimum: 1` a `NonZeroU64`, not an `Option`).
    #[test]
    fn bounds_are_checked_on_required_and_optional_parameters() {
        let setter = |conversion: proc_macro2::TokenStream| -> syn::ImplItemFn {
            syn::parse_quote! {
                pub fn user_id<V>(mut self, value: V) -> Self
                where
                    V: std::convert::TryInto<::std::num::NonZeroU64>,
                {
                    self.user_id = #conversion;
                    self
                }
            }
        };
        let shown = |f: &syn::ImplItemFn| prettyplease::unparse(&syn::parse_quote!(impl X { #f }));
        let mut required = setter(quote::quote!(
            value
                .try_into()
                .map_err(|_| "parameter `user_id` …".to_string())
        ));
        enforce_range(&mut required, "user_id", (Some(1), None)).expect("rewrites");
        let code = shown(&required);
        assert!(code.contains("within(value, Some(1i128), None)"), "{code}");
        assert!(
            !code.contains("transpose"),
            "no Option to go through:\n{code}"
        );
        let mut optional = setter(quote::quote!(
            value
                .try_into()
                .map(Some)
                .map_err(|_| "parameter `user_id` …".to_string())
        ));
        enforce_range(&mut optional, "user_id", (Some(1), Some(100))).expect("rewrites");
        let code = shown(&optional);
        assert!(code.contains(".transpose()"), "{code}");
        assert!(
            code.contains("within(value, Some(1i128), Some(100i128))"),
            "{code}"
        );
    }

    #[test]
    fn a_changed_shape_is_named() {
        // No `post` hook.
        let mut f = send(
            quote::quote! {
                client.pre(&mut request, &info).await?;
                let result = client.exec(request, &info).await;
            },
            quote::quote!(ResponseValue::from_response(response).await),
        );
        let err = rewrite_send(&mut f, "show_user", 3).unwrap_err();
        assert!(
            err.contains("`show_user`") && err.contains("`client.post(…)`"),
            "{err}"
        );
        // A success that is neither JSON nor empty.
        let mut f = send(hooks(), quote::quote!(ResponseValue::stream(response)));
        let err = rewrite_send(&mut f, "show_user", 3).unwrap_err();
        assert!(err.contains("[\"other\"]"), "{err}");
        // Another return type, shown as found.
        let mut f = send(hooks(), quote::quote!(ResponseValue::empty(response)));
        f.sig.output = syn::parse_quote!(-> Option<types::User>);
        let err = rewrite_send(&mut f, "show_user", 3).unwrap_err();
        assert!(err.contains("returns `Option < types :: User >`"), "{err}");
    }

    fn ty(text: &str) -> syn::Type {
        syn::parse_str(text).expect("a type")
    }

    #[test]
    fn messages_say_what_a_parameter_accepts() {
        assert_eq!(
            accepts(&ty("::std::num::NonZeroU32"), None),
            "must be a whole number from 1 to 4294967295"
        );
        assert_eq!(
            accepts(&ty("::std::num::NonZeroU32"), Some((Some(1), Some(100)))),
            "must be a whole number from 1 to 100"
        );
        assert_eq!(
            accepts(&ty("i64"), Some((Some(0), None))),
            "must be a whole number from 0 to 9223372036854775807"
        );
        assert_eq!(accepts(&ty("::uuid::Uuid"), None), "must be a UUID");
        assert_eq!(
            accepts(&ty("::std::vec::Vec<crate::types::UserRole>"), None),
            "cannot be converted to `Vec<UserRole>`"
        );
    }
}
