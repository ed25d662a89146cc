// The Java clients of captures/http, each one GET with default settings:
//   java HttpGet.java httpclient URL      java.net.http.HttpClient (HTTP/2 preferred, so on plain
//                                         http it asks to upgrade to h2c)
//   java HttpGet.java urlconnection URL   java.net.HttpURLConnection
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

public class HttpGet {
    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[1]);
        if (args[0].equals("httpclient")) {
            HttpResponse<String> response = HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
            System.out.print(response.statusCode() + " " + response.body());
        } else {
            HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection();
            int status = connection.getResponseCode();
            InputStream body = status < 400 ? connection.getInputStream() : connection.getErrorStream();
            System.out.print(status + " " + (body == null ? "" : new String(body.readAllBytes())));
        }
    }
}
