//! ReqIF 1.2 (OMG formal/16-07-01): the items and their links for requirement tools
//! (DOORS, Polarion, Codebeamer, StrictDoc).
//!
//! Each item type becomes a SPEC-OBJECT-TYPE and a SPECIFICATION (nested by `parent`
//! links within the type); each item a SPEC-OBJECT whose attributes follow the ReqIF
//! Implementation Guide's names (`ReqIF.ForeignID` for the id, `ReqIF.Name` for the
//! title, `ReqIF.Text` for the text) plus one string attribute per other field; each
//! link a SPEC-RELATION typed by its link field. Every value is a string, so any tool can
//! import it; the Markdown of `text` is kept as written.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::Value;

use crate::html::{xml_attr, xml_text};
use crate::link;
use crate::project::Project;
use crate::text::natural_cmp;

const NS: &str = "http://www.omg.org/spec/ReqIF/20110401/reqif.xsd";

/// Fields that have attributes of their own, or are not attributes at all.
const RESERVED: &[&str] = &["id", "type", "title", "text"];

/// Export facts the file's header and time stamps carry.
pub(crate) struct Header<'a> {
    /// Unique per export: the commit id.
    pub(crate) identifier: &'a str,
    pub(crate) title: &'a str,
    /// The commit, or a note that there is none.
    pub(crate) comment: &'a str,
    /// When the exported commit was made (RFC 3339): creation time of the file and
    /// of everything without a commit date of its own.
    pub(crate) time: &'a str,
    pub(crate) tool: &'a str,
}

