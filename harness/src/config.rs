//! Resolving an algorithm's config: its defaults, then `--config FILE.toml`,
//! then each `--set key=value`, in that order. Unknown keys and values of the
//! wrong type are rejected here, naming the key and the valid choices, so
//! every plugin (C ones included) gets the same checks; ranges are checked
//! by the plugin itself at `create`.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};
use std::path::Path;

/// The resolved config of algorithm `algo` (for error messages).
pub fn resolve(
    algo: &str,
    defaults: &Map<String, Value>,
    file: Option<&Path>,
    sets: &[String],
) -> Result<Map<String, Value>> {
    let mut config = defaults.clone();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("config file {}", path.display()))?;
        let table: toml::Table =
            toml::from_str(&text).map_err(|e| anyhow!("config file {}: {e}", path.display()))?;
        for (key, value) in table {
            let value = serde_json::to_value(value)?;
            set(algo, &mut config, defaults, &key, value)
                .with_context(|| format!("config file {}", path.display()))?;
        }
    }
    for assignment in sets {
        let (key, text) = assignment
            .split_once('=')
            .ok_or_else(|| anyhow!("--set '{assignment}' is not of the form key=value"))?;
        // JSON for numbers, booleans, arrays and quoted strings; anything else is a bare string.
        let value =
            serde_json::from_str(text.trim()).unwrap_or_else(|_| Value::String(text.to_string()));
        set(algo, &mut config, defaults, key.trim(), value)?;
    }
    Ok(config)
}

fn set(
    algo: &str,
    config: &mut Map<String, Value>,
    defaults: &Map<String, Value>,
    key: &str,
    value: Value,
) -> Result<()> {
    let Some(default) = defaults.get(key) else {
        let valid: Vec<&str> = defaults.keys().map(String::as_str).collect();
        bail!(
            "unknown config key '{key}' for algorithm '{algo}'; valid keys: {}",
            if valid.is_empty() {
                "(none)".to_string()
            } else {
                valid.join(", ")
            }
        );
    };
    let expected = match default {
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
        Value::Null => "",
    };
    let fits = match (default, &value) {
        (Value::Null, _) => true,
        (Value::Bool(_), Value::Bool(_)) | (Value::String(_), Value::String(_)) => true,
        (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => true,
        (Value::Number(d), Value::Number(v)) => d.is_f64() || !v.is_f64(),
        _ => false,
    };
    if !fits {
        bail!("config key '{key}' of algorithm '{algo}' expects {expected}, got {value}");
    }
    config.insert(key.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaults() -> Map<String, Value> {
        json!({"steps": 10, "delta": 0.01, "sampling": "single-path", "normalize": true})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn sets_override_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "delta = 0.02\nsteps = 5\n").unwrap();
        let c = resolve(
            "trpo",
            &defaults(),
            Some(&file),
            &["steps=7".into(), "sampling=vine".into()],
        )
        .unwrap();
        assert_eq!(c["delta"], json!(0.02));
        assert_eq!(c["steps"], json!(7));
        assert_eq!(c["sampling"], json!("vine"));
        assert_eq!(c["normalize"], json!(true));
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_key() {
        let e = resolve("trpo", &defaults(), None, &["detla=0.1".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'detla'") && e.contains("valid keys: delta, normalize, sampling, steps"),
            "{e}"
        );
        let e = resolve("trpo", &defaults(), None, &["steps=0.5".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("'steps'") && e.contains("an integer"), "{e}");
        let e = resolve("trpo", &defaults(), None, &["normalize=yes".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("a boolean"), "{e}");
        assert!(resolve("trpo", &defaults(), None, &["delta".into()]).is_err());
        // An integer is a fine value for a float key.
        assert_eq!(
            resolve("trpo", &defaults(), None, &["delta=1".into()]).unwrap()["delta"],
            json!(1)
        );
    }
}
