//! `cargo xtask new-service NAME --spec FILE`: a fourth (fifth …) service from its spec.
//!
//! Writes `specs/NAME.yaml`, the client crate `crates/NAME-api` (manifest, README, `lib.rs`,
//! and `auth.rs` with one constructor per security scheme the spec declares), the mock crate
//! `crates/NAME-api-mock`, and wires them in: the workspace's members and dependencies, the
//! facade's feature and re-export, the CLI's command, the tests crate's decoder table, and the
//! README's crate table. Then it runs `generate` for the new spec. Every edit of an existing
//! file is idempotent: run again, it changes nothing; a file it would create that already
//! exists is left as it is.

mod catalogue;
mod edits;
mod templates;

use std::path::{Path, PathBuf};

use openapiv3::{OpenAPI, ReferenceOr, SecurityScheme};

use crate::workspace::{relative, root};

/// How a client authenticates, as the spec's `components.securitySchemes` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Auth {
    /// `type: http, scheme: basic`.
    Basic,
    /// `type: http, scheme: bearer`.
    Bearer,
}

/// What the templates need to know of the new service.
pub(crate) struct NewService {
    /// `widgets`: the spec's file stem, the CLI command, the facade feature.
    pub name: String,
    /// `widgets_api`.
    pub ident: String,
    /// The spec's `info.title`.
    pub title: String,
    /// The spec's first `servers[].url`.
    pub base_url: String,
    /// One per declared scheme, in the spec's order; the first is the mocks' and the CLI's.
    pub auth: Vec<Auth>,
    /// The number of operations.
    pub operations: usize,
    /// The tests catalogue's entries: a call per operation, from the spec's examples.
    pub catalogue: Vec<String>,
    /// The operations the examples do not give a call for, each with why.
    pub left_to_write: Vec<String>,
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let (name, spec) = match args {
        [name, flag, spec] if flag == "--spec" && !name.starts_with('-') => (name, spec),
        [flag, spec, name] if flag == "--spec" && !name.starts_with('-') => (name, spec),
        _ => {
            return Err("new-service: usage: cargo xtask new-service NAME --spec FILE".to_string());
        }
    };
    let spec_path = PathBuf::from(spec);
    let (written, left) = create(&root(), name, &spec_path)?;
    for path in &written {
        println!("wrote {}", relative(path));
    }
    crate::generate::run(&["--only".to_string(), name.clone()])?;
    rustfmt(&written)?;
    for operation in &left {
        println!("tests/src/catalogue.rs: no entry for {name}::{operation}");
    }
    println!(
        "{name}: done. Still to write by hand (CONTRIBUTING.md, \"Adding a service\"): the \
         wire facts the spec cannot say in the crates' READMEs, the catalogue entries listed \
         above, and the request snapshots (INSTA_UPDATE=always cargo test -p tests --test \
         requests, then read each)."
    );
    Ok(())
}

