#!/usr/bin/env python3
"""Reference client for the Génération #HDF payment gateway (Python 3, standard library only).

An online-payment partner or a terminal maker can start from this file. It shows:

- `GatewayClient`: mutual TLS 1.3 to the gateway, the 4-byte big-endian length framing,
  one request/response at a time (`request`) or pipelined (`pipeline`);
- `Card`: what the card computes (contract section 4): the ATC, a random UN and the cryptogram
  HMAC-SHA256(K, PAN ‖ ATC ‖ UN ‖ amount ‖ currency)[:8]. A real terminal asks the card to do
  this (GENERATE CRYPTOGRAM); here the card's key K comes from the demo manifest;
- one subcommand per request type, a `selftest` of the contract's test vectors, and a
  `scenario` that checks a whole live gateway against the contract.

Usage: see protocol/examples/README.md, or `terminal.py --help`.
"""

import argparse
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import ssl
import string
import struct
import subprocess
import sys
from datetime import datetime

MAX_FRAME = 65536           # contract §3: 1 <= N <= 65,536
CURRENCY_EUR = 978          # ISO 4217 numeric, used in the cryptogram
APPROVED = ("00", "10")


# ---------------------------------------------------------------------------------------------
# Transport: mutual TLS and framing
# ---------------------------------------------------------------------------------------------

class GatewayError(Exception):
    """The connection failed or the gateway closed it."""


class GatewayClient:
    """One mutual-TLS connection to the gateway, opened on first use.

    `request(dict) -> dict` sends one JSON object in a frame and reads the answer.
    `pipeline([dict]) -> [dict]` sends them all first, then reads all answers (they come back in
    request order). A request without an `id` gets one.
    """

    def __init__(self, host, port, ca, cert=None, key=None, timeout=10.0):
        self.host, self.port, self.timeout = host, int(port), timeout
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)   # verifies the server and its name
        self.context.minimum_version = ssl.TLSVersion.TLSv1_3
        self.context.load_verify_locations(ca)                    # the gateway's partner CA
        if cert:
            self.context.load_cert_chain(cert, key)               # this terminal's certificate
        self.sock = None
        self._ids = 0

    def connect(self):
        raw = socket.create_connection((self.host, self.port), timeout=self.timeout)
        try:
            self.sock = self.context.wrap_socket(raw, server_hostname=self.host)
        except Exception:
            raw.close()
            raise
        return self

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- framing --
    @staticmethod
    def encode(message):
        """The frame payload of a request: compact UTF-8 JSON."""
        return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def send_payload(self, payload):
        """Sends one frame: 4-byte unsigned big-endian length, then the bytes."""
        if self.sock is None:
            self.connect()
        try:
            self.sock.sendall(struct.pack(">I", len(payload)) + payload)
        except (OSError, ssl.SSLError) as error:
            self.close()
            raise GatewayError(f"send failed: {error}") from error

    def _read_exactly(self, count):
        data = b""
        while len(data) < count:
            try:
                chunk = self.sock.recv(count - len(data))
            except (OSError, ssl.SSLError) as error:
                self.close()
                raise GatewayError(f"read failed: {error}") from error
            if not chunk:
                self.close()
                raise GatewayError("connection closed by the gateway")
            data += chunk
        return data

    def read_response(self):
        """Reads one frame and returns its JSON object."""
        if self.sock is None:
            raise GatewayError("not connected")
        (length,) = struct.unpack(">I", self._read_exactly(4))
        if not 1 <= length <= MAX_FRAME:
            self.close()
            raise GatewayError(f"bad frame length {length}")
        return json.loads(self._read_exactly(length).decode("utf-8"))

    # -- requests --
    def with_id(self, message):
        if "id" not in message:
            self._ids += 1
            message = dict(message, id=f"r{self._ids}")
        return message

    def request(self, message):
        """One request, one response."""
        self.send_payload(self.encode(self.with_id(message)))
        return self.read_response()

    def request_raw(self, payload):
        """Sends exact bytes as one frame (a retransmission, or a malformed frame) and reads the answer."""
        self.send_payload(payload)
        return self.read_response()

    def pipeline(self, messages):
        """Sends every request without waiting, then reads the answers, in request order."""
        messages = [self.with_id(m) for m in messages]
        if self.sock is None:
            self.connect()
        frames = b"".join(struct.pack(">I", len(p)) + p for p in map(self.encode, messages))
        try:
            self.sock.sendall(frames)
        except (OSError, ssl.SSLError) as error:
            self.close()
            raise GatewayError(f"send failed: {error}") from error
        return [self.read_response() for _ in messages]


# ---------------------------------------------------------------------------------------------
# The card
# ---------------------------------------------------------------------------------------------

