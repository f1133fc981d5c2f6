//! `cargo xtask review [--base REF] [--out FILE] [--deny-breaking]`: what a spec change means
//! for the people who use it.
//!
//! For every `specs/*.yaml` that differs from `REF` (committed or not), both versions go
//! through the generator in memory and their review tables (`crate::tables`) are compared.
//! Every added, removed or changed operation, parameter, body, response, field and enum value
//! is classified twice: for the wire (existing callers of the HTTP API), by Optic's
//! breaking-changes ruleset, and for the Rust API of the generated crate, by the rules in
//! `diff` (which also catch what compiles but fails at run time, such as a request field made
//! required). A breaking change is acknowledged by a line added to `specs/CHANGELOG.md` since
//! `REF` that names its key in backticks (`zendesk:UserCreate.email`).

mod diff;
mod optic;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use diff::{Change, Place, Verdict};

use crate::node_tools::NodeTools;
use crate::tables::Tables;

/// Where breaking changes are acknowledged.
const CHANGELOG: &str = "specs/CHANGELOG.md";

/// Stands in for a spec that does not exist on one side (added or deleted).
const EMPTY_SPEC: &str = "openapi: 3.0.3\ninfo:\n  title: none\n  version: '0'\npaths: {}\n";

const SEMVER_CHECKS: &str = "cargo-semver-checks";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut base = None;
    let mut out = None;
    let mut deny = false;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--base" => base = Some(iter.next().ok_or("--base needs a git revision")?.clone()),
            "--out" => out = Some(PathBuf::from(iter.next().ok_or("--out needs a file")?)),
            "--deny-breaking" => deny = true,
            other => return Err(format!("review: unknown argument `{other}`")),
        }
    }
    let base = match base {
        Some(rev) => Base::resolve(&rev)?,
        None => match Base::default()? {
            Ok(base) => base,
            Err(why) => {
                println!("review: nothing to compare: {why}");
                return Ok(());
            }
        },
    };
    let review = review(&base)?;
    let text = review.markdown();
    match &out {
        Some(path) => {
            std::fs::write(path, &text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!("review written to {}", path.display());
            for line in review.summary_lines() {
                println!("{line}");
            }
        }
        None => print!("{text}"),
    }
    let open: BTreeSet<String> = review
        .unacknowledged()
        .iter()
        .map(|c| {
            format!(
                "- `{}`: {} {}",
                c.keys[0],
                plain(&c.subject),
                plain(&c.detail)
            )
        })
        .collect();
    if deny && !open.is_empty() {
        return Err(format!(
            "{} breaking change(s) not acknowledged: add a line to {CHANGELOG} that names each \
             key in backticks, e.g.\n{}",
            open.len(),
            open.into_iter().collect::<Vec<_>>().join("\n")
        ));
    }
    Ok(())
}

/// `cargo xtask test`'s step: the review of the last commit, printed. Fails only when the
/// review itself cannot run, never on a breaking change.
pub(crate) fn last_commit() -> Result<(), String> {
    match Base::resolve_quiet("HEAD~1")? {
        Some(base) => {
            let review = review(&base)?;
            print!("{}", review.markdown());
            Ok(())
        }
        None => {
            println!("review: nothing to compare: HEAD~1 is not in this clone");
            Ok(())
        }
    }
}

/// The revision compared against.
struct Base {
    /// As the user named it.
    name: String,
    sha: String,
}

impl Base {
    /// `--base REF`: must exist.
    fn resolve(rev: &str) -> Result<Self, String> {
        Self::resolve_quiet(rev)?.ok_or_else(|| {
            let shallow =
                git(&["rev-parse", "--is-shallow-repository"]).is_ok_and(|s| s.trim() == "true");
            if shallow {
                format!(
                    "`{rev}` is not in this clone, which is shallow: fetch more history \
                     (`git fetch --unshallow`, or `fetch-depth: 0` in CI) or name another --base"
                )
            } else {
                format!("`{rev}` is not a commit of this repository (`git rev-parse {rev}`)")
            }
        })
    }

