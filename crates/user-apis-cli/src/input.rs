//! Reading a `--json-body` argument: a file, or standard input for `-`.

use std::io::Read as _;
use std::path::Path;

/// The text of the body file `path`, or of standard input when `path` is `-`.
pub fn read_body(path: &Path) -> std::io::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
    }
}

/// The parser of a UUID flag (`--user-id` of SendAuth): the error says a UUID is expected.
pub fn uuid(value: &str) -> Result<uuid::Uuid, String> {
    uuid::Uuid::parse_str(value.trim())
        .map_err(|_| "expected a UUID, such as 3fa85f64-5717-4562-b3fc-2c963f66afa6".to_string())
}

/// The parser of a flag whose values the spec lists but the service may extend (an open enum
/// such as a Zendesk role): `--help` and the completions show the listed values, and any
/// value parses, so that `main` can refuse one the spec does not list, before any I/O, unless
/// `--allow-unknown-values` is given (see [`unlisted_values`]).
pub struct OpenEnumParser<T> {
    known: &'static [&'static str],
    value: std::marker::PhantomData<fn() -> T>,
}

impl<T> Clone for OpenEnumParser<T> {
    fn clone(&self) -> Self {
        Self {
            known: self.known,
            value: std::marker::PhantomData,
        }
    }
}

/// An [`OpenEnumParser`] of `T`, whose listed values are `known` (`T::KNOWN`).
pub fn open_enum<T>(known: &'static [&'static str]) -> OpenEnumParser<T> {
    OpenEnumParser {
        known,
        value: std::marker::PhantomData,
    }
}

impl<T> clap::builder::TypedValueParser for OpenEnumParser<T>
where
    T: for<'a> From<&'a str> + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let text = value
            .to_str()
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidUtf8).with_cmd(cmd))?;
        Ok(T::from(text))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            self.known
                .iter()
                .map(|v| clap::builder::PossibleValue::new(*v)),
        ))
    }
}

/// A whole-number type a ranged flag holds (`--page-size` is a `NonZeroU32`).
pub trait FromWhole: Sized {
    /// `value` as this type, if it fits.
    fn from_whole(value: i64) -> Option<Self>;
}

macro_rules! from_whole {
    ($($t:ty),*) => {$(
        impl FromWhole for $t {
            fn from_whole(value: i64) -> Option<Self> {
                <$t>::try_from(value).ok()
            }
        }
    )*};
}
from_whole!(i32, i64, u32, u64);

impl FromWhole for std::num::NonZeroU32 {
    fn from_whole(value: i64) -> Option<Self> {
        u32::try_from(value).ok().and_then(Self::new)
    }
}

impl FromWhole for std::num::NonZeroU64 {
    fn from_whole(value: i64) -> Option<Self> {
        u64::try_from(value).ok().and_then(Self::new)
    }
}

/// The parser of a flag the spec bounds (`--page-size`: 1 to 100): clap refuses a value
/// outside `min..=max` with the range, before any I/O.
pub fn ranged<T>(min: i64, max: i64) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: FromWhole + Clone + Send + Sync + 'static,
{
    use clap::builder::TypedValueParser as _;
    clap::value_parser!(i64)
        .range(min..=max)
        .try_map(|value| T::from_whole(value).ok_or("out of range for its type"))
}

/// The values of the operation's flags that the spec does not list, as (flag, value, the
/// listed values): every flag whose parser lists values, checked against what was given.
pub fn unlisted_values(
    command: &clap::Command,
    matches: &clap::ArgMatches,
) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for arg in command.get_arguments() {
        let listed: Vec<String> = arg
            .get_possible_values()
            .iter()
            .map(|v| v.get_name().to_string())
            .collect();
        if listed.is_empty() {
            continue;
        }
        let Ok(Some(raw)) = matches.try_get_raw(arg.get_id().as_str()) else {
            continue;
        };
        for value in raw {
            let value = value.to_string_lossy();
            if !listed.iter().any(|l| *l == value) {
                let flag = arg
                    .get_long()
                    .map_or_else(|| arg.get_id().to_string(), |l| format!("--{l}"));
                out.push((flag, value.into_owned(), listed.clone()));
            }
        }
    }
    out
}
