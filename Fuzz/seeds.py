#!/usr/bin/env python3
"""Writes the seed inputs of one fuzz target into a folder (scripts/fuzz.sh --seed minimises them into
Fuzz/corpus/<target>/). Seeds: every frame of protocol/vectors/parse-*.json, hand-written JSON and
request cases, frame-stream programs around the bounds, and APDU sessions of the card application."""
import glob
import hashlib
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Members(list):
    """A JSON object's members in order, duplicates kept."""


def encode(value):
    if isinstance(value, Members):
        return "{" + ",".join(encode(k) + ":" + encode(v) for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def vector_frames():
    frames = []
    for path in sorted(glob.glob(os.path.join(ROOT, "protocol/vectors/parse-*.json"))):
        with open(path, encoding="utf-8") as f:
            cases = json.load(f, object_pairs_hook=Members)
        for case in cases:
            case = dict(case)
            if "request_hex" in case:
                frames.append(bytes.fromhex(case["request_hex"]))
            elif isinstance(case["request"], str):
                frames.append(case["request"].encode("utf-8"))
            else:
                frames.append(encode(case["request"]).encode("utf-8"))
    return frames


CARD = '{"pan":"9250123456789013","atc":1,"un":"a1b2c3d4","cryptogram":"b968a5de76835732"}'
HAND_WRITTEN_REQUESTS = [
    '{"type":"echo","id":"e1"}',
    '{"type":"purchase","id":"r1","stan":"S1","amount":1250,"currency":"EUR","card":%s}' % CARD,
    '{"type":"purchase","id":"r1","stan":"S1","amount":12.5,"currency":"EUR","card":%s,"wallet":"MANUELS","allow_partial":true}' % CARD,
    '{"type":"purchase","id":"r1","stan":"S1","amount":99999999999999999999,"currency":"EUR","card":%s}' % CARD,
    '{"type":"balance","id":"b","stan":"S2","card":%s}' % CARD,
    '{"type":"online.list","id":"o","stan":"S3","pan":"9250123456789014"}',
    '{"type":"voucher.redeem","id":"v","stan":"S4","code":"ab12-cd 34"}',
    '{"type":"totals","id":"t","date":"2026-02-29"}',
    '{"type":"cancel","id":"c","stan":"S5","txn":"T-\\u00e9\\ud83d\\ude00"}',
    '{"type":"status","id":"s","of":"S1","of":"S2"}',
    '{"type":"\\u2028","id":"x"}',
]
HAND_WRITTEN_JSON = [
    "[]", "{}", "0", "-0", "-9223372036854775808", "9223372036854775808", "1.5e-300", '"\\u0000\\uDBFF\\uDFFF\\u2028"',
    '"\u00e9\u20ac\U0001D11E\x7f"', "[" * 32 + "]" * 32, '{"a":{"b":[null,true,false]}}', ' \t\r\n[1 , 2]\n',
]


def frame_programs(frames):
    programs = []
    for frame in frames[:8]:
        if len(frame) <= 255:
            header = struct.pack(">I", len(frame))
            body = header + frame
            programs.append(bytes([0]) + bytes([0, len(body)]) + body)            # one read
            programs.append(bytes([0]) + bytes([4, 0]) + bytes([0, len(body)]) + body)  # one byte per read
    programs.append(bytes([0, 3, 4]))                                # a maximum frame (65,536 bytes)
    programs.append(bytes([0, 3, 4, 4, 0]))                          # the same, one byte per read
    programs.append(bytes([0, 3, 5, 4, 10]))                         # header 65,537: refused
    programs.append(bytes([0, 3, 0]))                                # header 0: refused
    programs.append(bytes([0, 1, 0, 0x41, 2, 0xFF, 0xFF, 0xFF, 0xFF]))  # a frame, then a huge header
    programs.append(bytes([0, 1, 5, 0x20, 0, 3, 0, 0, 0]))           # a frame, then a partial header
    return programs


AID = bytes.fromhex("F048444647454E31")
SELECT = bytes.fromhex("00A40400") + bytes([8]) + AID + b"\x00"
GET_PAN = bytes.fromhex("80CA005A00")
GENERATE = bytes.fromhex("80AE00000E") + struct.pack(">QH", 1250, 978) + bytes.fromhex("a1b2c3d4") + b"\x00"


def apdu_programs():
    def session(start, *commands):
        out = bytes([start])
        for command in commands:
            out += bytes([len(command)]) + command
        return out
    return [
        SELECT, GET_PAN, GENERATE,
        session(0, SELECT, GET_PAN, GENERATE, GENERATE),
        session(1, SELECT, GENERATE, GENERATE),                       # the ATC near FFFF: 69 83
        session(0, GET_PAN, bytes.fromhex("00A40400"), bytes.fromhex("00A4040C08") + AID),
        session(2, SELECT, bytes.fromhex("80CA009F00"), bytes.fromhex("80AE01000E") + bytes(14) + b"\x00"),
        session(4, bytes.fromhex("84A40400"), bytes.fromhex("00B0000000"), bytes.fromhex("80AE00000D") + bytes(13)),
        session(6, SELECT, bytes.fromhex("80AE00000E") + bytes(14) + b"\x09"),
        session(8, bytes.fromhex("00A4040000") + bytes(3)),           # extended length
    ]


def seeds(target):
    frames = vector_frames() + [r.encode("utf-8") for r in HAND_WRITTEN_REQUESTS]
    if target == "FuzzRequestParser":
        return frames
    if target == "FuzzJSON":
        return frames + [j.encode("utf-8") for j in HAND_WRITTEN_JSON]
    if target == "FuzzFrameDecoder":
        return frame_programs(frames)
    if target == "FuzzAPDU":
        return apdu_programs()
    raise SystemExit("unknown target " + target)


def main():
    target, folder = sys.argv[1], sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    for data in seeds(target):
        with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
