"""The beneficiary web space in a real browser, following the guide's steps as a beneficiary would
(contract section 8), on a fresh demo with the gateway running: each flow, each refusal, the security
rules seen from outside, axe-core on every page, and a screenshot of each page (phone and PC widths).

Run by scripts/test-web.sh (Debian's python3, selenium and pytest); the harness is harness.py."""

from __future__ import annotations

import email
import email.policy
import json
import re
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from harness import (REPO, Environment, PHONE_SIZE, PC_SIZE, axe_check, fetch, horizontal_overflow, new_driver,
                     newest_mail, screenshot, set_viewport)

TERMINAL_PY = REPO / "protocol" / "examples" / "terminal.py"
TERMINAL_TIMEOUT_SECONDS = 30
PAGE_WAIT_SECONDS = 10   # a navigation after a form's POST and its redirect


@pytest.fixture(scope="module")
def env():
    with Environment.start(beneficiary=True) as environment:
        yield environment


@pytest.fixture(scope="module")
def driver():
    browser = new_driver()
    yield browser
    browser.quit()


def funded_cards(env):
    return [c for c in env.demo["cards"] if c["status"] == "active" and any(w["balance"] > 0 for w in c["wallets"])]


def xpath_literal(text):
    """`text` as an XPath string literal (json.dumps would write é as \\u00e9, which XPath reads as is)."""
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return "concat(" + ", '\"', ".join(f'"{part}"' for part in text.split('"')) + ")"


def field(driver, label):
    """The form control whose <label> reads `label` (as a person following the guide finds it)."""
    element = driver.find_element(By.XPATH, f"//label[normalize-space()={xpath_literal(label)}]")
    return driver.find_element(By.ID, element.get_attribute("for"))


CLICK_ATTEMPTS = 3


def click(driver, text, tag="*"):
    """Clicks the button or link whose visible text starts with `text`, then waits for the page it leads to
    (every link and button of the web space navigates: a form's POST and its redirect, or a link).

    Chromium sometimes answers "Node with given id does not belong to the document" around a navigation.
    Either the click was dispatched and the page is being replaced (then the new page is waited for), or the
    element was found just before the document settled and nothing happened (then it is found again)."""
    xpath = f"//{tag}[(self::button or self::a) and starts-with(normalize-space(), {xpath_literal(text)})]"
    for attempt in range(CLICK_ATTEMPTS):
        found = driver.find_elements(By.XPATH, xpath)
        if not found:
            main = driver.find_elements(By.TAG_NAME, "main")
            raise AssertionError(f"no {tag} '{text}' on {driver.current_url}: "
                                 f"{(main[0].text if main else driver.page_source)[:1500]}")
        page = driver.find_element(By.TAG_NAME, "html")
        try:
            follow(driver, found[0], page)
            return
        except (StaleElementReferenceException, WebDriverException) as error:
            detached = isinstance(error, StaleElementReferenceException) or "does not belong to the document" in str(error)
            if not detached or attempt == CLICK_ATTEMPTS - 1:
                raise
            if navigated(driver, page):
                return
            time.sleep(0.2)


def navigated(driver, page):
    """Whether `page` (the <html> element of the page a click was made on) was replaced; waits for the new one."""
    try:
        WebDriverWait(driver, 1).until(staleness_of(page))
    except TimeoutException:
        return False
    WebDriverWait(driver, PAGE_WAIT_SECONDS).until(lambda d: d.execute_script("return document.readyState") == "complete")
    return True


def follow(driver, element, page=None):
    """Clicks `element` (a link or a submit button) and waits until the next page has replaced this one."""
    page = page or driver.find_element(By.TAG_NAME, "html")
    element.click()
    try:
        WebDriverWait(driver, PAGE_WAIT_SECONDS).until(staleness_of(page))
    except TimeoutException:
        pass  # a download (a receipt's PDF) leaves the page where it is
    WebDriverWait(driver, PAGE_WAIT_SECONDS).until(lambda d: d.execute_script("return document.readyState") == "complete")


