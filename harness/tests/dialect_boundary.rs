//! The dialect boundary as a user meets it: steps and settings are checked by their dialect
//! when a suite loads (`harness check` exits 2 pointing at the column), a policy needs a
//! dialect with a reference server, `harness dialects` lists what each offers, and a step
//! that fails at run time names its file and line.

mod common;

use common::*;
use harness::exit;
use std::path::Path;

/// A suite folder of `dialect` with one case file, and the rest of suite.toml.
fn suite(dialect: &str, case: &str, suite_extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("suite.toml"),
        format!("name = \"t\"\ndialect = \"{dialect}\"\n{suite_extra}"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("cases")).unwrap();
    std::fs::write(dir.path().join("cases/client.toml"), case).unwrap();
    dir
}

fn tls_suite(case: &str, suite_extra: &str) -> tempfile::TempDir {
    suite("tls", case, suite_extra)
}

fn msnp_suite(case: &str, suite_extra: &str) -> tempfile::TempDir {
    suite("msnp", case, suite_extra)
}

fn check(dir: &Path) -> (Option<i32>, String) {
    let out = harness(&["check", &dir.display().to_string()]);
    let shown = stderr(&out).replace(&dir.display().to_string(), "[SUITE]");
    (out.status.code(), shown)
}

#[test]
fn a_misspelt_hello_field_is_a_load_error_at_its_column() {
    let dir = tls_suite(
        "[[step]]\nsend = \"hello versions=TLSv1.2 ciphrs=TLS_AES_128_GCM_SHA256 sni={host}\"\n",
        "",
    );
    let (code, shown) = check(dir.path());
    assert_eq!(code, Some(exit::USAGE), "{shown}");
    insta::assert_snapshot!(shown, @r#"
    error: unknown hello field `ciphrs`
     --> [SUITE]/cases/client.toml:2:32
      |
    2 | send = "hello versions=TLSv1.2 ciphrs=TLS_AES_128_GCM_SHA256 sni={host}"
      |                                ^^^^^^
      = help: did you mean `ciphers`?
    "#);
}

#[test]
fn an_unknown_cipher_name_points_at_the_name() {
    let dir = tls_suite(
        "[[step]]\nsend = \"hello ciphers=TLS_AES_128_GCM_SHA256,TLS_AES_999_GCM\"\n",
        "",
    );
    let (code, shown) = check(dir.path());
    assert_eq!(code, Some(exit::USAGE), "{shown}");
    assert!(
        shown.contains("unknown cipher `TLS_AES_999_GCM`"),
        "{shown}"
    );
    assert!(shown.contains("[SUITE]/cases/client.toml:2:46"), "{shown}");
}

#[test]
fn hex_smuggled_through_text_is_refused_with_the_way_to_write_bytes() {
    let dir = tls_suite("[[step]]\nsend = \"hex 16030100\"\n", "");
    let (code, shown) = check(dir.path());
    assert_eq!(code, Some(exit::USAGE));
    assert!(shown.contains("`hex` is not a TLS step"), "{shown}");
    assert!(shown.contains("send_hex"), "{shown}");
}

#[test]
fn an_unknown_settings_key_is_a_load_error_with_a_suggestion() {
    let dir = tls_suite(
        "[[step]]\nsend = \"hello ciphers=TLS_AES_128_GCM_SHA256\"\n",
        "\n[dialect_settings]\ndeprecated_version = [\"TLSv1\"]\n",
    );
    let (code, shown) = check(dir.path());
    assert_eq!(code, Some(exit::USAGE), "{shown}");
    insta::assert_snapshot!(shown, @r#"
    error: unknown setting `deprecated_version` for the tls dialect
     --> [SUITE]/suite.toml:5:1
      |
    5 | deprecated_version = ["TLSv1"]
      | ^^^^^^^^^^^^^^^^^^
      = help: did you mean `deprecated_versions`?
    "#);
}

#[test]
fn a_settings_value_the_dialect_cannot_use_points_at_the_value() {
    let dir = tls_suite(
        "[[step]]\nsend = \"hello ciphers=TLS_AES_128_GCM_SHA256\"\n",
        "\n[dialect_settings]\ndeprecated_versions = [\"TLSv1.9\"]\n",
    );
    let (code, shown) = check(dir.path());
    assert_eq!(code, Some(exit::USAGE), "{shown}");
    assert!(shown.contains("`TLSv1.9` is not a TLS version"), "{shown}");
    assert!(shown.contains("[SUITE]/suite.toml:5:23"), "{shown}");
}

#[test]
fn an_unknown_setting_is_refused_with_the_dialects_own_keys() {
    let dir = msnp_suite(
        "[[step]]\nsend = \"VER {trid} MSNP8\"\n",
        "[dialect_settings]\nstrict = true\n",
    );
    let (code, shown) = check(dir.path());
    assert_eq!(code, Some(exit::USAGE), "{shown}");
    assert!(
        shown.contains("unknown setting `strict` for the msnp dialect"),
        "{shown}"
    );
    assert!(
        shown.contains("its settings: busy_error_codes, error_error_codes, locked_out_error_codes"),
        "{shown}"
    );
}

#[test]
fn a_policy_on_a_dialect_without_a_reference_server_is_a_load_error() {
    let dir = tls_suite(
        "[[step]]\nsend = \"hello ciphers=TLS_AES_128_GCM_SHA256\"\n",
        "\n[[target]]\nname = \"x\"\npolicy = \"policy.toml\"\nas_of = 2003-10-16\n",
    );
    let (code, shown) = check(dir.path());
    assert_eq!(code, Some(exit::USAGE), "{shown}");
    assert!(
        shown.contains("the tls dialect has no reference server to enforce a policy"),
        "{shown}"
    );
    assert!(shown.contains("[SUITE]/suite.toml:6:10"), "{shown}");
}

#[test]
fn a_step_that_is_not_an_msnp_command_is_a_load_error() {
    let dir = msnp_suite("[[step]]\nsend = \"ver {trid} MSNP8\"\n", "");
    let (code, shown) = check(dir.path());
    assert_eq!(code, Some(exit::USAGE), "{shown}");
    assert!(shown.contains("`ver` is not an MSNP command"), "{shown}");
    assert!(shown.contains("[SUITE]/cases/client.toml:2:9"), "{shown}");
}

#[test]
fn dialects_lists_every_dialect_for_people_and_tools() {
    let out = harness(&["dialects", "--format", "json"]);
    assert_eq!(out.status.code(), Some(exit::SUCCESS));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let by_name = |name: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not listed: {listed}"))
    };
    let msnp = by_name("msnp");
    assert_eq!(msnp["default_port"], 1863);
    assert_eq!(msnp["reference_server"], true);
    assert_eq!(msnp["variables"][0], "trid");
    let tls = by_name("tls");
    assert_eq!(tls["default_port"], 443);
    assert_eq!(tls["reference_server"], false);
    let keys: Vec<&str> = tls["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "deprecated_versions",
            "deprecated_ciphers",
            "weak_dh_bits",
            "weak_rsa_bits",
            "weak_certificate_signatures",
            "busy_alerts",
            "error_alerts",
            "locked_out_alerts"
        ]
    );

    let table = stdout(&harness(&["dialects"]));
    assert!(table.contains("msnp — "), "{table}");
    assert!(table.contains("  reference server: no"), "{table}");
    assert!(table.contains("deprecated_ciphers"), "{table}");
}

