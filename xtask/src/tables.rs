//! The review tables: every operation, parameter, body, response, type, field and enum value
//! of a generated client, as rows. `cargo xtask generate` writes them to
//! `crates/<svc>-api/OPERATIONS.md`, so a spec change shows in a pull request as a few row
//! changes; `cargo xtask review` builds the same rows for two versions of a spec and classifies
//! the differences.
//!
//! Each row joins what the spec says (wire names, required, nullable, status codes) with what
//! the generated Rust says (setter names, Rust types, `#[non_exhaustive]`), read from the
//! generated syntax tree, so the Rust columns are the generated code's own.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use openapiv3::{OpenAPI, ReferenceOr, Schema, SchemaKind, Type};

/// Every row of one client.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tables {
    pub operations: Vec<OperationRow>,
    pub types: BTreeMap<String, TypeRow>,
}

/// One operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OperationRow {
    pub id: String,
    pub method: String,
    pub path: String,
    pub params: Vec<ParamRow>,
    pub body: Option<BodyRow>,
    /// The Rust type `send()` returns on success (`()` for an empty body).
    pub success: String,
    /// The success status codes, as written in the spec.
    pub success_codes: Vec<String>,
    /// The documented error body type: what `<operationId>_error_body()` decodes (`()` for
    /// none).
    pub error: String,
    pub error_codes: Vec<String>,
}

/// One parameter of an operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParamRow {
    /// The name on the wire (`page[size]`).
    pub wire: String,
    /// `path`, `query` or `header`.
    pub location: &'static str,
    /// The builder method that sets it.
    pub setter: String,
    /// The type the setter converts into.
    pub rust_type: String,
    pub required: bool,
}

/// The request body of an operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BodyRow {
    pub rust_type: String,
    pub required: bool,
}

/// One generated type of the `types` module.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TypeRow {
    pub name: String,
    pub kind: TypeKind,
    /// `#[non_exhaustive]`: fields or variants may be added without breaking users.
    pub non_exhaustive: bool,
    /// Whether `types::builder::<name>` exists (builders check required fields at run time).
    pub has_builder: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TypeKind {
    Struct(Vec<FieldRow>),
    Enum(Vec<VariantRow>),
    /// A tuple struct or a type alias: the type it wraps.
    Wrapper(String),
}

/// One field of a struct.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldRow {
    pub wire: String,
    pub rust: String,
    pub rust_type: String,
    /// Required by the spec (else by the Rust type: not an `Option`, no default).
    pub required: bool,
    pub nullable: bool,
}

/// One variant of an enum.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VariantRow {
    /// The value on the wire, or `*` for the variant that keeps unknown values.
    pub wire: String,
    pub rust: String,
}

impl TypeRow {
    /// The names of the generated types this type's fields or variants mention.
    pub(crate) fn mentions(&self) -> Vec<String> {
        let types: Vec<&str> = match &self.kind {
            TypeKind::Struct(fields) => fields.iter().map(|f| f.rust_type.as_str()).collect(),
            TypeKind::Enum(variants) => variants.iter().map(|v| v.rust.as_str()).collect(),
            TypeKind::Wrapper(t) => vec![t.as_str()],
        };
        types.into_iter().flat_map(type_names).collect()
    }
}

/// The identifiers in a rendered type (`Option<Vec<UserRole>>` → `Option`, `Vec`, `UserRole`).
pub(crate) fn type_names(rendered: &str) -> Vec<String> {
    rendered
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Tables {
    /// The generated types reachable from `roots` (type names), roots included.
    pub(crate) fn reachable<'a>(
        &self,
        roots: impl IntoIterator<Item = &'a str>,
    ) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = roots
            .into_iter()
            .flat_map(type_names)
            .filter(|n| self.types.contains_key(n))
            .collect();
        while let Some(name) = todo.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            if let Some(row) = self.types.get(&name) {
                todo.extend(
                    row.mentions()
                        .into_iter()
                        .filter(|n| self.types.contains_key(n) && !seen.contains(n)),
                );
            }
        }
        seen
    }
}