def check_page(driver, name=None):
    """axe-core WCAG 2.1 A/AA with no violation, no horizontal scrolling at 360 px, the footer, and a screenshot."""
    axe_check(driver)
    set_viewport(driver, *PHONE_SIZE)
    assert horizontal_overflow(driver) == 0, f"{driver.current_url} scrolls sideways at 360 px"
    set_viewport(driver, *PC_SIZE)
    for link in ("Génération #HDF", "Ma Région", "Contact", "Foire aux questions", "Mentions légales",
                 "Politique de confidentialité", "Politique de gestion des cookies"):
        assert driver.find_elements(By.XPATH, f"//footer//a[normalize-space()={xpath_literal(link)}]"), link
    if name:
        screenshot(driver, name)


def login(driver, env, card, password=None):
    driver.delete_all_cookies()
    driver.get(env.url("/connexion"))
    field(driver, "Numéro de carte ou numéro de dossier").send_keys(card["beneficiary"]["dossier"])
    field(driver, "Mot de passe").send_keys(password or card["beneficiary"]["password"])
    click(driver, "Me connecter", "button")


def session_headers(driver):
    return {"Cookie": f"hdf_session={driver.get_cookie('hdf_session')['value']}"}


def terminal(env, *args):
    result = subprocess.run(["python3", str(TERMINAL_PY), *args, "--manifest", str(env.dir / "demo.json"),
                             "--port", str(env.gateway_port), "--state", str(env.dir / "atc.json")],
                            capture_output=True, text=True, timeout=TERMINAL_TIMEOUT_SECONDS)
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else {}


def test_connection_menu_and_every_page(env, driver):
    card = funded_cards(env)[0]
    driver.get(env.url("/connexion"))
    for link in ("Mot de passe oublié ?", "Identifiant oublié ?", "Créer mon compte", "Renvoyer le lien d'activation"):
        assert driver.find_elements(By.LINK_TEXT, link), link
    check_page(driver, "connexion")
    login(driver, env, card)
    assert driver.current_url.endswith("/accueil")
    current = driver.find_element(By.CSS_SELECTOR, "nav.menu a[aria-current='page']")
    assert current.text == "Accueil"
    check_page(driver, "accueil")
    for label, name in (("Mon compte", "mon-compte"), ("Ma carte", "ma-carte"), ("Mes documents", "mes-documents"),
                        ("Où utiliser ma carte", "ou-utiliser-ma-carte"), ("Gestion mot de passe", "gestion-mot-de-passe")):
        follow(driver, driver.find_element(By.XPATH, f"//nav[contains(@class,'menu')]//a[normalize-space()={xpath_literal(label)}]"))
        assert driver.find_element(By.CSS_SELECTOR, "nav.menu a[aria-current='page']").text == label
        assert card["pan"] not in driver.page_source, f"{label} shows the whole PAN"
        check_page(driver, name)
    driver.get(env.url("/ma-carte"))
    assert "•••• " + card["pan"][-4:] in driver.page_source
    for tab, name in (("Mes transactions", "mes-transactions"), ("Un problème de carte ?", "probleme-de-carte"),
                      ("Mes prépaiements imprimables", "mes-prepaiements")):
        follow(driver, driver.find_element(By.XPATH, f"//nav[contains(@class,'onglets')]//a[normalize-space()={xpath_literal(tab)}]"))
        check_page(driver, name)
    driver.get(env.url("/mon-compte"))
    assert "0800 026 080" in driver.page_source
    box = driver.find_element(By.ID, "par_sms")
    before = box.is_selected()
    box.click()
    click(driver, "Enregistrer", "button")
    assert driver.find_element(By.ID, "par_sms").is_selected() != before
    click(driver, "Se déconnecter", "button")
    WebDriverWait(driver, PAGE_WAIT_SECONDS).until(lambda d: d.current_url.endswith("/connexion"))


