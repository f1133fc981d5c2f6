//! Differences between the review tables of two versions of a client, each classified for the
//! Rust API of the generated crate. The wire column is filled in afterwards from Optic.

use std::collections::{BTreeMap, BTreeSet};

use crate::tables::{FieldRow, OperationRow, ParamRow, Tables, TypeKind, TypeRow, VariantRow};

/// Where a change sits in an operation, as Optic places its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Place {
    /// The operation itself (added, removed, moved, its status codes).
    Operation,
    /// A parameter, by wire name.
    Parameter,
    /// The request body or a field reached from it.
    Request,
    /// A response body or a field reached from it.
    Response,
    /// A type no operation uses.
    Unused,
}

/// A verdict for one audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub breaking: bool,
    pub why: String,
}

impl Verdict {
    fn breaking(why: impl Into<String>) -> Self {
        Self {
            breaking: true,
            why: why.into(),
        }
    }
    fn compatible(why: impl Into<String>) -> Self {
        Self {
            breaking: false,
            why: why.into(),
        }
    }
}

/// One change, as a row of the report.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    /// The operation it is reported under (none for a type no operation uses).
    pub operation: Option<String>,
    pub place: Place,
    /// What changed: `parameter \`include\``, `\`UserCreate.email\``, `enum \`Role\` value \`owner\``.
    pub subject: String,
    /// How: `added`, `removed`, `optional → required`, `type \`String\` → \`i64\``.
    pub detail: String,
    /// The wire name Optic uses for it: a parameter or property name, or an enum value.
    pub wire_name: String,
    pub rust: Verdict,
    /// Filled in from Optic; `None` for a type no operation uses.
    pub wire: Option<Verdict>,
    /// What a changelog entry names to acknowledge it, most specific first.
    pub keys: Vec<String>,
}

impl Change {
    /// Breaking for the wire or for the Rust API.
    pub(crate) fn breaking(&self) -> bool {
        self.rust.breaking || self.wire.as_ref().is_some_and(|w| w.breaking)
    }
}

/// A change of one generated type, before it is placed under the operations that use it.
struct TypeChange {
    type_name: String,
    subject: String,
    detail: String,
    wire_name: String,
    rust: Verdict,
    keys: Vec<String>,
}

