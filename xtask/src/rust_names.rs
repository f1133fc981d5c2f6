//! Query parameters whose Rust name differs from their wire name (`x-rust-name`).
//!
//! progenitor names a builder setter after the parameter's wire name in snake case, so two
//! parameters such as Zendesk's `role` and `role[]` would both become `.role(…)` and collide.
//! A query parameter with `x-rust-name: single_role` is handed to progenitor under that name
//! (which gives the setter, the builder field and the docs), and the generated code is then
//! put back to sending the wire name: the string literal of each
//! `progenitor_client::QueryParam::new("single_role", …)` becomes `"role"`.
//!
//! Both directions are checked: the Rust name must be a snake_case identifier that no other
//! query parameter uses on the wire, and every renamed parameter must be found in the
//! generated code exactly where its value is sent (else generation fails, instead of
//! silently sending the Rust name).

use std::collections::BTreeMap;

use openapiv3::{OpenAPI, Parameter, ReferenceOr};
use proc_macro2::TokenStream;

use syn::visit_mut::{self, VisitMut};

pub(crate) const EXTENSION: &str = "x-rust-name";

/// Which progenitor output a wire name is restored in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// The client: `progenitor_client::QueryParam::new("<name>", …)` sends the parameter.
    Client,
    /// The httpmock extension: `.query_param("<name>", …)` and
    /// `.query_param_missing("<name>")` match it.
    Mock,
    /// The clap CLI: its flags call the builder's setters (`--single-role` calls
    /// `.single_role(…)`), and the client sends the wire name; nothing to restore.
    Cli,
}

/// Runs `generate` on a copy of `spec` whose `x-rust-name` query parameters carry their Rust
/// name, then restores their wire names in the generated client code.
pub(crate) fn generate_with_rust_names(
    spec: &OpenAPI,
    rel: &str,
    generate: impl FnOnce(&OpenAPI) -> Result<TokenStream, String>,
) -> Result<syn::File, String> {
    generate_output_with_rust_names(spec, rel, Output::Client, generate)
}

/// [`generate_with_rust_names`] for any progenitor output: the client, the mocks or the CLI,
/// parsed.
pub(crate) fn generate_output_with_rust_names(
    spec: &OpenAPI,
    rel: &str,
    output: Output,
    generate: impl FnOnce(&OpenAPI) -> Result<TokenStream, String>,
) -> Result<syn::File, String> {
    let mut renamed = spec.clone();
    let renames = rename(&mut renamed).map_err(|e| format!("{rel}: {e}"))?;
    let tokens = generate(&renamed)?;
    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| format!("{rel}: progenitor produced code that does not parse: {e}"))?;
    if renames.is_empty() || output == Output::Cli {
        return Ok(file);
    }
    let mut restorer = Restorer {
        output,
        renames: &renames,
        restored: BTreeMap::new(),
    };
    restorer.visit_file_mut(&mut file);
    let missing: Vec<String> = renames
        .iter()
        .filter(|(rust, _)| !restorer.restored.contains_key(*rust))
        .map(|(rust, wire)| format!("`{wire}` (x-rust-name `{rust}`)"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{rel}: the generated code sends no query parameter named {}: the wire name \
             cannot be restored",
            missing.join(", ")
        ));
    }
    Ok(file)
}