def test_prepayment_receipt_then_terminal_redeems(env, driver):
    card = funded_cards(env)[1]
    login(driver, env, card)
    driver.get(env.url("/ma-carte"))
    click(driver, "Faire un prépaiement", "a")
    click(driver, "Valider", "button")
    names = driver.find_elements(By.CSS_SELECTOR, "ul.cartes .nom")
    assert "Librairie du Beffroi" in [n.text for n in names]
    assert "Transports Hauts-de-France" not in [n.text for n in names]
    check_page(driver, "prepaiement-partenaires")
    follow(driver, driver.find_element(By.CSS_SELECTOR, "a[href='/ma-carte/prepaiement/P001']"))
    Select(field(driver, "Porte-monnaie")).select_by_value("MANUELS")
    field(driver, "Montant").send_keys("12,50")
    check_page(driver, "prepaiement-formulaire")
    click(driver, "Valider", "button")
    code = driver.find_element(By.CSS_SELECTOR, ".confirmation .code").text
    assert "12,50 €" in driver.page_source
    check_page(driver, "prepaiement-confirmation")
    click(driver, "OK", "a")
    assert code in driver.page_source and "à utiliser" in driver.page_source
    # Imprimer: the receipt of section 5, its barcode read back.
    status, headers, pdf = fetch(env.url(f"/ma-carte/prepaiements/{code.replace('-', '')}/recu.pdf"), headers=session_headers(driver))
    assert status == 200 and pdf.startswith(b"%PDF")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "recu.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "150", "-png", str(path), str(Path(folder) / "page")], check=True)
        image = sorted(Path(folder).glob("page*.png"))[0]
        read = subprocess.run(["zbarimg", "-q", "--raw", str(image)], capture_output=True, text=True, check=True)
    assert read.stdout.strip().replace("-", "") == code.replace("-", "")
    # The partner's terminal checks and redeems it over mutual TLS.
    rc, answer = terminal(env, "voucher-check", code, "--terminal", "T001")
    assert rc == 0 and answer["code"] == "00", answer
    rc, answer = terminal(env, "voucher-redeem", code, "--terminal", "T001")
    assert rc == 0 and answer["code"] == "00", answer
    driver.get(env.url("/ma-carte/prepaiements"))
    assert "utilisé" in driver.page_source
    # Cancelling a redeemed voucher is no longer offered; a forced POST is refused with a sentence.
    token = driver.find_element(By.NAME, "jeton").get_attribute("value")
    status, _, body = fetch(env.url(f"/ma-carte/prepaiements/{code.replace('-', '')}/annuler"),
                            data=urllib.parse.urlencode({"jeton": token}).encode(), headers=session_headers(driver))
    assert status == 422 and "déjà été utilisé" in body.decode()


def test_payment_refusals(env, driver):
    card = funded_cards(env)[2]
    login(driver, env, card)
    driver.get(env.url("/ma-carte/prepaiement/P001"))
    for amount, sentence in (("douze", "Saisis un montant en euros"), ("9999,00", "est insuffisant")):
        field(driver, "Montant").clear()
        field(driver, "Montant").send_keys(amount)
        click(driver, "Valider", "button")
        error = driver.find_element(By.ID, "montant-erreur")
        assert sentence in error.text
        assert field(driver, "Montant").get_attribute("aria-describedby") == "montant-erreur"
        check_page(driver, "prepaiement-refus" if amount == "douze" else None)


def test_online_payment_shows_in_transactions(env, driver):
    card = funded_cards(env)[3]
    login(driver, env, card)
    driver.get(env.url("/ma-carte/paiement-en-ligne"))
    click(driver, "Valider", "button")
    assert not driver.find_elements(By.CSS_SELECTOR, "a[href='/ma-carte/paiement-en-ligne/P002']")
    follow(driver, driver.find_element(By.CSS_SELECTOR, "a[href='/ma-carte/paiement-en-ligne/P001']"))
    field(driver, "Montant").send_keys("8,00")
    click(driver, "Valider", "button")
    assert "Seul le partenaire peut annuler un paiement en ligne" in driver.page_source
    check_page(driver, "paiement-en-ligne-confirmation")
    click(driver, "OK", "a")
    assert "Extranet Bénéficiaire" in driver.page_source and "-8,00 €" in driver.page_source


