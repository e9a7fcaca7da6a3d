//! The generators: declarations in, source text out. Each output is plain, formatted code (rustfmt's style for
//! Rust), so that a generated file reads like a hand-written one and diffs well.

use super::schema::{Command, Echo, Field, Group, Struct, Ty, request_side, response_side};
use super::{header, snake_case};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Appends `text` as comment lines with `prefix` (`///`, `//`), one per line, at `indent`.
fn doc(out: &mut String, indent: &str, prefix: &str, text: &str) {
    for line in text.trim().lines() {
        let line = line.trim_end();
        if line.is_empty() {
            let _ = writeln!(out, "{indent}{prefix}");
        } else {
            let _ = writeln!(out, "{indent}{prefix} {line}");
        }
    }
}

// ---------------------------------------------------------------- the model

fn rust_type(group: &Group, ty: &Ty) -> String {
    match ty {
        Ty::String => "String".into(),
        Ty::Bool => "bool".into(),
        Ty::Int(name) => (*name).into(),
        Ty::UserId => "crate::UserId".into(),
        Ty::GroupId => "crate::GroupId".into(),
        Ty::TextOrNumber => "crate::TextOrNumber".into(),
        Ty::Map => "std::collections::BTreeMap<String, String>".into(),
        Ty::Value(name) => group.value(name).rust.clone(),
        Ty::Struct(name) => name.clone(),
        Ty::List(inner) => format!("Vec<{}>", rust_type(group, inner)),
    }
}

fn field_type(group: &Group, field: &Field) -> String {
    let ty = rust_type(group, &field.ty());
    if field.optional { format!("Option<{ty}>") } else { ty }
}

/// Whether `s` can derive `Eq`: none of its values, nor those of its items, is `PartialEq` only.
fn is_eq(group: &Group, s: &Struct, depth: usize) -> bool {
    s.fields.iter().all(|f| match f.ty().element() {
        Ty::Value(name) => group.value(name).eq,
        Ty::Struct(name) => depth > 16 || group.find(name).is_none_or(|inner| is_eq(group, inner, depth + 1)),
        _ => true,
    })
}

/// Whether checking `s` does anything (its own limits, or those of the items it holds).
fn has_checks(group: &Group, s: &Struct, depth: usize) -> bool {
    if s.rules || !s.one_of.is_empty() {
        return true;
    }
    s.fields.iter().any(|f| {
        f.count.is_some()
            || f.max_bytes.is_some()
            || f.range.is_some()
            || f.allowed.is_some()
            || f.required
            || f.non_empty
            || match f.ty().element() {
                Ty::Value(name) => group.value(name).check.is_some(),
                Ty::Struct(name) => {
                    depth < 16 && group.find(name).is_some_and(|inner| has_checks(group, inner, depth + 1))
                }
                _ => false,
            }
    })
}

/// The checks of one field, relative to the checker's path.
/// The checks of a field's own value, relative to the checker's path (those of the items it holds come after the
/// struct's rules: see [`item_checks`]).
fn field_checks(group: &Group, out: &mut String, f: &Field) {
    let wire = &f.wire;
    let name = f.rust_name();
    if f.required {
        let _ = writeln!(out, "        c.required({wire:?}, &self.{name});");
    }
    if f.non_empty {
        let test = if f.optional {
            format!("self.{name}.as_deref() == Some(\"\")")
        } else {
            format!("self.{name}.is_empty()")
        };
        let _ = writeln!(out, "        if {test} {{");
        let _ = writeln!(out, "            c.fail({wire:?}, crate::Problem::Empty);");
        let _ = writeln!(out, "        }}");
    }
    if let Ty::Value(value) = f.ty()
        && let Some(check) = &group.value(&value).check
    {
        if f.optional {
            let _ = writeln!(out, "        if let Some(value) = &self.{name} {{");
            let _ = writeln!(out, "            c.at({wire:?}, |c| {check}(c, value));");
            let _ = writeln!(out, "        }}");
        } else {
            let _ = writeln!(out, "        c.at({wire:?}, |c| {check}(c, &self.{name}));");
        }
    }
    if let Some([min, max]) = &f.count {
        let (min, max) = (min, max);
        if f.optional {
            let _ = writeln!(out, "        if let Some(list) = &self.{name} {{");
            let _ = writeln!(out, "            c.count({wire:?}, list.len(), {min}, {max});");
            let _ = writeln!(out, "        }}");
        } else {
            let _ = writeln!(out, "        c.count({wire:?}, self.{name}.len(), {min}, {max});");
        }
    }
    if let Some(max) = &f.max_bytes {
        let value = if f.optional { format!("self.{name}.as_deref()") } else { format!("Some(&self.{name})") };
        let _ = writeln!(out, "        c.max_bytes({wire:?}, {value}, {});", max);
    }
    if let Some([min, max]) = &f.range {
        let value =
            if f.optional { format!("self.{name}.map(i128::from)") } else { format!("Some(i128::from(self.{name}))") };
        let _ = writeln!(out, "        c.range({wire:?}, {value}, {}, {});", min, max);
    }
    if let Some(allowed) = &f.allowed {
        let value = if f.optional { format!("self.{name}") } else { format!("Some(self.{name})") };
        let list = allowed.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
        let _ = writeln!(out, "        c.one_of({wire:?}, {value}, &[{list}], {:?});", f.allowed_doc);
    }
}