/// The ReqIF document.
pub(crate) fn document(project: &Project, header: &Header) -> String {
    let items = primary_items(project);
    let mut by_type: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &i in &items {
        by_type.entry(&project.items[i].ty).or_default().push(i);
    }
    let mut x = String::with_capacity(512 + items.len() * 1024);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(x, "<REQ-IF xmlns=\"{NS}\">");
    x.push_str("  <THE-HEADER>\n");
    let _ = writeln!(
        x,
        "    <REQ-IF-HEADER IDENTIFIER=\"{}\">",
        ident("H", &[header.identifier])
    );
    let _ = writeln!(x, "      <COMMENT>{}</COMMENT>", xml_text(header.comment));
    let _ = writeln!(x, "      <CREATION-TIME>{}</CREATION-TIME>", header.time);
    let _ = writeln!(
        x,
        "      <REPOSITORY-ID>{}</REPOSITORY-ID>",
        xml_text(header.title)
    );
    let _ = writeln!(
        x,
        "      <REQ-IF-TOOL-ID>{}</REQ-IF-TOOL-ID>",
        xml_text(header.tool)
    );
    x.push_str("      <REQ-IF-VERSION>1.0</REQ-IF-VERSION>\n");
    let _ = writeln!(
        x,
        "      <SOURCE-TOOL-ID>{}</SOURCE-TOOL-ID>",
        xml_text(header.tool)
    );
    let _ = writeln!(x, "      <TITLE>{}</TITLE>", xml_text(header.title));
    x.push_str("    </REQ-IF-HEADER>\n  </THE-HEADER>\n");
    x.push_str("  <CORE-CONTENT>\n    <REQ-IF-CONTENT>\n");

    let time = header.time;
    x.push_str("      <DATATYPES>\n");
    let _ = writeln!(
        x,
        "        <DATATYPE-DEFINITION-STRING IDENTIFIER=\"DT-string\" LAST-CHANGE=\"{time}\" LONG-NAME=\"String\" MAX-LENGTH=\"2147483647\"/>"
    );
    x.push_str("      </DATATYPES>\n");

    // Attributes per type: the standard three, then every other field its items use.
    let attributes: BTreeMap<&str, Vec<String>> = by_type
        .iter()
        .map(|(ty, list)| (*ty, attribute_names(project, ty, list)))
        .collect();
    let relation_types: BTreeSet<&str> = items
        .iter()
        .flat_map(|&i| project.graph.out(i))
        .map(|l| l.field.as_str())
        .collect();
    x.push_str("      <SPEC-TYPES>\n");
    for (ty, names) in &attributes {
        let _ = writeln!(
            x,
            "        <SPEC-OBJECT-TYPE IDENTIFIER=\"{}\" LAST-CHANGE=\"{time}\" LONG-NAME=\"{}\">",
            ident("SOT", &[ty]),
            xml_attr(ty)
        );
        x.push_str("          <SPEC-ATTRIBUTES>\n");
        for name in names {
            let _ = writeln!(
                x,
                "            <ATTRIBUTE-DEFINITION-STRING IDENTIFIER=\"{}\" LAST-CHANGE=\"{time}\" LONG-NAME=\"{}\">",
                ident("AD", &[ty, name]),
                xml_attr(name)
            );
            x.push_str("              <TYPE><DATATYPE-DEFINITION-STRING-REF>DT-string</DATATYPE-DEFINITION-STRING-REF></TYPE>\n");
            x.push_str("            </ATTRIBUTE-DEFINITION-STRING>\n");
        }
        x.push_str("          </SPEC-ATTRIBUTES>\n        </SPEC-OBJECT-TYPE>\n");
    }
    for field in &relation_types {
        let _ = writeln!(
            x,
            "        <SPEC-RELATION-TYPE IDENTIFIER=\"{}\" LAST-CHANGE=\"{time}\" LONG-NAME=\"{}\"/>",
            ident("SRT", &[field]),
            xml_attr(field)
        );
    }
    let _ = writeln!(
        x,
        "        <SPECIFICATION-TYPE IDENTIFIER=\"ST-items\" LAST-CHANGE=\"{time}\" LONG-NAME=\"Items of one type\"/>"
    );
    x.push_str("      </SPEC-TYPES>\n");

    x.push_str("      <SPEC-OBJECTS>\n");
    for &i in &items {
        let item = &project.items[i];
        let _ = writeln!(
            x,
            "        <SPEC-OBJECT IDENTIFIER=\"{}\" LAST-CHANGE=\"{}\">",
            ident("SO", &[&item.id]),
            last_change(project, &item.id, time)
        );
        x.push_str("          <VALUES>\n");
        for name in &attributes[item.ty.as_str()] {
            let Some(value) = attribute_value(project, i, name) else {
                continue;
            };
            let _ = writeln!(
                x,
                "            <ATTRIBUTE-VALUE-STRING THE-VALUE=\"{}\"><DEFINITION><ATTRIBUTE-DEFINITION-STRING-REF>{}</ATTRIBUTE-DEFINITION-STRING-REF></DEFINITION></ATTRIBUTE-VALUE-STRING>",
                xml_attr(&value),
                ident("AD", &[&item.ty, name])
            );
        }
        x.push_str("          </VALUES>\n");
        let _ = writeln!(
            x,
            "          <TYPE><SPEC-OBJECT-TYPE-REF>{}</SPEC-OBJECT-TYPE-REF></TYPE>",
            ident("SOT", &[&item.ty])
        );
        x.push_str("        </SPEC-OBJECT>\n");
    }
    x.push_str("      </SPEC-OBJECTS>\n");

    x.push_str("      <SPEC-RELATIONS>\n");
    for &i in &items {
        let from = &project.items[i];
        let mut links: Vec<(&str, &str)> = project
            .graph
            .out(i)
            .map(|l| (l.field.as_str(), project.items[l.to].id.as_str()))
            .collect();
        links.sort_by(|a, b| a.0.cmp(b.0).then_with(|| natural_cmp(a.1, b.1)));
        links.dedup();
        for (field, to) in links {
            let _ = writeln!(
                x,
                "        <SPEC-RELATION IDENTIFIER=\"{}\" LAST-CHANGE=\"{}\">",
                ident("SR", &[&from.id, field, to]),
                last_change(project, &from.id, time)
            );
            let _ = writeln!(
                x,
                "          <TYPE><SPEC-RELATION-TYPE-REF>{}</SPEC-RELATION-TYPE-REF></TYPE>",
                ident("SRT", &[field])
            );
            let _ = writeln!(
                x,
                "          <SOURCE><SPEC-OBJECT-REF>{}</SPEC-OBJECT-REF></SOURCE>",
                ident("SO", &[&from.id])
            );
            let _ = writeln!(
                x,
                "          <TARGET><SPEC-OBJECT-REF>{}</SPEC-OBJECT-REF></TARGET>",
                ident("SO", &[to])
            );
            x.push_str("        </SPEC-RELATION>\n");
        }
    }
    x.push_str("      </SPEC-RELATIONS>\n");

    x.push_str("      <SPECIFICATIONS>\n");
    let levels = link::parent_levels(&project.items, &project.graph);
    for (ty, list) in &by_type {
        let plural = project
            .types
            .get(ty)
            .map_or((*ty).to_owned(), |d| d.plural.clone());
        let _ = writeln!(
            x,
            "        <SPECIFICATION IDENTIFIER=\"{}\" LAST-CHANGE=\"{time}\" LONG-NAME=\"{}\">",
            ident("SPEC", &[ty]),
            xml_attr(&plural)
        );
        x.push_str(
            "          <TYPE><SPECIFICATION-TYPE-REF>ST-items</SPECIFICATION-TYPE-REF></TYPE>\n",
        );
        let tree = Hierarchy::new(project, list, &levels);
        if !tree.roots.is_empty() {
            x.push_str("          <CHILDREN>\n");
            for &root in &tree.roots {
                tree.write(project, root, time, &mut x);
            }
            x.push_str("          </CHILDREN>\n");
        }
        x.push_str("        </SPECIFICATION>\n");
    }
    x.push_str("      </SPECIFICATIONS>\n");
    x.push_str("    </REQ-IF-CONTENT>\n  </CORE-CONTENT>\n</REQ-IF>\n");
    x
}