class AtcStore:
    """Remembers the last ATC used for each card (a JSON file), so that repeated runs never reuse
    one: the gateway refuses (63) an ATC that is not above the last it accepted."""

    def __init__(self, path, start=None):
        self.path, self.start, self.values = path, start, {}
        if path and os.path.exists(path):
            with open(path) as f:
                self.values = json.load(f)

    def last(self, pan):
        last = self.values.get(pan, 0)
        if self.start is not None:
            last = max(last, self.start - 1)   # --atc-start N: the next cryptogram carries at least ATC N
        return last

    def save(self, pan, atc):
        self.values[pan] = atc
        if self.path:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self.values, f)
            os.replace(tmp, self.path)


class Card:
    """The card application of contract §4, as a terminal sees its answers."""

    def __init__(self, pan, key_hex, atc=0, store=None):
        self.pan, self.key, self.atc, self.store = pan, bytes.fromhex(key_hex), atc, store
        if store is not None:
            self.atc = store.last(pan)

    def hmac_input(self, atc, un, amount, currency=CURRENCY_EUR):
        # PAN (16 ASCII) ‖ ATC (2 BE) ‖ UN (4) ‖ amount (8 BE) ‖ currency (2 BE): always 32 bytes
        return self.pan.encode("ascii") + struct.pack(">H", atc) + un + struct.pack(">QH", amount, currency)

    def cryptogram(self, atc, un, amount, currency=CURRENCY_EUR):
        return hmac.new(self.key, self.hmac_input(atc, un, amount, currency), hashlib.sha256).digest()[:8]

    def generate(self, amount):
        """GENERATE CRYPTOGRAM: increment the ATC first, draw a UN, return the wire's card object."""
        if self.atc >= 0xFFFF:
            raise ValueError("ATC exhausted (69 83): the card must be replaced")
        self.atc += 1
        if self.store is not None:
            self.store.save(self.pan, self.atc)
        return self.card_object(self.atc, secrets.token_bytes(4), amount)

    def card_object(self, atc, un, amount):
        return {"pan": self.pan, "atc": atc, "un": un.hex(), "cryptogram": self.cryptogram(atc, un, amount).hex()}


def luhn_ok(digits):
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def luhn_complete(prefix15):
    return next(prefix15 + d for d in "0123456789" if luhn_ok(prefix15 + d))


VOUCHER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def voucher_check_character(first11):
    """Σ (position+1) × value over the 12 characters is 0 mod 31 (HDFDomain/VoucherCode.swift)."""
    total = sum((i + 1) * VOUCHER_ALPHABET.index(c) for i, c in enumerate(first11))
    return VOUCHER_ALPHABET[((31 - total % 31) % 31) * 13 % 31]


def voucher_normalise(code):
    return code.upper().replace(" ", "").replace("-", "")


def new_stan():
    return secrets.token_hex(6)     # 12 characters of [0-9a-f]; unique per terminal


# ---------------------------------------------------------------------------------------------
# Request builders (contract §3)
# ---------------------------------------------------------------------------------------------

def purchase(stan, card, amount, wallet=None, allow_partial=False):
    message = {"type": "purchase", "stan": stan, "amount": amount, "currency": "EUR", "card": card.generate(amount)}
    if wallet:
        message["wallet"] = wallet
    if allow_partial:
        message["allow_partial"] = True
    return message


def balance(stan, card):
    return {"type": "balance", "stan": stan, "card": card.generate(0)}


def reverse(of):
    return {"type": "reverse", "of": of}


def cancel(stan, txn):
    return {"type": "cancel", "stan": stan, "txn": txn}


def voucher_check(code):
    return {"type": "voucher.check", "code": code}


def voucher_redeem(stan, code):
    return {"type": "voucher.redeem", "stan": stan, "code": code}


def online_list(stan, card=None, pan=None):
    message = {"type": "online.list", "stan": stan}
    if card is not None:
        message["card"] = card.generate(0)
    if pan is not None:
        message["pan"] = pan
    return message


def status(of):
    return {"type": "status", "of": of}


def totals(date):
    return {"type": "totals", "date": date}


def paris_today():
    try:
        from zoneinfo import ZoneInfo
        return datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    except Exception:                       # no tz database: ask the gateway
        return None


# ---------------------------------------------------------------------------------------------
# Configuration: manifest or explicit paths
# ---------------------------------------------------------------------------------------------

