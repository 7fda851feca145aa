/// The pages' Mustache templates (HTML-escaped by default: `{{x}}`; `{{{body}}}` only for a page already
/// rendered by these templates). No script anywhere; no inline style (the CSP forbids both).
/// Wording: the guide's (buttons, links, labels), French, "tu".
enum Templates {
    static var all: [String: String] { core.merging(signup) { a, _ in a }.merging(application) { a, _ in a } }

    static let core: [String: String] = [
        "layout": layout, "connexion": connexion, "accueil": accueil, "mon-compte": monCompte,
        "ma-carte": maCarte, "prepaiement-recherche": partnerSearch, "paiement-formulaire": paymentForm,
        "prepaiement-confirmation": prepaymentConfirmation, "prepaiements": prepayments, "transactions": transactions,
        "transaction": transaction, "probleme": problem, "documents": documents, "partenaires": partners,
        "partenaire": partner, "mot-de-passe": passwordChange, "message": message, "mot-de-passe-oublie": forgotPassword,
        "nouveau-mot-de-passe": newPassword, "identifiant-oublie": forgotIdentifier, "erreur": errorPage,
    ]

    /// A field with its label and, when refused, its sentence tied to it by `aria-describedby`.
    static func field(_ id: String, label: String, type: String = "text", extra: String = "") -> String {
        """
        <div class="champ">
        <label for="\(id)">\(label)</label>
        <input id="\(id)" name="\(id)" type="\(type)" value="{{form.\(id)}}" \(extra){{#errors.\(id)}} aria-invalid="true" aria-describedby="\(id)-erreur"{{/errors.\(id)}}>
        {{#errors.\(id)}}<p class="erreur" id="\(id)-erreur">{{.}}</p>{{/errors.\(id)}}
        </div>
        """
    }

    static let token = #"<input type="hidden" name="jeton" value="{{formToken}}">"#

    static let layout = """
    <!DOCTYPE html>
    <html lang="fr">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} – Espace bénéficiaire Génération #HDF</title>
    <link rel="stylesheet" href="/style.css">
    </head>
    <body>
    <a class="evitement" href="#contenu">Aller au contenu</a>
    <header class="bandeau">
    <p class="marque"><a href="/">Génération #HDF</a> <span>Espace bénéficiaire</span></p>
    {{#user}}<p class="qui">{{firstName}} {{lastName}}</p>{{/user}}
    </header>
    <div class="cadre{{#user}} avec-menu{{/user}}">
    {{#user}}
    <nav class="menu" aria-label="Menu de ton espace">
    <ul>
    {{#menu}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>
    {{/menu}}
    <li><form method="post" action="/deconnexion">\(token)<button type="submit" class="lien-bouton">Se déconnecter</button></form></li>
    </ul>
    </nav>
    {{/user}}
    <main id="contenu">
    <h1>{{title}}</h1>
    {{{body}}}
    </main>
    </div>
    <footer class="pied">
    <ul>
    <li><a href="/infos/generation-hdf">Génération #HDF</a></li>
    <li><a href="/infos/ma-region">Ma Région</a></li>
    <li><a href="/infos/contact">Contact</a></li>
    <li><a href="/infos/foire-aux-questions">Foire aux questions</a></li>
    <li><a href="/infos/mentions-legales">Mentions légales</a></li>
    <li><a href="/infos/politique-de-confidentialite">Politique de confidentialité</a></li>
    <li><a href="/infos/politique-de-gestion-des-cookies">Politique de gestion des cookies</a></li>
    </ul>
    </footer>
    </body>
    </html>
    """

