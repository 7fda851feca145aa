/// The pages of "Demande de carte" and "Demande de THR" (contract §9). Every choice is a real form control
/// (radios, selects, file inputs) that works without script; each error is tied to its field.
extension Templates {
    static let application: [String: String] = [
        "demande-situation": situation, "demande-coordonnees": coordinates, "demande-etablissement": establishment,
        "demande-photo": photo, "demande-recadrer": crop, "demande-recapitulatif": summary, "demande-confirmer": confirm,
        "demande-envoyee": sent, "demande-thr": thr, "thr-envoyee": thrSent,
    ]

    static let stepper = """
    <p class="etape">Étape {{stepNumber}} sur {{stepCount}}</p>
    <ol class="etapes">{{#steps}}<li{{#current}} aria-current="step"{{/current}}>{{label}}</li>{{/steps}}</ol>
    """

    static func error(_ id: String) -> String {
        "{{#errors.\(id)}}<p class=\"erreur\" id=\"\(id)-erreur\">{{.}}</p>{{/errors.\(id)}}"
    }

    static func invalid(_ id: String) -> String {
        "{{#errors.\(id)}} aria-invalid=\"true\" aria-describedby=\"\(id)-erreur\"{{/errors.\(id)}}"
    }

    /// A Oui / Non question as two radios in a fieldset.
    static func yesNoQuestion(_ id: String, legend: String, value: String) -> String {
        """
        <fieldset{{#errors.\(id)}} aria-describedby="\(id)-erreur"{{/errors.\(id)}}>
        <legend>\(legend)</legend>
        <p class="case"><input type="radio" id="\(id)-oui" name="\(id)" value="oui"{{#\(value).oui}} checked{{/\(value).oui}}><label for="\(id)-oui">Oui</label></p>
        <p class="case"><input type="radio" id="\(id)-non" name="\(id)" value="non"{{#\(value).non}} checked{{/\(value).non}}><label for="\(id)-non">Non</label></p>
        \(error(id))
        </fieldset>
        """
    }

    static let situation = stepper + """
    <form method="post" action="/demande-de-carte" class="formulaire">
    \(token)
    <fieldset{{#errors.situation}} aria-describedby="situation-erreur"{{/errors.situation}}>
    <legend>Ta situation à la rentrée prochaine</legend>
    {{#choices}}<p class="case"><input type="radio" id="situation-{{value}}" name="situation" value="{{value}}"{{#checked}} checked{{/checked}}><label for="situation-{{value}}">{{label}}</label></p>
    {{/choices}}
    \(error("situation"))
    </fieldset>
    <button type="submit">Suivant</button>
    </form>
    """

    static let coordinates = stepper + """
    <section aria-labelledby="mon-adresse">
    <h2 id="mon-adresse">Adresse</h2>
    {{#saved}}<p class="info" role="status">Ton adresse est enregistrée.</p>{{/saved}}
    {{#address}}<p class="adresse">{{label}}{{#complement}}<br>{{.}}{{/complement}}</p>{{/address}}
    {{^address}}<p>Aucune adresse choisie pour l'instant.</p>{{/address}}
    <p><a href="#completer">Compléter mon adresse</a></p>
    </section>
    <section aria-labelledby="completer" class="formulaire">
    <h2 id="completer" tabindex="-1">Compléter mon adresse</h2>
    <p>Sélectionne ton code postal, ta ville, la rue et le numéro de rue. Indique, éventuellement, un complément (nom de la personne qui t'héberge, boîte postale), puis clique sur « Enregistrer ».</p>
    <form method="get" action="/demande-de-carte/coordonnees#completer" class="formulaire">
    <div class="champ">
    <label for="cp">Code postal</label>
    <input id="cp" name="cp" type="text" inputmode="numeric" autocomplete="postal-code" list="codes-postaux" value="{{cp}}"{{#cpError}} aria-invalid="true" aria-describedby="cp-erreur"{{/cpError}}>
    {{#cpError}}<p class="erreur" id="cp-erreur">{{.}}</p>{{/cpError}}
    <datalist id="codes-postaux">{{#postcodes}}<option value="{{value}}">{{/postcodes}}</datalist>
    </div>
    {{#communesShown}}
    <div class="champ">
    <label for="commune">Ville</label>
    <select id="commune" name="commune">{{#communes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/communes}}</select>
    </div>
    {{/communesShown}}
    {{#streetsShown}}
    <div class="champ">
    <label for="voie">Rue</label>
    <select id="voie" name="voie"><option value="">Choisis ta rue</option>{{#streets}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/streets}}</select>
    </div>
    {{/streetsShown}}
    <button type="submit" class="lien-bouton">Afficher les choix suivants</button>
    </form>
    {{^numbersShown}}{{#errors.numero}}<p class="alerte" role="alert">{{.}}</p>{{/errors.numero}}{{/numbersShown}}
    {{#numbersShown}}
    <form method="post" action="/demande-de-carte/coordonnees" class="formulaire">
    \(token)
    <input type="hidden" name="cp" value="{{cp}}"><input type="hidden" name="commune" value="{{commune}}"><input type="hidden" name="voie" value="{{voie}}">
    <div class="champ">
    <label for="numero">Numéro</label>
    <select id="numero" name="numero"\(invalid("numero"))>{{#numbers}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/numbers}}</select>
    \(error("numero"))
    </div>
    <div class="champ">
    <label for="complement">Complément d'adresse, boîte postale (facultatif)</label>
    <input id="complement" name="complement" type="text" value="{{complement}}" maxlength="100"\(invalid("complement"))>
    \(error("complement"))
    </div>
    <p>Pour la bonne réception de ta carte, vérifie que ton nom figure sur ta boîte aux lettres, ou ajoute le nom de la personne qui t'héberge dans le complément d'adresse.</p>
    <button type="submit">Enregistrer</button>
    </form>
    {{/numbersShown}}
    </section>
    <form method="post" action="/demande-de-carte/coordonnees" class="actions">
    \(token)
    \(error("adresse"))
    <a href="/demande-de-carte">Précédent</a>
    <button type="submit" name="suivant" value="1">Suivant</button>
    </form>
    """

