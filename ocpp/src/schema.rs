//! Validation against the official OCA JSON schemas (1.6: draft-04, 2.0.1: draft-06), embedded
//! in the crate ([`Schemas::embedded`], the default; source and terms in `ocpp/schemas/`) or
//! loaded from a directory at start-up. Each schema violation maps to the OCPP-J error code the spec defines for it:
//! wrong type → TypeConstraintViolation; missing field or too few/many items →
//! OccurrenceConstraintViolation; value out of its enum, range, length or format →
//! PropertyConstraintViolation; unexpected field → FormatViolation.

use std::collections::HashMap;
use std::path::Path;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;
use thiserror::Error;

use crate::{ErrorCode, OcppVersion};

/// The schema files, embedded by `build.rs`.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_schemas.rs"));
}

/// One way a payload breaks its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The CALLERROR code for it.
    pub code: ErrorCode,
    /// Where in the payload (JSON pointer).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// Whether it is only a value outside an enum or a format (the kinds the gateway may
    /// tolerate in queued transaction data, where refusing would make the charger retry
    /// forever).
    pub value_only: bool,
}

/// Why schemas could not be loaded.
#[derive(Debug, Error)]
pub enum SchemaError {
    /// The directory or a file could not be read.
    #[error("cannot read schemas in {path}: {source}")]
    Read {
        /// Where.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not a valid JSON schema.
    #[error("schema {path} is invalid: {message}")]
    Invalid {
        /// Which file.
        path: String,
        /// Why.
        message: String,
    },
    /// No schema files were found.
    #[error("no OCPP schemas found in {0}")]
    Empty(String),
}

/// Compiled validators for one OCPP version: requests and responses, each by action
/// (`BootNotification`), so a look-up builds no key.
pub struct SchemaSet {
    version: OcppVersion,
    requests: HashMap<String, jsonschema::Validator>,
    responses: HashMap<String, jsonschema::Validator>,
}

impl std::fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaSet")
            .field("version", &self.version)
            .field("schemas", &(self.requests.len() + self.responses.len()))
            .finish()
    }
}

impl SchemaSet {
    /// Loads every `*.json` schema in `dir` (1.6 and 2.0.1 file names both end in
    /// `Request`/`Response` or not; the stem without `Request` is the key).
    pub fn load(dir: &Path, version: OcppVersion) -> Result<Self, SchemaError> {
        let read_err = |source| SchemaError::Read {
            path: dir.display().to_string(),
            source,
        };
        let mut texts = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let path = entry.map_err(read_err)?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).map_err(|source| SchemaError::Read {
                path: path.display().to_string(),
                source,
            })?;
            texts.push((path.display().to_string(), stem.to_string(), text));
        }
        if texts.is_empty() {
            return Err(SchemaError::Empty(dir.display().to_string()));
        }
        Self::compile(
            version,
            texts
                .iter()
                .map(|(p, s, t)| (p.as_str(), s.as_str(), t.as_str())),
        )
    }

    /// The schemas built into the crate.
    pub fn embedded(version: OcppVersion) -> Result<Self, SchemaError> {
        let files = match version {
            OcppVersion::V16 => embedded::V16,
            OcppVersion::V201 => embedded::V201,
        };
        Self::compile(
            version,
            files.iter().map(|(stem, text)| (*stem, *stem, *text)),
        )
    }

    /// Compiles (origin, file stem, text) triples.
    fn compile<'a>(
        version: OcppVersion,
        files: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Result<Self, SchemaError> {
        let (mut requests, mut responses) = (HashMap::new(), HashMap::new());
        for (origin, stem, text) in files {
            let invalid = |message: String| SchemaError::Invalid {
                path: origin.to_string(),
                message,
            };
            let schema: Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(&schema)
                .map_err(|e| invalid(e.to_string()))?;
            match stem.strip_suffix("Response") {
                Some(action) => responses.insert(action.to_string(), validator),
                None => requests.insert(
                    stem.strip_suffix("Request").unwrap_or(stem).to_string(),
                    validator,
                ),
            };
        }
        Ok(Self {
            version,
            requests,
            responses,
        })
    }

    /// The version these schemas describe.
    pub fn version(&self) -> OcppVersion {
        self.version
    }

    /// Whether a schema for the request of `action` is loaded.
    pub fn knows(&self, action: &str) -> bool {
        self.requests.contains_key(action)
    }

    /// Checks a request payload of `action`; `None` when no schema is loaded for it.
    pub fn check_request(&self, action: &str, payload: &Value) -> Option<Vec<Violation>> {
        check(self.requests.get(action)?, payload)
    }

    /// Checks a response payload to `action`; `None` when no schema is loaded for it.
    pub fn check_response(&self, action: &str, payload: &Value) -> Option<Vec<Violation>> {
        check(self.responses.get(action)?, payload)
    }
}

