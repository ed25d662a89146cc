// One connection by MariaDB Connector/J (Debian's libmariadb-java); prints `ok` or
// `error CODE MESSAGE`.
// usage: java -cp /usr/share/java/mariadb-java-client.jar MariadbClient.java HOST PORT USER PASSWORD DATABASE on|off
// TLS `on` asks for TLS and trusts any server certificate; `off` never asks. Then `SELECT 1`.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

public class MariadbClient {
    public static void main(String[] args) {
        if (args.length != 6 || !(args[5].equals("on") || args[5].equals("off"))) {
            System.err.println("usage: MariadbClient HOST PORT USER PASSWORD DATABASE on|off");
            System.exit(2);
        }
        String tls = args[5].equals("on") ? "useSsl=true&trustServerCertificate=true" : "useSsl=false";
        String url = "jdbc:mariadb://" + args[0] + ":" + args[1] + "/" + args[4] + "?connectTimeout=10000&" + tls;
        try (Connection conn = DriverManager.getConnection(url, args[2], args[3])) {
            conn.createStatement().executeQuery("SELECT 1").next();
            System.out.println("ok");
        } catch (SQLException e) {
            System.out.println(("error " + e.getErrorCode() + " " + e.getMessage()).replaceAll("\\s+", " "));
        }
    }
}
