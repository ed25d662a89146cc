//! What every dialect reads of a recorded client (its identity, fingerprint, signature and
//! distinctions: what `import`, `import --group` and `judge` read of every session) never
//! panics, whatever the client sent. `VER \r\n`, an MSNP line with no TrID, once did.

use crate::campaign::check;
use proptest::prelude::*;

/// Every reader of a recorded client, on `messages`.
fn read_all(messages: &[Vec<u8>]) {
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    for dialect in harness::dialect::all() {
        let _ = dialect.recorded_identity(&refs);
        let _ = dialect.fingerprint(&refs);
        let _ = dialect.client_signature(&refs);
        let _ = dialect.distinctions(&refs);
        if let Some(first) = refs.first() {
            let _ = dialect.opens_handshake(first);
        }
    }
}

#[test]
fn recorded_clients_are_read_without_panicking() {
    read_all(&[b"VER \r\n".to_vec()]);
    read_all(&[
        b"VER\r\n".to_vec(),
        b"CVR\r\n".to_vec(),
        b"CVR 2\r\n".to_vec(),
    ]);
    read_all(&[Vec::new()]);
    // Lines of every dialect, cut anywhere, and bytes of no dialect.
    let strategy = prop::collection::vec(
        prop_oneof![
            "(VER|CVR|CVQ|USR|INF)( [!-~]{0,12}){0,9}\r\n".prop_map(String::into_bytes),
            "(GET|POST|HEAD) /[!-~]{0,20} HTTP/1\\.[01]\r\n([A-Za-z-]{1,12}: [ -~]{0,20}\r\n){0,4}\r\n"
                .prop_map(String::into_bytes),
            "SSH-2\\.0-[!-~]{0,20}\r\n".prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..200),
        ],
        0..6,
    );
    check(
        "recorded_clients_are_read_without_panicking",
        file!(),
        strategy,
        |messages| {
            let cut: Vec<Vec<u8>> = messages.iter().map(|m| m[..m.len() / 2].to_vec()).collect();
            read_all(&messages);
            read_all(&cut);
            Ok(())
        },
    );
}
