//! Running progenitor: the settings every output shares (client, mocks, CLI), its panics and
//! rejections turned into errors that name the spec, and rustfmt, the last step of every
//! generated file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use openapiv3::OpenAPI;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;

use crate::open_enum::OpenEnum;
use crate::refusals;
use crate::spec::PROGENITOR_VERSION;

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

/// Runs progenitor's client generator on `spec`; a refused spec is an error naming every
/// refused operation and schema with its JSON pointer.
pub(crate) fn run_progenitor(
    spec: &OpenAPI,
    enums: &[OpenEnum],
    rel: &str,
) -> Result<proc_macro2::TokenStream, String> {
    progenitor_output(rel, "client", spec, |spec| {
        Generator::new(&settings(enums)).generate_tokens(spec)
    })
}

/// Runs one of progenitor's generators (`what` names it in errors: "client", "CLI",
/// "httpmock") on `spec`. A rejection or a panic becomes an error naming the spec and every
/// part of it the generator refuses, each with its JSON pointer (see [`refusals`]).
pub(crate) fn progenitor_output<E: std::fmt::Display>(
    rel: &str,
    what: &str,
    spec: &OpenAPI,
    generate: impl Fn(&OpenAPI) -> Result<proc_macro2::TokenStream, E>,
) -> Result<proc_macro2::TokenStream, String> {
    let whole = match guarded(|| generate(spec)) {
        Ok(Ok(tokens)) => return Ok(tokens),
        Ok(Err(e)) => e.to_string(),
        Err(panic) => format!("it panicked: {panic}"),
    };
    let accepts = |part: &OpenAPI| match guarded(|| generate(part)) {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(panic),
    };
    let found = refusals::locate(spec, &accepts);
    Err(refusals::report(
        rel,
        &format!("progenitor {PROGENITOR_VERSION}'s {what} generator"),
        &found,
        &whole,
    ))
}

/// Calls `f`, catching a panic; the panic is not printed (the error reports it). Threads
/// may call it at once: the process's panic hook stays quiet only on a thread inside it.
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    thread_local! {
        static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    let outer = GUARDED.with(|g| g.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(outer));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

/// A generated Rust file before rustfmt: its header comment and its code.
pub(crate) struct Unformatted {
    pub header: String,
    pub code: String,
}

/// Formats each of `files` with the toolchain's rustfmt, so `cargo fmt --check` agrees with
/// the output: the header then the formatted code, in order. One rustfmt process for all of
/// them (its start-up costs more than formatting a small file), on copies under
/// `target/xtask-rustfmt/`.
pub(crate) fn rustfmt_all(files: &[&Unformatted]) -> Result<Vec<String>, String> {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let dir = crate::workspace::root()
        .join("target/xtask-rustfmt")
        .join(format!(
            "{}-{}",
            std::process::id(),
            RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = format_in(&dir, files);
    std::fs::remove_dir_all(&dir).ok();
    result
}

fn format_in(dir: &Path, files: &[&Unformatted]) -> Result<Vec<String>, String> {
    let paths: Vec<PathBuf> = (0..files.len())
        .map(|i| dir.join(format!("{i}.rs")))
        .collect();
    for (path, file) in paths.iter().zip(files) {
        std::fs::write(path, &file.code)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let output = Command::new(rustfmt_binary())
        .args(["--edition", "2024", "--quiet"])
        .args(&paths)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run rustfmt (rustup component add rustfmt): {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "rustfmt failed on generated code: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    paths
        .iter()
        .zip(files)
        .map(|(path, file)| {
            let code = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Ok(format!("{}{code}", file.header))
        })
        .collect()
}

/// The toolchain's rustfmt (beside the `cargo` that runs xtask), else `rustfmt` on `PATH`.
pub(crate) fn rustfmt_binary() -> PathBuf {
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
