// node-ssh2.js HOST PORT: the ssh2 package for Node.js (npm) connects once with its default
// algorithm settings, accepts any host key, tries user "test" with a wrong password.
// Needs the package on NODE_PATH (make.sh installs it outside the repository).
// Prints "key exchange completed" once the server's host key was offered to hostVerifier
// (ssh2 calls it on the key-exchange reply, before checking its signature), else the error.
// Exit status 0 once key exchange completed, 1 if not. With --version, prints the version.
const { Client } = require('ssh2');
if (process.argv[2] === '--version') {
  console.log(`ssh2 ${require('ssh2/package.json').version} (Node.js ${process.version})`);
  process.exit(0);
}
const [host, port] = process.argv.slice(2);
let kexDone = false;
const conn = new Client();
const finish = (message) => {
  console.error(message);
  conn.end();
  process.exit(kexDone ? 0 : 1);
};
conn.on('ready', () => finish('key exchange completed; authenticated?'));
conn.on('error', (err) => finish(kexDone
  ? `key exchange completed; authentication: ${err.level || ''} ${err.message}`
  : `error: ${err.level || ''} ${err.message}`));
conn.on('close', () => finish(kexDone ? 'key exchange completed; closed' : 'error: connection closed'));
conn.connect({
  host, port: Number(port), username: 'test', password: 'wrong-password', readyTimeout: 20000,
  tryKeyboard: false,
  hostVerifier: () => { kexDone = true; return true; },
});