/// Builds the tables from a spec and the code generated from it.
pub(crate) fn build(spec: &OpenAPI, file: &syn::File, rel: &str) -> Result<Tables, String> {
    let builders = module(&file.items, "builder");
    let client_methods = client_methods(file);
    let mut operations = Vec::new();
    for (path, method, op) in spec.operations() {
        let id = op
            .operation_id
            .clone()
            .ok_or_else(|| format!("{rel}: {} {path} has no operationId", method.to_uppercase()))?;
        let builder = client_methods
            .get(&id)
            .and_then(|name| find_struct(builders, name))
            .ok_or_else(|| format!("{rel}: no generated builder for operation `{id}`"))?;
        let fields = builder_fields(builder);
        let mut params = Vec::new();
        for (data, location) in crate::spec::parameters(spec, path, op, rel)? {
            let setter = crate::naming::setter(&data);
            let rust_type = fields
                .get(&setter)
                .map(|(ty, _)| ty.clone())
                .ok_or_else(|| {
                    format!(
                        "{rel}: `{id}`: parameter `{}` has no builder field `{setter}`",
                        data.name
                    )
                })?;
            params.push(ParamRow {
                wire: data.name.clone(),
                location,
                setter,
                rust_type,
                required: data.required,
            });
        }
        // The builder keeps `types::builder::T`; its `.body(…)` takes `types::T`.
        let body = fields.get("body").map(|(ty, _)| BodyRow {
            rust_type: if ty.contains("::") {
                ty.clone()
            } else {
                format!("types::{ty}")
            },
            required: match &op.request_body {
                Some(ReferenceOr::Item(body)) => body.required,
                _ => false,
            },
        });
        let (success_codes, error_codes, error) = crate::spec::responses(spec, op);
        let success = send_success_type(builders, client_methods.get(&id))
            .unwrap_or_else(|| "()".to_string());
        operations.push(OperationRow {
            id,
            method: method.to_uppercase(),
            path: path.to_string(),
            params,
            body,
            success,
            success_codes,
            error,
            error_codes,
        });
    }
    operations.sort_by(|a, b| a.id.cmp(&b.id));

    let types_items = module(&file.items, "types");
    let type_builders: BTreeSet<String> = module(types_items, "builder")
        .iter()
        .filter_map(|i| match i {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            _ => None,
        })
        .collect();
    let mut types = BTreeMap::new();
    for item in types_items {
        let (name, kind, attrs) = match item {
            syn::Item::Struct(s) => {
                let kind = match &s.fields {
                    syn::Fields::Named(named) => {
                        TypeKind::Struct(struct_fields(spec, &s.ident.to_string(), named))
                    }
                    syn::Fields::Unnamed(unnamed) => TypeKind::Wrapper(
                        unnamed
                            .unnamed
                            .iter()
                            .map(|f| render_type(&f.ty))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    syn::Fields::Unit => TypeKind::Wrapper("()".into()),
                };
                (s.ident.to_string(), kind, &s.attrs)
            }
            syn::Item::Enum(e) => (
                e.ident.to_string(),
                TypeKind::Enum(enum_variants(spec, e)),
                &e.attrs,
            ),
            syn::Item::Type(t) => (
                t.ident.to_string(),
                TypeKind::Wrapper(render_type(&t.ty)),
                &t.attrs,
            ),
            // An open enum (`api_runtime::open_enum! { pub enum Role { Admin = "admin", … } }`):
            // its known values, and the variant that keeps any other.
            syn::Item::Macro(m) if crate::open_enum::declared_name(m).is_some() => {
                let declared: syn::ItemEnum = syn::parse2(m.mac.tokens.clone())
                    .map_err(|e| format!("{rel}: an open enum declaration does not parse: {e}"))?;
                let mut variants: Vec<VariantRow> = declared
                    .variants
                    .iter()
                    .map(|v| VariantRow {
                        wire: match &v.discriminant {
                            Some((
                                _,
                                syn::Expr::Lit(syn::ExprLit {
                                    lit: syn::Lit::Str(value),
                                    ..
                                }),
                            )) => value.value(),
                            _ => v.ident.to_string(),
                        },
                        rust: v.ident.to_string(),
                    })
                    .collect();
                variants.push(VariantRow {
                    wire: "*".into(),
                    rust: "Unknown(UnknownValue)".into(),
                });
                let name = declared.ident.to_string();
                types.insert(
                    name.clone(),
                    TypeRow {
                        has_builder: false,
                        name,
                        kind: TypeKind::Enum(variants),
                        // The macro makes every open enum `#[non_exhaustive]`.
                        non_exhaustive: true,
                    },
                );
                continue;
            }
            _ => continue,
        };
        let non_exhaustive = attrs.iter().any(|a| a.path().is_ident("non_exhaustive"));
        types.insert(
            name.clone(),
            TypeRow {
                has_builder: type_builders.contains(&name),
                name,
                kind,
                non_exhaustive,
            },
        );
    }
    Ok(Tables { operations, types })
}

/// The items of `mod <name>` among `items` (empty if there is none).
pub(crate) fn module<'a>(items: &'a [syn::Item], name: &str) -> &'a [syn::Item] {
    crate::syntax::module(items, name).map_or(&[], Vec::as_slice)
}