    static let establishment = stepper + """
    <p>{{situationLabel}} : choisis ton établissement ({{kindLabel}}), la ville de l'établissement et ton niveau de formation.</p>
    <form method="get" action="/demande-de-carte/etablissement" class="formulaire">
    <div class="champ">
    <label for="ville">Ville de l'établissement</label>
    <select id="ville" name="ville"><option value="">Choisis la ville</option>{{#towns}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/towns}}</select>
    </div>
    <button type="submit" class="lien-bouton">Afficher les établissements de cette ville</button>
    </form>
    <form method="post" action="/demande-de-carte/etablissement" class="formulaire" enctype="multipart/form-data">
    \(token)
    <input type="hidden" name="ville" value="{{town}}">
    <div class="champ">
    <label for="etablissement">Établissement</label>
    <select id="etablissement" name="etablissement"\(invalid("etablissement"))><option value="">{{#establishmentsShown}}Choisis ton établissement{{/establishmentsShown}}{{^establishmentsShown}}Choisis d'abord la ville{{/establishmentsShown}}</option>{{#establishments}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/establishments}}</select>
    \(error("etablissement"))
    </div>
    <div class="champ">
    <label for="niveau">Niveau de formation</label>
    <select id="niveau" name="niveau"\(invalid("niveau"))><option value="">Choisis ton niveau</option>{{#levels}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/levels}}</select>
    \(error("niveau"))
    </div>
    <div class="champ">
    <label for="formation">Libellé de ta formation</label>
    <input id="formation" name="formation" type="text" maxlength="100" value="{{formation}}"\(invalid("formation"))>
    \(error("formation"))
    </div>
    <fieldset>
    <legend>Question complémentaire</legend>
    <p class="case"><input id="boursier" name="boursier" type="checkbox" value="1"{{#boursier}} checked{{/boursier}}><label for="boursier">Je suis boursier</label></p>
    </fieldset>
    {{#apprenti}}
    \(yesNoQuestion("cfa_hdf", legend: "Ton CFA se situe-t-il en Région Hauts-de-France ?", value: "apprenti.cfa"))
    <div class="champ">
    <label for="signature">Date de signature de ton contrat (jj/mm/aaaa)</label>
    <input id="signature" name="signature" type="text" inputmode="numeric" value="{{apprenti.signature}}"\(invalid("signature"))>
    \(error("signature"))
    </div>
    <div class="champ">
    <label for="fin">Date de fin de ton contrat (jj/mm/aaaa)</label>
    <input id="fin" name="fin" type="text" inputmode="numeric" value="{{apprenti.fin}}"\(invalid("fin"))>
    \(error("fin"))
    </div>
    <div class="champ">
    <label for="contrat">Contrat d'apprentissage (PDF, JPEG ou PNG, 5 Mo au plus)</label>
    {{#apprenti.hasContract}}<p class="info" id="contrat-aide">Ton contrat est déposé. Choisis un autre fichier seulement pour le remplacer.</p>{{/apprenti.hasContract}}
    <input id="contrat" name="contrat" type="file" accept="application/pdf,image/jpeg,image/png"\(invalid("contrat"))>
    \(error("contrat"))
    </div>
    \(yesNoQuestion("apprenti_avant", legend: "Étais-tu en apprentissage l'année précédente ?", value: "apprenti.before"))
    \(yesNoQuestion("diplome_different", legend: "Si oui : le diplôme préparé était-il différent l'année précédente ?", value: "apprenti.different"))
    {{/apprenti}}
    <div class="actions">
    <a href="/demande-de-carte/coordonnees">Précédent</a>
    <button type="submit">Suivant</button>
    </div>
    </form>
    """

