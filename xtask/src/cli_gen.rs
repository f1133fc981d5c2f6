//! The `user-apis` CLI module of one spec: progenitor's `Generator::cli` output, with the same
//! generator settings and `x-rust-name` handling as the client, adapted to our clients:
//!
//! - `.send()` fails with `ApiError`: the `CliConfig` hooks take an `&ApiError` (progenitor's
//!   take its own `Error<E>`), and the unused list hooks go (no operation has progenitor's
//!   pagination extension; `--all` is the CLI's own);
//! - each operation's request is built by `request_<op>(matches)` (its flags → the builder),
//!   which `execute_<op>` sends, so the CLI can stream a listing or wait for a job from the
//!   same request;
//! - a list-valued flag (`--role agent --role admin`) collects every value (progenitor parses
//!   one value as a whole list, which does not compile);
//! - `--json-body FILE` (`-`: standard input) is read first, and body-field flags then change
//!   it; progenitor's unimplemented `--json-body-template` goes;
//! - paths into the client's own `crate::types` point at the facade's service module;
//! - an operation marked `x-cli: false` in the spec gets no command (the OAuth token
//!   operation: a command would print credentials); the client and the mocks keep it.
//! - a flag of an open enum (`--role`, `--single-role`) lists the spec's values in `--help`
//!   (`crate::input::open_enum`; `main` refuses an unlisted one unless
//!   `--allow-unknown-values`), and a flag the spec bounds (`--page-size`: 1 to 100) is
//!   refused out of range by clap (`crate::input::ranged`), both before any I/O.
//!
//! Each step checks that progenitor's output has the shape it expects and fails with a clear
//! error otherwise.

use std::path::PathBuf;

use openapiv3::OpenAPI;
use progenitor::Generator;
use quote::{ToTokens, format_ident};
use syn::visit_mut::{self, VisitMut};

use crate::open_enum::OpenEnum;
use crate::rust_names::{Output, generate_output_with_rust_names};
use crate::syntax::{chain_root, expr_is_path, path_ends_with};

/// `crates/user-apis-cli/src/generated/<svc>.rs`, as (path, code before rustfmt).
pub(crate) fn generate(
    spec: &OpenAPI,
    enums: &[OpenEnum],
    service: &str,
    rel: &str,
    header: &str,
) -> Result<(PathBuf, crate::codegen::Unformatted), String> {
    let client_path = format!("user_apis::{service}");
    let spec = &commands_only(spec).map_err(|e| format!("{rel}: {e}"))?;
    let mut file = generate_output_with_rust_names(spec, rel, Output::Cli, |spec| {
        crate::codegen::progenitor_output(rel, "CLI", spec, |spec| {
            Generator::new(&crate::codegen::settings(enums)).cli(spec, &client_path)
        })
    })?;
    crate::syntax::retarget_crate_paths(&mut file, &client_path)?;
    let mut args = Args {
        open_enums: enums.iter().map(|e| e.name.clone()).collect(),
        ranges: ranges(spec, rel)?,
        ..Args::default()
    };
    args.visit_file_mut(&mut file);
    if args.ranged != args.ranges.len() {
        return Err(format!(
            "{rel}: bounded {} of the {} flags the spec bounds; progenitor's CLI code has \
             changed shape",
            args.ranged,
            args.ranges.len()
        ));
    }
    if args.body_files != args.body_reads {
        return Err(format!(
            "{rel}: {} `--json-body` flags but {} body reads in progenitor's CLI code; its \
             output has changed shape",
            args.body_files, args.body_reads
        ));
    }
    let mut split = 0usize;
    for item in &mut file.items {
        match item {
            syn::Item::Impl(imp) if imp.trait_.is_none() => split_execute(imp, rel, &mut split)?,
            syn::Item::Trait(t) if t.ident == "CliConfig" => config_hooks(t, rel)?,
            _ => {}
        }
    }
    let operations = spec.operations().count();
    if split != operations {
        return Err(format!(
            "{rel}: split {split} execute functions for {operations} operations; progenitor's \
             CLI output has changed shape"
        ));
    }
    let paging = crate::paging_gen::collect(spec, rel)?;
    file.items
        .extend(crate::paging_gen::cli_items(&paging, service).map_err(|e| format!("{rel}: {e}"))?);
    let code = crate::codegen::Unformatted {
        header: header.to_string(),
        code: prettyplease::unparse(&file),
    };
    Ok((
        crate::workspace::root()
            .join("crates/user-apis-cli/src/generated")
            .join(format!("{service}.rs")),
        code,
    ))
}

/// The extension that keeps an operation out of the CLI (`x-cli: false`).
pub(crate) const EXTENSION: &str = "x-cli";