def test_declaration_then_gateway_refuses(env, driver):
    card = funded_cards(env)[4]
    login(driver, env, card)
    driver.get(env.url("/ma-carte/probleme"))
    Select(field(driver, "Motif")).select_by_value("stolen")
    click(driver, "Déclarer", "button")
    assert "bloquée" in driver.page_source
    check_page(driver, "probleme-declare")
    wallet = next(w["code"] for w in card["wallets"] if w["balance"] > 0)
    terminal_id = "T001" if wallet == "MANUELS" else {"TRANSPORT": "T004", "HEBERGEMENT": "T005", "RESTAURATION": "T006"}[wallet]
    rc, answer = terminal(env, "purchase", "--card", card["pan"], "--amount", "100", "--terminal", terminal_id)
    assert rc != 0 and answer["code"] == "43", answer


def test_security_from_outside(env, driver):
    owner, stranger = funded_cards(env)[5], funded_cards(env)[6]
    login(driver, env, owner)
    driver.get(env.url("/ma-carte/prepaiement/P001"))
    field(driver, "Montant").send_keys("2,00")
    click(driver, "Valider", "button")
    code = driver.find_element(By.CSS_SELECTOR, ".confirmation .code").text.replace("-", "")
    owner_headers = session_headers(driver)
    before = fetch(env.url("/ma-carte"), headers=owner_headers)[2]
    # A POST without its token: 403, nothing changes.
    status, _, _ = fetch(env.url("/ma-carte/prepaiement/P001"),
                         data=urllib.parse.urlencode({"porte_monnaie": "MANUELS", "montant": "1,00"}).encode(), headers=owner_headers)
    assert status == 403
    assert fetch(env.url("/ma-carte"), headers=owner_headers)[2] == before
    # Another beneficiary: the voucher, its receipt and its cancellation are 404.
    login(driver, env, stranger)
    stranger_headers = session_headers(driver)
    for path in (f"/ma-carte/prepaiements/{code}/recu.pdf", f"/ma-carte/prepaiements/{code}/confirmation"):
        assert fetch(env.url(path), headers=stranger_headers)[0] == 404, path
    driver.get(env.url("/ma-carte/prepaiements"))
    token = driver.find_element(By.NAME, "jeton").get_attribute("value")
    assert fetch(env.url(f"/ma-carte/prepaiements/{code}/annuler"), data=urllib.parse.urlencode({"jeton": token}).encode(),
                 headers=stranger_headers)[0] == 404
    assert fetch(env.url("/ma-carte"), headers=owner_headers)[2] == before
    status, headers, _ = fetch(env.url("/connexion"))
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"] and headers["Referrer-Policy"]
    assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Lax" in headers["Set-Cookie"]


def test_where_to_use_the_card_and_documents(env, driver):
    login(driver, env, funded_cards(env)[7])
    driver.get(env.url("/ou-utiliser-ma-carte"))
    field(driver, "Ville").send_keys("Amiens")
    click(driver, "Lancer la recherche", "button")
    names = [n.text for n in driver.find_elements(By.CSS_SELECTOR, "ul.cartes .nom")]
    assert "Librairie du Beffroi" in names and "Équipement Pro Lille" not in names
    check_page(driver, "ou-utiliser-ma-carte-recherche")
    follow(driver, driver.find_element(By.LINK_TEXT, "Librairie du Beffroi"))
    for text in ("12 rue des Trois Cailloux", "03 22 00 00 01", "contact@librairie-beffroi.example", "https://librairie-beffroi.example"):
        assert text in driver.page_source, text
    check_page(driver, "partenaire")
    driver.get(env.url("/mes-documents"))
    for link in driver.find_elements(By.CSS_SELECTOR, "a[download]"):
        status, headers, body = fetch(link.get_attribute("href"), headers=session_headers(driver))
        assert status == 200 and body.startswith(b"%PDF"), link.get_attribute("href")


