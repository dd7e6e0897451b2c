"""Whispers delivered per second from one IRC guest sending many-target
PRIVMSG lines as fast as the socket takes them, against a chatd on
loopback (README.md, *One line, many targets*).

Usage: python3 benches/irc-targets.py CHATD_BINARY [SECONDS]

Two runs: every target the same nickname, then eight nicknames in turn;
each line holds as many targets as fit in 512 bytes. Reports what the
receivers got."""
import socket, subprocess, sys, threading, time

binary = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
proc = subprocess.Popen([binary, "--ephemeral", "--listen", "127.0.0.1:0", "--irc-listen", "127.0.0.1:0",
                         "--http-listen", "none"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
irc_port = None
for _ in range(10):
    line = proc.stdout.readline()
    if "irc" in line.lower() and "listening" in line:
        irc_port = int(line.rsplit(":", 1)[1])
        break
if irc_port is None:
    raise SystemExit("no IRC port printed")

def connect(nick):
    s = socket.create_connection(("127.0.0.1", irc_port))
    s.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n".encode())
    buf = b""
    while b" 001 " not in buf:
        buf += s.recv(65536)
    return s

counts = {}
stop = threading.Event()
def count(nick, s):
    s.settimeout(0.2)
    buf = b""
    n = 0
    while not stop.is_set():
        try:
            data = s.recv(1 << 20)
        except socket.timeout:
            continue
        if not data:
            break
        buf += data
        *lines, buf = buf.split(b"\r\n")
        for l in lines:
            if b" PRIVMSG " in l:
                n += 1
            if l.startswith(b"PING"):
                s.sendall(b"PONG" + l[4:] + b"\r\n")
    counts[nick] = n

results = {}
for label, receivers in (("duplicates", ["b"]), ("distinct", list("cdefghij"))):
    socks = {n: connect(n) for n in receivers}
    sender = connect(f"flood{label[:4]}")
    time.sleep(3)  # refill the sender's burst after registering
    targets = []
    while len(",".join(targets + [receivers[len(targets) % len(receivers)]])) < 490:
        targets.append(receivers[len(targets) % len(receivers)])
    line = f"PRIVMSG {','.join(targets)} :x\r\n".encode()
    counts.clear()
    stop.clear()
    threads = [threading.Thread(target=count, args=(n, s)) for n, s in socks.items()]
    for t in threads:
        t.start()
    # Drain the sender's own replies so its send queue never cuts it.
    def drain():
        try:
            while sender.recv(1 << 20):
                pass
        except OSError:
            pass
    threading.Thread(target=drain, daemon=True).start()
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < seconds:
        sender.sendall(line)
        sent += 1
    time.sleep(1)
    stop.set()
    for t in threads:
        t.join()
    total = sum(counts.values())
    results[label] = (len(targets), sent, total, total / seconds)
    for s in list(socks.values()) + [sender]:
        s.close()
proc.terminate()
proc.wait()
for label, (ntargets, sent, total, rate) in results.items():
    print(f"{label}: {ntargets} targets per line, {sent} lines written, {total} whispers delivered, "
          f"{rate:.1f} whispers/s over {seconds:.0f} s")
