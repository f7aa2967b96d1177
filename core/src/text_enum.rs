//! A macro for enums that travel as text and must survive values we do not know yet (vendor
//! measurands, new stop reasons): known names map to variants, anything else is kept verbatim
//! in `Other(String)` instead of failing the whole message.

/// Declares an enum with known text values plus an `Other(String)` catch-all, with `Display`,
/// `FromStr` (infallible) and serde as a plain string.
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$doc:meta])*
        $name:ident {
            $( $(#[$vdoc:meta])* $variant:ident = $text:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )+
            /// A value not in the list above, kept as received.
            Other(String),
        }

        impl $name {
            /// The value for a text (unknown text becomes `Other`).
            pub fn from_text(s: &str) -> Self {
                match s {
                    $( $text $(| $alias)* => Self::$variant, )+
                    other => Self::Other(other.to_string()),
                }
            }

            /// The canonical text of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )+
                    Self::Other(s) => s.as_str(),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_text(s))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Ok(Self::from_text(&s))
            }
        }
    };
}
