//! The edits of existing files that wire a new service in. Each finds its place by a line
//! the file keeps (a TOML key, a match's fallback arm), refuses with the file and the line
//! it looked for when that is gone, and changes nothing when the service is already there.

use std::path::{Path, PathBuf};

use super::templates::{constructor, credentials};
use super::{Auth, NewService};

/// One edit: the file, and what it does to the file's text (`Ok(None)`: already done).
type Edit = (
    &'static str,
    fn(&str, &NewService) -> Result<Option<String>, String>,
);

const EDITS: &[Edit] = &[
    ("Cargo.toml", workspace_manifest),
    ("crates/user-apis/Cargo.toml", facade_manifest),
    ("crates/user-apis/src/lib.rs", facade_lib),
    ("crates/user-apis-cli/src/main.rs", cli_main),
    ("crates/user-apis-cli/src/output.rs", cli_output),
    ("crates/user-apis-cli/src/services.rs", cli_services),
    ("tests/src/specs.rs", tests_services),
    ("tests/src/schemas.rs", tests_schemas),
    ("tests/src/decoders.rs", tests_decoders),
    ("tests/src/clients.rs", super::catalogue::clients),
    ("tests/src/catalogue.rs", super::catalogue::entries),
    ("README.md", readme),
];

/// Applies every edit under `root`; returns the files changed.
pub(super) fn apply(root: &Path, service: &NewService) -> Result<Vec<PathBuf>, String> {
    // Every edit is computed before any is written: a missing anchor leaves all as they were.
    let mut changed = Vec::new();
    for (file, edit) in EDITS {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("new-service: cannot read {file}: {e}"))?;
        if let Some(new) = edit(&text, service).map_err(|e| format!("new-service: {file}: {e}"))? {
            changed.push((path, new));
        }
    }
    let mut written = Vec::new();
    for (path, text) in changed {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// `text` with `insert` placed before the first line, at or after `from`, for which `at`
/// holds; an error naming `what` when there is none.
pub(super) fn insert_before(
    text: &str,
    from: usize,
    at: impl Fn(&str) -> bool,
    insert: &str,
    what: &str,
) -> Result<String, String> {
    let mut offset = from;
    for line in text[from..].split_inclusive('\n') {
        if at(line) {
            return Ok(format!("{}{insert}{}", &text[..offset], &text[offset..]));
        }
        offset += line.len();
    }
    Err(format!("no {what} found"))
}

/// `text` with `insert` placed after the last line for which `at` holds.
pub(super) fn insert_after_last(
    text: &str,
    at: impl Fn(&str) -> bool,
    insert: &str,
    what: &str,
) -> Result<String, String> {
    let mut end = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        offset += line.len();
        if at(line) {
            end = Some(offset);
        }
    }
    let end = end.ok_or_else(|| format!("no {what} found"))?;
    Ok(format!("{}{insert}{}", &text[..end], &text[end..]))
}

/// The line that starts with `key` (after indentation), an array on one line, with `item`
/// added before its `]`.
fn append_to_array(text: &str, key: &str, item: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + item.len() + 2);
    let mut found = false;
    for line in text.split_inclusive('\n') {
        if !found
            && line.trim_start().starts_with(key)
            && let Some(close) = line.rfind(']')
        {
            found = true;
            let inside = line[..close].trim_end();
            let comma = if inside.ends_with('[') { "" } else { ", " };
            out.push_str(&format!("{inside}{comma}{item}{}", &line[close..]));
        } else {
            out.push_str(line);
        }
    }
    found
        .then_some(out)
        .ok_or_else(|| format!("no one-line `{key} … ]` found"))
}

/// The byte offset of the line that is exactly `header` (a TOML table header).
fn section(text: &str, header: &str) -> Result<usize, String> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == header {
            return Ok(offset);
        }
        offset += line.len();
    }
    Err(format!("no `{header}` table found"))
}

fn workspace_manifest(text: &str, s: &NewService) -> Result<Option<String>, String> {
    let name = &s.name;
    let member = format!("\"crates/{name}-api\",");
    if text.contains(&member) {
        return Ok(None);
    }
    let members = text
        .find("members = [")
        .ok_or("no `members = [` in [workspace]")?;
    let text = insert_before(
        text,
        members,
        |line| line.trim_end() == "]",
        &format!("    {member}\n    \"crates/{name}-api-mock\",\n"),
        "`]` closing `members`",
    )?;
    section(&text, "[workspace.dependencies]")?;
    let dependency = |line: &str| line.contains("= { path = \"crates/");
    let text = insert_after_last(
        &text,
        dependency,
        &format!(
            "{name}-api = {{ path = \"crates/{name}-api\", version = \"0.1.0\" }}\n\
             {name}-api-mock = {{ path = \"crates/{name}-api-mock\", version = \"0.1.0\" }}\n"
        ),
        "path dependency",
    )?;
    Ok(Some(text))
}

