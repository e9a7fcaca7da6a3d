//! The form of a declaration file (`crates/tim-model/commands/*.toml`) and the checks made when it is read.

use serde::Deserialize;
use std::collections::BTreeMap;

/// One group of commands: one file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Group {
    /// The `tim-model` module of the group's types (`account` → `tim_model::account`).
    pub(crate) module: String,
    /// The command table's group (its `group` column, as Tencent's API tree sections it): every command of the
    /// file belongs to it, and the module's name is used for this group in every crate (`tim_model::<module>`,
    /// `tim-grpc`'s `convert/<module>.rs`, `tim-emulator`'s `api/<module>.rs`, where each command's handler is the
    /// function named by the last segment of its path).
    pub(crate) table_group: String,
    /// Where the group's typed RPCs live.
    pub(crate) proto: ProtoFile,
    /// Documented limits, as `pub const`s of the module.
    #[serde(default, rename = "const")]
    pub(crate) consts: Vec<Const>,
    /// The commands, in the order of the service's RPCs.
    #[serde(default, rename = "command")]
    pub(crate) commands: Vec<Command>,
    /// The request, item and answer types.
    #[serde(default, rename = "struct")]
    pub(crate) structs: Vec<Struct>,
    /// The declaration file, for messages and headers.
    #[serde(skip)]
    pub(crate) source: String,
    /// The shared value types (`values.toml`), filled in when the group is read.
    #[serde(skip)]
    pub(crate) values: Vec<Value>,
}

/// The value types that several groups use and whose model type, proto form and conversions are written by
/// hand once (`values.toml`): message bodies, offline-push settings, the open enums of controls.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Values {
    #[serde(default, rename = "value")]
    pub(crate) values: Vec<Value>,
}

/// One value type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Value {
    /// The name fields use as their `type` (`MsgBody`).
    pub(crate) name: String,
    /// What it is, for readers of the declarations.
    #[allow(dead_code)]
    pub(crate) doc: String,
    /// The model's type, a path from the crate root (`crate::body::MsgBody`).
    pub(crate) rust: String,
    /// The proto type of one entry (`MsgElement`, `string`).
    pub(crate) proto: String,
    /// The proto field is `repeated`: the value is carried as a list of `proto`.
    #[serde(default)]
    pub(crate) repeated: bool,
    /// `tim-grpc`'s conversion from proto (a path from `convert`), needed when a request holds the value: `fn(&mut Collector, at: &str, P) -> Option<M>`
    /// records what is broken under `at` and gives `None`; `P` is the list for a repeated value, the message or
    /// the scalar otherwise (absence is handled by the generated code).
    #[serde(default)]
    pub(crate) into: Option<String>,
    /// `tim-grpc`'s conversion into an answer: `fn(M) -> P`; needed when an answer holds the value.
    #[serde(default)]
    pub(crate) from: Option<String>,
    /// `tim-model`'s documented checks of the value, at the field's path: `fn(&mut Checker, &M)`.
    #[serde(default)]
    pub(crate) check: Option<String>,
    /// The proto form is a list of `MsgElement`: REST paths inside it name the element kind (`MsgContent` →
    /// `text`), so error paths map through the received elements.
    #[serde(default)]
    pub(crate) elements: bool,
    /// The model type implements `Eq` (false: `PartialEq` only, as for bodies with coordinates).
    #[serde(default = "yes")]
    pub(crate) eq: bool,
    /// The proto file (stem under `proto/tim/v1/`) that declares `proto`, when it is a message.
    #[serde(default)]
    pub(crate) import: Option<String>,
}

fn yes() -> bool {
    true
}

impl Value {
    /// Whether the proto form is a message (as opposed to a scalar such as `string`).
    pub(crate) fn is_message(&self) -> bool {
        self.proto.chars().next().is_some_and(char::is_uppercase)
    }
}

