//! The MySQL framer and classifier against arbitrary bytes: whatever a server (or a
//! recording) sends, framed in any split, nothing panics, every message is bounded, and the
//! conversation ends in a verdict that names its stage; an ERR never admits.

use bytes::{Bytes, BytesMut};
use harness::dialect::{self, Ending};
use harness::direction::Direction;
use harness::verdict::VerdictKind;
use proptest::prelude::*;

fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_le_bytes()[..3].to_vec();
    out.push(seq);
    out.extend_from_slice(payload);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_server_bytes_frame_and_classify_without_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        split in 1usize..64,
    ) {
        let mysql = dialect::by_name("mysql").unwrap();
        let mut framer = dialect::framer(mysql, Direction::Server);
        let mut conversation = mysql.conversation(None, &dialect::Settings::none());
        let mut buf = BytesMut::new();
        let mut decided = None;
        'feed: for piece in bytes.chunks(split) {
            buf.extend_from_slice(piece);
            loop {
                match framer.next(&mut buf) {
                    Ok(Some(message)) => {
                        prop_assert!(message.len() <= harness::dialect::mysql::framing::MAX_MESSAGE);
                        let _ = mysql.describe(Direction::Server, &message);
                        let received = conversation.receive(Bytes::from(message.to_vec()));
                        if let Some(verdict) = received.verdict {
                            decided = Some(verdict);
                            break 'feed;
                        }
                    }
                    Ok(None) => break,
                    Err(_) => break 'feed,
                }
            }
        }
        let verdict = decided.unwrap_or_else(|| conversation.ended(Ending::Closed));
        prop_assert!(!verdict.stage.is_empty());
    }

    #[test]
    fn an_err_packet_never_admits(code in any::<u16>(), message in "[ -~]{0,80}") {
        let mysql = dialect::by_name("mysql").unwrap();
        let mut conversation = mysql.conversation(None, &dialect::Settings::none());
        let mut err = vec![0xff];
        err.extend_from_slice(&code.to_le_bytes());
        err.extend_from_slice(message.as_bytes());
        let received = conversation.receive(Bytes::from(packet(0, &err)));
        let verdict = received.verdict.expect("an ERR decides");
        prop_assert!(!matches!(verdict.kind, VerdictKind::Admitted | VerdictKind::Warned));
        let expected = format!("ERR {code}");
        prop_assert!(verdict.decided_by.unwrap().starts_with(&expected));
    }

    #[test]
    fn any_client_bytes_describe_and_sign_without_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let mysql = dialect::by_name("mysql").unwrap();
        let framed = packet(1, &bytes);
        let _ = mysql.describe(Direction::Client, &framed);
        let _ = mysql.recorded_identity(&[&framed]);
        let _ = mysql.client_signature(&[&framed]);
        let _ = mysql.distinctions(&[&framed]);
        let _ = mysql.replay_ending(&framed);
    }
}