/// The items that own their ids, in natural id order.
fn primary_items(project: &Project) -> Vec<usize> {
    let mut items: Vec<usize> = (0..project.items.len())
        .filter(|&i| project.graph.get(&project.items[i].id) == Some(i))
        .collect();
    items.sort_by(|&a, &b| natural_cmp(&project.items[a].id, &project.items[b].id));
    items
}

/// `ReqIF.ForeignID`, `ReqIF.Name`, `ReqIF.Text`, then `verification` when a test
/// result exists, then the other fields the type's items use (links excepted: they are
/// relations), by name.
fn attribute_names(project: &Project, ty: &str, items: &[usize]) -> Vec<String> {
    let links: BTreeSet<&str> = project
        .types
        .get(ty)
        .map(|d| d.links.iter().map(|l| l.name.as_str()).collect())
        .unwrap_or_default();
    let mut fields: BTreeSet<&str> = BTreeSet::new();
    let mut verified = false;
    for &i in items {
        let item = &project.items[i];
        fields.extend(
            item.fields
                .keys()
                .map(String::as_str)
                .filter(|k| !RESERVED.contains(k) && !links.contains(k)),
        );
        verified |= project.evidence.verification(&item.id).is_some();
    }
    let mut out: Vec<String> = ["ReqIF.ForeignID", "ReqIF.Name", "ReqIF.Text"]
        .map(String::from)
        .to_vec();
    if verified {
        out.push("verification".into());
    }
    out.extend(fields.into_iter().map(str::to_owned));
    out
}

fn attribute_value(project: &Project, i: usize, name: &str) -> Option<String> {
    let item = &project.items[i];
    match name {
        "ReqIF.ForeignID" => Some(item.id.clone()),
        "ReqIF.Name" => Some(item.title.clone()),
        "ReqIF.Text" => item.text("text").map(str::to_owned),
        "verification" => project
            .evidence
            .verification(&item.id)
            .map(|v| v.status.as_str().to_owned()),
        field => item.fields.get(field).map(plain),
    }
}

/// A field's value as one string: scalars as written, lists of scalars joined, anything
/// else as compact JSON.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(list) if list.iter().all(|v| !v.is_array() && !v.is_object()) => {
            list.iter().map(plain).collect::<Vec<_>>().join(", ")
        }
        Value::Null => String::new(),
        Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => value.to_string(),
    }
}

