//! Field deserializers the generated models use where services send more than one
//! spelling of a value (`cargo xtask generate` adds them; see `xtask/src/lenient.rs`):
//!
//! - a date-time without an offset (`2026-01-05T09:00:00`) is read as UTC; with an offset it
//!   is converted to UTC as usual;
//! - an optional UUID sent as `""` (a Go service's zero value) is `None`;
//! - an id the spec marks `x-accept-number` may come as a JSON number, kept as its text.
//!
//! Each still refuses what is not a value of its kind, with a message that says what was
//! expected.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::{self, Deserializer, Visitor};

/// Parses an RFC 3339 date-time, or one without an offset as UTC.
fn parse_date_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(with_offset) = text.parse::<DateTime<chrono::FixedOffset>>() {
        return Some(with_offset.with_timezone(&Utc));
    }
    let naive = text
        .parse::<NaiveDateTime>()
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()?;
    Some(naive.and_utc())
}

struct DateTimeVisitor;

impl Visitor<'_> for DateTimeVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date-time (one without an offset is read as UTC)")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        parse_date_time(text).ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

/// A date-time; without an offset, UTC.
pub fn date_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(DateTimeVisitor)
}

/// An optional date-time (`null`: `None`); without an offset, UTC.
pub fn option_date_time<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    deserializer.deserialize_option(OptionVisitor(DateTimeVisitor))
}

struct UuidVisitor;

impl Visitor<'_> for UuidVisitor {
    type Value = Option<uuid::Uuid>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a UUID, an empty string or null")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        if text.is_empty() {
            return Ok(None);
        }
        text.parse()
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

/// An optional UUID: `null` and `""` (a Go service's zero value) are `None`.
pub fn option_uuid<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<uuid::Uuid>, D::Error> {
    deserializer
        .deserialize_option(OptionVisitor(UuidVisitor))
        .map(Option::flatten)
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(text.to_string())
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(text)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(n.to_string())
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(n.to_string())
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        Ok(n.to_string())
    }
}

/// A string that may come as a JSON number (`84924` is `"84924"`).
pub fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(TextVisitor)
}

/// An optional string that may come as a JSON number.
pub fn option_string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    deserializer.deserialize_option(OptionVisitor(AnyOf(TextVisitor)))
}

/// `deserialize_any` for a visitor (an optional string-or-number must not be read as a
/// string only).
struct AnyOf<V>(V);

/// `null` → `None`; a value → the inner visitor's.
struct OptionVisitor<V>(V);

trait Inner<'de> {
    type Value;
    fn inner<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error>;
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl<'de> Inner<'de> for DateTimeVisitor {
    type Value = DateTime<Utc>;
    fn inner<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expecting(f)
    }
}

impl<'de> Inner<'de> for UuidVisitor {
    type Value = Option<uuid::Uuid>;
    fn inner<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expecting(f)
    }
}

impl<'de> Inner<'de> for AnyOf<TextVisitor> {
    type Value = String;
    fn inner<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self.0)
    }
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }
}

impl<'de, V: Inner<'de>> Visitor<'de> for OptionVisitor<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.describe(f)?;
        f.write_str(" or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.0.inner(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Fields {
        #[serde(deserialize_with = "super::date_time")]
        at: chrono::DateTime<chrono::Utc>,
        #[serde(default, deserialize_with = "super::option_date_time")]
        maybe_at: Option<chrono::DateTime<chrono::Utc>>,
        #[serde(default, deserialize_with = "super::option_uuid")]
        subject: Option<uuid::Uuid>,
        #[serde(deserialize_with = "super::string_or_number")]
        id: String,
        #[serde(default, deserialize_with = "super::option_string_or_number")]
        other: Option<String>,
    }

    fn fields(value: serde_json::Value) -> Result<Fields, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn accepted_spellings() {
        let read = fields(json!({
            "at": "2026-01-05T09:00:00", "maybe_at": "2026-01-05T10:00:00+01:00",
            "subject": "", "id": 84924, "other": "5"
        }))
        .expect("decodes");
        assert_eq!(read.at.to_rfc3339(), "2026-01-05T09:00:00+00:00");
        assert_eq!(read.maybe_at, Some(read.at));
        assert_eq!(read.subject, None);
        assert_eq!(read.id, "84924");
        assert_eq!(read.other.as_deref(), Some("5"));

        let read = fields(json!({
            "at": "0001-01-01T00:00:00Z", "maybe_at": null,
            "subject": "3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d", "id": "x", "other": 7
        }))
        .expect("decodes");
        assert_eq!(read.maybe_at, None);
        assert!(read.subject.is_some());
        assert_eq!(read.other.as_deref(), Some("7"));

        let missing = fields(json!({"at": "2026-01-05 09:00:00.5", "id": "1"})).expect("decodes");
        assert_eq!(missing.at.timestamp_subsec_millis(), 500);
        assert_eq!(
            (missing.maybe_at, missing.subject, missing.other),
            (None, None, None)
        );
    }

    #[test]
    fn what_is_not_a_value_of_its_kind_is_refused() {
        for bad in [
            json!({"at": "yesterday", "id": "1"}),
            json!({"at": 5, "id": "1"}),
            json!({"at": "2026-01-05T09:00:00Z", "id": "1", "subject": "admins"}),
            json!({"at": "2026-01-05T09:00:00Z", "id": true}),
            json!({"at": "2026-01-05T09:00:00Z", "id": null}),
            json!({"at": "2026-01-05T09:00:00Z", "id": "1", "other": [1]}),
        ] {
            let error = fields(bad.clone()).expect_err(&bad.to_string());
            assert!(error.to_string().contains("expected"), "{bad}: {error}");
        }
    }
}
