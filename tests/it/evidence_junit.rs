//! JUnit XML as the common test runners write it, and the malformed or hostile files
//! that must become one clear diagnostic each.

use mdbook_qms::date::Timestamp;
use mdbook_qms::diag::code;
use mdbook_qms::evidence::junit::{self, Outcome, TestCase};
use mdbook_qms::evidence::{evidence_match, glob_match};
use mdbook_qms::source::{FileId, SourceFile};

// The error is the library's `Diagnostic`, as `junit::parse` returns it.
#[allow(clippy::result_large_err)]
fn parse(text: &str) -> Result<Vec<TestCase>, mdbook_qms::diag::Diagnostic> {
    let source = SourceFile::new("trace/results/x.xml".into(), text.to_owned());
    junit::parse(FileId(0), &source)
}

fn outcomes(cases: &[TestCase]) -> Vec<(String, Outcome)> {
    cases
        .iter()
        .map(|c| (c.full_names()[0].clone(), c.outcome))
        .collect()
}

/// cargo-nextest 0.9 (`[profile.ci.junit] path = "junit.xml"`).
const NEXTEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="4" failures="1" errors="0" uuid="a1b2" timestamp="2026-11-28T10:00:00.123+00:00" time="1.5">
    <testsuite name="mdbook-qms::check_cli" tests="2" disabled="0" errors="0" failures="1">
        <testcase name="bad_directives" classname="mdbook-qms::check_cli" timestamp="2026-11-28T10:00:00.200+00:00" time="0.2">
        </testcase>
        <testcase name="an_item_placed_twice" classname="mdbook-qms::check_cli" timestamp="2026-11-28T10:00:00.300+00:00" time="0.3">
            <failure type="test failure with exit code 101">thread 'an_item_placed_twice' panicked at tests/check_cli.rs:10:5:
assertion `left == right` failed</failure>
            <system-out>running 1 test</system-out>
            <system-err>thread 'an_item_placed_twice' panicked</system-err>
        </testcase>
    </testsuite>
    <testsuite name="mdbook-qms" tests="2" disabled="1" errors="0" failures="0">
        <testcase name="config::tests::reads_the_qms_table_with_spans" classname="mdbook-qms" time="0.01"/>
        <testcase name="yaml::tests::slow" classname="mdbook-qms" time="0">
            <skipped/>
        </testcase>
    </testsuite>
</testsuites>
"#;

#[test]
fn nextest_report() {
    let cases = parse(NEXTEST).unwrap();
    assert_eq!(
        outcomes(&cases),
        [
            (
                "mdbook-qms::check_cli::bad_directives".to_owned(),
                Outcome::Passed
            ),
            (
                "mdbook-qms::check_cli::an_item_placed_twice".to_owned(),
                Outcome::Failed
            ),
            (
                "mdbook-qms::config::tests::reads_the_qms_table_with_spans".to_owned(),
                Outcome::Passed
            ),
            ("mdbook-qms::yaml::tests::slow".to_owned(), Outcome::Skipped),
        ]
    );
    // The failure's first line is its message when there is no `message` attribute.
    assert_eq!(
        cases[1].message.as_deref(),
        Some("thread 'an_item_placed_twice' panicked at tests/check_cli.rs:10:5:")
    );
    // Case timestamps win; the suites' timestamp is the fallback.
    assert_eq!(cases[0].timestamp, Timestamp::parse("2026-11-28T10:00:00Z"));
    assert_eq!(cases[2].timestamp, Timestamp::parse("2026-11-28T10:00:00Z"));
    assert_eq!(cases[0].suites, ["nextest-run", "mdbook-qms::check_cli"]);
    // Evidence names written as `binary::test` match.
    assert!(cases[0]
        .full_names()
        .iter()
        .any(|n| evidence_match("check_cli::bad_directives", n)));
    assert!(cases[1]
        .full_names()
        .iter()
        .any(|n| evidence_match("check_cli::*", n)));
    assert!(!cases[0]
        .full_names()
        .iter()
        .any(|n| evidence_match("cli::bad_directives", n)));
}

