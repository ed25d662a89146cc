//! One connection by mysql_async; prints `ok` or `error CODE MESSAGE` (what the driver got).
//! usage: mysql-rust-client HOST PORT USER PASSWORD DATABASE on|off
//! Without its `client_ed25519` feature mysql_async panics when a server switches it to
//! client_ed25519: the connection runs in a task of its own, and the panic's message is reported
//! as `error - panic: MESSAGE`.
use mysql_async::prelude::Queryable;
use mysql_async::{Error, OptsBuilder, SslOpts};

fn describe(error: &Error) -> String {
    match error {
        Error::Server(server) => format!("error {} {}", server.code, server.message),
        other => format!("error - {other}"),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

async fn connect_and_select(opts: OptsBuilder) -> Result<(), Error> {
    let mut conn = mysql_async::Conn::new(opts).await?;
    let _: Option<i64> = conn.query_first("SELECT 1").await?;
    conn.disconnect().await
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, port, user, password, database, tls] = args.as_slice() else {
        eprintln!("usage: mysql-rust-client HOST PORT USER PASSWORD DATABASE on|off");
        std::process::exit(2);
    };
    let (Ok(port), true) = (port.parse::<u16>(), tls == "on" || tls == "off") else {
        eprintln!("usage: mysql-rust-client HOST PORT USER PASSWORD DATABASE on|off");
        std::process::exit(2);
    };
    let ssl = (tls == "on").then(|| {
        SslOpts::default()
            .with_danger_accept_invalid_certs(true)
            .with_danger_skip_domain_validation(true)
    });
    let opts = OptsBuilder::default()
        .ip_or_hostname(host.as_str())
        .tcp_port(port)
        .user(Some(user.as_str()))
        .pass(Some(password.as_str()))
        .db_name(Some(database.as_str()))
        .ssl_opts(ssl);
    std::panic::set_hook(Box::new(|_| {})); // reported below, as the driver's own outcome
    let line = match tokio::spawn(connect_and_select(opts)).await {
        Ok(Ok(())) => "ok".to_string(),
        Ok(Err(error)) => describe(&error),
        Err(join) => match join.try_into_panic() {
            Ok(payload) => format!("error - panic: {}", panic_message(payload.as_ref())),
            Err(join) => format!("error - {join}"),
        },
    };
    println!("{}", line.split_whitespace().collect::<Vec<_>>().join(" "));
}
