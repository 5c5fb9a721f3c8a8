//! Enums of names a user picks one of (`--format json`): `FromStr` and `Display` from one
//! table, so the library needs no command-line parser and `main.rs` offers the same names.

use std::fmt;

/// A name that is none of a choice's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    pub(crate) given: String,
    pub(crate) expected: &'static [&'static str],
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown value `{}`; expected one of: {}",
            self.given,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownName {}

/// For a fieldless enum and a table `Variant => "name"`: `NAMES` (in table order),
/// `name()`, and `FromStr`/`Display` by those names. `name()` matches every variant, so a
/// variant missing from the table does not compile. `NAMES` and `name()` get the
/// visibility written before the type (the enum's own).
macro_rules! impl_choice {
    ($vis:vis $ty:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every name, in the order the command line lists them.
            $vis const NAMES: &'static [&'static str] = &[$($name),+];

            /// The name a user writes for this value.
            $vis const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::choice::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Self::$variant),)+
                    _ => Err($crate::choice::UnknownName {
                        given: s.to_owned(),
                        expected: Self::NAMES,
                    }),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}
pub(crate) use impl_choice;

#[cfg(test)]
mod tests {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Shape {
        Round,
        Square,
    }
    super::impl_choice!(Shape { Round => "round", Square => "square" });

    #[test]
    fn names_parse_and_print_back() {
        assert_eq!(Shape::NAMES, ["round", "square"]);
        for name in Shape::NAMES {
            assert_eq!(name.parse::<Shape>().unwrap().to_string(), *name);
        }
        assert_eq!(Shape::Square.name(), "square");
    }

    #[test]
    fn an_unknown_name_lists_the_names() {
        let err = "Round".parse::<Shape>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown value `Round`; expected one of: round, square"
        );
    }
}
