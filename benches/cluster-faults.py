#!/usr/bin/env python3
"""A chatd cluster under load through a fault, and what its clients saw.

    python3 benches/cluster-faults.py kill --lease 2     # kill -9 one node of 3
    python3 benches/cluster-faults.py wipe               # delete the cluster's Redis keys

Starts NODES chatd nodes (release build, already built) sharing one port
with --reuse-port, one fresh PostgreSQL database and a Redis prefix of
their own; runs loadgen in the background (text clients, a room of its own)
and PROBES JSON Lines clients in room `probe`, each saying a numbered line
every 1/RATE s with a request id, so that the echo carrying the line's
`seq` is its acknowledgement. Then, at --at seconds:

* kill: SIGKILL to the last node. Its probe clients reconnect at once
  (the shared port takes them to a live node), join again as guests, and
  ask every 100 ms for their old nickname, which the dead node's lease
  holds until it lapses.
* wipe: every key under the prefix is deleted (never anything else).

At the end it compares the acknowledged lines with the `messages` table,
checks that each probe connected throughout got every `seq` of the room
once and in order, and prints the times. Exits 1 if an acknowledged line
is missing from PostgreSQL or a probe saw a gap or a duplicate. Nodes,
database and prefix are removed on exit, whatever happens.
"""

import argparse
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOM = "probe"


def now():
    return time.monotonic()


class Probe:
    """One JSON Lines client: its socket, what it sent and what it got."""

    def __init__(self, index, addr):
        self.index = index
        self.name = f"p{index}"
        self.addr = addr
        self.sock = None
        self.buf = b""
        self.joined = False
        self.has_name = False
        self.next_say = 0.0
        self.next_nick = 0.0
        self.said = 0
        self.in_flight = {}  # request id -> send time, awaiting the echo
        self.acked = {}  # seq -> when its echo came
        self.seqs = []  # every live message's seq, in arrival order
        self.latency = []  # (send time, delay) of others' lines, seconds
        self.connections = 0
        self.dropped_at = None  # when the server side went away
        self.back_at = None  # joined again after that
        self.name_at = None  # got its old nickname again after that
        self.lost_in_flight = 0  # requests without an echo when the connection broke
        self.next_join = None  # when to ask again to join a room this node did not know yet

    def connect(self, sel, creator):
        sock = socket.create_connection(self.addr, timeout=2)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buf, self.joined = sock, b"", False
        self.connections += 1
        first = self.connections == 1
        hello = [{"type": "nick", "nick": self.name, "id": "n"}]
        hello.append({"type": "create" if creator and first else "join", "room": ROOM, "id": "j"})
        self.send(hello)
        sel.register(sock, selectors.EVENT_READ, self)

    def send(self, requests):
        data = b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in requests)
        try:
            self.sock.sendall(data)  # small; a full socket buffer is not expected here
        except (BlockingIOError, OSError):
            pass

    def say(self):
        self.said += 1
        rid = f"m{self.said}"
        self.in_flight[rid] = now()
        self.send([{"type": "say", "room": ROOM, "text": f"{self.name} {self.said} {time.time():.6f}", "id": rid}])

    def broke(self, sel, t):
        sel.unregister(self.sock)
        self.sock.close()
        self.sock = None
        self.dropped_at = self.dropped_at or t
        self.lost_in_flight += len(self.in_flight)
        self.in_flight.clear()
        self.has_name = False

    def read(self, sel, t):
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.broke(sel, t)
            return
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            if line.startswith(b"{"):
                self.line(json.loads(line), t)

    def line(self, m, t):
        kind, rid = m.get("type"), m.get("id")
        if kind == "message" and m.get("room") == ROOM and not m.get("history"):
            self.seqs.append(m["seq"])
            if rid is not None and rid in self.in_flight:
                del self.in_flight[rid]
                self.acked[m["seq"]] = t
            else:
                self.latency.append((t, time.time() - float(m["text"].rsplit(" ", 1)[1])))
        elif kind == "joined" and rid == "j":
            self.joined = True
            if self.dropped_at and not self.back_at:
                self.back_at = t
        elif kind == "nick" and rid == "n":
            self.has_name = True
            if self.dropped_at and not self.name_at:
                self.name_at = t
        elif kind == "error" and rid == "j" and m.get("code") == "no_such_room":
            self.next_join = t + 0.05  # the room is not known on this node yet
        elif kind == "error" and rid not in (None, "n"):
            print(f"  {self.name}: {m}", file=sys.stderr)


