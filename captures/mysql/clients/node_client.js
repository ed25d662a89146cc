// One connection by a Node.js MySQL/MariaDB driver; prints `ok` or `error CODE MESSAGE`.
// usage: node node_client.js DRIVER HOST PORT USER PASSWORD DATABASE on|off
// DRIVER: mysql, mysql2, mariadb (from NODE_PATH). TLS `on` asks for TLS without checking the
// server's certificate (the suite's is self-signed); `off` never asks. Then `SELECT 1`.
const [driver, host, port, user, password, database, tlsArg] = process.argv.slice(2);
if (!["on", "off"].includes(tlsArg)) {
  console.error("usage: node node_client.js mysql|mysql2|mariadb HOST PORT USER PASSWORD DATABASE on|off");
  process.exit(2);
}
const tls = tlsArg === "on";
const options = { host, port: Number(port), user, password, database, connectTimeout: 10000 };
const say = (line) => console.log(line.replace(/\s+/g, " ").trim());
const failed = (e) => say(`error ${e.errno ?? "-"} ${e.sqlMessage ?? e.text ?? e.message}`);

async function promised(connection) {
  await connection.query("SELECT 1");
  await connection.end();
}

async function main() {
  if (driver === "mysql") {
    const mysql = require("mysql");
    const connection = mysql.createConnection({ ...options, ssl: tls ? { rejectUnauthorized: false } : undefined });
    connection.connect((err) => {
      if (err) return failed(err);
      connection.query("SELECT 1", (qerr) => {
        if (qerr) return failed(qerr);
        connection.end(() => say("ok"));
      });
    });
  } else if (driver === "mysql2") {
    const mysql2 = require("mysql2/promise");
    await promised(await mysql2.createConnection({ ...options, ssl: tls ? { rejectUnauthorized: false } : undefined }));
    say("ok");
  } else if (driver === "mariadb") {
    const mariadb = require("mariadb");
    await promised(await mariadb.createConnection({ ...options, ssl: tls ? { rejectUnauthorized: false } : false }));
    say("ok");
  } else {
    console.error(`unknown driver ${driver}`);
    process.exit(2);
  }
}
main().catch(failed);
