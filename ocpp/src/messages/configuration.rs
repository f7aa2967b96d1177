//! Configuration in both versions: 1.6 GetConfiguration / ChangeConfiguration (flat keys) and
//! 2.0.1 GetVariables / SetVariables (component and variable), read and written in one shape:
//! a 2.0.1 key is `Component.Variable`. ClearCache (empty in both versions) is here too.

use chargegrid_core::command::{ConfigurationReport, ConfigurationValue};
use serde::{Deserialize, Serialize};

use super::RenderError;

/// 1.6 GetConfiguration.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetConfiguration {
    /// Keys wanted; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Vec<String>>,
}

/// 1.6 `KeyValue`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// Whether it is read-only.
    pub readonly: bool,
    /// Its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// 1.6 GetConfiguration.conf.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetConfigurationResponse {
    /// Known keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configuration_key: Vec<KeyValue>,
    /// Unknown keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_key: Vec<String>,
}

impl From<GetConfigurationResponse> for ConfigurationReport {
    fn from(r: GetConfigurationResponse) -> Self {
        ConfigurationReport {
            values: r
                .configuration_key
                .into_iter()
                .map(|k| ConfigurationValue {
                    key: k.key,
                    value: k.value,
                    readonly: Some(k.readonly),
                })
                .collect(),
            unknown: r.unknown_key,
        }
    }
}

/// 1.6 ChangeConfiguration.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeConfiguration {
    /// The key.
    pub key: String,
    /// The new value.
    pub value: String,
}

/// 2.0.1 `ComponentType` / `VariableType` (by name; instances and EVSEs are not addressed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    /// The name.
    pub name: String,
}

/// 2.0.1 `GetVariableDataType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetVariableData {
    /// The component.
    pub component: Named,
    /// The variable.
    pub variable: Named,
}

/// 2.0.1 GetVariablesRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetVariables {
    /// What is wanted.
    pub get_variable_data: Vec<GetVariableData>,
}

/// 2.0.1 `GetVariableResultType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetVariableResult {
    /// Accepted, Rejected, UnknownComponent, UnknownVariable, NotSupportedAttributeType.
    pub attribute_status: String,
    /// The value, when accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_value: Option<String>,
    /// The component.
    pub component: Named,
    /// The variable.
    pub variable: Named,
}

/// 2.0.1 GetVariablesResponse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetVariablesResponse {
    /// One result per variable asked for.
    pub get_variable_result: Vec<GetVariableResult>,
}

impl From<GetVariablesResponse> for ConfigurationReport {
    fn from(r: GetVariablesResponse) -> Self {
        let mut report = ConfigurationReport::default();
        for v in r.get_variable_result {
            let key = format!("{}.{}", v.component.name, v.variable.name);
            if v.attribute_status == "Accepted" {
                report.values.push(ConfigurationValue {
                    key,
                    value: v.attribute_value,
                    readonly: None,
                });
            } else {
                report.unknown.push(key);
            }
        }
        report
    }
}

/// 2.0.1 `SetVariableDataType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetVariableData {
    /// The new value.
    pub attribute_value: String,
    /// The component.
    pub component: Named,
    /// The variable.
    pub variable: Named,
}

/// 2.0.1 SetVariablesRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetVariables {
    /// What to set.
    pub set_variable_data: Vec<SetVariableData>,
}

/// 2.0.1 `SetVariableResultType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetVariableResult {
    /// Accepted, Rejected, UnknownComponent, UnknownVariable, NotSupportedAttributeType,
    /// RebootRequired.
    pub attribute_status: String,
    /// The component.
    pub component: Named,
    /// The variable.
    pub variable: Named,
}

/// 2.0.1 SetVariablesResponse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetVariablesResponse {
    /// One result per variable set.
    pub set_variable_result: Vec<SetVariableResult>,
}

/// The component and variable a 2.0.1 key (`Component.Variable`) names.
pub fn component_variable(key: &str) -> Result<(Named, Named), RenderError> {
    match key.split_once('.') {
        Some((c, v)) if !c.is_empty() && !v.is_empty() => {
            Ok((Named { name: c.into() }, Named { name: v.into() }))
        }
        _ => Err(RenderError::NotAVariable(key.to_string())),
    }
}

/// 2.0.1 GetBaseReport.req: asks for a device-model report (answered with NotifyReport parts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetBaseReport {
    /// Ties the NotifyReport parts to this request.
    pub request_id: i32,
    /// ConfigurationInventory, FullInventory or SummaryInventory.
    pub report_base: String,
}
