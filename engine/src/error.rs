//! The error every public constructor and setter returns for a bad parameter.

use std::fmt;

/// A parameter outside what the engine accepts: which one, the value given, and what is
/// accepted.
///
/// ```
/// use engine::grid::GridGeometry;
/// let err = GridGeometry::new(100.0, 100.0, 1e-3).unwrap_err();
/// assert_eq!(err.parameter(), "cell");
/// assert!(err.to_string().starts_with("cell = 0.001: "), "{err}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    parameter: &'static str,
    value: String,
    expected: String,
}

impl ParamError {
    /// `parameter` was `value`; `expected` says what would have been accepted.
    pub fn new(
        parameter: &'static str,
        value: impl fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        ParamError {
            parameter,
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// The parameter's name.
    pub fn parameter(&self) -> &'static str {
        self.parameter
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {}: expected {}",
            self.parameter, self.value, self.expected
        )
    }
}

impl std::error::Error for ParamError {}