    static let connexion = """
    {{#locked}}<p class="alerte" role="alert" id="connexion-erreur">{{.}}</p>{{/locked}}
    {{#done}}<p class="info" role="status">{{.}}</p>{{/done}}
    <form method="post" action="/connexion" class="formulaire">
    \(token)
    \(field("identifiant", label: "Numéro de carte ou numéro de dossier", extra: #"autocomplete="username" required"#))
    <div class="champ">
    <label for="mot_de_passe">Mot de passe</label>
    <input id="mot_de_passe" name="mot_de_passe" type="password" autocomplete="current-password" required{{#errors.mot_de_passe}} aria-invalid="true" aria-describedby="mot_de_passe-erreur"{{/errors.mot_de_passe}}>
    {{#errors.mot_de_passe}}<p class="erreur" id="mot_de_passe-erreur">{{.}}</p>{{/errors.mot_de_passe}}
    </div>
    <button type="submit">Me connecter</button>
    </form>
    <ul class="liens">
    <li><a href="/mot-de-passe-oublie">Mot de passe oublié ?</a></li>
    <li><a href="/identifiant-oublie">Identifiant oublié ?</a></li>
    <li><a href="/creer-mon-compte">Créer mon compte</a></li>
    <li><a href="/renvoyer-le-lien-d-activation">Renvoyer le lien d'activation</a></li>
    </ul>
    """

    static let message = """
    {{#lines}}<p>{{.}}</p>{{/lines}}
    <p><a class="bouton" href="{{okHref}}">{{okLabel}}</a></p>
    """

    static let accueil = """
    <p>Bonjour {{firstName}}, bienvenue dans ton espace Génération #HDF.</p>
    <section aria-labelledby="ta-carte">
    <h2 id="ta-carte">Ta carte</h2>
    {{#card}}{{#cardApplication}}<p>Ta demande de carte : <strong>{{.}}</strong>. Les aides qui te sont attribuées sont chargées sur ta carte :</p>{{/cardApplication}}
    <p>Carte n° {{masked}} — {{statusLabel}}</p>
    <ul class="porte-monnaie">{{#wallets}}<li><span class="libelle">{{label}}</span> <span class="solde">{{balance}}</span> <span class="expiration">valable jusqu'au {{expires}}</span></li>{{/wallets}}</ul>
    <p><a href="/ma-carte">Voir ma carte</a></p>{{/card}}
    {{^card}}{{#application}}<p>Ta demande de carte : <strong>{{status}}</strong>{{#reason}}. Motif : {{.}}{{/reason}}</p>
    {{#rejected}}<p>Tu peux faire une nouvelle demande en tenant compte du motif.</p>
    <p><a class="bouton" href="/demande-de-carte">Faire ma demande de carte</a></p>{{/rejected}}
    {{^rejected}}<p>Tu retrouveras ici le montant des aides qui te sont attribuées dès que ta carte sera émise.</p>{{/rejected}}{{/application}}
    {{^application}}{{#confirmPhone}}<p>Pour finaliser la création de ton compte, confirme ton numéro de portable avec un code reçu par SMS.</p>
    <p><a class="bouton" href="/confirmer-mon-portable">Recevoir le code par SMS</a></p>{{/confirmPhone}}
    {{^confirmPhone}}<p>Tu n'as pas encore de carte Génération #HDF ni de demande en cours.</p>
    <p><a class="bouton" href="/demande-de-carte">Faire ma demande de carte</a></p>{{/confirmPhone}}{{/application}}{{/card}}
    </section>
    {{#thr}}<section aria-labelledby="demande-thr">
    <h2 id="demande-thr">Demande de THR (Transport, Hébergement, Restauration)</h2>
    {{#requestsShown}}<ul>{{#requests}}<li>Demande du {{date}} : <strong>{{status}}</strong>{{#reason}}. Motif : {{.}}{{/reason}}{{#amounts}}. Aides chargées : {{.}}{{/amounts}}</li>{{/requests}}</ul>{{/requestsShown}}
    {{#canRequest}}<p><a class="bouton" href="/demande-de-thr">Faire ma demande</a></p>{{/canRequest}}
    </section>{{/thr}}
    <section aria-labelledby="dates-cles">
    <h2 id="dates-cles">Les dates clés à retenir</h2>
    <ul>
    <li>Le porte-monnaie « Manuels et équipement » est valable 6 mois après son chargement.</li>
    <li>Les demandes THR (Transport, Hébergement, Restauration) se font pendant l'année scolaire.</li>
    </ul>
    </section>
    """