    static let photo = stepper + """
    <p>Pour ajouter ta photo, importe une photo déjà enregistrée sur ton matériel (PC, smartphone, tablette) ou prends une photo avec l'appareil photo de ton smartphone ou ta tablette. Clique ensuite sur « Suivant ».</p>
    {{#hasPhoto}}<p class="info">Ta photo est ajoutée. Choisis un autre fichier seulement pour la remplacer.</p>{{/hasPhoto}}
    <form method="post" action="/demande-de-carte/photo" class="formulaire" enctype="multipart/form-data">
    \(token)
    <div class="champ">
    <label for="photo">Ta photo (JPEG ou PNG, 5 Mo au plus)</label>
    <input id="photo" name="photo" type="file" accept="image/jpeg,image/png"\(invalid("photo"))>
    \(error("photo"))
    </div>
    <div class="actions">
    <a href="/demande-de-carte/etablissement">Précédent</a>
    <button type="submit">Suivant</button>
    </div>
    </form>
    """

    static let crop = stepper + """
    <p>Recadre ta photo si besoin : ton visage doit être bien visible et centré. Clique sur « Recadrer » pour voir le résultat, puis sur « Suivant ».</p>
    {{#done}}<p class="info" role="status">Ta photo est recadrée.</p>{{/done}}
    {{#preview}}<div class="apercu">
    <svg role="img" aria-labelledby="apercu-titre" viewBox="{{viewBox}}" preserveAspectRatio="xMidYMid slice" width="175" height="225">
    <title id="apercu-titre">Aperçu de ta photo recadrée</title>
    <image href="{{imageHref}}" x="0" y="0" width="{{width}}" height="{{height}}"/>
    </svg>
    </div>{{/preview}}
    <form method="post" action="/demande-de-carte/recadrer" class="formulaire">
    \(token)
    <div class="champ">
    <label for="zoom">Zoom (de 100 à 300 %)</label>
    <input id="zoom" name="zoom" type="number" min="100" max="300" step="10" value="{{zoom}}"\(invalid("zoom"))>
    \(error("zoom"))
    </div>
    <div class="champ">
    <label for="x">Position horizontale du centre (de 0 à 100 %, 50 = milieu)</label>
    <input id="x" name="x" type="number" min="0" max="100" step="5" value="{{x}}">
    </div>
    <div class="champ">
    <label for="y">Position verticale du centre (de 0 à 100 %, 50 = milieu)</label>
    <input id="y" name="y" type="number" min="0" max="100" step="5" value="{{y}}">
    </div>
    <button type="submit" class="lien-bouton">Recadrer</button>
    </form>
    <div class="actions">
    <a href="/demande-de-carte/photo">Précédent</a>
    <a class="bouton" href="/demande-de-carte/recapitulatif">Suivant</a>
    </div>
    """

    static let summary = stepper + """
    {{#errorListShown}}<div class="alerte" role="alert"><p>Ta demande est incomplète :</p><ul>{{#errorList}}<li>{{message}}</li>{{/errorList}}</ul></div>{{/errorListShown}}
    <dl class="fiche">
    {{#lines}}<dt>{{label}}</dt><dd>{{value}} <a href="{{edit}}">Modifier<span class="masque"> : {{label}}</span></a></dd>
    {{/lines}}
    </dl>
    <section aria-labelledby="avantages">
    <h2 id="avantages">Tes avantages</h2>
    {{#advantagesShown}}<ul>{{#advantages}}<li><strong>{{sentence}}</strong>{{#note}}<br>{{.}}{{/note}}</li>{{/advantages}}</ul>{{/advantagesShown}}
    {{^advantagesShown}}<p>Complète ta situation et ton niveau de formation pour connaître tes avantages.</p>{{/advantagesShown}}
    </section>
    <form method="post" action="/demande-de-carte/recapitulatif" class="formulaire">
    \(token)
    <fieldset{{#errors.notification}} aria-describedby="notification-erreur"{{/errors.notification}}>
    <legend>Indique de quelle manière tu souhaites être notifié(e)</legend>
    {{#notifications}}<p class="case"><input type="radio" id="notification-{{value}}" name="notification" value="{{value}}"{{#checked}} checked{{/checked}}><label for="notification-{{value}}">{{label}}</label></p>
    {{/notifications}}
    \(error("notification"))
    </fieldset>
    <button type="submit">Envoyer</button>
    </form>
    """

