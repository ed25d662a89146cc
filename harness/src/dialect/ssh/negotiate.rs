//! Algorithm negotiation as RFC 4253 section 7.1 gives it: for each class, the first of the
//! client's algorithms that the server also lists. The key-exchange list's pseudo-algorithms
//! (`ext-info-c`, `kex-strict-c-v00@openssh.com`, ...) are signals, never chosen; a cipher with
//! its own authentication (chacha20-poly1305, AES-GCM) needs no MAC.

use super::wire::KexInit;

/// What both sides agreed on, class by class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub kex: String,
    pub host_key: String,
    pub cipher_c2s: String,
    pub cipher_s2c: String,
    /// `None` where the cipher authenticates itself.
    pub mac_c2s: Option<String>,
    pub mac_s2c: Option<String>,
    pub compression_c2s: String,
    pub compression_s2c: String,
}

/// The class that found no common algorithm, and both sides' lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoMatch {
    pub class: &'static str,
    pub client: Vec<String>,
    pub server: Vec<String>,
}

impl std::fmt::Display for NoMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no common {}: the client offers {}; the server {}",
            self.class,
            shown(&self.client),
            shown(&self.server)
        )
    }
}

impl NoMatch {
    /// What OpenSSH's client says when this class has no common algorithm, as it disconnects.
    pub fn openssh_says(&self) -> &'static str {
        match self.class {
            "key exchange method" => "no matching key exchange method found",
            "host key algorithm" => "no matching host key type found",
            c if c.starts_with("cipher") => "no matching cipher found",
            c if c.starts_with("MAC") => "no matching MAC found",
            _ => "no matching compression method found",
        }
    }
}

/// Whether a side that sent `kexinit` with first_kex_packet_follows guessed wrong (RFC 4253
/// section 7): its first key exchange method or host key algorithm is not the negotiated one.
pub fn guessed_wrong(kexinit: &KexInit, negotiated: &Negotiated) -> bool {
    kexinit.kex.iter().find(|k| !is_signal(k)) != Some(&negotiated.kex)
        || kexinit.host_key.first() != Some(&negotiated.host_key)
}

/// Whether both sides offered OpenSSH's strict key exchange (`kex-strict-c-v00@openssh.com`
/// from the client, `kex-strict-s-v00@openssh.com` from the server), the Terrapin mitigation:
/// then nothing but key-exchange messages may come before NEWKEYS, the KEXINIT first.
pub fn strict(client: &KexInit, server: &KexInit) -> bool {
    client.kex.iter().any(|k| k == STRICT_CLIENT) && server.kex.iter().any(|k| k == STRICT_SERVER)
}

pub const STRICT_CLIENT: &str = "kex-strict-c-v00@openssh.com";
pub const STRICT_SERVER: &str = "kex-strict-s-v00@openssh.com";

fn shown(list: &[String]) -> String {
    if list.is_empty() {
        "nothing".to_string()
    } else {
        list.join(",")
    }
}

/// Algorithms that only signal an extension; RFC 8308 and OpenSSH's strict key exchange.
pub fn is_signal(name: &str) -> bool {
    name.starts_with("ext-info-") || name.starts_with("kex-strict-")
}

/// Ciphers that authenticate their own ciphertext.
pub fn is_aead(cipher: &str) -> bool {
    cipher == "chacha20-poly1305@openssh.com" || cipher.ends_with("-gcm@openssh.com")
}

fn choose(
    class: &'static str,
    client: &[String],
    server: &[String],
    skip: fn(&str) -> bool,
) -> Result<String, NoMatch> {
    client
        .iter()
        .filter(|c| !skip(c))
        .find(|c| server.contains(c))
        .cloned()
        .ok_or_else(|| NoMatch {
            class,
            client: client.iter().filter(|c| !skip(c)).cloned().collect(),
            server: server.iter().filter(|s| !skip(s)).cloned().collect(),
        })
}

pub fn negotiate(client: &KexInit, server: &KexInit) -> Result<Negotiated, NoMatch> {
    let none = |_: &str| false;
    let kex = choose("key exchange method", &client.kex, &server.kex, is_signal)?;
    let host_key = choose(
        "host key algorithm",
        &client.host_key,
        &server.host_key,
        none,
    )?;
    let cipher_c2s = choose(
        "cipher (client to server)",
        &client.cipher_c2s,
        &server.cipher_c2s,
        none,
    )?;
    let cipher_s2c = choose(
        "cipher (server to client)",
        &client.cipher_s2c,
        &server.cipher_s2c,
        none,
    )?;
    let mac_c2s = (!is_aead(&cipher_c2s))
        .then(|| {
            choose(
                "MAC (client to server)",
                &client.mac_c2s,
                &server.mac_c2s,
                none,
            )
        })
        .transpose()?;
    let mac_s2c = (!is_aead(&cipher_s2c))
        .then(|| {
            choose(
                "MAC (server to client)",
                &client.mac_s2c,
                &server.mac_s2c,
                none,
            )
        })
        .transpose()?;
    let compression_c2s = choose(
        "compression (client to server)",
        &client.compression_c2s,
        &server.compression_c2s,
        none,
    )?;
    let compression_s2c = choose(
        "compression (server to client)",
        &client.compression_s2c,
        &server.compression_s2c,
        none,
    )?;
    Ok(Negotiated {
        kex,
        host_key,
        cipher_c2s,
        cipher_s2c,
        mac_c2s,
        mac_s2c,
        compression_c2s,
        compression_s2c,
    })
}