    static let monCompte = """
    {{#saved}}<p class="info" role="status">Tes préférences sont enregistrées.</p>{{/saved}}
    <section aria-labelledby="infos-perso">
    <h2 id="infos-perso">Mes informations personnelles</h2>
    <dl class="fiche">
    <dt>Nom</dt><dd>{{lastName}}</dd>
    <dt>Prénom</dt><dd>{{firstName}}</dd>
    <dt>Date de naissance</dt><dd>{{birthDate}}</dd>
    <dt>Numéro de dossier</dt><dd>{{dossier}}</dd>
    <dt>Adresse e-mail</dt><dd>{{email}}</dd>
    <dt>Téléphone</dt><dd>{{phone}}</dd>
    <dt>Situation</dt><dd>{{situation}}</dd>
    </dl>
    </section>
    <section aria-labelledby="etablissement">
    <h2 id="etablissement">Mon établissement</h2>
    <p>{{establishment}}</p>
    </section>
    <p class="info">Ces informations ne sont pas modifiables ici. Pour toute modification, contacte-nous au
    <a href="tel:0800026080">0800 026 080</a> ou écris à <a href="mailto:beneficiaires.hdf@hautsdefrance.fr">beneficiaires.hdf@hautsdefrance.fr</a>.</p>
    <form method="post" action="/mon-compte" class="formulaire">
    \(token)
    <fieldset>
    <legend>Mes consentements</legend>
    <div class="case"><input type="checkbox" id="actualites" name="actualites"{{#prefs.consentRegionNews}} checked{{/prefs.consentRegionNews}}><label for="actualites">Je veux recevoir les actualités de la Région</label></div>
    <div class="case"><input type="checkbox" id="offres" name="offres"{{#prefs.consentPartnerOffers}} checked{{/prefs.consentPartnerOffers}}><label for="offres">Je veux recevoir les offres des partenaires</label></div>
    </fieldset>
    <fieldset>
    <legend>Mes préférences de notification</legend>
    <div class="case"><input type="checkbox" id="par_mail" name="par_mail"{{#prefs.notifyByEmail}} checked{{/prefs.notifyByEmail}}><label for="par_mail">Par e-mail</label></div>
    <div class="case"><input type="checkbox" id="par_sms" name="par_sms"{{#prefs.notifyBySMS}} checked{{/prefs.notifyBySMS}}><label for="par_sms">Par SMS</label></div>
    </fieldset>
    <button type="submit">Enregistrer</button>
    </form>
    """

    /// Ma carte's own tabs, as links (each a page of its own: no script needed).
    static let cardTabs = """
    <nav class="onglets" aria-label="Rubriques de ma carte"><ul>
    {{#tabs}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/tabs}}
    </ul></nav>
    """

    static let maCarte = cardTabs + """
    {{#card}}
    <p>Carte n° {{masked}} — {{statusLabel}}</p>
    <h2>Mes porte-monnaie</h2>
    <table>
    <caption>Le solde de chaque porte-monnaie et sa date de fin de validité</caption>
    <thead><tr><th scope="col">Porte-monnaie</th><th scope="col">Solde</th><th scope="col">Valable jusqu'au</th></tr></thead>
    <tbody>{{#wallets}}<tr><td>{{label}}</td><td class="montant">{{balance}}</td><td>{{expires}}{{#expired}} (expiré){{/expired}}</td></tr>{{/wallets}}</tbody>
    </table>
    {{/card}}
    {{^card}}<p>Tu n'as pas encore de carte : ta demande est en cours.</p>{{/card}}
    """

