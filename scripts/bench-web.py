#!/usr/bin/env python3
"""The web space's share of `make bench` (issue 9): CLIENTS logged-in beneficiaries load "Ma carte" over
and over, each on its own keep-alive HTTP/1.1 connection, one request at a time, while the gateway serves
its purchase load (scripts/bench.sh runs both at once).

    bench-web.py --url http://127.0.0.1:PORT --manifest ENV/demo.json [--clients 64] [--warmup 2] [--duration 10]

Each client logs in as one of the demo's beneficiaries (round robin over those with a card and a
password): GET /connexion for the session cookie and the form token, POST /connexion, then GET /ma-carte
until the end. A good page is status 200 with the beneficiary's wallets table in it; anything else, or a
closed connection, is an error. Prints one line:

    result web clients=64 pause_ms=P pages=N rate=R p50_ms=A p99_ms=B errors=E

Standard library only (asyncio streams): no HTTP library to install, and Python's side stays light.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
import urllib.parse

# Limits, each with its unit.
REQUEST_TIMEOUT_SECONDS = 10.0      # one page; a slower one is an error, not a wait
MAXIMUM_BODY_BYTES = 1_048_576      # a page larger than this is an error (ours are ~10 KB)
MAXIMUM_HEADER_LINES = 100
# The page loaded, and a text that must be in it.
PAGE_PATH = "/ma-carte"
PAGE_MARK = "Mes porte-monnaie".encode()


class PageError(Exception):
    pass


class Client:
    """One beneficiary's browser: one keep-alive connection, its session cookie."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cookie: str | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, dict, bytes]:
        headers = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: keep-alive"]
        if self.cookie:
            headers.append(f"Cookie: hdf_session={self.cookie}")
        if method == "POST":
            headers += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(headers) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        return await asyncio.wait_for(self._response(), REQUEST_TIMEOUT_SECONDS)

    async def _response(self) -> tuple[int, dict, bytes]:
        status_line = await self.reader.readline()
        if not status_line:
            raise PageError("connection closed by the web space")
        status = int(status_line.split()[1])
        headers: dict[str, list[str]] = {}
        for _ in range(MAXIMUM_HEADER_LINES):
            line = (await self.reader.readline()).decode("latin-1").rstrip("\r\n")
            if not line:
                break
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        else:
            raise PageError("too many header lines")
        for cookie in headers.get("set-cookie", []):
            match = re.match(r"hdf_session=([^;]*)", cookie)
            if match:
                self.cookie = match.group(1)
        if "chunked" in ",".join(headers.get("transfer-encoding", [])).lower():
            body = bytearray()
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                if len(body) + size > MAXIMUM_BODY_BYTES:
                    raise PageError("page too large")
                body += await self.reader.readexactly(size)
                await self.reader.readline()
            return status, headers, bytes(body)
        length = int(headers.get("content-length", ["0"])[0])
        if length > MAXIMUM_BODY_BYTES:
            raise PageError("page too large")
        return status, headers, await self.reader.readexactly(length)

    async def login(self, identifier: str, password: str) -> None:
        status, _, body = await self.request("GET", "/connexion")
        match = re.search(rb'name="jeton" value="([0-9a-f]+)"', body)
        if status != 200 or not match:
            raise PageError(f"connection page: status {status}, no form token")
        form = urllib.parse.urlencode({"identifiant": identifier, "mot_de_passe": password, "jeton": match.group(1).decode()})
        status, headers, _ = await self.request("POST", "/connexion", form.encode())
        if status != 303 or not headers.get("location", [""])[0].endswith("/accueil"):
            raise PageError(f"login of {identifier} refused: status {status}")


async def run_client(client: Client, account: tuple[str, str], start_at: float, measure_from: float, end_at: float,
                     pause: float, latencies: list[float], errors: list[str]) -> None:
    try:
        await client.connect()
        await client.login(*account)
    except Exception as error:  # noqa: BLE001 - every failure is counted and named
        errors.append(f"login: {error}")
        return
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    while time.monotonic() < end_at:
        sent = time.monotonic()
        try:
            status, _, body = await client.request("GET", PAGE_PATH)
            if status != 200 or PAGE_MARK not in body:
                raise PageError(f"/ma-carte: status {status}")
        except Exception as error:  # noqa: BLE001
            if sent >= measure_from:
                errors.append(str(error) or type(error).__name__)
            try:
                client.writer.close()
                await client.connect()
                await client.login(*account)
            except Exception:  # noqa: BLE001
                return
            continue
        if sent >= measure_from and time.monotonic() <= end_at:
            latencies.append(time.monotonic() - sent)
        if pause > 0:
            await asyncio.sleep(pause)
    client.writer.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--pause-ms", type=float, default=0,
                        help="each client waits this long after a page before the next (0: as fast as the server answers)")
    options = parser.parse_args()
    url = urllib.parse.urlsplit(options.url)
    manifest = json.load(open(options.manifest, encoding="utf-8"))
    accounts = [(card["beneficiary"]["dossier"], card["beneficiary"]["password"]) for card in manifest["cards"]
                if card["status"] == "active" and card["beneficiary"].get("password")]
    if not accounts:
        print("bench-web: no demo beneficiary with a password in the manifest", file=sys.stderr)
        return 2
    latencies: list[float] = []
    errors: list[str] = []
    clients = [Client(url.hostname, url.port) for _ in range(options.clients)]
    # Everyone logs in first (logins are not measured), then the load starts at once for all.
    start_at = time.monotonic() + 3.0
    measure_from = start_at + options.warmup
    end_at = measure_from + options.duration
    await asyncio.gather(*(run_client(client, accounts[index % len(accounts)], start_at, measure_from, end_at,
                                      options.pause_ms / 1000, latencies, errors)
                           for index, client in enumerate(clients)))
    latencies.sort()

    def percentile(fraction: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, max(0, int(len(latencies) * fraction + 0.999999) - 1))] * 1000

    if errors:
        print(f"bench-web: {len(errors)} errors, the first: {errors[0]}", file=sys.stderr)
    print(f"result web clients={options.clients} pause_ms={options.pause_ms:g} pages={len(latencies)} rate={round(len(latencies) / options.duration)} "
          f"p50_ms={percentile(0.5):.2f} p99_ms={percentile(0.99):.2f} errors={len(errors)}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