/// `spec` without the operations marked `x-cli: false` (and without path items left empty).
/// `x-cli` must be a boolean; `true` is the default.
fn commands_only(spec: &OpenAPI) -> Result<OpenAPI, String> {
    use openapiv3::ReferenceOr;
    let mut out = spec.clone();
    let mut errors = Vec::new();
    out.paths.paths.retain(|path, item| {
        let ReferenceOr::Item(item) = item else {
            return true;
        };
        for (method, slot) in crate::spec::operation_slots(item) {
            let Some(op) = slot else { continue };
            match op.extensions.get(EXTENSION) {
                None | Some(serde_json::Value::Bool(true)) => {}
                Some(serde_json::Value::Bool(false)) => *slot = None,
                Some(other) => errors.push(format!(
                    "{EXTENSION} of {} {path} must be true or false, not {other}",
                    method.to_uppercase()
                )),
            }
        }
        item.iter().next().is_some()
    });
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.join("; "))
    }
}

/// The bounds (min, max) of each (operation id, flag name).
type Ranges = std::collections::BTreeMap<(String, String), (i64, i64)>;

/// The integer bounds of every operation's parameters, by (operation id, flag name).
fn ranges(spec: &OpenAPI, rel: &str) -> Result<Ranges, String> {
    let mut out = std::collections::BTreeMap::new();
    for (path, _, op) in spec.operations() {
        let Some(id) = &op.operation_id else { continue };
        for (data, _) in crate::spec::parameters(spec, path, op, rel)? {
            if let Some((min, max)) = crate::spec::integer_range(spec, &data) {
                let flag = crate::naming::setter(&data).replace('_', "-");
                out.insert(
                    (id.clone(), flag),
                    (min.unwrap_or(i64::MIN), max.unwrap_or(i64::MAX)),
                );
            }
        }
    }
    Ok(out)
}

/// Flag definitions and how flags reach the builder.
#[derive(Default)]
struct Args {
    body_files: usize,
    body_reads: usize,
    /// The spec's open enums, by type name.
    open_enums: std::collections::BTreeSet<String>,
    /// The bounds of each (operation id, flag).
    ranges: Ranges,
    /// How many bounded flags got `crate::input::ranged`.
    ranged: usize,
    /// The operation whose `cli_<op>` function is being visited.
    operation: Option<String>,
}