/// Every change from `base` to `head`, for the service `svc` (which prefixes the keys).
pub(crate) fn compare(svc: &str, base: &Tables, head: &Tables) -> Vec<Change> {
    let type_changes = compare_types(svc, base, head);
    let mut changes = Vec::new();
    let base_ops: BTreeMap<&str, &OperationRow> =
        base.operations.iter().map(|o| (o.id.as_str(), o)).collect();
    let head_ops: BTreeMap<&str, &OperationRow> =
        head.operations.iter().map(|o| (o.id.as_str(), o)).collect();
    let ids: BTreeSet<&str> = base_ops.keys().chain(head_ops.keys()).copied().collect();
    let mut used: BTreeSet<String> = BTreeSet::new();
    for id in ids {
        let op_key = format!("{svc}:{id}");
        let op_change = |detail: String, rust: Verdict| Change {
            operation: Some(id.to_string()),
            place: Place::Operation,
            subject: "operation".into(),
            detail,
            wire_name: String::new(),
            rust,
            wire: None,
            keys: vec![op_key.clone()],
        };
        let (b, h) = (base_ops.get(id), head_ops.get(id));
        match (b, h) {
            (Some(b), None) => {
                changes.push(op_change(
                    format!("removed (`{} {}`)", b.method, b.path),
                    Verdict::breaking(format!("`client.{id}()` no longer exists")),
                ));
                continue;
            }
            (None, Some(h)) => {
                changes.push(op_change(
                    format!("added (`{} {}`)", h.method, h.path),
                    Verdict::compatible(format!("a new method `client.{id}()`")),
                ));
                continue;
            }
            _ => {}
        }
        let (Some(b), Some(h)) = (b, h) else { continue };
        if (&b.method, &b.path) != (&h.method, &h.path) {
            changes.push(op_change(
                format!(
                    "moved from `{} {}` to `{} {}`",
                    b.method, b.path, h.method, h.path
                ),
                Verdict::compatible("the same method and builder"),
            ));
        }
        compare_params(svc, id, b, h, &mut changes);
        compare_body(svc, id, b, h, &mut changes);
        compare_responses(svc, id, b, h, &mut changes);

        // Field and enum changes of the types each side of the operation reaches, in either
        // version.
        for (place, roots_b, roots_h) in [
            (Place::Request, request_roots(b), request_roots(h)),
            (Place::Response, response_roots(b), response_roots(h)),
        ] {
            let mut reached = base.reachable(roots_b.iter().map(String::as_str));
            reached.extend(head.reachable(roots_h.iter().map(String::as_str)));
            for tc in type_changes
                .iter()
                .filter(|tc| reached.contains(&tc.type_name))
            {
                used.insert(tc.type_name.clone());
                let mut keys = tc.keys.clone();
                keys.push(op_key.clone());
                changes.push(Change {
                    operation: Some(id.to_string()),
                    place,
                    subject: tc.subject.clone(),
                    detail: tc.detail.clone(),
                    wire_name: tc.wire_name.clone(),
                    rust: tc.rust.clone(),
                    wire: None,
                    keys,
                });
            }
        }
    }
    for tc in type_changes
        .into_iter()
        .filter(|tc| !used.contains(&tc.type_name))
    {
        changes.push(Change {
            operation: None,
            place: Place::Unused,
            subject: tc.subject,
            detail: tc.detail,
            wire_name: tc.wire_name,
            rust: tc.rust,
            wire: None,
            keys: tc.keys,
        });
    }
    changes
}

fn request_roots(op: &OperationRow) -> Vec<String> {
    op.body.iter().map(|b| b.rust_type.clone()).collect()
}

fn response_roots(op: &OperationRow) -> Vec<String> {
    vec![op.success.clone(), op.error.clone()]
}

fn compare_params(
    svc: &str,
    id: &str,
    b: &OperationRow,
    h: &OperationRow,
    changes: &mut Vec<Change>,
) {
    let key = |p: &ParamRow| (p.location, p.wire.clone());
    let bp: BTreeMap<_, &ParamRow> = b.params.iter().map(|p| (key(p), p)).collect();
    let hp: BTreeMap<_, &ParamRow> = h.params.iter().map(|p| (key(p), p)).collect();
    let all: BTreeSet<_> = bp.keys().chain(hp.keys()).cloned().collect();
    for k in all {
        let (location, wire) = &k;
        let change = |detail: String, rust: Verdict| Change {
            operation: Some(id.to_string()),
            place: Place::Parameter,
            subject: format!("{location} parameter `{wire}`"),
            detail,
            wire_name: wire.clone(),
            rust,
            wire: None,
            keys: vec![format!("{svc}:{id}.{wire}"), format!("{svc}:{id}")],
        };
        match (bp.get(&k), hp.get(&k)) {
            (None, Some(p)) if p.required => changes.push(change(
                format!("added, required (`.{}(…)`, `{}`)", p.setter, p.rust_type),
                Verdict::breaking(format!(
                    "existing calls compile but `send()` fails at run time until they call \
                     `.{}(…)`",
                    p.setter
                )),
            )),
            (None, Some(p)) => changes.push(change(
                format!("added, optional (`.{}(…)`, `{}`)", p.setter, p.rust_type),
                Verdict::compatible(format!("a new optional setter `.{}(…)`", p.setter)),
            )),
            (Some(p), None) => changes.push(change(
                "removed".into(),
                Verdict::breaking(format!("the setter `.{}(…)` no longer exists", p.setter)),
            )),
            (Some(pb), Some(ph)) => {
                let mut details = Vec::new();
                let mut breaking = Vec::new();
                if pb.setter != ph.setter {
                    details.push(format!("setter `.{}` → `.{}`", pb.setter, ph.setter));
                    breaking.push(format!("`.{}(…)` no longer exists", pb.setter));
                }
                if pb.rust_type != ph.rust_type {
                    details.push(format!("type `{}` → `{}`", pb.rust_type, ph.rust_type));
                    breaking.push(format!("`.{}(…)` now takes `{}`", ph.setter, ph.rust_type));
                }
                if pb.required != ph.required {
                    details.push(required_detail(pb.required, ph.required));
                    if ph.required {
                        breaking.push(format!(
                            "calls without `.{}(…)` compile but `send()` fails at run time",
                            ph.setter
                        ));
                    }
                }
                if details.is_empty() {
                    continue;
                }
                let rust = if breaking.is_empty() {
                    Verdict::compatible("the setter is unchanged")
                } else {
                    Verdict::breaking(breaking.join("; "))
                };
                changes.push(change(details.join(", "), rust));
            }
            (None, None) => {}
        }
    }
}