/// The proto file and service of a group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProtoFile {
    /// The file's stem under `proto/tim/v1/` (`accounts`).
    pub(crate) file: String,
    /// The gRPC service (`AccountService`).
    pub(crate) service: String,
    /// The file's first comment.
    #[serde(default)]
    pub(crate) doc: String,
    /// The service's comment.
    #[serde(default)]
    pub(crate) service_doc: String,
    /// `java_outer_classname`.
    #[serde(default)]
    pub(crate) outer_classname: String,
}

/// A documented limit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Const {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) ty: String,
    pub(crate) value: String,
    pub(crate) doc: String,
}

/// One command.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Command {
    /// The command table's `CommandId` variant.
    pub(crate) id: String,
    /// The typed RPC's name (`AccountCheck`); its Rust method is the snake-cased name.
    pub(crate) rpc: String,
    /// The RPC's comment (declared groups).
    #[serde(default)]
    pub(crate) rpc_doc: String,
    /// The model's request type; its proto message has the same name.
    pub(crate) request: String,
    /// The model's answer: the struct holding the fields beside the envelope, or none (`EmptyResponse`).
    #[serde(default)]
    pub(crate) response: Option<String>,
    /// The proto answer message (declared groups; default `<rpc>Response`).
    #[serde(default)]
    pub(crate) response_proto: Option<String>,
    /// The proto answer message's comment.
    #[serde(default)]
    pub(crate) response_doc: String,
    /// The request has rules that depend on the addressed group's type (`GroupTypeRules`).
    #[serde(default)]
    pub(crate) group_rules: bool,
    /// A field of the proto answer that carries the request's deduplication key as it was sent (drawn by the
    /// gateway when the caller left it unset), so the caller can look the message up later.
    #[serde(default)]
    pub(crate) echo: Option<Echo>,
    /// The table's path (`v4/im_open_login_svc/account_check`), filled in from the table.
    #[serde(skip)]
    pub(crate) path: String,
}

/// The answer's copy of the deduplication key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Echo {
    /// The proto field (`msg_random`).
    pub(crate) proto: String,
    /// Its number.
    pub(crate) number: u32,
    /// Its comment.
    pub(crate) doc: String,
}

impl Command {
    /// The path without `v4/` (`im_open_login_svc/account_check`).
    pub(crate) fn short_path(&self) -> &str {
        self.path.trim_start_matches("v4/")
    }

    /// The emulator's handler: the path's last segment.
    pub(crate) fn handler(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or_default()
    }

    /// The proto answer message.
    pub(crate) fn response_message(&self) -> String {
        self.response_proto.clone().unwrap_or_else(|| format!("{}Response", self.rpc))
    }
}

/// A request, item or answer type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Struct {
    /// The Rust name; also the proto message's unless `proto` says otherwise.
    pub(crate) name: String,
    pub(crate) doc: String,
    /// The proto message's name, when it is not the Rust name; `false`-like `""` for a struct that is only
    /// an answer body (its fields go into each command's answer message).
    #[serde(default)]
    pub(crate) proto: Option<String>,
    /// The proto message's comment.
    #[serde(default)]
    pub(crate) proto_doc: String,
    /// Keeps fields this version does not know (`Extra`).
    #[serde(default)]
    pub(crate) extra: bool,
    /// Exactly one of these (wire names of optional fields) must be present.
    #[serde(default)]
    pub(crate) one_of: Vec<String>,
    /// Has cross-field rules written by hand: `fn rules(&self, c: &mut Checker)` in the module.
    #[serde(default)]
    pub(crate) rules: bool,
    #[serde(default, rename = "field")]
    pub(crate) fields: Vec<Field>,
}