/// pytest 8 (`--junitxml`, xunit2 family): properties, error, skip with message.
const PYTEST: &str = r#"<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="0" skipped="1" tests="4" time="2.113" timestamp="2026-11-27T09:15:02.511873+01:00" hostname="ci-7"><properties><property name="ci" value="true"/></properties><testcase classname="tests.test_auth.TestLogin" name="test_login_requires_second_factor" time="0.412"><properties><property name="requirement" value="REQ-AUTH-001"/></properties></testcase><testcase classname="tests.test_auth.TestLogin" name="test_session_idle_timeout[15min]" time="0.101"/><testcase classname="tests.test_db" name="test_db_snapshot_encrypted" time="0.002"><error message="failed on setup with &quot;fixture 'kms' not found&quot;">file /src/tests/test_db.py, line 12</error></testcase><testcase classname="tests.test_siem" name="test_siem_ingests_pump_log" time="0.000"><skipped type="pytest.skip" message="staging SIEM not provisioned">/src/tests/test_siem.py:8: staging SIEM not provisioned</skipped></testcase></testsuite></testsuites>"#;

#[test]
fn pytest_report() {
    let cases = parse(PYTEST).unwrap();
    let o: Vec<Outcome> = cases.iter().map(|c| c.outcome).collect();
    assert_eq!(
        o,
        [
            Outcome::Passed,
            Outcome::Passed,
            Outcome::Error,
            Outcome::Skipped
        ]
    );
    // The suite's properties come first, then the case's own.
    let pair = |n: &str, v: &str| (n.to_owned(), v.to_owned());
    assert_eq!(
        cases[0].properties,
        [pair("ci", "true"), pair("requirement", "REQ-AUTH-001")]
    );
    assert_eq!(cases[1].properties, [pair("ci", "true")]);
    assert_eq!(
        cases[2].message.as_deref(),
        Some("failed on setup with \"fixture 'kms' not found\"")
    );
    // The timestamp's offset is honoured: 09:15:02+01:00 is 08:15:02Z.
    assert_eq!(cases[0].timestamp, Timestamp::parse("2026-11-27T08:15:02Z"));
    // Parametrized names and dotted class names match as written or by pattern.
    assert!(cases[1]
        .full_names()
        .iter()
        .any(|n| evidence_match("test_session_idle_timeout*", n)));
    assert!(cases[0]
        .full_names()
        .iter()
        .any(|n| evidence_match("TestLogin::test_login_requires_second_factor", n)));
    assert!(cases[0]
        .full_names()
        .iter()
        .any(|n| evidence_match("test_auth.TestLogin.test_login_requires_second_factor", n)));
}

/// GoogleTest 1.14 (`--gtest_output=xml`): `result="skipped"` plus <skipped>,
/// failures with messages, nested in suites with their own timestamps.
const GTEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="1" disabled="0" errors="0" time="0.012" timestamp="2026-11-26T14:03:11.123" name="AllTests">
  <testsuite name="PairingTest" tests="3" failures="1" disabled="0" skipped="1" errors="0" time="0.004" timestamp="2026-11-26T14:03:11.125">
    <testcase name="RejectsJustWorks" file="test/pairing_test.cc" line="12" status="run" result="completed" time="0.001" timestamp="2026-11-26T14:03:11.125" classname="PairingTest" />
    <testcase name="RejectsLegacy" file="test/pairing_test.cc" line="20" status="run" result="completed" time="0.002" timestamp="2026-11-26T14:03:11.126" classname="PairingTest">
      <failure message="test/pairing_test.cc:24&#x0A;Expected equality of these values:&#x0A;  result&#x0A;    Which is: 0" type=""><![CDATA[test/pairing_test.cc:24
Expected equality of these values:
  result]]></failure>
    </testcase>
    <testcase name="BondsWithPasskey" file="test/pairing_test.cc" line="30" status="run" result="skipped" time="0" timestamp="2026-11-26T14:03:11.128" classname="PairingTest">
      <skipped message="test/pairing_test.cc:31&#x0A;needs a radio"><![CDATA[needs a radio]]></skipped>
    </testcase>
  </testsuite>