/// The checks of the declared items a field holds, at their paths under the field.
fn item_checks(group: &Group, out: &mut String, f: &Field) {
    let wire = &f.wire;
    let name = f.rust_name();
    if let Ty::Struct(inner) = f.ty().element()
        && group.find(inner).is_some_and(|s| has_checks(group, s, 0))
    {
        match (f.ty(), f.optional) {
            (Ty::List(_), false) => {
                let _ = writeln!(out, "        for (i, item) in self.{name}.iter().enumerate() {{");
                let _ = writeln!(out, "            c.at(&format!(\"{wire}[{{i}}]\"), |c| item.check(c));");
                let _ = writeln!(out, "        }}");
            }
            (Ty::List(_), true) => {
                let _ = writeln!(out, "        for (i, item) in self.{name}.iter().flatten().enumerate() {{");
                let _ = writeln!(out, "            c.at(&format!(\"{wire}[{{i}}]\"), |c| item.check(c));");
                let _ = writeln!(out, "        }}");
            }
            (_, false) => {
                let _ = writeln!(out, "        c.at({wire:?}, |c| self.{name}.check(c));");
            }
            (_, true) => {
                let _ = writeln!(out, "        if let Some(item) = &self.{name} {{");
                let _ = writeln!(out, "            c.at({wire:?}, |c| item.check(c));");
                let _ = writeln!(out, "        }}");
            }
        }
    }
}

