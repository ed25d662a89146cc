"""One connection by a Python MySQL/MariaDB driver; prints `ok` or `error CODE MESSAGE`.

usage: python_client.py DRIVER HOST PORT USER PASSWORD DATABASE on|off
DRIVER: pymysql, pymysql-no-nacl (PyNaCl hidden: no ed25519), mysql-connector (its C
extension where installed), mysql-connector-pure, mariadb (MariaDB Connector/Python), aiomysql.
TLS `on` asks for TLS without checking the server's certificate (the suite's is self-signed);
`off` never asks. After connecting it runs `SELECT 1`.
"""
import ssl
import sys


def tls_context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def pymysql_connect(host, port, user, password, database, tls):
    import pymysql

    try:
        conn = pymysql.connect(host=host, port=port, user=user, password=password, database=database,
                               ssl=tls_context() if tls else None, connect_timeout=10)
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
        conn.close()
    except pymysql.err.MySQLError as e:
        code, message = (e.args + ("-", ""))[:2] if e.args and isinstance(e.args[0], int) else ("-", str(e))
        return f"error {code} {message}"
    return "ok"


def mysql_connector_connect(host, port, user, password, database, tls, pure):
    import mysql.connector

    options = dict(host=host, port=port, user=user, password=password, database=database,
                   connection_timeout=10, ssl_disabled=not tls, use_pure=pure)
    if tls:
        options.update(ssl_verify_cert=False, ssl_verify_identity=False)
    try:
        conn = mysql.connector.connect(**options)
        cur = conn.cursor()
        cur.execute("SELECT 1")
        cur.fetchall()
        conn.close()
    except mysql.connector.Error as e:
        return f"error {e.errno if e.errno is not None else '-'} {e.msg}"
    return "ok"


def mariadb_connect(host, port, user, password, database, tls):
    import mariadb

    options = dict(host=host, port=port, user=user, password=password, database=database, connect_timeout=10)
    if tls:
        options.update(ssl=True, ssl_verify_cert=False)
    try:
        conn = mariadb.connect(**options)
        cur = conn.cursor()
        cur.execute("SELECT 1")
        cur.fetchall()
        conn.close()
    except mariadb.Error as e:
        return f"error {e.errno if e.errno is not None else '-'} {e.msg}"
    return "ok"


def aiomysql_connect(host, port, user, password, database, tls):
    import asyncio
    import aiomysql
    import pymysql

    async def run():
        conn = await aiomysql.connect(host=host, port=port, user=user, password=password, db=database,
                                      ssl=tls_context() if tls else None, connect_timeout=10)
        async with conn.cursor() as cur:
            await cur.execute("SELECT 1")
            await cur.fetchone()
        conn.close()

    try:
        asyncio.run(run())
    except pymysql.err.MySQLError as e:
        code, message = (e.args + ("-", ""))[:2] if e.args and isinstance(e.args[0], int) else ("-", str(e))
        return f"error {code} {message}"
    return "ok"


def main():
    if len(sys.argv) != 8 or sys.argv[7] not in ("on", "off"):
        sys.exit(__doc__)
    driver, host, port, user, password, database, tls = sys.argv[1:]
    args = (host, int(port), user, password, database, tls == "on")
    if driver == "pymysql-no-nacl":
        sys.modules["nacl"] = None  # as on a machine without PyNaCl: PyMySQL's ed25519 needs it
        driver = "pymysql"
    drivers = {
        "pymysql": lambda: pymysql_connect(*args),
        "mysql-connector": lambda: mysql_connector_connect(*args, pure=False),
        "mysql-connector-pure": lambda: mysql_connector_connect(*args, pure=True),
        "mariadb": lambda: mariadb_connect(*args),
        "aiomysql": lambda: aiomysql_connect(*args),
    }
    if driver not in drivers:
        sys.exit(f"unknown driver {driver}")
    try:
        line = drivers[driver]()
    except Exception as e:  # what the driver raised outside its own error classes
        line = f"error - {type(e).__name__}: {e}"
    print(" ".join(line.split()))


main()
