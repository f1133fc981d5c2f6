//! What a model builder's setter of an optional field takes.

/// The value a model builder's setter of an optional field takes: the field's type itself,
/// `Some` / `None` of it, and for text fields `&str`, `&String` and `Option<&str>` as well,
/// so that `.email("ada@example.com")` reads like `.first_name("Ada")` of a required field.
///
/// ```
/// use api_runtime::OptionalValue;
///
/// fn email(value: impl Into<OptionalValue<String>>) -> Option<String> {
///     value.into().into_option()
/// }
/// assert_eq!(email("ada@example.com").as_deref(), Some("ada@example.com"));
/// assert_eq!(email(String::from("x")).as_deref(), Some("x"));
/// assert_eq!(email(None::<String>), None);
/// assert_eq!(email(Some("y")).as_deref(), Some("y"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionalValue<T>(Option<T>);

impl<T> OptionalValue<T> {
    /// The field's value: `None` leaves it unset.
    pub fn into_option(self) -> Option<T> {
        self.0
    }
}

impl<T> From<T> for OptionalValue<T> {
    fn from(value: T) -> Self {
        Self(Some(value))
    }
}

impl<T> From<Option<T>> for OptionalValue<T> {
    fn from(value: Option<T>) -> Self {
        Self(value)
    }
}

impl From<&str> for OptionalValue<String> {
    fn from(value: &str) -> Self {
        Self(Some(value.to_string()))
    }
}

impl From<&String> for OptionalValue<String> {
    fn from(value: &String) -> Self {
        Self(Some(value.clone()))
    }
}

impl From<Option<&str>> for OptionalValue<String> {
    fn from(value: Option<&str>) -> Self {
        Self(value.map(str::to_string))
    }
}
