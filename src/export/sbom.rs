//! SBOM out: CycloneDX 1.6 JSON with the support data and the VEX analyses, or an
//! OpenVEX document. Deterministic: components in id order, no wall-clock time (the
//! timestamp is `SOURCE_DATE_EPOCH`, else the HEAD commit's time, else the newest
//! input SBOM's), and a serial number derived from the content.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::date::Timestamp;
use crate::documents::device::Device;
use crate::evidence::vex::{cvss_score, justification_label};
use crate::project::Project;

/// What `mdbook-qms sbom` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    /// A CycloneDX SBOM of the component items.
    Cyclonedx,
    /// An OpenVEX document of the vulnerability items.
    Openvex,
}
crate::choice::impl_choice!(pub OutFormat { Cyclonedx => "cyclonedx", Openvex => "openvex" });

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Serialize)]
struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    tools: Tools,
    /// The device's manufacturer, who issues the SBOM.
    #[serde(skip_serializing_if = "Option::is_none")]
    manufacturer: Option<Org>,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Tool>,
}

#[derive(Serialize)]
struct Tool {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Org {
    name: String,
}

#[derive(Serialize)]
struct Component {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    supplier: Option<Org>,
    #[serde(skip_serializing_if = "Option::is_none")]
    manufacturer: Option<Org>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<License>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct License {
    expression: String,
}

#[derive(Serialize)]
struct Property {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

#[derive(Serialize)]
struct Vulnerability {
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Source>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ratings: Vec<Rating>,
    description: String,
    analysis: Analysis,
    affects: Vec<Affect>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Source {
    name: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Rating {
    score: f64,
    severity: &'static str,
    method: &'static str,
    vector: String,
}

#[derive(Serialize)]
struct Analysis {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

#[derive(Serialize)]
struct Affect {
    #[serde(rename = "ref")]
    reference: String,
}

/// VEX status -> CycloneDX `analysis.state`.
fn state(status: &str) -> &'static str {
    match status {
        "not_affected" => "not_affected",
        "affected" => "exploitable",
        "fixed" => "resolved",
        _ => "in_triage",
    }
}

/// OpenVEX justification label -> CycloneDX `analysis.justification`.
fn cdx_justification(label: &str) -> &'static str {
    match label {
        "component_not_present" | "vulnerable_code_not_present" => "code_not_present",
        "vulnerable_code_not_in_execute_path" => "code_not_reachable",
        "vulnerable_code_cannot_be_controlled_by_adversary" => "requires_environment",
        _ => "protected_by_mitigating_control",
    }
}

/// The time stamped into generated documents.
fn doc_time(project: &Project) -> Option<String> {
    project.commit_time().map(Timestamp::rfc3339).or_else(|| {
        project
            .traces
            .sboms
            .iter()
            .filter_map(|s| s.timestamp.clone())
            .max()
    })
}

impl Device {
    /// The device as an OpenVEX product: a generic package URL of its name and version
    /// (an IRI, as OpenVEX asks).
    fn product_id(&self) -> String {
        use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
        // What a package URL component may hold unencoded (RFC 3986 unreserved).
        const ENCODED: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        let part = |s: &str| utf8_percent_encode(s, ENCODED).to_string();
        let namespace = self
            .manufacturer
            .as_deref()
            .map(|m| format!("{}/", part(m)))
            .unwrap_or_default();
        let version = self
            .version
            .as_deref()
            .map(|v| format!("@{}", part(v)))
            .unwrap_or_default();
        format!("pkg:generic/{namespace}{}{version}", part(&self.name))
    }
}

/// A deterministic RFC 4122-shaped id from the content (version 4 layout, so it
/// validates, but derived from a hash rather than random).
fn content_uuid(bytes: &[u8]) -> String {
    let h = xxhash_rust::xxh3::xxh3_128(bytes).to_be_bytes();
    let mut b = h;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The component items in id order, each with the bom-ref the output gives it.
fn components(project: &Project) -> Vec<(usize, String)> {
    let mut list: Vec<usize> = (0..project.items.len())
        .filter(|&i| project.items[i].ty == "component" && project.is_primary(i))
        .collect();
    list.sort_by(|&a, &b| crate::text::natural_cmp(&project.items[a].id, &project.items[b].id));
    let mut used = HashSet::new();
    list.into_iter()
        .map(|i| {
            let v = project.traces.component_view(&project.items[i]);
            let mut r = v
                .purl
                .clone()
                .or(v.bom_ref.clone())
                .unwrap_or_else(|| project.items[i].id.clone());
            if !used.insert(r.clone()) {
                r = project.items[i].id.clone();
                used.insert(r.clone());
            }
            (i, r)
        })
        .collect()
}

/// CycloneDX 1.6 JSON of the project's components and vulnerability assessments.
pub(crate) fn cyclonedx(project: &Project) -> String {
    let device = Device::of(project);
    let comps = components(project);
    let refs: BTreeMap<usize, String> = comps.iter().cloned().collect();
    let mut out_components = Vec::new();
    let mut deps = Vec::new();
    let mut depended: HashSet<usize> = HashSet::new();
    // Per SBOM, the item each bom-ref stands for.
    let items_by_ref: Vec<HashMap<&str, &str>> = project
        .traces
        .sboms
        .iter()
        .map(|s| {
            s.components
                .iter()
                .filter_map(|c| Some((c.bom_ref.as_str(), c.item.as_deref()?)))
                .collect()
        })
        .collect();
    for (i, r) in &comps {
        let v = project.traces.component_view(&project.items[*i]);
        let item = &project.items[*i];
        let mut properties = vec![Property {
            name: "mdbook-qms:item",
            value: item.id.clone(),
        }];
        if let Some(s) = &v.support {
            properties.push(Property {
                name: "mdbook-qms:support-level",
                value: s.clone(),
            });
        }
        if let Some(e) = &v.end_of_support {
            properties.push(Property {
                name: "mdbook-qms:end-of-support",
                value: e.clone(),
            });
            properties.push(Property {
                name: "cdx:lifecycle:milestone:endOfSupport",
                value: e.clone(),
            });
        }
        out_components.push(Component {
            kind: v
                .kind
                .clone()
                .filter(|k| KINDS.contains(&k.as_str()))
                .unwrap_or_else(|| "library".into()),
            bom_ref: r.clone(),
            supplier: v.supplier.clone().map(|name| Org { name }),
            manufacturer: None,
            name: v.name.clone().unwrap_or_else(|| item.title.clone()),
            version: v.version.clone(),
            description: None,
            licenses: v
                .license
                .clone()
                .map(|expression| vec![License { expression }])
                .unwrap_or_default(),
            cpe: v.cpe.clone(),
            purl: v.purl.clone(),
            properties,
        });
        let mut on: Vec<String> = project
            .graph
            .out(*i)
            .filter(|l| l.field == "depends_on")
            .filter_map(|l| {
                depended.insert(l.to);
                refs.get(&l.to).cloned()
            })
            .collect();
        // Relationships the SBOMs state for a component that is an item count too.
        for (s, c) in project.traces.sbom_entries(&item.id) {
            for dep in &c.depends_on {
                let target = items_by_ref[s]
                    .get(dep.as_str())
                    .and_then(|id| project.graph.get(id));
                if let Some(t) = target.filter(|t| t != i) {
                    depended.insert(t);
                    if let Some(r) = refs.get(&t) {
                        on.push(r.clone());
                    }
                }
            }
        }
        on.sort();
        on.dedup();
        deps.push(Dependency {
            reference: r.clone(),
            depends_on: on,
        });
    }
    // The product depends on the components nothing else depends on.
    let mut top: Vec<String> = comps
        .iter()
        .filter(|(i, _)| !depended.contains(i))
        .map(|(_, r)| r.clone())
        .collect();
    top.sort();
    deps.insert(
        0,
        Dependency {
            reference: "product".into(),
            depends_on: top,
        },
    );

    let mut vulns = Vec::new();
    let mut vlist: Vec<usize> = (0..project.items.len())
        .filter(|&i| project.items[i].ty == "vulnerability" && project.is_primary(i))
        .collect();
    vlist.sort_by(|&a, &b| crate::text::natural_cmp(&project.items[a].id, &project.items[b].id));
    for i in vlist {
        let item = &project.items[i];
        let status = item.text("status").unwrap_or("under_investigation");
        let cve = item.text("cve").map(str::to_owned);
        let mut ratings = Vec::new();
        if let Some(vector) = item.text("cvss") {
            if let Some((score, severity)) = cvss_score(vector) {
                let method = if vector.starts_with("CVSS:4") {
                    "CVSSv4"
                } else if vector.starts_with("CVSS:3.1") {
                    "CVSSv31"
                } else {
                    "CVSSv3"
                };
                ratings.push(Rating {
                    score,
                    severity,
                    method,
                    vector: vector.to_owned(),
                });
            }
        }
        let justification = item.text("justification");
        let detail = match status {
            "not_affected" => justification.map(str::to_owned),
            _ => item.text("action").map(str::to_owned),
        };
        let mut affects: Vec<Affect> = project
            .graph
            .out(i)
            .filter(|l| l.field == "components")
            .filter_map(|l| {
                refs.get(&l.to).map(|r| Affect {
                    reference: r.clone(),
                })
            })
            .collect();
        affects.sort_by(|a, b| a.reference.cmp(&b.reference));
        affects.dedup_by(|a, b| a.reference == b.reference);
        let mut properties = vec![Property {
            name: "mdbook-qms:item",
            value: item.id.clone(),
        }];
        for (k, name) in [
            ("identified", "mdbook-qms:identified"),
            ("patched", "mdbook-qms:patched"),
            ("deployed", "mdbook-qms:deployed"),
        ] {
            if let Some(d) = item.text(k) {
                properties.push(Property {
                    name,
                    value: d.to_owned(),
                });
            }
        }
        vulns.push(Vulnerability {
            bom_ref: item.id.clone(),
            source: cve
                .as_deref()
                .filter(|c| c.starts_with("CVE-"))
                .map(|c| Source {
                    name: "NVD",
                    url: format!("https://nvd.nist.gov/vuln/detail/{c}"),
                }),
            id: cve.unwrap_or_else(|| item.id.clone()),
            ratings,
            description: item.title.clone(),
            analysis: Analysis {
                state: state(status),
                justification: (status == "not_affected")
                    .then(|| {
                        justification
                            .and_then(justification_label)
                            .map(cdx_justification)
                    })
                    .flatten(),
                detail: detail.map(|d| d.trim().to_owned()),
            },
            affects,
            properties,
        });
    }
    let mut bom = Bom {
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: String::new(),
        version: 1,
        metadata: Metadata {
            timestamp: doc_time(project),
            tools: Tools {
                components: vec![Tool {
                    kind: "application",
                    name: "mdbook-qms",
                    version: env!("CARGO_PKG_VERSION"),
                }],
            },
            manufacturer: device.manufacturer.clone().map(|name| Org { name }),
            component: Component {
                kind: if device.item.is_some() {
                    "device"
                } else {
                    "application"
                }
                .into(),
                bom_ref: "product".into(),
                supplier: device.manufacturer.clone().map(|name| Org { name }),
                manufacturer: device.manufacturer.clone().map(|name| Org { name }),
                name: device.name.clone(),
                version: device.version.clone(),
                description: device.description.clone(),
                licenses: Vec::new(),
                cpe: None,
                purl: None,
                properties: device
                    .item
                    .map(|id| {
                        vec![Property {
                            name: "mdbook-qms:item",
                            value: id,
                        }]
                    })
                    .unwrap_or_default(),
            },
        },
        components: out_components,
        dependencies: deps,
        vulnerabilities: vulns,
    };
    let body = serde_json::to_vec(&bom).unwrap_or_default();
    bom.serial_number = format!("urn:uuid:{}", content_uuid(&body));
    serde_json::to_string_pretty(&bom).unwrap_or_default() + "\n"
}

/// The CycloneDX component types (1.6).
const KINDS: &[&str] = &[
    "application",
    "framework",
    "library",
    "container",
    "platform",
    "operating-system",
    "device",
    "device-driver",
    "firmware",
    "file",
    "machine-learning-model",
    "data",
    "cryptographic-asset",
];

#[derive(Serialize)]
struct OpenVex {
    #[serde(rename = "@context")]
    context: &'static str,
    #[serde(rename = "@id")]
    id: String,
    author: String,
    timestamp: String,
    version: u32,
    tooling: String,
    statements: Vec<Statement>,
}

#[derive(Serialize)]
struct Statement {
    vulnerability: VexVuln,
    products: Vec<Product>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impact_statement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action_statement: Option<String>,
}

#[derive(Serialize)]
struct VexVuln {
    name: String,
}

/// A product of a statement: the device, with the components the vulnerability is in
/// as its subcomponents.
#[derive(Serialize)]
struct Product {
    #[serde(rename = "@id")]
    id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subcomponents: Vec<Subcomponent>,
}

#[derive(Serialize)]
struct Subcomponent {
    #[serde(rename = "@id")]
    id: String,
}

/// An OpenVEX 0.2.0 document: one statement per vulnerability item.
pub(crate) fn openvex(project: &Project) -> String {
    let device = Device::of(project);
    let refs: BTreeMap<usize, String> = components(project).into_iter().collect();
    let mut vlist: Vec<usize> = (0..project.items.len())
        .filter(|&i| project.items[i].ty == "vulnerability" && project.is_primary(i))
        .collect();
    vlist.sort_by(|&a, &b| crate::text::natural_cmp(&project.items[a].id, &project.items[b].id));
    let mut statements = Vec::new();
    for i in vlist {
        let item = &project.items[i];
        let status = match item.text("status").unwrap_or("under_investigation") {
            "not_affected" => "not_affected",
            "affected" => "affected",
            "fixed" => "fixed",
            _ => "under_investigation",
        };
        let mut subcomponents: Vec<Subcomponent> = project
            .graph
            .out(i)
            .filter(|l| l.field == "components")
            .filter_map(|l| refs.get(&l.to))
            .map(|r| Subcomponent { id: r.clone() })
            .collect();
        subcomponents.sort_by(|a, b| a.id.cmp(&b.id));
        subcomponents.dedup_by(|a, b| a.id == b.id);
        let products = vec![Product {
            id: device.product_id(),
            subcomponents,
        }];
        let justification = item.text("justification").map(|t| t.trim().to_owned());
        let label = justification.as_deref().and_then(justification_label);
        statements.push(Statement {
            vulnerability: VexVuln {
                name: item.text("cve").unwrap_or(&item.id).to_owned(),
            },
            products,
            status,
            justification: if status == "not_affected" {
                label
            } else {
                None
            },
            impact_statement: if status == "not_affected" {
                justification
            } else {
                None
            },
            action_statement: if status == "affected" {
                item.text("action").map(|t| t.trim().to_owned())
            } else {
                None
            },
        });
    }
    let mut doc = OpenVex {
        context: "https://openvex.dev/ns/v0.2.0",
        id: String::new(),
        author: device
            .manufacturer
            .clone()
            .unwrap_or_else(|| device.name.clone()),
        timestamp: doc_time(project).unwrap_or_else(|| "1970-01-01T00:00:00Z".into()),
        version: 1,
        tooling: format!("mdbook-qms {}", env!("CARGO_PKG_VERSION")),
        statements,
    };
    let body = serde_json::to_vec(&doc).unwrap_or_default();
    doc.id = format!("urn:uuid:{}", content_uuid(&body));
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// `mdbook-qms sbom`: the document for a checked project.
pub fn generate(project: &Project, format: OutFormat) -> String {
    match format {
        OutFormat::Cyclonedx => cyclonedx(project),
        OutFormat::Openvex => openvex(project),
    }
}

/// Whether `bytes` is a document [`generate`] wrote (either format), which `sbom --out`
/// may replace: its tool is mdbook-qms.
pub fn is_generated(bytes: &[u8]) -> bool {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return false;
    };
    let cyclonedx = doc
        .pointer("/metadata/tools/components")
        .and_then(|c| c.as_array())
        .is_some_and(|tools| tools.iter().any(|t| t["name"] == "mdbook-qms"));
    let openvex = doc["tooling"]
        .as_str()
        .is_some_and(|t| t.starts_with("mdbook-qms "));
    cyclonedx || openvex
}
