//! Version ordering per ecosystem and the OSV range rules, on their edge cases.

use std::cmp::Ordering::{self, Equal, Greater, Less};

use mdbook_qms::diag::code;
use mdbook_qms::evidence::osv::{self, range_affects, EventKind::*};
use mdbook_qms::evidence::version::{compare, Scheme};
use mdbook_qms::source::{FileId, SourceFile};

fn cmp(s: Scheme, a: &str, b: &str) -> Ordering {
    compare(s, a, b).unwrap_or_else(|| panic!("{a} or {b} does not parse as {s:?}"))
}

#[test]
fn semver_precedence() {
    let s = Scheme::Semver;
    // The SemVer 2.0 spec's own example chain.
    let chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    ];
    for w in chain.windows(2) {
        assert_eq!(cmp(s, w[0], w[1]), Less, "{} < {}", w[0], w[1]);
    }
    assert_eq!(cmp(s, "1.0.0+build.5", "1.0.0"), Equal);
    assert_eq!(cmp(s, "v1.10.0", "1.9.9"), Greater);
    assert_eq!(cmp(s, "v4", "4.0.0"), Equal);
    assert_eq!(compare(s, "1.2.3.4", "1.0.0"), None);
    assert_eq!(compare(s, "1.x", "1.0.0"), None);
}

#[test]
fn pep440_ordering() {
    let s = Scheme::Pep440;
    let chain = [
        "1.0.dev1",
        "1.0a1",
        "1.0a2.dev1",
        "1.0a2",
        "1.0b1",
        "1.0rc1",
        "1.0",
        "1.0.post1",
        "1.0.1",
        "1.1",
        "2!0.1",
    ];
    for w in chain.windows(2) {
        assert_eq!(cmp(s, w[0], w[1]), Less, "{} < {}", w[0], w[1]);
    }
    assert_eq!(cmp(s, "1.0", "1.0.0"), Equal);
    assert_eq!(cmp(s, "1.0RC1", "1.0rc1"), Equal);
}

#[test]
fn maven_ordering() {
    let s = Scheme::Maven;
    let chain = [
        "1.0-alpha1",
        "1.0-beta",
        "1.0-M1",
        "1.0-RC1",
        "1.0-SNAPSHOT",
        "1.0",
        "1.0-sp1",
        "1.0.1",
        "1.1",
        "1.10",
    ];
    for w in chain.windows(2) {
        assert_eq!(cmp(s, w[0], w[1]), Less, "{} < {}", w[0], w[1]);
    }
    assert_eq!(cmp(s, "1.0.0", "1"), Equal);
    assert_eq!(cmp(s, "1.0-final", "1.0"), Equal);
    assert_eq!(cmp(s, "4.12.0", "4.9.3"), Greater);
}