    /// Step 1 of "Faire un prépaiement" and of "Paiement en ligne": the partner's fields and "Valider".
    static let partnerSearch = cardTabs + """
    <p>{{intro}}</p>
    <form method="get" action="{{action}}" class="formulaire recherche">
    <div class="champ"><label for="nom">Nom du partenaire</label><input id="nom" name="nom" value="{{query.nom}}"></div>
    <div class="champ"><label for="ville">Ville</label><input id="ville" name="ville" value="{{query.ville}}"></div>
    <div class="champ"><label for="type">Type de partenaire</label>
    <select id="type" name="type"><option value="">Tous les types</option>{{#categories}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/categories}}</select></div>
    <button type="submit">Valider</button>
    </form>
    {{#searched}}
    <h2>Partenaires</h2>
    <ul class="cartes">{{#results}}<li><p class="nom">{{name}}</p><p>{{category}} — {{city}}</p><a class="bouton" href="{{href}}">{{button}}</a></li>{{/results}}</ul>
    {{^results}}<p>Aucun partenaire ne correspond à ta recherche.</p>{{/results}}
    {{/searched}}
    """

    /// Step 2: the wallet, the amount and "Valider".
    static let paymentForm = cardTabs + """
    <p>Partenaire : <strong>{{partnerName}}</strong> ({{partnerCity}})</p>
    {{#general}}<p class="alerte" role="alert">{{.}}</p>{{/general}}
    <form method="post" action="{{action}}" class="formulaire">
    \(token)
    <div class="champ"><label for="porte_monnaie">Porte-monnaie</label>
    <select id="porte_monnaie" name="porte_monnaie"{{#errors.porte_monnaie}} aria-invalid="true" aria-describedby="porte_monnaie-erreur"{{/errors.porte_monnaie}}>{{#wallets}}<option value="{{code}}"{{#selected}} selected{{/selected}}>{{label}} ({{balance}})</option>{{/wallets}}</select>
    {{#errors.porte_monnaie}}<p class="erreur" id="porte_monnaie-erreur">{{.}}</p>{{/errors.porte_monnaie}}
    </div>
    \(field("montant", label: "Montant", extra: #"inputmode="decimal" autocomplete="off" placeholder="12,50" required"#))
    <button type="submit">Valider</button>
    </form>
    {{#online}}<p class="info">Seul le partenaire peut annuler un paiement en ligne.</p>{{/online}}
    """

    static let prepaymentConfirmation = cardTabs + """
    <div class="confirmation" role="status">
    <p>Ton prépaiement de {{amount}} chez {{partnerName}} est créé.</p>
    <p>Code : <strong class="code">{{code}}</strong></p>
    <p>Imprime le reçu dans « Mes prépaiements imprimables » et donne-le au partenaire.</p>
    <p><a class="bouton" href="/ma-carte/prepaiements">OK</a></p>
    </div>
    """

    static let prepayments = cardTabs + """
    {{#notice}}<p class="info" role="status">{{.}}</p>{{/notice}}
    {{#general}}<p class="alerte" role="alert">{{.}}</p>{{/general}}
    <p><a href="/ma-carte/prepaiement">Faire un prépaiement</a></p>
    <ul class="cartes">
    {{#vouchers}}<li>
    <p class="code">{{code}}</p>
    <p>{{amount}} — {{partnerName}}</p>
    <p>Statut : {{statusLabel}} — valable jusqu'au {{expires}}</p>
    <div class="actions"><a class="bouton" href="{{receiptHref}}">Imprimer<span class="masque"> le reçu du prépaiement {{code}}</span></a>
    {{#cancellable}}<form method="post" action="{{cancelHref}}">\(token)<button type="submit" class="secondaire">Annuler<span class="masque"> le prépaiement {{code}}</span></button></form>{{/cancellable}}</div>
    </li>{{/vouchers}}
    </ul>
    {{^vouchers}}<p>Tu n'as pas encore de prépaiement.</p>{{/vouchers}}
    """

