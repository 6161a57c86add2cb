#!/usr/bin/env python3
"""A tiny authoritative-for-everything DNS responder for tests: answers every A query with
192.0.2.1 and every AAAA query with 2001:db8::1 (documentation ranges, never contacted),
anything else with NOERROR and no answers. Listens on UDP and TCP ADDR:PORT until killed,
prints "ready" once bound and one line per query it answered.

usage: dnsserver.py ADDR [PORT]
"""
import socket
import sys
import threading

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset


def answer(data):
    """The response to one query (wire bytes), or None for garbage."""
    try:
        q = dns.message.from_wire(data)
    except Exception as e:  # a test may send garbage on purpose
        print(f"bad query: {e}", flush=True)
        return None
    r = dns.message.make_response(q)
    for question in q.question:
        if question.rdtype == dns.rdatatype.A:
            r.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", "192.0.2.1"))
        elif question.rdtype == dns.rdatatype.AAAA:
            r.answer.append(dns.rrset.from_text(question.name, 60, "IN", "AAAA", "2001:db8::1"))
        print(f"answered {question.name} {dns.rdatatype.to_text(question.rdtype)}", flush=True)
    return r.to_wire()


def serve_udp(s):
    while True:
        data, peer = s.recvfrom(65535)
        wire = answer(data)
        if wire is not None:
            s.sendto(wire, peer)


def recv_exact(c, n):
    buf = b""
    while len(buf) < n:
        chunk = c.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def serve_tcp_conn(c):
    """DNS over TCP (RFC 1035 4.2.2, RFC 7766): messages behind 2-byte lengths, several per
    connection (glibc with `options use-vc` sends A and AAAA back to back)."""
    with c:
        while True:
            head = recv_exact(c, 2)
            if head is None:
                return
            data = recv_exact(c, int.from_bytes(head, "big"))
            if data is None:
                return
            wire = answer(data)
            if wire is not None:
                c.sendall(len(wire).to_bytes(2, "big") + wire)


def serve_tcp(s):
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_tcp_conn, args=(c,), daemon=True).start()


def main():
    addr = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 53
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((addr, port))
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(16)
    threading.Thread(target=serve_tcp, args=(t,), daemon=True).start()
    print("ready", flush=True)
    serve_udp(u)


if __name__ == "__main__":
    main()
