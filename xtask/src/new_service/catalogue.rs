//! The tests crate's part of a new service: a client with test credentials
//! (`tests/src/clients.rs`) and a catalogue entry per operation (`tests/src/catalogue.rs`), a
//! call with the spec's examples as its inputs. An operation whose inputs the spec's examples
//! do not give (a required parameter or body without one, a body schema that is not a
//! component) gets no entry: the command lists it, and the coverage test names it until a
//! person writes one.

use openapiv3::{OpenAPI, ReferenceOr};

use super::edits::insert_before;
use super::{Auth, NewService};

/// The test secrets of the service's first scheme: (constant, value) pairs; the last is the
/// secret.
fn secrets(s: &NewService) -> Vec<(String, String)> {
    let upper = s.name.to_uppercase();
    match super::templates::fixed_scheme(s.primary()) {
        Auth::Basic => vec![
            (format!("{upper}_USER"), "api-user".to_string()),
            (
                format!("{upper}_PASSWORD"),
                format!("{}-test-password", s.name),
            ),
        ],
        Auth::Bearer | Auth::OAuth2ClientCredentials(_) => {
            vec![(format!("{upper}_TOKEN"), format!("{}-test-token", s.name))]
        }
        Auth::ApiKeyHeader(_) | Auth::ApiKeyQuery(_) => vec![(
            format!("{upper}_API_KEY"),
            format!("{}-test-api-key", s.name),
        )],
    }
}

/// `tests/src/clients.rs`: the test secrets, the client in `Clients`, its credentials.
pub(super) fn clients(text: &str, s: &NewService) -> Result<Option<String>, String> {
    let name = &s.name;
    let client_fn = format!("pub fn {name}_client(");
    if text.contains(&client_fn) {
        return Ok(None);
    }
    let secrets = secrets(s);
    let consts: String = secrets
        .iter()
        .map(|(c, v)| {
            format!(
                "    /// {} test credential.\n    pub const {c}: &str = \"{v}\";\n",
                s.title
            )
        })
        .collect();
    let text = insert_before(
        text,
        0,
        |line| line.trim() == "/// Every secret, for leak checks.",
        &format!("{consts}\n"),
        "`/// Every secret, for leak checks.`",
    )?;
    let all = text
        .find("pub const ALL: &[&str] = &[")
        .ok_or("no `pub const ALL`")?;
    let secret = &secrets.last().expect("one secret at least").0;
    let text = insert_before(
        &text,
        all,
        |line| line.trim() == "];",
        &format!("        {secret},\n"),
        "`];` closing `ALL`",
    )?;
    let clients = text
        .find("pub struct Clients {")
        .ok_or("no `pub struct Clients {`")?;
    let text = insert_before(
        &text,
        clients,
        |line| line.trim_end() == "}",
        &format!(
            "    /// {}.\n    pub {name}: user_apis::{name}::Client,\n",
            s.title
        ),
        "`}` closing `Clients`",
    )?;
    let with = text
        .find("pub fn with(")
        .ok_or("no `pub fn with(` in `impl Clients`")?;
    let text = insert_before(
        &text,
        with,
        |line| line.trim_end() == "        }",
        &format!("            {name}: {name}_client(config(\"{name}\")),\n"),
        "`}` closing the `Self {` of `Clients::with`",
    )?;
    let args: Vec<&str> = secrets.iter().map(|(c, _)| c.as_str()).collect();
    let text = insert_before(
        &text,
        0,
        |line| {
            line.trim_start()
                .starts_with("other => panic!(\"unknown service")
        },
        &format!(
            "        \"{name}\" => {},\n",
            super::templates::credentials(super::templates::fixed_scheme(s.primary()), &args)
        ),
        "`other => panic!(\"unknown service …` in `credentials`",
    )?;
    Ok(Some(format!(
        "{}\n\n/// A {} client with the test credentials.\n\
         {client_fn}config: ClientConfig) -> user_apis::{name}::Client {{\n    \
         user_apis::{name}::Client::with_config(credentials(\"{name}\"), config)\n        \
         .expect(\"client builds\")\n}}\n",
        text.trim_end_matches('\n'),
        s.title
    )))
}