/// Renames every query parameter with `x-rust-name` to that name; returns Rust → wire names.
fn rename(spec: &mut OpenAPI) -> Result<BTreeMap<String, String>, String> {
    let wire_names = query_names(spec);
    let mut renames = BTreeMap::new();
    let mut visit = |param: &mut ReferenceOr<Parameter>| -> Result<(), String> {
        let ReferenceOr::Item(Parameter::Query { parameter_data, .. }) = param else {
            return Ok(());
        };
        let Some(value) = parameter_data.extensions.get(EXTENSION) else {
            return Ok(());
        };
        let wire = parameter_data.name.clone();
        let rust = value
            .as_str()
            .ok_or_else(|| format!("{EXTENSION} of query parameter `{wire}` is not a string"))?
            .to_string();
        let is_snake = rust.starts_with(|c: char| c.is_ascii_lowercase())
            && rust
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !is_snake {
            return Err(format!(
                "{EXTENSION} `{rust}` of query parameter `{wire}` is not a snake_case identifier"
            ));
        }
        if wire_names.contains_key(&rust) {
            return Err(format!(
                "{EXTENSION} `{rust}` of query parameter `{wire}` is also the wire name of a \
                 query parameter"
            ));
        }
        if let Some(other) = renames.insert(rust.clone(), wire.clone())
            && other != wire
        {
            return Err(format!(
                "{EXTENSION} `{rust}` is given to both `{other}` and `{wire}`"
            ));
        }
        parameter_data.name = rust;
        parameter_data.extensions.shift_remove(EXTENSION);
        Ok(())
    };
    if let Some(components) = spec.components.as_mut() {
        for param in components.parameters.values_mut() {
            visit(param)?;
        }
    }
    for item in spec.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for param in &mut item.parameters {
            visit(param)?;
        }
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            for param in &mut op.parameters {
                visit(param)?;
            }
        }
    }
    Ok(renames)
}

/// Every query parameter's wire name, wherever it is declared.
fn query_names(spec: &OpenAPI) -> BTreeMap<String, ()> {
    let mut names = BTreeMap::new();
    let mut add = |param: &ReferenceOr<Parameter>| {
        if let ReferenceOr::Item(Parameter::Query { parameter_data, .. }) = param {
            names.insert(parameter_data.name.clone(), ());
        }
    };
    if let Some(components) = spec.components.as_ref() {
        components.parameters.values().for_each(&mut add);
    }
    for (_, _, op) in spec.operations() {
        op.parameters.iter().for_each(&mut add);
    }
    for item in spec.paths.paths.values() {
        if let ReferenceOr::Item(item) = item {
            item.parameters.iter().for_each(&mut add);
        }
    }
    names
}

/// Puts the wire name back into each `QueryParam::new("<rust name>", …)` (the client) or
/// `.query_param("<rust name>", …)` / `.query_param_missing("<rust name>")` (the mocks).
struct Restorer<'a> {
    output: Output,
    renames: &'a BTreeMap<String, String>,
    restored: BTreeMap<String, usize>,
}

