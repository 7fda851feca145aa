"""The web space's browser test harness: real servers, real headless Chromium, real axe-core.

API (import from Tests/Browser, run with Debian's /usr/bin/python3 and its selenium):
    env = Environment.start(beneficiary=True)   # fresh `gateway demo` in a temp dir, `gateway serve` and
                                                 # `beneficiary serve` on free ports; env.url("/"), env.demo (demo.json),
                                                 # env.dir, env.gateway_port; env.stop() (also a context manager)
    driver = new_driver()                        # headless Chromium (PC width); driver.quit() when done
    axe_check(driver)                            # axe-core 4 WCAG 2.0/2.1 A+AA on the current page; raises AxeViolations listing each
    screenshot(driver, "connexion")              # docs/web/connexion-phone.png (360 wide) and connexion-pc.png (1280 wide)
    newest_mail(env.dir) / newest_sms(env.dir)   # the latest outbox message: OutboxMail(.subject, .to, .text, .links) / OutboxSMS(.phone, .text)
"""

from __future__ import annotations

import base64
import email
import email.policy
import email.utils
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("HDF_BUILD_DIR", REPO / ".build" / "debug"))
AXE_SCRIPT = Path(os.environ.get("HDF_AXE_SCRIPT", REPO / "var" / "third_party" / "axe.min.js"))
SCREENSHOTS = REPO / "docs" / "web"

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# Limits, each with its unit.
SERVER_START_TIMEOUT_SECONDS = 30       # a server not answering by then is a failure, with its log shown
DEMO_TIMEOUT_SECONDS = 120              # `gateway demo` writes keys and certificates: a few seconds here
AXE_TIMEOUT_SECONDS = 60                # axe on one page (the probes saw < 2 s)
PAGE_LOAD_TIMEOUT_SECONDS = 30
PHONE_SIZE = (360, 800)                 # CSS pixels: the contract's phone
PC_SIZE = (1280, 900)
SCREENSHOT_MAXIMUM_HEIGHT_PIXELS = 6000  # a full-page shot taller than this is cut: a runaway page
STOP_GRACE_SECONDS = 5                  # SIGTERM, then SIGKILL after this
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def free_port() -> int:
    """A loopback port the kernel just handed out (and we released): never a fixed port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = SERVER_START_TIMEOUT_SECONDS) -> None:
    """Waits until something listens on 127.0.0.1:port (reads /proc/net/tcp: no connection is made,
    so a server that counts connections sees none)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited {process.returncode} before listening on {port}:\n{tail(log)}")
        if is_listening(port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port} after {timeout} s:\n{tail(log)}")


def is_listening(port: int) -> bool:
    wanted = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # fields[1] local address "0100007F:1F90", fields[3] state 0A = LISTEN
            if fields[1].endswith(wanted) and fields[3] == "0A":
                return True
    return False


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def executable(name: str) -> str:
    path = BUILD / name
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run `swift build` first")
    return str(path)


