"""From a new account to a card that pays (contract section 9), in a real browser, as a young person following
the guide would: "Créer mon compte" (the anti-robot proof of work solved by the page's own script, at the
server's default difficulty), the activation link and the SMS code read from the outbox, "Demande de carte" for
each of the four situations, the operator's review verbs run as processes, "Accueil" at each status, then the
approved card paying a purchase through the gateway over mutual TLS with its key. Then the refusals, and
"Demande de THR". axe-core on every page of these flows, and a screenshot of each.

Run by scripts/test-web.sh with the other browser tests; the harness is harness.py."""

from __future__ import annotations

import json
import re
import sqlite3
import struct
import subprocess
import tempfile
import time
import uuid
import zlib
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from harness import Environment, axe_check, executable, new_driver, newest_mail, newest_sms
from test_web_flows import check_page, click, field, follow, terminal, xpath_literal

PASSWORD = "Mon-mot-de-passe-2027"
PROOF_OF_WORK_TIMEOUT_SECONDS = 60   # the default difficulty takes well under a second here; a slow CI core more
GATEWAY_TIMEOUT_SECONDS = 60


@pytest.fixture(scope="module")
def env():
    with Environment.start(beneficiary=True) as environment:
        yield environment


@pytest.fixture(scope="module")
def driver():
    browser = new_driver()
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def files():
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "photo.png").write_bytes(png(420, 540))
        (folder / "contrat.pdf").write_bytes(pdf("Contrat d'apprentissage"))
        (folder / "justificatif.pdf").write_bytes(pdf("Justificatif de domicile"))
        (folder / "pas-une-image.jpg").write_bytes(b"Ceci n'est pas une image, malgre son nom.\n")
        yield folder