/// The date of the item's last change, or the export's time for an item no commit holds.
fn last_change<'a>(project: &'a Project, id: &str, time: &'a str) -> &'a str {
    project
        .history
        .last_changed(id)
        .map_or(time, |c| c.date.as_str())
}

/// Items of one specification nested under their `parent` of the same type.
struct Hierarchy {
    roots: Vec<usize>,
    children: BTreeMap<usize, Vec<usize>>,
}

/// Levels deeper than this are written with the indentation of this one, so that the
/// file grows with the number of items, not with their depth.
const INDENTED_LEVELS: usize = 16;

impl Hierarchy {
    /// `levels` from [`link::parent_levels`]: an item whose chain runs into a cycle (only
    /// in a project with errors) is a root, so that no item is hidden.
    fn new(project: &Project, items: &[usize], levels: &[usize]) -> Hierarchy {
        let mut roots = Vec::new();
        let mut children: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &i in items {
            match link::same_type_parent(&project.items, &project.graph, i) {
                Some(p) if levels[i] > 1 => children.entry(p).or_default().push(i),
                _ => roots.push(i),
            }
        }
        Hierarchy { roots, children }
    }

    /// Writes the hierarchy under `root`, depth first with an explicit stack (a parent
    /// chain can be as long as the project is large). At most
    /// [`link::REQIF_MAX_DEPTH`] levels are nested: the children of an item at that
    /// level follow it at the same level (`reqif-depth-limit` warns about them).
    fn write(&self, project: &Project, root: usize, time: &str, x: &mut String) {
        // (item, level, whether its children are done).
        let mut stack = vec![(root, 1, false)];
        while let Some((i, level, closing)) = stack.pop() {
            let pad = "  ".repeat(4 + 2 * level.min(INDENTED_LEVELS));
            if closing {
                let _ = writeln!(x, "{pad}  </CHILDREN>\n{pad}</SPEC-HIERARCHY>");
                continue;
            }
            let id = &project.items[i].id;
            let _ = writeln!(
                x,
                "{pad}<SPEC-HIERARCHY IDENTIFIER=\"{}\" LAST-CHANGE=\"{}\">",
                ident("SH", &[id]),
                last_change(project, id, time)
            );
            let _ = writeln!(
                x,
                "{pad}  <OBJECT><SPEC-OBJECT-REF>{}</SPEC-OBJECT-REF></OBJECT>",
                ident("SO", &[id])
            );
            match self.children.get(&i) {
                Some(kids) if level < link::REQIF_MAX_DEPTH => {
                    stack.push((i, level, true));
                    let _ = writeln!(x, "{pad}  <CHILDREN>");
                    stack.extend(kids.iter().rev().map(|&k| (k, level + 1, false)));
                }
                Some(kids) => {
                    let _ = writeln!(x, "{pad}</SPEC-HIERARCHY>");
                    stack.extend(kids.iter().rev().map(|&k| (k, level, false)));
                }
                None => {
                    let _ = writeln!(x, "{pad}</SPEC-HIERARCHY>");
                }
            }
        }
    }
}

/// An `xsd:ID`: the prefix, then each part after a `.`, with every character outside
/// `[A-Za-z0-9-]` written as `_xHH_`, so distinct names (and name tuples) stay distinct.
fn ident(prefix: &str, parts: &[&str]) -> String {
    let mut out = prefix.to_owned();
    for (i, part) in parts.iter().enumerate() {
        out.push(if i == 0 { '-' } else { '.' });
        for c in part.chars() {
            if c.is_ascii_alphanumeric() || c == '-' {
                out.push(c);
            } else {
                let _ = write!(out, "_x{:X}_", u32::from(c));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::ident;

    #[test]
    fn identifiers_are_xml_ids_and_stay_distinct() {
        assert_eq!(ident("SO", &["REQ-AUTH-1"]), "SO-REQ-AUTH-1");
        assert_eq!(ident("SO", &["a b"]), "SO-a_x20_b");
        assert_ne!(ident("SO", &["a_b"]), ident("SO", &["a b"]));
    }
}
