//! Secrets in generated types: properties marked `x-sensitive: true` in a spec.
//!
//! typify derives `Debug` for every struct and for its builder, so a value holding a client
//! secret or an access token would print it in a log line, a panic message or a test
//! failure. For every component schema with a property marked `x-sensitive: true`, the struct
//! of that name in `types` and its builder in `types::builder` lose the derived `Debug` and
//! get one that prints every field as before except the sensitive ones:
//!
//! - in the struct, a sensitive field prints `"<redacted>"` (an `Option` prints
//!   `Some("<redacted>")` or `None`, so one can still see whether it was set);
//! - in the builder, a sensitive field always prints `"<redacted>"` (its error, when a value
//!   could not be converted, is the user's own conversion error and may quote the value);
//! - the fields the model does not list (`extra`) may hold a secret the spec never named:
//!   the struct prints their names only, the builder `"<redacted>"`.
//!
//! Each sensitive field's doc says so. The extension is allowed only on a property of a
//! component schema, with a boolean value; anything else fails generation, and so does
//! progenitor's output when it lacks the struct, the builder, the field or the derived
//! `Debug` this expects, naming what is missing.

use std::collections::BTreeMap;

use openapiv3::OpenAPI;
use quote::quote;
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;

pub(crate) const EXTENSION: &str = "x-sensitive";

/// What `Debug` prints in place of a secret.
const REDACTED: &str = "<redacted>";

/// Sensitive properties (wire names) by component schema name, both sorted.
pub(crate) type Sensitive = BTreeMap<String, Vec<String>>;