impl Args {
    /// `value_parser!(T)` for an open enum `T` → `crate::input::open_enum::<T>(T::KNOWN)`; for
    /// a bounded flag → `crate::input::ranged::<T>(min, max)`; for a UUID →
    /// `crate::input::uuid`.
    fn parser(&mut self, call: &mut syn::ExprMethodCall) {
        let Some(syn::Expr::Macro(mac)) = call.args.first() else {
            return;
        };
        let Ok(ty) = syn::parse2::<syn::Type>(mac.mac.tokens.clone()) else {
            return;
        };
        let flag = flag_name(&call.receiver);
        if let (Some(op), Some(flag)) = (&self.operation, flag)
            && let Some((min, max)) = self.ranges.get(&(op.clone(), flag))
        {
            call.args = syn::parse_quote!(crate::input::ranged::<#ty>(#min, #max));
            self.ranged += 1;
            return;
        }
        let syn::Type::Path(path) = &ty else { return };
        if path
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == "Uuid")
        {
            // A message that says a UUID is expected, not the parser's "invalid length".
            call.args = syn::parse_quote!(crate::input::uuid);
            return;
        }
        let is_open = path
            .path
            .segments
            .last()
            .is_some_and(|last| self.open_enums.contains(&last.ident.to_string()));
        if is_open {
            call.args = syn::parse_quote!(crate::input::open_enum::<#ty>(#ty::KNOWN));
        }
    }
}

impl VisitMut for Args {
    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        self.operation = f
            .sig
            .ident
            .to_string()
            .strip_prefix("cli_")
            .map(str::to_string);
        visit_mut::visit_impl_item_fn_mut(self, f);
        self.operation = None;
    }

    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        visit_mut::visit_expr_mut(self, expr);
        match expr {
            // `.arg(json-body-template)` → nothing.
            syn::Expr::MethodCall(call)
                if call.method == "arg"
                    && call.args.len() == 1
                    && flag_name(&call.args[0]).as_deref() == Some("json-body-template") =>
            {
                *expr = (*call.receiver).clone();
            }
            // `.help("Path to a file that contains the full json body.")` → ours.
            syn::Expr::MethodCall(call)
                if call.method == "help"
                    && first_str(&call.args).as_deref()
                        == Some("Path to a file that contains the full json body.") =>
            {
                self.body_files += 1;
                call.args = syn::parse_quote!(
                    "A file holding the whole JSON request body (`-`: standard input). Flags \
                     for single body fields change it."
                );
            }
            // `.about("Summary\n\nDescription\n")` → `.about("Summary")
            // .long_about("Summary\n\nDescription")`: a service's command list shows one line
            // per operation, `--help` the whole description.
            syn::Expr::MethodCall(call) if call.method == "about" => {
                if let Some(syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                })) = call.args.first()
                {
                    let full = text.value().trim_end().to_string();
                    let summary = full.split("\n\n").next().unwrap_or_default().to_string();
                    let receiver = &call.receiver;
                    *expr = syn::parse_quote!(#receiver.about(#summary).long_about(#full));
                }
            }
            // A flag's help without the description's trailing newline.
            syn::Expr::MethodCall(call) if call.method == "help" => {
                if let Some(syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                })) = call.args.first_mut()
                {
                    *text = syn::LitStr::new(text.value().trim_end(), text.span());
                }
            }
            // `.value_parser(value_parser!(Vec<T>))` → `.value_parser(value_parser!(T))
            // .action(Append)`.
            syn::Expr::MethodCall(call) if call.method == "value_parser" => {
                if let Some(syn::Expr::Macro(mac)) = call.args.first_mut()
                    && let Some(item) = vec_item(&mac.mac.tokens)
                {
                    mac.mac.tokens = item.to_token_stream();
                    self.parser(call);
                    let call = call.clone();
                    *expr = syn::parse_quote!(#call.action(::clap::ArgAction::Append));
                } else {
                    self.parser(call);
                }
            }
            // `std::fs::read_to_string(value)` → `crate::input::read_body(value)`.
            syn::Expr::Call(call) if expr_is_path(&call.func, &["std", "fs", "read_to_string"]) => {
                self.body_reads += 1;
                call.func = syn::parse_quote!(crate::input::read_body);
            }
            // `if let Some(value) = matches.get_one::<Vec<T>>(name) { request = request.f(value.clone()) }`
            // → every value of the flag.
            syn::Expr::If(if_expr) => {
                if let syn::Expr::Let(cond) = &mut *if_expr.cond
                    && let syn::Expr::MethodCall(get) = &mut *cond.expr
                    && get.method == "get_one"
                    && let Some(turbofish) = &mut get.turbofish
                    && let Some(syn::GenericArgument::Type(ty)) = turbofish.args.first_mut()
                    && let Some(item) = vec_item(&ty.to_token_stream())
                {
                    get.method = format_ident!("get_many");
                    *ty = item;
                    let mut values = CollectValues;
                    values.visit_block_mut(&mut if_expr.then_branch);
                }
            }
            _ => {}
        }
    }
}

/// The flag a chain of `::clap::Arg::new("name").long(…)…` defines.
fn flag_name(expr: &syn::Expr) -> Option<String> {
    let syn::Expr::Call(new) = chain_root(expr) else {
        return None;
    };
    let syn::Expr::Path(func) = &*new.func else {
        return None;
    };
    if !path_ends_with(&func.path, &["Arg", "new"]) {
        return None;
    }
    first_str(&new.args)
}

/// The value of the first argument, if it is a string literal.
fn first_str(args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>) -> Option<String> {
    match args.first()? {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) => Some(text.value()),
        _ => None,
    }
}

/// `self.config.<hook>(…)?;`.
fn calls_config_hook(stmt: &syn::Stmt, hook: &str) -> bool {
    let syn::Stmt::Expr(expr, _) = stmt else {
        return false;
    };
    let expr = match expr {
        syn::Expr::Try(t) => &*t.expr,
        other => other,
    };
    matches!(expr, syn::Expr::MethodCall(call)
        if call.method == hook
            && matches!(&*call.receiver, syn::Expr::Field(field)
                if expr_is_path(&field.base, &["self"])
                    && matches!(&field.member, syn::Member::Named(m) if m == "config")))
}

/// `if let Some(value) = matches.get_one::<…>("json-body") { … }`.
fn reads_json_body(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::If(if_expr), _) = stmt else {
        return false;
    };
    matches!(&*if_expr.cond, syn::Expr::Let(cond)
        if matches!(&*cond.expr, syn::Expr::MethodCall(get)
            if get.method == "get_one" && first_str(&get.args).as_deref() == Some("json-body")))
}

/// `::std::vec::Vec<T>` → `T`.
fn vec_item(tokens: &proc_macro2::TokenStream) -> Option<syn::Type> {
    let ty: syn::Type = syn::parse2(tokens.clone()).ok()?;
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Vec" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(item) => Some(item.clone()),
        _ => None,
    }
}

/// `value.clone()` → `value.cloned().collect::<Vec<_>>()`.
struct CollectValues;

