// JschClient HOST PORT: JSch (Debian's libjsch-java, /usr/share/java/jsch.jar) connects once with
// its default algorithm settings, accepts any host key, tries user "test" with a wrong password.
// Run as a single source file: java -cp /usr/share/java/jsch.jar JschClient.java HOST PORT
// Prints "key exchange completed" once the server's key-exchange reply has been verified (JSch
// asks its HostKeyRepository about the key only then), else the JSchException's message.
// Exit status 0 once key exchange completed, 1 if not.
import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.UserInfo;

public class JschClient {
    static volatile boolean kexDone = false;

    public static void main(String[] args) {
        if (args.length == 1 && args[0].equals("--version")) {
            System.out.println("JSch " + JSch.VERSION + " (Java " + System.getProperty("java.version") + ")");
            return;
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        JSch jsch = new JSch();
        jsch.setHostKeyRepository(new HostKeyRepository() {
            public int check(String h, byte[] key) { kexDone = true; return OK; }
            public void add(HostKey k, UserInfo u) {}
            public void remove(String h, String t) {}
            public void remove(String h, String t, byte[] k) {}
            public String getKnownHostsRepositoryID() { return "accept-any"; }
            public HostKey[] getHostKey() { return new HostKey[0]; }
            public HostKey[] getHostKey(String h, String t) { return new HostKey[0]; }
        });
        try {
            Session session = jsch.getSession("test", host, port);
            session.setPassword("wrong-password");
            session.setConfig("PreferredAuthentications", "password");
            session.connect(20000);
            System.err.println("key exchange completed; authenticated?");
            session.disconnect();
        } catch (JSchException e) {
            if (kexDone) {
                System.err.println("key exchange completed; authentication: " + e.getMessage());
            } else {
                System.err.println("error: " + e.getMessage());
            }
        }
        System.exit(kexDone ? 0 : 1);
    }
}