    static let transactions = cardTabs + """
    <table>
    <caption>Mes transactions, de la plus récente à la plus ancienne</caption>
    <thead><tr><th scope="col">Date</th><th scope="col">Libellé</th><th scope="col">Porte-monnaie</th><th scope="col">Montant</th><th scope="col">Statut</th></tr></thead>
    <tbody>{{#lines}}<tr><td>{{date}}</td><td>{{#href}}<a href="{{href}}">{{label}}</a>{{/href}}{{^href}}{{label}}{{/href}}</td><td>{{wallet}}</td><td class="montant">{{amount}}</td><td>{{status}}</td></tr>{{/lines}}</tbody>
    </table>
    {{^lines}}<p>Aucune transaction pour l'instant.</p>{{/lines}}
    """

    static let transaction = cardTabs + """
    {{#confirmation}}<div class="confirmation" role="status"><p>Ton paiement en ligne de {{amount}} chez {{partnerName}} est fait.</p>
    <p><a class="bouton" href="/ma-carte/transactions">OK</a></p></div>{{/confirmation}}
    <dl class="fiche">
    <dt>Date</dt><dd>{{date}}</dd>
    <dt>Libellé</dt><dd>{{label}}</dd>
    <dt>Partenaire</dt><dd>{{partnerName}}</dd>
    <dt>Porte-monnaie</dt><dd>{{wallet}}</dd>
    <dt>Montant</dt><dd>{{amount}}</dd>
    <dt>Statut</dt><dd>{{status}}</dd>
    <dt>Référence</dt><dd>{{txn}}</dd>
    </dl>
    {{#online}}<p class="info">Seul le partenaire peut annuler un paiement en ligne.</p>{{/online}}
    """

    static let problem = cardTabs + """
    {{#declared}}<p class="info" role="status">{{.}}</p>{{/declared}}
    {{#card}}<p>Carte n° {{masked}} — {{statusLabel}}</p>{{/card}}
    <form method="post" action="/ma-carte/probleme" class="formulaire">
    \(token)
    <div class="champ"><label for="motif">Motif</label>
    <select id="motif" name="motif" required{{#errors.motif}} aria-invalid="true" aria-describedby="motif-erreur"{{/errors.motif}}>
    <option value="">Choisis le motif</option>
    <option value="lost">Carte perdue</option>
    <option value="stolen">Carte volée</option>
    <option value="damaged">Carte endommagée</option>
    </select>
    {{#errors.motif}}<p class="erreur" id="motif-erreur">{{.}}</p>{{/errors.motif}}
    </div>
    <button type="submit">Déclarer</button>
    </form>
    <p class="info">Ta carte est bloquée aussitôt pour les paiements chez les partenaires. Pour en recevoir une nouvelle, contacte-nous au <a href="tel:0800026080">0800 026 080</a>.</p>
    """

    static let documents = """
    <p>Télécharge les documents mis à ta disposition.</p>
    <ul class="cartes">
    {{#documents}}<li><p class="nom">{{title}}</p><p>{{description}}</p>{{#href}}<a class="bouton" href="{{href}}" download>Télécharger<span class="masque"> {{title}}</span> (PDF)</a>{{/href}}{{^href}}<p>Bientôt disponible.</p>{{/href}}</li>{{/documents}}
    </ul>
    """

    static let partners = """
    <form method="get" action="/ou-utiliser-ma-carte" class="formulaire recherche">
    <div class="champ"><label for="nom">Nom du partenaire</label><input id="nom" name="nom" value="{{query.nom}}"></div>
    <div class="champ"><label for="ville">Ville</label><input id="ville" name="ville" value="{{query.ville}}"></div>
    <div class="champ"><label for="type">Type de partenaire</label>
    <select id="type" name="type"><option value="">Tous les types</option>{{#categories}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/categories}}</select></div>
    <button type="submit">Lancer la recherche</button>
    </form>
    <h2>{{count}} partenaire(s)</h2>
    {{#map}}<div class="plan">{{{.}}}</div>{{/map}}
    <ul class="cartes">{{#results}}<li><p class="nom"><a href="{{href}}">{{name}}</a></p><p>{{category}} — {{city}}</p></li>{{/results}}</ul>
    {{^results}}<p>Aucun partenaire ne correspond à ta recherche.</p>{{/results}}
    """

