//! Running progenitor: the settings every output shares (client, mocks, CLI), its panics and
//! rejections turned into errors that name the spec, and rustfmt, the last step of every
//! generated file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use openapiv3::{OpenAPI, ReferenceOr};
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;

use crate::open_enum::OpenEnum;

/// The settings of every progenitor run (client, mocks, CLI), so the three agree on names and
/// types.
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
pub(crate) fn run_progenitor(
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
