"""The Python-driven SSH clients of captures/ssh: python3 clients.py CLIENT HOST PORT

CLIENT is one of
  paramiko  paramiko's Transport (pure Python)
  asyncssh  asyncssh.connect (pure Python, asyncio)
  libssh2   libssh2 through ssh2-python (its wheel bundles its own libssh2)
  libssh    libssh through ssh-python (its wheel bundles its own libssh)
  version CLIENT   prints the program and version instead of connecting

Each connects once with the library's default algorithm settings (no configuration file read
where the library would read one), accepts any host key, tries user "test" with a wrong
password, and prints on stderr either "key exchange completed" (the server's key-exchange
reply reached the client and the client went on) followed by what it negotiated, or
"error: ..." with the library's own message. Exit status 0 once key exchange completed, 1 if
not, 2 on bad usage.
"""
import socket
import sys

USER = "test"
PASSWORD = "wrong-password"
TIMEOUT = 20


def say(*parts):
    print(*parts, file=sys.stderr, flush=True)


def paramiko_client(host, port):
    import paramiko

    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    transport = paramiko.Transport(sock)
    try:
        try:
            transport.start_client(timeout=TIMEOUT)
        except Exception as e:  # SSHException: "Incompatible ssh peer (no acceptable ...)" etc.
            say(f"error: {type(e).__name__}: {e}")
            return 1
        say("key exchange completed:",
            f"hostkey={transport.host_key_type}", f"cipher={transport.remote_cipher}",
            f"mac={transport.remote_mac}")
        try:
            transport.auth_password(USER, PASSWORD)
        except Exception as e:
            say(f"authentication: {type(e).__name__}: {e}")
        return 0
    finally:
        transport.close()


def asyncssh_client(host, port):
    import asyncio

    import asyncssh

    async def attempt():
        try:
            async with asyncssh.connect(
                host, port, username=USER, password=PASSWORD, known_hosts=None,
                client_keys=None, agent_path=None, config=[], connect_timeout=TIMEOUT,
                preferred_auth="password",
            ) as conn:
                say("key exchange completed; authenticated?", conn)
            return 0
        except asyncssh.PermissionDenied as e:
            # raised only after key exchange, when authentication fails
            say(f"key exchange completed; authentication: PermissionDenied: {e}")
            return 0
        except Exception as e:  # KeyExchangeFailed, ConnectionLost, DisconnectError, ...
            say(f"error: {type(e).__name__}: {e}")
            return 1

    return asyncio.run(attempt())


def libssh2_client(host, port):
    from ssh2.session import Session

    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    session = Session()
    session.set_timeout(TIMEOUT * 1000)
    try:
        try:
            session.handshake(sock)
        except Exception as e:  # KexFailureError, SocketDisconnectError, ...
            say(f"error: {type(e).__name__}: {e} {session.last_error()!r}")
            return 1
        from ssh2.session import (LIBSSH2_METHOD_CRYPT_CS, LIBSSH2_METHOD_HOSTKEY,
                                  LIBSSH2_METHOD_KEX, LIBSSH2_METHOD_MAC_CS)
        methods = {name: session.methods(m) for name, m in (
            ("kex", LIBSSH2_METHOD_KEX), ("hostkey", LIBSSH2_METHOD_HOSTKEY),
            ("cipher", LIBSSH2_METHOD_CRYPT_CS), ("mac", LIBSSH2_METHOD_MAC_CS))}
        say("key exchange completed:", " ".join(f"{k}={v}" for k, v in methods.items()))
        try:
            session.userauth_password(USER, PASSWORD)
        except Exception as e:
            say(f"authentication: {type(e).__name__}: {e}")
        return 0
    finally:
        sock.close()


def libssh_client(host, port):
    from ssh import options
    from ssh.session import Session

    session = Session()
    session.options_set(options.HOST, host)
    session.options_set_port(port)
    session.options_set(options.USER, USER)
    session.options_set(options.KNOWNHOSTS, "/dev/null")
    session.options_set(options.GLOBAL_KNOWNHOSTS, "/dev/null")
    session.options_set_int_val(options.TIMEOUT, TIMEOUT)
    # libssh would otherwise read ~/.ssh/config and /etc/ssh/ssh_config on connecting
    session.options_set_int_val(options.PROCESS_CONFIG, 0)
    try:
        session.connect()  # returns once key exchange (and the host key signature check) is done
    except Exception as e:
        say(f"error: {type(e).__name__}: {e}")
        return 1
    say("key exchange completed:", f"kex={session.get_kex_algo()}",
        f"cipher={session.get_cipher_out()}")
    try:
        session.userauth_password(USER, PASSWORD)
    except Exception as e:
        say(f"authentication: {type(e).__name__}: {e}")
    session.disconnect()
    return 0


def version(client):
    from importlib.metadata import version as dist_version

    if client == "paramiko":
        return f"paramiko {dist_version('paramiko')} (Python {sys.version.split()[0]})"
    if client == "asyncssh":
        return f"asyncssh {dist_version('asyncssh')} (Python {sys.version.split()[0]})"
    if client == "libssh2":
        from ssh2.utils import version as libssh2_version
        return f"libssh2 {libssh2_version().decode()} via ssh2-python {dist_version('ssh2-python')}"
    if client == "libssh":
        import ctypes
        import glob
        import os

        import ssh
        import ssh.session  # loads the wheel's own libssh, so ctypes finds the same one
        libs = os.path.join(os.path.dirname(ssh.__file__), "..", "ssh_python.libs")
        found = glob.glob(os.path.join(libs, "libssh-*.so*"))
        libssh = "?"
        if found:
            lib = ctypes.CDLL(found[0])
            lib.ssh_version.restype, lib.ssh_version.argtypes = ctypes.c_char_p, [ctypes.c_int]
            libssh = lib.ssh_version(0).decode().split("/")[0]
        return f"libssh {libssh} via ssh-python {dist_version('ssh-python')}"
    raise SystemExit(f"unknown client {client}")


CLIENTS = {"paramiko": paramiko_client, "asyncssh": asyncssh_client,
           "libssh2": libssh2_client, "libssh": libssh_client}

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "version":
        print(version(sys.argv[2]))
        sys.exit(0)
    if len(sys.argv) != 4 or sys.argv[1] not in CLIENTS:
        say(__doc__)
        sys.exit(2)
    sys.exit(CLIENTS[sys.argv[1]](sys.argv[2], int(sys.argv[3])))