def png(width, height):
    """A real PNG (a light gradient): signature, IHDR, one IDAT, IEND, with their CRCs."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 180))
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def pdf(text):
    body = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
               b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream"]
    out, offsets = b"%PDF-1.4\n", []
    for index, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % index + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def gateway(env, *args):
    """An operator's verb, as a process of its own on the environment's ledger."""
    result = subprocess.run([executable("gateway"), *args, "--dir", str(env.dir), "--json"], capture_output=True, text=True,
                            timeout=GATEWAY_TIMEOUT_SECONDS)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def accueil_text(driver, env):
    driver.get(env.url("/accueil"))
    return driver.find_element(By.TAG_NAME, "main").text


def create_account(driver, env, email, shoot=False, phone="06 12 98 76 54"):
    """Créer mon compte, steps 1 to 3; returns the dossier number shown and the seconds from the click on
    "Créer le compte" to the confirmation."""
    driver.delete_all_cookies()
    driver.get(env.url("/connexion"))
    follow(driver, driver.find_element(By.LINK_TEXT, "Créer mon compte"))
    if shoot:
        check_page(driver, "creer-mon-compte")
    click(driver, "Suivant", "a")
    for label, value in (("Nom", "Lemaire"), ("Prénom", "Jade"), ("Date de naissance (jj/mm/aaaa)", "03/10/2009"),
                         ("Adresse e-mail", email), ("Numéro de portable", phone), ("Mot de passe", PASSWORD),
                         ("Confirmer le mot de passe", PASSWORD)):
        field(driver, label).send_keys(value)
    box = driver.find_element(By.ID, "reglement")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    # The page's script solves the proof of work by itself and says so in a live region.
    WebDriverWait(driver, PROOF_OF_WORK_TIMEOUT_SECONDS).until(
        lambda d: "terminée" in d.find_element(By.ID, "anti-robot-statut").text)
    if shoot:
        form = driver.find_element(By.CSS_SELECTOR, "form[data-anti-robot]")
        milliseconds = int(form.get_dom_attribute("data-anti-robot-ms"))
        hashes = int(form.get_dom_attribute("data-anti-robot-hashes"))
        bits = driver.find_element(By.NAME, "defi").get_attribute("value").split(".")[2]
        print(f"\nanti-robot: bits={bits} work_ms={milliseconds} hashes={hashes} hashes_per_s={hashes * 1000 // max(milliseconds, 1)}")
    if shoot:
        check_page(driver, "creer-mon-compte-informations")
    started = time.monotonic()
    click(driver, "Créer le compte", "button")
    dossier = driver.find_element(By.CSS_SELECTOR, ".confirmation .code").text
    assert re.fullmatch(r"HDF-\d{4}-\d{6}", dossier), dossier
    if shoot:
        check_page(driver, "compte-cree")
    return dossier, started


def activate_and_confirm_phone(driver, env, dossier, email, shoot=False):
    """Step 4 (the mail's link) and step 5 (the SMS code), then "Faire ma demande de carte"."""
    mail = newest_mail(env.dir)
    assert mail is not None and mail.to.lower() == email.lower() and dossier in mail.text, mail
    link = next(link for link in mail.links if "/activer-mon-compte" in link)
    driver.get(link)
    if shoot:
        check_page(driver, "activation")
    click(driver, "Confirmer mon adresse e-mail", "button")
    assert "ton compte est activé" in driver.page_source
    if shoot:
        check_page(driver, "compte-active")
    click(driver, "Me connecter", "a")
    field(driver, "Numéro de carte ou numéro de dossier").send_keys(dossier)
    field(driver, "Mot de passe").send_keys(PASSWORD)
    click(driver, "Me connecter", "button")
    assert driver.current_url.endswith("/accueil")
    if shoot:
        check_page(driver, "accueil-portable-a-confirmer")
    click(driver, "Recevoir le code par SMS", "a")
    click(driver, "Recevoir le code par SMS", "button")
    sms = newest_sms(env.dir)
    code = re.search(r"\b(\d{6})\b", sms.text).group(1)
    field(driver, "Code reçu par SMS (6 chiffres)").send_keys(code)
    if shoot:
        check_page(driver, "portable-code")
    click(driver, "Confirmer", "button")
    assert "Ton numéro de portable est confirmé" in driver.page_source
    if shoot:
        check_page(driver, "compte-finalise")
    click(driver, "Faire ma demande de carte", "a")


def pick_address(driver, postcode, street_index=0, complement=""):
    field(driver, "Code postal").send_keys(postcode)
    click(driver, "Afficher les choix suivants", "button")
    Select(field(driver, "Rue")).select_by_index(1 + street_index)
    click(driver, "Afficher les choix suivants", "button")
    Select(field(driver, "Numéro")).select_by_index(0)
    if complement:
        field(driver, "Complément d'adresse, boîte postale (facultatif)").send_keys(complement)
    click(driver, "Enregistrer", "button")
    assert "Ton adresse est enregistrée" in driver.page_source


def apply_for_card(driver, env, files, situation, postcode, town, establishment, level, shoot=False, apprenti=False):
    """Demande de carte, from "Ta situation" to "J'ai compris"; returns the advantages the récapitulatif stated."""
    driver.find_element(By.XPATH, f"//label[normalize-space()={xpath_literal(situation)}]").click()
    if shoot:
        check_page(driver, "demande-situation")
    click(driver, "Suivant", "button")
    pick_address(driver, postcode, complement="chez Mme Lemaire")
    if shoot:
        check_page(driver, "demande-coordonnees")
    click(driver, "Suivant", "button")
    Select(field(driver, "Ville de l'établissement")).select_by_value(town)
    click(driver, "Afficher les établissements de cette ville", "button")
    Select(field(driver, "Établissement")).select_by_value(establishment)
    Select(field(driver, "Niveau de formation")).select_by_value(level)
    field(driver, "Libellé de ta formation").send_keys("Bac pro Métiers de l'électricité")
    driver.find_element(By.XPATH, "//label[normalize-space()='Je suis boursier']").click()
    if apprenti:
        driver.find_element(By.ID, "cfa_hdf-oui").click()
        field(driver, "Date de signature de ton contrat (jj/mm/aaaa)").send_keys("01/09/2026")
        field(driver, "Date de fin de ton contrat (jj/mm/aaaa)").send_keys("31/08/2028")
        field(driver, "Contrat d'apprentissage (PDF, JPEG ou PNG, 5 Mo au plus)").send_keys(str(files / "contrat.pdf"))
        driver.find_element(By.ID, "apprenti_avant-non").click()
    if shoot:
        check_page(driver, "demande-etablissement-apprenti" if apprenti else "demande-etablissement")
    click(driver, "Suivant", "button")
    field(driver, "Ta photo (JPEG ou PNG, 5 Mo au plus)").send_keys(str(files / "photo.png"))
    if shoot:
        check_page(driver, "demande-photo")
    click(driver, "Suivant", "button")
    assert driver.current_url.endswith("/demande-de-carte/recadrer")
    zoom = field(driver, "Zoom (de 100 à 300 %)")
    zoom.clear()
    zoom.send_keys("150")
    click(driver, "Recadrer", "button")
    assert "Ta photo est recadrée" in driver.page_source
    view_box = driver.find_element(By.CSS_SELECTOR, ".apercu svg").get_dom_attribute("viewBox")
    assert view_box == "70 90 280 360", view_box   # 420×540 at 150 %: a 280×360 frame, centred
    if shoot:
        check_page(driver, "demande-recadrer")
    click(driver, "Suivant", "a")
    advantages = [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#avantages + ul li strong")]
    driver.find_element(By.XPATH, "//label[normalize-space()='Par e-mail et par SMS']").click()
    if shoot:
        check_page(driver, "demande-recapitulatif")
    click(driver, "Envoyer", "button")
    if shoot:
        check_page(driver, "demande-confirmer")
    click(driver, "Confirmer", "button")
    if shoot:
        check_page(driver, "demande-envoyee")
    click(driver, "J'ai compris", "a")
    assert driver.current_url.endswith("/accueil")
    return advantages


def application_id(env, dossier):
    listed = gateway(env, "application", "list")["applications"]
    return next(a["id"] for a in listed if a["dossier"] == dossier)


def test_new_account_to_a_card_that_pays(env, driver, files):
    email = f"jade.{uuid.uuid4().hex[:8]}@exemple.fr"
    dossier, started = create_account(driver, env, email, shoot=True)
    activate_and_confirm_phone(driver, env, dossier, email, shoot=True)
    advantages = apply_for_card(driver, env, files, "Je suis lycéen", "80000", "Amiens", "0800101A", "seconde", shoot=True)
    assert advantages == ["Ton avantage Manuels et équipement : 100 €"], advantages
    assert "Demande envoyée" in accueil_text(driver, env)
    check_page(driver, "accueil-demande-envoyee")

    identifier = application_id(env, dossier)
    gateway(env, "application", "validate", "--id", identifier, "--by", "etablissement:0800101A")
    assert "Validée par ton établissement" in accueil_text(driver, env)
    approval = gateway(env, "application", "approve", "--id", identifier, "--by", "region:instructeur")
    text = accueil_text(driver, env)
    elapsed = time.monotonic() - started
    assert "Carte émise" in text and "100,00 €" in text, text
    assert approval["card"]["pan"] not in driver.page_source
    check_page(driver, "accueil-carte-emise")
    print(f"\naccount-to-card: seconds={elapsed:.1f} (from 'Créer le compte' to 'Carte émise' on Accueil)")
    # The beneficiary was told by mail and SMS, as chosen on the récapitulatif.
    notice = newest_mail(env.dir)
    assert notice.to.lower() == email.lower() and "100,00 €" in notice.text, notice.text
    assert newest_sms(env.dir).phone.replace(" ", "") == "0612987654", newest_sms(env.dir)

    # The new card pays at a bookshop's terminal, over mutual TLS, with its own key.
    pan, key = approval["card"]["pan"], approval["card"]["key"]
    rc, answer = terminal(env, "purchase", "--card", pan, "--card-key", key, "--amount", "2500", "--wallet", "MANUELS",
                          "--terminal", "T001")
    assert rc == 0 and answer["code"] == "00", answer
    assert "75,00 €" in accueil_text(driver, env)


@pytest.mark.parametrize("situation,code,postcode,town,establishment,level,amount,apprenti", [
    ("Je suis apprenti", "apprenti", "59000", "Lille", "0590203A", "annee_1", "200 €", True),
    ("Je suis élève de l'école de production", "ecole_production", "62100", "Calais", "0620305V", "annee_1", "200 €", False),
    ("Je suis en formation post-bac", "post_bac", "59100", "Lille", "0590205C", "annee_2", "55 €", False),
])
def test_the_other_situations(env, driver, files, situation, code, postcode, town, establishment, level, amount, apprenti):
    email = f"jade.{uuid.uuid4().hex[:8]}@exemple.fr"
    dossier, _ = create_account(driver, env, email)
    activate_and_confirm_phone(driver, env, dossier, email)
    advantages = apply_for_card(driver, env, files, situation, postcode, town, establishment, level, shoot=apprenti, apprenti=apprenti)
    assert advantages == [f"Ton avantage Manuels et équipement : {amount}"], advantages
    listed = gateway(env, "application", "list")["applications"]
    mine = next(a for a in listed if a["dossier"] == dossier)
    assert mine["status"] == "submitted" and mine["situation"] == code, mine
    gateway(env, "application", "reject", "--id", mine["id"], "--reason", "Pièce manquante : certificat de scolarité")
    text = accueil_text(driver, env)
    assert "Refusée" in text and "certificat de scolarité" in text, text
    # A refused application may be made again.
    assert driver.find_elements(By.XPATH, "//main//a[normalize-space()='Faire ma demande de carte']")


def test_refusals(env, driver, files):
    email = f"jade.{uuid.uuid4().hex[:8]}@exemple.fr"
    dossier, _ = create_account(driver, env, email)
    mail = newest_mail(env.dir)
    link = next(link for link in mail.links if "/activer-mon-compte" in link)

    # A second account with the same e-mail.
    driver.delete_all_cookies()
    driver.get(env.url("/creer-mon-compte/informations"))
    for label, value in (("Nom", "Autre"), ("Prénom", "Personne"), ("Date de naissance (jj/mm/aaaa)", "03/10/2008"),
                         ("Adresse e-mail", email.upper()), ("Numéro de portable", "07 00 00 00 01"), ("Mot de passe", PASSWORD),
                         ("Confirmer le mot de passe", PASSWORD)):
        field(driver, label).send_keys(value)
    driver.find_element(By.ID, "reglement").click()
    WebDriverWait(driver, PROOF_OF_WORK_TIMEOUT_SECONDS).until(lambda d: "terminée" in d.find_element(By.ID, "anti-robot-statut").text)
    click(driver, "Créer le compte", "button")
    error = driver.find_element(By.ID, "email-erreur")
    assert "Un compte existe déjà avec cette adresse e-mail" in error.text
    assert "email-erreur" in field(driver, "Adresse e-mail").get_attribute("aria-describedby")
    check_page(driver, "creer-mon-compte-refus")

    # Not activated yet; then "Renvoyer le lien d'activation" (throttled: the first link was just sent).
    driver.get(env.url("/connexion"))
    field(driver, "Numéro de carte ou numéro de dossier").send_keys(dossier)
    field(driver, "Mot de passe").send_keys(PASSWORD)
    click(driver, "Me connecter", "button")
    assert "pas encore activé" in driver.find_element(By.ID, "mot_de_passe-erreur").text
    follow(driver, driver.find_element(By.LINK_TEXT, "Renvoyer le lien d'activation"))
    check_page(driver, "renvoyer-le-lien-d-activation")
    field(driver, "Adresse e-mail").send_keys(email)
    field(driver, "Date de naissance (jj/mm/aaaa)").send_keys("03/10/2009")
    click(driver, "Renvoyer le lien d'activation", "button")
    assert "au plus un toutes les 5 minutes" in driver.page_source
    check_page(driver)
    assert newest_mail(env.dir).links == mail.links, "throttled: no new link within 5 minutes"

    # An expired link: its expiry moved into the past by another process on the ledger, as time would.
    with sqlite3.connect(env.dir / "ledger.sqlite", timeout=10) as ledger:
        ledger.execute("UPDATE web_activations SET expires_at_ms = 0 WHERE used_at_ms IS NULL")
    driver.get(link)
    click(driver, "Confirmer mon adresse e-mail", "button")
    assert "a expiré ou a déjà servi" in driver.page_source
    check_page(driver, "activation-lien-expire")
    with sqlite3.connect(env.dir / "ledger.sqlite", timeout=10) as ledger:
        ledger.execute("UPDATE web_activations SET expires_at_ms = 9999999999999 WHERE used_at_ms IS NULL")
    driver.get(link)
    click(driver, "Confirmer mon adresse e-mail", "button")
    assert "ton compte est activé" in driver.page_source
    driver.get(link)
    click(driver, "Confirmer mon adresse e-mail", "button")
    assert "a expiré ou a déjà servi" in driver.page_source, "a reused link"

    # Logged in, phone not confirmed: no application yet.
    driver.get(env.url("/connexion"))
    field(driver, "Numéro de carte ou numéro de dossier").send_keys(dossier)
    field(driver, "Mot de passe").send_keys(PASSWORD)
    click(driver, "Me connecter", "button")
    driver.get(env.url("/demande-de-carte"))
    assert "confirme ton numéro de portable" in driver.page_source
    check_page(driver)

    # A wrong SMS code five times: the code dies, even the right one is refused after.
    driver.get(env.url("/confirmer-mon-portable"))
    click(driver, "Recevoir le code par SMS", "button")
    code = re.search(r"\b(\d{6})\b", newest_sms(env.dir).text).group(1)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        field(driver, "Code reçu par SMS (6 chiffres)").send_keys(wrong)
        click(driver, "Confirmer", "button")
        assert f"il te reste {left} essai" in driver.find_element(By.ID, "code-erreur").text
    field(driver, "Code reçu par SMS (6 chiffres)").send_keys(wrong)
    click(driver, "Confirmer", "button")
    assert "ce code ne marche plus" in driver.find_element(By.ID, "code-erreur").text
    check_page(driver, "portable-code-refus")
    field(driver, "Code reçu par SMS (6 chiffres)").send_keys(code)
    click(driver, "Confirmer", "button")
    assert "ce code ne marche plus" in driver.find_element(By.ID, "code-erreur").text

    # An upload that is not an image, whatever its name: a sentence by the field, nothing kept.
    with sqlite3.connect(env.dir / "ledger.sqlite", timeout=10) as ledger:
        ledger.execute("UPDATE web_accounts SET phone_confirmed_at_ms = 1 WHERE email = ? COLLATE NOCASE", (email,))
    driver.get(env.url("/demande-de-carte"))
    driver.find_element(By.XPATH, "//label[normalize-space()='Je suis lycéen']").click()
    click(driver, "Suivant", "button")
    pick_address(driver, "62000")
    click(driver, "Suivant", "button")
    Select(field(driver, "Ville de l'établissement")).select_by_value("Arras")
    click(driver, "Afficher les établissements de cette ville", "button")
    Select(field(driver, "Établissement")).select_by_value("0620301R")
    Select(field(driver, "Niveau de formation")).select_by_value("premiere")
    field(driver, "Libellé de ta formation").send_keys("Première générale")
    click(driver, "Suivant", "button")
    uploads_before = len(list((env.dir / "uploads").iterdir()))
    field(driver, "Ta photo (JPEG ou PNG, 5 Mo au plus)").send_keys(str(files / "pas-une-image.jpg"))
    click(driver, "Suivant", "button")
    assert "n'est pas une photo JPEG ou PNG" in driver.find_element(By.ID, "photo-erreur").text
    assert len(list((env.dir / "uploads").iterdir())) == uploads_before
    check_page(driver, "demande-photo-refus")


def test_thr_request(env, driver, files):
    # The first apprenti among the demo's card holders: home in Roubaix, CFA in Lille (DemoApplications.swift).
    card = next(c for c in env.demo["cards"] if c["status"] == "active" and c["beneficiary"]["situation"] == "apprenti")
    account = card["beneficiary"]
    driver.delete_all_cookies()
    driver.get(env.url("/connexion"))
    field(driver, "Numéro de carte ou numéro de dossier").send_keys(account["dossier"])
    field(driver, "Mot de passe").send_keys(account["password"])
    click(driver, "Me connecter", "button")
    check_page(driver, "accueil-apprenti")
    click(driver, "Faire ma demande", "a")
    text = driver.find_element(By.TAG_NAME, "main").text
    distance = re.search(r"Distance entre ta résidence et ton CFA : (\d+),(\d) km", text)
    assert distance, text
    kilometres = float(f"{distance.group(1)}.{distance.group(2)}")
    assert 5 < kilometres < 20, kilometres   # Roubaix → Lille, as the crow flies
    check_page(driver, "demande-thr")
    click(driver, "Valider ma demande", "button")
    assert "Choisis au moins une aide" in driver.find_element(By.ID, "parts-erreur").text
    assert "Joins au moins un justificatif" in driver.find_element(By.ID, "documents-erreur").text
    check_page(driver, "demande-thr-refus")
    for part in ("transport", "restauration"):
        label = driver.find_element(By.CSS_SELECTOR, f"label[for='{part}']")
        assert label.text.startswith("Je demande l'aide"), label.text
        label.click()
    field(driver, "Justificatif (PDF, JPEG ou PNG, 5 Mo au plus)").send_keys(str(files / "justificatif.pdf"))
    click(driver, "Ajouter ce justificatif", "button")
    assert "Justificatif 1 déposé" in driver.page_source
    assert driver.find_element(By.ID, "transport").is_selected(), "the parts chosen are kept"
    click(driver, "Valider ma demande", "button")
    assert "Ta demande THR est envoyée à ton établissement" in driver.page_source
    check_page(driver, "thr-envoyee")
    assert "Demande envoyée" in accueil_text(driver, env)

    requests = gateway(env, "thr", "list")
    request = next(r for r in requests["thr_requests"] if r["dossier"] == account["dossier"])
    gateway(env, "thr", "validate", "--id", request["id"])
    approved = gateway(env, "thr", "approve", "--id", request["id"])
    codes = sorted(w["code"] for w in approved["wallets"])
    assert codes == ["RESTAURATION", "TRANSPORT"], approved
    # The scale's band for the distance shown (docs/rights.md): under 10 km 50 €, 10 to 30 km 100 €.
    transport = "50,00 €" if kilometres < 10 else "100,00 €"
    text = accueil_text(driver, env)
    assert f"Transport : {transport}" in text and "Restauration : 150,00 €" in text, text
    check_page(driver, "accueil-thr-approuvee")
    # One request granted per school year: no new one is offered.
    assert not driver.find_elements(By.LINK_TEXT, "Faire ma demande")
