//! `cargo xtask generate`: `specs/<svc>.yaml` → `crates/<svc>-api/src/generated.rs` + `OPERATIONS.md`.
//!
//! The pipeline is YAML → openapiv3 → progenitor (builder interface, merged tags, hooks
//! expected, `api_runtime::Runtime` as the client's inner type) → a few additions at the
//! syntax-tree level (open enums, a redacting `Debug` for types with `x-sensitive` fields, the
//! operation table) → prettyplease → rustfmt. Every step
//! is deterministic, so the same spec gives byte-identical files on every machine.

use std::path::{Path, PathBuf};
use std::time::Instant;

use openapiv3::OpenAPI;
use quote::quote;
use sha2::{Digest, Sha256};

use crate::codegen::{Unformatted, run_progenitor};
use crate::open_enum::{self, OpenEnum};
use crate::spec::{OperationInfo, PROGENITOR_VERSION, load_spec, operations};
use crate::workspace::{Service, hex, relative, services};

/// What `generate` produces for one service, in memory.
pub(crate) struct Output {
    pub files: Vec<(PathBuf, String)>,
    pub operations: usize,
    pub types: usize,
    pub lines: usize,
}

/// What `generate` produces for one service before rustfmt: the Rust files (the client's
/// first) and the others.
pub(crate) struct Parts {
    rust: Vec<(PathBuf, Unformatted)>,
    text: Vec<(PathBuf, String)>,
    operations: usize,
    types: usize,
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let args = crate::args::Args::parse(
        "generate",
        args,
        &["--check"],
        &[("--only", "a service name (zendesk, cerego, sendauth)")],
    )?;
    let check = args.flag("--check");
    let only = args.value("--only");
    let services = services(only.as_deref())?;
    let mut stale = Vec::new();
    let started = Instant::now();
    // Every spec at once, each on threads of its own and formatted by a rustfmt process of
    // its own as soon as it is ready; reported in order.
    let outputs = std::thread::scope(|scope| {
        let handles: Vec<_> = services
            .iter()
            .map(|service| {
                spawn(scope, move || {
                    let started = Instant::now();
                    generate(service).map(|output| (output, started.elapsed().as_millis()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(join)
            .collect::<Result<Vec<_>, String>>()
    })?;
    let (outputs, millis): (Vec<Output>, Vec<u128>) = outputs.into_iter().unzip();
    for ((service, output), millis) in services.iter().zip(outputs).zip(millis) {
        let rel = relative(&service.spec_path);
        if check {
            for (path, content) in &output.files {
                let current = std::fs::read_to_string(path).unwrap_or_default();
                if current != *content {
                    stale.push(diff(path, &current, content));
                }
            }
            println!(
                "checked {rel}: {} operations, {} types, {} lines ({millis} ms)",
                output.operations, output.types, output.lines
            );
        } else {
            for (path, content) in &output.files {
                write_if_changed(path, content)?;
            }
            println!(
                "generated {rel} → {}: {} operations, {} types, {} lines ({millis} ms)",
                relative(&service.crate_dir),
                output.operations,
                output.types,
                output.lines
            );
        }
    }
    println!(
        "{} spec(s) in {} ms",
        services.len(),
        started.elapsed().as_millis()
    );
    if stale.is_empty() {
        Ok(())
    } else {
        for d in &stale {
            eprintln!("{d}");
        }
        Err(format!(
            "{} generated file(s) are stale: run `cargo xtask generate` and commit the result",
            stale.len()
        ))
    }
}

/// The `description` of a client crate's `Cargo.toml`: the crate's own one-line summary.
/// `None` without a manifest (a spec version generated in memory by `cargo xtask review`).
fn crate_description(crate_dir: &Path) -> Result<Option<String>, String> {
    let path = crate_dir.join("Cargo.toml");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", relative(&path)))?;
    text.lines()
        .find_map(|line| line.strip_prefix("description = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .map(|d| Some(d.to_string()))
        .ok_or_else(|| format!("{}: no one-line `description = \"…\"`", relative(&path)))
}

/// Runs the whole pipeline for one service, touching nothing on disk.
pub(crate) fn generate(service: &Service) -> Result<Output, String> {
    let parts = parts(service)?;
    format(vec![parts])?
        .pop()
        .ok_or_else(|| "rustfmt returned nothing".to_string())
}

/// Formats the Rust files of the services' parts with one rustfmt process.
fn format(parts: Vec<Parts>) -> Result<Vec<Output>, String> {
    let sources: Vec<&Unformatted> = parts
        .iter()
        .flat_map(|p| p.rust.iter().map(|(_, u)| u))
        .collect();
    let mut formatted = crate::codegen::rustfmt_all(&sources)?.into_iter();
    let mut outputs = Vec::with_capacity(parts.len());
    for part in parts {
        let mut files = Vec::with_capacity(part.rust.len() + part.text.len());
        for (path, _) in part.rust {
            let text = formatted
                .next()
                .ok_or_else(|| "rustfmt returned fewer files than it was given".to_string())?;
            files.push((path, text));
        }
        let lines = files.first().map_or(0, |(_, text)| text.lines().count());
        files.extend(part.text);
        outputs.push(Output {
            files,
            operations: part.operations,
            types: part.types,
            lines,
        });
    }
    Ok(outputs)
}

/// The pipeline for one service up to rustfmt.
fn parts(service: &Service) -> Result<Parts, String> {
    let rel = relative(&service.spec_path);
    let (text, spec) = load_spec(&service.spec_path)?;
    let sha = hex(&Sha256::digest(text.as_bytes()));
    let operations = operations(&spec, &rel)?;
    let enums = open_enum::collect(&spec).map_err(|e| format!("{rel}: {e}"))?;
    let sensitive = crate::sensitive::collect(&spec).map_err(|e| format!("{rel}: {e}"))?;
    let header = format!(
        "// @generated by `cargo xtask generate` from {rel}; do not edit by hand.\n\
         // spec sha256: {sha}\n\
         // progenitor {PROGENITOR_VERSION}\n\n"
    );
    std::thread::scope(|scope| {
        // The typed mocks and the CLI module, from the same settings and x-rust-name
        // handling, beside the client (each runs progenitor on its own).
        let mock = spawn(scope, || {
            crate::mocks::generate(&spec, &enums, &service.name, &rel, &header)
        });
        let cli = spawn(scope, || {
            crate::cli_gen::generate(&spec, &enums, &service.name, &rel, &header)
        });

        let mut file = crate::rust_names::generate_with_rust_names(&spec, &rel, |spec| {
            run_progenitor(spec, &enums, &rel)
        })?;
        let table: Vec<&str> = operations.iter().map(|op| op.id.as_str()).collect();
        let docs = crate::spec::docs_from_spec(&spec, &rel)?;
        crate::rewrite::apply(&mut file, &docs, &table, &rel)?;
        if let Some(summary) = crate_description(&service.crate_dir)? {
            crate::rewrite::client_summary(&mut file, &summary, &rel)?;
        }
        crate::lenient::apply(&mut file, &spec, &rel)?;
        add_to_types_module(&mut file, &enums, &rel)?;
        crate::sensitive::apply(&mut file, &sensitive, &rel)?;
        file.items.extend(crate::paging_gen::client_items(
            &crate::paging_gen::collect(&spec, &rel)?,
        )?);
        file.items
            .push(syn::parse2(operation_table(&operations)).map_err(|e| e.to_string())?);
        file.items.extend(crate::error_bodies::items(&spec, &rel)?);
        let decoder = schema_decoder(&file, &spec, &service.name, &rel)?;
        let types = count_types(&file);
        crate::docs::normalize(&mut file);
        let table = crate::tables::operations_md(&service.name, &rel, &sha, &spec, &file)?;
        let client = Unformatted {
            header: header.clone(),
            code: prettyplease::unparse(&file),
        };
        let decoder = Unformatted {
            header: format!(
                "// @generated by `cargo xtask generate` from {rel}; do not edit by hand.\n\
                 // spec sha256: {sha}\n\n"
            ),
            code: prettyplease::unparse(&decoder),
        };
        Ok(Parts {
            rust: vec![
                (service.crate_dir.join("src/generated.rs"), client),
                (
                    crate::workspace::root()
                        .join("tests/src/schemas")
                        .join(format!("{}.rs", service.name)),
                    decoder,
                ),
                join(mock)?,
                join(cli)?,
            ],
            text: vec![(service.crate_dir.join("OPERATIONS.md"), table)],
            operations: operations.len(),
            types,
        })
    })
}

/// Runs `f` on a thread of `scope` with room for the syntax trees' recursion.
fn spawn<'scope, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    f: impl FnOnce() -> Result<T, String> + Send + 'scope,
) -> Result<std::thread::ScopedJoinHandle<'scope, Result<T, String>>, String> {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn_scoped(scope, f)
        .map_err(|e| format!("cannot start a generator thread: {e}"))
}

/// What a thread of [`spawn`] returned; its panic as an error.
fn join<T>(
    handle: Result<std::thread::ScopedJoinHandle<'_, Result<T, String>>, String>,
) -> Result<T, String> {
    handle?
        .join()
        .map_err(|_| "a generator thread panicked".to_string())?
}

fn add_to_types_module(file: &mut syn::File, enums: &[OpenEnum], rel: &str) -> Result<(), String> {
    if enums.is_empty() {
        return Ok(());
    }
    let module = crate::tables::types_module_mut(file, rel)?;
    for e in enums {
        let items: syn::File = syn::parse2(open_enum::tokens(e))
            .map_err(|err| format!("{rel}: open enum {}: {err}", e.name))?;
        module.extend(items.items);
    }
    Ok(())
}

/// The tests crate's `decode_schema(name, json)` for one spec: decodes JSON as the Rust type
/// of a component schema and encodes it again, so tests can check every example in the spec
/// against the generated types without a hand-kept list. Every component schema must have a
/// generated type of the same name.
fn schema_decoder(
    file: &syn::File,
    spec: &OpenAPI,
    service: &str,
    rel: &str,
) -> Result<syn::File, String> {
    let generated: std::collections::BTreeSet<String> = types_module(file)
        .iter()
        .filter_map(|i| match i {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            syn::Item::Enum(e) => Some(e.ident.to_string()),
            syn::Item::Type(t) => Some(t.ident.to_string()),
            syn::Item::Macro(m) => open_enum::declared_name(m),
            _ => None,
        })
        .collect();
    let names: Vec<&String> = spec
        .components
        .iter()
        .flat_map(|c| c.schemas.keys())
        .collect();
    let missing: Vec<&str> = names
        .iter()
        .filter(|n| !generated.contains(n.as_str()))
        .map(|n| n.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{rel}: component schemas without a generated type of the same name \
             (use PascalCase names): {}",
            missing.join(", ")
        ));
    }
    let arms = names.iter().map(|name| {
        let ident = quote::format_ident!("{}", name);
        quote! {
            #name => Some(
                ::serde_json::from_value::<types::#ident>(value)
                    .and_then(::serde_json::to_value),
            ),
        }
    });
    let slice_arms = names.iter().map(|name| {
        let ident = quote::format_ident!("{}", name);
        quote! {
            #name => Some(::serde_json::from_slice::<types::#ident>(bytes).is_ok()),
        }
    });
    let module = quote::format_ident!("{}", service);
    let doc = format!("Every component schema of `{rel}`, decodable by name.");
    syn::parse2(quote! {
        #![doc = #doc]

        use user_apis::#module::types;

        /// The component schemas, in spec order.
        pub const NAMES: &[&str] = &[#(#names),*];

        /// Runs `serde_json::from_slice` into the generated type of the component schema
        /// `name` (what a call runs on a response body): `Some(true)` if `bytes` decode,
        /// `Some(false)` if not, `None` if the spec has no such schema.
        pub fn from_slice(name: &str, bytes: &[u8]) -> Option<bool> {
            match name {
                #(#slice_arms)*
                _ => None,
            }
        }

        /// Decodes `value` as the generated type of the component schema `name` and encodes it
        /// again; `None` if the spec has no such schema.
        pub fn decode_schema(
            name: &str,
            value: ::serde_json::Value,
        ) -> Option<Result<::serde_json::Value, ::serde_json::Error>> {
            match name {
                #(#arms)*
                _ => None,
            }
        }
    })
    .map_err(|e| e.to_string())
}

/// The items of progenitor's `types` module (empty if it has none).
fn types_module(file: &syn::File) -> &[syn::Item] {
    crate::tables::module(&file.items, "types")
}

fn count_types(file: &syn::File) -> usize {
    types_module(file)
        .iter()
        .filter(|i| {
            matches!(i, syn::Item::Struct(_) | syn::Item::Enum(_))
                || matches!(i, syn::Item::Macro(m) if open_enum::declared_name(m).is_some())
        })
        .count()
}

fn operation_table(ops: &[OperationInfo]) -> proc_macro2::TokenStream {
    let entries = ops.iter().map(|op| {
        let id = &op.id;
        let method = &op.method;
        let path = &op.path;
        let strings = &op.string_path_params;
        let authenticated = op.authenticated;
        quote! {
            api_runtime::OperationSpec {
                id: #id,
                method: #method,
                path: #path,
                string_path_params: &[#(#strings),*],
                authenticated: #authenticated,
            }
        }
    });
    quote! {
        /// Every operation of the spec, sorted by operation id: the runtime's request guards
        /// check each request against its path template before any I/O. Not part of the
        /// public API.
        #[doc(hidden)]
        pub static OPERATIONS: &[api_runtime::OperationSpec] = &[#(#entries),*];
    }
}

fn write_if_changed(path: &Path, content: &str) -> Result<(), String> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(content) {
        return Ok(());
    }
    std::fs::write(path, content).map_err(|e| format!("cannot write {}: {e}", relative(path)))
}

fn diff(path: &Path, old: &str, new: &str) -> String {
    let rel = relative(path);
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{rel} (committed)"),
            &format!("b/{rel} (from spec)"),
        )
        .to_string();
    const MAX_LINES: usize = 400;
    let total = text.lines().count();
    if total <= MAX_LINES {
        text
    } else {
        let head: Vec<&str> = text.lines().take(MAX_LINES).collect();
        format!(
            "{}\n… {} more diff lines for {rel}",
            head.join("\n"),
            total - MAX_LINES
        )
    }
}

#[cfg(test)]
mod paging_scratch;

#[cfg(test)]
mod tests {
    /// A spec with three refused operations, a refused schema property, and parts that pass.
    const SPEC: &str = r##"
openapi: 3.0.3
info: { title: Scratch, version: "1" }
paths:
  /brands/{brand_id}/agents:
    get:
      operationId: list_brand_agents
      parameters:
        - { name: brand_id, in: path, required: true, schema: { type: integer } }
        - { name: user_id, in: path, required: true, schema: { type: integer } }
      responses: { "204": { description: ok } }
  /tickets:
    get:
      operationId: list_tickets
      parameters:
        - { name: page, in: query, schema: { type: integer } }
        - { name: session, in: cookie, schema: { type: string } }
      responses: { "204": { description: ok } }
  /orgs:
    get:
      operationId: list_orgs
      parameters:
        - name: filter
          in: query
          style: deepObject
          schema: { type: object, properties: { a: { type: string } } }
      responses: { "204": { description: ok } }
  /widgets:
    get:
      operationId: list_widgets
      responses:
        "200":
          description: ok
          content: { application/json: { schema: { $ref: "#/components/schemas/Widget" } } }
components:
  schemas:
    Widget:
      type: object
      properties:
        name: { type: string }
        size: { type: integer, default: big }
"##;

    #[test]
    fn generate_names_every_refused_operation_and_schema_with_its_pointer() {
        let dir = std::env::temp_dir().join(format!("xtask-refusals-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        let spec_path = dir.join("scratch.yaml");
        std::fs::write(&spec_path, SPEC).expect("the spec is written");
        let service = crate::workspace::Service {
            name: "scratch".into(),
            spec_path: spec_path.clone(),
            crate_dir: dir.join("crate"),
        };
        let err = super::generate(&service)
            .err()
            .expect("the spec is refused");
        std::fs::remove_dir_all(&dir).ok();
        let rel = spec_path.display().to_string();
        let lines: Vec<&str> = err.lines().collect();
        assert!(
            lines[0].starts_with(&format!(
                "{rel}: progenitor 0.15.1's client generator refused 4 parts"
            )),
            "{err}"
        );
        for expected in [
            "schema `Widget` at #/components/schemas/Widget/properties/size: type error value \
             does not conform to the given schema",
            "operation `list_brand_agents` (GET /brands/{brand_id}/agents) at \
             #/paths/~1brands~1{brand_id}~1agents/get/parameters/1: user_id missing from path",
            "operation `list_orgs` (GET /orgs) at #/paths/~1orgs/get/parameters/0: unexpected \
             or unhandled format in the OpenAPI document unsupported style of query parameter \
             DeepObject",
            "operation `list_tickets` (GET /tickets) at #/paths/~1tickets/get/parameters/1: \
             unexpected or unhandled format in the OpenAPI document cookie parameters are not \
             supported",
        ] {
            assert!(
                lines.contains(&format!("  {rel}: {expected}").as_str()),
                "`{expected}` is not a line of:\n{err}"
            );
        }
        // The operations that pass are not named, even the one that uses the refused schema.
        assert!(!err.contains("list_widgets"), "{err}");
        assert_eq!(lines.len(), 5, "{err}");
    }
}
