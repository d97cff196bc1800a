// GET one URL with the JDK's own HttpsURLConnection and print "STATUS BODY": no library, no sandbox-specific code.
// The proxy and the trust come from system properties only (-Dhttps.proxyHost, -Djavax.net.ssl.trustStore…).

import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.HttpsURLConnection;

public class Token {
    public static void main(String[] args) throws Exception {
        HttpsURLConnection connection = (HttpsURLConnection) new URL(args[0]).openConnection();
        connection.setConnectTimeout(10_000);
        connection.setReadTimeout(10_000);
        int status = connection.getResponseCode();
        InputStream body = status < 400 ? connection.getInputStream() : connection.getErrorStream();
        System.out.println(status + " " + new String(body.readAllBytes(), StandardCharsets.UTF_8));
    }
}
