//! Key-exchange inits the harness makes itself, with a fresh key, for the methods a scripted
//! client names (and for a replayed client whose recorded key does not fit the method a
//! differently configured server negotiates): curve25519 and NIST P-256/P-384 ECDH through
//! ring, finite-field Diffie-Hellman over the fixed MODP groups and a server's group-exchange
//! group through num-bigint. The server answers with its reply and host-key signature, not
//! knowing; the harness never needs the shared secret.

use super::wire::{self, GEX_INIT, GEX_REQUEST, KEX_INIT};
use crate::dialect::SendError;
use num_bigint::BigUint;
use ring::agreement;
use ring::rand::{SecureRandom, SystemRandom};

/// RFC 2409 section 6.2's 1024-bit MODP group (diffie-hellman-group1-sha1).
const OAKLEY_GROUP_2: &[&str] = &[
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
];
/// RFC 3526 group 14, 2048 bits (diffie-hellman-group14-sha1, -sha256).
const MODP_2048: &[&str] = &[
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
];
/// RFC 3526 group 16, 4096 bits (diffie-hellman-group16-sha512).
const MODP_4096: &[&str] = &[
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7",
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8",
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2",
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9",
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF",
];

/// The group-exchange sizes a client asks for (min, preferred, max bits), as OpenSSH does.
const GEX_BITS: [u32; 3] = [2048, 3072, 8192];

/// How a method's key exchange begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    X25519,
    P256,
    P384,
    /// A fixed MODP group, as hex lines.
    Group(&'static [&'static str]),
    GroupExchange,
}

/// The method a negotiated key-exchange name uses, where the harness can make its init.
pub fn method(name: &str) -> Option<Method> {
    Some(match name {
        "curve25519-sha256" | "curve25519-sha256@libssh.org" => Method::X25519,
        "ecdh-sha2-nistp256" => Method::P256,
        "ecdh-sha2-nistp384" => Method::P384,
        "diffie-hellman-group1-sha1" => Method::Group(OAKLEY_GROUP_2),
        "diffie-hellman-group14-sha1" | "diffie-hellman-group14-sha256" => Method::Group(MODP_2048),
        "diffie-hellman-group16-sha512" => Method::Group(MODP_4096),
        "diffie-hellman-group-exchange-sha1" | "diffie-hellman-group-exchange-sha256" => {
            Method::GroupExchange
        }
        _ => return None,
    })
}

/// The length a method's public value has on the wire (the string or mpint's content), to
/// tell whether a recorded init fits the method a live server chose: `None` when any does.
pub fn public_len(name: &str) -> Option<std::ops::RangeInclusive<usize>> {
    Some(match name {
        "curve25519-sha256" | "curve25519-sha256@libssh.org" => 32..=32,
        "ecdh-sha2-nistp256" => 65..=65,
        "ecdh-sha2-nistp384" => 97..=97,
        "ecdh-sha2-nistp521" => 133..=133,
        "sntrup761x25519-sha512" | "sntrup761x25519-sha512@openssh.com" => 1190..=1190,
        "mlkem768x25519-sha256" => 1216..=1216,
        "diffie-hellman-group1-sha1" => 120..=129,
        "diffie-hellman-group14-sha1" | "diffie-hellman-group14-sha256" => 248..=257,
        "diffie-hellman-group16-sha512" => 504..=513,
        "diffie-hellman-group18-sha512" => 1016..=1025,
        _ => return None,
    })
}

fn prime(lines: &[&str]) -> BigUint {
    BigUint::parse_bytes(lines.concat().as_bytes(), 16).expect("a hex constant")
}

fn random_bytes(n: usize) -> Result<Vec<u8>, SendError> {
    let mut bytes = vec![0; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| SendError::NoRandom("no random bytes from the system"))?;
    Ok(bytes)
}

/// `e = g^x mod p` for a fresh x: a KEXDH_INIT (or GEX_INIT) payload.
pub fn dh_init(message: u8, p: &BigUint, g: &BigUint) -> Result<Vec<u8>, SendError> {
    // An exponent of 512 bits is far above what any of these groups' security needs.
    let x = BigUint::from_bytes_be(&random_bytes(64)?);
    let e = g.modpow(&x, p);
    let mut out = vec![message];
    wire::put_mpint(&mut out, &e.to_bytes_be());
    Ok(out)
}

fn ecdh_init(algorithm: &'static agreement::Algorithm) -> Result<Vec<u8>, SendError> {
    let rng = SystemRandom::new();
    let key = agreement::EphemeralPrivateKey::generate(algorithm, &rng)
        .map_err(|_| SendError::NoRandom("cannot make an ECDH key"))?;
    let public = key
        .compute_public_key()
        .map_err(|_| SendError::NoRandom("cannot make an ECDH key"))?;
    let mut out = vec![KEX_INIT];
    wire::put_string(&mut out, public.as_ref());
    Ok(out)
}

/// The payload that begins `method`'s key exchange: a fresh public value, or for group
/// exchange the request for a group.
pub fn init(method: Method) -> Result<Vec<u8>, SendError> {
    match method {
        Method::X25519 => ecdh_init(&agreement::X25519),
        Method::P256 => ecdh_init(&agreement::ECDH_P256),
        Method::P384 => ecdh_init(&agreement::ECDH_P384),
        Method::Group(hex) => dh_init(KEX_INIT, &prime(hex), &BigUint::from(2u8)),
        Method::GroupExchange => {
            let mut out = vec![GEX_REQUEST];
            for bits in GEX_BITS {
                out.extend_from_slice(&bits.to_be_bytes());
            }
            Ok(out)
        }
    }
}

/// A KEX_DH_GEX_GROUP payload's prime and generator.
pub fn gex_group(payload: &[u8]) -> Option<(BigUint, BigUint)> {
    let mut r = wire::Reader(payload);
    r.byte()?;
    let p = BigUint::from_bytes_be(r.string()?);
    let g = BigUint::from_bytes_be(r.string()?);
    (p.bits() >= 512 && g > BigUint::from(1u8)).then_some((p, g))
}

/// The GEX_INIT for the group a server sent.
pub fn gex_init(p: &BigUint, g: &BigUint) -> Result<Vec<u8>, SendError> {
    dh_init(GEX_INIT, p, g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_groups_have_their_sizes() {
        assert_eq!(prime(OAKLEY_GROUP_2).bits(), 1024);
        assert_eq!(prime(MODP_2048).bits(), 2048);
        assert_eq!(prime(MODP_4096).bits(), 4096);
    }

    #[test]
    fn each_init_carries_a_public_value_of_its_methods_length() {
        for name in [
            "curve25519-sha256",
            "ecdh-sha2-nistp256",
            "ecdh-sha2-nistp384",
            "diffie-hellman-group1-sha1",
            "diffie-hellman-group14-sha256",
        ] {
            let payload = init(method(name).unwrap()).unwrap();
            assert_eq!(payload[0], KEX_INIT);
            let value = wire::Reader(&payload[1..]).string().unwrap();
            assert!(
                public_len(name).unwrap().contains(&value.len()),
                "{name}: {}",
                value.len()
            );
        }
        let first = init(Method::X25519).unwrap();
        assert_ne!(
            first,
            init(Method::X25519).unwrap(),
            "a fresh key each time"
        );
        let request = init(Method::GroupExchange).unwrap();
        assert_eq!(request, [34, 0, 0, 8, 0, 0, 0, 12, 0, 0, 0, 32, 0]);
    }
}
