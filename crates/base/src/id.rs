use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_NOPAD;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::ParseIdError;

/// Lower-case RFC 4648 base32 without padding: the copyable form of every id.
pub fn encode_base32(bytes: &[u8]) -> String {
    BASE32_NOPAD.encode(bytes).to_ascii_lowercase()
}

pub(crate) fn decode_base32<const N: usize>(
    what: &'static str,
    text: &str,
) -> Result<[u8; N], ParseIdError> {
    let upper = text.trim().to_ascii_uppercase();
    let expected = BASE32_NOPAD.encode_len(N);
    if upper.len() != expected {
        return Err(ParseIdError::WrongLength {
            what,
            text: text.to_owned(),
            expected,
        });
    }
    let bytes = BASE32_NOPAD
        .decode(upper.as_bytes())
        .map_err(|_| ParseIdError::NotBase32 {
            what,
            text: text.to_owned(),
        })?;
    bytes.try_into().map_err(|_| ParseIdError::WrongLength {
        what,
        text: text.to_owned(),
        expected,
    })
}

/// `N` random bytes from the given generator.
pub fn random_bytes<const N: usize>(rng: &mut (impl Rng + ?Sized)) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill_bytes(&mut out);
    out
}

macro_rules! id16 {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
        pub struct $name([u8; 16]);

        impl $name {
            /// The id's bytes.
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }
            /// The id's bytes.
            pub const fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }
            /// A fresh random id.
            pub fn random(rng: &mut (impl Rng + ?Sized)) -> Self {
                Self(random_bytes(rng))
            }
            /// The first eight characters, for logs and compact lists.
            pub fn short(&self) -> String {
                let mut s = self.to_string();
                s.truncate(8);
                s
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&encode_base32(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                decode_base32::<16>($what, s).map(Self)
            }
        }

        // Text formats (JSON for the app and the CLI) carry the base32 form; binary formats
        // (postcard on disk and on the wire) the 16 bytes, exactly as before.
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.serialize_str(&self.to_string())
                } else {
                    s.serialize_newtype_struct(stringify!($name), &self.0)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let s = String::deserialize(d)?;
                    s.parse().map_err(serde::de::Error::custom)
                } else {
                    struct V;
                    impl<'de> serde::de::Visitor<'de> for V {
                        type Value = [u8; 16];
                        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                            f.write_str("16 id bytes")
                        }
                        fn visit_newtype_struct<D: serde::Deserializer<'de>>(
                            self,
                            d: D,
                        ) -> Result<[u8; 16], D::Error> {
                            <[u8; 16]>::deserialize(d)
                        }
                    }
                    d.deserialize_newtype_struct(stringify!($name), V).map(Self)
                }
            }
        }
    };
}

id16!(
    /// A community. Derived from its founder's key and a nonce, see `Genesis` in the model.
    CommunityId,
    "community id"
);
id16!(
    /// One Automerge document: a thread, a repertoire entry, or a community's charter and roster.
    DocId,
    "document id"
);
id16!(
    /// One reply within a thread.
    PostId,
    "post id"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn id_text_round_trips(bytes in any::<[u8; 16]>()) {
            let id = DocId::from_bytes(bytes);
            let text = id.to_string();
            prop_assert_eq!(text.len(), 26);
            prop_assert_eq!(text.parse::<DocId>().unwrap(), id);
            prop_assert_eq!(text.to_uppercase().parse::<DocId>().unwrap(), id);
        }

        #[test]
        fn garbage_never_panics(text in ".{0,40}") {
            let _ = text.parse::<CommunityId>();
        }
    }

    #[test]
    fn wrong_length_is_named() {
        let err = "abc".parse::<PostId>().unwrap_err();
        assert!(err.to_string().contains("expected 26 characters"), "{err}");
    }
}

#[cfg(test)]
mod serde_tests {
    use super::*;

    #[test]
    fn ids_are_text_in_json_and_bytes_in_postcard() {
        let id = DocId::from_bytes([7; 16]);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<DocId>(&json).unwrap(), id);
        let bin = postcard::to_stdvec(&id).unwrap();
        assert_eq!(bin, vec![7; 16]);
        assert_eq!(postcard::from_bytes::<DocId>(&bin).unwrap(), id);
    }
}
