#!/usr/bin/env python3
"""tls13scan.py: did a gateway resume its TLS 1.3 sessions to the broker?

Reads a pcap of the broker's port (tcpdump -i lo -w FILE 'tcp port P') and
looks at the first flight of each connection: the ClientHello (does it
offer a pre_shared_key, and which ticket identity) and the broker's answer
(ServerHello accepting the PSK, a ServerHello without it, or an alert).

Usage: tls13scan.py FILE.pcap BROKER_PORT
Prints one line:
  hellos=N psk_offered=P resumed=R full=F refused=A identities_reused=D
refused = the broker answered the offer with an alert (the connection
failed); identities_reused = ticket identities offered more than once.
Standard library only.
"""
import collections
import struct
import sys


def packets(path):
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    endian = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    linktype = struct.unpack(endian + 'I', data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + 'IIII', data[off:off + 16])
        off += 16
        p = data[off:off + incl]
        off += incl
        if linktype == 1:        # Ethernet (Linux lo)
            p = p[14:]
        elif linktype == 113:    # Linux cooked
            p = p[16:]
        elif linktype == 276:    # Linux cooked v2
            p = p[20:]
        if len(p) < 20 or p[0] >> 4 != 4 or p[9] != 6:
            continue
        t = p[(p[0] & 15) * 4:]
        if len(t) < 20:
            continue
        sport, dport = struct.unpack('>HH', t[:4])
        yield sport, dport, t[(t[12] >> 4) * 4:]


def handshake_body(stream):
    """The first handshake message of a TLS stream (may span records)."""
    body = b''
    i = 0
    while i + 5 <= len(stream) and stream[i] == 0x16:
        n = struct.unpack('>H', stream[i + 3:i + 5])[0]
        body += stream[i + 5:i + 5 + n]
        i += 5 + n
        if len(body) >= 4 and len(body) >= 4 + int.from_bytes(body[1:4], 'big'):
            break
    return body


def extensions(msg, client):
    """(type, data) pairs of a ClientHello or ServerHello."""
    i = 4 + 2 + 32
    i += 1 + msg[i]                                  # session id
    if client:
        i += 2 + struct.unpack('>H', msg[i:i + 2])[0]  # suites
        i += 1 + msg[i]                              # compression
    else:
        i += 3                                       # suite, compression
    if i + 2 > len(msg):
        return []
    end = i + 2 + struct.unpack('>H', msg[i:i + 2])[0]
    i += 2
    out = []
    while i + 4 <= end:
        t, n = struct.unpack('>HH', msg[i:i + 4])
        out.append((t, msg[i + 4:i + 4 + n]))
        i += 4 + n
    return out


def main():
    path, port = sys.argv[1], int(sys.argv[2])
    up = collections.defaultdict(bytes)
    down = collections.defaultdict(bytes)
    for sport, dport, payload in packets(path):
        if not payload:
            continue
        if dport == port:
            up[sport] += payload
        elif sport == port:
            down[dport] += payload
    hellos = offered = resumed = full = refused = 0
    idents = collections.Counter()
    for cport, stream in up.items():
        try:
            msg = handshake_body(stream)
            if len(msg) < 40 or msg[0] != 1:
                continue
            hellos += 1
            psk = [d for t, d in extensions(msg, True) if t == 41]
            if psk:
                offered += 1
                d = psk[0]
                idents[d[4:4 + struct.unpack('>H', d[2:4])[0]]] += 1
            answer = down.get(cport, b'')
            if answer[:1] == b'\x15':
                if psk:
                    refused += 1
                continue
            sh = handshake_body(answer)
            if len(sh) < 40 or sh[0] != 2:
                continue
            if any(t == 41 for t, _ in extensions(sh, False)):
                resumed += 1
            else:
                full += 1
        except (IndexError, struct.error):
            continue
    print('hellos=%d psk_offered=%d resumed=%d full=%d refused=%d '
          'identities_reused=%d' % (hellos, offered, resumed, full, refused,
                                    sum(1 for v in idents.values() if v > 1)))


if __name__ == '__main__':
    main()