/// The items of progenitor's `types` module (the component schemas' types), to change.
pub(crate) fn types_module_mut<'a>(
    file: &'a mut syn::File,
    rel: &str,
) -> Result<&'a mut Vec<syn::Item>, String> {
    crate::syntax::module_mut(&mut file.items, "types")
        .ok_or_else(|| format!("{rel}: progenitor output has no `types` module"))
}

/// The name a field has on the wire: its `#[serde(rename = "…")]`, else its identifier.
pub(crate) fn wire_name(field: &syn::Field) -> String {
    use syn::ext::IdentExt as _;
    serde_attrs(&field.attrs)
        .into_iter()
        .find_map(|(k, v)| (k == "rename").then_some(v))
        .or_else(|| field.ident.as_ref().map(|i| i.unraw().to_string()))
        .unwrap_or_default()
}

fn find_struct<'a>(items: &'a [syn::Item], name: &str) -> Option<&'a syn::ItemStruct> {
    items.iter().find_map(|i| match i {
        syn::Item::Struct(s) if s.ident == name => Some(s),
        _ => None,
    })
}

/// `Client` method name → the name of the builder struct it returns.
fn client_methods(file: &syn::File) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() {
            continue;
        }
        let syn::Type::Path(self_ty) = &*imp.self_ty else {
            continue;
        };
        if !self_ty.path.is_ident("Client") {
            continue;
        }
        for item in &imp.items {
            let syn::ImplItem::Fn(f) = item else { continue };
            if let syn::ReturnType::Type(_, ty) = &f.sig.output
                && let syn::Type::Path(p) = &**ty
                && p.path.segments.len() == 2
                && p.path.segments[0].ident == "builder"
            {
                out.insert(
                    f.sig.ident.to_string(),
                    p.path.segments[1].ident.to_string(),
                );
            }
        }
    }
    out
}

/// A builder's fields: name → (the type its setter takes, whether it is an `Option`).
fn builder_fields(builder: &syn::ItemStruct) -> BTreeMap<String, (String, bool)> {
    let mut out = BTreeMap::new();
    for field in &builder.fields {
        let Some(ident) = &field.ident else { continue };
        // `Result<T, String>` or `Result<Option<T>, String>`.
        let Some(inner) = generic_arg(&field.ty, "Result") else {
            continue;
        };
        let (ty, optional) = match generic_arg(inner, "Option") {
            Some(t) => (t, true),
            None => (inner, false),
        };
        out.insert(ident.to_string(), (render_type(ty), optional));
    }
    out
}

/// The first type argument of `ty` if its last path segment is `wrapper`.
fn generic_arg<'a>(ty: &'a syn::Type, wrapper: &str) -> Option<&'a syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// The `T` of `ResponseValue<T>` in the builder's `send()` return type.
fn send_success_type(builders: &[syn::Item], builder: Option<&String>) -> Option<String> {
    let builder = builder?;
    for item in builders {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(p) = &*imp.self_ty else {
            continue;
        };
        if p.path.segments.last().is_none_or(|s| s.ident != builder) {
            continue;
        }
        for item in &imp.items {
            let syn::ImplItem::Fn(f) = item else { continue };
            if f.sig.ident != "send" {
                continue;
            }
            let syn::ReturnType::Type(_, ty) = &f.sig.output else {
                return None;
            };
            let ok = generic_arg(ty, "Result")?;
            return generic_arg(ok, "ResponseValue").map(render_type);
        }
    }
    None
}

/// The component schema `name`, if the spec has one.
fn component<'a>(spec: &'a OpenAPI, name: &str) -> Option<&'a Schema> {
    spec.components.as_ref()?.schemas.get(name)?.as_item()
}

fn struct_fields(spec: &OpenAPI, name: &str, named: &syn::FieldsNamed) -> Vec<FieldRow> {
    let object = component(spec, name).and_then(|s| match &s.schema_kind {
        SchemaKind::Type(Type::Object(o)) => Some(o),
        _ => None,
    });
    let mut rows = Vec::new();
    for field in &named.named {
        let Some(ident) = &field.ident else { continue };
        let rust = ident.to_string();
        let serde = serde_attrs(&field.attrs);
        let wire = serde
            .iter()
            .find_map(|(k, v)| (k == "rename").then(|| v.clone()))
            .unwrap_or_else(|| rust.trim_start_matches("r#").to_string());
        let rust_type = render_type(&field.ty);
        let (required, nullable) = match object {
            Some(o) => {
                let nullable = o
                    .properties
                    .get(&wire)
                    .and_then(|p| p.as_item())
                    .is_some_and(|p| p.schema_data.nullable);
                (o.required.contains(&wire), nullable)
            }
            None => (
                !rust_type.starts_with("Option<") && !serde.iter().any(|(k, _)| k == "default"),
                false,
            ),
        };
        rows.push(FieldRow {
            wire,
            rust,
            rust_type,
            required,
            nullable,
        });
    }
    rows.sort_by(|a, b| a.wire.cmp(&b.wire));
    rows
}

