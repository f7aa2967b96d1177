//! Who is calling: opaque bearer tokens (stored only as SHA-256 hashes), Argon2 password
//! hashes, and the rules for what each role may see.

pub(crate) mod caller;
pub(crate) mod passwords;
pub(crate) mod tokens;

pub use caller::{Caller, Credential};