    static let confirm = stepper + """
    <div class="confirmation" role="dialog" aria-labelledby="confirmer-titre">
    <h2 id="confirmer-titre">Envoyer ta demande ?</h2>
    <p>Clique sur « Confirmer » pour valider l'envoi de ta demande, ou « Modifier » pour changer les informations saisies.</p>
    <form method="post" action="/demande-de-carte/confirmer" class="actions">
    \(token)
    <button type="submit">Confirmer</button>
    <a class="bouton secondaire-lien" href="/demande-de-carte">Modifier</a>
    </form>
    </div>
    """

    static let sent = """
    <div class="confirmation" role="status">
    <p>Ta demande de carte est envoyée. Ton établissement va la vérifier, puis la Région émettra ta carte.</p>
    <p>Tu seras prévenu(e) comme tu l'as choisi, et tu peux suivre ta demande sur la page « Accueil ».</p>
    </div>
    <p><a class="bouton" href="/accueil">J'ai compris</a></p>
    """

    static let thr = """
    <p>La demande THR (Transport, Hébergement, Restauration) est pour les apprentis : remplis chaque partie qui te concerne, joins tes justificatifs, puis clique sur « Valider ma demande ». Ta demande sera transmise à ton établissement pour validation{{#outsideRegion}} (ton CFA n'étant pas en Région Hauts-de-France, elle est transmise directement à la Région){{/outsideRegion}}.</p>
    {{#errorListShown}}<div class="alerte" role="alert"><ul>{{#errorList}}<li>{{message}}</li>{{/errorList}}</ul></div>{{/errorListShown}}
    {{#added}}<p class="info" role="status">{{.}}</p>{{/added}}
    <form method="post" action="/demande-de-thr" class="formulaire" enctype="multipart/form-data">
    \(token)
    <fieldset>
    <legend>Transport</legend>
    {{#distance}}<p>Distance entre ta résidence et ton CFA : <strong>{{distance}}</strong>, à vol d'oiseau, calculée automatiquement à partir de l'adresse et de l'établissement de ta demande de carte ({{home}} → {{school}}). En cas de changement, contacte-nous au 0800 026 080.</p>{{/distance}}
    {{^distance}}<p>La distance entre ta résidence et ton CFA n'a pas pu être calculée : contacte-nous au 0800 026 080.</p>{{/distance}}
    <p class="case"><input id="transport" name="transport" type="checkbox" value="1"{{#draft.transport}} checked{{/draft.transport}}><label for="transport">Je demande l'aide au transport ({{transportAmount}})</label></p>
    </fieldset>
    <fieldset>
    <legend>Restauration</legend>
    <p class="case"><input id="restauration" name="restauration" type="checkbox" value="1"{{#draft.restauration}} checked{{/draft.restauration}}><label for="restauration">Je demande l'aide à la restauration ({{restaurationAmount}})</label></p>
    </fieldset>
    <fieldset>
    <legend>Hébergement</legend>
    <p class="case"><input id="hebergement" name="hebergement" type="checkbox" value="1"{{#draft.hebergement}} checked{{/draft.hebergement}}><label for="hebergement">Je demande l'aide à l'hébergement ({{hebergementAmount}})</label></p>
    </fieldset>
    \(error("parts"))
    <fieldset>
    <legend>Justificatifs</legend>
    {{#documentsShown}}<ul>{{#documents}}<li>Justificatif {{number}} déposé</li>{{/documents}}</ul>{{/documentsShown}}
    {{^documentsShown}}<p>Aucun justificatif déposé pour l'instant.</p>{{/documentsShown}}
    <div class="champ">
    <label for="justificatif">Justificatif (PDF, JPEG ou PNG, 5 Mo au plus)</label>
    <input id="justificatif" name="justificatif" type="file" accept="application/pdf,image/jpeg,image/png"{{#errors.justificatif}} aria-invalid="true" aria-describedby="justificatif-erreur"{{/errors.justificatif}}{{#errors.documents}} aria-invalid="true" aria-describedby="documents-erreur"{{/errors.documents}}>
    \(error("justificatif"))
    \(error("documents"))
    </div>
    <button type="submit" name="action" value="ajouter" class="lien-bouton">Ajouter ce justificatif</button>
    </fieldset>
    <button type="submit" name="action" value="valider">Valider ma demande</button>
    </form>
    """

    static let thrSent = """
    <div class="confirmation" role="status">
    <p>{{#toRegion}}Ton CFA n'étant pas en Région Hauts-de-France, ta demande THR est transmise directement à la Région.{{/toRegion}}{{^toRegion}}Ta demande THR est envoyée à ton établissement pour validation.{{/toRegion}} Tu peux suivre son avancement sur la page « Accueil ».</p>
    </div>
    <p><a class="bouton" href="/accueil">OK</a></p>
    """
}
