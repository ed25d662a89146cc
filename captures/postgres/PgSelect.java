// The JDBC client of captures/postgres (see common.sh): the PostgreSQL JDBC driver
// (org.postgresql:postgresql; Debian's libpostgresql-jdbc-java, /usr/share/java/postgresql.jar)
// with its default settings: java -cp /usr/share/java/postgresql.jar PgSelect.java PORT
// connects to jdbc:postgresql://127.0.0.1:PORT/harness as harness/harness, runs `select 1`,
// prints the value and closes. With --version, prints the driver's name and version.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;

public class PgSelect {
    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--version")) {
            java.sql.Driver driver = DriverManager.getDriver("jdbc:postgresql://127.0.0.1/x");
            System.out.println("PostgreSQL JDBC Driver " + driver.getMajorVersion() + "." + driver.getMinorVersion()
                + " (" + org.postgresql.util.DriverInfo.DRIVER_FULL_NAME + ")");
            return;
        }
        Properties props = new Properties();
        props.setProperty("user", "harness");
        props.setProperty("password", "harness");
        try (Connection conn = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + args[0] + "/harness", props);
             Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("select 1")) {
            rs.next();
            System.out.println(rs.getInt(1));
        }
    }
}
