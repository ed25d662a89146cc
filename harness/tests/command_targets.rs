//! A server a suite starts on a free port can lose that port to another process before it
//! binds it (the harness finds the port free, then hands it over): on a busy machine, or with
//! tests starting servers side by side. Such a start is tried again on another port, never
//! reported as the target failing.

mod common;

use common::*;

#[test]
fn a_server_whose_port_was_taken_meanwhile_is_started_again_on_another() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path();
    std::fs::create_dir(suite.join("cases")).unwrap();
    std::fs::copy(
        seed_suite().join("cases/msn-messenger-6.0.toml"),
        suite.join("cases/msn-messenger-6.0.toml"),
    )
    .unwrap();
    std::fs::copy(seed_suite().join("policy.toml"), suite.join("policy.toml")).unwrap();
    // The first start fails as a server whose port was taken does; the next one serves.
    std::fs::write(
        suite.join("server.sh"),
        format!(
            "if [ ! -e tried ]; then touch tried; echo \"bind 127.0.0.1:$1: Address already in use\" >&2; exit 1; fi\nexec {} serve --dialect msnp --policy policy.toml --as-of 2003-10-16 --listen 127.0.0.1:$1\n",
            env!("CARGO_BIN_EXE_harness")
        ),
    )
    .unwrap();
    std::fs::write(
        suite.join("suite.toml"),
        "name = \"flaky\"\ndialect = \"msnp\"\ncases = \"cases\"\n[variables]\nemail = \"harness@hotmail.com\"\n[[target]]\nname = \"t\"\ncommand = [\"bash\", \"server.sh\", \"{port}\"]\n",
    )
    .unwrap();
    let out = harness(&["run", suite.to_str().unwrap(), "--format", "json"]);
    let (results, _) = json_lines(&stdout(&out));
    assert!(suite.join("tried").exists());
    assert_eq!(results.len(), 1, "{}", stderr(&out));
    assert_eq!(results[0]["verdict"], "admitted", "{}", stderr(&out));
}
