//! Field deserializers for values the services send in more than one spelling.
//!
//! typify derives `Deserialize` with each field's own type, which is as strict as the type:
//! chrono refuses a date-time without an offset, uuid refuses `""`, a `String` refuses a
//! number. The services do send those (a Go service's zero values, JSON:API ids as numbers),
//! so after progenitor runs, each model field of such a type gets
//! `#[serde(deserialize_with = "api_runtime::__private::de::…")]` (and `default`, which
//! an `Option` loses with a custom deserializer):
//!
//! | Rust field type | accepts besides | deserializer |
//! |---|---|---|
//! | `DateTime<Utc>`, `Option<DateTime<Utc>>` | a date-time without offset, as UTC | `date_time`, `option_date_time` |
//! | `Option<Uuid>` | `""` as `None` | `option_uuid` |
//! | `String`, `Option<String>` of a property with `x-accept-number: true` | a JSON number, as its text | `string_or_number`, `option_string_or_number` |
//!
//! Serialization is unchanged. Only the structs of the `types` module are touched.
//!
//! Two changes to the model builders (`types::builder`) go with it: a model that keeps its
//! unlisted fields (`additionalProperties: {}`, typify's flattened `extra` map) gets a
//! documented `extra` that builders start empty (and keeps `Default` when every other field
//! may be left out, as typify derives it without the map); and the setter of an optional field takes
//! `api_runtime::OptionalValue<X>` (what `X` and `Option<X>` convert into, and `&str` for
//! text) instead of typify's `Option<X>`, which `&str` does not convert into:
//! `.email("ada@example.com")` compiles like `.first_name("Ada")`.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::OpenAPI;
use quote::ToTokens;