fn compare_body(
    svc: &str,
    id: &str,
    b: &OperationRow,
    h: &OperationRow,
    changes: &mut Vec<Change>,
) {
    let change = |detail: String, rust: Verdict| Change {
        operation: Some(id.to_string()),
        place: Place::Request,
        subject: "request body".into(),
        detail,
        wire_name: String::new(),
        rust,
        wire: None,
        keys: vec![format!("{svc}:{id}")],
    };
    match (&b.body, &h.body) {
        (None, Some(body)) if body.required => changes.push(change(
            format!("added, required (`{}`)", body.rust_type),
            Verdict::breaking(
                "existing calls compile but `send()` fails at run time until they call `.body(…)`",
            ),
        )),
        (None, Some(body)) => changes.push(change(
            format!("added, optional (`{}`)", body.rust_type),
            Verdict::compatible("a new optional `.body(…)`"),
        )),
        (Some(_), None) => changes.push(change(
            "removed".into(),
            Verdict::breaking("`.body(…)` no longer exists"),
        )),
        (Some(bb), Some(hb)) => {
            if bb.rust_type != hb.rust_type {
                changes.push(change(
                    format!("type `{}` → `{}`", bb.rust_type, hb.rust_type),
                    Verdict::breaking(format!("`.body(…)` now takes `{}`", hb.rust_type)),
                ));
            }
            if bb.required != hb.required {
                let rust = if hb.required {
                    Verdict::breaking(
                        "calls without `.body(…)` compile but `send()` fails at run time",
                    )
                } else {
                    Verdict::compatible("`.body(…)` is unchanged")
                };
                changes.push(change(required_detail(bb.required, hb.required), rust));
            }
        }
        (None, None) => {}
    }
}

fn compare_responses(
    svc: &str,
    id: &str,
    b: &OperationRow,
    h: &OperationRow,
    changes: &mut Vec<Change>,
) {
    let change = |subject: &str, detail: String, rust: Verdict| Change {
        operation: Some(id.to_string()),
        place: Place::Response,
        subject: subject.into(),
        detail,
        wire_name: String::new(),
        rust,
        wire: None,
        keys: vec![format!("{svc}:{id}")],
    };
    if b.success != h.success {
        changes.push(change(
            "success type",
            format!("`{}` → `{}`", b.success, h.success),
            Verdict::breaking(format!(
                "`send()` now returns `ResponseValue<{}>`",
                h.success
            )),
        ));
    }
    if b.error != h.error {
        changes.push(change(
            "error body type",
            format!("`{}` → `{}`", b.error, h.error),
            Verdict::breaking(format!(
                "`service_error::<{}>()` no longer decodes the documented error body",
                b.error
            )),
        ));
    }
    for (what, bc, hc) in [
        ("success status codes", &b.success_codes, &h.success_codes),
        ("error status codes", &b.error_codes, &h.error_codes),
    ] {
        if bc != hc {
            changes.push(change(
                what,
                format!("{} → {}", bc.join(", "), hc.join(", ")),
                Verdict::compatible("the same Rust types"),
            ));
        }
    }
}