/// One field of a struct.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Field {
    /// The JSON name (`UserID`).
    pub(crate) wire: String,
    /// Another JSON name accepted when decoding (older pages' spelling).
    #[serde(default)]
    pub(crate) alias: Option<String>,
    /// The Rust name; default: the snake-cased JSON name.
    #[serde(default)]
    pub(crate) rust: Option<String>,
    /// `string`, `bool`, `u32`, `u64`, `i32`, `i64`, `UserId`, `GroupId`, `TextOrNumber`, a declared struct, or
    /// `list<...>`.
    #[serde(rename = "type")]
    pub(crate) ty: String,
    pub(crate) doc: String,
    /// May be absent (`Option`; a list: absent, not empty).
    #[serde(default)]
    pub(crate) optional: bool,
    /// Absent in JSON means the type's default (answers that leave out empty values).
    #[serde(default)]
    pub(crate) default: bool,
    /// A list's documented entry count: `[min, max]`, numbers or constant names.
    #[serde(default)]
    pub(crate) count: Option<[String; 2]>,
    /// A string's documented most bytes, a number or a constant name.
    #[serde(default)]
    pub(crate) max_bytes: Option<String>,
    /// A number's documented range `[min, max]`.
    #[serde(default)]
    pub(crate) range: Option<[String; 2]>,
    /// A number's allowed values, and how the error describes them.
    #[serde(default)]
    pub(crate) allowed: Option<Vec<u32>>,
    #[serde(default)]
    pub(crate) allowed_doc: String,
    /// The proto field number; a field without one is not part of the gRPC API.
    #[serde(default)]
    pub(crate) number: Option<u32>,
    /// The proto field name; default: the Rust name.
    #[serde(default)]
    pub(crate) proto: Option<String>,
    /// The proto field's comment.
    #[serde(default)]
    pub(crate) proto_doc: String,
    /// A list of one-field objects that the proto carries as a list of that field (its JSON name).
    #[serde(default)]
    pub(crate) flatten: Option<String>,
    /// A deduplication key the command table pins: `drawn` (absent ones are drawn once before sending, so the
    /// field is optional) or `given` (the caller's value is part of the key).
    #[serde(default)]
    pub(crate) key: Option<String>,
    /// This key is the request's deduplication key (`TypedRequest::dedupe_key`).
    #[serde(default)]
    pub(crate) dedupe: bool,
    /// This list holds the recipients counted against a per-recipient quota (`TypedRequest::recipients`).
    #[serde(default)]
    pub(crate) recipients: bool,
    /// An optional field that must be present when the request is checked (a drawn key: the transport fills it
    /// in before checking).
    #[serde(default)]
    pub(crate) required: bool,
    /// A string that must not be empty.
    #[serde(default)]
    pub(crate) non_empty: bool,
    /// A function of the module's hand-written part that decodes the field (`serde(deserialize_with)`).
    #[serde(default)]
    pub(crate) deserialize_with: Option<String>,
    /// The parsed type, filled in when the group is read.
    #[serde(skip)]
    pub(crate) parsed: Option<Ty>,
}

/// A field's type, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ty {
    String,
    Bool,
    Int(&'static str),
    UserId,
    GroupId,
    /// A JSON string or unsigned integer (profile values): `tim_model::TextOrNumber`, proto `TextOrNumber`.
    TextOrNumber,
    /// A JSON object of strings: `BTreeMap<String, String>`, proto `map<string, string>`.
    Map,
    /// A value type of `values.toml`.
    Value(String),
    Struct(String),
    List(Box<Ty>),
}

impl Ty {
    pub(crate) fn parse(text: &str, values: &[Value]) -> Option<Ty> {
        let text = text.trim();
        if let Some(inner) = text.strip_prefix("list<").and_then(|t| t.strip_suffix('>')) {
            return Some(Ty::List(Box::new(Ty::parse(inner, values)?)));
        }
        if values.iter().any(|v| v.name == text) {
            return Some(Ty::Value(text.to_owned()));
        }
        Some(match text {
            "string" => Ty::String,
            "bool" => Ty::Bool,
            "u32" => Ty::Int("u32"),
            "u64" => Ty::Int("u64"),
            "i32" => Ty::Int("i32"),
            "i64" => Ty::Int("i64"),
            "UserId" => Ty::UserId,
            "GroupId" => Ty::GroupId,
            "TextOrNumber" => Ty::TextOrNumber,
            "map<string,string>" | "map<string, string>" => Ty::Map,
            name if name.chars().next().is_some_and(char::is_uppercase) => Ty::Struct(name.to_owned()),
            _ => return None,
        })
    }