@dataclass
class Environment:
    """A fresh demo environment and its servers, each a separate OS process on free ports."""

    dir: Path
    gateway_port: int
    web_port: int | None
    demo: dict
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    owns_dir: bool = True

    @classmethod
    def start(cls, beneficiary: bool = True, smtp: str | None = None, extra_web_args: list[str] | None = None) -> "Environment":
        directory = Path(tempfile.mkdtemp(prefix="hdf-web-"))
        env = cls(dir=directory, gateway_port=free_port(), web_port=None, demo={})
        try:
            demo_dir = directory / "env"
            subprocess.run([executable("gateway"), "demo", "--dir", str(demo_dir)], check=True, capture_output=True,
                           timeout=DEMO_TIMEOUT_SECONDS)
            env.dir = demo_dir
            env.demo = json.loads((demo_dir / "demo.json").read_text())
            env._spawn("gateway", [executable("gateway"), "serve", "--dir", str(demo_dir), "--host", "127.0.0.1",
                                   "--port", str(env.gateway_port), "--metrics-port", "-1"], env.gateway_port)
            if beneficiary:
                env.web_port = free_port()
                args = [executable("beneficiary"), "serve", "--dir", str(demo_dir), "--host", "127.0.0.1",
                        "--port", str(env.web_port)]
                if smtp:
                    args += ["--smtp", smtp]
                env._spawn("beneficiary", args + (extra_web_args or []), env.web_port)
        except BaseException:
            env.stop()
            raise
        env._root = directory
        return env

    def _spawn(self, name: str, args: list[str], port: int) -> None:
        log = self.dir.parent / f"{name}.log"
        handle = open(log, "wb")
        process = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        handle.close()
        self.processes.append(process)
        self.logs.append(log)
        wait_for_port(port, process, log)

    def url(self, path: str = "/") -> str:
        if self.web_port is None:
            raise RuntimeError("this environment has no beneficiary server")
        return f"http://127.0.0.1:{self.web_port}{path}"

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(STOP_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()
        root = getattr(self, "_root", None) or self.dir
        if self.owns_dir and os.environ.get("HDF_KEEP_WEB_ENV") != "1":
            shutil.rmtree(root, ignore_errors=True)

    def __enter__(self) -> "Environment":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def new_driver(width: int = PC_SIZE[0], height: int = PC_SIZE[1]):
    """Headless Chromium driven through Debian's chromedriver, with the options the probes measured."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}", "--lang=fr-FR", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(AXE_TIMEOUT_SECONDS)
    driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_SECONDS)
    set_viewport(driver, width, height)
    return driver


def set_viewport(driver, width: int, height: int) -> None:
    """Sets the page's viewport (CSS pixels) exactly, whatever the window's decorations."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


class AxeViolations(AssertionError):
    """axe-core found violations; the message lists each rule, its impact, and the elements."""

    def __init__(self, url: str, violations: list[dict]):
        self.url = url
        self.violations = violations
        self.rule_ids = [v["id"] for v in violations]
        lines = [f"{len(violations)} axe-core violation(s) (WCAG 2.1 A/AA) on {url}:"]
        for v in violations:
            lines.append(f"- {v['id']} ({v.get('impact')}): {v.get('help')} [{v.get('helpUrl', '')}]")
            for node in v.get("nodes", [])[:10]:
                lines.append(f"    {' '.join(node.get('target', []))}: {node.get('failureSummary', '').strip()}".replace("\n", " "))
        super().__init__("\n".join(lines))


def axe_script() -> str:
    if not AXE_SCRIPT.exists():
        raise RuntimeError(f"{AXE_SCRIPT} is missing: run scripts/install-deps.sh (it takes axe.min.js out of the "
                           "axe-playwright-python wheel)")
    return AXE_SCRIPT.read_text()


def axe_check(driver) -> dict:
    """Runs axe-core 4 with the WCAG 2.0 and 2.1 A and AA rules on the current page; raises AxeViolations
    listing each violation, else returns axe's full result (passes, incomplete)."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_script())
    version = driver.execute_script("return window.axe.version")
    if not str(version).startswith("4."):
        raise RuntimeError(f"axe-core {version} loaded, version 4 expected")
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        "  .then(r => done(JSON.stringify({violations: r.violations, passes: r.passes.length, url: r.url})))"
        "  .catch(e => done(JSON.stringify({error: String(e)})));",
        AXE_TAGS)
    parsed = json.loads(result)
    if "error" in parsed:
        raise RuntimeError(f"axe-core failed on {driver.current_url}: {parsed['error']}")
    if parsed["violations"]:
        raise AxeViolations(driver.current_url, parsed["violations"])
    return parsed


def screenshot(driver, name: str, directory: Path = SCREENSHOTS) -> tuple[Path, Path]:
    """The whole current page at phone width (360) and PC width (1280): NAME-phone.png and NAME-pc.png.
    Restores the PC viewport afterwards."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,60}", name):
        raise ValueError(f"screenshot name {name!r}: lower-case letters, digits and dashes only")
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, (width, height) in (("phone", PHONE_SIZE), ("pc", PC_SIZE)):
        set_viewport(driver, width, height)
        full = driver.execute_script("return Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)")
        set_viewport(driver, width, min(max(height, int(full)), SCREENSHOT_MAXIMUM_HEIGHT_PIXELS))
        path = directory / f"{name}-{suffix}.png"
        png = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})["data"]
        path.write_bytes(base64.b64decode(png))
        paths.append(path)
    set_viewport(driver, *PC_SIZE)
    return paths[0], paths[1]


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR."""
    data = path.read_bytes()[:24]
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    return struct.unpack(">II", data[16:24])


def horizontal_overflow(driver) -> int:
    """How many CSS pixels the page is wider than its viewport (0: no horizontal scrolling)."""
    return int(driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth"))


@dataclass
class OutboxMail:
    path: Path
    subject: str
    to: str
    sender: str
    text: str
    html: str | None
    links: list[str]


@dataclass
class OutboxSMS:
    path: Path
    phone: str
    text: str


def _newest(folder: Path, suffix: str) -> Path | None:
    if not folder.is_dir():
        return None
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(suffix) and not p.name.startswith("."))
    return folder / names[-1] if names else None


def newest_mail(env_dir: Path, after: Path | None = None, timeout: float = 5.0) -> OutboxMail | None:
    """The newest DIR/outbox/mail/*.eml (names sort by time), parsed by Python's email module; with `after`,
    waits up to `timeout` seconds for one newer than it."""
    deadline = time.monotonic() + timeout
    while True:
        path = _newest(Path(env_dir) / "outbox" / "mail", ".eml")
        if path is not None and (after is None or path.name > Path(after).name):
            break
        if after is None or time.monotonic() > deadline:
            return None
        time.sleep(0.05)
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    text = plain.get_content() if plain is not None else ""
    return OutboxMail(path=path, subject=str(message["subject"]), to=email.utils.parseaddr(str(message["to"]))[1],
                      sender=str(message["from"]), text=text,
                      html=html.get_content() if html is not None else None,
                      links=re.findall(r"https?://[^\s<>\"]+", text))


def newest_sms(env_dir: Path) -> OutboxSMS | None:
    path = _newest(Path(env_dir) / "outbox" / "sms", ".txt")
    if path is None:
        return None
    lines = path.read_text(encoding="utf-8").split("\n")
    return OutboxSMS(path=path, phone=lines[0], text=lines[1] if len(lines) > 1 else "")


def fetch(url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """A plain HTTP request outside the browser (status, headers, body), no redirects followed, for the
    security checks (a POST without its token, another's voucher)."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(request, timeout=PAGE_LOAD_TIMEOUT_SECONDS) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