/// The module of a declared group's types.
pub(crate) fn model(group: &Group) -> Result<String, String> {
    let mut out = header("//", &group.source);
    let _ = writeln!(out, "//! The declared part of [`super`]: types, documented limits and their checks.");
    let _ = writeln!(out);
    for c in &group.consts {
        doc(&mut out, "", "///", &c.doc);
        let _ = writeln!(out, "pub const {}: {} = {};", c.name, c.ty, c.value);
        let _ = writeln!(out);
    }
    let requests: BTreeSet<&str> = group.commands.iter().map(|c| c.request.as_str()).collect();
    for s in &group.structs {
        let answer = response_side(group, &s.name);
        let defaultable = answer
            && s.fields.iter().all(|f| {
                f.optional
                    || match f.ty() {
                        Ty::UserId | Ty::GroupId | Ty::TextOrNumber | Ty::Struct(_) => false,
                        Ty::Value(name) => group.value(&name).repeated,
                        _ => true,
                    }
            });
        doc(&mut out, "", "///", &s.doc);
        let default = if defaultable { "Default, " } else { "" };
        let eq = if is_eq(group, s, 0) { "Eq, " } else { "" };
        let _ = writeln!(out, "#[derive(Debug, Clone, {default}PartialEq, {eq}serde::Serialize, serde::Deserialize)]");
        let _ = writeln!(out, "pub struct {} {{", s.name);
        for f in &s.fields {
            doc(&mut out, "    ", "///", &f.doc);
            let name = match &f.alias {
                Some(alias) => format!("rename = {:?}, alias = {alias:?}", f.wire),
                None => format!("rename = {:?}", f.wire),
            };
            let mut attrs = if f.optional {
                format!("{name}, default, skip_serializing_if = \"Option::is_none\"")
            } else if f.default {
                format!("{name}, default")
            } else {
                name
            };
            if let Some(function) = &f.deserialize_with {
                attrs.push_str(&format!(", deserialize_with = {function:?}"));
            }
            let _ = writeln!(out, "    #[serde({attrs})]");
            let _ = writeln!(out, "    pub {}: {},", f.rust_name(), field_type(group, f));
        }
        if s.extra {
            let how = if answer && !request_side(group, &s.name) { "kept as they came" } else { "sent as they are" };
            let _ = writeln!(out, "    /// Fields this version of tim does not know, {how}.");
            let _ = writeln!(out, "    #[serde(flatten)]");
            let _ = writeln!(out, "    pub extra: crate::Extra,");
        }
        let _ = writeln!(out, "}}");
        let _ = writeln!(out);
        // Answers are not checked: what the service says is taken as it comes.
        let checked = has_checks(group, s, 0) && request_side(group, &s.name);
        if checked {
            let _ = writeln!(out, "impl {} {{", s.name);
            let _ = writeln!(out, "    /// Checks the documented rules of this value at the checker's current path.");
            let _ = writeln!(out, "    pub(crate) fn check(&self, c: &mut crate::validate::Checker) {{");
            one_of(&mut out, s);
            for f in &s.fields {
                field_checks(group, &mut out, f);
            }
            if s.rules {
                let _ = writeln!(out, "        self.rules(c);");
            }
            for f in &s.fields {
                item_checks(group, &mut out, f);
            }
            let _ = writeln!(out, "    }}");
            let _ = writeln!(out, "}}");
            let _ = writeln!(out);
        }
        if requests.contains(s.name.as_str()) {
            let _ = writeln!(out, "impl crate::validate::Validate for {} {{", s.name);
            let _ = writeln!(out, "    fn validate(&self) -> Result<(), crate::ValidationErrors> {{");
            if checked {
                let _ = writeln!(out, "        let mut c = crate::validate::Checker::default();");
                let _ = writeln!(out, "        self.check(&mut c);");
                let _ = writeln!(out, "        c.finish()");
            } else {
                let _ = writeln!(out, "        Ok(())");
            }
            let _ = writeln!(out, "    }}");
            let _ = writeln!(out, "}}");
            let _ = writeln!(out);
        }
    }
    for command in &group.commands {
        let response = match &command.response {
            Some(body) => format!("crate::envelope::Response<{body}>"),
            None => "crate::envelope::EmptyResponse".into(),
        };
        let _ = writeln!(out, "impl crate::api::TypedRequest for {} {{", command.request);
        let _ =
            writeln!(out, "    const COMMAND: crate::command::CommandId = crate::command::CommandId::{};", command.id);
        let _ = writeln!(out, "    type Response = {response};");
        let request = group.find(&command.request).expect("checked when read");
        key_methods(group, &mut out, request);
        let _ = writeln!(out, "}}");
        let _ = writeln!(out);
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    Ok(out)
}

/// `key_fields`, `dedupe_key` and `recipients` of a request, from its fields' `key`, `dedupe` and `recipients`
/// (keys of the items of a list are named `List[].Key`).
fn key_methods(group: &Group, out: &mut String, request: &Struct) {
    let kind = |f: &Field, slot: &str| match f.key.as_deref() {
        Some("drawn") => format!("crate::api::KeyField::Drawn(&mut {slot})"),
        _ => "crate::api::KeyField::Given".to_owned(),
    };
    let mut top = Vec::new();
    let mut nested = Vec::new();
    for f in &request.fields {
        if f.key.is_some() {
            top.push(format!("({:?}, {})", f.wire, kind(f, &format!("self.{}", f.rust_name()))));
        }
        if let Ty::List(inner) = f.ty()
            && let Ty::Struct(name) = inner.as_ref()
            && let Some(item) = group.find(name)
        {
            for k in item.fields.iter().filter(|k| k.key.is_some()) {
                let iter = if f.optional { ".iter_mut().flatten()" } else { ".iter_mut()" };
                nested.push(format!(
                    "self.{}{iter}.map(|item| ({:?}, {}))",
                    f.rust_name(),
                    format!("{}[].{}", f.wire, k.wire),
                    kind(k, &format!("item.{}", k.rust_name()))
                ));
            }
        }
    }
    let body = match (top.is_empty(), nested.as_slice()) {
        (true, []) => None,
        (false, []) => Some(format!("        vec![{}]", top.join(", "))),
        (true, [only]) => Some(format!("        {only}.collect()")),
        _ => {
            let mut text = format!("        let mut keys = vec![{}];\n", top.join(", "));
            for list in &nested {
                text.push_str(&format!("        keys.extend({list});\n"));
            }
            text.push_str("        keys");
            Some(text)
        }
    };
    if let Some(body) = body {
        let _ = writeln!(out);
        let _ = writeln!(out, "    fn key_fields(&mut self) -> Vec<(&'static str, crate::api::KeyField<'_>)> {{");
        let _ = writeln!(out, "{body}");
        let _ = writeln!(out, "    }}");
    }
    if let Some(f) = request.fields.iter().find(|f| f.dedupe) {
        let _ = writeln!(out);
        let _ = writeln!(out, "    fn dedupe_key(&self) -> Option<u32> {{");
        let _ = writeln!(out, "        self.{}", f.rust_name());
        let _ = writeln!(out, "    }}");
    }
    if let Some(f) = request.fields.iter().find(|f| f.recipients) {
        let len = if f.optional {
            format!("self.{}.as_ref().map_or(0, Vec::len)", f.rust_name())
        } else {
            format!("self.{}.len()", f.rust_name())
        };
        let _ = writeln!(out);
        let _ = writeln!(out, "    fn recipients(&self) -> u32 {{");
        let _ = writeln!(out, "        u32::try_from({len}).unwrap_or(u32::MAX)");
        let _ = writeln!(out, "    }}");
    }
}

/// Exactly one of the struct's `one_of` fields: none is reported at the first, a second at itself.
fn one_of(out: &mut String, s: &Struct) {
    if s.one_of.is_empty() {
        return;
    }
    let present = |wire: &str| {
        let f = s.fields.iter().find(|f| f.wire == wire).expect("checked when read");
        format!("self.{}.is_some()", f.rust_name())
    };
    let all = s.one_of.iter().map(|w| present(w)).collect::<Vec<_>>().join(" || ");
    let _ = writeln!(out, "        if !({all}) {{");
    let _ = writeln!(out, "            c.fail({:?}, crate::Problem::Missing);", s.one_of[0]);
    let _ = writeln!(out, "        }}");
    for (j, later) in s.one_of.iter().enumerate().skip(1) {
        for earlier in &s.one_of[..j] {
            let _ = writeln!(out, "        if {} && {} {{", present(earlier), present(later));
            let message = format!("cannot be combined with {earlier}: send one form");
            let _ = writeln!(out, "            c.fail({later:?}, crate::Problem::Rule({message:?}));");
            let _ = writeln!(out, "        }}");
        }
    }
}

// ---------------------------------------------------------------- the proto

fn proto_scalar(ty: &Ty, group: &Group) -> String {
    match ty {
        Ty::String | Ty::UserId | Ty::GroupId => "string".into(),
        Ty::Bool => "bool".into(),
        Ty::Int("u32") => "uint32".into(),
        Ty::Int("u64") => "uint64".into(),
        Ty::Int("i32") => "int32".into(),
        Ty::Int(_) => "int64".into(),
        Ty::TextOrNumber => "TextOrNumber".into(),
        Ty::Map => "map<string, string>".into(),
        Ty::Value(name) => group.value(name).proto.clone(),
        Ty::Struct(name) => group.find(name).and_then(Struct::message).unwrap_or_else(|| name.clone()),
        Ty::List(inner) => proto_scalar(inner, group),
    }
}

/// The proto type of a field, with its label.
fn proto_field_type(group: &Group, f: &Field) -> String {
    let ty = f.ty();
    if let Some(inner_wire) = &f.flatten {
        let item = match ty.element() {
            Ty::Struct(name) => group.find(name).expect("checked when read"),
            _ => unreachable!("checked when read"),
        };
        let only = item.fields.iter().find(|x| &x.wire == inner_wire).expect("checked when read");
        return format!("repeated {}", proto_scalar(&only.ty(), group));
    }
    match &ty {
        Ty::List(inner) => format!("repeated {}", proto_scalar(inner, group)),
        Ty::Value(name) if group.value(name).repeated => format!("repeated {}", proto_scalar(&ty, group)),
        Ty::Map | Ty::TextOrNumber => proto_scalar(&ty, group),
        Ty::Struct(_) if !f.optional => proto_scalar(&ty, group),
        Ty::Value(name) if !f.optional && group.value(name).is_message() => proto_scalar(&ty, group),
        _ if f.optional => format!("optional {}", proto_scalar(&ty, group)),
        _ => proto_scalar(&ty, group),
    }
}

fn proto_message(out: &mut String, group: &Group, name: &str, comment: &str, fields: &[Field], echo: Option<&Echo>) {
    let _ = writeln!(out);
    doc(out, "", "//", comment);
    // (number, comment, declaration), in the order of the numbers.
    let mut lines: Vec<(u32, &str, String)> = fields
        .iter()
        .filter_map(|f| {
            let number = f.number?;
            let comment = if f.proto_doc.is_empty() { &f.doc } else { &f.proto_doc };
            Some((number, comment.as_str(), format!("{} {} = {number};", proto_field_type(group, f), f.proto_name())))
        })
        .collect();
    if let Some(echo) = echo {
        lines.push((echo.number, &echo.doc, format!("uint32 {} = {};", echo.proto, echo.number)));
    }
    lines.sort_by_key(|(number, _, _)| *number);
    if lines.is_empty() {
        let _ = writeln!(out, "message {name} {{}}");
        return;
    }
    let _ = writeln!(out, "message {name} {{");
    for (_, comment, line) in lines {
        doc(out, "  ", "//", comment);
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "}}");
}

/// The structs with proto messages that `fields` use, depth first, not yet emitted.
fn nested<'a>(group: &'a Group, fields: &[Field], done: &mut BTreeSet<String>, order: &mut Vec<&'a Struct>) {
    for f in fields.iter().filter(|f| f.number.is_some() && f.flatten.is_none()) {
        if let Ty::Struct(name) = f.ty().element()
            && let Some(s) = group.find(name)
            && s.message().is_some()
            && done.insert(s.name.clone())
        {
            order.push(s);
            nested(group, &s.fields, done, order);
        }
    }
}