/// Every `x-sensitive: true` property of the spec's component schemas; an error names any
/// `x-sensitive` found elsewhere, or one that is not a boolean.
pub(crate) fn collect(spec: &OpenAPI) -> Result<Sensitive, String> {
    let value = serde_json::to_value(spec).map_err(|e| format!("cannot walk the spec: {e}"))?;
    let mut found = Vec::new();
    find(&value, &mut Vec::new(), &mut found);
    let mut out = Sensitive::new();
    let mut errors = Vec::new();
    for (path, flag) in found {
        let location = format!("#/{}", path.join("/"));
        let [components, schemas, schema, properties, property] = path.as_slice() else {
            errors.push(format!(
                "{EXTENSION} at {location}: only properties of component schemas \
                 (#/components/schemas/<Name>/properties/<name>) can be sensitive"
            ));
            continue;
        };
        if components != "components" || schemas != "schemas" || properties != "properties" {
            errors.push(format!(
                "{EXTENSION} at {location}: only properties of component schemas \
                 (#/components/schemas/<Name>/properties/<name>) can be sensitive"
            ));
            continue;
        }
        match flag {
            serde_json::Value::Bool(true) => out
                .entry(schema.clone())
                .or_default()
                .push(property.clone()),
            serde_json::Value::Bool(false) => {}
            other => errors.push(format!(
                "{EXTENSION} at {location} must be true or false, not {other}"
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    for properties in out.values_mut() {
        properties.sort();
    }
    Ok(out)
}

/// Collects `(path, value)` of every `x-sensitive` key under `value`.
fn find(
    value: &serde_json::Value,
    path: &mut Vec<String>,
    found: &mut Vec<(Vec<String>, serde_json::Value)>,
) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                if key == EXTENSION {
                    found.push((path.clone(), child.clone()));
                    continue;
                }
                path.push(key.clone());
                find(child, path, found);
                path.pop();
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(i.to_string());
                find(child, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Replaces the derived `Debug` of every struct (and builder) with a sensitive field by one
/// that redacts it.
pub(crate) fn apply(file: &mut syn::File, sensitive: &Sensitive, rel: &str) -> Result<(), String> {
    if sensitive.is_empty() {
        return Ok(());
    }
    let items = crate::tables::types_module_mut(file, rel)?;
    let mut by_struct = Vec::new();
    for (schema, properties) in sensitive {
        let at = struct_at(items, schema).ok_or_else(|| {
            format!(
                "{rel}: schema {schema} has {EXTENSION} properties but no generated struct \
                 `types::{schema}` (x-sensitive needs an object schema)"
            )
        })?;
        let syn::Item::Struct(item) = &mut items[at] else {
            unreachable!("struct_at finds structs")
        };
        let fields = sensitive_fields(item, properties, rel)?;
        document(item, &fields);
        let debug = redacting_debug(item, &fields, Kind::Type, rel)?;
        items.insert(at + 1, debug);
        by_struct.push((schema, fields));
    }
    if let Some(builder_items) = crate::syntax::module_mut(items, "builder") {
        for (schema, fields) in &by_struct {
            let at = struct_at(builder_items, schema).ok_or_else(|| {
                format!(
                    "{rel}: no builder `types::builder::{schema}` for the struct with \
                     {EXTENSION} properties; progenitor's output has changed shape"
                )
            })?;
            let syn::Item::Struct(item) = &mut builder_items[at] else {
                unreachable!("struct_at finds structs")
            };
            let debug = redacting_debug(item, fields, Kind::Builder, rel)?;
            builder_items.insert(at + 1, debug);
        }
    }
    Ok(())
}

/// The index of the struct `name` among `items`.
fn struct_at(items: &[syn::Item], name: &str) -> Option<usize> {
    items
        .iter()
        .position(|item| matches!(item, syn::Item::Struct(s) if s.ident == name))
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Type,
    Builder,
}

/// The Rust field of each sensitive property (by its `#[serde(rename)]`, else its name).
fn sensitive_fields(
    item: &syn::ItemStruct,
    properties: &[String],
    rel: &str,
) -> Result<Vec<syn::Ident>, String> {
    let syn::Fields::Named(named) = &item.fields else {
        return Err(format!(
            "{rel}: `{}` has no named fields; progenitor's output has changed shape",
            item.ident
        ));
    };
    properties
        .iter()
        .map(|property| {
            named
                .named
                .iter()
                .filter_map(|f| f.ident.as_ref().map(|ident| (f, ident)))
                .find(|(f, _)| crate::tables::wire_name(f) == *property)
                .map(|(_, ident)| ident.clone())
                .ok_or_else(|| {
                    format!(
                        "{rel}: {EXTENSION} property `{property}` of {0}: no field of that \
                         name in `{0}`; progenitor's output has changed shape",
                        item.ident
                    )
                })
        })
        .collect()
}

/// One more doc line on each sensitive field of a type.
fn document(item: &mut syn::ItemStruct, fields: &[syn::Ident]) {
    for field in item.fields.iter_mut() {
        if field.ident.as_ref().is_some_and(|i| fields.contains(i)) {
            let line = format!("`Debug` prints `{REDACTED}` in place of this value.");
            // After the field's own docs, before its other attributes.
            match field.attrs.iter().rposition(|a| a.path().is_ident("doc")) {
                Some(last) => {
                    field.attrs.insert(last + 1, syn::parse_quote!(#[doc = ""]));
                    field
                        .attrs
                        .insert(last + 2, syn::parse_quote!(#[doc = #line]));
                }
                None => field.attrs.insert(0, syn::parse_quote!(#[doc = #line])),
            }
        }
    }
}

/// Takes `Debug` out of the struct's derive and returns the redacting `impl Debug`.
fn redacting_debug(
    item: &mut syn::ItemStruct,
    sensitive: &[syn::Ident],
    kind: Kind,
    rel: &str,
) -> Result<syn::Item, String> {
    let name = &item.ident;
    let mut removed = false;
    for attr in &mut item.attrs {
        if !attr.path().is_ident("derive") {
            continue;
        }
        let derives = attr
            .parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
            .map_err(|e| format!("{rel}: the derive of `{name}` does not parse: {e}"))?;
        let kept: Vec<&syn::Path> = derives.iter().filter(|p| !p.is_ident("Debug")).collect();
        if kept.len() != derives.len() {
            removed = true;
            *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
        }
    }
    let what = match kind {
        Kind::Type => format!("`types::{name}`"),
        Kind::Builder => format!("`types::builder::{name}`"),
    };
    if !removed {
        return Err(format!(
            "{rel}: {what} does not derive `Debug`; progenitor's output has changed shape"
        ));
    }
    let syn::Fields::Named(named) = &item.fields else {
        return Err(format!("{rel}: {what} has no named fields"));
    };
    if let Some(missing) = sensitive
        .iter()
        .find(|s| !named.named.iter().any(|f| f.ident.as_ref() == Some(*s)))
    {
        return Err(format!(
            "{rel}: {what} has no field `{missing}` to redact; progenitor's output has changed \
             shape"
        ));
    }
    let entries = named.named.iter().filter_map(|field| {
        let ident = field.ident.as_ref()?;
        let label = ident.unraw().to_string();
        let unlisted = ident == "extra";
        let value = if unlisted && kind == Kind::Type {
            quote!(&self.#ident.keys().collect::<::std::vec::Vec<_>>())
        } else if !sensitive.contains(ident) && !unlisted {
            quote!(&self.#ident)
        } else if kind == Kind::Type && is_option(&field.ty) {
            quote!(&self.#ident.as_ref().map(|_| #REDACTED))
        } else {
            quote!(&#REDACTED)
        };
        Some(quote!(.field(#label, #value)))
    });
    let label = name.to_string();
    Ok(syn::parse_quote! {
        impl ::std::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(#label) #(#entries)* .finish()
            }
        }
    })
}

/// `Option<T>`, however it is spelled (`::std::option::Option<T>`).
fn is_option(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p)
        if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(schemas: serde_json::Value) -> OpenAPI {
        serde_json::from_value(serde_json::json!({
            "openapi": "3.0.3",
            "info": { "title": "t", "version": "1" },
            "paths": {},
            "components": { "schemas": schemas }
        }))
        .expect("valid spec")
    }

    #[test]
    fn sensitive_properties_are_collected_by_schema() {
        let spec = spec(serde_json::json!({
            "Token": { "type": "object", "properties": {
                "secret": { "type": "string", "x-sensitive": true },
                "id": { "type": "string" },
                "code": { "type": "string", "x-sensitive": true },
                "plain": { "type": "string", "x-sensitive": false }
            } }
        }));
        let found = collect(&spec).expect("collects");
        assert_eq!(
            found,
            Sensitive::from([("Token".into(), vec!["code".into(), "secret".into()])])
        );
    }

    #[test]
    fn x_sensitive_elsewhere_or_not_a_boolean_is_refused() {
        let on_schema = spec(serde_json::json!({
            "Token": { "type": "string", "x-sensitive": true }
        }));
        let err = collect(&on_schema).unwrap_err();
        assert!(err.contains("#/components/schemas/Token"), "{err}");
        let nested = spec(serde_json::json!({
            "Outer": { "type": "object", "properties": { "inner": {
                "type": "object", "properties": {
                    "secret": { "type": "string", "x-sensitive": true }
                }
            } } }
        }));
        let err = collect(&nested).unwrap_err();
        assert!(err.contains("properties/inner/properties/secret"), "{err}");
        let not_bool = spec(serde_json::json!({
            "Token": { "type": "object", "properties": {
                "secret": { "type": "string", "x-sensitive": "yes" }
            } }
        }));
        let err = collect(&not_bool).unwrap_err();
        assert!(err.contains("true or false"), "{err}");
    }

    fn file() -> syn::File {
        syn::parse_quote! {
            pub mod types {
                #[derive(Clone, Debug, PartialEq)]
                pub struct Token {
                    pub id: ::std::string::String,
                    ///The secret.
                    #[serde(rename = "secret-value")]
                    pub secret_value: ::std::string::String,
                    pub refresh: ::std::option::Option<::std::string::String>,
                }
                pub mod builder {
                    #[derive(Clone, Debug)]
                    pub struct Token {
                        id: ::std::result::Result<::std::string::String, ::std::string::String>,
                        secret_value: ::std::result::Result<::std::string::String, ::std::string::String>,
                        refresh: ::std::result::Result<::std::option::Option<::std::string::String>, ::std::string::String>,
                    }
                }
            }
        }
    }

    #[test]
    fn the_derived_debug_is_replaced_by_a_redacting_one() {
        let mut file = file();
        let sensitive = Sensitive::from([(
            "Token".into(),
            vec!["refresh".into(), "secret-value".into()],
        )]);
        apply(&mut file, &sensitive, "t.yaml").expect("applies");
        let code = quote!(#file).to_string();
        assert!(!code.contains("Debug ,"), "{code}");
        assert!(!code.contains("derive (Clone , Debug)"), "{code}");
        assert!(
            code.contains(
                r#"field ("secret_value" , & "<redacted>") . field ("refresh" , & self . refresh . as_ref () . map (| _ | "<redacted>"))"#
            ),
            "{code}"
        );
        assert!(code.contains(r#"field ("id" , & self . id)"#), "{code}");
        // The builder redacts both, whatever their state.
        assert!(
            code.contains(
                r#"field ("secret_value" , & "<redacted>") . field ("refresh" , & "<redacted>")"#
            ),
            "{code}"
        );
        assert_eq!(
            code.matches("impl :: std :: fmt :: Debug for Token")
                .count(),
            2
        );
        assert!(code.contains("`Debug` prints `<redacted>` in place of this value."));
    }

    #[test]
    fn the_unlisted_fields_of_a_type_with_a_secret_show_their_names_only() {
        let mut file: syn::File = syn::parse_quote! {
            pub mod types {
                #[derive(Clone, Debug)]
                pub struct Me {
                    pub token: ::std::string::String,
                    #[serde(flatten)]
                    pub extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
                }
                pub mod builder {
                    #[derive(Clone, Debug)]
                    pub struct Me {
                        token: ::std::result::Result<::std::string::String, ::std::string::String>,
                        extra: ::std::result::Result<
                            ::serde_json::Map<::std::string::String, ::serde_json::Value>,
                            ::std::string::String,
                        >,
                    }
                }
            }
        };
        let sensitive = Sensitive::from([("Me".into(), vec!["token".into()])]);
        apply(&mut file, &sensitive, "t.yaml").expect("applies");
        let code = quote!(#file).to_string();
        assert!(
            code.contains(
                r#"field ("extra" , & self . extra . keys () . collect :: < :: std :: vec :: Vec < _ > > ())"#
            ),
            "{code}"
        );
        assert!(
            code.contains(r#"field ("extra" , & "<redacted>")"#),
            "{code}"
        );
        assert!(!code.contains("& self . extra)"), "{code}");
    }

    #[test]
    fn a_missing_field_or_derive_fails_with_a_message() {
        let sensitive = Sensitive::from([("Token".into(), vec!["nope".into()])]);
        let err = apply(&mut file(), &sensitive, "t.yaml").unwrap_err();
        assert!(
            err.contains("`nope`") && err.contains("changed shape"),
            "{err}"
        );

        let sensitive = Sensitive::from([("Missing".into(), vec!["secret".into()])]);
        let err = apply(&mut file(), &sensitive, "t.yaml").unwrap_err();
        assert!(err.contains("types::Missing"), "{err}");

        let mut no_debug: syn::File = syn::parse_quote! {
            pub mod types {
                #[derive(Clone)]
                pub struct Token { pub secret: ::std::string::String }
            }
        };
        let sensitive = Sensitive::from([("Token".into(), vec!["secret".into()])]);
        let err = apply(&mut no_debug, &sensitive, "t.yaml").unwrap_err();
        assert!(err.contains("does not derive `Debug`"), "{err}");

        let mut no_builder: syn::File = syn::parse_quote! {
            pub mod types {
                #[derive(Clone, Debug)]
                pub struct Token { pub secret: ::std::string::String }
                pub mod builder {}
            }
        };
        let err = apply(&mut no_builder, &sensitive, "t.yaml").unwrap_err();
        assert!(err.contains("types::builder::Token"), "{err}");

        let mut builder_without_field: syn::File = syn::parse_quote! {
            pub mod types {
                #[derive(Clone, Debug)]
                pub struct Token { pub secret: ::std::string::String }
                pub mod builder {
                    #[derive(Clone, Debug)]
                    pub struct Token { other: ::std::string::String }
                }
            }
        };
        let err = apply(&mut builder_without_field, &sensitive, "t.yaml").unwrap_err();
        assert!(
            err.contains("`types::builder::Token` has no field `secret`"),
            "{err}"
        );
    }
}
