//! Helpers for algorithm configs: a JSON object whose keys are the
//! algorithm's hyperparameters. The harness already rejects unknown keys and
//! wrong types before `create`; these helpers make a plugin safe on its own.

use crate::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Deserialize a config object into `T`: keys missing from `config` take
/// `T::default()`'s values; keys `T::default()` does not have are errors
/// that list the valid ones. (Checked here rather than with serde's
/// `deny_unknown_fields`, which cannot be combined with `flatten`, so
/// configs can share blocks of keys.)
pub fn parse_config<T: DeserializeOwned + Serialize + Default>(config: &Value) -> Result<T> {
    let Value::Object(mut merged) =
        serde_json::to_value(T::default()).map_err(|e| Error::new(e.to_string()))?
    else {
        return Err(Error::new("config type does not serialise to an object"));
    };
    match config {
        Value::Null => {}
        Value::Object(given) => {
            for (key, value) in given {
                if !merged.contains_key(key) {
                    let valid: Vec<&str> = merged.keys().map(String::as_str).collect();
                    return Err(Error::new(format!(
                        "unknown config key '{key}'; valid keys: {}",
                        valid.join(", ")
                    )));
                }
                merged.insert(key.clone(), value.clone());
            }
        }
        other => {
            return Err(Error::new(format!(
                "config must be a JSON object, got {other}"
            )));
        }
    }
    serde_json::from_value(Value::Object(merged))
        .map_err(|e| Error::new(format!("invalid config: {e}")))
}

/// Check that config key `key` lies in `[min, max]`, with an error that names
/// the key, the bad value and the valid range.
///
/// Numbers are shown in their shortest form (`Debug`): `1e308`, not the 309
/// digits `Display` writes for a large float.
pub fn check_range<T: PartialOrd + std::fmt::Debug>(
    key: &str,
    value: T,
    min: T,
    max: T,
) -> Result<()> {
    if value >= min && value <= max {
        Ok(())
    } else {
        Err(Error::new(format!(
            "config key '{key}' = {value:?} is out of range (valid: {min:?} ..= {max:?})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, serde::Serialize, Debug)]
    struct Cfg {
        steps: u32,
    }
    impl Default for Cfg {
        fn default() -> Self {
            Cfg { steps: 7 }
        }
    }

    #[test]
    fn defaults_fill_missing_keys_and_unknown_keys_are_named() {
        let c: Cfg = parse_config(&serde_json::json!({})).unwrap();
        assert_eq!(c.steps, 7);
        let e = parse_config::<Cfg>(&serde_json::json!({"stpes": 1})).unwrap_err();
        assert_eq!(e.0, "unknown config key 'stpes'; valid keys: steps");
        let e = parse_config::<Cfg>(&serde_json::json!({"steps": "many"})).unwrap_err();
        assert!(e.0.starts_with("invalid config"), "{e}");
    }

    #[test]
    fn range_errors_name_key_value_and_range() {
        assert!(check_range("delta", 0.01, 0.0, 1.0).is_ok());
        let e = check_range("delta", 2.0, 0.0, 1.0).unwrap_err();
        assert_eq!(
            e.0,
            "config key 'delta' = 2.0 is out of range (valid: 0.0 ..= 1.0)"
        );
        let e = check_range("max_kl", 1e308, 1e-9, 1.0).unwrap_err();
        assert_eq!(
            e.0,
            "config key 'max_kl' = 1e308 is out of range (valid: 1e-9 ..= 1.0)"
        );
        let e = check_range("steps", 0u64, 1, 1_000_000).unwrap_err();
        assert!(
            e.0.contains("= 0 is out of range (valid: 1 ..= 1000000)"),
            "{e}"
        );
    }
}