fn enum_variants(spec: &OpenAPI, e: &syn::ItemEnum) -> Vec<VariantRow> {
    let values: Vec<String> = match component(spec, &e.ident.to_string()).map(|s| &s.schema_kind) {
        Some(SchemaKind::Type(Type::String(s))) => {
            s.enumeration.iter().flatten().cloned().collect()
        }
        _ => Vec::new(),
    };
    let normal = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let mut rows = Vec::new();
    for v in &e.variants {
        let rust = v.ident.to_string();
        let renamed = serde_attrs(&v.attrs)
            .into_iter()
            .find_map(|(k, v)| (k == "rename").then_some(v));
        let wire = match &v.fields {
            syn::Fields::Unit => renamed
                .or_else(|| values.iter().find(|w| normal(w) == normal(&rust)).cloned())
                .unwrap_or_else(|| rust.clone()),
            // A variant with data: the one that keeps values the client does not know, or a
            // `oneOf` alternative.
            fields => {
                let inner: Vec<String> = fields.iter().map(|f| render_type(&f.ty)).collect();
                rows.push(VariantRow {
                    wire: "*".into(),
                    rust: format!("{rust}({})", inner.join(", ")),
                });
                continue;
            }
        };
        rows.push(VariantRow { wire, rust });
    }
    rows
}

/// `#[serde(key = "value", flag)]` pairs of a field or variant.
pub(crate) fn serde_attrs(attrs: &[syn::Attribute]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            let value = if meta.input.peek(syn::Token![=]) {
                let lit: syn::LitStr = meta.value()?.parse()?;
                lit.value()
            } else {
                String::new()
            };
            out.push((key, value));
            Ok(())
        });
    }
    out
}

/// A Rust type as a reader writes it: each path by its last segment (`Option<Vec<UserRole>>`),
/// generated types as `types::Name` only at the top of a body or response.
pub(crate) fn render_type(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => {
            let segments: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let Some(last) = p.path.segments.last() else {
                return String::new();
            };
            let mut out = if segments.len() >= 2 && segments[segments.len() - 2] == "types" {
                format!("types::{}", last.ident)
            } else {
                last.ident.to_string()
            };
            if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
                let inner: Vec<String> = args
                    .args
                    .iter()
                    .map(|a| match a {
                        syn::GenericArgument::Type(t) => render_type(t),
                        other => quote::quote!(#other).to_string(),
                    })
                    .collect();
                let _ = write!(out, "<{}>", inner.join(", "));
            }
            out
        }
        syn::Type::Reference(r) => format!("&{}", render_type(&r.elem)),
        syn::Type::Tuple(t) if t.elems.is_empty() => "()".into(),
        syn::Type::Array(a) => format!("[{}; …]", render_type(&a.elem)),
        syn::Type::Slice(s) => format!("[{}]", render_type(&s.elem)),
        other => quote::quote!(#other).to_string().replace(' ', ""),
    }
}

