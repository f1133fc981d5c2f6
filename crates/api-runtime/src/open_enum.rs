//! Open enums: string enums whose set of values the service may extend.
//!
//! A value the service adds later must not fail a call, and learning it in a later version
//! of a client must not break code that matches on the enum. So every open enum is
//! `#[non_exhaustive]` and keeps a value it does not know in an opaque [`UnknownValue`]:
//! it can only come from a string that is not a known value, so `"agent"` always decodes
//! (and compares equal) as `Agent`, never as an unknown value.
//!
//! The client crates declare their open enums with [`open_enum!`](crate::open_enum).

use std::fmt;

/// A value of an open enum that this version of the client does not know, kept exactly as
/// received (and sent back unchanged). Read it with [`as_str`](Self::as_str).
///
/// It cannot be built by hand: an open enum made from a known value is always the known
/// variant, so comparisons never depend on how a value was spelled in the code.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownValue(Box<str>);

impl UnknownValue {
    /// Used by [`open_enum!`](crate::open_enum) for strings that match no known value.
    #[doc(hidden)]
    pub fn __new(value: &str) -> Self {
        Self(value.into())
    }

    /// The value as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Deserializes an open enum from a JSON string without allocating for known values.
#[doc(hidden)]
pub fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: for<'a> From<&'a str>,
{
    struct Visitor<T>(std::marker::PhantomData<T>);
    impl<T: for<'a> From<&'a str>> serde::de::Visitor<'_> for Visitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<T, E> {
            Ok(T::from(value))
        }
    }
    deserializer.deserialize_str(Visitor(std::marker::PhantomData))
}

/// Declares an open enum: the known values as variants, `#[non_exhaustive]`, and an
/// `Unknown(UnknownValue)` variant for any other string. Generates `as_str`, `is_unknown`,
/// `KNOWN`, `From<&str>`, `From<String>`, `FromStr`, `Display`, `Debug`, serde and schemars
/// impls. Used by the generated code; not part of the public API.
///
/// ```
/// api_runtime::open_enum! {
///     /// A role.
///     pub enum Role {
///         /// An agent.
///         Agent = "agent",
///         /// An end user.
///         EndUser = "end-user",
///     }
/// }
/// assert_eq!(Role::from("agent"), Role::Agent);
/// assert_eq!(Role::from("robot").as_str(), "robot");
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $value:literal, )+
        }
    ) => {
        $(#[$meta])*
        ///
        /// The service may add values: one this version does not know decodes as
        /// `Unknown` (read it with `as_str()`) instead of failing the call, and the enum is
        /// `#[non_exhaustive]`, so a later version may learn it as a variant without breaking
        /// a `match`. Compare values by variant or by `as_str()`, not by matching `Unknown`.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant, )+
            /// A value this version does not know, kept as received.
            Unknown($crate::UnknownValue),
        }

        impl $name {
            /// Every value this version knows, as sent on the wire.
            pub const KNOWN: &'static [&'static str] = &[$($value),+];

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $value, )+
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether this is a value this version does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $value => Self::$variant, )+
                    other => Self::Unknown($crate::UnknownValue::__new(other)),
                }
            }
        }

        impl ::std::convert::From<&::std::string::String> for $name {
            fn from(value: &::std::string::String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(value: ::std::string::String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    $( Self::$variant => f.write_str(stringify!($variant)), )+
                    Self::Unknown(value) => f.debug_tuple("Unknown").field(value).finish(),
                }
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                $crate::__private::deserialize_open_enum(deserializer)
            }
        }

        impl $crate::__private::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::string::String {
                ::std::string::String::from(stringify!($name))
            }

            fn json_schema(
                generator: &mut $crate::__private::schemars::r#gen::SchemaGenerator,
            ) -> $crate::__private::schemars::schema::Schema {
                // Any string: the known values and those the service adds later.
                <::std::string::String as $crate::__private::schemars::JsonSchema>::json_schema(
                    generator,
                )
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::open_enum! {
        /// A user's role.
        pub enum Role {
            /// An end user.
            EndUser = "end-user",
            /// An agent.
            Agent = "agent",
        }
    }

    #[test]
    fn known_values_are_variants_however_they_arrive() {
        let decoded: Role = serde_json::from_str(r#""agent""#).unwrap();
        assert_eq!(decoded, Role::Agent);
        assert_eq!(Role::from("agent"), Role::Agent);
        assert_eq!("agent".parse::<Role>().unwrap(), Role::Agent);
        assert_eq!(Role::from(String::from("end-user")), Role::EndUser);
        assert!(!decoded.is_unknown());
        assert_eq!(Role::KNOWN, ["end-user", "agent"]);
    }

    #[test]
    fn unknown_values_are_kept_and_sent_back_unchanged() {
        let decoded: Role = serde_json::from_str(r#""light-agent""#).unwrap();
        assert!(decoded.is_unknown());
        assert_eq!(decoded.as_str(), "light-agent");
        assert_eq!(decoded, Role::from("light-agent"));
        assert_ne!(decoded, Role::Agent);
        assert_eq!(serde_json::to_string(&decoded).unwrap(), r#""light-agent""#);
        assert_eq!(decoded.to_string(), "light-agent");
        assert_eq!(format!("{decoded:?}"), r#"Unknown("light-agent")"#);
        assert_eq!(format!("{:?}", Role::EndUser), "EndUser");
        assert!(serde_json::from_str::<Role>("3").is_err());
    }

    #[test]
    fn the_schema_accepts_any_string() {
        let schema = schemars::schema_for!(Role);
        let json = serde_json::to_value(&schema).unwrap();
        assert_eq!(json["type"], "string", "{json}");
        assert!(json.get("enum").is_none(), "{json}");
    }
}