fn required_detail(before: bool, after: bool) -> String {
    let word = |r: bool| if r { "required" } else { "optional" };
    format!("{} → {}", word(before), word(after))
}

fn compare_types(svc: &str, base: &Tables, head: &Tables) -> Vec<TypeChange> {
    let mut out = Vec::new();
    let names: BTreeSet<&String> = base.types.keys().chain(head.types.keys()).collect();
    for name in names {
        let type_key = format!("{svc}:{name}");
        let whole = |detail: &str, rust: Verdict| TypeChange {
            type_name: name.clone(),
            subject: format!("type `{name}`"),
            detail: detail.into(),
            wire_name: String::new(),
            rust,
            keys: vec![type_key.clone()],
        };
        match (base.types.get(name), head.types.get(name)) {
            (Some(_), None) => out.push(whole(
                "removed",
                Verdict::breaking(format!("`types::{name}` no longer exists")),
            )),
            (None, Some(_)) => out.push(whole(
                "added",
                Verdict::compatible(format!("a new type `types::{name}`")),
            )),
            (Some(b), Some(h)) => match (&b.kind, &h.kind) {
                (TypeKind::Struct(bf), TypeKind::Struct(hf)) => {
                    compare_fields(svc, h, bf, hf, &mut out)
                }
                (TypeKind::Enum(bv), TypeKind::Enum(hv)) => {
                    compare_variants(svc, h, bv, hv, &mut out)
                }
                (TypeKind::Wrapper(bw), TypeKind::Wrapper(hw)) if bw == hw => {}
                _ => out.push(whole(
                    "changed kind",
                    Verdict::breaking(format!("`types::{name}` is another kind of type")),
                )),
            },
            (None, None) => {}
        }
        if let (Some(b), Some(h)) = (base.types.get(name), head.types.get(name))
            && b.non_exhaustive != h.non_exhaustive
        {
            out.push(if h.non_exhaustive {
                whole(
                    "now `#[non_exhaustive]`",
                    Verdict::breaking("struct literals and exhaustive matches stop compiling"),
                )
            } else {
                whole(
                    "no longer `#[non_exhaustive]`",
                    Verdict::compatible("more code compiles"),
                )
            });
        }
    }
    out
}