/// The properties marked `x-accept-number: true`, by component schema name.
fn accept_number(spec: &OpenAPI, rel: &str) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let Some(components) = &spec.components else {
        return Ok(out);
    };
    for (name, schema) in &components.schemas {
        let Some(schema) = schema.as_item() else {
            continue;
        };
        let openapiv3::SchemaKind::Type(openapiv3::Type::Object(object)) = &schema.schema_kind
        else {
            continue;
        };
        for (property, value) in &object.properties {
            let Some(value) = value.as_item() else {
                continue;
            };
            match value.schema_data.extensions.get("x-accept-number") {
                None | Some(serde_json::Value::Bool(false)) => {}
                Some(serde_json::Value::Bool(true)) => {
                    if !matches!(
                        value.schema_kind,
                        openapiv3::SchemaKind::Type(openapiv3::Type::String(_))
                    ) {
                        return Err(format!(
                            "{rel}: {name}.{property}: x-accept-number applies to strings only"
                        ));
                    }
                    out.entry(name.clone())
                        .or_default()
                        .insert(property.clone());
                }
                Some(other) => {
                    return Err(format!(
                        "{rel}: {name}.{property}: x-accept-number must be true or false, not \
                         {other}"
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Whether a field's serde attributes already say `default`.
fn has_default(field: &syn::Field) -> bool {
    crate::tables::serde_attrs(&field.attrs)
        .iter()
        .any(|(key, _)| key == "default")
}

/// The deserializer for a field of type `ty` (tokens as printed, spaces removed), and
/// whether the field is an `Option`.
fn deserializer_for(ty: &str, accepts_number: bool) -> Option<(&'static str, bool)> {
    const UTC: &str = "::chrono::DateTime<::chrono::offset::Utc>";
    const OPTION: &str = "::std::option::Option<";
    let inner = ty.strip_prefix(OPTION).and_then(|t| t.strip_suffix('>'));
    match (inner, ty) {
        (None, UTC) => Some(("date_time", false)),
        (Some(UTC), _) => Some(("option_date_time", true)),
        (Some("::uuid::Uuid"), _) => Some(("option_uuid", true)),
        (None, "::std::string::String") if accepts_number => Some(("string_or_number", false)),
        (Some("::std::string::String"), _) if accepts_number => {
            Some(("option_string_or_number", true))
        }
        _ => None,
    }
}

/// Adds the deserializers to the model structs of `file`'s `types` module. Returns how many
/// fields were changed.
pub(crate) fn apply(file: &mut syn::File, spec: &OpenAPI, rel: &str) -> Result<usize, String> {
    let numbers = accept_number(spec, rel)?;
    let mut pending: BTreeSet<(String, String)> = numbers
        .iter()
        .flat_map(|(s, props)| props.iter().map(move |p| (s.clone(), p.clone())))
        .collect();
    let module = crate::tables::types_module_mut(file, rel)?;
    let mut changed = 0;
    for item in module.iter_mut() {
        let syn::Item::Struct(s) = item else { continue };
        let name = s.ident.to_string();
        let syn::Fields::Named(fields) = &mut s.fields else {
            continue;
        };
        for field in &mut fields.named {
            let wire = crate::tables::wire_name(field);
            let accepts_number = pending.remove(&(name.clone(), wire.clone()));
            let ty = field.ty.to_token_stream().to_string().replace(' ', "");
            let Some((function, optional)) = deserializer_for(&ty, accepts_number) else {
                if accepts_number {
                    return Err(format!(
                        "{rel}: {name}.{wire} has x-accept-number but its Rust type is `{ty}`, \
                         not a String"
                    ));
                }
                continue;
            };
            let path = format!("api_runtime::__private::de::{function}");
            if optional && !has_default(field) {
                field
                    .attrs
                    .push(syn::parse_quote!(#[serde(default, deserialize_with = #path)]));
            } else {
                field
                    .attrs
                    .push(syn::parse_quote!(#[serde(deserialize_with = #path)]));
            }
            changed += 1;
        }
    }
    let kept = keep_the_rest(module, rel)?;
    optional_setters(module);
    if let Some((schema, property)) = pending.into_iter().next() {
        return Err(format!(
            "{rel}: {schema}.{property} has x-accept-number but no generated field matches it"
        ));
    }
    Ok(changed + kept)
}

/// `T: TryInto<Option<X>>` → `T: TryInto<api_runtime::OptionalValue<X>>` in the builders'
/// setters, the value converted back with `into_option`.
fn optional_setters(module: &mut [syn::Item]) {
    let Some(builders) = crate::syntax::module_mut(module, "builder") else {
        return;
    };
    for item in builders.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() {
            continue;
        }
        for member in &mut imp.items {
            let syn::ImplItem::Fn(f) = member else {
                continue;
            };
            let Some(where_clause) = f.sig.generics.where_clause.as_mut() else {
                continue;
            };
            let mut rewritten = false;
            for predicate in &mut where_clause.predicates {
                let syn::WherePredicate::Type(bound) = predicate else {
                    continue;
                };
                if bound.bounded_ty.to_token_stream().to_string() != "T" {
                    continue;
                }
                let Some(x) = try_into_option(&bound.bounds) else {
                    continue;
                };
                bound.bounds =
                    syn::parse_quote!(::std::convert::TryInto<api_runtime::OptionalValue<#x>>);
                rewritten = true;
            }
            if rewritten {
                struct Back;
                impl syn::visit_mut::VisitMut for Back {
                    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
                        if expr.to_token_stream().to_string() == "value . try_into ()" {
                            *expr = syn::parse_quote!(
                                value
                                    .try_into()
                                    .map(api_runtime::OptionalValue::into_option)
                            );
                            return;
                        }
                        syn::visit_mut::visit_expr_mut(self, expr);
                    }
                }
                syn::visit_mut::VisitMut::visit_block_mut(&mut Back, &mut f.block);
            }
        }
    }
}

/// typify derives `Default` for a model whose fields are all optional (an `Option`, or a list or
/// map that defaults to empty), but not once it has an
/// `extra` map: gives it back, so that keeping the unlisted fields does not take `Default`
/// away.
fn derive_default_when_all_optional(s: &mut syn::ItemStruct) -> Result<(), String> {
    let all_optional = s.fields.iter().all(|field| {
        field.ident.as_ref().is_some_and(|i| i == "extra")
            || has_default(field)
            || field
                .ty
                .to_token_stream()
                .to_string()
                .replace(' ', "")
                .starts_with("::std::option::Option<")
    });
    if !all_optional {
        return Ok(());
    }
    let name = s.ident.to_string();
    let derive = s
        .attrs
        .iter_mut()
        .find(|a| a.path().is_ident("derive"))
        .ok_or_else(|| {
            format!("`types::{name}` has no derive; typify's output has changed shape")
        })?;
    let derives = derive
        .parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        .map_err(|e| format!("the derive of `types::{name}` does not parse: {e}"))?;
    if derives.iter().any(|p| p.is_ident("Default")) {
        return Ok(());
    }
    let mut paths: Vec<syn::Path> = derives.into_iter().collect();
    // Where typify puts it: after `Debug` (or `Clone`), before `PartialEq`.
    let at = paths
        .iter()
        .position(|p| p.is_ident("PartialEq"))
        .unwrap_or(paths.len());
    paths.insert(at, syn::parse_quote!(Default));
    *derive = syn::parse_quote!(#[derive(#(#paths),*)]);
    Ok(())
}

/// `X` of a bound `::std::convert::TryInto<::std::option::Option<X>>`.
fn try_into_option(
    bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>,
) -> Option<syn::Type> {
    let generic_arg = |segment: &syn::PathSegment| match &segment.arguments {
        syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => {
            match args.args.first() {
                Some(syn::GenericArgument::Type(ty)) => Some(ty.clone()),
                _ => None,
            }
        }
        _ => None,
    };
    let [syn::TypeParamBound::Trait(bound)] = bounds.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let last = bound.path.segments.last()?;
    if last.ident != "TryInto" {
        return None;
    }
    let syn::Type::Path(option) = generic_arg(last)? else {
        return None;
    };
    let option = option.path.segments.last()?;
    if option.ident != "Option" {
        return None;
    }
    generic_arg(option)
}

/// typify gives a model with `additionalProperties: {}` a flattened `extra` map (the fields
/// the spec does not list), undocumented, and a builder that fails unless it is set.
/// Documents the field and lets the builder start from an empty map. Returns how many
/// models keep their other fields.
fn keep_the_rest(module: &mut [syn::Item], rel: &str) -> Result<usize, String> {
    let mut models = BTreeSet::new();
    for item in module.iter_mut() {
        let syn::Item::Struct(s) = item else { continue };
        let syn::Fields::Named(fields) = &mut s.fields else {
            continue;
        };
        for field in &mut fields.named {
            let flattened = field.attrs.iter().any(|a| {
                a.path().is_ident("serde") && a.to_token_stream().to_string().contains("flatten")
            });
            if flattened && field.ident.as_ref().is_some_and(|i| i == "extra") {
                field.attrs.retain(|a| !a.path().is_ident("doc"));
                let doc = " The fields of the object that this model does not list, as \
                           received; serialized back with the others.";
                field.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
                models.insert(s.ident.to_string());
            }
        }
        if models.contains(&s.ident.to_string()) {
            derive_default_when_all_optional(s)?;
        }
    }
    let builders = crate::syntax::module_mut(module, "builder")
        .ok_or_else(|| format!("{rel}: the `types` module has no `builder` module"))?;
    let mut defaulted = BTreeSet::new();
    for item in builders.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let is_default = imp
            .trait_
            .as_ref()
            .is_some_and(|(path, _)| path.to_token_stream().to_string().ends_with("Default"));
        let name = imp.self_ty.to_token_stream().to_string();
        if !is_default || !models.contains(&name) {
            continue;
        }
        struct EmptyExtra(bool);
        impl syn::visit_mut::VisitMut for EmptyExtra {
            fn visit_field_value_mut(&mut self, fv: &mut syn::FieldValue) {
                if fv.member.to_token_stream().to_string() == "extra" {
                    fv.expr = syn::parse_quote!(Ok(Default::default()));
                    self.0 = true;
                }
            }
        }
        let mut visitor = EmptyExtra(false);
        syn::visit_mut::VisitMut::visit_item_impl_mut(&mut visitor, imp);
        if visitor.0 {
            defaulted.insert(name);
        }
    }
    if defaulted != models {
        return Err(format!(
            "{rel}: builders of {:?} do not start `extra` as expected; typify's output has \
             changed shape",
            models.difference(&defaulted).collect::<Vec<_>>()
        ));
    }
    Ok(models.len())
}

#[cfg(test)]
mod tests {
    use super::{derive_default_when_all_optional, deserializer_for};
    use quote::ToTokens;

    #[test]
    fn a_model_that_keeps_its_other_fields_keeps_default_when_every_field_may_be_left_out() {
        let mut optional: syn::ItemStruct = syn::parse_quote! {
            #[derive(Clone, Debug, PartialEq)]
            pub struct Counts {
                pub open: ::std::option::Option<i64>,
                #[serde(default, skip_serializing_if = "::std::vec::Vec::is_empty")]
                pub tags: ::std::vec::Vec<::std::string::String>,
                #[serde(flatten)]
                pub extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
            }
        };
        derive_default_when_all_optional(&mut optional).expect("derive");
        let code = optional.to_token_stream().to_string();
        assert!(
            code.contains("Clone , Debug , Default , PartialEq"),
            "{code}"
        );
        derive_default_when_all_optional(&mut optional).expect("again");
        assert_eq!(optional.to_token_stream().to_string(), code, "added once");

        let mut required: syn::ItemStruct = syn::parse_quote! {
            #[derive(Clone, Debug, PartialEq)]
            pub struct Tag {
                pub name: ::std::string::String,
                #[serde(flatten)]
                pub extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
            }
        };
        derive_default_when_all_optional(&mut required).expect("no derive");
        let code = required.to_token_stream().to_string();
        assert!(!code.contains("Default"), "{code}");
    }

    #[test]
    fn field_types_and_their_deserializers() {
        let utc = "::chrono::DateTime<::chrono::offset::Utc>";
        assert_eq!(deserializer_for(utc, false), Some(("date_time", false)));
        assert_eq!(
            deserializer_for(&format!("::std::option::Option<{utc}>"), false),
            Some(("option_date_time", true))
        );
        assert_eq!(
            deserializer_for("::std::option::Option<::uuid::Uuid>", false),
            Some(("option_uuid", true))
        );
        assert_eq!(deserializer_for("::uuid::Uuid", false), None);
        assert_eq!(deserializer_for("::std::string::String", false), None);
        assert_eq!(
            deserializer_for("::std::string::String", true),
            Some(("string_or_number", false))
        );
        assert_eq!(
            deserializer_for("::std::option::Option<::std::string::String>", true),
            Some(("option_string_or_number", true))
        );
    }
}