def test_password_change_and_lock_out(env, driver):
    card = funded_cards(env)[8]
    login(driver, env, card)
    driver.get(env.url("/gestion-mot-de-passe"))
    field(driver, "Mot de passe actuel").send_keys("pas-le-bon")
    field(driver, "Nouveau mot de passe").send_keys("Nouveau-2027")
    field(driver, "Confirmer le nouveau mot de passe").send_keys("Nouveau-2027")
    click(driver, "Suivant", "button")
    assert driver.find_element(By.ID, "actuel-erreur").text
    check_page(driver, "gestion-mot-de-passe-refus")
    field(driver, "Mot de passe actuel").send_keys(card["beneficiary"]["password"])
    field(driver, "Nouveau mot de passe").send_keys("Nouveau-2027")
    field(driver, "Confirmer le nouveau mot de passe").send_keys("Nouveau-2027")
    click(driver, "Suivant", "button")
    click(driver, "OK", "a")
    assert "/connexion" in driver.current_url
    login(driver, env, card, "Nouveau-2027")
    assert driver.current_url.endswith("/accueil")
    # Five wrong passwords: locked for 15 minutes, and the page says so.
    other = funded_cards(env)[9]
    for attempt in range(5):
        login(driver, env, other, f"faux-{attempt}")
    assert "bloqué 15 minutes" in driver.find_element(By.ID, "mot_de_passe-erreur").text
    check_page(driver, "connexion-bloquee")
    login(driver, env, other)
    assert "/connexion" in driver.current_url


def test_forgotten_password_and_identifier_by_mail(env, driver):
    card = funded_cards(env)[10]
    birth = "/".join(reversed(card["beneficiary"]["birth_date"].split("-")))
    driver.delete_all_cookies()
    driver.get(env.url("/connexion"))
    click(driver, "Mot de passe oublié ?", "a")
    check_page(driver, "mot-de-passe-oublie")
    field(driver, "Numéro de carte ou numéro de dossier").send_keys(card["pan"])
    field(driver, "Date de naissance").send_keys(birth)
    click(driver, "Envoyer", "button")
    mail = newest_mail(env.dir)
    assert mail is not None and mail.to == card["beneficiary"]["email"]
    link = next(l for l in mail.links if "/mot-de-passe-oublie/nouveau" in l)
    driver.get(link)
    field(driver, "Nouveau mot de passe").send_keys("Retrouve-42")
    field(driver, "Confirmer le nouveau mot de passe").send_keys("Retrouve-42")
    check_page(driver, "nouveau-mot-de-passe")
    click(driver, "Suivant", "button")
    login(driver, env, card, "Retrouve-42")
    assert driver.current_url.endswith("/accueil")
    driver.delete_all_cookies()
    driver.get(env.url("/identifiant-oublie"))
    field(driver, "Adresse e-mail").send_keys(card["beneficiary"]["email"])
    field(driver, "Date de naissance").send_keys(birth)
    check_page(driver, "identifiant-oublie")
    previous = newest_mail(env.dir)
    click(driver, "Envoyer", "button")
    mail = newest_mail(env.dir, after=previous.path)
    assert mail is not None and card["beneficiary"]["dossier"] in mail.text


def test_mail_through_a_real_smtp_relay(driver):
    """`beneficiary serve --smtp HOST:PORT`: the "Identifiant oublié ?" mail goes to a real SMTP server on
    loopback (Debian's aiosmtpd), not to the outbox; its text holds the identifier."""
    from aiosmtpd.controller import Controller
    from harness import free_port

    received = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    port = free_port()
    relay = Controller(Keep(), hostname="127.0.0.1", port=port)
    relay.start()
    try:
        with Environment.start(beneficiary=True, smtp=f"127.0.0.1:{port}") as environment:
            card = funded_cards(environment)[3]
            birth = "/".join(reversed(card["beneficiary"]["birth_date"].split("-")))
            driver.delete_all_cookies()
            driver.get(environment.url("/identifiant-oublie"))
            field(driver, "Adresse e-mail").send_keys(card["beneficiary"]["email"])
            field(driver, "Date de naissance").send_keys(birth)
            click(driver, "Envoyer", "button")
            WebDriverWait(driver, PAGE_WAIT_SECONDS).until(lambda _: received)
            assert received[0].rcpt_tos == [card["beneficiary"]["email"]]
            message = email.message_from_bytes(received[0].content, policy=email.policy.default)
            assert card["beneficiary"]["dossier"] in message.get_body(("plain",)).get_content()
            assert not (environment.dir / "outbox" / "mail").exists() or not any((environment.dir / "outbox" / "mail").iterdir())
    finally:
        relay.stop()