fn compare_fields(
    svc: &str,
    ty: &TypeRow,
    before: &[FieldRow],
    after: &[FieldRow],
    out: &mut Vec<TypeChange>,
) {
    let name = &ty.name;
    let b: BTreeMap<&str, &FieldRow> = before.iter().map(|f| (f.wire.as_str(), f)).collect();
    let a: BTreeMap<&str, &FieldRow> = after.iter().map(|f| (f.wire.as_str(), f)).collect();
    let wires: BTreeSet<&str> = b.keys().chain(a.keys()).copied().collect();
    for wire in wires {
        let change = |detail: String, rust: Verdict| TypeChange {
            type_name: name.clone(),
            subject: format!("`{name}.{wire}`"),
            detail,
            wire_name: wire.to_string(),
            rust,
            keys: vec![format!("{svc}:{name}.{wire}"), format!("{svc}:{name}")],
        };
        match (b.get(wire), a.get(wire)) {
            (None, Some(f)) => {
                let detail = format!(
                    "added, {} (`{}: {}`)",
                    if f.required { "required" } else { "optional" },
                    f.rust,
                    f.rust_type
                );
                let rust = if f.required {
                    Verdict::breaking(format!(
                        "struct literals must set `{}`; builders compile but fail at run time \
                         when it is unset",
                        f.rust
                    ))
                } else if ty.non_exhaustive {
                    Verdict::compatible("a new field of a `#[non_exhaustive]` struct")
                } else {
                    Verdict::breaking(format!(
                        "struct literals `types::{name} {{ … }}` must name `{}`; builders and \
                         field reads are unaffected",
                        f.rust
                    ))
                };
                out.push(change(detail, rust));
            }
            (Some(f), None) => out.push(change(
                "removed".into(),
                Verdict::breaking(format!("the field `{}` no longer exists", f.rust)),
            )),
            (Some(fb), Some(fa)) => {
                let mut details = Vec::new();
                let mut breaking = Vec::new();
                if fb.rust != fa.rust {
                    details.push(format!("Rust field `{}` → `{}`", fb.rust, fa.rust));
                    breaking.push(format!("the field `{}` no longer exists", fb.rust));
                }
                if fb.rust_type != fa.rust_type {
                    details.push(format!("type `{}` → `{}`", fb.rust_type, fa.rust_type));
                    breaking.push(format!("`{}` is now `{}`", fa.rust, fa.rust_type));
                }
                if fb.required != fa.required {
                    details.push(required_detail(fb.required, fa.required));
                    if fa.required && ty.has_builder {
                        breaking.push(format!(
                            "builders still compile but fail at run time when `{}` is unset",
                            fa.rust
                        ));
                    } else if fa.required {
                        breaking.push(format!("`{}` must now be set", fa.rust));
                    }
                }
                if fb.nullable != fa.nullable {
                    details.push(if fa.nullable {
                        "now nullable".to_string()
                    } else {
                        "no longer nullable".to_string()
                    });
                }
                if details.is_empty() {
                    continue;
                }
                let rust = if breaking.is_empty() {
                    Verdict::compatible(format!("`{}: {}` is unchanged", fa.rust, fa.rust_type))
                } else {
                    Verdict::breaking(breaking.join("; "))
                };
                out.push(change(details.join(", "), rust));
            }
            (None, None) => {}
        }
    }
}

fn compare_variants(
    svc: &str,
    ty: &TypeRow,
    before: &[VariantRow],
    after: &[VariantRow],
    out: &mut Vec<TypeChange>,
) {
    let name = &ty.name;
    let b: BTreeMap<&str, &VariantRow> = before.iter().map(|v| (v.wire.as_str(), v)).collect();
    let a: BTreeMap<&str, &VariantRow> = after.iter().map(|v| (v.wire.as_str(), v)).collect();
    let wires: BTreeSet<&str> = b.keys().chain(a.keys()).copied().collect();
    for wire in wires {
        let change = |detail: String, rust: Verdict| TypeChange {
            type_name: name.clone(),
            subject: format!("enum `{name}` value `{wire}`"),
            detail,
            wire_name: wire.to_string(),
            rust,
            keys: vec![format!("{svc}:{name}.{wire}"), format!("{svc}:{name}")],
        };
        match (b.get(wire), a.get(wire)) {
            (None, Some(v)) => {
                let rust = if ty.non_exhaustive {
                    Verdict::compatible(format!(
                        "a new variant `{}` of a `#[non_exhaustive]` enum",
                        v.rust
                    ))
                } else {
                    Verdict::breaking(format!(
                        "exhaustive `match`es on `types::{name}` stop compiling (new variant `{}`)",
                        v.rust
                    ))
                };
                out.push(change(format!("added (`{}`)", v.rust), rust));
            }
            (Some(v), None) => out.push(change(
                "removed".into(),
                Verdict::breaking(format!("the variant `{}` no longer exists", v.rust)),
            )),
            (Some(vb), Some(va)) if vb.rust != va.rust => out.push(change(
                format!("variant `{}` → `{}`", vb.rust, va.rust),
                Verdict::breaking(format!("the variant `{}` no longer exists", vb.rust)),
            )),
            _ => {}
        }
    }
}