</testsuites>
"#;

#[test]
fn googletest_report() {
    let cases = parse(GTEST).unwrap();
    let o: Vec<Outcome> = cases.iter().map(|c| c.outcome).collect();
    assert_eq!(o, [Outcome::Passed, Outcome::Failed, Outcome::Skipped]);
    // Character references in attributes are decoded.
    assert_eq!(cases[1].message.as_deref(), Some("test/pairing_test.cc:24\nExpected equality of these values:\n  result\n    Which is: 0"));
    assert!(cases[0]
        .full_names()
        .iter()
        .any(|n| evidence_match("PairingTest.RejectsJustWorks", n)));
    // No offset: UTC is assumed.
    assert_eq!(cases[0].timestamp, Timestamp::parse("2026-11-26T14:03:11Z"));
}

/// Maven Surefire 3 (TEST-*.xml): one <testsuite> root with properties, a flaky
/// test that passed on rerun, and an error.
const SUREFIRE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd" version="3.0" name="com.acme.cloud.AuthIT" time="3.21" tests="3" errors="1" skipped="0" failures="0">
  <properties>
    <property name="java.version" value="21.0.2"/>
    <property name="user.dir" value="/builds/cloud"/>
  </properties>
  <testcase name="loginRequiresSecondFactor" classname="com.acme.cloud.AuthIT" time="1.1"/>
  <testcase name="sessionIdleTimeout" classname="com.acme.cloud.AuthIT" time="0.9">
    <flakyFailure message="timeout" type="java.util.concurrent.TimeoutException"><stackTrace>java.util.concurrent.TimeoutException</stackTrace></flakyFailure>
  </testcase>
  <testcase name="idorOtherClinic" classname="com.acme.cloud.AuthIT" time="0.4">
    <error message="Connection refused" type="java.net.ConnectException">java.net.ConnectException: Connection refused
	at com.acme.cloud.AuthIT.idorOtherClinic(AuthIT.java:77)</error>
  </testcase>
</testsuite>
"#;

#[test]
fn surefire_report() {
    let cases = parse(SUREFIRE).unwrap();
    let o: Vec<Outcome> = cases.iter().map(|c| c.outcome).collect();
    assert_eq!(o, [Outcome::Passed, Outcome::Passed, Outcome::Error]);
    assert!(cases[2]
        .full_names()
        .iter()
        .any(|n| evidence_match("AuthIT.idorOtherClinic", n)));
    assert!(cases[2]
        .full_names()
        .iter()
        .any(|n| evidence_match("com.acme.cloud.*", n)));
    assert_eq!(cases[0].timestamp, None);
}

/// CTest 3.28 (`--output-junit`): one suite, status attributes, <skipped> for
/// not-run tests, system-out bodies with entities.
const CTEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="Linux-c++" tests="2" failures="1" disabled="0" skipped="0" hostname="" time="0" timestamp="2026-11-25T07:01:00" >
	<testcase name="fuzz_tlv_parser" classname="fuzz_tlv_parser" time="12.5" status="run">
		<system-out>INFO: Seed: 1 &lt;done&gt;</system-out>
	</testcase>
	<testcase name="boot_rejects_bitflip" classname="boot_rejects_bitflip" time="0.2" status="fail">
		<failure message="Failed"/>
		<system-out>image hash mismatch &amp; boot continued</system-out>
	</testcase>
</testsuite>
"#;

#[test]
fn ctest_report() {
    let cases = parse(CTEST).unwrap();
    let o: Vec<Outcome> = cases.iter().map(|c| c.outcome).collect();
    assert_eq!(o, [Outcome::Passed, Outcome::Failed]);
    // classname equal to the name is not doubled.
    assert_eq!(cases[0].full_names(), ["fuzz_tlv_parser"]);
    assert_eq!(cases[1].message.as_deref(), Some("Failed"));
}

