//! Synthetic MSNP traffic for the import benchmark: a handshake, then chat messages.

use crate::direction::Direction::{self, Client, Server};

/// Session number `n`: an MSN Messenger 6.0 login and 40 chat messages with their ACKs.
pub fn session(n: u64) -> Vec<(Direction, Vec<u8>)> {
    let email = format!("user{n}@hotmail.com");
    let mut exchanges: Vec<(Direction, Vec<u8>)> = vec![
        (Client, b"VER 1 MSNP9 MSNP8 CVR0\r\n".to_vec()),
        (Server, b"VER 1 MSNP9 CVR0\r\n".to_vec()),
        (Client, format!("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS {email}\r\n").into_bytes()),
        (Server, b"CVR 2 6.0.0602 6.0.0602 5.0 http://messenger.msn.com/download/ http://messenger.msn.com\r\n".to_vec()),
        (Client, format!("USR 3 TWN I {email}\r\n").into_bytes()),
        (Server, b"USR 3 TWN S lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619\r\n".to_vec()),
        (Client, b"USR 4 TWN S t=ticket&p=profile\r\n".to_vec()),
        (Server, format!("USR 4 OK {email} {email} 1 0\r\n").into_bytes()),
    ];
    for i in 0..40u32 {
        let body = format!(
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n\r\nmessage {i} {}",
            "x".repeat(400)
        );
        let trid = 5 + i;
        exchanges.push((
            Client,
            format!("MSG {trid} A {}\r\n{body}", body.len()).into_bytes(),
        ));
        exchanges.push((Server, format!("ACK {trid}\r\n").into_bytes()));
    }
    exchanges
}