impl VisitMut for CollectValues {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr
            && call.method == "clone"
            && call.args.is_empty()
            && expr_is_path(&call.receiver, &["value"])
        {
            *expr = syn::parse_quote!(value.cloned().collect::<::std::vec::Vec<_>>());
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

/// `execute_<op>` → `request_<op>` (flags → builder, the `--json-body` file first) and
/// `execute_<op>` (build, send, report).
fn split_execute(imp: &mut syn::ItemImpl, rel: &str, split: &mut usize) -> Result<(), String> {
    let mut out = Vec::new();
    for item in std::mem::take(&mut imp.items) {
        let syn::ImplItem::Fn(f) = &item else {
            out.push(item);
            continue;
        };
        let name = f.sig.ident.to_string();
        let Some(op) = name.strip_prefix("execute_").filter(|_| name != "execute") else {
            out.push(item);
            continue;
        };
        let stmts = &f.block.stmts;
        let hook = stmts
            .iter()
            .position(|s| calls_config_hook(s, &name))
            .ok_or_else(|| format!("{rel}: `{name}` calls no `config.execute_{op}` hook"))?;
        let (build, send) = stmts.split_at(hook + 1);
        let mut build = build.to_vec();
        // The `--json-body` file first: it sets the whole body, single-field flags then
        // change it (progenitor reads it last, so the file would win over the flags).
        if let Some(at) = build.iter().position(reads_json_body) {
            let body = build.remove(at);
            build.insert(1, body);
        }
        let builder = format_ident!("{}", crate::naming::pascal(op));
        let request_fn = format_ident!("request_{op}");
        let execute_fn = format_ident!("execute_{op}");
        let doc = format!(
            "The `{op}` request its flags describe, ready to send (or to stream, for a listing)."
        );
        out.push(syn::parse_quote! {
            #[doc = #doc]
            pub fn #request_fn(
                &self,
                matches: &::clap::ArgMatches,
            ) -> anyhow::Result<builder::#builder<'_>> {
                #(#build)*
                Ok(request)
            }
        });
        out.push(syn::parse_quote! {
            pub async fn #execute_fn(&self, matches: &::clap::ArgMatches) -> anyhow::Result<()> {
                let request = self.#request_fn(matches)?;
                #(#send)*
            }
        });
        *split += 1;
    }
    imp.items = out;
    Ok(())
}

/// The hooks of `CliConfig` that see a failure take an `&ApiError`; the list hooks go.
fn config_hooks(t: &mut syn::ItemTrait, rel: &str) -> Result<(), String> {
    let before = t.items.len();
    t.items.retain(|item| {
        !matches!(item, syn::TraitItem::Fn(f) if f.sig.ident.to_string().starts_with("list_"))
    });
    if before - t.items.len() != 4 {
        return Err(format!(
            "{rel}: CliConfig has {} list hooks, not 4; progenitor's CLI output has changed shape",
            before - t.items.len()
        ));
    }
    let error = t
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::TraitItem::Fn(f) if f.sig.ident == "error" => Some(f),
            _ => None,
        })
        .ok_or_else(|| format!("{rel}: CliConfig has no `error` hook"))?;
    *error = syn::parse_quote!(
        fn error(&self, value: &ApiError);
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(token_cli: serde_json::Value) -> OpenAPI {
        serde_json::from_value(serde_json::json!({
            "openapi": "3.0.3",
            "info": { "title": "t", "version": "1" },
            "paths": {
                "/oauth/tokens": { "post": {
                    "operationId": "create_token",
                    "x-cli": token_cli,
                    "responses": { "204": { "description": "ok" } }
                } },
                "/users": {
                    "get": {
                        "operationId": "list_users",
                        "responses": { "204": { "description": "ok" } }
                    },
                    "post": {
                        "operationId": "create_user",
                        "x-cli": true,
                        "responses": { "204": { "description": "ok" } }
                    }
                }
            }
        }))
        .expect("valid spec")
    }

    fn ids(spec: &OpenAPI) -> Vec<String> {
        spec.operations()
            .filter_map(|(_, _, op)| op.operation_id.clone())
            .collect()
    }

    #[test]
    fn an_operation_marked_x_cli_false_gets_no_command() {
        let commands = commands_only(&spec(serde_json::json!(false))).expect("filters");
        assert_eq!(ids(&commands), ["list_users", "create_user"]);
        assert!(!commands.paths.paths.contains_key("/oauth/tokens"));
        let commands = commands_only(&spec(serde_json::json!(true))).expect("filters");
        assert_eq!(
            ids(&commands),
            ["create_token", "list_users", "create_user"]
        );
    }

    #[test]
    fn x_cli_must_be_a_boolean() {
        let err = commands_only(&spec(serde_json::json!("no"))).unwrap_err();
        assert!(err.contains("x-cli of POST /oauth/tokens"), "{err}");
    }
}