fn facade_manifest(text: &str, s: &NewService) -> Result<Option<String>, String> {
    let name = &s.name;
    let feature = format!("{name} = [\"dep:{name}-api\"]");
    if text.contains(&feature) {
        return Ok(None);
    }
    section(text, "[features]")?;
    let text = append_to_array(text, "default = [", &format!("\"{name}\""))?;
    // The feature after the last service feature (`x = ["dep:x-api"]`) and its doc comment.
    let text = insert_after_last(
        &text,
        |line| line.contains("= [\"dep:") && line.trim_end().ends_with("-api\"]"),
        &format!("## The {} client.\n{feature}\n", s.title),
        "service feature (`x = [\"dep:x-api\"]`)",
    )?;
    let text = append_to_array(&text, "metrics = [", &format!("\"{name}-api?/metrics\""))?;
    let text = append_to_array(&text, "redis = [", &format!("\"{name}-api?/redis\""))?;
    let text = insert_after_last(
        &text,
        |line| line.contains("-api = { workspace = true, optional = true }"),
        &format!("{name}-api = {{ workspace = true, optional = true }}\n"),
        "optional client dependency",
    )?;
    Ok(Some(text))
}

fn facade_lib(text: &str, s: &NewService) -> Result<Option<String>, String> {
    let name = &s.name;
    let export = format!("pub use {} as {name};", s.ident);
    if text.contains(&export) {
        return Ok(None);
    }
    insert_before(
        text,
        0,
        |line| line.starts_with("/// The runtime every client shares"),
        &format!(
            "/// The {} client (feature `{name}`).\n#[cfg(feature = \"{name}\")]\n{export}\n\n",
            s.title
        ),
        "`/// The runtime every client shares` (the re-exports end there)",
    )
    .map(Some)
}

fn cli_main(text: &str, s: &NewService) -> Result<Option<String>, String> {
    let name = &s.name;
    let module = format!("    pub mod {name};\n");
    if text.contains(&format!("\"{name}\" => {{")) {
        return Ok(None);
    }
    let generated = text
        .find("mod generated {")
        .ok_or("no `mod generated {` (the generated command modules)")?;
    let text = insert_before(
        text,
        generated,
        |line| line.trim_end() == "}",
        &module,
        "`}` closing `mod generated`",
    )?;
    let subcommand = format!(
        "        .subcommand(services::{name}_cli::args(\n            \
         Command::new(\"{name}\")\n                \
         .about(\"{about}.\")\n                \
         .subcommand_required(true)\n                \
         .subcommands(operations!({name})),\n        ))\n",
        about = s
            .title
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .trim_end_matches('.'),
    );
    let completions = text
        .find("Command::new(\"completions\")")
        .ok_or("no `Command::new(\"completions\")` (the services' commands go before it)")?;
    let before_completions = text[..completions]
        .rfind(".subcommand(")
        .ok_or("no `.subcommand(` before the completions command")?;
    let line_start = text[..before_completions].rfind('\n').map_or(0, |i| i + 1);
    let text = format!("{}{subcommand}{}", &text[..line_start], &text[line_start..]);
    let arm = format!(
        "        \"{name}\" => {{\n            let cmd =\n                \
         find!({name}, name).ok_or_else(|| anyhow::anyhow!(\"unknown command {{name}}\"))?;\n            \
         services::{name}_cli::run(services::{name}_cli::client(m)?, cmd, m).await\n        }}\n"
    );
    let text = insert_before(
        &text,
        0,
        |line| {
            line.trim_start()
                .starts_with("other => Err(anyhow::anyhow!(\"unknown service")
        },
        &arm,
        "`other => Err(anyhow::anyhow!(\"unknown service …` in `dispatch`",
    )?;
    Ok(Some(text))
}

fn cli_output(text: &str, s: &NewService) -> Result<Option<String>, String> {
    let line = text
        .lines()
        .find(|l| l.starts_with("cli_config!("))
        .ok_or("no `cli_config!(…);` line")?;
    let inside = line
        .strip_prefix("cli_config!(")
        .and_then(|l| l.strip_suffix(");"))
        .ok_or("`cli_config!(…);` is not on one line")?;
    if inside.split(',').any(|n| n.trim() == s.name) {
        return Ok(None);
    }
    Ok(Some(text.replacen(
        line,
        &format!("cli_config!({inside}, {});", s.name),
        1,
    )))
}

