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
mod corpus;
mod edits;
mod templates;

use std::path::{Path, PathBuf};

use openapiv3::{OpenAPI, ReferenceOr, SecurityScheme};

use crate::workspace::{relative, root};

/// How a client authenticates, as the spec's `components.securitySchemes` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Auth {
    /// `type: http, scheme: basic`.
    Basic,
    /// `type: http, scheme: bearer`.
    Bearer,
    /// `type: apiKey, in: header, name: NAME`.
    ApiKeyHeader(String),
    /// `type: apiKey, in: query, name: NAME`.
    ApiKeyQuery(String),
    /// `type: oauth2` with a `clientCredentials` flow: its `tokenUrl`, made absolute against
    /// `servers[0].url` when the spec gives it relative.
    OAuth2ClientCredentials(String),
}

impl NewService {
    /// The scheme of the mocks' and the tests' clients: the first `http` one (whose
    /// `Authorization` the request snapshots check), else the first declared.
    pub(crate) fn primary(&self) -> &Auth {
        self.auth
            .iter()
            .find(|a| matches!(a, Auth::Basic | Auth::Bearer))
            .unwrap_or(&self.auth[0])
    }
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
    /// Whether an operation pages (`x-pagination`, page-number style): the CLI module
    /// answers `--all`.
    pub paginated: bool,
    /// The tests catalogue's entries: a call per operation, from the spec's examples.
    pub catalogue: Vec<String>,
    /// The operations the examples do not give a call for, each with why.
    pub left_to_write: Vec<String>,
    /// The response corpus's files (path under the root, content), from the spec.
    pub corpus: Vec<(String, String)>,
    /// The operations whose corpus body the spec does not give, each with why.
    pub corpus_left: Vec<String>,
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
    for path in snapshots(name)? {
        println!("wrote {}", relative(&path));
    }
    for line in &left {
        println!("{line}");
    }
    println!(
        "{name}: done. Read the request snapshots and the response corpus written above before \
         committing them; still to write by hand (CONTRIBUTING.md, \"Adding a service\"): the \
         wire facts the spec cannot say in the crates' READMEs and what is listed above."
    );
    Ok(())
}

/// Writes the request snapshot of each of the service's catalogue entries that has none: the
/// requests test, run with insta accepting only snapshots that do not exist yet
/// (`INSTA_UPDATE=unseen`; a changed snapshot of another service still fails it), records
/// what each call sends on a loopback server. Returns the files written; when every entry has
/// its snapshot, nothing is run.
fn snapshots(name: &str) -> Result<Vec<PathBuf>, String> {
    let root = root();
    let dir = root.join("tests/tests/snapshots");
    let before = snapshot_files(&dir, name);
    let catalogue = std::fs::read_to_string(root.join("tests/src/catalogue.rs"))
        .map_err(|e| format!("cannot read tests/src/catalogue.rs: {e}"))?;
    let missing = catalogue_ids(&catalogue, name)
        .into_iter()
        .any(|id| !before.contains(&dir.join(format!("{name}__{id}.snap"))));
    if !missing {
        return Ok(Vec::new());
    }
    crate::process::integration_tests(
        &["requests::every_operation_sends_the_request_its_snapshot_shows"],
        &[("INSTA_UPDATE", "unseen")],
    )
    .map_err(|e| {
        format!("new-service: the request snapshots of `{name}` could not be recorded: {e}")
    })?;
    Ok(snapshot_files(&dir, name)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect())
}

/// The operationIds of the service's entries in `tests/src/catalogue.rs`
/// (`    NAME::operation_id => |c| …`).
fn catalogue_ids<'a>(catalogue: &'a str, name: &str) -> Vec<&'a str> {
    let prefix = format!("    {name}::");
    catalogue
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .filter_map(|rest| rest.split_once(" =>").map(|(id, _)| id))
        .filter(|id| id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect()
}

/// The service's committed snapshots (`NAME__<operationId>.snap`), sorted.
fn snapshot_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let prefix = format!("{name}__");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "snap")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix))
        })
        .collect();
    files.sort();
    files
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
    for (path, content) in templates::files(&service)
        .into_iter()
        .chain(service.corpus.clone())
    {
        create_file(root.join(path), content)?;
    }
    for path in edits::apply(root, &service)? {
        written.push(path);
    }
    let mut left: Vec<String> = service
        .left_to_write
        .iter()
        .map(|o| format!("tests/src/catalogue.rs: no entry for {name}::{o}"))
        .collect();
    left.extend(
        service
            .corpus_left
            .iter()
            .map(|o| format!("tests/corpus/{name}/: no body for {name}::{o}")),
    );
    Ok((written, left))
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