/// The proto file of a declared group: the service, then each command's request, answer and the messages they use.
pub(crate) fn proto(groups: &[&Group]) -> Result<String, String> {
    let first = groups.first().ok_or("a proto file needs a group")?;
    let p = &first.proto;
    let pick = |get: fn(&Group) -> &str| groups.iter().map(|g| get(g)).find(|text| !text.is_empty()).unwrap_or("");
    let mut out = String::new();
    doc(&mut out, "", "//", pick(|g| &g.proto.doc));
    let sources: Vec<&str> = groups.iter().map(|g| g.source.as_str()).collect();
    out.push_str(&header("//", &sources.join(", ")));
    let _ = writeln!(out, "syntax = \"proto3\";");
    let _ = writeln!(out);
    let _ = writeln!(out, "package tim.v1;");
    let _ = writeln!(out);
    let mut imports = BTreeSet::new();
    for group in groups {
        for f in group.structs.iter().flat_map(|s| &s.fields).filter(|f| f.number.is_some()) {
            match f.ty().element() {
                Ty::TextOrNumber => {
                    imports.insert("common".to_owned());
                }
                Ty::Value(name) => imports.extend(group.value(name).import.clone()),
                _ => {}
            }
        }
    }
    for import in &imports {
        let _ = writeln!(out, "import \"tim/v1/{import}.proto\";");
    }
    if !imports.is_empty() {
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "option go_package = \"tim/v1;timv1\";");
    let _ = writeln!(out, "option java_package = \"dev.tim.v1\";");
    let _ = writeln!(out, "option java_multiple_files = true;");
    let _ = writeln!(out, "option java_outer_classname = \"{}\";", pick(|g| &g.proto.outer_classname));
    let _ = writeln!(out);
    doc(&mut out, "", "//", pick(|g| &g.proto.service_doc));
    if let Some(other) = groups.iter().find(|g| g.proto.service != p.service) {
        return Err(format!(
            "{} puts {} in {}.proto, whose service is {}",
            other.source, other.proto.service, p.file, p.service
        ));
    }
    let _ = writeln!(out, "service {} {{", p.service);
    for c in groups.iter().flat_map(|g| &g.commands) {
        doc(&mut out, "  ", "//", &c.rpc_doc);
        let _ = writeln!(out, "  rpc {}({}) returns ({});", c.rpc, c.request, c.response_message());
    }
    let _ = writeln!(out, "}}");
    let mut done: BTreeSet<String> = BTreeSet::new();
    for c in groups.iter().flat_map(|g| &g.commands) {
        done.insert(c.request.clone());
    }
    for group in groups {
        for c in &group.commands {
            let request = group.find(&c.request).expect("checked when read");
            proto_message(&mut out, group, &c.request, &request.proto_doc, &request.fields, None);
            let mut order = Vec::new();
            nested(group, &request.fields, &mut done, &mut order);
            let body = c.response.as_deref().and_then(|b| group.find(b));
            let fields = body.map_or(&[][..], |b| &b.fields);
            proto_message(&mut out, group, &c.response_message(), &c.response_doc, fields, c.echo.as_ref());
            if let Some(body) = body {
                nested(group, &body.fields, &mut done, &mut order);
            }
            for s in order {
                let name = s.message().expect("filtered");
                proto_message(&mut out, group, &name, &s.proto_doc, &s.fields, None);
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- the conversions

/// How a path is written: at the top of a request (a literal) or under an item (`at` plus the name).
#[derive(Clone, Copy)]
enum At {
    Top,
    Under,
}

impl At {
    fn path(self, wire: &str) -> String {
        match self {
            At::Top => format!("{wire:?}"),
            At::Under => format!("&format!(\"{{at}}.{wire}\")"),
        }
    }

    fn indexed(self, wire: &str) -> String {
        match self {
            At::Top => format!("&format!(\"{wire}[{{i}}]\")"),
            At::Under => format!("&format!(\"{{at}}.{wire}[{{i}}]\")"),
        }
    }
}

fn into_fn(name: &str) -> String {
    format!("{}_into_model", snake_case(name))
}

fn from_fn(name: &str) -> String {
    format!("{}_from_model", snake_case(name))
}

/// The expression (of type `Option<model type>`, `None` when a broken part was recorded) that converts the proto
/// field `src` into the model field `f`.
fn into_expr(group: &Group, f: &Field, src: &str, at: At, used: &mut BTreeSet<String>) -> String {
    let ty = f.ty();
    let wire = &f.wire;
    let optional_list = |list: String| if f.optional { format!("{list}.map(super::non_empty)") } else { list };
    if let Some(inner_wire) = &f.flatten {
        let Ty::Struct(name) = ty.element() else { unreachable!("checked when read") };
        let item = group.find(name).expect("checked when read");
        let only = &item.fields[0];
        let path = match at {
            At::Top => format!("&format!(\"{wire}[{{i}}].{inner_wire}\")"),
            At::Under => format!("&format!(\"{{at}}.{wire}[{{i}}].{inner_wire}\")"),
        };
        let value = scalar_into(&only.ty(), "value", &path);
        let list = if matches!(only.ty(), Ty::UserId | Ty::GroupId) {
            format!(
                "{src}.into_iter().enumerate().map(|(i, value)| Some(tim_model::{}::{name} {{ {}: {value}? }})).collect::<Vec<_>>().into_iter().collect::<Option<Vec<_>>>()",
                group.module,
                only.rust_name()
            )
        } else {
            // Nothing to check in a plain scalar: every entry converts.
            format!(
                "Some({src}.into_iter().map(|value| tim_model::{}::{name} {{ {}: value }}).collect())",
                group.module,
                only.rust_name()
            )
        };
        return optional_list(list);
    }
    match &ty {
        Ty::List(inner) => match inner.as_ref() {
            Ty::UserId => optional_list(format!("c.users({}, {src})", at.path(wire))),
            Ty::GroupId => optional_list(format!("c.groups({}, {src})", at.path(wire))),
            Ty::Struct(name) => {
                used.insert(name.clone());
                optional_list(format!(
                    "{src}.into_iter().enumerate().map(|(i, item)| {}(c, {}, item)).collect::<Vec<_>>().into_iter().collect::<Option<Vec<_>>>()",
                    into_fn(name),
                    at.indexed(wire)
                ))
            }
            Ty::List(_) => unreachable!("lists of lists are not declared"),
            _ => {
                if f.optional {
                    format!("Some(super::non_empty({src}))")
                } else {
                    format!("Some({src})")
                }
            }
        },
        Ty::Struct(name) => {
            used.insert(name.clone());
            let path = at.path(wire);
            if f.optional {
                format!(
                    "match {src} {{ Some(item) => {}(c, {path}, item).map(Some), None => Some(None) }}",
                    into_fn(name)
                )
            } else {
                format!(
                    "match {src} {{ Some(item) => {}(c, {path}, item), None => {{ c.fail({path}, tim_model::Problem::Missing); None }} }}",
                    into_fn(name)
                )
            }
        }
        Ty::Map if f.optional => {
            format!("Some(if {src}.is_empty() {{ None }} else {{ Some({src}.into_iter().collect()) }})")
        }
        Ty::Map => format!("Some({src}.into_iter().collect())"),
        Ty::Value(name) => {
            let value = group.value(name);
            let into = format!(
                "super::{}",
                value.into.as_deref().unwrap_or_else(|| panic!("{name} is in a request: its value needs `into`"))
            );
            let path = at.path(wire);
            match (value.repeated, f.optional) {
                (true, false) => format!("{into}(c, {path}, {src})"),
                (true, true) => {
                    format!("if {src}.is_empty() {{ Some(None) }} else {{ {into}(c, {path}, {src}).map(Some) }}")
                }
                (false, true) => {
                    format!("match {src} {{ Some(value) => {into}(c, {path}, value).map(Some), None => Some(None) }}")
                }
                (false, false) if value.is_message() => format!(
                    "match {src} {{ Some(value) => {into}(c, {path}, value), None => {{ c.fail({path}, tim_model::Problem::Missing); None }} }}"
                ),
                (false, false) => format!("{into}(c, {path}, {src})"),
            }
        }
        Ty::TextOrNumber => {
            let path = at.path(wire);
            if f.optional {
                format!(
                    "match {src} {{ Some(value) => c.text_or_number({path}, value).map(Some), None => Some(None) }}"
                )
            } else {
                format!("c.required_text_or_number({path}, {src})")
            }
        }
        Ty::UserId if f.optional => format!("c.optional_user({}, {src})", at.path(wire)),
        Ty::GroupId if f.optional => format!("c.optional_group({}, {src})", at.path(wire)),
        scalar => scalar_into(scalar, src, &at.path(wire)),
    }
}

/// A scalar, required.
fn scalar_into(ty: &Ty, src: &str, path: &str) -> String {
    match ty {
        Ty::UserId => format!("c.user({path}, {src})"),
        Ty::GroupId => format!("c.group({path}, {src})"),
        _ => format!("Some({src})"),
    }
}

/// The expression (of the proto type) that carries the model field `src` into the answer.
fn from_expr(group: &Group, f: &Field, src: &str, used: &mut BTreeSet<String>) -> String {
    let ty = f.ty();
    let list_src = if f.optional { format!("{src}.unwrap_or_default()") } else { src.to_owned() };
    if let Some(inner_wire) = &f.flatten {
        let Ty::Struct(name) = ty.element() else { unreachable!("checked when read") };
        let only = &group.find(name).expect("checked when read").fields[0];
        debug_assert_eq!(&only.wire, inner_wire);
        let value = scalar_from(&only.ty(), &format!("item.{}", only.rust_name()));
        return format!("{list_src}.into_iter().map(|item| {value}).collect()");
    }
    match &ty {
        Ty::List(inner) => match inner.as_ref() {
            Ty::Struct(name) => {
                used.insert(name.clone());
                format!("{list_src}.into_iter().map({}).collect()", from_fn(name))
            }
            Ty::UserId | Ty::GroupId => format!("{list_src}.into_iter().map(|item| item.to_string()).collect()"),
            Ty::TextOrNumber => format!("{list_src}.into_iter().map(super::common::text_or_number_to_pb).collect()"),
            _ => list_src,
        },
        Ty::Struct(name) => {
            used.insert(name.clone());
            if f.optional { format!("{src}.map({})", from_fn(name)) } else { format!("Some({}({src}))", from_fn(name)) }
        }
        Ty::Map => format!("{list_src}.into_iter().collect()"),
        Ty::Value(name) => {
            let value = group.value(name);
            let from = format!(
                "super::{}",
                value.from.as_deref().unwrap_or_else(|| panic!("{name} is in an answer: its value needs `from`"))
            );
            match (value.repeated, f.optional) {
                (true, false) => format!("{from}({src})"),
                (true, true) => format!("{src}.map({from}).unwrap_or_default()"),
                (false, true) => format!("{src}.map({from})"),
                (false, false) if value.is_message() => format!("Some({from}({src}))"),
                (false, false) => format!("{from}({src})"),
            }
        }
        Ty::TextOrNumber if f.optional => format!("{src}.map(super::common::text_or_number_to_pb)"),
        Ty::TextOrNumber => format!("Some(super::common::text_or_number_to_pb({src}))"),
        Ty::UserId | Ty::GroupId if f.optional => format!("{src}.map(|value| value.to_string())"),
        scalar => scalar_from(scalar, src),
    }
}

fn scalar_from(ty: &Ty, src: &str) -> String {
    match ty {
        Ty::UserId | Ty::GroupId => format!("{src}.to_string()"),
        _ => src.to_owned(),
    }
}

/// The model struct literal of `s`, from the `Option` locals named after its fields.
fn model_literal(group: &Group, s: &Struct) -> String {
    let mut fields: Vec<String> = s
        .fields
        .iter()
        .map(|f| {
            let name = f.rust_name();
            if f.number.is_some() { format!("{name}: {name}?") } else { format!("{name}: None") }
        })
        .collect();
    if s.extra {
        fields.push("extra: tim_model::Extra::new()".into());
    }
    format!("tim_model::{}::{} {{ {} }}", group.module, s.name, fields.join(", "))
}

/// How a request's REST paths become proto paths: the top-level fields whose proto name is not their
/// snake-cased REST name.
fn path_fields(group: &Group, s: &Struct) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let elements = |f: &Field| matches!(f.ty(), Ty::Value(name) if group.value(&name).elements);
    for f in s.fields.iter().filter(|f| f.number.is_some()) {
        let proto = f.proto_name();
        if elements(f) {
            out.push(format!(
                "super::path::Field::Body {{ rest: {:?}, proto: {proto:?}, elements: &self.{} }}",
                f.wire,
                f.pb_ident()
            ));
        } else if let Ty::List(inner) = f.ty()
            && let Ty::Struct(name) = inner.as_ref()
            && let Some(item) = group.find(name)
            && let Some(body) = item.fields.iter().find(|inner| elements(inner) && inner.number.is_some())
        {
            if body.wire != "MsgBody" {
                return Err(format!("{}.{}: the body of an item must be MsgBody", s.name, f.wire));
            }
            out.push(format!(
                "super::path::Field::Items {{ rest: {:?}, proto: {proto:?}, bodies: self.{}.iter().map(|item| item.{}.as_slice()).collect() }}",
                f.wire,
                f.pb_ident(),
                body.pb_ident()
            ));
        } else if let Some(inner) = &f.flatten {
            out.push(format!("super::path::Field::Flat {{ rest: {:?}, inner: {inner:?}, proto: {proto:?} }}", f.wire));
        } else if proto != snake_case(&f.wire) {
            out.push(format!("super::path::Field::Renamed {{ rest: {:?}, proto: {proto:?} }}", f.wire));
        }
    }
    Ok(out)
}

/// Items must keep the snake-cased names: the path mapping only renames top-level fields.
fn check_item_names(group: &Group, s: &Struct, depth: usize) -> Result<(), String> {
    for f in s.fields.iter().filter(|f| f.number.is_some()) {
        if depth > 0 && (f.proto_name() != snake_case(&f.wire) || f.flatten.is_some()) {
            return Err(format!(
                "{}.{}: inside an item the proto name must be the snake-cased REST name ({})",
                s.name,
                f.wire,
                snake_case(&f.wire)
            ));
        }
        if let Ty::Struct(name) = f.ty().element()
            && f.flatten.is_none()
            && let Some(inner) = group.find(name)
            && depth < 16
        {
            check_item_names(group, inner, depth + 1)?;
        }
    }
    Ok(())
}

/// The conversions of a declared group.
pub(crate) fn convert(group: &Group) -> Result<String, String> {
    let mut out = header("//", &group.source);
    let _ = writeln!(out, "//! Conversions of the `{}` commands (declared: see the file named above).", group.module);
    let _ = writeln!(out);
    let _ = writeln!(out, "use crate::pb;");
    let mut into_used = BTreeSet::new();
    let mut from_used = BTreeSet::new();
    let model = |name: &str| format!("tim_model::{}::{name}", group.module);
    for c in &group.commands {
        let request = group.find(&c.request).expect("checked when read");
        check_item_names(group, request, 0)?;
        let _ = writeln!(out);
        let _ = writeln!(out, "impl super::IntoModel for pb::{} {{", c.request);
        let _ = writeln!(out, "    type Model = {};", model(&c.request));
        let _ = writeln!(out);
        let _ = writeln!(out, "    fn into_model(self) -> Result<Self::Model, tim_model::ValidationErrors> {{");
        let _ = writeln!(out, "        let mut collector = super::Collector::default();");
        let proto_fields: Vec<&Field> = request.fields.iter().filter(|f| f.number.is_some()).collect();
        if !proto_fields.is_empty() {
            let _ = writeln!(out, "        let c = &mut collector;");
        }
        for f in &proto_fields {
            let expr = into_expr(group, f, &format!("self.{}", f.pb_ident()), At::Top, &mut into_used);
            let _ = writeln!(out, "        let {} = {expr};", f.rust_name());
        }
        let _ = writeln!(out, "        collector.finish(|| Some({}))", model_literal(group, request));
        let _ = writeln!(out, "    }}");
        let _ = writeln!(out);
        let _ = writeln!(out, "    fn proto_path(&self, rest_path: &str) -> String {{");
        let fields = path_fields(group, request)?;
        if fields.is_empty() {
            let _ = writeln!(out, "        super::path::plain(rest_path)");
        } else {
            let _ = writeln!(out, "        super::path::map(rest_path, &[{}])", fields.join(", "));
        }
        let _ = writeln!(out, "    }}");
        let _ = writeln!(out, "}}");
        let _ = writeln!(out);
        let _ = writeln!(out, "impl super::FromModel<{}> for pb::{} {{", model(&c.request), c.response_message());
        match c.response.as_deref().and_then(|b| group.find(b)) {
            None => {
                let _ = writeln!(
                    out,
                    "    fn from_model(_response: tim_model::envelope::EmptyResponse, _dedupe_key: Option<u32>) -> Self {{"
                );
                let _ = writeln!(out, "        Self {{}}");
            }
            Some(body) => {
                let key = if c.echo.is_some() { "dedupe_key" } else { "_dedupe_key" };
                let _ = writeln!(
                    out,
                    "    fn from_model(response: tim_model::envelope::Response<{}>, {key}: Option<u32>) -> Self {{",
                    model(&body.name)
                );
                let fields: Vec<&Field> = body.fields.iter().filter(|f| f.number.is_some()).collect();
                let mut values: Vec<String> = fields
                    .iter()
                    .map(|f| {
                        let expr = from_expr(group, f, &format!("body.{}", f.rust_name()), &mut from_used);
                        format!("{}: {expr}", f.pb_ident())
                    })
                    .collect();
                if let Some(echo) = &c.echo {
                    values.push(format!("{}: dedupe_key.unwrap_or(0)", echo.proto));
                }
                if fields.is_empty() {
                    let _ = writeln!(out, "        let _ = response;");
                } else {
                    let _ = writeln!(out, "        let body = response.body;");
                }
                let _ = writeln!(out, "        Self {{ {} }}", values.join(", "));
            }
        }
        let _ = writeln!(out, "    }}");
        let _ = writeln!(out, "}}");
    }
    // Item conversions, each once, in both directions as used (items may use items).
    let mut emitted_into = BTreeSet::new();
    while let Some(name) = into_used.iter().find(|n| !emitted_into.contains(*n)).cloned() {
        emitted_into.insert(name.clone());
        let s = group.find(&name).ok_or_else(|| format!("no struct {name}"))?;
        let message = s.message().ok_or_else(|| format!("{name} has no proto message"))?;
        let _ = writeln!(out);
        let _ = writeln!(out, "/// `{name}` at `at`, every broken field recorded in `c`.");
        let _ = writeln!(
            out,
            "fn {}(c: &mut super::Collector, at: &str, item: pb::{message}) -> Option<{}> {{",
            into_fn(&name),
            model(&name)
        );
        let lets: Vec<String> = s
            .fields
            .iter()
            .filter(|f| f.number.is_some())
            .map(|f| {
                let expr = into_expr(group, f, &format!("item.{}", f.pb_ident()), At::Under, &mut into_used);
                format!("    let {} = {expr};", f.rust_name())
            })
            .collect();
        if lets.is_empty() {
            let _ = writeln!(out, "    let _ = (c, at, item);");
        } else if !lets.iter().any(|line| line.contains("(c, ") || line.contains(" c.")) {
            // Nothing in this item can be malformed in its proto form.
            let _ = writeln!(out, "    let _ = (c, at);");
        }
        for line in lets {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "    Some({})", model_literal(group, s));
        let _ = writeln!(out, "}}");
    }
    let mut emitted_from = BTreeSet::new();
    while let Some(name) = from_used.iter().find(|n| !emitted_from.contains(*n)).cloned() {
        emitted_from.insert(name.clone());
        let s = group.find(&name).ok_or_else(|| format!("no struct {name}"))?;
        let message = s.message().ok_or_else(|| format!("{name} has no proto message"))?;
        let fields: Vec<String> = s
            .fields
            .iter()
            .filter(|f| f.number.is_some())
            .map(|f| {
                let expr = from_expr(group, f, &format!("item.{}", f.rust_name()), &mut from_used);
                format!("{}: {expr}", f.pb_ident())
            })
            .collect();
        let _ = writeln!(out);
        let _ = writeln!(out, "/// `{name}` as this API carries it.");
        let _ = writeln!(out, "fn {}(item: {}) -> pb::{message} {{", from_fn(&name), model(&name));
        let _ = writeln!(out, "    pb::{message} {{ {} }}", fields.join(", "));
        let _ = writeln!(out, "}}");
    }
    Ok(out)
}

// ---------------------------------------------------------------- the lists

fn all_commands(groups: &[Group]) -> impl Iterator<Item = (&Group, &Command)> {
    groups.iter().flat_map(|g| g.commands.iter().map(move |c| (g, c)))
}

fn request_type(group: &Group, command: &Command) -> String {
    format!("crate::{}::{}", group.module, command.request)
}

/// The registry's list of typed requests (included by `registry.rs`).
pub(crate) fn registry(groups: &[Group]) -> String {
    let mut out = header("//", "crates/tim-model/commands/*.toml");
    let _ =
        writeln!(out, "// Every typed request; `group:` ones have rules that depend on the addressed group's type.");
    let plain: Vec<String> =
        all_commands(groups).filter(|(_, c)| !c.group_rules).map(|(g, c)| request_type(g, c)).collect();
    let grouped: Vec<String> =
        all_commands(groups).filter(|(_, c)| c.group_rules).map(|(g, c)| request_type(g, c)).collect();
    let _ = writeln!(out, "typed_requests!(");
    let _ = writeln!(out, "    plain:");
    for t in &plain {
        let _ = writeln!(out, "        {t},");
    }
    let _ = writeln!(out, "    ;");
    let _ = writeln!(out, "    group:");
    for t in &grouped {
        let _ = writeln!(out, "        {t},");
    }
    let _ = writeln!(out, ");");
    out
}

/// The fixture round-trip test's list (included by `tests/fixtures_round_trip.rs`).
pub(crate) fn fixture_list(groups: &[Group]) -> String {
    let mut out = header("//", "crates/tim-model/commands/*.toml");
    let _ = writeln!(out, "typed_requests!(");
    for (g, c) in all_commands(groups) {
        let _ = writeln!(out, "    tim_model::{}::{},", g.module, c.request);
    }
    let _ = writeln!(out, ");");
    out
}

/// `Messages` for `MessageService`: the service's implementation type.
fn service_type(service: &str) -> String {
    format!("{}s", service.trim_end_matches("Service"))
}

/// The services in order of first declaration, each with its commands.
fn services(groups: &[Group]) -> Vec<(String, Vec<&Command>)> {
    let mut out: Vec<(String, Vec<&Command>)> = Vec::new();
    for (g, c) in all_commands(groups) {
        match out.iter_mut().find(|(s, _)| *s == g.proto.service) {
            Some((_, list)) => list.push(c),
            None => out.push((g.proto.service.clone(), vec![c])),
        }
    }
    out
}

/// The typed services (included by `service.rs`).
pub(crate) fn rpcs(groups: &[Group]) -> String {
    let mut out = header("//", "crates/tim-model/commands/*.toml");
    let services = services(groups);
    for (service, commands) in &services {
        let _ = writeln!(out);
        let module = snake_case(service);
        let _ = writeln!(out, "rpcs!({}, pb::{module}_server::{service}, {service:?} {{", service_type(service));
        for c in commands {
            let _ = writeln!(out, "    {} {}({}) -> {},", snake_case(&c.rpc), c.rpc, c.request, c.response_message());
        }
        let _ = writeln!(out, "}});");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "/// Adds every typed service to `routes`, each behind `auth` and taking requests of at most `limit` bytes."
    );
    let _ = writeln!(
        out,
        "pub(crate) fn add_typed_services(routes: tonic::service::Routes, auth: &crate::auth::AuthLayer, shared: &Shared, limit: usize) -> tonic::service::Routes {{"
    );
    let _ = writeln!(out, "    use tower::Layer as _;");
    let _ = writeln!(out, "    routes");
    for (service, _) in &services {
        let module = snake_case(service);
        let _ = writeln!(
            out,
            "        .add_service(auth.layer(pb::{module}_server::{service}Server::new({}(shared.clone())).max_decoding_message_size(limit)))",
            service_type(service)
        );
    }
    let _ = writeln!(out, "}}");
    out
}

/// The emulator's routing of typed commands (a module of `api`).
pub(crate) fn routes(groups: &[Group]) -> String {
    let mut out = header("//", "crates/tim-model/commands/*.toml");
    let _ = writeln!(out, "//! Which handler carries out each typed command.");
    let _ = writeln!(out);
    let _ = writeln!(out, "use super::{{Answer, Ctx}};");
    let _ = writeln!(out, "use tim_model::command::CommandId;");
    let _ = writeln!(out);
    let _ = writeln!(out, "/// Carries out `id` when it is a typed command; `None` for the others.");
    let _ = writeln!(out, "pub(super) fn route(ctx: &Ctx<'_>, id: CommandId, body: &[u8]) -> Option<Answer> {{");
    let _ = writeln!(out, "    Some(match id {{");
    for (g, c) in all_commands(groups) {
        let _ = writeln!(out, "        CommandId::{} => super::{}::{}(ctx, body),", c.id, g.module, c.handler());
    }
    let _ = writeln!(out, "        _ => return None,");
    let _ = writeln!(out, "    }})");
    let _ = writeln!(out, "}}");
    out
}

/// The contract test of every typed command with its `request` and `response` fixtures.
pub(crate) fn contracts(groups: &[Group]) -> String {
    let mut out = header("//", "crates/tim-model/commands/*.toml");
    let _ = writeln!(
        out,
        "//! The contract of every typed command: its documented sample request is sent to the exact path with"
    );
    let _ = writeln!(out, "//! the exact body, and its documented sample answer decodes.");
    let _ = writeln!(out);
    let _ = writeln!(out, "mod common;");
    let _ = writeln!(out);
    let _ = writeln!(out, "contracts! {{");
    for (g, c) in all_commands(groups) {
        let name = c.short_path().replace('/', "_");
        let _ = writeln!(out, "    {name} => tim_model::{}::{}, {:?};", g.module, c.request, c.short_path());
    }
    let _ = writeln!(out, "}}");
    out
}
