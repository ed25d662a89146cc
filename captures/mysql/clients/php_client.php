<?php
// One connection by PHP (mysqlnd); prints `ok` or `error CODE MESSAGE`.
// usage: php php_client.php mysqli|pdo HOST PORT USER PASSWORD DATABASE on|off
// TLS `on` asks for TLS without checking the server's certificate; `off` never asks. Then `SELECT 1`.
[$self, $api, $host, $port, $user, $password, $database, $tls] = array_pad($argv, 8, null);
if (!in_array($tls, ['on', 'off'], true) || !in_array($api, ['mysqli', 'pdo'], true)) {
    fwrite(STDERR, "usage: php php_client.php mysqli|pdo HOST PORT USER PASSWORD DATABASE on|off\n");
    exit(2);
}
function say(string $line): void { echo preg_replace('/\s+/', ' ', trim($line)), "\n"; }
if ($api === 'mysqli') {
    mysqli_report(MYSQLI_REPORT_OFF);
    $db = mysqli_init();
    $db->options(MYSQLI_OPT_CONNECT_TIMEOUT, 10);
    $flags = 0;
    if ($tls === 'on') {
        $db->ssl_set(null, null, null, null, null);
        $flags = MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_DONT_VERIFY_SERVER_CERT;
    }
    if (!@$db->real_connect($host, $user, $password, $database, (int)$port, null, $flags)) {
        say('error ' . mysqli_connect_errno() . ' ' . mysqli_connect_error());
        exit(0);
    }
    $db->query('SELECT 1') or say('error ' . $db->errno . ' ' . $db->error);
    $db->close();
    say('ok');
} else {
    $options = [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_TIMEOUT => 10];
    if ($tls === 'on') {
        // any TLS option makes mysqlnd ask for TLS; this one asks for no certificate check
        $options[PDO::MYSQL_ATTR_SSL_VERIFY_SERVER_CERT] = false;
        $options[PDO::MYSQL_ATTR_SSL_CIPHER] = 'DEFAULT';
    }
    try {
        $pdo = new PDO("mysql:host=$host;port=$port;dbname=$database", $user, $password, $options);
        $pdo->query('SELECT 1')->fetchAll();
        say('ok');
    } catch (PDOException $e) {
        $code = $e->errorInfo[1] ?? null;
        if ($code === null && preg_match('/\[(\d{4})\]/', $e->getMessage(), $m)) { $code = $m[1]; }
        say('error ' . ($code ?? '-') . ' ' . $e->getMessage());
    }
}
