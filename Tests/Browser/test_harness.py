"""The harness proves itself on pages it serves with Python's http.server: an axe-clean page passes, an
axe-failing page is reported with each violation, screenshots have the right widths, outbox readers pick
the newest file, and a fresh demo's gateway comes up on a free port."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

import harness

GOOD = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Page propre</title></head>
<body><header><p>Génération #HDF</p></header>
<main><h1>Me connecter</h1>
<form><label for="id">Numéro de carte ou numéro de dossier</label> <input id="id" name="id" autocomplete="username">
<button type="submit">Me connecter</button></form>
<p>Solde : 12,50 €</p></main>
<footer><a href="#mentions">Mentions légales</a></footer></body></html>
"""

# Four violations axe must find: no lang, an image without alt, a field without label, grey on grey.
BAD = """<!doctype html>
<html><head><meta charset="utf-8"><title>Page fautive</title></head>
<body><main><h1>Fautes</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<input type="text" name="montant">
<p style="color:#bbbbbb;background:#ffffff">Texte illisible</p>
</main></body></html>
"""

WIDE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Trop large</title></head><body><main><div style="width:900px">trop large pour un téléphone</div></main></body></html>
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    (root / "good.html").write_text(GOOD, encoding="utf-8")
    (root / "bad.html").write_text(BAD, encoding="utf-8")
    (root / "wide.html").write_text(WIDE, encoding="utf-8")
    port = harness.free_port()
    log = root.parent / "http.log"
    with open(log, "wb") as handle:
        server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                   "--directory", str(root)], stdout=handle, stderr=subprocess.STDOUT)
    try:
        harness.wait_for_port(port, server, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait()


@pytest.fixture(scope="module")
def driver():
    browser = harness.new_driver()
    yield browser
    browser.quit()


def test_axe_passes_a_clean_page(site, driver):
    driver.get(site + "/good.html")
    result = harness.axe_check(driver)
    assert result["violations"] == []
    assert result["passes"] > 5, "axe ran its rules"


def test_axe_reports_each_violation_of_a_failing_page(site, driver):
    driver.get(site + "/bad.html")
    with pytest.raises(harness.AxeViolations) as caught:
        harness.axe_check(driver)
    ids = set(caught.value.rule_ids)
    assert {"html-has-lang", "image-alt", "label", "color-contrast"} <= ids, ids
    message = str(caught.value)
    for rule in ("html-has-lang", "image-alt", "label", "color-contrast"):
        assert f"- {rule} (" in message
    assert "bad.html" in message
    assert "input" in message, "the offending element is named"


def test_screenshots_at_phone_and_pc_width(site, driver, tmp_path):
    driver.get(site + "/good.html")
    phone, pc = harness.screenshot(driver, "page-propre", directory=tmp_path)
    assert phone == tmp_path / "page-propre-phone.png" and pc == tmp_path / "page-propre-pc.png"
    assert harness.png_size(phone) == (360, 800)
    assert harness.png_size(pc) == (1280, 900)
    with pytest.raises(ValueError):
        harness.screenshot(driver, "../escape", directory=tmp_path)


def test_horizontal_overflow_at_phone_width(site, driver):
    harness.set_viewport(driver, *harness.PHONE_SIZE)
    try:
        driver.get(site + "/good.html")
        assert harness.horizontal_overflow(driver) == 0
        driver.get(site + "/wide.html")
        assert harness.horizontal_overflow(driver) > 500
    finally:
        harness.set_viewport(driver, *harness.PC_SIZE)


def test_outbox_readers_pick_the_newest(tmp_path):
    mail = tmp_path / "outbox" / "mail"
    sms = tmp_path / "outbox" / "sms"
    mail.mkdir(parents=True)
    sms.mkdir(parents=True)
    assert harness.newest_mail(tmp_path) is None and harness.newest_sms(tmp_path) is None
    template = ("Date: Tue, 01 Dec 2026 23:05:01 +0000\r\nFrom: =?UTF-8?B?R8OpbsOpcmF0aW9uICNIREY=?= <no-reply@hdf.fr>\r\n"
                "To: <lea@example.fr>\r\nSubject: =?UTF-8?B?{subject}?=\r\nMessage-ID: <1@x>\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                "Bonjour L=C3=A9a, clique ici : http://127.0.0.1:8080/mot-de-passe?jeton=3Dab{n}\r\n")
    import base64
    for n, name in enumerate(["20261201T230501000Z-000001-1-a.eml", "20261201T230502000Z-000001-1-a.eml"]):
        subject = base64.b64encode(f"Réinitialise ton mot de passe {n}".encode()).decode()
        (mail / name).write_text(template.format(subject=subject, n=n))
    (mail / ".tmp-20261201T230503000Z-000001-1-a.eml").write_text("half written")
    newest = harness.newest_mail(tmp_path)
    assert newest.subject == "Réinitialise ton mot de passe 1"
    assert newest.to == "lea@example.fr" and "Génération #HDF" in newest.sender
    assert newest.links == ["http://127.0.0.1:8080/mot-de-passe?jeton=ab1"]
    assert harness.newest_mail(tmp_path, after=newest.path, timeout=0.2) is None
    (sms / "20261201T230501000Z-000001-1-a.txt").write_text("0612345678\nTon code : 123456\n", encoding="utf-8")
    assert harness.newest_sms(tmp_path) == harness.OutboxSMS(path=sms / "20261201T230501000Z-000001-1-a.txt",
                                                            phone="0612345678", text="Ton code : 123456")


def test_a_fresh_demo_and_its_gateway_on_free_ports():
    started = time.monotonic()
    with harness.Environment.start(beneficiary=False) as env:
        assert (env.dir / "demo.json").exists() and len(env.demo["cards"]) >= 20
        assert harness.is_listening(env.gateway_port)
        assert env.gateway_port != 8583
        root = env.dir.parent
    assert not root.exists(), "the temporary environment is removed"
    assert time.monotonic() - started < 60
