#!/usr/bin/env python3
"""A tiny authoritative-for-everything DNS responder for tests: answers every A query with
192.0.2.1 and every AAAA query with 2001:db8::1 (documentation ranges, never contacted),
anything else with NOERROR and no answers. Listens on UDP ADDR:PORT until killed, prints
"ready" once bound and one line per query it answered.

usage: dnsserver.py ADDR [PORT]
"""
import socket
import sys

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset


def main():
    addr = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 53
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        data, peer = s.recvfrom(4096)
        try:
            q = dns.message.from_wire(data)
        except Exception as e:  # a test may send garbage on purpose
            print(f"bad query from {peer}: {e}", flush=True)
            continue
        r = dns.message.make_response(q)
        for question in q.question:
            if question.rdtype == dns.rdatatype.A:
                r.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", "192.0.2.1"))
            elif question.rdtype == dns.rdatatype.AAAA:
                r.answer.append(dns.rrset.from_text(question.name, 60, "IN", "AAAA", "2001:db8::1"))
            print(f"answered {question.name} {dns.rdatatype.to_text(question.rdtype)}", flush=True)
        s.sendto(r.to_wire(), peer)


if __name__ == "__main__":
    main()
