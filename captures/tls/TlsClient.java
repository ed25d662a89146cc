// The JDK's own TLS client, for captures/tls/make.sh: java TlsClient.java HOST PORT SNI
// It trusts any certificate (the test server's is self-signed) and stops after the handshake.
import javax.net.ssl.*;
import java.security.cert.X509Certificate;
import java.util.List;

public class TlsClient {
    public static void main(String[] args) throws Exception {
        TrustManager[] trustAll = { new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] c, String a) {}
            public void checkServerTrusted(X509Certificate[] c, String a) {}
            public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
        } };
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trustAll, null);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(args[0], Integer.parseInt(args[1]))) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName(args[2])));
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            System.out.println(socket.getSession().getProtocol() + " " + socket.getSession().getCipherSuite());
        }
    }
}
