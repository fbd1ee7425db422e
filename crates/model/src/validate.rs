//! Limits on what members type, checked before anything is written.

use crate::SchemaError;

/// A single line: not empty after trimming, at most `max` characters, no line breaks.
pub fn line(field: &'static str, text: &str, max: usize) -> Result<(), SchemaError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(SchemaError::Input {
            field,
            problem: "must not be empty".into(),
        });
    }
    if t.contains(['\n', '\r']) {
        return Err(SchemaError::Input {
            field,
            problem: "must be a single line".into(),
        });
    }
    too_long(field, t, max)
}

/// Free text: at most `max` characters (may be empty).
pub fn paragraph(field: &'static str, text: &str, max: usize) -> Result<(), SchemaError> {
    too_long(field, text, max)
}

/// Free text that must say something.
pub fn body(field: &'static str, text: &str, max: usize) -> Result<(), SchemaError> {
    if text.trim().is_empty() {
        return Err(SchemaError::Input {
            field,
            problem: "must not be empty".into(),
        });
    }
    too_long(field, text, max)
}

fn too_long(field: &'static str, text: &str, max: usize) -> Result<(), SchemaError> {
    let n = text.chars().count();
    if n > max {
        return Err(SchemaError::Input {
            field,
            problem: format!("is {n} characters long; the limit is {max}"),
        });
    }
    Ok(())
}

/// Normalises tags: trimmed, lower-case, `#` dropped, duplicates removed, order kept.
pub fn tags(tags: &[String]) -> Result<Vec<String>, SchemaError> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let norm = t.trim().trim_start_matches('#').trim().to_lowercase();
        if norm.is_empty() {
            continue;
        }
        line("tag", &norm, 60)?;
        if !out.contains(&norm) {
            out.push(norm);
        }
    }
    if out.len() > 20 {
        return Err(SchemaError::Input {
            field: "tags",
            problem: format!("are {} in number; the limit is 20", out.len()),
        });
    }
    Ok(out)
}