class Environment:
    """Where the gateway is and who we are, from `demo.json` or from explicit options."""

    def __init__(self, args):
        self.manifest, self.base = None, "."
        if args.manifest:
            with open(args.manifest, encoding="utf-8") as f:
                self.manifest = json.load(f)
            self.base = os.path.dirname(os.path.abspath(args.manifest))
        gateway = (self.manifest or {}).get("gateway", {})
        self.host = args.host or gateway.get("host", "127.0.0.1")
        self.port = args.port or gateway.get("port", 8583)
        self.ca = args.ca or (gateway.get("ca") and os.path.join(self.base, gateway["ca"]))
        self.cert, self.key = args.cert, args.key
        self.partner = None
        if self.manifest and args.terminal:
            for partner in self.manifest["partners"]:
                for terminal in partner["terminals"]:
                    if terminal["id"] == args.terminal:
                        self.partner = partner
                        self.cert = self.cert or os.path.join(self.base, terminal["cert"])
                        self.key = self.key or os.path.join(self.base, terminal["key"])
            if self.partner is None:
                sys.exit(f"terminal {args.terminal} is not in the manifest")
        if not (self.ca and self.cert and self.key):
            sys.exit("give --manifest D/demo.json --terminal T, or --ca, --cert and --key")
        state = args.state or (self.manifest and os.path.join(self.base, ".terminal-atc.json")) \
            or os.path.expanduser("~/.hdf-terminal-atc.json")
        self.atc = AtcStore(state, args.atc_start)
        self.card_keys = args.card_key

    def client(self, terminal_cert=None, terminal_key=None):
        return GatewayClient(self.host, self.port, self.ca, terminal_cert or self.cert, terminal_key or self.key)

    def card_entry(self, pan):
        for entry in (self.manifest or {}).get("cards", []):
            if entry["pan"] == pan:
                return entry
        return None

    def card(self, pan):
        key = self.card_keys
        if key is None:
            entry = self.card_entry(pan)
            if entry is None:
                sys.exit(f"card {pan}: not in the manifest; give --card-key HEX")
            key = entry["key"]
        return Card(pan, key, store=self.atc)


# ---------------------------------------------------------------------------------------------
# selftest: the contract's test vectors
# ---------------------------------------------------------------------------------------------