/// `crates/<svc>-api/OPERATIONS.md`: the tables as Markdown, one row per operation, parameter,
/// field and enum value, so that any API change is a small row diff.
pub(crate) fn markdown(
    name: &str,
    rel: &str,
    sha: &str,
    spec: &OpenAPI,
    tables: &Tables,
    paging: &crate::paging_gen::Declared,
) -> String {
    let ops = &tables.operations;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "<!-- @generated by `cargo xtask generate` from {rel}; do not edit by hand. -->\n\
         <!-- spec sha256: {sha} -->\n\n\
         # {name}-api — operations\n\n\
         {} operations from `{rel}` ({} {}). Calls use the builder interface: set the \
         parameters, then `.send().await`. The error type is the body a documented error \
         status carries, typed by `err.<operationId>_error_body()` (trait `ErrorBodies`); \
         where the spec documents none, every error still keeps the body as received \
         (`err.body()`, `err.body_text()`).\n\n\
         | operationId | method + path | Rust call | success type | error type |\n\
         |---|---|---|---|---|",
        ops.len(),
        spec.info.title,
        spec.info.version,
    );
    for op in ops {
        let mut call = format!("`client.{}()", op.id);
        for p in op
            .params
            .iter()
            .filter(|p| p.location == "path" || p.required)
        {
            let _ = write!(call, ".{}(…)", p.setter);
        }
        match &op.body {
            Some(b) if b.required => call.push_str(".body(…)"),
            Some(_) => call.push_str("[.body(…)]"),
            None => {}
        }
        call.push_str(".send()`");
        call.push_str(&crate::paging_gen::call_note(paging, &op.id));
        let _ = writeln!(
            md,
            "| `{}` | `{} {}` | {} | {} | {} |",
            op.id,
            op.method,
            op.path,
            call,
            with_codes(&op.success, &op.success_codes),
            error_cell(&op.error, &op.error_codes),
        );
    }

    let _ = writeln!(
        md,
        "\n## Parameters and bodies\n\n\
         Every parameter of every operation: its name on the wire, where it is sent, the \
         builder method that sets it and the type that method takes. `send()` fails before \
         any request when a required one is not set.\n\n\
         | operation | parameter | in | Rust setter | Rust type | required |\n\
         |---|---|---|---|---|---|"
    );
    for op in ops {
        for p in &op.params {
            let _ = writeln!(
                md,
                "| `{}` | `{}` | {} | `.{}(…)` | `{}` | {} |",
                op.id,
                p.wire,
                p.location,
                p.setter,
                p.rust_type,
                yes_no(p.required)
            );
        }
        if let Some(b) = &op.body {
            let _ = writeln!(
                md,
                "| `{}` | body | body | `.body(…)` | `{}` | {} |",
                op.id,
                b.rust_type,
                yes_no(b.required)
            );
        }
    }

    let _ = writeln!(
        md,
        "\n## Types\n\n\
         Every field of every generated struct in `types`: its name on the wire, the Rust \
         field and type, and whether the spec requires it (a required field of a request \
         type left unset in its builder fails `send()`) or allows `null`.\n\n\
         | type | field | Rust field | Rust type | required |\n\
         |---|---|---|---|---|"
    );
    for row in tables.types.values() {
        let mark = if row.non_exhaustive {
            " (non_exhaustive)"
        } else {
            ""
        };
        match &row.kind {
            TypeKind::Struct(fields) => {
                for f in fields {
                    let _ = writeln!(
                        md,
                        "| `{}`{mark} | `{}` | `{}` | `{}` | {}{} |",
                        row.name,
                        f.wire,
                        f.rust,
                        f.rust_type,
                        yes_no(f.required),
                        if f.nullable { ", nullable" } else { "" }
                    );
                }
            }
            TypeKind::Wrapper(inner) => {
                let _ = writeln!(md, "| `{}`{mark} | — | — | `{inner}` | — |", row.name);
            }
            TypeKind::Enum(_) => {}
        }
    }

    let _ = writeln!(
        md,
        "\n## Enums\n\n\
         Every value of every generated enum, and the variant it decodes to. `*` is the \
         variant that keeps a value this client does not know (an open enum).\n\n\
         | enum | value | Rust variant |\n\
         |---|---|---|"
    );
    for row in tables.types.values() {
        let TypeKind::Enum(variants) = &row.kind else {
            continue;
        };
        let mark = if row.non_exhaustive {
            " (non_exhaustive)"
        } else {
            ""
        };
        for v in variants {
            let value = if v.wire == "*" {
                "*".to_string()
            } else {
                format!("`{}`", v.wire)
            };
            let _ = writeln!(md, "| `{}`{mark} | {value} | `{}` |", row.name, v.rust);
        }
    }
    md
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The error type column: the documented error body's type for `<operationId>_error_body()`, or
/// where to read the body when the spec documents none.
fn error_cell(ty: &str, codes: &[String]) -> String {
    match (ty, codes.is_empty()) {
        ("()", true) => "none documented: `err.body_text()`".into(),
        ("()", false) => format!(
            "no body documented ({}): `err.body_text()`",
            codes.join(", ")
        ),
        _ => with_codes(ty, codes),
    }
}

fn with_codes(ty: &str, codes: &[String]) -> String {
    if codes.is_empty() {
        format!("`{ty}`")
    } else {
        format!("`{ty}` ({})", codes.join(", "))
    }
}

/// The tables of a freshly generated file, as `OPERATIONS.md`.
pub(crate) fn operations_md(
    name: &str,
    rel: &str,
    sha: &str,
    spec: &OpenAPI,
    file: &syn::File,
) -> Result<String, String> {
    let paging = crate::paging_gen::collect(spec, rel)?;
    Ok(markdown(
        name,
        rel,
        sha,
        spec,
        &build(spec, file, rel)?,
        &paging,
    ))
}