    static let partner = """
    <dl class="fiche">
    <dt>Type de partenaire</dt><dd>{{category}}</dd>
    <dt>Adresse</dt><dd>{{address}}, {{postcode}} {{city}}</dd>
    <dt>Téléphone</dt><dd><a href="tel:{{phoneDigits}}">{{phone}}</a></dd>
    <dt>Adresse e-mail</dt><dd><a href="mailto:{{email}}">{{email}}</a></dd>
    <dt>Site internet</dt><dd><a href="{{website}}" rel="noopener noreferrer">{{website}}</a></dd>
    <dt>Porte-monnaie acceptés</dt><dd>{{wallets}}</dd>
    <dt>Prépaiement</dt><dd>{{#prepayment}}accepté{{/prepayment}}{{^prepayment}}non accepté{{/prepayment}}</dd>
    <dt>Paiement en ligne</dt><dd>{{#online}}accepté{{/online}}{{^online}}non accepté{{/online}}</dd>
    </dl>
    <p><a href="/ou-utiliser-ma-carte">Retour à la recherche</a></p>
    """

    static let passwordChange = """
    <form method="post" action="/gestion-mot-de-passe" class="formulaire">
    \(token)
    \(field("actuel", label: "Mot de passe actuel", type: "password", extra: #"autocomplete="current-password" required"#))
    \(field("nouveau", label: "Nouveau mot de passe", type: "password", extra: #"autocomplete="new-password" required"#))
    \(field("confirmation", label: "Confirmer le nouveau mot de passe", type: "password", extra: #"autocomplete="new-password" required"#))
    <p class="info">Au moins 8 caractères, dont une lettre et un chiffre.</p>
    <button type="submit">Suivant</button>
    </form>
    """

    static let forgotPassword = """
    <p>Saisis ton numéro de dossier ou ton numéro de carte, puis ta date de naissance : tu recevras un mail avec un lien pour définir un nouveau mot de passe.</p>
    <form method="post" action="/mot-de-passe-oublie" class="formulaire">
    \(token)
    \(field("identifiant", label: "Numéro de carte ou numéro de dossier", extra: #"autocomplete="username" required"#))
    \(field("naissance", label: "Date de naissance", extra: #"placeholder="jj/mm/aaaa" autocomplete="bday" required"#))
    <button type="submit">Envoyer</button>
    </form>
    <p>Pour toute question, contacte-nous au numéro vert <a href="tel:0800026080">0800 026 080</a>.</p>
    """

    static let newPassword = """
    <form method="post" action="/mot-de-passe-oublie/nouveau" class="formulaire">
    \(token)
    <input type="hidden" name="lien" value="{{link}}">
    \(field("nouveau", label: "Nouveau mot de passe", type: "password", extra: #"autocomplete="new-password" required"#))
    \(field("confirmation", label: "Confirmer le nouveau mot de passe", type: "password", extra: #"autocomplete="new-password" required"#))
    <p class="info">Au moins 8 caractères, dont une lettre et un chiffre.</p>
    <button type="submit">Suivant</button>
    </form>
    """

    static let forgotIdentifier = """
    <p>Saisis ton adresse e-mail et ta date de naissance : tu recevras un mail avec ton identifiant.</p>
    <form method="post" action="/identifiant-oublie" class="formulaire">
    \(token)
    \(field("email", label: "Adresse e-mail", type: "email", extra: #"autocomplete="email" required"#))
    \(field("naissance", label: "Date de naissance", extra: #"placeholder="jj/mm/aaaa" autocomplete="bday" required"#))
    <button type="submit">Envoyer</button>
    </form>
    """

    static let errorPage = """
    <p>{{message}}</p>
    <p><a href="/">Retour à l'accueil</a></p>
    """
}
