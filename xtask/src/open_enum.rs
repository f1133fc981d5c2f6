//! Open enums: string enums marked `x-open-enum: true` in a spec.
//!
//! typify turns a string enum into a closed Rust enum, and one value the service adds later
//! then fails the whole call. For enums that appear in responses we declare instead an
//! `api_runtime::open_enum!`: `#[non_exhaustive]`, the known values as variants and an opaque
//! unknown value that keeps what it did not recognise and serializes it back unchanged.
//! typify is told to use this type in place of its own (`with_replacement`), and the
//! declaration is added to the `types` module.

use openapiv3::{OpenAPI, SchemaKind, Type};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// A string enum the spec marks as open.
pub(crate) struct OpenEnum {
    pub name: String,
    pub description: Option<String>,
    pub values: Vec<String>,
}

pub(crate) fn collect(spec: &OpenAPI) -> Result<Vec<OpenEnum>, String> {
    let mut out = Vec::new();
    let Some(components) = &spec.components else {
        return Ok(out);
    };
    for (name, schema) in &components.schemas {
        let Some(schema) = schema.as_item() else {
            continue;
        };
        let open = schema.schema_data.extensions.get("x-open-enum");
        match open {
            None | Some(serde_json::Value::Bool(false)) => continue,
            Some(serde_json::Value::Bool(true)) => {}
            Some(other) => {
                return Err(format!(
                    "schema {name}: x-open-enum must be true or false, not {other}"
                ));
            }
        }
        let SchemaKind::Type(Type::String(s)) = &schema.schema_kind else {
            return Err(format!(
                "schema {name}: x-open-enum applies to string enums only"
            ));
        };
        let values: Vec<String> = s.enumeration.iter().flatten().cloned().collect();
        if values.is_empty() {
            return Err(format!("schema {name}: x-open-enum without enum values"));
        }
        out.push(OpenEnum {
            name: name.clone(),
            description: schema.schema_data.description.clone(),
            values,
        });
    }
    Ok(out)
}

/// The Rust variant name for a wire value: `end-user` → `EndUser`, `super_admin` → `SuperAdmin`;
/// a value that starts with a digit gets a `V`, and `unknown` (taken by the unknown-value
/// variant) becomes `UnknownValue`.
fn variant_name(value: &str) -> String {
    let name = crate::naming::pascal(value);
    match name.strip_prefix('_') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => format!("V{rest}"),
        _ if name == "Unknown" => "UnknownValue".into(),
        _ => name,
    }
}

/// The enum an `api_runtime::open_enum!` invocation declares.
pub(crate) fn declared_name(item: &syn::ItemMacro) -> Option<String> {
    if !item
        .mac
        .path
        .segments
        .iter()
        .any(|s| s.ident == "open_enum")
    {
        return None;
    }
    let mut after_enum = false;
    for token in item.mac.tokens.clone() {
        if let proc_macro2::TokenTree::Ident(ident) = token {
            if after_enum {
                return Some(ident.to_string());
            }
            after_enum = ident == "enum";
        }
    }
    None
}

/// The enum as an `api_runtime::open_enum!` invocation: the macro writes the code once.
pub(crate) fn tokens(e: &OpenEnum) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let variants: Vec<_> = e
        .values
        .iter()
        .map(|v| format_ident!("{}", variant_name(v)))
        .collect();
    let values = &e.values;
    let variant_docs: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    let known = values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let doc = match &e.description {
        Some(d) => format!("{}\n\nKnown values: {known}.", d.trim()),
        None => format!("Known values: {known}."),
    };
    quote! {
        api_runtime::open_enum! {
            #[doc = #doc]
            pub enum #name {
                #(
                    #[doc = #variant_docs]
                    #variants = #values,
                )*
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::variant_name;

    #[test]
    fn variant_names_follow_rust_conventions() {
        assert_eq!(variant_name("end-user"), "EndUser");
        assert_eq!(variant_name("super_admin"), "SuperAdmin");
        assert_eq!(variant_name("queued"), "Queued");
        assert_eq!(variant_name("1st"), "V1st");
        assert_eq!(variant_name("unknown"), "UnknownValue");
    }
}