impl Negotiated {
    /// Each class's choice, for reasons: `kex curve25519-sha256, host key ssh-ed25519, ...`.
    pub fn summary(&self) -> String {
        let mac = |m: &Option<String>| m.clone().unwrap_or_else(|| "implicit".into());
        let mut parts = vec![
            format!("kex {}", self.kex),
            format!("host key {}", self.host_key),
        ];
        if self.cipher_c2s == self.cipher_s2c && self.mac_c2s == self.mac_s2c {
            parts.push(format!("cipher {}", self.cipher_c2s));
            parts.push(format!("mac {}", mac(&self.mac_c2s)));
        } else {
            parts.push(format!("ciphers {}/{}", self.cipher_c2s, self.cipher_s2c));
            parts.push(format!(
                "macs {}/{}",
                mac(&self.mac_c2s),
                mac(&self.mac_s2c)
            ));
        }
        if self.compression_c2s != "none" || self.compression_s2c != "none" {
            parts.push(format!(
                "compression {}/{}",
                self.compression_c2s, self.compression_s2c
            ));
        }
        parts.join(", ")
    }

    /// Every negotiated algorithm, for the deprecation check.
    pub fn algorithms(&self) -> Vec<&str> {
        let mut all = vec![
            self.kex.as_str(),
            &self.host_key,
            &self.cipher_c2s,
            &self.cipher_s2c,
        ];
        all.extend(self.mac_c2s.as_deref());
        all.extend(self.mac_s2c.as_deref());
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(kex: &str, host_key: &str, cipher: &str, mac: &str) -> KexInit {
        let list = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
        KexInit {
            kex: list(kex),
            host_key: list(host_key),
            cipher_c2s: list(cipher),
            cipher_s2c: list(cipher),
            mac_c2s: list(mac),
            mac_s2c: list(mac),
            compression_c2s: list("none"),
            compression_s2c: list("none"),
            first_kex_follows: false,
        }
    }

    #[test]
    fn the_clients_first_choice_the_server_shares_wins() {
        let client = offer(
            "ext-info-c,curve25519-sha256,diffie-hellman-group14-sha1",
            "ssh-ed25519,ssh-rsa",
            "aes128-ctr,aes128-cbc",
            "hmac-sha1",
        );
        let server = offer(
            "diffie-hellman-group14-sha1,curve25519-sha256,ext-info-c",
            "ssh-rsa",
            "aes128-cbc,aes128-ctr",
            "hmac-sha1,hmac-sha2-256",
        );
        let n = negotiate(&client, &server).unwrap();
        assert_eq!(
            (n.kex.as_str(), n.host_key.as_str()),
            ("curve25519-sha256", "ssh-rsa")
        );
        assert_eq!(n.cipher_c2s, "aes128-ctr");
        assert_eq!(
            n.summary(),
            "kex curve25519-sha256, host key ssh-rsa, cipher aes128-ctr, mac hmac-sha1"
        );
    }

    #[test]
    fn no_match_names_the_class_and_an_aead_cipher_needs_no_mac() {
        let client = offer(
            "diffie-hellman-group1-sha1,ext-info-c",
            "ssh-rsa",
            "aes128-ctr",
            "hmac-md5",
        );
        let server = offer(
            "curve25519-sha256,ext-info-s",
            "ssh-rsa",
            "aes128-ctr",
            "hmac-sha2-256",
        );
        let e = negotiate(&client, &server).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no common key exchange method: the client offers diffie-hellman-group1-sha1; the server curve25519-sha256"
        );
        let client = offer("curve25519-sha256", "ssh-rsa", "aes128-ctr", "hmac-md5");
        assert_eq!(
            negotiate(&client, &server).unwrap_err().class,
            "MAC (client to server)"
        );
        let client = offer(
            "curve25519-sha256",
            "ssh-rsa",
            "aes256-gcm@openssh.com",
            "hmac-md5",
        );
        let server = offer(
            "curve25519-sha256",
            "ssh-rsa",
            "aes256-gcm@openssh.com",
            "hmac-sha2-256",
        );
        let n = negotiate(&client, &server).unwrap();
        assert_eq!(n.mac_c2s, None);
    }
}