/// The CLI's module of the service: its flags (one set per security scheme, then the base
/// URL), the client they describe, and the plain call.
fn cli_services(text: &str, s: &NewService) -> Result<Option<String>, String> {
    let name = &s.name;
    if text.contains(&format!("pub mod {name}_cli {{")) {
        return Ok(None);
    }
    let upper = name.to_uppercase();
    let mut flags = String::new();
    let mut methods = String::new();
    let mut arms = String::new();
    for (index, auth) in s.auth.iter().enumerate() {
        let c = constructor(auth);
        let helps: Vec<String> = match auth {
            Auth::Basic => vec![
                "The user name (HTTP Basic).".into(),
                "The password (HTTP Basic).".into(),
            ],
            Auth::Bearer => vec!["The bearer token (`Authorization: Bearer`).".into()],
            Auth::ApiKeyHeader(name) => vec![format!("The API key (sent in `{name}`).")],
            Auth::ApiKeyQuery(name) => {
                vec![format!(
                    "The API key (sent as the query parameter `{name}`)."
                )]
            }
            Auth::OAuth2ClientCredentials(_) => vec![
                "The OAuth client's identifier (client-credentials grant).".into(),
                "The OAuth client's secret (client-credentials grant).".into(),
                "The scopes to ask for, space-separated (empty: the server's default).".into(),
            ],
        };
        for (param, help) in c.params.iter().zip(helps) {
            flags.push_str(&format!(
                "            Flag {{\n                id: \"{param}\",\n                \
                 env: \"{upper}_{env}\",\n                help: \"{help}\",\n                \
                 field: \"{param}\",\n            }},\n",
                env = param.to_uppercase(),
            ));
        }
        let ids: Vec<String> = c.params.iter().map(|p| format!("\"{p}\"")).collect();
        methods.push_str(&format!(
            "            Method {{\n                ids: &[{}],\n            }},\n",
            ids.join(", ")
        ));
        let values: Vec<String> = (0..c.params.len())
            .map(|i| format!("values[{i}]"))
            .collect();
        let pattern = if index + 1 == s.auth.len() {
            "_".to_string()
        } else {
            index.to_string()
        };
        arms.push_str(&format!(
            "            Some(({pattern}, values)) => {},\n",
            credentials(auth, &values.iter().map(String::as_str).collect::<Vec<_>>())
        ));
    }
    let module = format!(
        r#"
/// `user-apis {name} …`
pub mod {name}_cli {{
    use super::*;
    use generated::{name}::{{Cli, CliCommand}};
    use user_apis::{name};

    /// What `user-apis {name}` reads, and in which order.
    const SERVICE: Service = Service {{
        name: "{name}",
        flags: &[
{flags}            Flag {{
                id: "base-url",
                env: "{upper}_BASE_URL",
                help: "Another base URL instead of {base}.",
                field: "base_url",
            }},
        ],
        credentials: &[
{methods}        ],
        account: &[],
    }};

    /// The credential flags of `user-apis {name}`.
    pub fn args(command: Command) -> Command {{
        with_flags(command, &SERVICE)
    }}

    /// The client the flags describe.
    pub fn client(m: &ArgMatches) -> anyhow::Result<{name}::Client> {{
        let service = &SERVICE;
        let credentials = match service.choose(m, service.credentials, "credentials")? {{
{arms}            None => {{
                return Err(service.problem(format!(
                    "no credentials: set {{}}",
                    service.describe(service.credentials)
                )));
            }}
        }}
        .map_err(|e| service.config_error(e))?;
        {name}::Client::with_config(
            credentials,
            config(service.value(m, "base-url")?, RateLimits::default())?,
        )
        .map_err(|e| service.config_error(e))
    }}

{run}}}
"#,
        base = s.base_url,
        run = if s.paginated {
            format!(
                "    /// Runs one command: `--all` or the plain call.\n    \
                 pub async fn run(client: {name}::Client, cmd: CliCommand, m: &ArgMatches) -> \
                 anyhow::Result<()> {{\n        \
                 let cli = Cli::new(client, Output);\n        \
                 if m.get_flag_opt(\"all\")\n            \
                 && let Some(result) = cli.all(cmd, m).await\n        {{\n            \
                 return result;\n        }}\n        \
                 cli.execute(cmd, m).await\n    }}\n"
            )
        } else {
            format!(
                "    /// Runs one command.\n    \
                 pub async fn run(client: {name}::Client, cmd: CliCommand, m: &ArgMatches) -> \
                 anyhow::Result<()> {{\n        \
                 Cli::new(client, Output).execute(cmd, m).await\n    }}\n"
            )
        },
    );
    Ok(Some(format!(
        "{}{module}",
        text.trim_end_matches('\n').to_string() + "\n"
    )))
}