fn events(list: &[(osv::EventKind, &str)]) -> Vec<(osv::EventKind, String)> {
    list.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

#[test]
fn range_rules() {
    let s = Scheme::Semver;
    let r = events(&[(Introduced, "0"), (Fixed, "1.2.0")]);
    assert!(range_affects(s, &r, "0.0.1"));
    assert!(range_affects(s, &r, "1.1.9"));
    assert!(
        range_affects(s, &r, "1.2.0-rc.1"),
        "a pre-release of the fix is still affected"
    );
    assert!(!range_affects(s, &r, "1.2.0"));
    // Two intervals, written out of order: [1.0, 1.0.5) and [2.0, 2.0.3].
    let r = events(&[
        (Introduced, "2.0.0"),
        (LastAffected, "2.0.3"),
        (Introduced, "1.0.0"),
        (Fixed, "1.0.5"),
    ]);
    for (v, want) in [
        ("0.9.0", false),
        ("1.0.0", true),
        ("1.0.4", true),
        ("1.0.5", false),
        ("1.9.0", false),
        ("2.0.0", true),
        ("2.0.3", true),
        ("2.0.4", false),
    ] {
        assert_eq!(range_affects(s, &r, v), want, "{v}");
    }
    // Introduced with no end: everything from there on.
    assert!(range_affects(
        s,
        &events(&[(Introduced, "3.0.0")]),
        "99.0.0"
    ));
    // `limit` does not end an interval.
    assert!(range_affects(
        s,
        &events(&[(Introduced, "1.0.0"), (Limit, "1.5.0")]),
        "2.0.0"
    ));
    // A version that does not parse is never reported as affected.
    assert!(!range_affects(s, &r, "not-a-version"));
    // PyPI ordering inside an ECOSYSTEM range.
    let r = events(&[(Introduced, "2.0"), (Fixed, "2.31.0")]);
    assert!(range_affects(Scheme::Pep440, &r, "2.31.0rc1"));
    assert!(!range_affects(Scheme::Pep440, &r, "2.31.0"));
}

fn record(text: &str) -> (Option<osv::Record>, Vec<mdbook_qms::diag::Diagnostic>) {
    let source = SourceFile::new("trace/osv/r.json".into(), text.to_owned());
    let mut ds = Vec::new();
    let r = osv::parse(FileId(0), &source, &mut ds);
    (r, ds)
}

#[test]
fn records_match_by_purl_or_ecosystem() {
    let (r, ds) = record(
        r#"{"id":"GHSA-xxxx","aliases":["CVE-2024-0001"],"modified":"2024-01-01T00:00:00Z",
        "affected":[
          {"package":{"ecosystem":"crates.io","name":"quick-xml"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.31.0"}]}]},
          {"package":{"ecosystem":"Maven","name":"com.squareup.okhttp3:okhttp"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"4.0.0"},{"fixed":"4.12.1"}]}]},
          {"package":{"ecosystem":"PyPI","name":"Requests"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.32.0"}]}]},
          {"package":{"ecosystem":"GIT","name":"https://github.com/nginx/nginx","purl":"pkg:generic/nginx"},"versions":["1.26.2","v1.27.0"]}
        ]}"#,
    );
    assert!(ds.is_empty(), "{ds:?}");
    let r = r.unwrap();
    assert_eq!(
        r.names().collect::<Vec<_>>(),
        ["GHSA-xxxx", "CVE-2024-0001"]
    );
    let hit = |purl: &str| {
        let version = osv::component_version(purl, None).unwrap();
        r.affected
            .iter()
            .any(|a| osv::same_package(a, purl) && osv::is_affected(a, &version))
    };
    assert!(hit("pkg:cargo/quick-xml@0.30.0"));
    assert!(!hit("pkg:cargo/quick-xml@0.31.0"));
    assert!(!hit("pkg:cargo/quick-xml-other@0.1.0"));
    assert!(hit("pkg:maven/com.squareup.okhttp3/okhttp@4.12.0"));
    assert!(!hit("pkg:maven/com.squareup.okhttp3/okhttp@4.12.1"));
    assert!(hit("pkg:pypi/requests@2.31.0"), "PyPI names are normalized");
    assert!(hit("pkg:generic/nginx@1.26.2?arch=x86_64"));
    assert!(
        hit("pkg:generic/nginx@1.27.0"),
        "a leading v is ignored in version lists"
    );
    assert!(!hit("pkg:generic/nginx@1.26.3"));
}

#[test]
fn bad_records_are_diagnostics() {
    let (r, ds) = record("{\"id\": \"X\",\n \"affected\": [");
    assert!(r.is_none());
    assert_eq!(ds[0].code, code::OSV_INVALID);
    assert!(
        ds[0]
            .message
            .starts_with("trace/osv/r.json: not valid JSON"),
        "{}",
        ds[0].message
    );
    let (r, ds) = record(r#"{"summary":"no id"}"#);
    assert!(r.is_none());
    assert!(ds[0].message.contains("no `id`"));
    let (r, ds) = record(
        r#"{"id":"OSV-1","affected":[
          {"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"one.two"}]}]},
          {"package":{"ecosystem":"npm","name":"b"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1.0.0"}]}]},
          {"package":{"ecosystem":"npm","name":"c"},"ranges":[{"type":"RANGE","events":[{"introduced":"0"}]}]},
          {"package":{"ecosystem":"npm","name":"d"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1.0.0"}]}]},
          {"package":{"ecosystem":"Debian:12","name":"openssl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.15-1"}]}]},
          {"package":{}}
        ]}"#,
    );
    let r = r.unwrap();
    let msgs: Vec<(&str, &str)> = ds.iter().map(|d| (d.code, d.message.as_str())).collect();
    assert!(
        msgs.iter()
            .any(|(c, m)| *c == code::OSV_INVALID && m.contains("`one.two` in a SEMVER range")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|(_, m)| m.contains("has no `introduced` event")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|(_, m)| m.contains("unknown range type `RANGE`")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|(_, m)| m.contains("exactly one of")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|(c, m)| *c == code::OSV_UNKNOWN_ECOSYSTEM && m.contains("`Debian:12`")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|(_, m)| m.contains("names no package")),
        "{msgs:?}"
    );
    // Only the Debian entry survives (unordered, so it matches nothing by range).
    assert_eq!(r.affected.len(), 1);
    assert!(!osv::is_affected(&r.affected[0], "3.0.11-1"));
}