    /// The element type of a list, or the type itself.
    pub(crate) fn element(&self) -> &Ty {
        match self {
            Ty::List(inner) => inner,
            other => other,
        }
    }
}

impl Field {
    pub(crate) fn rust_name(&self) -> String {
        self.rust.clone().unwrap_or_else(|| super::snake_case(&self.wire))
    }

    pub(crate) fn proto_name(&self) -> String {
        self.proto.clone().unwrap_or_else(|| self.rust_name())
    }

    /// The proto field as prost names it in Rust: a Rust keyword is a raw identifier (`type` → `r#type`).
    pub(crate) fn pb_ident(&self) -> String {
        let name = self.proto_name();
        const KEYWORDS: [&str; 12] =
            ["type", "ref", "match", "move", "mod", "use", "impl", "fn", "loop", "self", "struct", "where"];
        if KEYWORDS.contains(&name.as_str()) { format!("r#{name}") } else { name }
    }

    pub(crate) fn ty(&self) -> Ty {
        self.parsed.clone().expect("parsed when the group was read")
    }
}

impl Struct {
    /// The proto message, unless the struct is only an answer body.
    pub(crate) fn message(&self) -> Option<String> {
        match &self.proto {
            Some(name) if name.is_empty() => None,
            Some(name) => Some(name.clone()),
            None => Some(self.name.clone()),
        }
    }
}

impl Group {
    pub(crate) fn find(&self, name: &str) -> Option<&Struct> {
        self.structs.iter().find(|s| s.name == name)
    }

    pub(crate) fn value(&self, name: &str) -> &Value {
        self.values.iter().find(|v| v.name == name).expect("parsed against the values")
    }