/// `tests/src/catalogue.rs`: the entries, in service order among the others'.
pub(super) fn entries(text: &str, s: &NewService) -> Result<Option<String>, String> {
    let name = &s.name;
    if text.contains(&format!("\n    {name}::")) || s.catalogue.is_empty() {
        return Ok(None);
    }
    let start = text
        .find("catalogue! {")
        .ok_or("no `catalogue! {` invocation")?;
    let entries: String = s.catalogue.concat();
    insert_before(
        text,
        start,
        |line| {
            line.trim_end() == "}"
                || (line.starts_with("    ")
                    && !line.starts_with("     ")
                    && line
                        .trim_start()
                        .split("::")
                        .next()
                        .is_some_and(|service| service > name.as_str()))
        },
        &entries,
        "the end of `catalogue! { … }`",
    )
    .map(Some)
}

/// One entry per operation whose inputs the spec's examples give, in operationId order, and
/// the operations left for a person (with why).
pub(super) fn calls(name: &str, spec: &OpenAPI, rel: &str) -> (Vec<String>, Vec<String>) {
    let mut entries = Vec::new();
    let mut left = Vec::new();
    for (path, _, op, id) in crate::spec::operations_by_id(spec) {
        match call(name, spec, path, op, rel) {
            Ok(call) => entries.push(format!(
                "    {name}::{id} => |c| c.{name}.{}(){call};\n",
                crate::naming::snake(id)
            )),
            Err(why) => left.push(format!("{id}: {why}")),
        }
    }
    (entries, left)
}

fn call(
    name: &str,
    spec: &OpenAPI,
    path: &str,
    op: &openapiv3::Operation,
    rel: &str,
) -> Result<String, String> {
    let mut call = String::new();
    for (data, place) in crate::spec::parameters(spec, path, op, rel)? {
        let example = data.example.clone().or_else(|| match &data.format {
            openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) => {
                schema.schema_data.example.clone()
            }
            _ => None,
        });
        let Some(example) = example else {
            if data.required {
                return Err(format!(
                    "the {place} parameter `{}` has no example",
                    data.name
                ));
            }
            continue;
        };
        let format = match &data.format {
            openapiv3::ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) => {
                match &schema.schema_kind {
                    openapiv3::SchemaKind::Type(openapiv3::Type::String(s)) => match &s.format {
                        openapiv3::VariantOrUnknownOrEmpty::Item(f) => format!("{f:?}"),
                        openapiv3::VariantOrUnknownOrEmpty::Unknown(f) => f.clone(),
                        openapiv3::VariantOrUnknownOrEmpty::Empty => String::new(),
                    },
                    _ => String::new(),
                }
            }
            _ => String::new(),
        };
        let value = match (&example, format.as_str()) {
            (serde_json::Value::String(s), "uuid") => {
                format!("uuid::Uuid::parse_str({s:?}).unwrap_or_default()")
            }
            (serde_json::Value::String(_), "DateTime" | "Date") => {
                return Err(format!(
                    "the {place} parameter `{}` is a date: write its value",
                    data.name
                ));
            }
            (serde_json::Value::String(s), _) => format!("{s:?}"),
            (serde_json::Value::Number(n), _) => n.to_string(),
            (serde_json::Value::Bool(b), _) => b.to_string(),
            _ => {
                return Err(format!(
                    "the {place} parameter `{}` has an array or object example: write its value",
                    data.name
                ));
            }
        };
        call.push_str(&format!(".{}({value})", crate::naming::setter(&data)));
    }
    if let Some(body) = &op.request_body {
        let body = match body {
            ReferenceOr::Item(body) => body,
            ReferenceOr::Reference { .. } => return Err("its request body is a $ref".into()),
        };
        let media = body
            .content
            .get("application/json")
            .ok_or("its request body is not application/json")?;
        let Some(ReferenceOr::Reference { reference }) = &media.schema else {
            return Err("its request body's schema is not a component".into());
        };
        let schema = reference
            .strip_prefix("#/components/schemas/")
            .ok_or("its request body's schema is not a component")?;
        let example = media
            .example
            .clone()
            .or_else(|| {
                media
                    .examples
                    .values()
                    .find_map(|e| e.as_item()?.value.clone())
            })
            .ok_or("its request body has no example")?;
        call.push_str(&format!(
            ".body(\n        serde_json::from_str::<user_apis::{name}::types::{}>(r##\"{}\"##)\n            \
             .expect(\"the spec's example\"),\n    )",
            crate::naming::pascal(schema),
            example
        ));
    }
    Ok(call)
}