/// `pub const SERVICES: &[&str] = &[…];`, kept sorted.
fn tests_services(text: &str, s: &NewService) -> Result<Option<String>, String> {
    let prefix = "pub const SERVICES: &[&str] = &[";
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .ok_or("no one-line `pub const SERVICES: &[&str] = &[…];`")?;
    let inside = line
        .strip_prefix(prefix)
        .and_then(|l| l.strip_suffix("];"))
        .ok_or("`SERVICES` is not on one line")?;
    let mut names: Vec<String> = inside
        .split(',')
        .map(|n| n.trim().trim_matches('"').to_string())
        .filter(|n| !n.is_empty())
        .collect();
    if names.contains(&s.name) {
        return Ok(None);
    }
    names.push(s.name.clone());
    names.sort();
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    Ok(Some(text.replacen(
        line,
        &format!("{prefix}{}];", quoted.join(", ")),
        1,
    )))
}

fn tests_schemas(text: &str, s: &NewService) -> Result<Option<String>, String> {
    let module = format!("pub mod {};", s.name);
    if text.lines().any(|l| l.trim() == module) {
        return Ok(None);
    }
    insert_after_last(
        text,
        |line| line.starts_with("pub mod "),
        &format!("{module}\n"),
        "`pub mod <service>;`",
    )
    .map(Some)
}

fn tests_decoders(text: &str, s: &NewService) -> Result<Option<String>, String> {
    let name = &s.name;
    let module = format!("crate::schemas::{name}");
    if text.contains(&module) {
        return Ok(None);
    }
    let from_slice = text
        .find("pub fn from_slice(")
        .ok_or("no `pub fn from_slice(`")?;
    let text = insert_before(
        text,
        from_slice,
        |line| line.trim() == "_ => None,",
        &format!("        \"{name}\" => {module}::from_slice(name, bytes),\n"),
        "`_ => None,` in `from_slice`",
    )?;
    let listed = text.find("pub fn listed(").ok_or("no `pub fn listed(`")?;
    let text = insert_before(
        &text,
        listed,
        |line| line.trim() == "]",
        &format!("        (\"{name}\", {module}::NAMES),\n"),
        "`]` closing the list in `listed`",
    )?;
    let decode = text.find("pub fn decode(").ok_or("no `pub fn decode(`")?;
    let text = insert_before(
        &text,
        decode,
        |line| line.trim() == "_ => None,",
        &format!("        \"{name}\" => {module}::decode_schema(name, value),\n"),
        "`_ => None,` in `decode`",
    )?;
    Ok(Some(text))
}

/// The crate table's row of the client (its operation count, which the README test checks
/// against the spec), the mock crate beside the others in theirs, and the constructor rows of
/// the authentication table.
fn readme(text: &str, s: &NewService) -> Result<Option<String>, String> {
    let name = &s.name;
    let link = format!("[`{name}-api`](crates/{name}-api)");
    if text.contains(&link) {
        return Ok(None);
    }
    let text = insert_after_last(
        text,
        |line| {
            line.starts_with("| [`")
                && line.contains("-api`](crates/")
                && line.contains(" operations (")
        },
        &format!(
            "| {link} | {} operations ([OPERATIONS.md](crates/{name}-api/OPERATIONS.md)) |\n",
            s.operations
        ),
        "crate table row `| [`x-api`](crates/x-api) | N operations (…) |`",
    )?;
    let mut found = false;
    let mut out = String::with_capacity(text.len() + 80);
    for line in text.split_inclusive('\n') {
        if !found && line.starts_with("| [`") && line.contains("-api-mock`](crates/") {
            found = true;
            let (cell, rest) = line
                .split_once(" | ")
                .map(|(a, b)| (a, format!(" | {b}")))
                .unwrap_or((line.trim_end(), "\n".into()));
            out.push_str(&format!(
                "{cell}, [`{name}-api-mock`](crates/{name}-api-mock){rest}"
            ));
        } else {
            out.push_str(line);
        }
    }
    if !found {
        return Err("no mock crates' row (`| [`x-api-mock`](crates/x-api-mock), … |`)".into());
    }
    let rows: String = s
        .auth
        .iter()
        .map(|a| {
            let c = constructor(a);
            format!(
                "| {} | `{name}::Client::{}({})` | {} |\n",
                s.title,
                c.method,
                c.params.join(", "),
                c.what.split(" (").next().unwrap_or(&c.what)
            )
        })
        .collect();
    let header = out
        .find("| service | constructor | credentials |")
        .ok_or("no authentication table (`| service | constructor | credentials |`)")?;
    let out = insert_before(
        &out,
        header,
        |line| !line.starts_with('|'),
        &rows,
        "end of the authentication table",
    )?;
    Ok(Some(out))
}
