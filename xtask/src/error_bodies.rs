//! Typed error bodies: where the spec documents an operation's error body, the client offers
//! it typed for that operation. The trait `ErrorBodies`, implemented for `ApiError` alone,
//! has one method per such operation, `<operationId>_error_body()`, returning the spec's
//! error schema: the compiler checks the type, and the caller names the operation, not a
//! type. A method answers `None` for an error of another operation, of a status the spec
//! does not document that body for, or whose body is not that JSON.

use openapiv3::OpenAPI;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// `text` broken into lines of at most 90 characters (the docs split them into attributes).
fn wrap(text: &str) -> String {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.len() + 1 + word.len() > 90 {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n")
}

/// The status codes of one documented error body, as a `match` pattern on `u16`.
fn status_pattern(codes: &[String]) -> Result<TokenStream, String> {
    let patterns = codes
        .iter()
        .map(|code| match code.strip_suffix("XX") {
            Some(class) => {
                let class: u16 = class.parse().map_err(|_| format!("status `{code}`"))?;
                let (low, high) = (class * 100, class * 100 + 99);
                Ok(quote!(#low..=#high))
            }
            None => {
                let code: u16 = code.parse().map_err(|_| format!("status `{code}`"))?;
                Ok(quote!(#code))
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(quote!(#(#patterns)|*))
}

/// The `ErrorBodies` trait of a client and its impl for `ApiError`; nothing when no operation
/// documents an error body.
pub(crate) fn items(spec: &OpenAPI, rel: &str) -> Result<Vec<syn::Item>, String> {
    let mut operations: Vec<(String, Vec<String>, String)> = spec
        .operations()
        .filter_map(|(_, _, op)| {
            let id = op.operation_id.clone()?;
            let (_, codes, error) = crate::spec::responses(spec, op);
            let name = error.strip_prefix("types::")?.to_string();
            Some((id, codes, name))
        })
        .collect();
    if operations.is_empty() {
        return Ok(Vec::new());
    }
    operations.sort();
    let mut declarations = Vec::new();
    let mut definitions = Vec::new();
    for (id, codes, name) in &operations {
        if name.contains(' ') {
            return Err(format!(
                "{rel}: `{id}` documents several error bodies ({name}); one is supported"
            ));
        }
        let method = format_ident!("{id}_error_body");
        let ty = format_ident!("{name}");
        let statuses = status_pattern(codes).map_err(|e| format!("{rel}: `{id}`: {e}"))?;
        let doc = wrap(&format!(
            "The body of a failed `{id}` call as its documented error, a \
             [`types::{name}`](crate::types::{name}) (status {}); `None` for an error of \
             another operation or status, or a body that is not that JSON.",
            codes.join(", ")
        ));
        let doc = doc.lines();
        declarations.push(quote! {
            #(#[doc = #doc])*
            fn #method(&self) -> ::std::option::Option<types::#ty>;
        });
        definitions.push(quote! {
            fn #method(&self) -> ::std::option::Option<types::#ty> {
                error_bodies::decode(self, #id, |status| matches!(status, #statuses))
            }
        });
    }
    let (example, _, _) = &operations[0];
    let trait_doc = wrap(&format!(
        "Each operation's documented error body, typed: `err.{example}_error_body()` is the \
         body of a failed `{example}` call as the type its spec documents, checked by the \
         compiler (for any other type, \
         [`ApiError::service_error`](api_runtime::ApiError::service_error)). Implemented for \
         [`ApiError`](api_runtime::ApiError) only."
    ));
    let file: syn::File = syn::parse2(quote! {
        #[doc = #trait_doc]
        pub trait ErrorBodies: error_bodies::Sealed {
            #(#declarations)*
        }

        mod error_bodies {
            pub trait Sealed {}
            impl Sealed for api_runtime::ApiError {}

            /// The body of `err` as `T` when it failed `operation` with a `documented` status.
            pub(super) fn decode<T: ::serde::de::DeserializeOwned>(
                err: &api_runtime::ApiError,
                operation: &str,
                documented: fn(u16) -> bool,
            ) -> ::std::option::Option<T> {
                let status = err.status().map(|s| s.as_u16());
                if err.operation() == Some(operation) && status.is_some_and(documented) {
                    err.service_error()
                } else {
                    None
                }
            }
        }

        impl ErrorBodies for api_runtime::ApiError {
            #(#definitions)*
        }
    })
    .map_err(|e| format!("{rel}: the ErrorBodies trait does not parse: {e}"))?;
    Ok(file.items)
}

#[cfg(test)]
mod tests {
    use super::status_pattern;

    #[test]
    fn documented_statuses_become_one_pattern_ranges_included() {
        let codes = ["404".to_string(), "4XX".to_string(), "503".to_string()];
        let pattern = status_pattern(&codes).expect("valid codes").to_string();
        assert_eq!(pattern, "404u16 | 400u16 ..= 499u16 | 503u16");
        assert!(status_pattern(&["4xx".to_string()]).is_err());
    }
}