def selftest():
    key = "000102030405060708090a0b0c0d0e0f"
    card = Card("9250123456789013", key)
    checks = [
        ("vector 1 HMAC input", card.hmac_input(1, bytes.fromhex("a1b2c3d4"), 1250).hex(),
         "393235303132333435363738393031330001a1b2c3d400000000000004e203d2"),
        ("vector 1 cryptogram", card.cryptogram(1, bytes.fromhex("a1b2c3d4"), 1250).hex(), "b968a5de76835732"),
        ("vector 2 cryptogram", card.cryptogram(2, bytes(4), 0).hex(), "741a14e3dcf0e15e"),
        # protocol/card.md's own vectors 3 and 4
        ("vector 3 cryptogram", card.cryptogram(3, bytes.fromhex("deadbeef"), 100_000_000).hex(), "be5430d1f04707f9"),
        ("vector 4 cryptogram", Card("9250000000000040", "7f390c9b3cf9058ec11be8e6b1aaf284")
         .cryptogram(65535, bytes.fromhex("01020304"), 4999).hex(), "7d46dce2d5d5221a"),
    ]
    counter = Card("9250123456789013", key)
    first, second = counter.generate(0), counter.generate(0)
    checks.append(("ATC increments before each cryptogram", (first["atc"], second["atc"]), (1, 2)))
    checks.append(("card object cryptogram", second["cryptogram"],
                   counter.cryptogram(2, bytes.fromhex(second["un"]), 0).hex()))
    checks.append(("Luhn of the vectors' PAN", luhn_ok("9250123456789013"), True))
    code = "ABCDEFGHJKM" + voucher_check_character("ABCDEFGHJKM")
    checks.append(("voucher check character: weighted sum 0 mod 31",
                   sum((i + 1) * VOUCHER_ALPHABET.index(c) for i, c in enumerate(code)) % 31, 0))
    failed = 0
    for name, got, expected in checks:
        ok = got == expected
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": got {got}, expected {expected}"))
    print(f"selftest: {len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


# ---------------------------------------------------------------------------------------------
# scenario: a whole session against a live gateway, every answer checked against the contract
# ---------------------------------------------------------------------------------------------

class StepFailed(Exception):
    pass


class Scenario:
    def __init__(self, env, args):
        self.env, self.args = env, args
        self.passed, self.failed = 0, 0
        self.exchanges = []                     # (request, response) of the current step
        self.tag = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(5))
        self.stans = 0
        self.client = self.tracked(env.client())

    # -- plumbing --
    def tracked(self, client):
        """Wraps a client so that every exchange of the current step is kept for the failure report."""
        scenario, plain_request, plain_raw = self, client.request, client.request_raw

        def request(message):
            message = client.with_id(message)
            scenario.exchanges.append([message, None])
            scenario.exchanges[-1][1] = plain_request(message)
            return scenario.exchanges[-1][1]

        def request_raw(payload):
            scenario.exchanges.append([payload, None])
            scenario.exchanges[-1][1] = plain_raw(payload)
            return scenario.exchanges[-1][1]

        client.request, client.request_raw = request, request_raw
        return client

    def stan(self):
        self.stans += 1
        return f"{self.tag}-{self.stans}"     # at most 12 characters of [0-9A-Za-z-]

    def step(self, name, body):
        self.exchanges = []
        try:
            detail = body()
            self.passed += 1
            print(f"ok   {name}" + (f" ({detail})" if detail else ""), flush=True)
        except Exception as error:              # a failed check, or the gateway not answering
            self.failed += 1
            print(f"FAIL {name}: {error if isinstance(error, StepFailed) else repr(error)}", flush=True)
            for request, response in self.exchanges[-3:]:
                shown = request.decode("utf-8", "replace") if isinstance(request, bytes) else json.dumps(request, ensure_ascii=False)
                print(f"     request:  {shown}\n     response: {json.dumps(response, ensure_ascii=False)}", flush=True)

    @staticmethod
    def check(condition, what):
        if not condition:
            raise StepFailed(what)

    def expect(self, response, request, code):
        """Common checks of every answer: type and id echoed, the code, a short French message."""
        codes = code if isinstance(code, tuple) else (code,)
        self.check(response.get("code") in codes, f"code {response.get('code')!r}, expected {' or '.join(codes)}")
        self.check(response.get("type") == request["type"], f"type {response.get('type')!r} is not the request's")
        self.check(response.get("id") == request["id"], f"id {response.get('id')!r} is not the request's")
        message = response.get("message")
        self.check(isinstance(message, str) and 0 < len(message) <= 32, f"message {message!r} not 1-32 characters")
        return response

    def call(self, message, code, client=None):
        request = (client or self.client).with_id(message)
        return self.expect((client or self.client).request(request), request, code)

    def manuels(self, card):
        response = self.call(balance(self.stan(), card), "00")
        wallets = {w["code"]: w for w in response["wallets"]}
        self.check("MANUELS" in wallets, "no MANUELS wallet in the balance")
        for w in response["wallets"]:
            self.check(set(w) >= {"code", "label", "balance", "expires", "usable_here"}, f"wallet fields {sorted(w)}")
        return wallets["MANUELS"]["balance"], response

    def beneficiary(self, *argv):
        command = [self.args.beneficiary, argv[0], "--dir", self.args.dir, "--json", *argv[1:]]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
        self.exchanges.append([" ".join(command), done.stdout.strip() or done.stderr.strip()])
        self.check(done.returncode == 0, f"`beneficiary {argv[0]}` exited {done.returncode}: {done.stderr.strip()}")
        return json.loads(done.stdout)

    # -- the cards the scenario uses --
    def pick_cards(self, today):
        partner = self.env.partner
        self.check(partner and "MANUELS" in partner["wallets"], "the scenario's terminal must belong to a partner taking MANUELS")
        usable = [c for c in self.env.manifest["cards"] if c["status"] == "active" and any(
            w["code"] == "MANUELS" and w["balance"] >= 5000 and w["expires"] >= today for w in c["wallets"])]
        self.check(len(usable) >= 3, "the manifest needs 3 active cards with money in MANUELS")
        self.card_a = self.env.card(usable[0]["pan"])
        self.others = usable[1:]
        # a card this tool never used (its manifest status is still true) for the declare-problem step
        fresh = [c for c in usable[2:] if c["pan"] not in self.env.atc.values]
        self.card_c = self.env.card(fresh[-1]["pan"]) if fresh else None
        by_status = {c["status"]: c["pan"] for c in self.env.manifest["cards"]}
        self.lost, self.stolen = self.env.card(by_status["lost"]), self.env.card(by_status["stolen"])

    # -- the scenario --
    def run(self):
        a = self.args
        P1, P2, ONLINE, VOUCHER = 1250, 730, 2300, 1500
        state = {"today": paris_today()}

        def echo():
            r = self.call({"type": "echo"}, "00")
            self.check(isinstance(r.get("server_time"), str) and r["server_time"][:4].isdigit(), "no server_time")
            state["today"] = state["today"] or r["server_time"][:10]
            self.pick_cards(state["today"])
            return f"server_time {r['server_time']}"
        self.step("echo", echo)
        if not hasattr(self, "card_a"):
            return self.finish()
        A = self.card_a

        def totals_before():
            r = self.call(totals(state["today"]), "00")
            state["totals0"] = r
            return ", ".join(f"{k} {r[k]['count']}/{r[k]['amount']}" for k in ("purchases", "cancellations", "vouchers", "online"))
        self.step(f"totals {state['today']} before", totals_before)

        # The beneficiary side makes a voucher and an online payment for this partner.
        partner = self.env.partner["id"]
        if a.beneficiary:
            def make_voucher():
                for entry in self.others:
                    wallets = {w["code"]: w["balance"] for w in self.beneficiary("wallets", "--card", entry["pan"])["wallets"]}
                    if wallets.get("MANUELS", 0) >= VOUCHER + ONLINE:
                        state["card_b"] = entry["pan"]
                        break
                self.check("card_b" in state, "no card left with enough money in MANUELS")
                v = self.beneficiary("prepay", "--card", state["card_b"], "--partner", partner, "--wallet", "MANUELS",
                                     "--amount", str(VOUCHER))["voucher"]
                self.check(v["amount"] == VOUCHER and v["status"] == "issued", f"voucher {v}")
                state["voucher"] = v["code"]
                return f"voucher {v['code']}"
            self.step("beneficiary prepay", make_voucher)

            def make_online():
                p = self.beneficiary("pay-online", "--card", state["card_b"], "--partner", partner, "--wallet", "MANUELS",
                                     "--amount", str(ONLINE))["payment"]
                self.check(p["amount"] == ONLINE, f"payment {p}")
                state["online"], state["online_amount"], state["online_new"] = p["txn"], ONLINE, True
                wallets = self.beneficiary("wallets", "--card", state["card_b"])["wallets"]
                state["card_b_manuels"] = next(w["balance"] for w in wallets if w["code"] == "MANUELS")
                return f"txn {p['txn']}"
            self.step("beneficiary pay-online", make_online)
        else:
            state.update(voucher=a.voucher, online=a.online_txn, card_b=a.online_card, online_new=False)

        # Purchase, retransmissions, duplicates.
        def first_balance():
            state["b0"], _ = self.manuels(A)
            return f"card {A.pan[:4]}…{A.pan[-4:]} MANUELS {state['b0']}"
        self.step("balance", first_balance)

        def purchase_approved():
            request = self.client.with_id(purchase(self.stan(), A, P1, wallet="MANUELS"))
            state["p1_request"], state["p1_bytes"] = request, GatewayClient.encode(request)
            r = self.expect(self.client.request_raw(state["p1_bytes"]), request, "00")
            self.check(isinstance(r.get("txn"), str) and r["txn"], "no txn")
            self.check(isinstance(r.get("auth_code"), str) and len(r["auth_code"]) == 6, f"auth_code {r.get('auth_code')!r}")
            self.check(r.get("amount") == P1 and r.get("wallet") == "MANUELS", "amount or wallet differ")
            self.check(r.get("balance") == state["b0"] - P1, f"balance {r.get('balance')}, expected {state['b0'] - P1}")
            state["p1"] = r
            return f"txn {r['txn']} auth_code {r['auth_code']}"
        self.step("purchase 00", purchase_approved)

        def retransmit_same_connection():
            r = self.client.request_raw(state["p1_bytes"])
            self.check(r == state["p1"], "a retransmission got another response")
        self.step("same frame again, same connection: same response", retransmit_same_connection)

        def retransmit_new_connection():
            with self.tracked(self.env.client()) as other:
                r = other.request_raw(state["p1_bytes"])
            self.check(r == state["p1"], "a retransmission got another response")
        self.step("same frame again, new connection: same response", retransmit_new_connection)

        def balance_moved_once():
            b, _ = self.manuels(A)
            self.check(b == state["b0"] - P1, f"MANUELS {b}, expected {state['b0'] - P1}")
            return f"MANUELS {b}"
        self.step("balance moved once", balance_moved_once)

        def duplicate_stan():
            self.call(purchase(state["p1_request"]["stan"], A, P1 + 1, wallet="MANUELS"), "94")
        self.step("same stan, other content: 94", duplicate_stan)

        # Reversal of an approved purchase.
        def purchase_then_reverse():
            r = self.call(purchase(self.stan(), A, P2), "00")
            state["p2_stan"], state["p2"] = self.exchanges[-1][0]["stan"], r
            self.check(r.get("wallet") == "MANUELS", f"wallet chosen {r.get('wallet')}")
            self.call(reverse(state["p2_stan"]), "00")
            return f"txn {r['txn']} reversed"
        self.step("purchase 00 then reverse 00", purchase_then_reverse)

        def status_of_reversed():
            r = self.call(status(state["p2_stan"]), "00")
            self.check(r.get("original") == state["p2"], "original is not the response the purchase got")
        self.step("status of the reversed purchase: its original 00", status_of_reversed)

        def money_back_after_reverse():
            b, _ = self.manuels(A)
            self.check(b == state["b0"] - P1, f"MANUELS {b}, expected {state['b0'] - P1}")
        self.step("reversal gave the money back", money_back_after_reverse)

        # A reversal that overtakes its purchase.
        def reverse_first():
            state["p3_stan"] = self.stan()
            self.call(reverse(state["p3_stan"]), "00")
            r = self.call(status(state["p3_stan"]), "00")       # only reversed: the 05 its original would get
            self.check(isinstance(r.get("original"), dict) and r["original"].get("code") == "05", f"original {r.get('original')}")
            self.call(purchase(state["p3_stan"], A, 990), "05")
            r = self.call(status(state["p3_stan"]), "00")
            self.check(isinstance(r.get("original"), dict) and r["original"].get("code") == "05", f"original {r.get('original')}")
            b, _ = self.manuels(A)
            self.check(b == state["b0"] - P1, f"MANUELS {b}, expected {state['b0'] - P1}")
            state["last_accepted_atc"] = A.atc
        self.step("reverse of an unseen stan 00, status 05, its late purchase 05, status 05", reverse_first)

        # Card checks.
        def wrong_cryptogram():
            message = purchase(self.stan(), A, 500)
            message["card"]["cryptogram"] = ("0" if message["card"]["cryptogram"][0] != "0" else "1") + message["card"]["cryptogram"][1:]
            self.call(message, "63")
        self.step("wrong cryptogram: 63", wrong_cryptogram)

        def replayed_atc():
            message = purchase(self.stan(), A, 500)
            message["card"] = A.card_object(state["last_accepted_atc"], secrets.token_bytes(4), 500)
            self.call(message, "63")
        self.step("replayed ATC: 63", replayed_atc)

        def unknown_card():
            known = {c["pan"] for c in self.env.manifest["cards"]}
            pan = next(p for p in (luhn_complete("9250" + "".join(secrets.choice(string.digits) for _ in range(11)))
                                   for _ in range(100)) if p not in known)
            self.call(purchase(self.stan(), Card(pan, secrets.token_hex(16)), 500), "14")
        self.step("unknown card: 14", unknown_card)

        def luhn_invalid():
            pan = A.pan[:15] + str((int(A.pan[15]) + 1) % 10)
            self.call(purchase(self.stan(), Card(pan, secrets.token_hex(16)), 500), "14")
        self.step("Luhn-invalid card number: 14", luhn_invalid)

        def amount_zero():
            self.call(purchase(self.stan(), A, 0), "13")
        self.step("amount 0: 13", amount_zero)

        def unknown_type():
            self.call({"type": "refund", "stan": self.stan()}, "12")
        self.step("unknown type: 12", unknown_type)

        def bad_json():
            r = self.client.request_raw(b'{"type": "echo", "id": ')
            self.check(r.get("type") == "error" and r.get("id") is None and r.get("code") == "30", f"answer {r}")
            self.call({"type": "echo"}, "00")
        self.step("bad JSON: error 30, and the connection still works", bad_json)

        # Vouchers.
        def check_voucher():
            self.check(state.get("voucher"), "no voucher (give --voucher or --beneficiary)")
            typed = " ".join(voucher_normalise(state["voucher"]).lower()[i:i + 3] for i in range(0, 12, 3))
            v = self.call(voucher_check(typed), "00").get("voucher") or {}
            self.check(voucher_normalise(v.get("code", "")) == voucher_normalise(state["voucher"]), f"voucher code {v.get('code')}")
            self.check(v.get("status") == "issued" and v.get("wallet") == "MANUELS", f"voucher {v}")
            self.check(isinstance(v.get("amount"), int) and v["amount"] > 0, f"voucher amount {v.get('amount')}")
            self.check(a.voucher or v["amount"] == VOUCHER, f"voucher amount {v['amount']}, expected {VOUCHER}")
            self.check(isinstance(v.get("expires"), str) and v["expires"] >= state["today"], f"voucher expires {v.get('expires')}")
            state["voucher_amount"] = v["amount"]
            return f"typed {typed!r}: {v['amount']} {v['wallet']} until {v['expires']}"
        self.step("voucher.check 00 (lower case, spaces)", check_voucher)

        def redeem_voucher():
            r = self.call(voucher_redeem(self.stan(), state["voucher"]), "00")
            self.check(isinstance(r.get("txn"), str) and r.get("amount") == state["voucher_amount"], f"answer {r}")
            state["voucher_txn"] = r["txn"]
            return f"txn {r['txn']}"
        self.step("voucher.redeem 00", redeem_voucher)

        def redeem_again():
            self.call(voucher_redeem(self.stan(), state["voucher"]), "A1")
        self.step("voucher.redeem again: A1", redeem_again)

        def mistyped_voucher():
            code = voucher_normalise(state["voucher"])
            wrong = VOUCHER_ALPHABET[(VOUCHER_ALPHABET.index(code[4]) + 1) % 31]
            self.call(voucher_check(code[:4] + wrong + code[5:]), "30")
        self.step("mistyped voucher code: 30", mistyped_voucher)

        def unknown_voucher():
            first = "".join(secrets.choice(VOUCHER_ALPHABET) for _ in range(11))
            self.call(voucher_redeem(self.stan(), first + voucher_check_character(first)), "25")
        self.step("unknown well-formed voucher code: 25", unknown_voucher)

        # Partner-side cancellation.
        def cancel_purchase():
            r = self.call(cancel(self.stan(), state["p1"]["txn"]), "00")
            self.check(isinstance(r.get("txn"), str) and r["txn"] != state["p1"]["txn"], f"cancellation txn {r.get('txn')}")
            self.check(r.get("original") == state["p1"]["txn"] and r.get("amount") == P1, f"answer {r}")
            b, _ = self.manuels(A)
            self.check(b == state["b0"], f"MANUELS {b}, expected {state['b0']} (money back)")
            return f"txn {r['txn']}, MANUELS back to {b}"
        self.step("cancel of the purchase 00, money back", cancel_purchase)

        def cancel_again():
            self.call(cancel(self.stan(), state["p1"]["txn"]), "A3")
        self.step("cancel again: A3", cancel_again)

        # Online payments.
        def list_online():
            self.check(state.get("online"), "no online payment (give --online-txn or --beneficiary)")
            payments = self.call(online_list(self.stan()), "00").get("payments")
            self.check(isinstance(payments, list), "no payments list")
            mine = [p for p in payments if p.get("txn") == state["online"]]
            self.check(mine, f"txn {state['online']} not listed")
            self.check(set(mine[0]) >= {"txn", "amount", "wallet", "created", "status"}, f"fields {sorted(mine[0])}")
            created = [p["created"] for p in payments]
            self.check(created == sorted(created, reverse=True), "not newest first")
            state["online_amount"] = mine[0]["amount"]
            if state.get("card_b"):
                by_pan = self.call(online_list(self.stan(), pan=state["card_b"]), "00").get("payments") or []
                self.check(any(p["txn"] == state["online"] for p in by_pan), "not listed by pan")
            return f"{len(payments)} payment(s), {state['online']} {mine[0]['status']}"
        self.step("online.list lists the online payment", list_online)

        def cancel_online():
            r = self.call(cancel(self.stan(), state["online"]), "00")
            self.check(r.get("original") == state["online"] and r.get("amount") == state["online_amount"], f"answer {r}")
            if "card_b_manuels" in state:
                wallets = self.beneficiary("wallets", "--card", state["card_b"])["wallets"]
                b = next(w["balance"] for w in wallets if w["code"] == "MANUELS")
                self.check(b == state["card_b_manuels"] + state["online_amount"], f"MANUELS {b}, expected money back")
            state["online_cancelled"] = True
            return f"txn {r['txn']}"
        self.step("cancel of the online payment 00", cancel_online)

        # Blocked cards.
        self.step("lost card: 41", lambda: self.call(purchase(self.stan(), self.lost, 500), "41") and None)
        self.step("stolen card: 43", lambda: self.call(purchase(self.stan(), self.stolen, 500), "43") and None)
        if a.beneficiary and self.card_c is not None:
            def declared_lost():
                self.manuels(self.card_c)
                self.beneficiary("declare-problem", "--card", self.card_c.pan, "--reason", "lost")
                self.call(purchase(self.stan(), self.card_c, 500), "41")
            self.step("card declared lost by its beneficiary: next purchase 41", declared_lost)

        # Totals of this terminal today: what the scenario did, on top of what was there before.
        def check_totals():
            before, r = state["totals0"], self.call(totals(state["today"]), "00")
            cancelled = [P1] * ("p1" in state) + [state.get("online_amount", 0)] * ("online_cancelled" in state)
            expected = {
                "purchases": (1, P1) if "p1" in state else (0, 0),          # P2 reversed, P3 declined
                "cancellations": (len(cancelled), sum(cancelled)),
                "vouchers": (1, state["voucher_amount"]) if "voucher_txn" in state else (0, 0),
                "online": (1, ONLINE) if state.get("online_new") else (0, 0),  # cancelled or not
            }
            for name, (count, amount) in expected.items():
                want = (before[name]["count"] + count, before[name]["amount"] + amount)
                got = (r[name]["count"], r[name]["amount"])
                self.check(got == want, f"{name} {got}, expected {want}")
            return ", ".join(f"{k} {r[k]['count']}/{r[k]['amount']}" for k in expected)
        self.step("totals match what the scenario did", check_totals)

        # Pipelining.
        def pipelined():
            with self.tracked(self.env.client()) as client:
                messages = [{"type": "echo", "id": f"{self.tag}-p1"}, dict(balance(self.stan(), A), id=f"{self.tag}-p2"),
                            {"type": "echo", "id": f"{self.tag}-p3"}, dict(balance(self.stan(), A), id=f"{self.tag}-p4"),
                            {"type": "echo", "id": f"{self.tag}-p5"}]
                answers = client.pipeline(messages)
                self.exchanges.extend([m, r] for m, r in zip(messages, answers))
            for message, answer in zip(messages, answers):
                self.expect(answer, message, "00")
        self.step("5 pipelined requests answered in order", pipelined)
        return self.finish()

    def finish(self):
        self.client.close()
        print(f"scenario: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def main(argv=None):
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `terminal.py ... | head` ends quietly
    parser = argparse.ArgumentParser(description="Reference client of the Génération #HDF payment gateway.")
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--manifest", help="the demo environment's demo.json (gateway address, CA, terminals, cards)")
    where.add_argument("--terminal", help="the terminal to be (its certificate and key from the manifest)")
    where.add_argument("--host")
    where.add_argument("--port", type=int)
    where.add_argument("--ca", help="the gateway's partner CA (PEM)")
    where.add_argument("--cert", help="this terminal's certificate (PEM)")
    where.add_argument("--key", help="this terminal's private key (PEM)")
    where.add_argument("--state", help="ATC state file (default: .terminal-atc.json next to the manifest)")
    where.add_argument("--atc-start", type=int, help="the next cryptogram's ATC is at least N (after a lost state file)")
    where.add_argument("--card-key", help="the card's key K (32 hex) when the card is not in the manifest")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("selftest", help="check the card cryptogram against the contract's test vectors")
    commands.add_parser("echo", parents=[where], help="is the gateway there? (server_time)")
    p = commands.add_parser("purchase", parents=[where], help="pay with a card (cryptogram over the amount)")
    p.add_argument("--card", required=True, help="PAN")
    p.add_argument("--amount", type=int, required=True, help="cents")
    p.add_argument("--wallet")
    p.add_argument("--partial", action="store_true", help="allow a partial approval (10)")
    p.add_argument("--stan")
    p = commands.add_parser("balance", parents=[where], help="a card's wallets (cryptogram over 0)")
    p.add_argument("--card", required=True)
    p.add_argument("--stan")
    p = commands.add_parser("reverse", parents=[where], help="undo a purchase or redemption by its stan")
    p.add_argument("--of", required=True, help="the stan to undo")
    p = commands.add_parser("cancel", parents=[where], help="cancel a payment this partner received")
    p.add_argument("--txn", required=True)
    p.add_argument("--stan")
    p = commands.add_parser("voucher-check", parents=[where], help="look a voucher up")
    p.add_argument("code")
    p = commands.add_parser("voucher-redeem", parents=[where], help="take a voucher's money")
    p.add_argument("code")
    p.add_argument("--stan")
    p = commands.add_parser("online-list", parents=[where], help="this partner's online payments")
    p.add_argument("--card", help="PAN of the card at the counter (cryptogram over 0)")
    p.add_argument("--pan", help="PAN typed in (no card reader)")
    p.add_argument("--stan")
    p = commands.add_parser("status", parents=[where], help="the response a stan got")
    p.add_argument("--of", required=True)
    p = commands.add_parser("totals", parents=[where], help="this terminal's totals of a day")
    p.add_argument("--date", help="YYYY-MM-DD (default: today, Europe/Paris)")
    p = commands.add_parser("scenario", parents=[where], help="run the acceptance scenario against a live gateway")
    p.add_argument("--voucher", help="an issued voucher for this terminal's partner")
    p.add_argument("--online-txn", help="an online payment to this terminal's partner")
    p.add_argument("--online-card", help="the card of that online payment")
    p.add_argument("--beneficiary", help="path of the `beneficiary` binary: the scenario makes its own voucher and payment")
    p.add_argument("--dir", help="the environment directory (with --beneficiary; implies --manifest DIR/demo.json)")
    args = parser.parse_args(argv)

    if args.command == "selftest":
        return selftest()
    if args.command == "scenario":
        if args.dir and not args.manifest:
            args.manifest = os.path.join(args.dir, "demo.json")
        if args.beneficiary and not args.dir:
            parser.error("--beneficiary needs --dir")
        args.terminal = args.terminal or "T001"
        if not args.manifest:
            parser.error("scenario needs --manifest (card keys and statuses) or --dir")
        if not args.beneficiary and not (args.voucher and args.online_txn):
            parser.error("scenario needs --voucher and --online-txn, or --beneficiary and --dir")
        return Scenario(Environment(args), args).run()

    env = Environment(args)
    stan = getattr(args, "stan", None) or new_stan()
    builders = {
        "echo": lambda: {"type": "echo"},
        "purchase": lambda: purchase(stan, env.card(args.card), args.amount, args.wallet, args.partial),
        "balance": lambda: balance(stan, env.card(args.card)),
        "reverse": lambda: reverse(args.of),
        "cancel": lambda: cancel(stan, args.txn),
        "voucher-check": lambda: voucher_check(args.code),
        "voucher-redeem": lambda: voucher_redeem(stan, args.code),
        "online-list": lambda: online_list(stan, env.card(args.card) if args.card else None, args.pan),
        "status": lambda: status(args.of),
        "totals": lambda: totals(args.date or paris_today()),
    }
    message = builders[args.command]()
    if "stan" in message:
        print(f"stan {message['stan']}", file=sys.stderr)   # keep it to reverse or ask the status
    with env.client() as client:
        response = client.request(message)
    print(json.dumps(response, ensure_ascii=False, indent=2))
    return 0 if response.get("code") in APPROVED else 1


if __name__ == "__main__":
    sys.exit(main())
