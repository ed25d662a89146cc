//! The harness's own key shares (RFC 8446 4.2.8): an x25519 or secp256r1 share of a hello,
//! scripted or recorded, is replaced in place by a fresh one whose private key the harness
//! holds, so that it can read the server's encrypted TLS 1.3 flight. Keys come from `ring`.

use super::hello;
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey};
use ring::rand::SystemRandom;

pub const X25519: u16 = 0x001D;
pub const SECP256R1: u16 = 0x0017;

/// The private keys of the shares the harness put in a hello.
#[derive(Default)]
pub struct OwnShares {
    keys: Vec<(u16, EphemeralPrivateKey)>,
}

impl std::fmt::Debug for OwnShares {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let groups: Vec<u16> = self.keys.iter().map(|(g, _)| *g).collect();
        f.debug_struct("OwnShares")
            .field("groups", &groups)
            .finish()
    }
}

fn algorithm(group: u16) -> Option<&'static agreement::Algorithm> {
    match group {
        X25519 => Some(&agreement::X25519),
        SECP256R1 => Some(&agreement::ECDH_P256),
        _ => None,
    }
}

impl OwnShares {
    /// Replaces every x25519 and secp256r1 share of `record` (a ClientHello record) that has
    /// the length of a real public key with a fresh one; other shares stay as they are.
    pub fn replace(record: &mut [u8]) -> OwnShares {
        let rng = SystemRandom::new();
        let mut own = OwnShares::default();
        if hello::offers_psk(record) {
            return own;
        }
        for (group, range) in hello::key_shares(record) {
            let Some(alg) = algorithm(group) else {
                continue;
            };
            let Ok(private) = EphemeralPrivateKey::generate(alg, &rng) else {
                continue;
            };
            let Ok(public) = private.compute_public_key() else {
                continue;
            };
            if public.as_ref().len() != range.len() {
                continue;
            }
            record[range].copy_from_slice(public.as_ref());
            own.keys.push((group, private));
        }
        own
    }

    pub fn holds(&self, group: u16) -> bool {
        self.keys.iter().any(|(g, _)| *g == group)
    }

    /// The shared secret with the server's public key on `group`, using up that key.
    pub fn agree(&mut self, group: u16, server_public: &[u8]) -> Result<Vec<u8>, String> {
        let at = self
            .keys
            .iter()
            .position(|(g, _)| *g == group)
            .ok_or("the harness holds no key on the server's group")?;
        let (_, private) = self.keys.swap_remove(at);
        let alg = algorithm(group).ok_or("no such group")?;
        agreement::agree_ephemeral(
            private,
            &UnparsedPublicKey::new(alg, server_public),
            |secret| secret.to_vec(),
        )
        .map_err(|_| "the server's key share is not a valid public key".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::tls::hello::Description;

    #[test]
    fn both_shares_are_replaced_in_place_and_agree_with_a_peer() {
        let built = Description::parse(
            "versions=TLSv1.3 ciphers=TLS_AES_128_GCM_SHA256 groups=x25519,secp256r1",
        )
        .unwrap()
        .build();
        let mut record = built.clone();
        let mut own = OwnShares::replace(&mut record);
        assert_eq!(record.len(), built.len());
        assert_ne!(record, built);
        assert!(own.holds(X25519));
        assert_eq!(hello::offer(&record), hello::offer(&built));
        let rng = SystemRandom::new();
        let peer = EphemeralPrivateKey::generate(&agreement::X25519, &rng).unwrap();
        let peer_public = peer.compute_public_key().unwrap();
        let (_, range) = hello::key_shares(&record)[0].clone();
        let ours = record[range].to_vec();
        let theirs = agreement::agree_ephemeral(
            peer,
            &UnparsedPublicKey::new(&agreement::X25519, ours),
            |s| s.to_vec(),
        )
        .unwrap();
        assert_eq!(own.agree(X25519, peer_public.as_ref()).unwrap(), theirs);
        assert!(own.agree(X25519, peer_public.as_ref()).is_err(), "used up");
    }
}