#[test]
fn serve_names_the_dialects_that_have_a_reference_server() {
    let policy = seed_suite().join("policy.toml").display().to_string();
    let out = harness(&["serve", "--dialect", "tls", "--policy", &policy]);
    assert_eq!(out.status.code(), Some(exit::USAGE));
    assert!(
        stderr(&out).contains("the tls dialect has no reference server (dialects with one: msnp)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_failed_expect_names_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let policy = seed_suite().join("policy.toml").display().to_string();
    std::fs::write(
        dir.path().join("suite.toml"),
        format!(
            "name = \"m\"\ndialect = \"msnp\"\n[[target]]\nname = \"late\"\npolicy = '{policy}'\nas_of = 2003-10-16\n"
        ),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("cases")).unwrap();
    std::fs::write(
        dir.path().join("cases/c.toml"),
        "[[step]]\nsend = \"VER {trid} MSNP9 MSNP8 CVR0\"\n\n[[step]]\nsend = \"CVR {trid} 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS a@b.c\"\nexpect = '^CVR \\d+ 7\\.'\n",
    )
    .unwrap();
    let out = harness(&["run", &dir.path().display().to_string()]);
    let text = stdout(&out);
    let file = dir.path().join("cases/c.toml").display().to_string();
    assert!(
        text.contains(&format!(
            "does not match expect /^CVR \\d+ 7\\./ at {file}:5"
        )),
        "{text}"
    );
}

#[test]
fn a_binary_step_is_sent_as_its_bytes_and_judged_like_text() {
    let policy = seed_suite().join("policy.toml").display().to_string();
    let targets = format!("[[target]]\nname = \"late\"\npolicy = '{policy}'\nas_of = 2003-10-16\n");
    // VER 1 MSNP8 CVR0\r\n as bytes, then a text CVR: the reference server locks out
    // Windows Messenger 4.7.0041 either way.
    let ver = hex::encode("VER 1 MSNP8 CVR0\r\n");
    let case = format!(
        "[[step]]\nsend_hex = \"{ver}\"\n[[step]]\nsend = \"CVR {{trid}} 0x0409 winnt 5.1 i386 MSMSGS 4.7.0041 WindowsMessenger a@b.c\"\n[[step]]\nsend = \"USR {{trid}} TWN I a@b.c\"\n"
    );
    let dir = msnp_suite(&case, &targets);
    let out = harness(&["run", &dir.path().display().to_string(), "--format", "json"]);
    let text = stdout(&out);
    let (results, _) = json_lines(&text);
    let result = &results[0];
    assert_eq!(result["verdict"], "locked-out", "{text}");
    assert_eq!(result["stage"], "USR", "{text}");
    assert!(
        result["reason"]
            .as_str()
            .unwrap()
            .contains("MSMSGS 4.7.0041 is below the server's stated minimum 4.7.2000"),
        "{text}"
    );
    assert_eq!(
        result["transcript"]["entries"][0]["text"],
        "VER 1 MSNP8 CVR0\r\n"
    );
}

#[test]
fn a_binary_step_with_odd_hex_is_a_load_error_at_the_digit() {
    let dir = msnp_suite("[[step]]\nsend_hex = \"56 45 5\"\n", "");
    let (code, shown) = check(dir.path());
    assert_eq!(code, Some(exit::USAGE), "{shown}");
    assert!(shown.contains("an odd number of hex digits"), "{shown}");
    assert!(shown.contains("[SUITE]/cases/client.toml:2:19"), "{shown}");
}
