// One mail submission with nodemailer (npm), with its defaults: STARTTLS when the server
// offers it (opportunistic; certificate not verified: the test server's is self-signed), then
// AUTH with the mechanism nodemailer picks (PLAIN if offered, else LOGIN).
//   node nodemailer.js HOST PORT       (NODE_PATH names the folder nodemailer is installed in)
// Prints "sent" and exits 0, or prints the error and exits 1.
const nodemailer = require("nodemailer");
const [host, port] = process.argv.slice(2);
const transport = nodemailer.createTransport({
  host,
  port: Number(port),
  secure: false,
  name: "client.harness.test",
  auth: { user: "harness", pass: "harness" },
  tls: { rejectUnauthorized: false },
  connectionTimeout: 20000,
});
transport
  .sendMail({ from: "harness@harness.test", to: "someone@example.test", subject: "harness", text: "hello" })
  .then(() => console.log("sent"))
  .catch((error) => {
    console.log(`${error.code || "Error"}: ${error.message}`);
    process.exit(1);
  });