impl VisitMut for Restorer<'_> {
    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        let is_query_param = self.output == Output::Client
            && matches!(
                &*call.func,
                syn::Expr::Path(p) if p.path.segments.len() >= 2
                    && p.path.segments.iter().rev().nth(1).is_some_and(|s| s.ident == "QueryParam")
                    && p.path.segments.last().is_some_and(|s| s.ident == "new")
            );
        if is_query_param
            && let Some(syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(name),
                ..
            })) = call.args.first_mut()
            && let Some(wire) = self.renames.get(&name.value())
        {
            *self.restored.entry(name.value()).or_default() += 1;
            *name = syn::LitStr::new(wire, name.span());
        }
        visit_mut::visit_expr_call_mut(self, call);
    }

    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        if self.output == Output::Mock
            && (call.method == "query_param" || call.method == "query_param_missing")
            && let Some(syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(name),
                ..
            })) = call.args.first_mut()
            && let Some(wire) = self.renames.get(&name.value())
        {
            *self.restored.entry(name.value()).or_default() += 1;
            *name = syn::LitStr::new(wire, name.span());
        }
        visit_mut::visit_expr_method_call_mut(self, call);
    }
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    use super::*;

    fn spec(params: serde_json::Value) -> OpenAPI {
        serde_json::from_value(serde_json::json!({
            "openapi": "3.0.3",
            "info": { "title": "t", "version": "1" },
            "paths": {
                "/users": { "get": {
                    "operationId": "list_users",
                    "parameters": params,
                    "responses": { "204": { "description": "ok" } }
                } }
            }
        }))
        .expect("valid spec")
    }

    #[test]
    fn a_renamed_parameter_keeps_its_wire_name() {
        let spec = spec(serde_json::json!([
            { "name": "role[]", "in": "query", "schema": { "type": "array", "items": { "type": "string" } } },
            { "name": "role", "in": "query", "schema": { "type": "string" }, "x-rust-name": "single_role" }
        ]));
        let tokens = generate_with_rust_names(&spec, "t.yaml", |renamed| {
            let names = query_names(renamed);
            assert!(names.contains_key("single_role") && !names.contains_key("role"));
            Ok(quote::quote! {
                fn send() {
                    b.query(&progenitor_client::QueryParam::new("role[]", &role))
                        .query(&progenitor_client::QueryParam::new("single_role", &single_role));
                }
            })
        })
        .expect("generates");
        let code = tokens.to_token_stream().to_string();
        assert!(
            code.contains(r#"QueryParam :: new ("role" , & single_role)"#),
            "{code}"
        );
        assert!(
            code.contains(r#"QueryParam :: new ("role[]" , & role)"#),
            "{code}"
        );
    }

    #[test]
    fn the_mocks_match_the_wire_name_and_the_cli_keeps_the_setter() {
        let spec = spec(serde_json::json!([
            { "name": "role", "in": "query", "schema": { "type": "string" }, "x-rust-name": "single_role" }
        ]));
        let mock = generate_output_with_rust_names(&spec, "t.yaml", Output::Mock, |_| {
            Ok(quote::quote! {
                fn single_role(w: When) -> When {
                    if x { w.query_param("single_role", v) } else { w.query_param_missing("single_role") }
                }
            })
        })
        .expect("generates")
        .to_token_stream()
        .to_string();
        assert!(mock.contains(r#"query_param ("role" , v)"#), "{mock}");
        assert!(mock.contains(r#"query_param_missing ("role")"#), "{mock}");
        assert!(!mock.contains(r#""single_role""#), "{mock}");
        // A mock generator that matches no query parameter cannot restore the wire name.
        let err = generate_output_with_rust_names(&spec, "t.yaml", Output::Mock, |_| {
            Ok(quote::quote! { fn f() {} })
        })
        .err()
        .expect("an error");
        assert!(err.contains("x-rust-name `single_role`"), "{err}");
        // The CLI's flag calls the setter; the client sends the wire name.
        let cli = generate_output_with_rust_names(&spec, "t.yaml", Output::Cli, |_| {
            Ok(quote::quote! { fn f() { request = request.single_role(v); } })
        })
        .expect("generates")
        .to_token_stream()
        .to_string();
        assert!(cli.contains("single_role (v)"), "{cli}");
    }

    #[test]
    fn a_rename_the_generated_code_does_not_send_fails() {
        let spec = spec(serde_json::json!([
            { "name": "role", "in": "query", "schema": { "type": "string" }, "x-rust-name": "single_role" }
        ]));
        let err = generate_with_rust_names(&spec, "t.yaml", |_| Ok(quote::quote! { fn f() {} }))
            .err()
            .expect("an error");
        assert!(err.contains("`role` (x-rust-name `single_role`)"), "{err}");
    }

    #[test]
    fn a_rust_name_that_is_another_wire_name_is_refused() {
        let spec = spec(serde_json::json!([
            { "name": "role[]", "in": "query", "schema": { "type": "string" }, "x-rust-name": "role" },
            { "name": "role", "in": "query", "schema": { "type": "string" } }
        ]));
        let err = generate_with_rust_names(&spec, "t.yaml", |_| Ok(TokenStream::new()))
            .err()
            .expect("an error");
        assert!(err.contains("also the wire name"), "{err}");
        let spec2 = self::spec(serde_json::json!([
            { "name": "role", "in": "query", "schema": { "type": "string" }, "x-rust-name": "Role" }
        ]));
        let err = generate_with_rust_names(&spec2, "t.yaml", |_| Ok(TokenStream::new()))
            .err()
            .expect("an error");
        assert!(err.contains("snake_case"), "{err}");
    }
}
