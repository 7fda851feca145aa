"""An independent PC/SC client (Debian's python3-pyscard, on /usr/bin/python3) reads the virtual card.

usage: pyscard_check.py READER PAN KEY_HEX
Prints one JSON object: the ATR, the protocol, and each exchange (command, response data, SW) of
SELECT, GET PAN and GENERATE CRYPTOGRAM as contract section 4 writes them, plus the cryptogram this
script computes itself with hmac/hashlib from the key, and a few malformed commands.
"""
import hashlib
import hmac
import json
import struct
import sys

from smartcard.CardConnection import CardConnection
from smartcard.System import readers

reader_name, pan, key_hex = sys.argv[1], sys.argv[2], sys.argv[3]
key = bytes.fromhex(key_hex)
reader = next(r for r in readers() if str(r) == reader_name)
connection = reader.createConnection()
connection.connect(CardConnection.T1_protocol)
out = {"atr": bytes(connection.getATR()).hex(), "protocol": connection.getProtocol(), "exchanges": []}


def send(name, apdu):
    data, sw1, sw2 = connection.transmit(list(apdu))
    out["exchanges"].append({"name": name, "command": bytes(apdu).hex(), "data": bytes(data).hex(),
                             "sw": "%02x%02x" % (sw1, sw2)})
    return bytes(data), (sw1 << 8) | sw2


AID = bytes.fromhex("F04844464745 4E31".replace(" ", ""))
send("get pan before select", bytes.fromhex("80CA005A00"))
send("select other aid", bytes.fromhex("00A4040008A000000003101001") + b"\x00")
send("select", bytes.fromhex("00A4040008") + AID + b"\x00")
data, _ = send("get pan", bytes.fromhex("80CA005A00"))
out["pan"] = data.decode("ascii")
send("unknown ins", bytes.fromhex("80CB005A00"))
send("unknown cla", bytes.fromhex("90CA005A00"))
send("wrong length", bytes.fromhex("80AE00000400000000"))

for amount, un in ((1250, bytes.fromhex("a1b2c3d4")), (0, bytes.fromhex("00000000"))):
    apdu = bytes.fromhex("80AE00000E") + struct.pack(">QH", amount, 978) + un + b"\x00"
    data, sw = send("generate %d" % amount, apdu)
    atc = struct.unpack(">H", data[:2])[0]
    expected = hmac.new(key, pan.encode("ascii") + struct.pack(">H", atc) + un + struct.pack(">QH", amount, 978),
                        hashlib.sha256).digest()[:8]
    out["exchanges"][-1]["atc"] = atc
    out["exchanges"][-1]["expected_cryptogram"] = expected.hex()
connection.disconnect()
print(json.dumps(out))
