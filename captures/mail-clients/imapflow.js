// One mailbox check with imapflow (npm), with its defaults: STARTTLS when the server offers it
// (certificate not verified: the test server's is self-signed), then AUTHENTICATE PLAIN or LOGIN
// as imapflow chooses; selects INBOX and logs out.
//   node imapflow.js HOST PORT         (NODE_PATH names the folder imapflow is installed in)
// Prints "INBOX: N messages" and exits 0, or prints the error and exits 1.
const { ImapFlow } = require("imapflow");
const [host, port] = process.argv.slice(2);
const client = new ImapFlow({
  host,
  port: Number(port),
  secure: false,
  auth: { user: "harness", pass: "harness" },
  tls: { rejectUnauthorized: false },
  logger: false,
  connectionTimeout: 20000,
});
(async () => {
  try {
    await client.connect();
    const mailbox = await client.mailboxOpen("INBOX", { readOnly: true });
    await client.logout();
    console.log(`INBOX: ${mailbox.exists} messages`);
  } catch (error) {
    const detail = error.responseText || error.response || "";
    console.log(`${error.code || "Error"}: ${error.message}${detail ? ` (${detail})` : ""}`);
    process.exit(1);
  }
})();
