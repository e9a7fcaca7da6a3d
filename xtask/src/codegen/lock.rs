//! The proto field lock (`proto/tim/v1/fields.lock`): every field number the declarations ever gave a generated
//! message, so that a declaration edit cannot renumber a field, reuse a number or drop a field that clients built
//! from an earlier `proto/` still send. New fields are added to the lock when the files are generated; a change
//! to a locked field fails generation (and so `cargo xtask codegen --check` and the up-to-date test).

use super::schema::Group;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Where the lock lives, relative to the workspace root.
pub(crate) const LOCK: &str = "proto/tim/v1/fields.lock";

/// `Message.field` → number, for every field of every generated message.
fn current(groups: &[Group]) -> BTreeMap<String, u32> {
    let mut fields = BTreeMap::new();
    for group in groups {
        for s in &group.structs {
            if let Some(message) = s.message() {
                for f in &s.fields {
                    if let Some(number) = f.number {
                        fields.insert(format!("{message}.{}", f.proto_name()), number);
                    }
                }
            }
        }
        for c in &group.commands {
            let message = c.response_message();
            if let Some(body) = c.response.as_deref().and_then(|b| group.find(b)) {
                for f in &body.fields {
                    if let Some(number) = f.number {
                        fields.insert(format!("{message}.{}", f.proto_name()), number);
                    }
                }
            }
            if let Some(echo) = &c.echo {
                fields.insert(format!("{message}.{}", echo.proto), echo.number);
            }
        }
    }
    fields
}

/// Reads a lock's text: `Message.field = number` lines; `#` starts a comment.
fn parse(text: &str) -> Result<BTreeMap<String, u32>, String> {
    let mut fields = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let (name, number) =
            line.split_once('=').ok_or_else(|| format!("{LOCK}:{}: not `Message.field = N`", i + 1))?;
        let number =
            number.trim().parse().map_err(|_| format!("{LOCK}:{}: {:?} is not a number", i + 1, number.trim()))?;
        fields.insert(name.trim().to_owned(), number);
    }
    Ok(fields)
}

/// The lock after this generation: the old one plus the new fields. Fails, naming each, when a locked field has
/// another number now or is gone (renamed or removed; a number it had cannot be reused then either, as the
/// declarations' own check refuses two fields of one number).
pub(crate) fn update(old_text: Option<&str>, groups: &[Group]) -> Result<String, String> {
    let old = match old_text {
        Some(text) => parse(text)?,
        None => BTreeMap::new(),
    };
    let now = current(groups);
    let mut problems = Vec::new();
    for (name, number) in &old {
        match now.get(name) {
            Some(n) if n == number => {}
            Some(n) => problems.push(format!("{name} was {number} and is now {n}: a field's number never changes")),
            None => problems.push(format!(
                "{name} ({number}) is no longer declared: clients built from an earlier proto/ still use it, so it stays"
            )),
        }
    }
    if !problems.is_empty() {
        return Err(format!("the proto field lock {LOCK} refuses the declarations:\n  {}", problems.join("\n  ")));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Every field number of the generated proto messages. Written by `cargo xtask codegen`, which adds new"
    );
    let _ = writeln!(
        out,
        "# fields and refuses a declaration that renumbers, reuses or drops a locked one. Commit it with the"
    );
    let _ = writeln!(out, "# declarations; never edit a line by hand.");
    let mut all = old;
    all.extend(now);
    for (name, number) in &all {
        let _ = writeln!(out, "{name} = {number}");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(fields: &str) -> Vec<Group> {
        let text = format!(
            r#"module = "m"
table_group = "G"
proto = {{ file = "f", service = "S" }}

[[command]]
id = "X"
rpc = "X"
request = "XRequest"

[[struct]]
name = "XRequest"
doc = "d"
field = [{fields}]
"#
        );
        let mut group: Group = toml::from_str(&text).unwrap();
        group.resolve(&BTreeMap::from([("X".to_owned(), ("v4/a/x".to_owned(), "G".to_owned()))])).unwrap();
        vec![group]
    }

    const TWO: &str = r#"{ wire = "A", type = "string", doc = "a", number = 1 }, { wire = "B", type = "u32", doc = "b", number = 2 }"#;

    #[test]
    fn new_fields_are_locked_and_kept() {
        let first = update(None, &groups(TWO)).unwrap();
        assert!(first.contains("XRequest.a = 1\nXRequest.b = 2\n"), "{first}");
        let more = format!(r#"{TWO}, {{ wire = "C", type = "bool", doc = "c", number = 3 }}"#);
        let second = update(Some(&first), &groups(&more)).unwrap();
        assert!(second.contains("XRequest.c = 3"), "{second}");
        assert_eq!(update(Some(&second), &groups(&more)).unwrap(), second, "a lock that agrees is left as it is");
    }

    #[test]
    fn a_renumbered_or_dropped_field_is_refused() {
        let lock = update(None, &groups(TWO)).unwrap();
        let renumbered = r#"{ wire = "A", type = "string", doc = "a", number = 1 }, { wire = "B", type = "u32", doc = "b", number = 3 }"#;
        let error = update(Some(&lock), &groups(renumbered)).unwrap_err();
        assert!(error.contains("XRequest.b was 2 and is now 3"), "{error}");
        let dropped = r#"{ wire = "A", type = "string", doc = "a", number = 1 }"#;
        let error = update(Some(&lock), &groups(dropped)).unwrap_err();
        assert!(error.contains("XRequest.b (2) is no longer declared"), "{error}");
        let renamed = r#"{ wire = "A", type = "string", doc = "a", number = 1 }, { wire = "Bee", type = "u32", doc = "b", number = 2 }"#;
        let error = update(Some(&lock), &groups(renamed)).unwrap_err();
        assert!(error.contains("XRequest.b (2) is no longer declared"), "{error}");
    }
}