/// `url` resolved against the server URL `base` as a directory (RFC 3986): `token` below
/// its path, `/token` from its origin, an absolute URL as it is; an `http` or `https` URL, or
/// why not.
fn absolute_url(url: &str, base: &str) -> Result<String, String> {
    let base = url::Url::parse(&format!("{}/", base.trim_end_matches('/')))
        .map_err(|e| format!("the server URL `{base}` is not a URL ({e})"))?;
    let resolved = base
        .join(url)
        .map_err(|e| format!("`{url}` is not a URL ({e})"))?;
    match resolved.scheme() {
        "http" | "https" => Ok(resolved.into()),
        other => Err(format!("`{url}` is a `{other}` URL, not http or https")),
    }
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
                 constructors are written from them (http basic or bearer, an apiKey in a \
                 header or the query, oauth2's clientCredentials flow)"
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
            SecurityScheme::APIKey {
                location: openapiv3::APIKeyLocation::Header,
                name,
                ..
            } => Auth::ApiKeyHeader(name.clone()),
            SecurityScheme::APIKey {
                location: openapiv3::APIKeyLocation::Query,
                name,
                ..
            } => Auth::ApiKeyQuery(name.clone()),
            SecurityScheme::OAuth2 {
                flows:
                    openapiv3::OAuth2Flows {
                        client_credentials: Some(flow),
                        ..
                    },
                ..
            } => Auth::OAuth2ClientCredentials(absolute_url(&flow.token_url, &base_url).map_err(
                |why| {
                    format!(
                        "{rel}: the tokenUrl at {pointer}/flows/clientCredentials/tokenUrl: {why}"
                    )
                },
            )?),
            other => {
                let what = match other {
                    SecurityScheme::HTTP { scheme, .. } => format!("http scheme `{scheme}`"),
                    SecurityScheme::APIKey { location, name, .. } => {
                        format!("apiKey `{name}` in {location:?}")
                    }
                    SecurityScheme::OAuth2 { .. } => {
                        "oauth2 without a clientCredentials flow".to_string()
                    }
                    SecurityScheme::OpenIDConnect { .. } => "openIdConnect".to_string(),
                };
                return Err(format!(
                    "{rel}: security scheme `{scheme_name}` at {pointer} is {what}: new-service \
                     writes constructors for http basic, http bearer, apiKey in a header or \
                     the query and oauth2's clientCredentials flow; run it on the spec without this scheme and write its \
                     constructor by hand (zendesk-api's OAuth is an example), as CONTRIBUTING.md \
                     says (\"Adding a service\")"
                ));
            }
        };
        let same_kind = |a: &Auth| std::mem::discriminant(a) == std::mem::discriminant(&found);
        if !auth.iter().any(same_kind) {
            auth.push(found);
        }
    }
    // Listings in the page-number style get their streams from api-runtime, the CLI's `--all`
    // and the mocks' scenarios from the generator. The other styles' wire code (Zendesk's
    // cursors and `next_page` links, its export) and waiting for a job (which polls an
    // operation the spec does not name) are written per client: refused, each with its place.
    let declared = crate::paging_gen::collect(spec, rel)?;
    let mut refused = Vec::new();
    for (path, method, op) in spec.operations() {
        let id = op.operation_id.as_deref().unwrap_or_default();
        let at = crate::spec::operation_pointer(path, method);
        if let Some(listing) = declared.listing(id)
            && listing.style != crate::paging_gen::Style::PageNumber
        {
            refused.push(format!(
                "{rel}: operation `{id}` at {at}/{pagination}/style: the `{style}` style's \
                 wire code is written per client (zendesk-api's src/pagination.rs); new-service \
                 writes the `page-number` style only: run it on the spec without this \
                 x-pagination and add it after, as CONTRIBUTING.md says (\"Adding a service\")",
                pagination = crate::paging_gen::PAGINATION,
                style = listing.style.name(),
            ));
        }
        if declared.job(id).is_some() {
            refused.push(format!(
                "{rel}: operation `{id}` at {at}/{job}: waiting for a job polls the service's \
                 own job-status operation, which the spec does not name: run new-service on \
                 the spec without this x-job and add it after, with the client's wait helper \
                 and the CLI's `--wait`, as CONTRIBUTING.md says (\"Adding a service\")",
                job = crate::paging_gen::JOB,
            ));
        }
    }
    if !refused.is_empty() {
        return Err(refused.join("\n"));
    }
    let paginated = !declared.listings.is_empty();
    let operations = crate::spec::operations(spec, rel)?.len();
    if operations == 0 {
        return Err(format!("{rel}: no operation (at #/paths)"));
    }
    let (catalogue, left_to_write) = catalogue::calls(name, spec, rel);
    let (corpus, corpus_left) = corpus::files(name, spec, rel);
    Ok(NewService {
        catalogue,
        left_to_write,
        corpus,
        corpus_left,
        name: name.to_string(),
        ident: format!("{name}_api"),
        title: spec.info.title.trim().to_string(),
        base_url,
        auth,
        operations,
        paginated,
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
    fn a_token_url_is_resolved_against_the_server_url() {
        let base = "https://api.widgets.example/v1";
        let at = |url| absolute_url(url, base);
        assert_eq!(
            at("/oauth/token").unwrap(),
            "https://api.widgets.example/oauth/token"
        );
        assert_eq!(
            at("oauth/token").unwrap(),
            "https://api.widgets.example/v1/oauth/token"
        );
        assert_eq!(
            at("https://auth.example/token").unwrap(),
            "https://auth.example/token"
        );
        assert!(
            at("ftp://auth.example/token")
                .unwrap_err()
                .contains("not http or https")
        );
        assert!(at("https://[bad").is_err());
    }

    #[test]
    fn api_keys_in_a_header_or_the_query_are_taken_and_http_is_the_tests_scheme() {
        let s = describe(
            "widgets",
            &spec(
                "    q: {type: apiKey, in: query, name: api_key}\n    \
                 h: {type: apiKey, in: header, name: X-Api-Key}\n    \
                 b: {type: http, scheme: basic}\n",
            ),
            "specs/widgets.yaml",
        )
        .expect("described");
        assert_eq!(
            s.auth,
            [
                Auth::ApiKeyQuery("api_key".into()),
                Auth::ApiKeyHeader("X-Api-Key".into()),
                Auth::Basic
            ]
        );
        assert_eq!(s.primary(), &Auth::Basic);
    }

    #[test]
    fn a_scheme_the_clients_cannot_send_is_refused_with_its_name_and_pointer() {
        for (scheme, what) in [
            (
                "    oauth:\n      type: oauth2\n      flows:\n        authorizationCode:\n          \
                 authorizationUrl: https://api.widgets.test/authorize\n          \
                 tokenUrl: https://api.widgets.test/token\n          scopes: {}\n",
                "`oauth` at #/components/securitySchemes/oauth is oauth2",
            ),
            (
                "    cookie: {type: apiKey, in: cookie, name: sid}\n",
                "`cookie` at #/components/securitySchemes/cookie is apiKey `sid` in Cookie",
            ),
        ] {
            let err = describe("widgets", &spec(scheme), "specs/widgets.yaml")
                .err()
                .expect("refused");
            assert!(err.contains(what), "{what}\nin\n{err}");
            assert!(err.contains("write its constructor by hand"), "{err}");
        }
    }

    #[test]
    fn page_number_listings_are_taken_and_other_styles_and_jobs_refused_with_their_place() {
        let load = |name: &str| {
            let path = crate::workspace::root().join(format!("specs/{name}.yaml"));
            crate::spec::load_spec(&path).expect("a spec").1
        };
        let sendauth = describe("sendauth2", &load("sendauth"), "specs/sendauth2.yaml")
            .expect("SendAuth's listings page by page number");
        assert!(sendauth.paginated);
        let err = describe("zendesk2", &load("zendesk"), "specs/zendesk2.yaml")
            .err()
            .expect("refused");
        for wanted in [
            "specs/zendesk2.yaml: operation `list_users` at #/paths/~1api~1v2~1users/get/\
             x-pagination/style: the `cursor` style",
            "operation `incremental_user_export` at #/paths/~1api~1v2~1incremental~1users~1\
             cursor/get/x-pagination/style: the `export-cursor` style",
            "x-job: waiting for a job polls",
        ] {
            assert!(err.contains(wanted), "{wanted}\nin\n{err}");
        }
    }

    #[test]
    fn the_catalogue_entries_of_a_service_are_found_by_operation_id() {
        let catalogue = "catalogue! {\n    widgets::get_widget => |c| c.widgets.get_widget().id(1);\n    \
                         widgets::list_widgets => |c| c\n        .widgets\n        .list_widgets();\n    \
                         widgets2::get_widget => |c| c.widgets2.get_widget();\n}\n";
        assert_eq!(
            catalogue_ids(catalogue, "widgets"),
            ["get_widget", "list_widgets"]
        );
        assert!(catalogue_ids(catalogue, "gadgets").is_empty());
    }

    #[test]
    fn names_that_cannot_name_crates_and_commands_are_refused() {
        for bad in ["", "Widgets", "wid-gets", "9w", "api", "completions"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_name("widgets2").is_ok());
    }
}
