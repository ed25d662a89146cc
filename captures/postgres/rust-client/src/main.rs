//! tokio-postgres with its default settings (sslmode prefer, which with NoTls sends no
//! SSLRequest): `pg-rust-client PORT` connects to 127.0.0.1:PORT as harness/harness to database
//! harness, runs `select 1`, prints the value and closes (dropping the client sends Terminate).
use tokio_postgres::NoTls;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = std::env::args().nth(1).ok_or("usage: pg-rust-client PORT")?;
    let conninfo = format!("host=127.0.0.1 port={port} user=harness password=harness dbname=harness");
    let (client, connection) = tokio_postgres::connect(&conninfo, NoTls).await?;
    let driver = tokio::spawn(connection);
    let row = client.query_one("select 1", &[]).await?;
    let value: i32 = row.get(0);
    println!("{value}");
    drop(client);
    driver.await??;
    Ok(())
}