fn error_of(text: &str) -> (String, usize) {
    let source = SourceFile::new("trace/results/x.xml".into(), text.to_owned());
    let d = junit::parse(FileId(0), &source).expect_err("must be rejected");
    assert_eq!(d.code, code::JUNIT_INVALID);
    assert!(
        d.message.starts_with("trace/results/x.xml: "),
        "{}",
        d.message
    );
    let line = match d.location {
        mdbook_qms::diag::Location::Span(s) => source.line_col(s.start).0,
        _ => 0,
    };
    (d.message, line)
}

#[test]
fn doctype_and_entities_are_rejected_not_expanded() {
    // Billion laughs: rejected at the DOCTYPE, nothing is expanded.
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<testsuites><testsuite name="s"><testcase name="&lol2;"/></testsuite></testsuites>"#;
    let (msg, line) = error_of(bomb);
    assert!(msg.contains("DOCTYPE is not allowed"), "{msg}");
    assert_eq!(line, 2);
    // External entity (XXE).
    let xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE t [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<testsuite><testcase name=\"&x;\"/></testsuite>";
    assert!(error_of(xxe).0.contains("DOCTYPE"));
    // An undefined entity without a DOCTYPE, in text and in an attribute.
    let (msg, line) = error_of("<testsuite name=\"s\">\n<testcase name=\"a\"><failure>&x;</failure></testcase>\n</testsuite>");
    assert!(msg.contains("undefined entity `&x;`"), "{msg}");
    assert_eq!(line, 2);
    let (msg, _) = error_of("<testsuite name=\"s\"><testcase name=\"&x;\"/></testsuite>");
    assert!(msg.contains("never expanded"), "{msg}");
}

#[test]
fn truncated_and_foreign_files_are_named() {
    let (msg, _) = error_of("<testsuites><testsuite name=\"s\"><testcase name=\"a\">");
    assert!(
        msg.contains("truncated") || msg.contains("malformed"),
        "{msg}"
    );
    let (msg, _) = error_of(&NEXTEST[..NEXTEST.len() / 2]);
    assert!(
        msg.contains("truncated") || msg.contains("malformed"),
        "{msg}"
    );
    let (msg, _) = error_of("<project><modelVersion>4.0.0</modelVersion></project>");
    assert!(
        msg.contains("not a JUnit report: the root element is <project>"),
        "{msg}"
    );
    let (msg, _) = error_of("not xml at all");
    assert!(msg.contains("not a JUnit report"), "{msg}");
    let (msg, line) = error_of("<testsuite>\n<testcase name=\"a\"></testsuite>");
    assert!(msg.contains("malformed"), "{msg}");
    assert_eq!(line, 2);
    let (msg, _) = error_of("<testsuite><testcase classname=\"x\"/></testsuite>");
    assert!(msg.contains("without a `name`"), "{msg}");
    let (msg, _) =
        error_of("<testsuite timestamp=\"yesterday\"><testcase name=\"a\"/></testsuite>");
    assert!(msg.contains("not an ISO 8601"), "{msg}");
}

#[test]
fn timestamps_and_globs() {
    assert_eq!(
        Timestamp::parse("1970-01-01T00:00:00Z"),
        Some(Timestamp::utc(0))
    );
    assert_eq!(
        Timestamp::parse("1970-01-02 00:00:01"),
        Some(Timestamp::utc(86_401))
    );
    assert_eq!(
        Timestamp::parse("2000-03-01T00:00:00-01:30"),
        Some(Timestamp::utc(951_868_800 + 5400))
    );
    assert_eq!(Timestamp::parse("2026-13-01T00:00:00Z"), None);
    assert_eq!(Timestamp::parse("2026-11-28T25:00:00Z"), None);
    assert!(glob_match("**/*.xml", "junit.xml"));
    assert!(glob_match("**/*.xml", "results/a/junit.xml"));
    assert!(!glob_match("*.xml", "results/junit.xml"));
    assert!(glob_match("results/**", "results/a/b.xml"));
    assert!(glob_match("**/*.cdx.json", "sbom/pump.cdx.json"));
    assert!(!glob_match("**/*.cdx.json", "sbom/pump.spdx.json"));
}