def sh(*args, **kw):
    return subprocess.run(args, check=True, text=True, capture_output=True, **kw).stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fault", choices=["kill", "wipe", "none"])
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--lease", type=float, default=10)
    ap.add_argument("--probes", type=int, default=12)
    ap.add_argument("--rate", type=float, default=10, help="lines per second per probe")
    ap.add_argument("--at", type=float, default=8, help="seconds into the run of the fault")
    ap.add_argument("--after", type=float, default=None, help="seconds of sending after the fault")
    ap.add_argument("--loadgen", default="--clients 100 --rooms 1 --rate 100 --size 64 --warmup 2 --drain 5")
    # Absolute: the nodes run in a directory of their own.
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(repo, "target"))
    ap.add_argument("--bin", default=os.path.join(os.path.abspath(target), "release"))
    ap.add_argument("--pg", default="postgres://root@127.0.0.1:5432")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379")
    args = ap.parse_args()
    after = args.after if args.after is not None else (max(10.0, args.lease + 6) if args.fault == "kill" else 10.0)

    tag = f"{os.getpid()}"
    db, prefix = f"bench_faults_{tag}", f"bench-faults-{tag}:"
    work = tempfile.mkdtemp(prefix="cluster-faults-")
    nodes, loadgen = [], None
    try:
        sh("psql", "-q", "-h", "127.0.0.1", "-d", "postgres", "-c", f"CREATE DATABASE {db}")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        for n in range(1, args.nodes + 1):
            out = open(os.path.join(work, f"node{n}.out"), "w")
            err = open(os.path.join(work, f"node{n}.err"), "w")
            nodes.append(subprocess.Popen(
                [os.path.join(args.bin, "chatd"), "--listen", f"127.0.0.1:{port}", "--reuse-port",
                 "--irc-listen", "none", "--http-listen", "none", "--metrics-listen", "none",
                 "--max-per-ip", "0", "--max-clients", "10000", "--flood-lines-per-sec", "0",
                 "--max-rooms-created-per-source", "1000",
                 "--database-url", f"{args.pg}/{db}", "--redis-url", args.redis, "--redis-prefix", prefix,
                 "--node-name", f"node{n}", "--node-lease", str(args.lease)],
                cwd=work, stdout=out, stderr=err))
            deadline = now() + 30
            while "listening on" not in open(out.name).read():
                if nodes[-1].poll() is not None or now() > deadline:
                    sys.exit(f"node{n} did not start:\n{open(err.name).read()}")
                time.sleep(0.1)
        addr = ("127.0.0.1", port)
        print(f"{args.nodes} nodes on 127.0.0.1:{port}, lease {args.lease} s, load {os.getloadavg()[0]:.2f}")

        run_secs = args.at + after
        lg_out = open(os.path.join(work, "loadgen.json"), "w")
        loadgen = subprocess.Popen(
            [os.path.join(args.bin, "loadgen"), "--addr", f"127.0.0.1:{port}", *args.loadgen.split(),
             "--duration", f"{run_secs:.0f}", "--setup-timeout", "30", "--json", "--quiet"],
            stdout=lg_out, stderr=subprocess.DEVNULL)

        sel = selectors.DefaultSelector()
        probes = [Probe(i, addr) for i in range(args.probes)]
        probes[0].connect(sel, creator=True)
        start = now()
        fault_at = start + args.at
        stop_at = fault_at + after
        fault_done = False
        killed_pid = None
        while True:
            t = now()
            if t >= stop_at:
                break
            if not fault_done and t >= fault_at:
                fault_done = True
                if args.fault == "kill":
                    killed_pid = nodes[-1].pid
                    os.kill(killed_pid, signal.SIGKILL)
                elif args.fault == "wipe":
                    keys = sh("redis-cli", "-u", args.redis, "--scan", "--pattern", f"{prefix}*").split()
                    if keys:
                        sh("redis-cli", "-u", args.redis, "del", *keys)
                    print(f"  wiped {len(keys)} keys in {now() - t:.3f} s")
                fault_at = t
            for p in probes:
                if p.sock is None and (p.connections == 0 and probes[0].joined or p.dropped_at):
                    try:
                        p.connect(sel, creator=False)
                    except OSError:
                        pass
                    continue
                if p.sock is None:
                    continue
                if p.next_join is not None and t >= p.next_join:
                    p.next_join = None
                    p.send([{"type": "join", "room": ROOM, "id": "j"}])
                if p.joined and t >= p.next_say:
                    p.next_say = max(p.next_say + 1 / args.rate, t - 1)
                    p.say()
                if p.dropped_at and not p.has_name and t >= p.next_nick:
                    p.next_nick = t + 0.1
                    p.send([{"type": "nick", "nick": p.name, "id": "n"}])
            for key, _ in sel.select(timeout=0.005):
                key.data.read(sel, now())
        # Let what is in flight arrive, sending nothing more.
        drain_until = now() + 3
        while now() < drain_until:
            for key, _ in sel.select(timeout=0.05):
                key.data.read(sel, now())

        # What PostgreSQL holds, against what was acknowledged.
        rows = sh("psql", "-At", "-h", "127.0.0.1", "-d", db, "-c",
                  f"SELECT seq FROM messages WHERE room_key = '{ROOM}' ORDER BY seq").split()
        stored = [int(r) for r in rows]
        total = sh("psql", "-At", "-h", "127.0.0.1", "-d", db, "-c",
                   "SELECT string_agg(room_key || ' ' || n, ', ') FROM "
                   "(SELECT room_key, count(*) AS n FROM messages GROUP BY room_key ORDER BY room_key) AS r").strip()
        acked = {}
        for p in probes:
            acked.update(p.acked)
        missing = sorted(set(acked) - set(stored))
        acked_before = [seq for seq, t in acked.items() if t < fault_at]
        print(f"acknowledged before the fault: {len(acked_before)}, of them in PostgreSQL: "
              f"{len(set(acked_before) & set(stored))}")
        unacked = sorted(set(stored) - set(acked))
        said = sum(p.said for p in probes)
        in_flight = sum(p.lost_in_flight + len(p.in_flight) for p in probes)
        print(f"probe lines said {said}, acknowledged {len(acked)}, in probe room in PostgreSQL {len(stored)} "
              f"(max seq {stored[-1] if stored else 0}); acknowledged but not stored: {len(missing)}; "
              f"stored but never acknowledged: {len(unacked)} (requests left without an echo: {in_flight}); "
              f"messages in PostgreSQL by room (loadgen's too) at the end of the probes: {total}")
        bad = bool(missing)
        if missing:
            print(f"  MISSING from PostgreSQL: seqs {missing[:20]}")
        if len(set(stored)) != len(stored) or (stored and stored != list(range(1, stored[-1] + 1))):
            print("  PostgreSQL's seqs of the room are not 1..N")
            bad = True

        # Each probe connected throughout must have seen every seq once, in order.
        through = [p for p in probes if p.connections == 1 and p.sock is not None]
        whole = True
        for p in through:
            first = p.seqs[0] if p.seqs else 1
            want = list(range(first, stored[-1] + 1)) if stored else []
            if p.seqs != want:
                dups = len(p.seqs) - len(set(p.seqs))
                gaps = sorted(set(want) - set(p.seqs))
                print(f"  {p.name}: {len(p.seqs)} seqs, {dups} duplicates, {len(gaps)} missing "
                      f"(first {gaps[:10]}), in order: {p.seqs == sorted(p.seqs)}")
                whole, bad = False, True
        print(f"probes connected throughout: {len(through)} of {len(probes)}, each saw every seq once and in "
              f"order: {whole}")

        lat = sorted(d for p in through for (t, d) in p.latency if t >= fault_at)
        # The first 2 s are left out: nodes start following the room as probes join.
        before = sorted(d for p in through for (t, d) in p.latency if start + 2 <= t < fault_at)

        def pct(xs, q):
            return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")

        print(f"delivery to probes connected throughout, ms: before the fault p50 {pct(before, .5):.1f} "
              f"p99 {pct(before, .99):.1f} max {pct(before, 1):.1f}; after p50 {pct(lat, .5):.1f} "
              f"p99 {pct(lat, .99):.1f} max {pct(lat, 1):.1f}")
        # How long deliveries stalled: the widest pause between arrivals after the fault.
        for p in through[:1]:
            times = [t for (t, _) in p.latency if t >= fault_at - 1]
            gaps = [(b - a, a - fault_at) for a, b in zip(times, times[1:])]
            if gaps:
                g, at = max(gaps)
                print(f"  {p.name}: widest pause between arrivals around the fault {g * 1000:.0f} ms, "
                      f"starting {at * 1000:.0f} ms after it")
            late = [t - fault_at for (t, d) in p.latency if t >= fault_at and d > 0.1]
            if late:
                print(f"  {p.name}: last arrival more than 100 ms late came {late[-1]:.2f} s after the fault")

        cut = [p for p in probes if p.dropped_at]
        for p in cut:
            back = f"{(p.back_at - fault_at) * 1000:.0f} ms" if p.back_at else "never"
            name = f"{(p.name_at - fault_at) * 1000:.0f} ms" if p.name_at else "not within the run"
            print(f"  {p.name}: cut {(p.dropped_at - fault_at) * 1000:.0f} ms after the fault, back in the room "
                  f"{back}, its nickname free again {name} after the fault")

        loadgen.wait(timeout=run_secs + 60)
        lg_out.close()
        try:
            s = json.load(open(lg_out.name))
            other = s['lost'] - s['lost_to_cut_clients'] - s['lost_from_cut_senders']
            print(f"loadgen: ready in {s['setup_secs']:.2f} s, sent {s['sent']}, delivered {s['delivered']} of {s['expected_deliveries']}, "
                  f"lost {s['lost']} (to cut clients {s['lost_to_cut_clients']}, from cut senders "
                  f"{s['lost_from_cut_senders']}, otherwise {other}), duplicates {s['duplicates']}, misdelivered {s['misdelivered']}, "
                  f"cut {s['cut']}, latency {s['latency']}")
        except (ValueError, KeyError):
            print("loadgen: no summary")
        for n, node in enumerate(nodes, 1):
            if node.pid == killed_pid or node.poll() is not None:
                print(f"node{n}: {'killed' if node.pid == killed_pid else f'EXITED {node.returncode}'}")
            errs = [l for l in open(os.path.join(work, f"node{n}.err")) if " ERROR " in l or " WARN " in l]
            for l in errs[:5]:
                print(f"  node{n}: {l.rstrip()}")
        sys.exit(1 if bad else 0)
    finally:
        if loadgen and loadgen.poll() is None:
            loadgen.kill()
            loadgen.wait()
        for node in nodes:
            if node.poll() is None:
                node.terminate()
        for node in nodes:
            try:
                node.wait(timeout=5)
            except subprocess.TimeoutExpired:
                node.kill()
                node.wait()
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-d", "postgres", "-c",
                        f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"], check=False)
        keys = subprocess.run(["redis-cli", "-u", args.redis, "--scan", "--pattern", f"{prefix}*"],
                              capture_output=True, text=True).stdout.split()
        if keys:
            subprocess.run(["redis-cli", "-u", args.redis, "del", *keys], capture_output=True, check=False)
        if os.environ.get("KEEP_LOGS"):
            print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