    /// Fills in the commands' paths and checks what the generators rely on.
    pub(crate) fn resolve(&mut self, table: &BTreeMap<String, (String, String)>) -> Result<(), String> {
        for command in &mut self.commands {
            let (path, group) = table
                .get(&command.id)
                .ok_or_else(|| format!("{} is not a CommandId of the command table", command.id))?;
            if *group != self.table_group {
                return Err(format!(
                    "{} is in the table's group {group:?}, not {:?}: declare it with that group's commands",
                    command.id, self.table_group
                ));
            }
            command.path = path.clone();
        }
        for s in &mut self.structs {
            for field in &mut s.fields {
                let at = format!("{}.{}", s.name, field.wire);
                field.parsed = Some(
                    Ty::parse(&field.ty, &self.values).ok_or_else(|| format!("{at}: unknown type {:?}", field.ty))?,
                );
            }
        }
        for command in &self.commands {
            let request =
                self.find(&command.request).ok_or_else(|| format!("{}: no struct {}", command.id, command.request))?;
            if request.message().is_none() {
                return Err(format!("{}: the request {} needs a proto message", command.id, request.name));
            }
            if let Some(body) = &command.response {
                self.find(body).ok_or_else(|| format!("{}: no struct {body}", command.id))?;
            }
            if command.echo.is_some() && command.response.is_none() {
                return Err(format!("{}: echo needs an answer body (response)", command.id));
            }
        }
        for s in &self.structs {
            let mut numbers = BTreeMap::new();
            for field in &s.fields {
                let at = format!("{}.{}", s.name, field.wire);
                let ty = field.ty();
                if let Ty::Struct(name) = ty.element() {
                    let inner = self.find(name).ok_or_else(|| format!("{at}: no struct {name}"))?;
                    if field.number.is_some() && field.flatten.is_none() && inner.message().is_none() {
                        return Err(format!("{at}: {name} has no proto message"));
                    }
                }
                if let Some(number) = field.number
                    && let Some(other) = numbers.insert(number, field.wire.clone())
                {
                    return Err(format!("{at}: proto number {number} is also {other}'s"));
                }
                if ty == Ty::List(Box::new(Ty::TextOrNumber)) {
                    return Err(format!("{at}: lists of TextOrNumber are not supported"));
                }
                if field.count.is_some() && !matches!(ty, Ty::List(_)) {
                    return Err(format!("{at}: count applies to lists"));
                }
                if field.max_bytes.is_some() && ty != Ty::String {
                    return Err(format!("{at}: max_bytes applies to strings"));
                }
                if (field.range.is_some() || field.allowed.is_some()) && !matches!(ty, Ty::Int(_)) {
                    return Err(format!("{at}: range and allowed apply to numbers"));
                }
                if let Some(key) = &field.key {
                    if key != "drawn" && key != "given" {
                        return Err(format!("{at}: key is drawn or given, not {key}"));
                    }
                    if key == "drawn" && (!field.optional || ty != Ty::Int("u32")) {
                        return Err(format!("{at}: a drawn key is an optional u32"));
                    }
                }
                if field.dedupe && field.key.as_deref() != Some("drawn") {
                    return Err(format!("{at}: the dedupe key must be a drawn key"));
                }
                if field.recipients && !matches!(ty, Ty::List(_)) {
                    return Err(format!("{at}: recipients applies to lists"));
                }
                if field.required && !field.optional {
                    return Err(format!("{at}: required applies to optional fields"));
                }
                if field.non_empty && ty != Ty::String {
                    return Err(format!("{at}: non_empty applies to strings"));
                }
                if matches!(ty, Ty::List(ref inner) if matches!(inner.as_ref(), Ty::Value(_) | Ty::Map | Ty::List(_))) {
                    return Err(format!(
                        "{at}: lists of values, maps or lists are not supported (declare the value as the list)"
                    ));
                }
                if let Some(inner_wire) = &field.flatten {
                    let Ty::List(inner) = &ty else { return Err(format!("{at}: flatten applies to lists")) };
                    let Ty::Struct(name) = inner.as_ref() else { return Err(format!("{at}: flatten needs a struct")) };
                    let item = self.find(name).ok_or_else(|| format!("{at}: no struct {name}"))?;
                    let only = match item.fields.as_slice() {
                        [only] if !item.extra => only,
                        _ => return Err(format!("{at}: flatten needs {name} to have exactly one field")),
                    };
                    if &only.wire != inner_wire || matches!(only.ty(), Ty::Struct(_) | Ty::List(_)) {
                        return Err(format!("{at}: {name}'s one field must be the scalar {inner_wire}"));
                    }
                }
                if field.number.is_none() && !field.optional && s.message().is_some() && request_side(self, &s.name) {
                    return Err(format!("{at}: a request field outside the proto must be optional"));
                }
            }
            for wire in &s.one_of {
                let field = s
                    .fields
                    .iter()
                    .find(|f| &f.wire == wire)
                    .ok_or_else(|| format!("{}: one_of names no field {wire}", s.name))?;
                if !field.optional {
                    return Err(format!("{}.{wire}: a one_of field must be optional", s.name));
                }
            }
        }
        Ok(())
    }
}

/// Whether `name` is reachable from a command's request.
pub(crate) fn request_side(group: &Group, name: &str) -> bool {
    group.commands.iter().any(|c| reaches(group, &c.request, name, 0))
}

/// Whether `name` is reachable from a command's answer body.
pub(crate) fn response_side(group: &Group, name: &str) -> bool {
    group.commands.iter().filter_map(|c| c.response.as_deref()).any(|body| reaches(group, body, name, 0))
}

fn reaches(group: &Group, from: &str, to: &str, depth: usize) -> bool {
    if from == to {
        return true;
    }
    if depth > 16 {
        return false;
    }
    let Some(s) = group.find(from) else { return false };
    s.fields.iter().any(|f| match f.ty().element() {
        Ty::Struct(inner) => reaches(group, inner, to, depth + 1),
        _ => false,
    })
}
