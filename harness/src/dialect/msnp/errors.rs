//! MSNP numeric error codes and their meanings (msnp.md section 4).

/// The meaning of an error code, as the clients' tables agree on it.
pub fn meaning(code: u16) -> &'static str {
    match code {
        200 => "syntax error",
        201 => "invalid parameter",
        207 => "already logged in",
        500 => "internal server error",
        540 => "challenge response failed",
        600 => "server is busy",
        601 => "server is unavailable",
        604 => "server going down",
        710 => "bad CVR parameters",
        711 => "write is blocking",
        712 => "session is overloaded",
        713 => "calling too rapidly",
        714 => "too many sessions",
        715 => "not expected",
        717 => "bad friend file",
        731 => "not expected (CVR)",
        800 => "changing too rapidly",
        910 | 912 | 918 | 919 | 921 | 922 => "server too busy",
        911 | 917 => "authentication failed",
        913 => "not allowed when offline",
        914..=916 => "server unavailable",
        920 => "not accepting new users",
        923 => "Kids Passport without parental consent",
        924 => "account not verified",
        928 => "bad ticket",
        931 => "account not on this server",
        _ => "unknown error",
    }
}