/// Formats the Rust files written or edited (with the modules they declare, which rustfmt
/// leaves as they are when already formatted): the edits and templates place code, rustfmt
/// gives it the layout `cargo fmt --check` expects.
fn rustfmt(written: &[PathBuf]) -> Result<(), String> {
    let files: Vec<&PathBuf> = written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    if files.is_empty() {
        return Ok(());
    }
    let output = std::process::Command::new(crate::codegen::rustfmt_binary())
        .args(["--edition", "2024", "--quiet"])
        .args(&files)
        .output()
        .map_err(|e| format!("cannot run rustfmt (rustup component add rustfmt): {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "rustfmt failed on the new service's files: {}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Checks NAME and the spec, then writes and edits every file; returns the files changed.
pub(crate) fn create(
    root: &Path,
    name: &str,
    spec_path: &Path,
) -> Result<(Vec<PathBuf>, Vec<String>), String> {
    check_name(name)?;
    let text = std::fs::read_to_string(spec_path)
        .map_err(|e| format!("new-service: cannot read {}: {e}", spec_path.display()))?;
    let target = root.join("specs").join(format!("{name}.yaml"));
    if let Ok(existing) = std::fs::read_to_string(&target)
        && existing != text
    {
        return Err(format!(
            "new-service: specs/{name}.yaml exists and differs from {}: the service exists \
             (change its spec and run `cargo xtask generate`)",
            spec_path.display()
        ));
    }
    let rel = format!("specs/{name}.yaml");
    let spec: OpenAPI = yaml_serde::from_str(&text).map_err(|e| {
        format!(
            "{}: not a valid OpenAPI 3.0 document: {e}",
            spec_path.display()
        )
    })?;
    let service = describe(name, &spec, &rel)?;

    let mut written = Vec::new();
    let mut create_file = |path: PathBuf, content: String| -> Result<(), String> {
        if path.exists() {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::write(&path, content)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
        Ok(())
    };
    create_file(target, text.clone())?;
    for (path, content) in templates::files(&service) {
        create_file(root.join(path), content)?;
    }
    for path in edits::apply(root, &service)? {
        written.push(path);
    }
    Ok((written, service.left_to_write))
}

/// A service name: lowercase ASCII letters and digits, starting with a letter (it becomes
/// a crate name, a Rust module, a feature, a CLI command and an environment variable prefix).
fn check_name(name: &str) -> Result<(), String> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !ok {
        return Err(format!(
            "new-service: `{name}` cannot name a service: use lowercase ASCII letters and \
             digits, starting with a letter (it names the crates, the feature, the CLI command)"
        ));
    }
    if ["api", "runtime", "mock", "user", "completions"].contains(&name) {
        return Err(format!(
            "new-service: `{name}` is taken by the workspace (crates/{name}-… or a CLI command)"
        ));
    }
    Ok(())
}

/// The facts of the spec the templates use, or the first thing that keeps them from it.
fn describe(name: &str, spec: &OpenAPI, rel: &str) -> Result<NewService, String> {
    let base_url = spec
        .servers
        .first()
        .map(|s| s.url.trim_end_matches('/').to_string())
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
        .ok_or_else(|| {
            format!(
                "{rel}: no absolute `servers[0].url` (at #/servers/0/url): it becomes the \
                 client's DEFAULT_BASE_URL"
            )
        })?;
    let mut auth = Vec::new();
    let schemes = spec
        .components
        .as_ref()
        .map(|c| &c.security_schemes)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            format!(
                "{rel}: no security scheme (at #/components/securitySchemes): the client's \
                 constructor is written from it (http basic or http bearer)"
            )
        })?;
    for (scheme_name, scheme) in schemes {
        let pointer = crate::spec::pointer(["components", "securitySchemes", scheme_name]);
        let ReferenceOr::Item(scheme) = scheme else {
            return Err(format!(
                "{rel}: security scheme `{scheme_name}` at {pointer} is a $ref: write it inline"
            ));
        };
        let found = match scheme {
            SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("basic") => {
                Auth::Basic
            }
            SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("bearer") => {
                Auth::Bearer
            }
            other => {
                let what = match other {
                    SecurityScheme::HTTP { scheme, .. } => format!("http scheme `{scheme}`"),
                    SecurityScheme::APIKey { location, name, .. } => {
                        format!("apiKey `{name}` in {location:?}")
                    }
                    SecurityScheme::OAuth2 { .. } => "oauth2".to_string(),
                    SecurityScheme::OpenIDConnect { .. } => "openIdConnect".to_string(),
                };
                return Err(format!(
                    "{rel}: security scheme `{scheme_name}` at {pointer} is {what}: the clients \
                     send their credentials in `Authorization`, as http basic or http bearer; \
                     write this service's constructor by hand (zendesk-api's OAuth is an example)"
                ));
            }
        };
        if !auth.contains(&found) {
            auth.push(found);
        }
    }
    // A style's wire behaviour is hand-written in the client (`src/pagination.rs`) and the
    // CLI (`--all`, `--wait`): the service starts without them, and they are added after.
    let declared = crate::paging_gen::collect(spec, rel)?;
    if let Some(id) = declared
        .listings
        .iter()
        .map(|l| &l.id)
        .chain(declared.jobs.iter().map(|j| &j.id))
        .next()
    {
        return Err(format!(
            "{rel}: operation `{id}` declares x-pagination or x-job: run new-service on the \
             spec without them, then add them as CONTRIBUTING.md says (\"Changing or adding an \
             operation\"), with the client's src/pagination.rs"
        ));
    }
    let operations = crate::spec::operations(spec, rel)?.len();
    if operations == 0 {
        return Err(format!("{rel}: no operation (at #/paths)"));
    }
    let (catalogue, left_to_write) = catalogue::calls(name, spec, rel);
    Ok(NewService {
        catalogue,
        left_to_write,
        name: name.to_string(),
        ident: format!("{name}_api"),
        title: spec.info.title.trim().to_string(),
        base_url,
        auth,
        operations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(schemes: &str) -> OpenAPI {
        yaml_serde::from_str(&format!(
            "openapi: 3.0.3\ninfo: {{title: Widgets API, version: '1'}}\n\
             servers: [{{url: 'https://api.widgets.test/'}}]\n\
             paths:\n  /w:\n    get:\n      operationId: list_w\n      responses:\n        \
             '204': {{description: none}}\n\
             components:\n  securitySchemes:\n{schemes}"
        ))
        .expect("a spec")
    }

    #[test]
    fn a_constructor_per_declared_scheme_in_the_specs_order() {
        let s = describe(
            "widgets",
            &spec("    b: {type: http, scheme: bearer}\n    a: {type: http, scheme: basic}\n"),
            "specs/widgets.yaml",
        )
        .expect("described");
        assert_eq!(s.auth, [Auth::Bearer, Auth::Basic]);
        assert_eq!(s.base_url, "https://api.widgets.test");
        assert_eq!(s.operations, 1);
    }

    #[test]
    fn a_scheme_the_clients_cannot_send_is_refused_with_its_pointer() {
        let err = describe(
            "widgets",
            &spec("    key: {type: apiKey, in: query, name: key}\n"),
            "specs/widgets.yaml",
        )
        .err()
        .expect("refused");
        assert!(err.contains("#/components/securitySchemes/key"), "{err}");
        assert!(err.contains("apiKey `key`"), "{err}");
    }

    #[test]
    fn a_spec_with_listings_is_refused_until_they_are_added_after() {
        let path = crate::workspace::root().join("specs/sendauth.yaml");
        let (_, spec) = crate::spec::load_spec(&path).expect("the SendAuth spec");
        let err = describe("sendauth2", &spec, "specs/sendauth2.yaml")
            .err()
            .expect("refused");
        assert!(err.contains("declares x-pagination or x-job"), "{err}");
    }

    #[test]
    fn names_that_cannot_name_crates_and_commands_are_refused() {
        for bad in ["", "Widgets", "wid-gets", "9w", "api", "completions"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_name("widgets2").is_ok());
    }
}