    fn resolve_quiet(rev: &str) -> Result<Option<Self>, String> {
        git(&["rev-parse", "--git-dir"])
            .map_err(|e| format!("review needs a git checkout: {e}"))?;
        Ok(git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])
        .ok()
        .map(|sha| Self {
            name: rev.to_string(),
            sha: sha.trim().to_string(),
        }))
    }

    /// The merge-base with `main` (or `origin/main`); `HEAD~1` on `main` itself. `Err` inside
    /// says why there is nothing to compare.
    fn default() -> Result<Result<Self, String>, String> {
        let branch = git(&["rev-parse", "--abbrev-ref", "HEAD"])
            .map_err(|e| format!("review needs a git checkout: {e}"))?;
        if branch.trim() == "main" {
            return Ok(Self::resolve_quiet("HEAD~1")?
                .ok_or_else(|| "on `main`, and HEAD~1 is not in this clone".to_string()));
        }
        for main in ["main", "origin/main"] {
            if Self::resolve_quiet(main)?.is_some()
                && let Ok(sha) = git(&["merge-base", "HEAD", main])
            {
                return Ok(Ok(Self {
                    name: format!("merge-base with {main}"),
                    sha: sha.trim().to_string(),
                }));
            }
        }
        Err(
            "cannot find where this branch leaves `main`: there is no `main` or `origin/main` \
             with a common ancestor here (a shallow clone?). Fetch it (`git fetch origin main`, \
             `git fetch --unshallow`) or pass --base REF"
                .into(),
        )
    }
}

