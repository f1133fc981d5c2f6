//! Open enums: string enums marked `x-open-enum: true` in a spec.
//!
//! typify turns a string enum into a closed Rust enum, and one value the service adds later
//! then fails the whole call. For enums that appear in responses we generate instead an enum
//! with the known values plus `Unknown(String)`, which keeps the value it did not recognise
//! and serializes it back unchanged. typify is told to use this type in place of its own
//! (`with_replacement`), and the definition is added to the `types` module.

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

/// The Rust variant name for a wire value: `end-user` → `EndUser`, `super_admin` → `SuperAdmin`.
fn variant_name(value: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in value.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    if out == "Unknown" {
        out.push_str("Value");
    }
    out
}

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
        Some(d) => format!("{}\n\n", d.trim()),
        None => String::new(),
    };
    let doc = format!(
        "{doc}Known values: {known}. This enum is open: a value added to the API later \
         decodes as [`{}::Unknown`] and is sent back unchanged.",
        e.name
    );
    let schema_doc = format!("One of {known}, or a value added to the API later.");
    let schema_name = &e.name;
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #name {
            #(
                #[doc = #variant_docs]
                #variants,
            )*
            /// A value this client did not know when it was generated, kept as sent.
            Unknown(::std::string::String),
        }

        impl #name {
            /// Every value known when this client was generated, as sent on the wire.
            pub const KNOWN: &'static [&'static str] = &[#(#values),*];

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #(Self::#variants => #values,)*
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether this is a value the client does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #(#values => Self::#variants,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for #name {
            fn from(value: ::std::string::String) -> Self {
                match Self::from(value.as_str()) {
                    Self::Unknown(_) => Self::Unknown(value),
                    known => known,
                }
            }
        }

        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                ::std::string::String::deserialize(deserializer).map(Self::from)
            }
        }

        impl ::schemars::JsonSchema for #name {
            fn schema_name() -> ::std::string::String {
                #schema_name.to_owned()
            }

            fn json_schema(_: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                ::schemars::schema::SchemaObject {
                    instance_type: Some(::schemars::schema::InstanceType::String.into()),
                    metadata: Some(Box::new(::schemars::schema::Metadata {
                        description: Some(#schema_doc.to_owned()),
                        examples: vec![#(::serde_json::Value::from(#values)),*],
                        ..Default::default()
                    })),
                    ..Default::default()
                }
                .into()
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
