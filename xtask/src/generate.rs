//! `cargo xtask generate`: `specs/<svc>.yaml` → `crates/<svc>-api/src/generated.rs` + `OPERATIONS.md`.
//!
//! The pipeline is YAML → openapiv3 → progenitor (builder interface, merged tags, hooks
//! expected, `api_runtime::Runtime` as the client's inner type) → a few additions at the
//! syntax-tree level (open enums, a redacting `Debug` for types with `x-sensitive` fields, the
//! operation table) → prettyplease → rustfmt. Every step
//! is deterministic, so the same spec gives byte-identical files on every machine.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use openapiv3::{OpenAPI, Parameter, ReferenceOr};
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;
use sha2::{Digest, Sha256};

use crate::open_enum::{self, OpenEnum};

/// The progenitor version the generated code is made with; kept in the header.
const PROGENITOR_VERSION: &str = "0.15.1";

/// One spec and the crate generated from it.
pub(crate) struct Service {
    pub name: String,
    pub spec_path: PathBuf,
    pub crate_dir: PathBuf,
}

/// What `generate` produces for one service, in memory.
pub(crate) struct Output {
    pub files: Vec<(PathBuf, String)>,
    pub operations: usize,
    pub types: usize,
    pub lines: usize,
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let args = crate::Args::parse(
        "generate",
        args,
        &["--check"],
        &[("--only", "a service name (zendesk, cerego, sendauth)")],
    )?;
    let check = args.flag("--check");
    let only = args.value("--only");
    let services = services(only.as_deref())?;
    let mut stale = Vec::new();
    for service in &services {
        let started = Instant::now();
        let output = generate(service)?;
        let millis = started.elapsed().as_millis();
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

/// Every `specs/*.yaml`, sorted by name, each paired with `crates/<name>-api`.
pub(crate) fn services(only: Option<&str>) -> Result<Vec<Service>, String> {
    let root = crate::workspace_root();
    let specs = root.join("specs");
    let mut found = Vec::new();
    let entries =
        std::fs::read_dir(&specs).map_err(|e| format!("cannot read {}: {e}", specs.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let crate_dir = root.join("crates").join(format!("{name}-api"));
        if !crate_dir.join("Cargo.toml").is_file() {
            return Err(format!(
                "{} has no client crate: expected {}/Cargo.toml",
                relative(&path),
                relative(&crate_dir)
            ));
        }
        found.push(Service {
            name: name.to_string(),
            spec_path: path,
            crate_dir,
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(only) = only {
        found.retain(|s| s.name == only);
        if found.is_empty() {
            return Err(format!("--only {only}: there is no specs/{only}.yaml"));
        }
    }
    if found.is_empty() {
        return Err("specs/ holds no *.yaml".into());
    }
    Ok(found)
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

/// Reads and parses a spec.
pub(crate) fn load_spec(path: &Path) -> Result<(String, OpenAPI), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", relative(path)))?;
    let spec: OpenAPI = yaml_serde::from_str(&text).map_err(|e| {
        format!(
            "{} is not a valid OpenAPI 3.0 document: {e}",
            relative(path)
        )
    })?;
    if spec.openapi != "3.0.3" {
        return Err(format!(
            "{}: openapi must be 3.0.3 (progenitor {PROGENITOR_VERSION} rejects {})",
            relative(path),
            spec.openapi
        ));
    }
    Ok((text, spec))
}

/// Runs the whole pipeline for one service, touching nothing on disk.
pub(crate) fn generate(service: &Service) -> Result<Output, String> {
    let rel = relative(&service.spec_path);
    let (text, spec) = load_spec(&service.spec_path)?;
    let sha = hex(&Sha256::digest(text.as_bytes()));
    let operations = operations(&spec, &rel)?;
    let enums = open_enum::collect(&spec).map_err(|e| format!("{rel}: {e}"))?;
    let sensitive = crate::sensitive::collect(&spec).map_err(|e| format!("{rel}: {e}"))?;

    let tokens = crate::rust_names::generate_with_rust_names(&spec, &rel, |spec| {
        run_progenitor(spec, &enums, &rel)
    })?;
    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| format!("{rel}: progenitor produced code that does not parse: {e}"))?;
    crate::rewrite::apply(
        &mut file,
        &crate::rewrite::docs_from_spec(&spec, &rel)?,
        &rel,
    )?;
    if let Some(summary) = crate_description(&service.crate_dir)? {
        crate::rewrite::client_summary(&mut file, &summary, &rel)?;
    }
    crate::lenient::apply(&mut file, &spec, &rel)?;
    add_to_types_module(&mut file, &enums, &rel)?;
    crate::sensitive::apply(&mut file, &sensitive, &rel)?;
    file.items
        .push(syn::parse2(operation_table(&operations)).map_err(|e| e.to_string())?);
    let decoder = schema_decoder(&file, &spec, &service.name, &rel)?;
    let types = count_types(&file);
    crate::docs::normalize(&mut file);

    let header = format!(
        "// @generated by `cargo xtask generate` from {rel}; do not edit by hand.\n\
         // spec sha256: {sha}\n\
         // progenitor {PROGENITOR_VERSION}\n\n"
    );
    let body = rustfmt(&prettyplease::unparse(&file))?;
    let generated = format!("{header}{body}");
    let lines = generated.lines().count();
    let table = crate::tables::operations_md(&service.name, &rel, &sha, &spec, &file)?;
    // The typed mocks and the CLI module, from the same settings and x-rust-name handling.
    let mock = crate::mocks::generate(&spec, &enums, &service.name, &rel, &header)?;
    let cli = crate::cli_gen::generate(&spec, &enums, &service.name, &rel, &header)?;
    let decoder = format!(
        "// @generated by `cargo xtask generate` from {rel}; do not edit by hand.\n\
         // spec sha256: {sha}\n\n{}",
        rustfmt(&prettyplease::unparse(&decoder))?
    );

    Ok(Output {
        files: vec![
            (service.crate_dir.join("src/generated.rs"), generated),
            (service.crate_dir.join("OPERATIONS.md"), table),
            (
                crate::workspace_root()
                    .join("tests/src/schemas")
                    .join(format!("{}.rs", service.name)),
                decoder,
            ),
            mock,
            cli,
        ],
        operations: operations.len(),
        types,
        lines,
    })
}

pub(crate) fn settings(enums: &[OpenEnum]) -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_hooks(HooksMode::Expected)
        .with_inner_type(quote!(api_runtime::Runtime))
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq")
        // Maps serialize in key order: the same value always gives the same bytes.
        .with_map_type("::std::collections::BTreeMap");
    for e in enums {
        settings.with_replacement(
            &e.name,
            format!("crate::types::{}", e.name),
            [TypeImpl::FromStr, TypeImpl::Display].into_iter(),
        );
    }
    settings
}

/// Runs progenitor, turning a panic into an error that names the spec and, by regenerating one
/// operation at a time, the first operation that makes it panic.
fn run_progenitor(
    spec: &OpenAPI,
    enums: &[OpenEnum],
    rel: &str,
) -> Result<proc_macro2::TokenStream, String> {
    match guarded(|| Generator::new(&settings(enums)).generate_tokens(spec)) {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(e)) => Err(format!("{rel}: progenitor rejected the spec: {e}")),
        Err(panic) => {
            for (path, method, op) in spec.operations() {
                let mut one = spec.clone();
                for (p, item) in one.paths.paths.iter_mut() {
                    if let ReferenceOr::Item(item) = item {
                        for (m, slot) in [
                            ("get", &mut item.get),
                            ("put", &mut item.put),
                            ("post", &mut item.post),
                            ("delete", &mut item.delete),
                            ("patch", &mut item.patch),
                            ("head", &mut item.head),
                            ("options", &mut item.options),
                            ("trace", &mut item.trace),
                        ] {
                            if !(p == path && m == method) {
                                *slot = None;
                            }
                        }
                    }
                }
                if let Err(op_panic) =
                    guarded(|| Generator::new(&settings(enums)).generate_tokens(&one))
                {
                    let id = op.operation_id.as_deref().unwrap_or("<no operationId>");
                    return Err(format!(
                        "{rel}: progenitor panicked on operation `{id}` ({} {path}): {op_panic}",
                        method.to_uppercase()
                    ));
                }
            }
            Err(format!("{rel}: progenitor panicked: {panic}"))
        }
    }
}

/// Runs one of progenitor's generators (`what` names it in errors: "CLI", "httpmock"),
/// turning a rejection or a panic into an error naming the spec.
pub(crate) fn progenitor_output<E: std::fmt::Display>(
    rel: &str,
    what: &str,
    f: impl FnOnce() -> Result<proc_macro2::TokenStream, E>,
) -> Result<proc_macro2::TokenStream, String> {
    match guarded(f) {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(e)) => Err(format!(
            "{rel}: progenitor's {what} generator rejected it: {e}"
        )),
        Err(panic) => Err(format!(
            "{rel}: progenitor's {what} generator panicked: {panic}"
        )),
    }
}

/// Calls `f`, catching a panic (and keeping the default hook from printing it).
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
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

/// What the generator and the runtime need to know of one operation.
pub(crate) struct OperationInfo {
    pub id: String,
    pub method: String,
    pub path: String,
    /// Path parameters whose schema is a string without a format that rules out `.`/`..`.
    pub string_path_params: Vec<String>,
    /// Whether requests carry the client's credentials: every operation but those whose
    /// spec says `security: []` (a token endpoint, whose credentials are in its body).
    pub authenticated: bool,
}

fn operations(spec: &OpenAPI, rel: &str) -> Result<Vec<OperationInfo>, String> {
    let mut out = Vec::new();
    for (path, method, op) in spec.operations() {
        let id = op
            .operation_id
            .clone()
            .ok_or_else(|| format!("{rel}: {} {path} has no operationId", method.to_uppercase()))?;
        let string_path_params = parameters(spec, path, op, rel)?
            .into_iter()
            .filter(|(data, location)| *location == "path" && is_free_string(spec, data))
            .map(|(data, _)| data.name)
            .collect();
        let authenticated = op.security.as_ref().is_none_or(|s| !s.is_empty());
        out.push(OperationInfo {
            authenticated,
            id,
            method: method.to_uppercase(),
            path: path.to_string(),
            string_path_params,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(w) = out.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(format!("{rel}: operationId `{}` is used twice", w[0].id));
    }
    Ok(out)
}

/// Every parameter of the operation at `path` (the path item's, then the operation's), each
/// resolved through `#/components/parameters` and paired with where it is sent (`path`,
/// `query`, `header`, `cookie`).
pub(crate) fn parameters(
    spec: &OpenAPI,
    path: &str,
    op: &openapiv3::Operation,
    rel: &str,
) -> Result<Vec<(openapiv3::ParameterData, &'static str)>, String> {
    let item_params = match spec.paths.paths.get(path) {
        Some(ReferenceOr::Item(item)) => item.parameters.as_slice(),
        _ => &[],
    };
    let id = op.operation_id.as_deref().unwrap_or(path);
    item_params
        .iter()
        .chain(&op.parameters)
        .map(|param| {
            let param = match param {
                ReferenceOr::Item(p) => Some(p.clone()),
                ReferenceOr::Reference { reference } => reference
                    .strip_prefix("#/components/parameters/")
                    .and_then(|name| spec.components.as_ref()?.parameters.get(name))
                    .and_then(|p| p.as_item())
                    .cloned(),
            };
            Ok(match param {
                Some(Parameter::Path { parameter_data, .. }) => (parameter_data, "path"),
                Some(Parameter::Query { parameter_data, .. }) => (parameter_data, "query"),
                Some(Parameter::Header { parameter_data, .. }) => (parameter_data, "header"),
                Some(Parameter::Cookie { parameter_data, .. }) => (parameter_data, "cookie"),
                None => return Err(format!("{rel}: `{id}` has an unresolvable parameter $ref")),
            })
        })
        .collect()
}

/// A string path parameter that could carry `.`, `..` or nothing at all (a `uuid` or
/// `date-time` cannot, nor can an integer).
fn is_free_string(spec: &OpenAPI, data: &openapiv3::ParameterData) -> bool {
    let openapiv3::ParameterSchemaOrContent::Schema(schema) = &data.format else {
        return true;
    };
    let schema = match schema {
        ReferenceOr::Item(s) => s.clone(),
        ReferenceOr::Reference { reference } => {
            let Some(s) = reference
                .strip_prefix("#/components/schemas/")
                .and_then(|name| spec.components.as_ref()?.schemas.get(name))
                .and_then(|s| s.as_item())
            else {
                return true;
            };
            s.clone()
        }
    };
    match &schema.schema_kind {
        openapiv3::SchemaKind::Type(openapiv3::Type::String(s)) => {
            !matches!(
                &s.format,
                openapiv3::VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid"
            ) && !matches!(
                &s.format,
                openapiv3::VariantOrUnknownOrEmpty::Item(
                    openapiv3::StringFormat::DateTime | openapiv3::StringFormat::Date
                )
            )
        }
        openapiv3::SchemaKind::Type(_) => false,
        _ => true,
    }
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

/// Formats with the toolchain's rustfmt, so `cargo fmt --check` agrees with the output.
pub(crate) fn rustfmt(source: &str) -> Result<String, String> {
    let mut child = Command::new(rustfmt_binary())
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run rustfmt (rustup component add rustfmt): {e}"))?;
    let mut stdin = child.stdin.take().ok_or("rustfmt: no stdin")?;
    let input = source.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    writer
        .join()
        .map_err(|_| "rustfmt: writer thread failed".to_string())?
        .map_err(|e| format!("rustfmt: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "rustfmt failed on generated code: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("rustfmt printed non-UTF-8: {e}"))
}

fn rustfmt_binary() -> PathBuf {
    // `cargo` sets CARGO to itself; rustfmt sits beside it in a rustup toolchain.
    if let Some(dir) = std::env::var_os("CARGO")
        .map(PathBuf::from)
        .and_then(|c| c.parent().map(Path::to_path_buf))
    {
        let candidate = dir.join("rustfmt");
        if candidate.is_file() {
            return candidate;
        }
    }
    PathBuf::from("rustfmt")
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

pub(crate) fn relative(path: &Path) -> String {
    let root = crate::workspace_root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