/// The violations of `payload` (none when valid). The valid case, nearly every message, takes
/// the validator's quick yes/no; errors are collected only for a payload that fails it.
fn check(validator: &jsonschema::Validator, payload: &Value) -> Option<Vec<Violation>> {
    if validator.is_valid(payload) {
        return Some(Vec::new());
    }
    Some(
        validator
            .iter_errors(payload)
            .map(|e| violation(&e))
            .collect(),
    )
}

fn violation(e: &jsonschema::ValidationError<'_>) -> Violation {
    use ValidationErrorKind as K;
    let (code, value_only) = match e.kind() {
        K::Type { .. } => (ErrorCode::TypeConstraintViolation, false),
        K::Required { .. } | K::MinItems { .. } | K::MaxItems { .. } => {
            (ErrorCode::OccurrenceConstraintViolation, false)
        }
        K::AdditionalProperties { .. } | K::FalseSchema => (ErrorCode::FormatViolation, false),
        K::Enum { .. } | K::Format { .. } => (ErrorCode::PropertyConstraintViolation, true),
        _ => (ErrorCode::PropertyConstraintViolation, false),
    };
    Violation {
        code,
        path: e.instance_path().to_string(),
        message: e.to_string(),
        value_only,
    }
}

/// The schema sets of both versions, from one directory.
#[derive(Debug, Default)]
pub struct Schemas {
    v16: Option<SchemaSet>,
    v201: Option<SchemaSet>,
}

impl Schemas {
    /// Both versions' official schemas, built into the crate.
    pub fn embedded() -> Result<Self, SchemaError> {
        Ok(Self {
            v16: Some(SchemaSet::embedded(OcppVersion::V16)?),
            v201: Some(SchemaSet::embedded(OcppVersion::V201)?),
        })
    }

    /// Loads `root/v16` and `root/v201` (or `root/v16/schemas` and `root/v201/schemas`, the
    /// layout of the Python `ocpp` package). At least one version must be found.
    pub fn load(root: &Path) -> Result<Self, SchemaError> {
        let find = |name: &str| {
            [root.join(name).join("schemas"), root.join(name)]
                .into_iter()
                .find(|p| p.is_dir())
        };
        let v16 = find("v16")
            .map(|d| SchemaSet::load(&d, OcppVersion::V16))
            .transpose()?;
        let v201 = find("v201")
            .map(|d| SchemaSet::load(&d, OcppVersion::V201))
            .transpose()?;
        if v16.is_none() && v201.is_none() {
            return Err(SchemaError::Empty(format!(
                "{} (expected v16/ or v201/ inside)",
                root.display()
            )));
        }
        Ok(Self { v16, v201 })
    }

    /// The schemas of one version, if loaded.
    pub fn for_version(&self, version: OcppVersion) -> Option<&SchemaSet> {
        match version {
            OcppVersion::V16 => self.v16.as_ref(),
            OcppVersion::V201 => self.v201.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_embedded_schemas_refuse_what_an_independent_probe_sent() {
        let schemas = Schemas::embedded().unwrap();
        let v16 = schemas.for_version(OcppVersion::V16).unwrap();
        let v201 = schemas.for_version(OcppVersion::V201).unwrap();
        assert!(v16.knows("BootNotification") && v201.knows("TransactionEvent"));
        let exploded = json!({"connectorId": 1, "errorCode": "NoError", "status": "Exploded"});
        let v = v16.check_request("StatusNotification", &exploded).unwrap();
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].code, ErrorCode::PropertyConstraintViolation);
        let long_tag = json!({"idTag": "A".repeat(25)});
        let v = v16.check_request("Authorize", &long_tag).unwrap();
        assert_eq!(v[0].code, ErrorCode::PropertyConstraintViolation, "{v:?}");
        assert!(
            v16.check_request("Authorize", &json!({"idTag": "A".repeat(20)}))
                .unwrap()
                .is_empty()
        );
        let v = v201
            .check_request("Heartbeat", &json!({"extra": 1}))
            .unwrap();
        assert_eq!(v[0].code, ErrorCode::FormatViolation, "{v:?}");
        assert!(v201.check_response("Heartbeat", &json!({})).unwrap().len() == 1);
    }
}
