"""A logging TCP proxy for IRC: forwards a local port to chatd's IRC port
and writes each line, `>>` from the client and `<<` from the server, to a
log file, so that transcripts can quote what real clients sent.

    python3 ircproxy.py LISTEN_PORT UPSTREAM_PORT LOGFILE
"""

import socket
import sys
import threading
import time


def pump(src, dst, mark, log, lock):
    buf = b""
    while True:
        try:
            data = src.recv(65536)
        except OSError:
            data = b""
        if not data:
            break
        try:
            dst.sendall(data)
        except OSError:
            break
        buf += data
        *lines, buf = buf.split(b"\n")
        with lock:
            for line in lines:
                stamp = time.strftime("%H:%M:%S")
                text = line.rstrip(b"\r").decode("utf-8", "replace")
                log.write(f"{stamp} {mark} {text}\n")
            log.flush()
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(listen_port, upstream_port, log_path):
    log = open(log_path, "a", encoding="utf-8")
    lock = threading.Lock()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen()
    while True:
        client, _ = server.accept()
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
        for src, dst, mark in ((client, upstream, ">>"), (upstream, client, "<<")):
            threading.Thread(target=pump, args=(src, dst, mark, log, lock), daemon=True).start()


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