/// Runs git in the workspace root; its stdout, or an error with its stderr.
fn git(args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(crate::workspace::root())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The review of every changed spec.
struct Review {
    base: Base,
    specs: Vec<SpecReview>,
    /// Keys named in backticks on lines added to the changelog since the base.
    acknowledged: BTreeSet<String>,
}

/// The review of one spec.
pub(crate) struct SpecReview {
    pub name: String,
    pub rel: String,
    pub changes: Vec<Change>,
    pub base: Tables,
    pub head: Tables,
    pub millis: u128,
}

fn review(base: &Base) -> Result<Review, String> {
    let mut names = BTreeSet::new();
    let changed = git(&[
        "diff",
        "--name-only",
        "--no-renames",
        &base.sha,
        "--",
        "specs",
    ])?;
    let untracked = git(&["ls-files", "--others", "--exclude-standard", "--", "specs"])?;
    for line in changed.lines().chain(untracked.lines()) {
        if let Some(name) = line
            .strip_prefix("specs/")
            .and_then(|f| f.strip_suffix(".yaml"))
            .filter(|n| !n.contains('/'))
        {
            names.insert(name.to_string());
        }
    }
    let tools = if names.is_empty() {
        None
    } else {
        Some(crate::node_tools::ensure()?)
    };
    let mut specs = Vec::new();
    for name in &names {
        let rel = format!("specs/{name}.yaml");
        let before = git(&["show", &format!("{}:{rel}", base.sha)]).ok();
        let after = std::fs::read_to_string(crate::workspace::root().join(&rel)).ok();
        if let Some(tools) = &tools {
            specs.push(review_spec(
                name,
                &rel,
                before.as_deref(),
                after.as_deref(),
                tools,
            )?);
        }
    }
    Ok(Review {
        base: Base {
            name: base.name.clone(),
            sha: base.sha.clone(),
        },
        specs,
        acknowledged: acknowledged(&base.sha)?,
    })
}

/// Compares two versions of a spec (`None`: the spec does not exist on that side).
pub(crate) fn review_spec(
    name: &str,
    rel: &str,
    before: Option<&str>,
    after: Option<&str>,
    tools: &NodeTools,
) -> Result<SpecReview, String> {
    let started = Instant::now();
    let base = tables_of(name, rel, "base", before)?;
    let head = tables_of(name, rel, "head", after)?;
    let mut changes = diff::compare(name, &base, &head);
    let findings = optic::run(
        tools,
        before.unwrap_or(EMPTY_SPEC),
        after.unwrap_or(EMPTY_SPEC),
    )
    .map_err(|e| format!("{rel}: {e}"))?;
    optic::classify(name, &mut changes, &findings, &base, &head);
    Ok(SpecReview {
        name: name.to_string(),
        rel: rel.to_string(),
        changes,
        base,
        head,
        millis: started.elapsed().as_millis(),
    })
}

/// The review tables of a spec's text, generated in memory (empty for no spec).
fn tables_of(name: &str, rel: &str, side: &str, text: Option<&str>) -> Result<Tables, String> {
    let Some(text) = text else {
        return Ok(Tables {
            operations: Vec::new(),
            types: Default::default(),
        });
    };
    let scratch = optic::Scratch::new(side)?;
    let spec_path = scratch.0.join(format!("{side}/specs/{name}.yaml"));
    std::fs::create_dir_all(spec_path.parent().unwrap_or(&scratch.0)).map_err(|e| e.to_string())?;
    std::fs::write(&spec_path, text).map_err(|e| e.to_string())?;
    let service = crate::workspace::Service {
        name: name.to_string(),
        spec_path,
        crate_dir: scratch.0.join("crate"),
    };
    let output =
        crate::generate::generate(&service).map_err(|e| format!("{rel} ({side} version): {e}"))?;
    let code = output
        .files
        .iter()
        .find(|(path, _)| path.ends_with("src/generated.rs"))
        .map(|(_, code)| code)
        .ok_or("generate produced no generated.rs")?;
    let file = syn::parse_file(code).map_err(|e| format!("{rel} ({side} version): {e}"))?;
    let spec: openapiv3::OpenAPI = yaml_serde::from_str(text)
        .map_err(|e| format!("{rel} ({side} version) is not OpenAPI 3.0: {e}"))?;
    crate::tables::build(&spec, &file, rel)
}

/// The backticked words on lines added to the changelog since `base` (committed or not).
fn acknowledged(base: &str) -> Result<BTreeSet<String>, String> {
    let mut added = git(&["diff", "--no-color", "-U0", base, "--", CHANGELOG])?
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .map(str::to_string)
        .collect::<Vec<_>>();
    if !git(&[
        "ls-files",
        "--others",
        "--exclude-standard",
        "--",
        CHANGELOG,
    ])?
    .trim()
    .is_empty()
    {
        let text = std::fs::read_to_string(crate::workspace::root().join(CHANGELOG))
            .map_err(|e| format!("cannot read {CHANGELOG}: {e}"))?;
        added.extend(text.lines().map(str::to_string));
    }
    Ok(added.iter().flat_map(|l| backticked(l)).collect())
}

/// The `code spans` of a line.
fn backticked(line: &str) -> Vec<String> {
    line.split('`')
        .skip(1)
        .step_by(2)
        .map(|s| s.trim().to_string())
        .collect()
}

/// A cell's text without Markdown code marks, for terminal messages.
fn plain(s: &str) -> String {
    s.replace('`', "")
}

impl Review {
    fn is_acknowledged(&self, change: &Change) -> bool {
        change.keys.iter().any(|k| self.acknowledged.contains(k))
    }

    fn unacknowledged(&self) -> Vec<&Change> {
        self.specs
            .iter()
            .flat_map(|s| &s.changes)
            .filter(|c| c.breaking() && !self.is_acknowledged(c))
            .collect()
    }

    fn summary_lines(&self) -> Vec<String> {
        self.specs.iter().map(|s| self.summary(s)).collect()
    }

    fn summary(&self, spec: &SpecReview) -> String {
        let ops = |detail: &str| {
            spec.changes
                .iter()
                .filter(|c| c.place == Place::Operation && c.detail.starts_with(detail))
                .count()
        };
        let (removed, added) = (ops("removed"), ops("added"));
        let changed: BTreeSet<&String> = spec
            .changes
            .iter()
            .filter(|c| {
                !(c.place == Place::Operation
                    && (c.detail.starts_with("removed") || c.detail.starts_with("added")))
            })
            .filter_map(|c| c.operation.as_ref())
            .collect();
        let wire = spec
            .changes
            .iter()
            .filter(|c| c.wire.as_ref().is_some_and(|w| w.breaking))
            .count();
        let rust = spec.changes.iter().filter(|c| c.rust.breaking).count();
        let open = spec
            .changes
            .iter()
            .filter(|c| c.breaking() && !self.is_acknowledged(c))
            .count();
        format!(
            "{}: {} operation(s) removed, {added} added, {} changed; {} change(s): {wire} \
             breaking on the wire, {rust} breaking for the Rust API; {open} breaking change(s) \
             not acknowledged in {CHANGELOG}",
            spec.name,
            removed,
            changed.len(),
            spec.changes.len(),
        )
    }

    fn markdown(&self) -> String {
        let mut md = String::new();
        let short = &self.base.sha[..self.base.sha.len().min(12)];
        let _ = writeln!(
            md,
            "# API review: specs changed since {} (`{short}`)\n",
            self.base.name
        );
        if self.specs.is_empty() {
            let _ = writeln!(md, "No spec in `specs/` changed.");
            return md;
        }
        let _ = writeln!(
            md,
            "Each change is classified twice. **Wire**: for existing callers of the HTTP API, \
             by Optic's breaking-changes ruleset (`optic diff --check`, `@useoptic/optic` \
             from package-lock.json). **Rust API**: for code that uses the generated crate, \
             from the generated code itself (a change that still compiles but fails at run \
             time is breaking). A breaking change is acknowledged by a line added to \
             `{CHANGELOG}` naming its key.\n"
        );
        for spec in &self.specs {
            self.spec_markdown(spec, &mut md);
        }
        let _ = writeln!(
            md,
            "Not run: {SEMVER_CHECKS} (the whole public Rust API, compiled; its install takes \
             minutes). To run it:\n"
        );
        for spec in &self.specs {
            let _ = writeln!(
                md,
                "    cargo semver-checks check-release -p {}-api --baseline-rev {}",
                spec.name, self.base.sha
            );
        }
        let _ = writeln!(md, "\n## Summary\n");
        for line in self.summary_lines() {
            let _ = writeln!(md, "- {line}");
        }
        md
    }

    fn spec_markdown(&self, spec: &SpecReview, md: &mut String) {
        let _ = writeln!(
            md,
            "## `{}` — `{}` ({} ms)\n",
            spec.name, spec.rel, spec.millis
        );
        if spec.changes.is_empty() {
            let _ = writeln!(
                md,
                "The spec changed, but no operation, parameter, body, response, type, field \
                 or enum value did (descriptions, examples or formatting only).\n"
            );
            return;
        }
        let mut ids: Vec<&String> = Vec::new();
        for c in &spec.changes {
            if let Some(id) = &c.operation
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
        ids.sort();
        let _ = writeln!(
            md,
            "| operation | method + path | change | wire | Rust API |\n|---|---|---|---|---|"
        );
        for id in &ids {
            let rows: Vec<&Change> = spec
                .changes
                .iter()
                .filter(|c| c.operation.as_ref() == Some(*id))
                .collect();
            let endpoint = spec
                .head
                .operations
                .iter()
                .chain(&spec.base.operations)
                .find(|o| &&o.id == id)
                .map(|o| format!("`{} {}`", o.method, o.path))
                .unwrap_or_default();
            let status = rows
                .iter()
                .find(|c| {
                    c.place == Place::Operation
                        && (c.detail.starts_with("removed") || c.detail.starts_with("added"))
                })
                .map(|c| c.detail.split(' ').next().unwrap_or_default().to_string())
                .unwrap_or_else(|| "changed".to_string());
            let verdict = |breaking: bool| {
                if breaking {
                    "**breaking**"
                } else {
                    "compatible"
                }
            };
            let _ = writeln!(
                md,
                "| `{id}` | {endpoint} | {status} | {} | {} |",
                verdict(
                    rows.iter()
                        .any(|c| c.wire.as_ref().is_some_and(|w| w.breaking))
                ),
                verdict(rows.iter().any(|c| c.rust.breaking)),
            );
        }
        let _ = writeln!(md);
        for id in &ids {
            let rows: Vec<&Change> = spec
                .changes
                .iter()
                .filter(|c| c.operation.as_ref() == Some(*id))
                .collect();
            let _ = writeln!(md, "### `{id}`\n");
            self.rows_markdown(&rows, md);
        }
        let unused: Vec<&Change> = spec
            .changes
            .iter()
            .filter(|c| c.operation.is_none())
            .collect();
        if !unused.is_empty() {
            let _ = writeln!(md, "### Types no operation uses\n");
            self.rows_markdown(&unused, md);
        }
        let _ = writeln!(md, "**{}**\n", self.summary(spec));
    }

    fn rows_markdown(&self, rows: &[&Change], md: &mut String) {
        let _ = writeln!(
            md,
            "| in | what | change | wire | Rust API | acknowledged |\n|---|---|---|---|---|---|"
        );
        for c in rows {
            let place = match c.place {
                Place::Operation => "operation",
                Place::Parameter => "parameters",
                Place::Request => "request",
                Place::Response => "response",
                Place::Unused => "types",
            };
            let wire = c.wire.as_ref().map_or_else(|| "—".to_string(), cell);
            let ack = if !c.breaking() {
                "—".to_string()
            } else if self.is_acknowledged(c) {
                "yes".to_string()
            } else {
                format!("**no**: `{}`", c.keys[0])
            };
            let _ = writeln!(
                md,
                "| {place} | {} | {} | {wire} | {} | {ack} |",
                c.subject,
                c.detail,
                cell(&c.rust)
            );
        }
        let _ = writeln!(md);
    }
}

fn cell(v: &Verdict) -> String {
    if v.breaking {
        format!("**breaking**: {}", v.why)
    } else {
        format!("compatible: {}", v.why)
    }
}

#[cfg(test)]
mod tests {
    //! Real spec changes (`xtask/tests/review-cases/`: `before.yaml` and one file per change)
    //! through the whole review: generation, Optic, the Rust rules.

    use super::*;

    /// Every change of a case as `operation | what | wire | Rust API | first key`, sorted.
    fn review_case(case: &str) -> Vec<String> {
        let dir = crate::workspace::root().join("xtask/tests/review-cases");
        let read =
            |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let tools = crate::node_tools::ensure().expect("the Node tools install");
        let review = review_spec(
            "cases",
            &format!("xtask/tests/review-cases/{case}.yaml"),
            Some(&read("before.yaml")),
            Some(&read(&format!("{case}.yaml"))),
            &tools,
        )
        .unwrap_or_else(|e| panic!("{case}: {e}"));
        let verdict = |b: bool| if b { "breaking" } else { "compatible" };
        let mut rows: Vec<String> = review
            .changes
            .iter()
            .map(|c| {
                format!(
                    "{} | {} | wire {} | rust {} | {}",
                    c.operation.as_deref().unwrap_or("-"),
                    plain(&c.subject),
                    c.wire.as_ref().map_or("-", |w| verdict(w.breaking)),
                    verdict(c.rust.breaking),
                    c.keys.first().map_or("-", String::as_str),
                )
            })
            .collect();
        rows.sort();
        rows
    }

    fn check(case: &str, expected: &[&str]) {
        let actual = review_case(case);
        assert_eq!(actual, expected, "case {case}: {actual:#?}");
    }

    #[test]
    fn remove_an_operation() {
        check(
            "remove-operation",
            &["delete_user | operation | wire breaking | rust breaking | cases:delete_user"],
        );
    }

    #[test]
    fn add_an_operation() {
        check(
            "add-operation",
            &[
                "show_current_user | operation | wire compatible | rust compatible | cases:show_current_user",
            ],
        );
    }

    #[test]
    fn add_a_required_query_parameter() {
        check(
            "add-required-query-parameter",
            &[
                "list_users | query parameter role | wire breaking | rust breaking | cases:list_users.role",
            ],
        );
    }

    #[test]
    fn add_an_optional_query_parameter() {
        check(
            "add-optional-query-parameter",
            &[
                "list_users | query parameter include | wire compatible | rust compatible | cases:list_users.include",
            ],
        );
    }

    // Optic finds it; cargo-semver-checks does not: the builder `types::builder::UserCreate`
    // still compiles and fails at run time.
    #[test]
    fn make_an_optional_request_field_required() {
        check(
            "make-request-field-required",
            &[
                "create_user | UserCreate.email | wire breaking | rust breaking | cases:UserCreate.email",
            ],
        );
    }

    // Every operation whose response reaches `User`, with its own Optic finding.
    #[test]
    fn remove_a_response_field() {
        check(
            "remove-response-field",
            &[
                "create_user | User.alias | wire breaking | rust breaking | cases:User.alias",
                "list_users | User.alias | wire breaking | rust breaking | cases:User.alias",
                "show_user | User.alias | wire breaking | rust breaking | cases:User.alias",
            ],
        );
    }

    #[test]
    fn change_a_field_type() {
        check(
            "change-field-type",
            &[
                "create_user | User.id | wire breaking | rust breaking | cases:User.id",
                "list_users | User.id | wire breaking | rust breaking | cases:User.id",
                "show_user | User.id | wire breaking | rust breaking | cases:User.id",
            ],
        );
    }

    // A value added to a request-only enum: callers keep working, but `Kind` is an
    // exhaustive Rust enum, so a `match` on it stops compiling.
    #[test]
    fn add_an_enum_value() {
        check(
            "add-enum-value",
            &[
                "create_user | enum Kind value team | wire compatible | rust breaking | cases:Kind.team",
            ],
        );
    }

    #[test]
    fn remove_an_enum_value() {
        check(
            "remove-enum-value",
            &[
                "create_user | enum Kind value robot | wire breaking | rust breaking | cases:Kind.robot",
            ],
        );
    }

    // A rename is a removal and an addition. The added optional field is compatible on the
    // wire but breaks struct literals of `User`, which is not `#[non_exhaustive]`.
    #[test]
    fn rename_a_field() {
        check(
            "rename-field",
            &[
                "create_user | User.alias | wire breaking | rust breaking | cases:User.alias",
                "create_user | User.nickname | wire compatible | rust breaking | cases:User.nickname",
                "list_users | User.alias | wire breaking | rust breaking | cases:User.alias",
                "list_users | User.nickname | wire compatible | rust breaking | cases:User.nickname",
                "show_user | User.alias | wire breaking | rust breaking | cases:User.alias",
                "show_user | User.nickname | wire compatible | rust breaking | cases:User.nickname",
            ],
        );
    }

    // `String` becomes `Option<String>`; Optic: the response property is "expanded".
    #[test]
    fn make_a_response_field_nullable() {
        check(
            "make-response-field-nullable",
            &[
                "create_user | User.name | wire breaking | rust breaking | cases:User.name",
                "list_users | User.name | wire breaking | rust breaking | cases:User.name",
                "show_user | User.name | wire breaking | rust breaking | cases:User.name",
            ],
        );
    }
}
